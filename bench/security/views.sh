#!/usr/bin/env bash
# bench/security/views.sh — how long the BI views take on a large database (issue 6).
# Runs against the server in PGHOST/PGPORT/PGUSER (a superuser), in a database of its own.
# Data (written directly in replica mode, not through the engine): 20 clients x 500 SKUs,
# 200,000 orders of 2 lines (185,000 shipped, 5,000 ready, 10,000 held with one waiting
# line each), open inbound for a third of the SKUs.  Prints, per view, the best of 15 runs of
# SELECT * for a superuser (every client) and for a backorder_reader bound to one client.
# BENCH_JIT=off (default) runs with jit = off, as recommended for sessions that read the views
# (their plans are costed for every client's rows, so JIT compiles ~70 ms of code for a
# 1 ms query); BENCH_JIT=on measures PostgreSQL's default.
set -euo pipefail
db=backorder_bench_views
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
dropdb --if-exists "$db"; createdb "$db"
q <<'SQL'
CREATE EXTENSION pg_backorder;
SET session_replication_role = replica;
INSERT INTO backorder.client (client_id) SELECT 'c' || i FROM generate_series(1, 20) i;
INSERT INTO backorder.client_sla (client_id, time_zone) SELECT 'c' || i, 'Europe/Berlin' FROM generate_series(1, 10) i;
INSERT INTO backorder.location (location_id, priority) VALUES ('w1', 1), ('w2', 2);
INSERT INTO backorder.sku (client_id, sku) SELECT 'c' || i, 'S' || j FROM generate_series(1, 20) i, generate_series(1, 500) j;
INSERT INTO backorder.stock (client_id, sku, location_id, on_hand, allocated) SELECT client_id, sku, 'w1', 10, 10 FROM backorder.sku;
INSERT INTO backorder.orders (client_id, order_id, placed_at, status, held_since, ready_at, shipped_at, sla_due_at)
SELECT 'c' || (n % 20 + 1), 'O' || n, timestamptz '2024-01-01' + n * interval '30 seconds',
       CASE WHEN n > 190000 THEN 'needs_review' WHEN n > 185000 THEN 'ready' ELSE 'shipped' END,
       CASE WHEN n > 190000 THEN timestamptz '2024-01-01' + n * interval '30 seconds' END,
       CASE WHEN n <= 190000 THEN timestamptz '2024-01-01' + n * interval '30 seconds' END,
       CASE WHEN n <= 185000 THEN timestamptz '2024-01-01' + n * interval '30 seconds' + interval '5 hours' END,
       CASE WHEN n <= 190000 THEN timestamptz '2024-01-02' + n * interval '30 seconds' END
  FROM generate_series(1, 200000) n;
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, allocated, shipped, location_id, priority, placed_at, waiting)
SELECT o.client_id, o.order_id, k, 'S' || ((hashtext(o.order_id || k) & 511) % 500 + 1), 2,
       CASE WHEN o.status = 'ready' THEN 2 WHEN o.status = 'needs_review' AND k = 1 THEN 0 WHEN o.status = 'needs_review' THEN 2 ELSE 0 END,
       CASE WHEN o.status = 'shipped' THEN 2 ELSE 0 END, 'w1', o.priority, o.placed_at,
       o.status = 'needs_review' AND k = 1
  FROM backorder.orders o, generate_series(1, 2) k;
INSERT INTO backorder.order_hold (client_id, order_id, reason, created_at)
SELECT client_id, order_id, 'out_of_stock', held_since FROM backorder.orders WHERE status = 'needs_review';
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at)
SELECT client_id, sku, 'w1', 20, date '2024-04-01' + (hashtext(sku) & 15) FROM backorder.sku WHERE (hashtext(client_id || sku) & 3) = 0;
RESET session_replication_role;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_views_reader') THEN CREATE ROLE bench_views_reader IN ROLE backorder_reader; END IF;
END $$;
ANALYZE;
SQL
printf '%-22s %12s %8s %14s %8s\n' view "all (ms)" rows "one client" rows
for v in needs_review waiting_lines backordered_skus sla_status order_status_summary hold_aging; do
  line=$(PGOPTIONS="-c jit=${BENCH_JIT:-off}" q <<SQL
SET backorder.now = '2024-03-20 10:00+00';
CREATE FUNCTION pg_temp.best(p_sql text) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; best float8 := 1e9; n bigint;
BEGIN
  FOR i IN 1..15 LOOP
    t0 := clock_timestamp();
    EXECUTE 'SELECT count(length(x::text)) FROM (' || p_sql || ') x' INTO n;
    best := least(best, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
  RETURN format('%s %s', round(best::numeric, 1), n);
END \$\$;
GRANT EXECUTE ON FUNCTION pg_temp.best(text) TO PUBLIC;
SELECT pg_temp.best('SELECT * FROM backorder.$v');
SET ROLE bench_views_reader;
SET backorder.client_id = 'c3';
SELECT pg_temp.best('SELECT * FROM backorder.$v');
SQL
)
  printf '%-22s %12s %8s %14s %8s\n' "$v" $(echo $line)
done
[ "${KEEP:-0}" = 1 ] || dropdb "$db"
