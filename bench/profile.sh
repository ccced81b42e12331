#!/usr/bin/env bash
# Profiles one configuration under one scenario: `bash bench/profile.sh <config> <scenario> [seconds]`
# (after `npm run build`). Writes bench/results/<config>-<scenario>.cpuprofile and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
config=$1 scenario=$2 seconds=${3:-8}
dir=bench/results/profiles && mkdir -p "$dir" && rm -f "$dir"/*.cpuprofile
node --cpu-prof --cpu-prof-dir="$dir" bench/server.mjs "$config" > "$dir/ready.json" </dev/null 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
until grep -q '"ready":true' "$dir/ready.json"; do sleep 0.2; done
port=$(grep -o '"port":[0-9]*' "$dir/ready.json" | cut -d: -f2)
node --input-type=module -e "
import autocannon from 'autocannon';
import { CONFIGS, SCENARIOS } from './bench/fixtures.mjs';
const s = SCENARIOS['$scenario'];
const r = await autocannon({ url: 'http://127.0.0.1:$port' + CONFIGS['$config'].path, method: s.method, headers: s.headers, connections: 16, duration: $seconds });
console.log(Math.round(r.requests.average) + ' req/s');
"
kill -TERM $server; wait $server || true
trap - EXIT
file=$(ls -t "$dir"/*.cpuprofile | head -1)
mv "$file" "bench/results/$config-$scenario.cpuprofile"
node bench/profile-summary.mjs "bench/results/$config-$scenario.cpuprofile" 25
