#!/usr/bin/env bash
# The large randomized model check: 10 seeds x 10,000 steps on a throwaway cluster.
#   bash bench/model_large.sh                    # random first seed (printed)
#   bash bench/model_large.sh --first-seed 100   # reproducible; extra args go to run.py
# Against an existing cluster instead: PGHOST=... PGPORT=... test/model/run --seeds 10 --steps 10000 --jobs 2
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/cluster.sh
ensure_packages
[ "${BENCH_NO_BUILD:-0}" = 1 ] || build_and_install   # BENCH_NO_BUILD=1: use what is installed
start_cluster
jobs=$(( $(nproc) > 1 ? 2 : 1 ))
test/model/run --seeds 10 --steps 10000 --jobs "$jobs" --full-every 1000 --invariants-every 250 "$@"
