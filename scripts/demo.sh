#!/usr/bin/env bash
# The main job, for now: start the C echo service on one CPU and load it from the other with
# `stackbench load`, then print the summary. Usage: scripts/demo.sh [DURATION] (default 10s).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10s}
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then scpu=0; lcpu=1; else scpu=0; lcpu=0; fi
log=$(mktemp)
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
taskset -c "$scpu" ./stackbench serve echo --port 0 --workers 1 2>"$log" &
pid=$!
for _ in $(seq 100); do
    url=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$log")
    [ -n "$url" ] && break
    sleep 0.05
done
[ -n "$url" ] || { cat "$log" >&2; exit 1; }
echo "echo service on CPU $scpu ($url), load on CPU $lcpu, $DUR"
echo
./stackbench load -t 1 -c 64 -d "$DUR" --cpus "$lcpu" --expect-status 200 \
    --body '{"id":12345,"name":"stackbench","tags":["c","go","rust"],"ok":true,"score":98.6}' \
    "$url/echo"
kill -TERM "$pid"
wait "$pid"
