// The performance targets (docs/performance.md, Targets) and the paired ratios they are judged by, shared by run.mjs (one run) and pool.mjs
// (several runs' cycles together).

/** Each target: what it compares, the configuration, its base, the scenario, and the threshold. */
export const TARGETS = [
  ['allowed GET, host policy (c) vs enableCors (b)', 'c', 'b', 'allowed', 1.0],
  ['allowed GET, host policy (c) vs no CORS (a)', 'c', 'a', 'allowed', 0.95],
  ['allowed GET, identity path (d) vs enableCors (b)', 'd', 'b', 'allowed', 1.0],
  ['allowed GET, identity path (d) vs no CORS (a)', 'd', 'a', 'allowed', 0.95],
  ['preflight, host policy (c) vs enableCors (b)', 'c', 'b', 'preflight', 1.2],
  ['preflight, identity path (d) vs enableCors (b)', 'd', 'b', 'preflight', 1.2],
  ['allowed GET, 100k clients (e) vs 3 clients (d)', 'e', 'd', 'allowed', 0.95],
  ['preflight, 100k clients (e) vs 3 clients (d)', 'e', 'd', 'preflight', 0.95],
  ['allowed GET, DB store + warm cache (f) vs in-memory (d)', 'f', 'd', 'allowed', 0.95],
  ['preflight, DB store + warm cache (f) vs in-memory (d)', 'f', 'd', 'preflight', 0.95],
  ['Fastify: allowed GET, host policy (fc) vs @fastify/cors (fb)', 'fc', 'fb', 'allowed', 1.0],
  ['Fastify: allowed GET, host policy (fc) vs no CORS (fa)', 'fc', 'fa', 'allowed', 0.95],
  ['Fastify: allowed GET, identity path (fd) vs @fastify/cors (fb)', 'fd', 'fb', 'allowed', 1.0],
  ['Fastify: allowed GET, identity path (fd) vs no CORS (fa)', 'fd', 'fa', 'allowed', 0.95],
  ['Fastify: preflight, host policy (fc) vs @fastify/cors (fb)', 'fc', 'fb', 'preflight', 1.2],
  ['Fastify: preflight, identity path (fd) vs @fastify/cors (fb)', 'fd', 'fb', 'preflight', 1.2],
  ['Fastify: allowed GET, 100k clients (fe) vs 3 clients (fd)', 'fe', 'fd', 'allowed', 0.95],
  ['Fastify: preflight, 100k clients (fe) vs 3 clients (fd)', 'fe', 'fd', 'preflight', 0.95],
];

/**
 * Ratios with no threshold, shown when a run measured (h), (i), (fh) or (fi), fixed CORS headers and no decision: how
 * far a target is from what any CORS layer costs at least, and how far the library is from that. (i) and (fi) send an
 * identity path's three headers, the floor of (d) and (fd)'s allowed GET.
 */
export const REFERENCES = [
  ['allowed GET, fixed headers (h) vs no CORS (a)', 'h', 'a', 'allowed'],
  ['allowed GET, host policy (c) vs fixed headers (h)', 'c', 'h', 'allowed'],
  ['allowed GET, identity path (d) vs fixed headers (h)', 'd', 'h', 'allowed'],
  ['preflight, fixed headers (h) vs enableCors (b)', 'h', 'b', 'preflight'],
  ['preflight, identity path (d) vs fixed headers (h)', 'd', 'h', 'preflight'],
  ['allowed GET, fixed identity headers (i) vs no CORS (a)', 'i', 'a', 'allowed'],
  ['allowed GET, identity path (d) vs fixed identity headers (i)', 'd', 'i', 'allowed'],
  ['Fastify: allowed GET, fixed headers (fh) vs no CORS (fa)', 'fh', 'fa', 'allowed'],
  ['Fastify: allowed GET, host policy (fc) vs fixed headers (fh)', 'fc', 'fh', 'allowed'],
  ['Fastify: allowed GET, identity path (fd) vs fixed headers (fh)', 'fd', 'fh', 'allowed'],
  ['Fastify: preflight, fixed headers (fh) vs @fastify/cors (fb)', 'fh', 'fb', 'preflight'],
  ['Fastify: preflight, identity path (fd) vs fixed headers (fh)', 'fd', 'fh', 'preflight'],
  ['Fastify: allowed GET, fixed identity headers (fi) vs no CORS (fa)', 'fi', 'fa', 'allowed'],
  ['Fastify: allowed GET, identity path (fd) vs fixed identity headers (fi)', 'fd', 'fi', 'allowed'],
];

export const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const fmt = (x, digits = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));

/**
 * Paired ratios of one run (`samples[config][scenario] = [{ rps }]`, one entry per cycle): the windows of one cycle
 * are measured back to back, so the ratio within a cycle cancels the drift of a shared machine.
 */
export const pairedRatios = (samples, config, base, name) =>
  samples[base]?.[name]?.length && samples[config]?.[name]?.length
    ? samples[config][name].map((sample, cycle) => sample.rps / samples[base][name][cycle].rps)
    : undefined;

/** The paired ratios of every cycle of every run given (each run pairs its own windows). */
const cycleRatios = (runs, config, base, name) => runs.flatMap((samples) => pairedRatios(samples, config, base, name) ?? []);

/** The median over the cycles of all the runs given, or undefined when no run measured both. */
export function ratio(runs, config, base, name) {
  const ratios = cycleRatios(runs, config, base, name);
  return ratios.length ? median(ratios) : undefined;
}

/** The middle half of the paired ratios (first to third quartile): how far one cycle's answer can be trusted. */
function spread(runs, config, base, name) {
  const ratios = cycleRatios(runs, config, base, name).sort((x, y) => x - y);
  if (!ratios.length) return { text: '–', cycles: 0 };
  const at = (q) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))];
  return { text: `${fmt(at(0.25))} – ${fmt(at(0.75))}`, cycles: ratios.length };
}

/** The Markdown table of the targets over the cycles of `runs` (one samples object per run). */
export function targetTable(runs) {
  const lines = ['| target | ratio (median of cycles) | middle half of cycles | cycles | threshold | met |', '| --- | ---: | ---: | ---: | ---: | --- |'];
  // Targets of configurations no run included (BENCH_ONLY) are left out; one measured without its base shows as not measured.
  const included = (c) => runs.some((samples) => samples[c] !== undefined);
  for (const [what, config, base, name, threshold] of TARGETS) {
    if (!included(config) && !included(base)) continue;
    const value = ratio(runs, config, base, name);
    const { text, cycles } = spread(runs, config, base, name);
    const met = value === undefined || Number.isNaN(value) ? 'not measured' : value >= threshold ? 'yes' : 'NO';
    lines.push(`| ${what} | ${fmt(value)} | ${text} | ${cycles} | ≥ ${threshold.toFixed(2)} | ${met} |`);
  }
  return lines;
}

/** The Markdown table of the references (REFERENCES) the runs measured both sides of; empty when none. */
export function referenceTable(runs) {
  const rows = REFERENCES.filter(([, config, base, name]) => ratio(runs, config, base, name) !== undefined);
  if (rows.length === 0) return [];
  const lines = ['| reference (no threshold) | ratio (median of cycles) | middle half of cycles | cycles |', '| --- | ---: | ---: | ---: |'];
  for (const [what, config, base, name] of rows) {
    const { text, cycles } = spread(runs, config, base, name);
    lines.push(`| ${what} | ${fmt(ratio(runs, config, base, name))} | ${text} | ${cycles} |`);
  }
  return lines;
}
