// The package as npm installs it: `npm pack` (prepack builds a clean dist/), the tarball unpacked into a throwaway
// node_modules, and a tiny Nest app that imports it by name, answers an identity path's CORS over HTTP, and loads
// the /typeorm and /redis entry points, from ESM (the ES module build) and from CommonJS (the CommonJS build, dist/cjs/),
// each in its own process (both in one process is compat/dual-load's case). The peer dependencies come from the
// project's own node_modules, found by walking up from .tmp/. `node .ci/package-smoke.mjs`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dir = join(root, '.tmp', 'package-smoke');
rmSync(dir, { recursive: true, force: true });
const target = join(dir, 'node_modules', 'nest-identity-cors');
mkdirSync(target, { recursive: true });

const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
const listing = execFileSync('tar', ['tzf', join(dir, tarball)], { encoding: 'utf8' }).split('\n').filter(Boolean);
const stray = listing.filter((path) => !/^package\/(dist\/.+|package\.json|README\.md|LICENSE)$/.test(path));
if (stray.length > 0) fail(`the tarball holds files a user does not need: ${stray.join(', ')}`);
for (const entry of ['index', 'store/typeorm/index', 'cache/redis/index'])
  for (const build of ['dist', 'dist/cjs'])
    for (const extension of ['js', 'd.ts'])
      if (!listing.includes(`package/${build}/${entry}.${extension}`)) fail(`the tarball lacks ${build}/${entry}.${extension}`);
if (!listing.includes('package/dist/cjs/package.json')) fail('the tarball lacks dist/cjs/package.json, which makes dist/cjs/ CommonJS');
execFileSync('tar', ['xzf', join(dir, tarball), '-C', target, '--strip-components=1']);

// The registry's page resolves README's relative links and images through these; a source map that names a file
// the package does not ship (lib/) must carry it.
const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8'));
for (const field of ['repository', 'bugs', 'homepage']) if (!manifest[field]) fail(`package.json has no ${field}`);
for (const map of listing.filter((path) => path.endsWith('.map'))) {
  const { sources, sourcesContent } = JSON.parse(readFileSync(join(target, map.slice('package/'.length)), 'utf8'));
  if (sourcesContent?.length !== sources.length || sourcesContent.some((text) => typeof text !== 'string')) fail(`${map} names sources it does not carry`);
}

const imports = {
  mjs: `
import 'reflect-metadata';
import { request } from 'node:http';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IdentityCorsModule, useIdentityCors } from 'nest-identity-cors';
import { TypeOrmCorsPolicyService } from 'nest-identity-cors/typeorm';
import { RedisCorsInvalidationBus } from 'nest-identity-cors/redis';
const build = import.meta.resolve('nest-identity-cors');
`,
  cjs: `
require('reflect-metadata');
const { request } = require('node:http');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { IdentityCorsModule, useIdentityCors } = require('nest-identity-cors');
const { TypeOrmCorsPolicyService } = require('nest-identity-cors/typeorm');
const { RedisCorsInvalidationBus } = require('nest-identity-cors/redis');
const build = require.resolve('nest-identity-cors');
`,
};
const expectedBuild = { mjs: /\/dist\/index\.js$/, cjs: /\/dist\/cjs\/index\.js$/ };
const app = (kind) => `${imports[kind]}
if (!${expectedBuild[kind]}.test(build)) throw new Error('nest-identity-cors resolved to ' + build);
if (typeof TypeOrmCorsPolicyService !== 'function' || typeof RedisCorsInvalidationBus !== 'function') throw new Error('an entry point exports nothing');

class UserInfo { get() { return { sub: 'alice' }; } }
Controller('connect/userinfo')(UserInfo);
Get()(UserInfo.prototype, 'get', Object.getOwnPropertyDescriptor(UserInfo.prototype, 'get'));
class AppModule {}
Module({ imports: [IdentityCorsModule.forRoot({ identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: ['https://app.example'] }] } })], controllers: [UserInfo] })(AppModule);

(async () => {
const nest = await NestFactory.create(AppModule, { logger: false });
useIdentityCors(nest);
await nest.listen(0, '127.0.0.1');
const ask = (origin) => new Promise((done, failed) =>
  request({ host: '127.0.0.1', port: nest.getHttpServer().address().port, path: '/connect/userinfo', headers: { origin } }, (res) => {
    res.resume();
    res.on('end', () => done(res));
  }).on('error', failed).end());
const allowed = await ask('https://app.example');
const denied = await ask('https://evil.example');
await nest.close();
if (allowed.statusCode !== 200 || allowed.headers['access-control-allow-origin'] !== 'https://app.example') throw new Error('the allowed origin got ' + JSON.stringify(allowed.headers));
if (denied.headers['access-control-allow-origin'] !== undefined) throw new Error('the denied origin got ' + JSON.stringify(denied.headers));
})().catch((error) => { console.error(error); process.exit(1); });
`;
for (const kind of ['mjs', 'cjs']) {
  writeFileSync(join(dir, `app.${kind}`), app(kind));
  const run = spawnSync(process.execPath, [join(dir, `app.${kind}`)], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) fail(`the packed package did not serve CORS from app.${kind}:\n${run.stdout}${run.stderr}`);
}
rmSync(dir, { recursive: true, force: true });
console.log(`package smoke: ${tarball} (${listing.length} files) installs, imports by name from ESM and CommonJS (each its own build), and answers CORS`);

function fail(message) {
  console.error(`package smoke failed: ${message}`);
  process.exit(1);
}
