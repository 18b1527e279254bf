#!/usr/bin/env bash
# `stackbench load` against wrk and h2load (HTTP/1.1 mode): the same server (bench/ceiling.c,
# the cheapest server there is, so that the load generator is the bottleneck) on one CPU, each
# generator with one thread and the same connections on the other CPU. Reports maximum req/s
# and the generator's own CPU time per request.
#   bench/load_vs_wrk.sh [SECONDS]     env: SERVER_CPU (0), LOAD_CPU (1), CONNS (64)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SECS=${1:-5}
SCPU=${SERVER_CPU:-0}
LCPU=${LOAD_CPU:-1}
CONNS=${CONNS:-64}
make -s stackbench build/bench/ceiling >/dev/null

bench_start ceiling "$SCPU" build/bench/ceiling
URL="http://127.0.0.1:$BENCH_PORT/health"

echo "load generators vs the same server — $(bench_machine)"
echo "server (bench/ceiling) on CPU $SCPU, generator on CPU $LCPU, 1 thread, $CONNS connections, ${SECS}s each"
echo
printf "%-22s %12s %18s %10s\n" "generator" "req/s" "CPU µs/request" "vs wrk"

rows=()
row() { # name rps cpu_s requests
    local us
    us=$(awk -v c="$3" -v n="$4" 'BEGIN { printf "%.3f", (n > 0 ? c * 1e6 / n : 0) }')
    rows+=("$1|$2|$us")
}

# warm-up, so that every generator meets a warm server
./stackbench load -t 1 -c "$CONNS" -d 1s -q "$URL" >/dev/null

read -r cpu _ < <(bench_timed "$LCPU" "$BENCH_TMP/sb.out" ./stackbench load -t 1 -c "$CONNS" \
    -d "${SECS}s" -q --json "$BENCH_TMP/sb.json" "$URL")
row "stackbench load" "$(json_num "$BENCH_TMP/sb.json" rps)" "$cpu" "$(json_num "$BENCH_TMP/sb.json" requests)"

if command -v wrk >/dev/null 2>&1; then
    read -r cpu _ < <(bench_timed "$LCPU" "$BENCH_TMP/wrk.out" wrk -t 1 -c "$CONNS" -d "${SECS}s" "$URL")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$BENCH_TMP/wrk.out")
    req=$(awk '/requests in/ { print $1 }' "$BENCH_TMP/wrk.out")
    row "wrk" "$rps" "$cpu" "$req"
fi
if command -v h2load >/dev/null 2>&1; then
    read -r cpu _ < <(bench_timed "$LCPU" "$BENCH_TMP/h2.out" h2load --h1 -t 1 -c "$CONNS" -D "$SECS" "$URL")
    rps=$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' "$BENCH_TMP/h2.out")
    req=$(awk '/^requests:/ { print $6 }' "$BENCH_TMP/h2.out")
    row "h2load --h1" "$rps" "$cpu" "$req"
fi

wrk_rps=$(printf '%s\n' "${rows[@]}" | awk -F'|' '$1 == "wrk" { print $2 }')
for r in "${rows[@]}"; do
    IFS='|' read -r name rps us <<<"$r"
    awk -v n="$name" -v r="$rps" -v u="$us" -v w="${wrk_rps:-0}" 'BEGIN {
        printf "%-22s %12.0f %17.2fµs %9s\n", n, r, u, (w > 0 ? sprintf("%+.1f%%", 100 * (r / w - 1)) : "-") }'
done
