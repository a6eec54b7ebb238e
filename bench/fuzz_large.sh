#!/usr/bin/env bash
# The differential fuzzer (test/fuzz/differential.py): 60 seeds x 60 transactions, each run
# plainly and with rolled-back segments (savepoints, exception blocks) interleaved; both must end
# in the same state, with check_invariants() empty after every commit.  Throwaway cluster.
#   bash bench/fuzz_large.sh                       # seeds 1-60
#   bash bench/fuzz_large.sh --first-seed 500      # extra args go to differential.py
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/cluster.sh
ensure_packages
[ "${BENCH_NO_BUILD:-0}" = 1 ] || build_and_install   # BENCH_NO_BUILD=1: use what is installed
start_cluster
python3 test/fuzz/differential.py --seeds 60 --txns 60 "$@"
