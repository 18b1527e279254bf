# Shared helpers for the benchmark scripts: start a pinned server and learn its port, read a
# process's CPU time, run a command pinned and timed. Sourced, not run.

CLK_TCK=$(getconf CLK_TCK)
BENCH_TMP=$(mktemp -d)
BENCH_PIDS=()
bench_cleanup() {
    for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT

# bench_start NAME CPU CMD...: starts CMD pinned to CPU, waits for "listening on http://...:PORT"
# on its stderr; sets BENCH_PID and BENCH_PORT.
bench_start() {
    local name=$1 cpu=$2
    shift 2
    local log="$BENCH_TMP/$name.log"
    taskset -c "$cpu" "$@" 2>"$log" >/dev/null &
    BENCH_PID=$!
    BENCH_PIDS+=("$BENCH_PID")
    for _ in $(seq 100); do
        # (the shell may not have created the log yet)
        BENCH_PORT=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' "$log" 2>/dev/null | head -n 1 || true)
        [ -n "$BENCH_PORT" ] && return 0
        sleep 0.05
    done
    echo "bench: $name did not start: $(cat "$log")" >&2
    return 1
}

# bench_stop PID: SIGTERM and wait.
bench_stop() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# bench_cpu_s PID [PID...]: user+system CPU seconds so far of the processes (threads included).
bench_cpu_s() {
    local total=0 p t
    for p in "$@"; do
        t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
        total=$((total + t))
    done
    awk -v t="$total" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }'
}

# bench_timed CPU OUT CMD...: runs CMD pinned to CPU, its output to OUT, and prints
# "user+sys elapsed" seconds of it (from /usr/bin/time).
bench_timed() {
    local cpu=$1 out=$2
    shift 2
    /usr/bin/time -f '%U %S %e' -o "$BENCH_TMP/time" taskset -c "$cpu" "$@" >"$out" 2>&1 || true
    awk '{ printf "%.3f %.3f\n", $1 + $2, $3 }' "$BENCH_TMP/time"
}

# json_num FILE KEY: the first number after "KEY": in a JSON file.
json_num() {
    tr -d ' \n' <"$1" | grep -o "\"$2\":[-0-9.e+]*" | head -n 1 | cut -d: -f2
}

bench_machine() {
    local model
    model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    echo "$(nproc) CPUs ($model), $(uname -sr)"
}
