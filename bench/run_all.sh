#!/usr/bin/env bash
# Every side-by-side benchmark, one after the other. Pass durations to make them longer.
#   bench/run_all.sh [ECHO_DURATION] [GENERATOR_SECONDS] [CSV_DURATION] [SQL_DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
bench/echo_ceiling.sh "${1:-5s}"
echo
bench/load_vs_wrk.sh "${2:-5}"
echo
bench/grpc_load.sh "${2:-5}"
echo
bench/csv_rows.sh "${3:-10s}"
echo
bench/sql.sh "${4:-10s}"
echo
bench/framing.sh
