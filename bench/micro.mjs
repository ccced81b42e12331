// The origin decision alone, without HTTP: ops/s of exact-origin, subdomain-pattern and client-index
// lookups at 3, 1k and 100k entries, and the memory of a 100k-client index.
// `node --expose-gc bench/micro.mjs` (after `npm run build`); prints a Markdown section.
import { CorsPolicy, InMemoryCorsPolicyService } from '../dist/index.js';
import { parseRequestOrigin } from '../dist/core/origin.js';
import { largeClientOrigin } from './fixtures.mjs';

const SIZES = [3, 1_000, 100_000];
const WINDOW_MS = Number(process.env.BENCH_MICRO_MS ?? 400);
const ROUNDS = 3;
const gc = globalThis.gc ?? (() => {});

const exactOrigin = (i) => largeClientOrigin(i);
const patternOf = (i) => `https://*.tenant-${i}.example.test`;
const patternHit = (i) => `https://app.tenant-${i}.example.test`;

/** Median ops/s of `fn(input)` over rotating inputs; sync functions only. */
function opsPerSecond(fn, inputs) {
  const results = [];
  for (let round = 0; round < ROUNDS; round++) {
    let ops = 0;
    let sink = 0;
    const start = performance.now();
    let elapsed = 0;
    // Batches grow from 1 call, so a slow lookup is still measured within the window.
    for (let batch = 1; elapsed < WINDOW_MS; batch = Math.min(batch * 2, 4096)) {
      for (let k = 0; k < batch; k++) sink += fn(inputs[(ops + k) % inputs.length]) ? 1 : 0;
      ops += batch;
      elapsed = performance.now() - start;
    }
    if (sink < 0) console.log(sink);
    results.push((ops / elapsed) * 1000);
  }
  return results.sort((a, b) => a - b)[1];
}

/** The same for a Promise-returning decision, awaited one at a time (as one request awaits it). */
async function asyncOpsPerSecond(fn, inputs) {
  const results = [];
  for (let round = 0; round < ROUNDS; round++) {
    let ops = 0;
    const start = performance.now();
    let elapsed = 0;
    for (let batch = 1; elapsed < WINDOW_MS; batch = Math.min(batch * 2, 4096)) {
      for (let k = 0; k < batch; k++) await fn(inputs[(ops + k) % inputs.length]);
      ops += batch;
      elapsed = performance.now() - start;
    }
    results.push((ops / elapsed) * 1000);
  }
  return results.sort((a, b) => a - b)[1];
}

/** 64 distinct request origins spread over the list, and 64 that no entry allows. */
function probes(size, hit, miss) {
  const hits = Array.from({ length: 64 }, (_, k) => hit(Math.floor((k * size) / 64) % size));
  const misses = Array.from({ length: 64 }, (_, k) => miss(k));
  return { hits, misses };
}

const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : n.toFixed(0));
const rows = [];

for (const size of SIZES) {
  const policy = new CorsPolicy({ origins: Array.from({ length: size }, (_, i) => exactOrigin(i)) });
  const { hits, misses } = probes(size, exactOrigin, (k) => `https://other-${k}.example.test`);
  rows.push(['exact origins (CorsPolicy)', size, opsPerSecond((o) => policy.isOriginAllowed(o), hits), opsPerSecond((o) => policy.isOriginAllowed(o), misses)]);
}
for (const size of SIZES) {
  const policy = new CorsPolicy({ origins: Array.from({ length: size }, (_, i) => patternOf(i)) });
  const { hits, misses } = probes(size, patternHit, (k) => `https://app.other-${k}.example.test`);
  rows.push(['subdomain patterns (CorsPolicy)', size, opsPerSecond((o) => policy.isOriginAllowed(o), hits), opsPerSecond((o) => policy.isOriginAllowed(o), misses)]);
}
for (const size of SIZES) {
  const service = new InMemoryCorsPolicyService(
    Array.from({ length: size }, (_, i) => ({ clientId: `client-${i}`, allowedCorsOrigins: [exactOrigin(i)] })),
    { log() {}, error() {}, warn() {}, debug() {} },
  );
  const { hits, misses } = probes(size, exactOrigin, (k) => `https://other-${k}.example.test`);
  rows.push([
    'client index (InMemoryCorsPolicyService, awaited)',
    size,
    await asyncOpsPerSecond((o) => service.isOriginAllowed(o), hits),
    await asyncOpsPerSecond((o) => service.isOriginAllowed(o), misses),
  ]);
}
{
  const valid = Array.from({ length: 64 }, (_, k) => exactOrigin(k));
  const invalid = Array.from({ length: 64 }, (_, k) => `https://bad-${k}.example.test/`);
  rows.push(['parseRequestOrigin, 64 recurring values (memoized)', 64, opsPerSecond(parseRequestOrigin, valid), opsPerSecond(parseRequestOrigin, invalid)]);
  // More distinct values than the memo holds: every call parses (the cost of a first visit, or of a flood of junk origins).
  const coldValid = Array.from({ length: 100_000 }, (_, k) => exactOrigin(k));
  const coldInvalid = Array.from({ length: 100_000 }, (_, k) => `https://bad-${k}.example.test/`);
  rows.push(['parseRequestOrigin, all values distinct (not memoized)', 100_000, opsPerSecond(parseRequestOrigin, coldValid), opsPerSecond(parseRequestOrigin, coldInvalid)]);
}

// Memory of the 100k-client index: the clients as configured, and the service built from them.
gc();
gc();
const base = process.memoryUsage().heapUsed;
const clients = Array.from({ length: 100_000 }, (_, i) => ({ clientId: `client-${i}`, allowedCorsOrigins: [exactOrigin(i)] }));
gc();
const withClients = process.memoryUsage().heapUsed;
let peak = withClients;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 1);
const buildStart = performance.now();
const service = new InMemoryCorsPolicyService(clients, { log() {}, error() {}, warn() {}, debug() {} });
const buildMs = performance.now() - buildStart;
peak = Math.max(peak, process.memoryUsage().heapUsed);
clearInterval(sampler);
gc();
gc();
const retained = process.memoryUsage().heapUsed;
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

const out = [];
out.push(`## Origin decision alone (bench/micro.mjs, ${process.version})`);
out.push('');
out.push('| lookup | entries | ops/s, allowed | ops/s, not allowed |');
out.push('| --- | ---: | ---: | ---: |');
for (const [what, size, hit, miss] of rows) out.push(`| ${what} | ${size.toLocaleString('en')} | ${fmt(hit)} | ${fmt(miss)} |`);
out.push('');
out.push(
  `100k-client index: built in ${buildMs.toFixed(0)} ms; heap for the 100k client objects ${mb(withClients - base)}, ` +
    `index on top of them ${mb(retained - withClients)} retained, peak heap while building ${mb(peak - base)} above baseline ` +
    `(process max RSS ${mb(process.resourceUsage().maxRSS * 1024)}). Service kept: ${service.store.size} clients.`,
);
process.stdout.write(`${out.join('\n')}\n`);
