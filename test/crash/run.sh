#!/usr/bin/env bash
# Crash safety: run the mixed load, SIGKILL the postmaster (and every server process, as a
# machine crash would) mid-run, restart, and check that check_invariants() is empty and every
# order, shipment, cancellation and receipt the clients saw committed is there and consistent.
# Repeats for several crash cycles; the load then resumes on the recovered database.
#
#   bash test/crash/run.sh                 # CI short form: 1 crash, 4 clients, ~8 s of load
#   bash test/crash/run.sh --long          # 3 crashes, 8 clients, ~25 s of load each
#   CRASH_SEED=7 bash test/crash/run.sh    # another random load
# Always uses its own throwaway cluster (durable settings: fsync, synchronous_commit and
# full_page_writes on), so it never kills anyone else's server.  The extension must be
# installed (make install; test/run does it).  Last line: 'N passed, N failed'.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/lib/cluster.sh

cycles=1 clients=4 seconds=8
[ "${1:-}" = --long ] && { cycles=3 clients=8 seconds=25; }

if ! /usr/bin/python3 -c 'import psycopg' 2>/dev/null; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-psycopg >/dev/null \
    || { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-psycopg >/dev/null; }
fi
BACKORDER_PGPORT=${CRASH_PGPORT:-54339} start_cluster "fsync = on" "synchronous_commit = on" "full_page_writes = on"
PY=/usr/bin/python3
drv=test/crash/crash.py
log=$PGTMP/committed.jsonl
: >"$log"
$PY $drv setup --db postgres

passed=0 failed=0
check() { if [ "$2" = ok ]; then passed=$((passed + 1)); echo "ok   - $1"; else failed=$((failed + 1)); echo "FAIL - $1"; fi; }

# every server process of our cluster: the postmaster and its children
server_pids() {
  local pm=$1 p
  echo "$pm"
  for p in /proc/[0-9]*; do
    [ "$(awk '/^PPid:/ {print $2}' "$p/status" 2>/dev/null)" = "$pm" ] && echo "${p#/proc/}"
  done
  return 0
}

for round in $(seq 1 "$cycles"); do
  # kill somewhere in the second half of the load
  kill_after=$(awk -v s="$seconds" -v r="$RANDOM" 'BEGIN { printf "%.1f", s * (0.5 + 0.4 * r / 32767) }')
  $PY $drv load --db postgres --log "$log" --clients "$clients" --seconds $((seconds + 30)) --round "$round" &
  loader=$!
  sleep "$kill_after"
  pm=$(head -1 "$PGTMP/data/postmaster.pid")
  pids=$(server_pids "$pm" | tr '\n' ' ')
  echo "== round $round: SIGKILL postmaster $pm and its $(($(wc -w <<<"$pids") - 1)) children after ${kill_after} s of load"
  kill -KILL $pids 2>/dev/null || true
  wait "$loader" || true
  for _ in $(seq 50); do kill -0 "$pm" 2>/dev/null || break; sleep 0.1; done
  if _as_pg pg_ctl -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 120 start >/dev/null; then
    check "round $round: server restarts (crash recovery)" ok
  else
    check "round $round: server restarts (crash recovery)" fail; tail -20 "$PGTMP/server.log"; break
  fi
  grep -E 'database system was interrupted|redo (starts|done)' "$PGTMP/server.log" | tail -2 | sed 's/^/   /'
  if $PY $drv verify --db postgres --log "$log"; then
    check "round $round: invariants hold, every acknowledged commit is present and consistent" ok
  else
    check "round $round: invariants hold, every acknowledged commit is present and consistent" fail
  fi
done

# The recovered database keeps working: a short clean load, then the same checks.
$PY $drv load --db postgres --log "$log" --clients "$clients" --seconds 3 --round 99
if $PY $drv verify --db postgres --log "$log"; then
  check "after recovery: the engine keeps working and stays consistent" ok
else
  check "after recovery: the engine keeps working and stays consistent" fail
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
