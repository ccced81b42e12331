// Where the instructions of bench/layer.mjs's calls go, by function, JIT-compiled JavaScript included: callgrind
// names V8's generated code only by address, so this maps each address to the function V8 compiled there (from the
// perf map `node --perf-basic-prof` writes to /tmp/perf-<pid>.map). Self cost per call, highest first; with two
// configurations, the difference per function (what the second adds).
//   node bench/layer-functions.mjs fc allowed [fa] [rows]      after npm run build; needs valgrind; about a minute
import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [config, scenario = 'allowed', base, rows = '40'] = process.argv.slice(2);
if (!config) throw new Error('usage: node bench/layer-functions.mjs <config> [scenario] [base config] [rows]');
const CALLS = 20_000;

/** Self instructions per call of each function in one configuration's calls. */
function selfCost(configuration) {
  const dir = mkdtempSync(join(tmpdir(), 'layer-functions-'));
  try {
    execFileSync(
      'valgrind',
      ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${dir}/cg.%p`, 'node', '--single-threaded', '--perf-basic-prof', 'bench/layer.mjs'],
      { env: { ...process.env, LAYER_CONFIG: configuration, LAYER_SCENARIO: scenario, LAYER_COUNT: String(CALLS) }, stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const outputs = readdirSync(dir).map((file) => join(dir, file));
    const pid = outputs[0].split('.').pop();
    const symbols = readFileSync(`/tmp/perf-${pid}.map`, 'utf8').trim().split('\n').map((line) => {
      const [start, size, ...name] = line.split(' ');
      return [parseInt(start, 16), parseInt(size, 16), name.join(' ')];
    }).sort((a, b) => a[0] - b[0]);
    rmSync(`/tmp/perf-${pid}.map`, { force: true });
    const named = (address) => {
      let low = 0, high = symbols.length - 1, found = -1;
      while (low <= high) {
        const middle = (low + high) >> 1;
        if (symbols[middle][0] <= address) (found = middle), (low = middle + 1);
        else high = middle - 1;
      }
      return found >= 0 && address < symbols[found][0] + symbols[found][1] ? symbols[found][2] : undefined;
    };
    const text = execSync(`callgrind_annotate --threshold=100 --inclusive=no ${outputs.join(' ')}`, { maxBuffer: 1 << 28 }).toString();
    const costs = new Map();
    for (const line of text.split('\n')) {
      const match = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
      if (!match || match[2].startsWith('PROGRAM TOTALS')) continue;
      let name = match[2].replace(/^\?\?\?:/, '').replace(/ \[.*$/, '');
      const address = /^0x[0-9a-f]+/.exec(name);
      if (address) name = named(parseInt(address[0], 16)) ?? name;
      costs.set(name, (costs.get(name) ?? 0) + Number(match[1].replaceAll(',', '')) / CALLS);
    }
    return costs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const measured = selfCost(config);
const against = base ? selfCost(base) : new Map();
const names = new Set([...measured.keys(), ...against.keys()]);
const table = [...names].map((name) => [name, (measured.get(name) ?? 0) - (against.get(name) ?? 0)]).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
const total = (costs) => [...costs.values()].reduce((sum, cost) => sum + cost, 0);
console.log(`(${config}) ${scenario}: ${Math.round(total(measured))} instructions per call${base ? `, (${base}) ${Math.round(total(against))}` : ''}`);
for (const [name, cost] of table.slice(0, Number(rows))) console.log(`${String(Math.round(cost)).padStart(7)}  ${name.slice(0, 140)}`);
