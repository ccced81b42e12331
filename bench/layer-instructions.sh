#!/usr/bin/env bash
# Instructions per call of each configuration's CORS layer (bench/layer.mjs), counted by valgrind's callgrind,
# minus configuration (a), which calls no layer (on Fastify, fa–fe: minus (fa), the whole socket-less request
# without CORS). Node runs --single-threaded so that no JIT or GC helper thread
# adds to the count: repeated runs agree to about ±1 %. `bash bench/layer-instructions.sh [configs] [scenarios]`
# after `npm run build`, e.g. `bash bench/layer-instructions.sh a,b,c,d allowed,preflight` or
# `bash bench/layer-instructions.sh fb,fc,fd,fe allowed,preflight`; about 25 s per configuration and scenario
# (Fastify's about 40 s), two at a time. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
configs=${1:-a,b,c,d,e,f} scenarios=${2:-allowed,preflight,denied,none} n=${LAYER_CALLS:-50000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
count() { # config scenario
  LAYER_CONFIG=$1 LAYER_SCENARIO=$2 LAYER_COUNT=$n valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file \
    --callgrind-out-file="$dir/cg.$1.$2.%p" node --single-threaded bench/layer.mjs > "$dir/out.$1.$2" 2> "$dir/log.$1.$2" ||
    { cat "$dir/log.$1.$2" >&2; exit 1; }
  cat "$dir"/cg."$1"."$2".* | awk -v n="$n" '/^totals:/ { sum += $2 } END { printf "%d\n", sum / n }' > "$dir/count.$1.$2"
}
base() { [[ $1 == f? ]] && echo fa || echo a; } # the no-CORS configuration of a configuration's platform
IFS=, read -ra given <<< "$configs"
C=()
for c in "${given[@]}"; do C+=("$(base "$c")"); done
C+=("${given[@]}")
IFS=, read -ra S <<< "$scenarios"
configs_once() { printf '%s\n' "${C[@]}" | awk '!seen[$0]++'; } # each configuration once, bases first
for s in "${S[@]}"; do
  for c in $(configs_once); do
    count "$c" "$s" &
    if (( $(jobs -r | wc -l) >= 2 )); then wait -n; fi
  done
done
wait
count_of() { cat "$dir/count.$1.$2"; }
layer_of() { echo $(( $(count_of "$1" "$2") - $(count_of "$(base "$1")" "$2") )); }
table() { # value function, then whether to leave out the no-CORS configurations
  printf '| configuration |'; for s in "${S[@]}"; do printf ' %s |' "$s"; done; echo
  printf '| --- |'; for s in "${S[@]}"; do printf ' ---: |'; done; echo
  for c in $(configs_once); do
    [ "${2:-}" = without-bases ] && [ "$c" = "$(base "$c")" ] && continue
    printf '| (%s) |' "$c"
    for s in "${S[@]}"; do printf ' %s |' "$("$1" "$c" "$s")"; done
    echo
  done
}
echo "Instructions per call of the CORS layer (Express: a layer call plus writeHead, minus (a): no layer; Fastify: a whole socket-less request, minus (fa)), $n calls each:"
echo
table layer_of without-bases
echo
echo "Whole calls (what the rows above subtract from each other):"
echo
table count_of
