// README's settings for each kind of app are copied from the compat/ fixtures that CI runs; this keeps them so.
// A fenced block whose info string names a fixture file after its language (```json compat/nest12-esm/test/jest-e2e.json)
// must be that file, or a run of its consecutive lines. `node .ci/readme-fixtures.mjs`.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const problems = [];
let checked = 0;
for (const [, path, body] of readme.matchAll(/^```\w*[ \t]+(compat\/\S+)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)) {
  checked++;
  const file = join(root, path);
  if (!existsSync(file)) {
    problems.push(`README shows ${path}, which does not exist`);
    continue;
  }
  const lines = (text) => text.replace(/\s+$/, '').split('\n').map((line) => line.trimEnd());
  const shown = lines(body);
  const actual = lines(readFileSync(file, 'utf8'));
  const at = actual.findIndex((_, start) => shown.every((line, i) => actual[start + i] === line));
  if (at < 0) problems.push(`README's block for ${path} is not a copy of (part of) that file: copy it again from ${path}`);
}
if (problems.length > 0) {
  for (const problem of problems) console.error(`readme fixtures: ${problem}`);
  process.exit(1);
}
console.log(`readme fixtures: ${checked} block${checked === 1 ? '' : 's'} match their compat/ files`);
