#!/usr/bin/env bash
# The full matrix, longer than the default run, with its table appended (date, commit, machine)
# to bench/HISTORY.md so that the figures can be followed over time.
#   bench/matrix.sh [DURATION] [WARMUP]     (default 30s, 5s)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-30s}
WARM=${2:-5s}
make -s stackbench peers
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
./stackbench run --duration "$DUR" --warmup "$WARM" --out "$out"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | head -n 1)
{
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ), commit $commit${dirty:+ (with local changes)}"
    echo
    tail -n +3 "$out/results.md"
} >>bench/HISTORY.md
echo "appended to bench/HISTORY.md"
