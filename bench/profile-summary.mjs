// Summarizes a .cpuprofile written by `node --cpu-prof`: the top functions by self time, the inclusive time of
// this library's functions, and the share of the CPU that is the CORS layer's own work: this library's, or that
// of the `cors` package (configuration b), or of @fastify/cors (fb). `node bench/profile-summary.mjs <file.cpuprofile> [top]`
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

// sample counts → self time per node
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const label = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|bench)\//, '$1/') : '';
  return `${functionName || '(anonymous)'} ${where}${where ? `:${lineNumber + 1}` : ''}`;
};

const selfBy = new Map();
const inclusiveBy = new Map();
for (const [id, time] of self) {
  const node = byId.get(id);
  selfBy.set(label(node), (selfBy.get(label(node)) ?? 0) + time);
  // inclusive: count each label once per sample stack
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const l = label(byId.get(at));
    if (seen.has(l)) continue;
    seen.add(l);
    inclusiveBy.set(l, (inclusiveBy.get(l) ?? 0) + time);
  }
}
const pct = (t) => `${((100 * t) / total).toFixed(1)}%`.padStart(6);
console.log(`total ${(total / 1e6).toFixed(2)} s sampled\n\nself time:`);
for (const [l, t] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${l}`);
console.log('\ninclusive time, this library (dist/):');
for (const [l, t] of [...inclusiveBy].filter(([l]) => l.includes(' dist/')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${l}`);

// Inclusive time overstates a middleware: it calls the rest of the chain synchronously through next(). Its own
// work is a sample whose stack, read from the leaf up, reaches the middleware's code before the router's,
// Express's, Fastify's or Nest's (and not inside Node's writeHead, which a Vary hook wraps). On Fastify,
// enableCors's layer is @fastify/cors's hook and Nest's copy of its headers to the Node response.
const layers = {
  'this library': (frame) => frame.url.includes('/dist/') && !frame.url.includes('node_modules'),
  'cors package (enableCors)': (frame) => /node_modules\/(cors|vary|object-assign)\//.test(frame.url),
  '@fastify/cors (enableCors on Fastify)': (frame) => /node_modules\/@fastify\/cors\//.test(frame.url) || frame.functionName === 'copyCorsHeadersToRaw',
};
const stops = (frame) =>
  /node_modules\/(router|express|@nestjs|fastify)\//.test(frame.url) || (frame.functionName === 'writeHead' && frame.url.startsWith('node:'));
const busy = total - (selfBy.get('(idle) ') ?? 0);
console.log('\nown work of the CORS layer, share of busy CPU:');
for (const [name, owns] of Object.entries(layers)) {
  let own = 0;
  for (const [id, time] of self) {
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at).callFrame;
      if (owns(frame)) {
        own += time;
        break;
      }
      if (stops(frame)) break;
    }
  }
  if (own > 0) console.log(`${pct((own * total) / busy)}  ${name}`);
}
