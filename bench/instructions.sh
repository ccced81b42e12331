#!/usr/bin/env bash
# Instructions per request of one configuration and scenario, counted by valgrind's callgrind: a measure of
# CPU work that, unlike req/s, does not move with the speed of a shared machine (about ±2 % run to run, from
# garbage collection and JIT timing). `bash bench/instructions.sh <config> <scenario> [requests]` after
# `npm run build`; needs valgrind (apt-get install valgrind). About 40 s per call.
set -euo pipefail
cd "$(dirname "$0")/.."
config=$1 scenario=$2 n=${3:-2000}
dir=$(mktemp -d)
trap 'kill -TERM "$vg" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
# Instrumentation starts switched off: startup and warmup are not counted.
valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file --callgrind-out-file="$dir/cg.%p" \
  node bench/server.mjs "$config" > "$dir/ready.json" 2> "$dir/valgrind.log" < /dev/null &
vg=$!
until grep -q '"ready"' "$dir/ready.json" 2>/dev/null; do
  kill -0 "$vg" 2>/dev/null || { cat "$dir/valgrind.log" >&2; exit 1; }
  sleep 1
done
port=$(grep -o '"port":[0-9]*' "$dir/ready.json" | cut -d: -f2)
load() {
  node --input-type=module -e "
import autocannon from 'autocannon';
import { CONFIGS, SCENARIOS } from './bench/fixtures.mjs';
const s = SCENARIOS['$scenario'];
const r = await autocannon({ url: 'http://127.0.0.1:$port' + CONFIGS['$config'].path, method: s.method, headers: s.headers, connections: 4, amount: $1, timeout: 60 });
if (r.errors || r.timeouts) { console.error('load failed:', r.errors, 'errors,', r.timeouts, 'timeouts'); process.exit(1); }
"
}
load "$n" # warmup: the JIT settles
callgrind_control -i on "$vg" > /dev/null 2>&1
load "$n"
callgrind_control -i off "$vg" > /dev/null 2>&1
callgrind_control -d "$vg" > /dev/null 2>&1
kill -TERM "$vg"; wait "$vg" || true
total=$(cat "$dir"/cg.* | awk '/^totals:/ { sum += $2 } END { print sum }')
echo "$config $scenario: $((total / n)) instructions per request ($n requests)"
