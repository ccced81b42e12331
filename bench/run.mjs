// `npm run bench`: the same tiny Nest app under configurations a–f (Express) and fa–fe (the same on Fastify), four
// scenarios each, loopback only. Every round starts a FRESH server process per configuration
// (`node bench/server.mjs <config>`), one platform after the other; for each scenario and configuration it checks
// the CORS answer and warms the server up with autocannon from this process, then measures short windows, one per
// configuration of the platform in turn, for several cycles. Ratios against enableCors and no CORS of the same
// platform ((b)/(a), (fb)/(fa)) are paired per cycle (windows seconds apart), then the median is taken: on a
// shared machine whose speed changes from one second to the next, that is what stays put. Writes
// bench/results/<date>.md and prints it, and <date>.json (every window) for bench/pool.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ALLOWED_ORIGIN, basesOf, CONFIGS, DEFAULT_CONFIGS, IDENTITY_EXPOSED_HEADERS_VALUE, isFastify, recipeOf, SCENARIOS } from './fixtures.mjs';
import { startServer, stopServer } from './servers.mjs';
import { fmt, median, ratio, referenceTable, targetTable } from './targets.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 2);
/** Measured windows per configuration, scenario and round: short, and interleaved across the configurations. */
const CYCLES = Number(env.BENCH_CYCLES ?? 6);
/** Seconds per measured window (autocannon's shortest run). */
const WINDOW = Number(env.BENCH_WINDOW ?? 1);
const WARMUP = Number(env.BENCH_WARMUP ?? 1);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 16);
const ONLY = (env.BENCH_ONLY ?? DEFAULT_CONFIGS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const SCENARIO_NAMES = (env.BENCH_SCENARIOS ?? Object.keys(SCENARIOS).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const MOUNT = env.BENCH_MOUNT ?? 'early';
if (!['early', 'module', 'express'].includes(MOUNT)) throw new Error(`BENCH_MOUNT: '${MOUNT}' is not one of early, module, express`);

for (const c of ONLY) if (!CONFIGS[c]) throw new Error(`BENCH_ONLY: unknown configuration '${c}' (use ${Object.keys(CONFIGS).join(', ')})`);
for (const s of SCENARIO_NAMES) if (!SCENARIOS[s]) throw new Error(`BENCH_SCENARIOS: unknown scenario '${s}' (use ${Object.keys(SCENARIOS).join(', ')})`);

const log = (line) => process.stderr.write(`${line}\n`);

if (env.BENCH_NO_BUILD !== '1') {
  log('building the package (npm run build; BENCH_NO_BUILD=1 skips this)…');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
}

/** (f) needs the database store and the cache; until they are built it is reported, never faked. */
async function storeAvailability() {
  if (!existsSync(join(root, 'dist/store/typeorm/index.js'))) return 'not available (store not built: dist/store/typeorm is missing)';
  const lib = await import(join(root, 'dist/index.js'));
  if (typeof lib.CachingCorsPolicyService !== 'function') return 'not available (store not built: CachingCorsPolicyService is not exported)';
  return undefined;
}

function once(port, path, { method, headers }) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The bench measures real behaviour only: every CORS configuration must answer each scenario correctly. */
function check(config, scenario, { status, headers }) {
  const acao = headers['access-control-allow-origin'];
  const problems = [];
  if (recipeOf(config) === 'a') {
    if (acao !== undefined) problems.push(`no-CORS app sent Access-Control-Allow-Origin ${acao}`);
  } else if (recipeOf(config) === 'h' || recipeOf(config) === 'i') {
    // Fixed headers on every request: only an allowed GET's and a preflight's answers are what it stands for.
    if (scenario === 'allowed' && (acao !== ALLOWED_ORIGIN || headers.vary !== 'Origin')) problems.push(`expected the allowed headers, got ${acao} and Vary ${headers.vary}`);
    const exposed = recipeOf(config) === 'i' ? IDENTITY_EXPOSED_HEADERS_VALUE : undefined;
    if (scenario === 'allowed' && headers['access-control-expose-headers'] !== exposed) problems.push(`expected Access-Control-Expose-Headers ${exposed}, got ${headers['access-control-expose-headers']}`);
    if (scenario === 'preflight' && (status !== 204 || acao !== ALLOWED_ORIGIN)) problems.push(`preflight answered ${status} with ${acao}`);
  } else if (scenario === 'allowed' || scenario === 'preflight') {
    if (acao !== ALLOWED_ORIGIN) problems.push(`expected Access-Control-Allow-Origin ${ALLOWED_ORIGIN}, got ${acao}`);
    if (scenario === 'preflight' && status !== 204) problems.push(`preflight answered ${status}, expected 204`);
  } else if (acao !== undefined) {
    problems.push(`expected no Access-Control-Allow-Origin, got ${acao}`);
  }
  if (scenario !== 'preflight' && status !== 200) problems.push(`status ${status}, expected 200`);
  if (problems.length > 0) throw new Error(`configuration ${config}, scenario ${scenario}: ${problems.join('; ')}`);
}

/** autocannon's options for `duration` seconds of one scenario against one server. */
const loadOptions = (port, path, scenario, duration) => ({ url: `http://127.0.0.1:${port}${path}`, method: scenario.method, headers: scenario.headers, connections: CONNECTIONS, duration });

function load(port, path, scenario, duration) {
  return autocannon(loadOptions(port, path, scenario, duration));
}

/** One measured window; its rate is timed here, from the start to the last response (autocannon rounds its own duration). */
function timedWindow(port, path, scenario) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let last = start;
    let responses = 0;
    const instance = autocannon(loadOptions(port, path, scenario, WINDOW), (error, result) =>
      error ? reject(error) : resolve({ result, rps: (responses * 1000) / (last - start) }),
    );
    instance.on('response', () => {
      responses++;
      last = performance.now();
    });
  });
}

const started = Date.now();
const unavailable = {};
if (ONLY.includes('f')) {
  const reason = await storeAvailability();
  if (reason) unavailable.f = reason;
}
const configs = ONLY.filter((c) => !unavailable[c]);
/** samples[config][scenario] = [{ rps, p99, non2xx, errors }] */
const samples = Object.fromEntries(configs.map((c) => [c, Object.fromEntries(SCENARIO_NAMES.map((s) => [s, []]))]));
const startupHeap = Object.fromEntries(configs.map((c) => [c, []]));
const statuses = {};

// One group per platform, measured one after the other: every target compares two configurations of one
// platform, so its paired windows stay as close in time as with one platform alone, and only one platform's
// servers are up at a time.
const groups = [configs.filter((c) => !isFastify(c)), configs.filter((c) => isFastify(c))].filter((group) => group.length > 0);

for (let round = 0; round < ROUNDS; round++) {
  for (const group of groups) {
    // Fresh servers for every round, all of the group started before any load, so that for each scenario the
    // configurations are measured back to back; the order rotates each round so drift of a noisy machine favours none.
    const order = group.map((_, i) => group[(i + round) % group.length]);
    const servers = {};
    try {
      for (const config of order) {
        servers[config] = await startServer(config, MOUNT);
        startupHeap[config].push(servers[config].heapUsed);
      }
      for (const name of SCENARIO_NAMES) {
        const scenario = SCENARIOS[name];
        for (const config of order) {
          const { port } = servers[config];
          const { path } = CONFIGS[config];
          const answer = await once(port, path, scenario);
          check(config, name, answer);
          statuses[`${config}/${name}`] = answer.status;
          if (WARMUP > 0) await load(port, path, scenario, WARMUP);
        }
        // Short windows, the configurations in turn (the order rotating every cycle): a shared machine's speed
        // changes within seconds, and windows this close in time see nearly the same machine.
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          for (let i = 0; i < order.length; i++) {
            const config = order[(i + cycle) % order.length];
            const { result, rps } = await timedWindow(servers[config].port, CONFIGS[config].path, scenario);
            samples[config][name].push({ rps, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts });
          }
        }
        log(`round ${round + 1}/${ROUNDS} ${name.padEnd(9)} ${order.map((c) => `${c} ${Math.round(median(samples[c][name].slice(-CYCLES).map((x) => x.rps)))}`).join(', ')} req/s`);
      }
    } finally {
      await Promise.all(Object.values(servers).map(({ child }) => stopServer(child)));
    }
  }
}

const med = (config, name, key) => median(samples[config][name].map((s) => s[key]));
const ratio1 = (config, base, name) => ratio([samples], config, base, name);

const lines = [];
const date = new Date().toISOString();
lines.push(`# nest-identity-cors benchmark, ${date}`);
lines.push('');
lines.push(
  `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()}. ${ROUNDS} rounds (fresh server processes per round, one platform after the other; per scenario ${WARMUP} s warmup each, then ${CYCLES} cycles of one ${WINDOW} s window per configuration in turn), ${CONNECTIONS} connections, autocannon in a separate process on loopback. Library mounted with ${{ early: '`useIdentityCors(app)` (CORS handled on the HTTP server before Express, the default)', module: 'the module alone (CORS handled on the HTTP server before Express, the default)', express: '`useIdentityCors(app)` and `handleBeforeExpress: false` (CORS handled by the middleware, in Express, before the body parsers)' }[MOUNT]}. req/s and p99: medians over windows; ratios: the median over cycles of each cycle's ratio (paired windows, so the machine's drift cancels), against the configuration's own platform: (b) and (a) on Express, (fb) and (fa) on Fastify.`,
);
lines.push('');
lines.push('| config | scenario | req/s | p99 ms | × enableCors (b, fb) | × no CORS (a, fa) | status |');
lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const config of ONLY) {
  if (unavailable[config]) {
    lines.push(`| ${config}: ${CONFIGS[config].label} | all | ${unavailable[config]} | | | | |`);
    continue;
  }
  for (const name of SCENARIO_NAMES) {
    const faults = samples[config][name].reduce((n, s) => n + s.errors, 0);
    lines.push(
      `| ${config}: ${CONFIGS[config].label} | ${SCENARIOS[name].label} | ${Math.round(med(config, name, 'rps'))} | ${fmt(med(config, name, 'p99'), 0)} | ${fmt(ratio1(config, basesOf(config).enableCors, name))} | ${fmt(ratio1(config, basesOf(config).none, name))} | ${statuses[`${config}/${name}`]}${faults ? `, ${faults} errors` : ''} |`,
    );
  }
}

lines.push('');
lines.push(...targetTable([samples]));
const references = referenceTable([samples]);
if (references.length > 0) lines.push('', ...references);
lines.push('');
lines.push(`Server heap after startup (median): ${configs.map((c) => `${c} ${(median(startupHeap[c]) / 2 ** 20).toFixed(0)} MB`).join(', ')}.`);

if (env.BENCH_MICRO !== '0') {
  log('micro-benchmark (node --expose-gc bench/micro.mjs)…');
  const micro = spawnSync(process.execPath, ['--expose-gc', join(here, 'micro.mjs')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  lines.push('');
  lines.push(micro.status === 0 ? micro.stdout.trim() : `micro-benchmark failed (exit ${micro.status})`);
}
if (configs.includes('f') || (ONLY.includes('f') && !unavailable.f)) {
  const misses = spawnSync(process.execPath, [join(here, 'cache-misses.mjs')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env });
  lines.push('');
  lines.push(misses.status === 0 ? misses.stdout.trim() : `cache-miss check failed (exit ${misses.status})`);
}
lines.push('');
lines.push(`Total time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);

const markdown = `${lines.join('\n')}\n`;
mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', `${date.replace(/[:.]/g, '-')}.md`);
writeFileSync(file, markdown);
// Every window's req/s, for bench/pool.mjs: the targets over the cycles of several runs.
writeFileSync(file.replace(/\.md$/, '.json'), `${JSON.stringify({ date, mount: MOUNT, samples })}\n`);
process.stdout.write(markdown);
log(`written to ${file}`);
