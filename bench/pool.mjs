// The targets over the cycles of several `npm run bench` runs together: `node bench/pool.mjs bench/results/*.json`.
// One run's 12 cycles leave its medians a few hundredths apart from the next run's; a threshold a few hundredths
// away then flips from run to run. Ratios stay paired within their own run's cycles.
import { readFileSync } from 'node:fs';
import { referenceTable, targetTable } from './targets.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/pool.mjs <bench/results/….json> …');
  process.exit(2);
}
const runs = files.map((file) => JSON.parse(readFileSync(file, 'utf8')));
const mounts = new Set(runs.map((run) => run.mount));
if (mounts.size > 1) throw new Error(`the runs were measured with different BENCH_MOUNT values (${[...mounts].join(', ')}): pool runs of one mount`);
console.log(`Targets over ${runs.length} run${runs.length === 1 ? '' : 's'} (${runs.map((run) => run.date).join(', ')}):\n`);
const pooled = runs.map((run) => run.samples);
console.log(targetTable(pooled).join('\n'));
const references = referenceTable(pooled);
if (references.length > 0) console.log(`\n${references.join('\n')}`);
