#!/usr/bin/env bash
# The csv row side by side: rows/s for the C, Go and Rust services (through `stackbench run`,
# same body, same CPUs), then the C parser alone against the memory-scan ceiling.
#   bench/csv_rows.sh [DURATION]     (default 10s)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10s}
make -s stackbench peers build/bench/csv_scan >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
./stackbench run --workloads csv --duration "$DUR" --warmup 2s --out "$out" >"$out/table.txt"
cat "$out/table.txt"
rows=$(./stackbench gen csv | tail -n +2 | grep -c .)
echo
echo "rows per request: $rows"
tr -d ' \n' <"$out/results.json" | grep -o '"lang":"[a-z]*","status":"[a-z]*","reason":"[^"]*","requests":[0-9]*,"rps":[0-9.]*' |
    awk -F'"' -v rows="$rows" '{ split($0, a, "\"rps\":"); printf "  %-5s %12.0f rows/s\n", $4, a[2] * rows }'
echo
taskset -c "${SERVER_CPU:-0}" build/bench/csv_scan
