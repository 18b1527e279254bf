#!/usr/bin/env bash
# Runs every test binary (unit, integration) and every fuzz target for FUZZ_SECONDS, and ends
# with one line "N passed, N failed". Exit status 1 when anything failed.
# Env: BUILD (build folder, default build), FUZZ_SECONDS (0 skips fuzzing), FUZZ_ONLY=1.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
export STACKBENCH="$PWD/$BUILD/stackbench"
export SB_TOOLS="$PWD/$BUILD/tests/tools"
export SB_ROOT="$PWD"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0
failed=0
failures=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_binary() {
    local bin=$1 name
    name=${bin#"$BUILD/tests/"}
    echo "== $name"
    local t0=$SECONDS
    "$bin" >"$log" 2>&1
    local rc=$?
    cat "$log"
    echo "   ($name: $((SECONDS - t0)) s)"
    local p f
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^FAIL ' "$log")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        failed=$((failed + 1))
        failures+=("$name (exit $rc)")
    fi
    while IFS= read -r l; do failures+=("$name: ${l#FAIL }"); done < <(grep '^FAIL ' "$log")
}

if [ "${FUZZ_ONLY:-0}" != 1 ]; then
    for bin in "$BUILD"/tests/unit/test_* "$BUILD"/tests/integration/test_*; do
        [ -x "$bin" ] && [ "${bin%.[od]}" = "$bin" ] || continue
        run_binary "$bin"
    done
fi

# The peers' own test suites (go test, cargo test), one line each. PEER_TESTS=0 skips them.
run_peer() {
    local name=$1 dir=$2
    shift 2
    echo "== peers/$name ($*)"
    local t0=$SECONDS
    if (cd "$dir" && "$@") >"$log" 2>&1; then
        echo "ok   peers_$name ($((SECONDS - t0)) s)"
        passed=$((passed + 1))
    else
        tail -n 40 "$log"
        echo "FAIL peers_$name"
        failed=$((failed + 1))
        failures+=("peers/$name")
    fi
}
if [ "${FUZZ_ONLY:-0}" != 1 ] && [ "${PEER_TESTS:-1}" != 0 ]; then
    GO=$(command -v go || echo /usr/local/go/bin/go)
    CARGO=$(command -v cargo || echo "$HOME/.cargo/bin/cargo")
    # Inside `stackbench pg`: a throwaway PostgreSQL whose URL is in STACKBENCH_PG_URL, so that
    # the peers' sql tests run against a real database. STACKBENCH_PG_REQUIRED=1 turns the Go
    # tests' skip without a database into a failure; the Rust ones are #[ignore]d without it,
    # hence --include-ignored (and they fail without the URL). real_restart also needs commands
    # to stop and start the database, which `stackbench pg` does not give: it is left out here.
    run_peer go peers/go env STACKBENCH_PG_REQUIRED=1 "$STACKBENCH" pg -- "$GO" test -count=1 ./...
    run_peer rust peers/rust "$STACKBENCH" pg -- "$CARGO" test --profile test-release --locked --quiet \
        -- --include-ignored --skip real_restart
fi

# Fuzzing: each target runs from its kept corpus (tests/fuzz/corpus/NAME) for FUZZ_SECONDS;
# new inputs it finds go to a scratch folder, not into the repo.
if [ "$FUZZ_SECONDS" != 0 ]; then
    if command -v clang >/dev/null 2>&1; then
        artifacts="$BUILD/fuzz-artifacts"
        mkdir -p "$artifacts"
        make -s fuzz-build >/dev/null || { failed=$((failed + 1)); failures+=("fuzz build"); }
        for bin in build/fuzz/fuzz_*; do
            [ -x "$bin" ] || continue
            name=$(basename "$bin")
            scratch=$(mktemp -d)
            echo "== fuzz/$name (${FUZZ_SECONDS}s)"
            if "$bin" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 \
                    -artifact_prefix="$artifacts/" "$scratch" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
                echo "ok   $name"
                passed=$((passed + 1))
            else
                tail -n 40 "$log"
                echo "FAIL $name (the input that failed is kept in $artifacts)"
                failed=$((failed + 1))
                failures+=("fuzz/$name")
            fi
            rm -rf "$scratch"
        done
    else
        echo "== fuzz: clang not found, skipped (scripts/install.sh installs it)"
    fi
fi

if [ ${#failures[@]} -gt 0 ]; then
    echo
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
