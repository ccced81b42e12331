#!/usr/bin/env bash
# Instructions per request of one configuration and scenario, counted by valgrind's callgrind over HTTP: a measure
# of CPU work that does not move with the speed of a shared machine. Node runs --single-threaded (no JIT or GC
# helper thread adds to the count). `bash bench/instructions.sh <config> <scenario> [requests]` after
# `npm run build`; needs valgrind. About 40 s per call. CONNECTIONS (4): autocannon's connections; with 1, repeated
# runs of one build agree to about ±0.5 % (with 4, runs fall into two groups about 3 % apart). WARMUP (= requests).
# Use it to compare two builds of one configuration: across configurations, V8's inlining and tiering of the whole
# app move the totals by a few percent either way (an app with no CORS layer has counted more than one with it),
# more than a CORS layer costs; bench/layer-instructions.sh counts the layer alone.
set -euo pipefail
cd "$(dirname "$0")/.."
config=$1 scenario=$2 n=${3:-2000}
dir=$(mktemp -d)
trap 'kill -TERM "$vg" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
# Instrumentation starts switched off: startup and warmup are not counted.
valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file --callgrind-out-file="$dir/cg.%p" \
  node --single-threaded bench/server.mjs "$config" > "$dir/ready.json" 2> "$dir/valgrind.log" < /dev/null &
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
const r = await autocannon({ url: 'http://127.0.0.1:$port' + CONFIGS['$config'].path, method: s.method, headers: s.headers, connections: ${CONNECTIONS:-4}, amount: $1, timeout: 60 });
if (r.errors || r.timeouts) { console.error('load failed:', r.errors, 'errors,', r.timeouts, 'timeouts'); process.exit(1); }
"
}
load "${WARMUP:-$n}" # warmup: the JIT settles
callgrind_control -i on "$vg" > /dev/null 2>&1
load "$n"
callgrind_control -i off "$vg" > /dev/null 2>&1
callgrind_control -d "$vg" > /dev/null 2>&1
kill -TERM "$vg"; wait "$vg" || true
total=$(cat "$dir"/cg.* | awk '/^totals:/ { sum += $2 } END { print sum }')
echo "$config $scenario: $((total / n)) instructions per request ($n requests)"
