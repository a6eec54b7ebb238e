-- replay_december.sql — December 2010 of the UCI Online Retail data (20 trading days, 1,622
-- orders, 41,513 order lines) replayed through the engine with the min/max restocking policy by
-- the demo's own code (demo/replay.sql, demo/replay_run.sql), asserting the KPIs exactly and
-- clean invariants.  The replay is deterministic: the engine's clock is pinned to the data, and
-- decisions read only the data and that clock.
--
-- Unlike the other pgTAP files this one does not run in one rolled-back transaction: the replay
-- commits step by step exactly as the demo does (intake at each commit; VACUUM between days, which
-- no transaction block allows), so it runs in a database of its own, created here and dropped at
-- the end.  Reads ../shared/data/online_retail/by-day/2010-12-*.csv (or under $BACKORDER_DATA)
-- when the test runs; pg_prove runs from the repository root.

\set by_day `echo "${BACKORDER_DATA:-../shared/data}/online_retail/by-day"`
\set have_data `ls "${BACKORDER_DATA:-../shared/data}"/online_retail/by-day/2010-12-*.csv >/dev/null 2>&1 && echo 1 || echo 0`
\if :have_data
\else
SELECT plan(1);
SELECT skip('no Online Retail data in ' || :'by_day' || ': get ../shared/data (see the README) or set BACKORDER_DATA', 1);
SELECT * FROM finish();
\quit
\endif

SET client_min_messages = warning;
SELECT current_database() AS home_db \gset
DROP DATABASE IF EXISTS pg_backorder_replay_december;
CREATE DATABASE pg_backorder_replay_december;
\connect pg_backorder_replay_december
SET client_min_messages = warning;
CREATE EXTENSION pgtap;
CREATE EXTENSION pg_backorder;

\ir ../demo/replay.sql
\copy replay.raw (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country) from program 'awk "FNR > 1" "${BACKORDER_DATA:-../shared/data}"/online_retail/by-day/2010-12-*.csv' with (format csv)
SELECT replay.prepare() AS lines \gset
\set client replay_dec
\set policy minmax
\set from 2010-12-01
\set to 2010-12-23
\ir ../demo/replay_run.sql

SELECT plan(16);

SELECT is(:'lines'::bigint, 41513::bigint, 'the filter keeps 41,513 order lines of December 2010');
SELECT results_eq($$SELECT count(*), sum(qty) FROM replay.return_src$$, $$VALUES (698::bigint, 16009::bigint)$$,
                  '698 returned lines (C invoices), 16,009 units');
SELECT is((SELECT count(*) FROM replay.daily WHERE client_id = 'replay_dec'), 20::bigint, '20 trading days replayed');

SELECT results_eq(
    $$SELECT policy, orders, lines, pct_ready_at_intake, pct_ever_held, hold_p50_days, hold_p90_days,
             hold_p99_days, pct_sla_met, mean_units_on_hand, stockout_sku_days FROM replay.kpis()$$,
    $$VALUES ('minmax'::text, 1622::bigint, 41513::bigint, 1.0::numeric, 99.0::numeric, 12.5::numeric,
              13.8::numeric, 13.9::numeric, 1.3::numeric, 63746::numeric, 41090::bigint)$$,
    'the KPI row of the min/max policy, exactly');

SELECT results_eq(
    $$SELECT status, count(*) FROM backorder.orders WHERE client_id = 'replay_dec' GROUP BY 1 ORDER BY 1$$,
    $$VALUES ('needs_review'::text, 562::bigint), ('shipped', 1060::bigint)$$,
    'at the end: 1,060 orders shipped, 562 held');
SELECT results_eq(
    $$SELECT count(*), sum(qty) FROM backorder.inbound WHERE client_id = 'replay_dec'$$,
    $$VALUES (9211::bigint, 794075::numeric)$$, 'the policy placed 9,211 inbound rows, 794,075 units');
SELECT results_eq(
    $$SELECT count(*), sum(qty) FROM backorder.inbound WHERE client_id = 'replay_dec' AND received_at IS NOT NULL$$,
    $$VALUES (6054::bigint, 408138::numeric)$$, '6,054 of them (408,138 units) received by December 23');
SELECT results_eq(
    $$SELECT kind, count(*), sum(delta) FROM backorder.stock_movement WHERE client_id = 'replay_dec' GROUP BY 1 ORDER BY 1$$,
    $$VALUES ('receipt'::text, 6054::bigint, 408138::numeric), ('return', 698, 16009), ('shipment', 23675, -198995)$$,
    'the ledger: receipts, returns, shipments');
SELECT results_eq(
    $$SELECT sum(on_hand), sum(allocated) FROM backorder.stock WHERE client_id = 'replay_dec'$$,
    $$VALUES (225152::numeric, 100707::numeric)$$, 'stock at the end: 225,152 units on hand, 100,707 allocated');
SELECT results_eq(
    $$SELECT day, held_orders, shipped, stockout_skus FROM replay.daily WHERE client_id = 'replay_dec' ORDER BY day$$,
    $$VALUES ('2010-12-01'::date, 136, 0, 1340), ('2010-12-02', 278, 0, 1588), ('2010-12-03', 351, 0, 1832),
             ('2010-12-05', 438, 1, 1992), ('2010-12-06', 546, 0, 2197), ('2010-12-07', 630, 0, 2298),
             ('2010-12-08', 752, 1, 2363), ('2010-12-09', 883, 0, 2436), ('2010-12-10', 963, 0, 2498),
             ('2010-12-12', 1007, 0, 2529), ('2010-12-13', 1077, 0, 2580), ('2010-12-14', 1168, 0, 2611),
             ('2010-12-15', 1062, 179, 2441), ('2010-12-16', 1048, 135, 2301), ('2010-12-17', 1013, 102, 2225),
             ('2010-12-19', 912, 124, 2054), ('2010-12-20', 856, 125, 1793), ('2010-12-21', 789, 122, 1581),
             ('2010-12-22', 667, 139, 1313), ('2010-12-23', 562, 132, 1118)$$,
    'held orders, shipments and stock-out SKUs at the end of each day');
SELECT results_eq(
    $$SELECT event, count(*) FROM backorder.order_event WHERE client_id = 'replay_dec' GROUP BY 1 ORDER BY 1$$,
    $$VALUES ('allocated'::text, 5562::bigint), ('held', 1605), ('placed', 1622), ('released', 1043), ('shipped', 1060)$$,
    'events by kind: every order placed once, 1,605 held, 1,043 released, 1,060 shipped');
SELECT is((SELECT count(*) FROM backorder.order_line WHERE client_id = 'replay_dec' AND waiting), 4458::bigint,
          '4,458 lines still waiting for stock on December 23');
SELECT is((SELECT min(placed_at) FROM backorder.orders WHERE client_id = 'replay_dec'),
          '2010-12-01 08:26:00+00'::timestamptz, 'the first order is placed at its InvoiceDate');
SELECT is((SELECT created_at FROM backorder.order_event WHERE client_id = 'replay_dec' AND order_id = '536365'
            ORDER BY event_id LIMIT 1), '2010-12-01 08:26:00+00'::timestamptz,
          'the engine''s clock followed the data: intake of invoice 536365 at its minute');
SELECT is((SELECT max(shipped_at) FROM backorder.orders WHERE client_id = 'replay_dec'),
          '2010-12-23 23:00:00+00'::timestamptz, 'the last shipments at 23:00 on December 23');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'check_invariants() is empty after the replay');

SELECT * FROM finish();

\connect :home_db
SET client_min_messages = warning;
DROP DATABASE pg_backorder_replay_december;
