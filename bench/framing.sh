#!/usr/bin/env bash
# The request-framing corpus (contracts/framing/*.case: smuggling vectors and the valid forms
# next to them) against the C echo service, the Go and Rust peers, and nginx: how many cases of
# each class each server gets right (refusing what RFC 9112 says is invalid or ambiguous with
# the right status and closing, accepting what is valid). nginx answers /echo and /health
# with `return` (it reads and discards the body, so its own framing decides).
#   bench/framing.sh          the table; FRAMING_VERBOSE=1 also lists every case a server fails
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
make -s stackbench >/dev/null
make -s -C peers >/dev/null

# verify_one NAME URL: one "NAME CASE ok|FAIL" line per case into $BENCH_TMP/results
verify_one() {
    local name=$1 url=$2
    ./stackbench verify --timeout 2s framing "$url" >"$BENCH_TMP/$name.out" 2>&1 || true
    # NAME CASE ok|FAIL STATUS (the first answer's status when it failed, - when none came)
    awk -v n="$name" '$1 == "ok" { print n, $2, "ok", "-" }
        $1 == "FAIL" { sub(":", "", $2); st = "-"
                       if (match($0, /answer 1: status [0-9]+/)) st = substr($0, RSTART + 17, RLENGTH - 17)
                       print n, $2, "FAIL", st }' "$BENCH_TMP/$name.out" >>"$BENCH_TMP/results"
    if [ "${FRAMING_VERBOSE:-0}" = 1 ]; then
        grep '^  FAIL' "$BENCH_TMP/$name.out" | sed "s/^/  $name: /" >&2 || true
    fi
}

: >"$BENCH_TMP/results"
servers=()
run_server() {
    local name=$1
    shift
    bench_start "$name" 0 "$@" --port 0
    verify_one "$name" "http://127.0.0.1:$BENCH_PORT"
    bench_stop "$BENCH_PID"
    servers+=("$name")
}
run_server c ./stackbench serve echo --workers 1
run_server go peers/go/bin/stackbench-go echo
run_server rust peers/rust/target/release/stackbench-rust echo

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    NGX=$(command -v nginx || echo /usr/sbin/nginx)
    mkdir -p "$BENCH_TMP/ngx"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18182)
    cat >"$BENCH_TMP/ngx/nginx.conf" <<NGX
daemon off;
master_process off;
worker_processes 1;
error_log $BENCH_TMP/ngx/error.log;
pid $BENCH_TMP/ngx/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $BENCH_TMP/ngx; proxy_temp_path $BENCH_TMP/ngx;
    fastcgi_temp_path $BENCH_TMP/ngx; uwsgi_temp_path $BENCH_TMP/ngx; scgi_temp_path $BENCH_TMP/ngx;
    default_type application/json;
    server {
        listen 127.0.0.1:$port;
        location = /echo { return 200 '[123]'; }
        location = /health { return 200 '{"status":"ok"}'; }
    }
}
NGX
    "$NGX" -c "$BENCH_TMP/ngx/nginx.conf" -e "$BENCH_TMP/ngx/error.log" 2>/dev/null &
    ngx_pid=$!
    BENCH_PIDS+=("$ngx_pid")
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    verify_one "nginx" "http://127.0.0.1:$port"
    bench_stop "$ngx_pid"
    servers+=("nginx $("$NGX" -v 2>&1 | sed 's/.*nginx\///')")
else
    echo "bench/framing.sh: nginx not found (scripts/install.sh installs it): its column is left out" >&2
fi

# What each case wants first: a status, refusals being >= 400.
for f in contracts/framing/*.case; do
    echo "want $(basename "$f" .case) $(sed -n 's/^expect: //p' "$f" | head -n 1)"
done >"$BENCH_TMP/wants"

echo "request framing: cases each server gets right, by class — $(bench_machine)"
echo "(right: the answer the case wants; refused: of the cases to refuse, those answered >= 400"
echo " or not at all, whatever the status)"
# The class of a case is its number's range (contracts/framing.md).
awk -v header="${servers[*]}" '
function class(c, n) {
    n = substr(c, 1, 3) + 0
    if (n < 30) return "Content-Length"
    if (n < 50) return "Transfer-Encoding"
    if (n < 70) return "chunks"
    if (n < 80) return "line ends"
    if (n < 100) return "white space, fields"
    if (n < 120) return "request line"
    if (n < 130) return "Host"
    return "Expect, keep-alive"
}
$1 == "want" { want[$2] = $3 + 0; next }
{
    k = class($2); if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
    if ($1 == "c") { total[k]++; if (want[$2] >= 400) tref[k]++ }
    if ($3 == "ok") ok[$1, k]++
    if (want[$2] >= 400 && ($3 == "ok" || $4 == "-" || $4 + 0 >= 400)) ref[$1, k]++
}
END {
    split(header, hs, " ")
    ncols = 0
    for (i = 1; i <= length(hs); i++) {
        if (hs[i] ~ /^[0-9]/) { label[ncols] = label[ncols] " " hs[i]; continue }
        col[++ncols] = hs[i]; label[ncols] = hs[i]
    }
    for (t = 0; t < 2; t++) {
        printf "\n%-20s %5s", t ? "refused" : "right", "cases"
        for (i = 1; i <= ncols; i++) printf " %12s", label[i]
        printf "\n"
        all = 0; delete sum
        for (j = 1; j <= nk; j++) {
            k = order[j]; n = t ? tref[k] : total[k]; all += n
            printf "%-20s %5d", k, n
            for (i = 1; i <= ncols; i++) {
                v = t ? ref[col[i], k] : ok[col[i], k]; sum[i] += v
                printf " %12d", v
            }
            printf "\n"
        }
        printf "%-20s %5d", "all", all
        for (i = 1; i <= ncols; i++) printf " %12d", sum[i]
        printf "\n"
    }
}' "$BENCH_TMP/wants" "$BENCH_TMP/results"
