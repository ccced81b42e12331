// README's first command, as a user runs it: `npm run start:sample` (the library built, the sample compiled against
// dist/ through the package's own exports), then `PLATFORM=fastify npm run start:sample`. The suite imports the
// sample's sources instead, so only this checks those commands. Each run waits for the sample's start-up lines, then
// asks discovery from the allowed and the denied browser app's origin; then the compiled sample is started on each
// platform with a URL as a CORS origin and must say the fix-it message once, without Nest's stack trace.
// `node .ci/sample-smoke.mjs` from the project root; exits non-zero with the reason.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TIMEOUT_MS = 120_000;
const PLATFORMS = ['express', 'fastify'];

function get(url, origin) {
  return new Promise((resolve, reject) => {
    request(url, { headers: { origin } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    })
      .on('error', reject)
      .end();
  });
}

/** `npm run start:sample` with PLATFORM set (none for Express, as README's first command). */
function startSample(platform) {
  const env = { ...process.env };
  if (platform === 'express') delete env.PLATFORM;
  else env.PLATFORM = platform;
  const child = spawn('npm', ['run', 'start:sample'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  const run = { command: `${platform === 'express' ? '' : `PLATFORM=${platform} `}npm run start:sample`, child, output: '' };
  child.stdout.on('data', (chunk) => (run.output += chunk));
  child.stderr.on('data', (chunk) => (run.output += chunk));
  return run;
}

/** Stops npm and the node it started, and waits until the sample no longer answers (the next run needs its ports). */
async function stop(run) {
  if (run.child.exitCode === null && run.child.signalCode === null) {
    const exited = new Promise((resolve) => run.child.once('exit', resolve));
    try {
      process.kill(-run.child.pid, 'SIGTERM');
    } catch {}
    await exited;
  }
  const deadline = Date.now() + 10_000;
  while (run.discovery && Date.now() < deadline && (await get(run.discovery, 'http://smoke.invalid').then(() => true, () => false))) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function check(run) {
  const started = Date.now();
  while (!/Browser app: .*\n.*Browser app: /s.test(run.output)) {
    if (run.child.exitCode !== null) throw new Error(`${run.command} exited (${run.child.exitCode}) before it was ready`);
    if (Date.now() - started > TIMEOUT_MS) throw new Error(`${run.command} was not ready within ${TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const discovery = /\(discovery: (\S+)\)/.exec(run.output)?.[1];
  const allowed = /Browser app: (\S+) +allowed/.exec(run.output)?.[1];
  const denied = /Browser app: (\S+) +not in any client/.exec(run.output)?.[1];
  if (!discovery || !allowed || !denied) throw new Error('the start-up lines did not name discovery, an allowed and a denied browser app');
  run.discovery = discovery;
  const yes = await get(discovery, allowed);
  if (yes.statusCode !== 200 || yes.headers['access-control-allow-origin'] !== allowed)
    throw new Error(`discovery from ${allowed}: status ${yes.statusCode}, Access-Control-Allow-Origin ${yes.headers['access-control-allow-origin']}`);
  const no = await get(discovery, denied);
  if (no.statusCode !== 200 || no.headers['access-control-allow-origin'] !== undefined)
    throw new Error(`discovery from ${denied}: status ${no.statusCode}, Access-Control-Allow-Origin ${no.headers['access-control-allow-origin']}`);
  console.log(`sample smoke: ${run.command} served discovery; ${allowed} allowed, ${denied} denied`);
}

/** The sample as `npm run start:sample` left it compiled, on `platform`, with a clients file whose origin is a URL. */
function checkConfigError(platform) {
  const dir = mkdtempSync(join(tmpdir(), 'sample-smoke-'));
  try {
    const file = join(dir, 'clients.json');
    const client = { clientId: 'spa', redirectUris: ['https://foo:123/callback.html'], allowedCorsOrigins: ['https://foo:123/'] };
    writeFileSync(file, JSON.stringify({ clients: [client] }));
    const env = { ...process.env, CLIENTS_FILE: file, PLATFORM: platform };
    const run = spawnSync(process.execPath, ['sample-app/dist/main.js'], { env, encoding: 'utf8', timeout: 60_000 });
    const said = `${run.stdout}${run.stderr}`;
    const fix = "allowedCorsOrigins[0] 'https://foo:123/' is a URL, not an origin: use 'https://foo:123'";
    if (run.status !== 1) throw new Error(`on ${platform}, with a URL as a CORS origin the sample exited with ${run.status}, not 1:\n${said.slice(-2000)}`);
    if (said.split(fix).length !== 2 || /^\s+at /m.test(said))
      throw new Error(`on ${platform}, with a URL as a CORS origin the sample should say the fix once, with no stack trace:\n${said.slice(-2000)}`);
    console.log(`sample smoke: on ${platform}, a URL as a CORS origin stops the sample with the fix, said once`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let run;
try {
  for (const platform of PLATFORMS) {
    run = startSample(platform);
    await check(run);
    await stop(run);
  }
  for (const platform of PLATFORMS) checkConfigError(platform);
} catch (error) {
  if (run) await stop(run);
  console.error(`sample smoke failed: ${error.message}${run ? `\n--- output of ${run.command} ---\n${run.output.slice(-4000)}` : ''}`);
  process.exit(1);
}
