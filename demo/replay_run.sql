-- demo/replay_run.sql — one replay run, as demo/replay and test/replay_december.sql issue it.
-- psql variables: client, policy, from, to.  Needs demo/replay.sql loaded and replay.prepare() done.
-- One CALL per trading day: each day commits step by step (intake at each commit, as an app's
-- transactions would), the backend publishes its statistics between days so autovacuum sees the
-- dead rows, and the much-updated small tables are vacuumed between days (order_line weekly).
-- psql variable vacuum (default on): off leaves the VACUUMs to a replay running beside this one
-- (the tables hold both replays' rows: one VACUUM a day serves both); SKIP_LOCKED: a table the
-- other replay is vacuuming right now is done by that VACUUM.
-- A progress line is printed as each month begins.
\if :{?vacuum}
\else
\set vacuum on
\endif
CALL replay.start(:'client', :'policy', :'from', :'to');
SELECT CASE WHEN date_trunc('month', t.d) IS DISTINCT FROM date_trunc('month', lag(t.d) OVER (ORDER BY t.n))
            THEN format('CALL replay.progress(%L, %L)', :'client', t.d) END,
       format('CALL replay.day(%L, %L)', :'client', t.d),
       CASE WHEN :'vacuum' = 'on' THEN 'VACUUM (SKIP_LOCKED) backorder.stock' END,
       CASE WHEN :'vacuum' = 'on' AND t.n % 6 = 0 THEN 'VACUUM (SKIP_LOCKED) backorder.orders, backorder.order_line, backorder.order_hold, backorder.inbound' END
  FROM replay.days(:'from', :'to') WITH ORDINALITY AS t (d, n) \gexec
CALL replay.finish(:'client');
