-- bench/release/verify_ours.sql — verify.sql for a backlog the reference does not have
-- (n > BENCH_REF_MAX_N): pg_backorder's receipt alone.  Prints: ours_ready - - ours_violations.
\set ON_ERROR_STOP 1
BEGIN;
SELECT backorder.receive('bench', 'HOT', 'w1', :k, 'bench check');
SET CONSTRAINTS ALL IMMEDIATE;
SELECT count(*) FILTER (WHERE status = 'ready'), '-', '-', (SELECT count(*) FROM backorder.check_invariants())
  FROM backorder.orders;
ROLLBACK;
