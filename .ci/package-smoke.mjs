// The package as npm installs it: `npm pack` (prepack builds a clean dist/), the tarball unpacked into a throwaway
// node_modules, and a tiny Nest app that imports it by name, answers an identity path's CORS over HTTP, and loads
// the /typeorm and /redis entry points, from ESM and from CommonJS (require of an ES module, Node ≥ 20.19). The
// peer dependencies come from the project's own node_modules, found by walking up from .tmp/. `node .ci/package-smoke.mjs`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
for (const needed of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/store/typeorm/index.js', 'package/dist/cache/redis/index.js'])
  if (!listing.includes(needed)) fail(`the tarball lacks ${needed}`);
execFileSync('tar', ['xzf', join(dir, tarball), '-C', target, '--strip-components=1']);

const app = `
import 'reflect-metadata';
import { request } from 'node:http';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IdentityCorsModule, useIdentityCors } from 'nest-identity-cors';
import { TypeOrmCorsPolicyService } from 'nest-identity-cors/typeorm';
import { RedisCorsInvalidationBus } from 'nest-identity-cors/redis';
import { createRequire } from 'node:module';

if (typeof TypeOrmCorsPolicyService !== 'function' || typeof RedisCorsInvalidationBus !== 'function') throw new Error('an entry point exports nothing');
const required = createRequire(import.meta.url)('nest-identity-cors');
if (required.IdentityCorsModule !== IdentityCorsModule) throw new Error('require() gave another IdentityCorsModule than import');

class UserInfo { get() { return { sub: 'alice' }; } }
Controller('connect/userinfo')(UserInfo);
Get()(UserInfo.prototype, 'get', Object.getOwnPropertyDescriptor(UserInfo.prototype, 'get'));
class AppModule {}
Module({ imports: [IdentityCorsModule.forRoot({ identity: { clients: [{ clientId: 'spa', allowedCorsOrigins: ['https://app.example'] }] } })], controllers: [UserInfo] })(AppModule);

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
`;
writeFileSync(join(dir, 'app.mjs'), app);
const run = spawnSync(process.execPath, [join(dir, 'app.mjs')], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
if (run.status !== 0) fail(`the packed package did not serve CORS:\n${run.stdout}${run.stderr}`);
rmSync(dir, { recursive: true, force: true });
console.log(`package smoke: ${tarball} (${listing.length} files) installs, imports by name from ESM and CommonJS, and answers CORS`);

function fail(message) {
  console.error(`package smoke failed: ${message}`);
  process.exit(1);
}
