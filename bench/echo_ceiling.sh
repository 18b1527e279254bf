#!/usr/bin/env bash
# The echo service against this machine's ceiling (bench/ceiling.c: a minimal epoll server
# writing a canned answer) and against nginx serving a small static file: the same load from
# `stackbench load`, the server on one CPU, the load on the other. The fair figure is the
# server's CPU time per request (the load side may saturate first on 2 CPUs).
#   bench/echo_ceiling.sh [DURATION]     env: SERVER_CPU (0), LOAD_CPU (1), CONNS (64)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
DUR=${1:-5s}
SCPU=${SERVER_CPU:-0}
LCPU=${LOAD_CPU:-1}
CONNS=${CONNS:-64}
make -s stackbench build/bench/ceiling >/dev/null

BODY='{ "id": 12345, "name": "stackbench", "tags": ["c", "go", "rust"], "ok": true, "score": 98.6 }'
MINIFIED='{"id":12345,"name":"stackbench","tags":["c","go","rust"],"ok":true,"score":98.6}'

# measure NAME PID URL [load flags...]: one row of the table
measure() {
    local name=$1 pid=$2 url=$3
    shift 3
    ./stackbench load -t 1 -c "$CONNS" -d 1s --cpus "$LCPU" -q "$@" "$url" >/dev/null # warm-up
    local c0 c1
    c0=$(bench_cpu_s "$pid")
    ./stackbench load -t 1 -c "$CONNS" -d "$DUR" --cpus "$LCPU" -q --json "$BENCH_TMP/r.json" "$@" "$url"
    c1=$(bench_cpu_s "$pid")
    local rps req p99 lcpu errs
    rps=$(json_num "$BENCH_TMP/r.json" rps)
    req=$(json_num "$BENCH_TMP/r.json" requests)
    p99=$(json_num "$BENCH_TMP/r.json" p99)
    lcpu=$(json_num "$BENCH_TMP/r.json" load_cpu_s)
    errs=$(tr -d ' \n' <"$BENCH_TMP/r.json" | grep -o '"errors":{[^}]*}' | grep -o ':[0-9]*' | tr -d : | awk '{ s += $1 } END { print s + 0 }')
    awk -v n="$name" -v rps="$rps" -v req="$req" -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b-a}')" \
        -v p99="$p99" -v l="$lcpu" -v e="$errs" -v d="${DUR%s}" 'BEGIN {
        us = req > 0 ? c * 1e6 / req : 0
        printf "%-40s %10.0f %9.1fµs %14.2f %11.0f%% %7d\n", n, rps, p99, us, 100 * l / d, e
        print n "\t" us > "/dev/stderr"
    }' 2>>"$BENCH_TMP/us.tsv"
}

echo "echo service vs ceiling vs nginx — $(bench_machine)"
echo "server on CPU $SCPU, stackbench load on CPU $LCPU, 1 load thread, $CONNS connections, $DUR each"
echo
printf "%-40s %10s %11s %14s %12s %7s\n" "server" "req/s" "p99" "server µs/req" "load CPU" "errors"

bench_start ceiling "$SCPU" build/bench/ceiling
measure "ceiling GET (canned answer)" "$BENCH_PID" "http://127.0.0.1:$BENCH_PORT/health"
bench_stop "$BENCH_PID"
bench_start ceiling "$SCPU" build/bench/ceiling 0 "$MINIFIED"
measure "ceiling POST (canned echo answer)" "$BENCH_PID" "http://127.0.0.1:$BENCH_PORT/echo" --body "$BODY"
bench_stop "$BENCH_PID"

# Accept modes: two workers on the one service CPU, one listener each (SO_REUSEPORT, the
# kernel spreads connections) or one shared listener woken with EPOLLEXCLUSIVE.
for mode in reuseport shared; do
    bench_start echo "$SCPU" ./stackbench serve echo --port 0 --workers 2 --accept "$mode"
    measure "stackbench echo GET, 2 workers, $mode" "$BENCH_PID" "http://127.0.0.1:$BENCH_PORT/health"
    bench_stop "$BENCH_PID"
done

bench_start echo "$SCPU" ./stackbench serve echo --port 0 --workers 1
measure "stackbench echo GET /health" "$BENCH_PID" "http://127.0.0.1:$BENCH_PORT/health"
measure "stackbench echo POST /echo" "$BENCH_PID" "http://127.0.0.1:$BENCH_PORT/echo" --body "$BODY"
bench_stop "$BENCH_PID"

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    NGX=$(command -v nginx || echo /usr/sbin/nginx)
    mkdir -p "$BENCH_TMP/ngx/www"
    printf '{"status":"ok"}' >"$BENCH_TMP/ngx/www/health"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18181)
    cat >"$BENCH_TMP/ngx/nginx.conf" <<NGX
daemon off;
master_process off;
worker_processes 1;
error_log $BENCH_TMP/ngx/error.log;
pid $BENCH_TMP/ngx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $BENCH_TMP/ngx; proxy_temp_path $BENCH_TMP/ngx;
    fastcgi_temp_path $BENCH_TMP/ngx; uwsgi_temp_path $BENCH_TMP/ngx; scgi_temp_path $BENCH_TMP/ngx;
    default_type application/json;
    server { listen 127.0.0.1:$port; root $BENCH_TMP/ngx/www; }
}
NGX
    taskset -c "$SCPU" "$NGX" -c "$BENCH_TMP/ngx/nginx.conf" -e "$BENCH_TMP/ngx/error.log" 2>/dev/null &
    ngx_pid=$!
    BENCH_PIDS+=("$ngx_pid")
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    measure "nginx static file" "$ngx_pid" "http://127.0.0.1:$port/health"
    bench_stop "$ngx_pid"
fi
echo
# Each row against the ceiling of its kind (GET rows against the GET ceiling, POST rows against
# the POST ceiling that answers the same bytes).
awk -F'\t' '$1 ~ /^ceiling GET/ { g = $2; next } $1 ~ /^ceiling POST/ { p = $2; next }
    { base = ($1 ~ /POST/) ? p : g
      if (base > 0) printf "  %-40s %5.2fx the ceiling'"'"'s CPU per request\n", $1, $2 / base }' "$BENCH_TMP/us.tsv"
