#!/usr/bin/env bash
# Mixed-concurrency bench: pgbench, 8 clients, 60 s, intake / receipts / cancels / ships /
# counts over a hot set of 6 SKUs x 2 warehouses x 2 clients (one per allocation policy).
# Passes when no pgbench client aborted (any engine error other than the documented
# "someone else got there first" 55000, which bench.try_ship/try_cancel record), there is
# no deadlock (40P01) or serialization failure (pgbench's failure count, --max-tries=1:
# nothing is retried) and check_invariants() is empty afterwards.
#
#   bash bench/mixed/run.sh                    # own throwaway cluster, 8 clients, 60 s
#   bash bench/mixed/run.sh -T 15              # CI short form; other args go to pgbench
#   BENCH_USE_CLUSTER=1 bash bench/mixed/run.sh -T 15   # against PGHOST/PGPORT (a fresh db)
#   BENCH_AVOID_KNOWN_BUGS=1 ...   # two-SKU receipts for the reserve client only (as before B7's fix)
# Last line: 'N passed, N failed' (one check each: no aborted client, no failure, invariants).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=bench/mixed
. test/lib/cluster.sh
if [ "${BENCH_USE_CLUSTER:-0}" != 1 ]; then
  ensure_packages
  [ "${BENCH_NO_BUILD:-0}" = 1 ] || build_and_install   # BENCH_NO_BUILD=1: use what is installed
  start_cluster "max_connections = 40"
fi
PGBENCH=$("$PG_CONFIG" --bindir)/pgbench
PSQL=$("$PG_CONFIG" --bindir)/psql
db=bench_mixed
out=$(mktemp -d)
trap 'rm -rf "$out"; [ "${BENCH_USE_CLUSTER:-0}" = 1 ] || stop_cluster' EXIT

"$PSQL" -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'CREATE EXTENSION pg_backorder' -f "$here/setup.sql"

r2=2; [ "${BENCH_AVOID_KNOWN_BUGS:-0}" = 1 ] && r2=1
echo "== pgbench: 8 clients, 60 s unless overridden: $* (two-SKU receipts for $r2 client(s))"
rc=0
# Expected NOTICEs ("already shipped") would bury pgbench's report: warnings and up only.
PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" "$PGBENCH" -n -c 8 -j 2 -T 60 -P 10 --max-tries=1 --failures-detailed -D receipt2_clients=$r2 \
  -f "$here/intake.sql@40" -f "$here/receipt.sql@16" -f "$here/receipt2.sql@4" \
  -f "$here/ship.sql@20" -f "$here/cancel.sql@10" -f "$here/count.sql@10" "$@" "$db" \
  >"$out/pgbench.log" 2>&1 || rc=$?
grep -vE '^progress|NOTICE:' "$out/pgbench.log" | head -60
grep -E '^progress' "$out/pgbench.log" || true

passed=0 failed=0
check() { if [ "$2" = ok ]; then passed=$((passed + 1)); echo "ok   - $1"; else failed=$((failed + 1)); echo "FAIL - $1: $2"; fi; }

aborted=$(grep -cE 'aborted in command|client [0-9]+ aborted' "$out/pgbench.log" || true)
[ "$rc" -eq 0 ] && [ "$aborted" -eq 0 ] && check "no client aborted (no unexpected error)" ok \
  || check "no client aborted (no unexpected error)" "pgbench exit $rc, $aborted abort(s); first: $(grep -m1 -E 'ERROR|aborted' "$out/pgbench.log" || true)"
fails=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$out/pgbench.log")
dl=$(sed -nE 's/^number of deadlock failures: ([0-9]+).*/\1/p' "$out/pgbench.log")
ser=$(sed -nE 's/^number of serialization failures: ([0-9]+).*/\1/p' "$out/pgbench.log")
[ "${fails:-x}" = 0 ] && check "no deadlock or serialization failure" ok \
  || check "no deadlock or serialization failure" "failed ${fails:-?} (deadlocks ${dl:-?}, serialization ${ser:-?})"

viol=$("$PSQL" -X -At -d "$db" -c 'SELECT count(*) FROM backorder.check_invariants()')
[ "$viol" = 0 ] && check "check_invariants() empty" ok \
  || { check "check_invariants() empty" "$viol violation(s)"; "$PSQL" -X -d "$db" -c 'SELECT * FROM backorder.check_invariants() LIMIT 20'; }

"$PSQL" -X -d "$db" -c "SELECT client_id, status, count(*) FROM backorder.orders GROUP BY 1, 2 ORDER BY 1, 2" \
  -c "SELECT op, outcome, count(*) FROM bench.outcome GROUP BY 1, 2 ORDER BY 1, 2" \
  -c "SELECT count(*) AS movements, sum(CASE WHEN kind = 'shipment' THEN 1 ELSE 0 END) AS shipments FROM backorder.stock_movement" \
  -c "SELECT event, count(*) FROM backorder.order_event GROUP BY 1 ORDER BY 2 DESC"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
