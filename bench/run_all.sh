#!/usr/bin/env bash
# Every side-by-side benchmark, one after the other. Pass a duration to make them longer.
set -euo pipefail
cd "$(dirname "$0")/.."
bench/echo_ceiling.sh "${1:-5s}"
echo
bench/load_vs_wrk.sh "${2:-5}"
