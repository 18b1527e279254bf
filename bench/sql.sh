#!/usr/bin/env bash
# The sql row side by side, and PostgreSQL's own ceiling for the same reads.
#   bench/sql.sh [DURATION]     (default 10s)
#
# 1. `stackbench run --workloads sql`: the default mix (80 % GET /accounts/{random id}, 20 %
#    POST /orders) for every sql implementation (C pipelined and exclusive, Go exclusive, Rust
#    exclusive and pipelined), with the database's CPU and work per request; once with
#    PostgreSQL sharing the service's CPU (the default), once with PostgreSQL on a CPU apart
#    from the service's (on 2 CPUs that is the load engine's CPU: said in the heading).
# 2. Reads only (GET /accounts/{random id}) on one throwaway PostgreSQL pinned to the service
#    CPU: each service with --pool 8 (service and database share that CPU, as on one host),
#    then pgbench with the same SELECT as a prepared statement over 8 connections from the load
#    CPU: the database alone, with no HTTP service in front of it, once a query per round trip
#    (what the Go and Rust pools do) and once pipelined 16 deep (what the C service's libpq
#    pipeline mode does): the ceiling. Ratios: service req/s over pgbench's queries/s.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10s}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
make -s stackbench peers >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== the sql row: default mix, PostgreSQL on the service's CPU $SERVER_CPU"
./stackbench run --workloads sql --duration "$DUR" --warmup 2s --equal-load 0 \
    --cpus-service "$SERVER_CPU" --cpus-load "$LOAD_CPU" --out "$out" |
    sed -n '/^workload/,/across tiers/p'
echo
DB_CPU=${DB_CPU:-$LOAD_CPU}
echo "== the same, PostgreSQL on CPU $DB_CPU, apart from the service$([ "$DB_CPU" = "$LOAD_CPU" ] && echo ' (it shares the load engine'"'"'s CPU)')"
./stackbench run --workloads sql --duration "$DUR" --warmup 2s --equal-load 0 \
    --cpus-service "$SERVER_CPU" --cpus-load "$LOAD_CPU" --cpus-db "$DB_CPU" --out "$out" |
    sed -n '/^workload/,/across tiers/p'
echo

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
export DUR SERVER_CPU LOAD_CPU PGBIN out
./stackbench pg --cpus "$SERVER_CPU" -- bash -c '
set -euo pipefail
source bench/lib.sh
secs=${DUR%s}
echo "== reads only: GET /accounts/{random id}, pool 8, service and PostgreSQL on CPU $SERVER_CPU, load on CPU $LOAD_CPU, $DUR each"
printf "  %-16s %12s %15s %12s %12s\n" "" "req/s" "CPU µs/req" "vs pgbench" "vs pipelined"
declare -A rps cpu
impls="c go rust c-exclusive rust-pipelined"
for lang in $impls; do
    case $lang in
    c) cmd=(./stackbench serve sql --db-strategy pipelined) ;;
    c-exclusive) cmd=(./stackbench serve sql --db-strategy exclusive) ;;
    go) cmd=(peers/go/bin/stackbench-go sql) ;;
    rust) cmd=(peers/rust/target/release/stackbench-rust sql --db-strategy exclusive) ;;
    rust-pipelined) cmd=(peers/rust/target/release/stackbench-rust sql --db-strategy pipelined) ;;
    esac
    bench_start "$lang" "$SERVER_CPU" "${cmd[@]}" --port 0 --pg-url "$STACKBENCH_PG_URL" --pool 8
    ./stackbench load -q -c 64 -t 1 --cpus "$LOAD_CPU" -d 2s --mix "1 GET /accounts/{rand:1:10000}" \
        "http://127.0.0.1:$BENCH_PORT" >/dev/null
    c0=$(bench_cpu_s "$BENCH_PID")
    ./stackbench load -q -c 64 -t 1 --cpus "$LOAD_CPU" -d "$DUR" --mix "1 GET /accounts/{rand:1:10000}" \
        --json "$out/$lang.json" "http://127.0.0.1:$BENCH_PORT"
    c1=$(bench_cpu_s "$BENCH_PID")
    bench_stop "$BENCH_PID"
    n=$(json_num "$out/$lang.json" requests)
    rps[$lang]=$(json_num "$out/$lang.json" rps)
    cpu[$lang]=$(awk -v a="$c0" -v b="$c1" -v n="$n" "BEGIN { printf \"%.2f\", (b - a) * 1e6 / n }")
done
printf "\\\\set id random(1, 10000)\nSELECT balance, name FROM accounts WHERE id = :id;\n" >"$out/read.sql"
{
    printf "\\\\startpipeline\n"
    for i in $(seq 16); do
        printf "\\\\set id random(1, 10000)\nSELECT balance, name FROM accounts WHERE id = :id;\n"
    done
    printf "\\\\endpipeline\n"
} >"$out/read16.sql"
pgb() { # pgb SCRIPT SECONDS: transactions/s
    taskset -c "$LOAD_CPU" "$PGBIN/pgbench" -n -M prepared -c 8 -j 1 -T "$2" -f "$1" "$STACKBENCH_PG_URL" 2>/dev/null |
        sed -n "s/^tps = \([0-9.]*\).*/\1/p" | tail -n 1
}
pgb "$out/read.sql" 2 >/dev/null
tps=$(pgb "$out/read.sql" "$secs")
qps16=$(awk -v t="$(pgb "$out/read16.sql" "$secs")" "BEGIN { print t * 16 }")
for lang in $impls; do
    printf "  %-16s %12.0f %14s %11.2fx %11.2fx\n" "$lang" "${rps[$lang]}" "${cpu[$lang]}" \
        "$(awk -v a="${rps[$lang]}" -v b="$tps" "BEGIN { print a / b }")" \
        "$(awk -v a="${rps[$lang]}" -v b="$qps16" "BEGIN { print a / b }")"
done
printf "  %-16s %12.0f %14s %12s\n" "pgbench" "$tps" "-" "1.00x"
printf "  %-16s %12.0f %14s %12s %11s\n" "pgbench pipeline" "$qps16" "-" "" "1.00x"
'
