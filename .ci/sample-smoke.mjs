// README's first command, as a user runs it: `npm run start:sample` (the library built, the sample compiled against
// dist/ through the package's own exports). The suite imports the sample's sources instead, so only this checks
// that command. Waits for the sample's start-up lines, then asks discovery from the allowed and the denied browser
// app's origin; then starts the compiled sample with a URL as a CORS origin and expects the fix-it message once,
// without Nest's stack trace. `node .ci/sample-smoke.mjs` from the project root; exits non-zero with the reason.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TIMEOUT_MS = 120_000;
const child = spawn('npm', ['run', 'start:sample'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
child.stdout.on('data', (chunk) => (output += chunk));
child.stderr.on('data', (chunk) => (output += chunk));
const stop = () => {
  try {
    process.kill(-child.pid, 'SIGTERM'); // npm and the node it started
  } catch {}
};

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

async function check() {
  const started = Date.now();
  while (!/Browser app: .*\n.*Browser app: /s.test(output)) {
    if (child.exitCode !== null) throw new Error(`npm run start:sample exited (${child.exitCode}) before it was ready`);
    if (Date.now() - started > TIMEOUT_MS) throw new Error(`npm run start:sample was not ready within ${TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const discovery = /\(discovery: (\S+)\)/.exec(output)?.[1];
  const allowed = /Browser app: (\S+) +allowed/.exec(output)?.[1];
  const denied = /Browser app: (\S+) +not in any client/.exec(output)?.[1];
  if (!discovery || !allowed || !denied) throw new Error('the start-up lines did not name discovery, an allowed and a denied browser app');
  const yes = await get(discovery, allowed);
  if (yes.statusCode !== 200 || yes.headers['access-control-allow-origin'] !== allowed)
    throw new Error(`discovery from ${allowed}: status ${yes.statusCode}, Access-Control-Allow-Origin ${yes.headers['access-control-allow-origin']}`);
  const no = await get(discovery, denied);
  if (no.statusCode !== 200 || no.headers['access-control-allow-origin'] !== undefined)
    throw new Error(`discovery from ${denied}: status ${no.statusCode}, Access-Control-Allow-Origin ${no.headers['access-control-allow-origin']}`);
  console.log(`sample smoke: npm run start:sample served discovery; ${allowed} allowed, ${denied} denied`);
}

/** The sample as `npm run start:sample` left it compiled, with a clients file whose origin is a URL. */
function checkConfigError() {
  const dir = mkdtempSync(join(tmpdir(), 'sample-smoke-'));
  try {
    const file = join(dir, 'clients.json');
    const client = { clientId: 'spa', redirectUris: ['https://foo:123/callback.html'], allowedCorsOrigins: ['https://foo:123/'] };
    writeFileSync(file, JSON.stringify({ clients: [client] }));
    const run = spawnSync(process.execPath, ['sample-app/dist/main.js'], { env: { ...process.env, CLIENTS_FILE: file }, encoding: 'utf8', timeout: 60_000 });
    const said = `${run.stdout}${run.stderr}`;
    const fix = "allowedCorsOrigins[0] 'https://foo:123/' is a URL, not an origin: use 'https://foo:123'";
    if (run.status !== 1) throw new Error(`with a URL as a CORS origin the sample exited with ${run.status}, not 1:\n${said.slice(-2000)}`);
    if (said.split(fix).length !== 2 || /^\s+at /m.test(said))
      throw new Error(`with a URL as a CORS origin the sample should say the fix once, with no stack trace:\n${said.slice(-2000)}`);
    console.log('sample smoke: a URL as a CORS origin stops the sample with the fix, said once');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  await check();
  stop();
  checkConfigError();
} catch (error) {
  stop();
  console.error(`sample smoke failed: ${error.message}\n--- output of npm run start:sample ---\n${output.slice(-4000)}`);
  process.exit(1);
}
