// The package in the apps users have, each a fixture under compat/ set up as its CLI generates it (plus the module
// import and a test of its CORS headers): the package is packed (prepack builds a clean dist/), each fixture
// installs the tarball with plain `npm install` (no lockfile: what a new user gets today), then builds, starts and
// tests as its README would. `node .ci/compat.mjs [fixture ...]` (all by default). Needs the npm registry.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const packDir = join(root, '.tmp', 'compat');

// Each fixture's steps, in order, after `npm install` in its folder: npm scripts, node scripts, or functions.
const fixtures = {
  // Nest 11, CommonJS, TypeScript 5, Jest + ts-jest in CommonJS mode: `nest new` of @nestjs/cli 11.
  'nest11-cjs': [npm('run', 'build'), startAndAskCors('start'), npm('test'), npm('run', 'test:e2e')],
  // Nest 12 (ES modules only) in a CommonJS app, through require(esm) (Node ≥ 20.19): `nest new --type cjs` of
  // @nestjs/cli 12. Its Jest config is the template's plus ts-jest's ESM settings: Jest's require() cannot load
  // Nest 12 before Node 24.9, so the tests run as ES modules (the template's scripts pass --experimental-vm-modules).
  'nest12-cjs': [npm('run', 'build'), startAndAskCors('start'), npm('test'), npm('run', 'test:e2e')],
  // Nest 12, an ES module app: `nest new` of @nestjs/cli 12 (TypeScript 6), its tests on the template's Vitest and,
  // beside them, on Jest in ESM mode (ts-jest, useESM: test:jest, test:jest:e2e).
  'nest12-esm': [
    npm('run', 'build'),
    startAndAskCors('start'),
    npm('test'),
    npm('run', 'test:e2e'),
    npm('run', 'test:jest'),
    npm('run', 'test:jest:e2e'),
  ],
  // Nest 12 on Fastify (`nest new`, then @nestjs/platform-fastify for @nestjs/platform-express, as Nest's docs say):
  // the same module, only main.ts and the e2e test's app creation change.
  'nest12-fastify': [npm('run', 'build'), startAndAskCors('start'), npm('test'), npm('run', 'test:e2e')],
  // Both builds in one process (ESM import and require, either first): the second stops with what to do.
  'dual-load': [run('esm-then-require.mjs'), run('require-then-import.cjs')],
  // `npm install <git URL>`: npm builds a git dependency by its prepare script (prepack alone would install no dist/).
  // The repository's committed HEAD, as a user installing from GitHub gets a commit.
  'git-install': [
    (dir) => npm('install', '--no-save', '--no-audit', '--no-fund', `git+file://${root}#${execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()}`)(dir),
    run('check.cjs'),
  ],
  // The library's own suite against Nest 11 (compat/nest11-suite/jest.config.js maps @nestjs/* to this install).
  'nest11-suite': [(dir) => npm('run', 'test:nest11')(root)],
  // The type declarations in consumers, one tsc --noEmit per TypeScript version: ESM and CommonJS consumers
  // (nodenext), and node10 resolution on 5.4.
  types: [
    copy('consumer.ts', 'consumer.mts', 'consumer.cts', 'consumer-node10.ts'),
    run('node_modules/typescript-5.4/bin/tsc', '-p', 'tsconfig.json'),
    run('node_modules/typescript-5.4/bin/tsc', '-p', 'tsconfig.node10.json'),
    run('node_modules/typescript-6/bin/tsc', '-p', 'tsconfig.json'),
    run('node_modules/typescript-7/bin/tsc', '-p', 'tsconfig.json'),
  ],
};

const only = process.argv.slice(2);
for (const name of only) if (!(name in fixtures)) fail(`no fixture ${name}; the fixtures are ${Object.keys(fixtures).join(', ')}`);

rmSync(packDir, { recursive: true, force: true });
mkdirSync(packDir, { recursive: true });
const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
// The fixtures name it without its version, so a version bump needs no fixture change.
copyFileSync(join(packDir, tarball), join(packDir, 'nest-identity-cors.tgz'));

let failed = 0;
for (const [name, steps] of Object.entries(fixtures)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const dir = join(root, 'compat', name);
  // A fresh install each run: a file: tarball of the same name is not re-extracted over an old copy.
  for (const stale of ['node_modules', 'package-lock.json', 'dist']) rmSync(join(dir, stale), { recursive: true, force: true });
  const started = Date.now();
  try {
    await npm('install', '--no-audit', '--no-fund')(dir);
    for (const step of steps) await step(dir);
    console.log(`compat: ${name} passed (${Math.round((Date.now() - started) / 1000)} s)`);
  } catch (error) {
    failed++;
    console.error(`compat: ${name} FAILED: ${error.message}`);
  }
}
if (failed > 0) process.exit(1);

function npm(...args) {
  return async (dir) => {
    const done = spawnSync('npm', args, { cwd: dir, encoding: 'utf8', timeout: 10 * 60_000, env: { ...process.env, CI: 'true' } });
    if (done.status !== 0) throw new Error(`npm ${args.join(' ')} exited with ${done.status ?? done.signal}:\n${done.stdout}${done.stderr}`);
  };
}

function run(command, ...args) {
  return async (dir) => {
    const done = spawnSync(process.execPath, [command, ...args], { cwd: dir, encoding: 'utf8', timeout: 5 * 60_000 });
    if (done.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${done.status ?? done.signal}:\n${done.stdout}${done.stderr}`);
  };
}

function copy(from, ...to) {
  return async (dir) => {
    for (const name of to) copyFileSync(join(dir, from), join(dir, name));
  };
}

// `npm <script>` with PORT set to a free port (never the fixed ports other tools use), then an allowed origin asks
// the app's own route (the fixture's host policy) and an identity path (its client); a denied origin gets nothing.
function startAndAskCors(script) {
  return async (dir) => {
    const port = await freePort();
    const server = spawn('npm', script === 'start' ? ['start'] : ['run', script], { cwd: dir, env: { ...process.env, PORT: String(port) }, detached: true });
    let output = '';
    server.stdout.on('data', (chunk) => (output += chunk));
    server.stderr.on('data', (chunk) => (output += chunk));
    try {
      const deadline = Date.now() + 120_000;
      let own;
      while (!own) {
        if (server.exitCode !== null) throw new Error(`npm ${script} stopped (${server.exitCode}):\n${output}`);
        if (Date.now() > deadline) throw new Error(`npm ${script} did not answer on port ${port} in 120 s:\n${output}`);
        own = await ask(port, '/', 'https://partner.example.com').catch(() => new Promise((done) => setTimeout(done, 500)));
      }
      const identity = await ask(port, '/.well-known/openid-configuration', 'https://app.example.com');
      const denied = await ask(port, '/', 'https://evil.example.com');
      if (own.status !== 200 || own.allowOrigin !== 'https://partner.example.com') throw new Error(`GET / from the host policy's origin got ${JSON.stringify(own)}`);
      if (identity.allowOrigin !== 'https://app.example.com') throw new Error(`the identity path for the client's origin got ${JSON.stringify(identity)}`);
      if (denied.allowOrigin !== undefined) throw new Error(`a denied origin got ${JSON.stringify(denied)}`);
    } finally {
      process.kill(-server.pid, 'SIGTERM');
    }
  };
}

function ask(port, path, origin) {
  return new Promise((done, failed) =>
    request({ host: '127.0.0.1', port, path, headers: { origin } }, (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode, allowOrigin: res.headers['access-control-allow-origin'] }));
    })
      .on('error', failed)
      .end(),
  );
}

function freePort() {
  return new Promise((done, failed) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
    probe.on('error', failed);
  });
}

function fail(message) {
  console.error(`compat: ${message}`);
  process.exit(1);
}
