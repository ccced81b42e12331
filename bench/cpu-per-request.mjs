// Server CPU time per request (user + system, read from /proc), configurations alternated in rounds: a measure
// of the work a request costs that the load generator's share of the CPU does not disturb, unlike req/s.
//   node bench/cpu-per-request.mjs [configs] [scenarios]     e.g. a,b,c,d allowed,none,mixed (after npm run build)
// Knobs: CPU_ROUNDS (5), CPU_REQUESTS per measurement (20000), CPU_CONNECTIONS (4). Linux only.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { basesOf, CONFIGS, SCENARIOS } from './fixtures.mjs';
import { startServer, stopServer } from './servers.mjs';

const configs = (process.argv[2] ?? 'a,b,c,d').split(',');
const scenarios = (process.argv[3] ?? 'allowed,none').split(',');
const rounds = Number(process.env.CPU_ROUNDS ?? 5);
const amount = Number(process.env.CPU_REQUESTS ?? 20_000);
const connections = Number(process.env.CPU_CONNECTIONS ?? 4);
const ticks = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks; // utime + stime
}

// 'mixed': each connection sends a preflight, then three allowed GETs, in turn (a browser app's traffic, roughly).
const MIXED = [SCENARIOS.preflight, SCENARIOS.allowed, SCENARIOS.allowed, SCENARIOS.allowed].map(({ method, headers }) => ({ method, headers }));
const load = (port, config, scenario, count) =>
  autocannon({
    url: `http://127.0.0.1:${port}${CONFIGS[config].path}`,
    ...(scenario === 'mixed' ? { requests: MIXED } : SCENARIOS[scenario]),
    connections,
    amount: count,
  });

const results = {};
for (const scenario of scenarios) {
  const servers = {};
  for (const config of configs) servers[config] = await startServer(config, process.env.BENCH_MOUNT ?? 'early');
  for (const config of configs) await load(servers[config].port, config, scenario, amount); // warm up
  for (let round = 0; round < rounds; round++) {
    for (const config of configs) {
      const { child, port } = servers[config];
      const before = cpuSeconds(child.pid);
      const run = await load(port, config, scenario, amount);
      const used = cpuSeconds(child.pid) - before;
      (results[`${config} ${scenario}`] ??= []).push((1e6 * used) / (run.requests.total || amount));
    }
  }
  await Promise.all(Object.values(servers).map(({ child }) => stopServer(child)));
}
if (process.env.CPU_RAW) console.log(results);
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
// Ratios are taken within a round (measurements seconds apart), then the median over rounds: the machine's drift cancels.
const ratio = (config, base, scenario) => {
  const [xs, bs] = [results[`${config} ${scenario}`], results[`${base} ${scenario}`]];
  return bs ? median(xs.map((x, i) => x / bs[i])).toFixed(3) : '–';
};
console.log(`Server CPU µs per request (median of ${rounds} rounds of ${amount} requests, ${connections} connections); ratios: median over rounds of each round's ratio:\n`);
// Ratios against the configuration's own platform: (a) and (b) on Express, (fa) and (fb) on Fastify.
console.log(`| configuration |${scenarios.map((s) => ` ${s}: µs | × no CORS (a, fa) | × enableCors (b, fb) |`).join('')}\n| --- |${scenarios.map(() => ' ---: | ---: | ---: |').join('')}`);
for (const config of configs) {
  const cells = scenarios.map((s) => `${median(results[`${config} ${s}`]).toFixed(1)} | ${ratio(config, basesOf(config).none, s)} | ${ratio(config, basesOf(config).enableCors, s)}`);
  console.log(`| (${config}) ${CONFIGS[config].label} | ${cells.join(' | ')} |`);
}
