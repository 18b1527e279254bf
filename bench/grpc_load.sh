#!/usr/bin/env bash
# `stackbench load` against the HTTP/2 and gRPC anchors: ghz for gRPC (unary Quote and a
# Stream of 100 ticks) and h2load for plain HTTP/2, each against the same server
# (`stackbench serve grpc`, one worker, on one CPU), each generator with one thread on the other
# CPU, the same connections and requests in flight. Reports calls (or requests) per second and
# the generator's own CPU per call, and how many calls each generator makes per CPU second
# beside ours (the load side must stay leaner than the service it measures).
#   bench/grpc_load.sh [SECONDS]    env: SERVER_CPU (0), LOAD_CPU (1), CONNS (4), STREAMS (16)
# ghz and h2load come from scripts/install.sh --bench (.tools/bin/ghz, Debian's nghttp2-client).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SECS=${1:-5}
SCPU=${SERVER_CPU:-0}
LCPU=${LOAD_CPU:-1}
CONNS=${CONNS:-4}
STREAMS=${STREAMS:-16}
GHZ=.tools/bin/ghz
make -s stackbench >/dev/null
for t in "$GHZ" "$(command -v h2load || true)"; do
    if [ -z "$t" ] || [ ! -x "$t" ]; then
        echo "bench: ghz or h2load missing: scripts/install.sh --bench brings both" >&2
        exit 1
    fi
done

bench_start grpc "$SCPU" ./stackbench serve grpc --port 0 --workers 1
ADDR="127.0.0.1:$BENCH_PORT"
printf '\x0a\x04AAPL' >"$BENCH_TMP/quote.pb"
printf '\x0a\x04AAPL\x10\x64' >"$BENCH_TMP/stream.pb"

echo "gRPC and HTTP/2 load generators vs the same server — $(bench_machine)"
echo "server (stackbench serve grpc, 1 worker) on CPU $SCPU, generator on CPU $LCPU, 1 thread,"
echo "$CONNS connections, $((CONNS * STREAMS)) calls in flight, ${SECS}s each"
echo
printf "%-8s %-16s %12s %14s %16s %14s\n" "what" "generator" "calls/s" "messages/s" "CPU µs/call" "calls/CPU·s"

# one row: what generator calls msgs cpu_s elapsed_s
row() {
    awk -v w="$1" -v g="$2" -v n="$3" -v m="$4" -v c="$5" -v e="$6" 'BEGIN {
        printf "%-8s %-16s %12.0f %14.0f %15.2fµs %14.0f\n", w, g, n / e, m / e,
               (n > 0 ? c * 1e6 / n : 0), (c > 0 ? n / c : 0) }'
}
ours() { # what method body: prints "calls messages cpu elapsed"
    local cpu el
    read -r cpu el < <(bench_timed "$LCPU" "$BENCH_TMP/sb.out" ./stackbench load -t 1 -c "$CONNS" \
        -m "$STREAMS" -d "${SECS}s" -q --json "$BENCH_TMP/sb.json" --grpc "$2" --body-file "$3" \
        "http://$ADDR")
    echo "$(json_num "$BENCH_TMP/sb.json" requests) $(json_num "$BENCH_TMP/sb.json" messages) $cpu $(json_num "$BENCH_TMP/sb.json" elapsed_s)"
}
ghz() { # method data count: prints "calls messages cpu elapsed"
    local cpu el n
    read -r cpu el < <(bench_timed "$LCPU" "$BENCH_TMP/ghz.out" "$GHZ" --insecure \
        --import-paths contracts/grpc --proto contracts/grpc/ticks.proto --call "$1" -d "$2" \
        --connections "$CONNS" -c "$((CONNS * STREAMS))" -z "${SECS}s" --cpus 1 \
        --format json "$ADDR")
    # ghz's JSON: count (calls) and total (ns) at the top level
    read -r n el < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
print(d["count"], d["total"] / 1e9)' "$BENCH_TMP/ghz.out")
    echo "$n $((n * $3)) $cpu $el"
}

# warm-up
./stackbench load -t 1 -c "$CONNS" -m "$STREAMS" -d 1s -q --grpc stackbench.v1.Ticks/Quote \
    --body-file "$BENCH_TMP/quote.pb" "http://$ADDR" >/dev/null

row Quote "stackbench load" $(ours Quote stackbench.v1.Ticks/Quote "$BENCH_TMP/quote.pb")
row Quote ghz $(ghz stackbench.v1.Ticks.Quote '{"symbol":"AAPL"}' 1)
row Stream "stackbench load" $(ours Stream stackbench.v1.Ticks/Stream "$BENCH_TMP/stream.pb")
row Stream ghz $(ghz stackbench.v1.Ticks.Stream '{"symbol":"AAPL","count":100}' 100)

# Plain HTTP/2: the server answers a request that is not gRPC with 415 and a 65-byte body,
# the same for both generators.
read -r cpu _ < <(bench_timed "$LCPU" "$BENCH_TMP/sbh2.out" ./stackbench load --h2 -t 1 -c "$CONNS" \
    -m "$STREAMS" -d "${SECS}s" -q --expect-status 415 --json "$BENCH_TMP/sbh2.json" "http://$ADDR/")
row h2 "stackbench load" "$(json_num "$BENCH_TMP/sbh2.json" requests)" 0 "$cpu" \
    "$(json_num "$BENCH_TMP/sbh2.json" elapsed_s)"
read -r cpu _ < <(bench_timed "$LCPU" "$BENCH_TMP/h2load.out" h2load -t 1 -c "$CONNS" -m "$STREAMS" \
    -D "$SECS" "http://$ADDR/")
row h2 h2load "$(awk '/^requests:/ { print $6 }' "$BENCH_TMP/h2load.out")" 0 "$cpu" \
    "$(awk '/^finished in/ { sub("s,", "", $3); print $3 }' "$BENCH_TMP/h2load.out")"
bench_stop "$BENCH_PID"
