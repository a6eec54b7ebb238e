#!/usr/bin/env bash
# bench/security/run.sh — what the SLA clock, the views' indexes and row-level security cost
# the engine (issue 6).  Runs against the server in PGHOST/PGPORT/PGUSER (a superuser; use a
# throwaway cluster with synchronous_commit=off, as test/run makes), in a database of its own.
#
# The workload (order_cycle.sql, pgbench, 1 client): receive 1 unit, place an order for it
# (ready at intake), ship it.  Variants, alternated run by run:
#   superuser       RLS bypassed; SLA trigger and orders_open/orders_closed indexes in place
#   no_sla          superuser, SLA trigger disabled and the two indexes dropped (before issue 6)
#   app_setting     a backorder_app member bound by SET backorder.client_id
#   app_role        a backorder_app member bound by client_role
# Prints the median latency of each (ms per order cycle) over BENCH_REPS runs of BENCH_SECONDS.
set -euo pipefail
cd "$(dirname "$0")"
REPS=${BENCH_REPS:-3} SECS=${BENCH_SECONDS:-10}
db=backorder_bench_security
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

setup() {   # $1 database
  dropdb --if-exists "$1"; createdb "$1"
  q -d "$1" <<'SQL'
CREATE EXTENSION pg_backorder;
INSERT INTO backorder.client (client_id) SELECT 'c' || i FROM generate_series(1, 20) i;
INSERT INTO backorder.client_sla (client_id, time_zone) VALUES ('c1', 'Europe/Berlin');
INSERT INTO backorder.location (location_id, priority) VALUES ('w1', 1);
INSERT INTO backorder.sku (client_id, sku) SELECT 'c' || i, 'S' || j FROM generate_series(1, 20) i, generate_series(1, 500) j;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_security_app') THEN CREATE ROLE bench_security_app LOGIN IN ROLE backorder_app; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_security_c1') THEN CREATE ROLE bench_security_c1 LOGIN IN ROLE backorder_app; END IF;
END $$;
INSERT INTO backorder.client_role (client_id, role_name) VALUES ('c1', 'bench_security_c1');
SQL
}
setup "$db"; setup "${db}_no_sla"
q -d "${db}_no_sla" <<'SQL'
ALTER TABLE backorder.orders DISABLE TRIGGER sla_clock;
DROP INDEX backorder.orders_open, backorder.orders_closed;
SQL

run() {   # $1 variant -> latency in ms
  local out
  case $1 in
    superuser)   out=$(pgbench -n -U "$PGUSER" -d "$db" -f order_cycle.sql -c 1 -T "$SECS" 2>&1) ;;
    no_sla)      out=$(pgbench -n -U "$PGUSER" -d "${db}_no_sla" -f order_cycle.sql -c 1 -T "$SECS" 2>&1) ;;
    app_setting) out=$(PGOPTIONS='-c backorder.client_id=c1' pgbench -n -U bench_security_app -d "$db" -f order_cycle.sql -c 1 -T "$SECS" 2>&1) ;;
    app_role)    out=$(pgbench -n -U bench_security_c1 -d "$db" -f order_cycle.sql -c 1 -T "$SECS" 2>&1) ;;
  esac
  echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p'
}
declare -A lat
variants=(no_sla superuser app_setting app_role)
for ((r = 0; r < REPS; r++)); do
  for v in "${variants[@]}"; do lat[$v]+="$(run "$v") "; done
done
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
base=$(echo "${lat[no_sla]}" | median)
printf '%-12s %10s %8s   %s\n' variant "ms/cycle" "x no_sla" "runs"
for v in "${variants[@]}"; do
  m=$(echo "${lat[$v]}" | median)
  printf '%-12s %10s %8.2f   %s\n' "$v" "$m" "$(echo "$m / $base" | bc -l)" "${lat[$v]}"
done
dropdb "$db"; dropdb "${db}_no_sla"
