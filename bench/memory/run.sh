#!/usr/bin/env bash
# Memory check (mem.py): one backend, 50,000 cycles = 100,000 intake and release operations
# (plus ships, cancels, holds, counts); RSS and memory contexts before/after.
#   bash bench/memory/run.sh                  # own throwaway cluster, full size
#   bash bench/memory/run.sh --cycles 5000    # short form
#   BENCH_USE_CLUSTER=1 bash bench/memory/run.sh ...   # against PGHOST/PGPORT (fresh database)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/lib/cluster.sh
if [ "${BENCH_USE_CLUSTER:-0}" != 1 ]; then
  ensure_packages
  [ "${BENCH_NO_BUILD:-0}" = 1 ] || build_and_install   # BENCH_NO_BUILD=1: use what is installed
  start_cluster
fi
/usr/bin/python3 -c 'import psycopg' 2>/dev/null ||
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-psycopg >/dev/null
psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS bench_memory' -c 'CREATE DATABASE bench_memory'
/usr/bin/python3 bench/memory/mem.py --db bench_memory "$@"
