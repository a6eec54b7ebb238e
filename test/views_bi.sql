-- BI views: backordered_skus, sla_status, order_status_summary, hold_aging; every view
-- column commented, index paths for every big table, read-only use.
-- Europe/Berlin is UTC+1 in this period: the local day of 2024-03-01 starts 2024-02-29 23:00 UTC.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET TimeZone = 'UTC';
SELECT plan(13);

INSERT INTO backorder.client (client_id, sla_hours) VALUES ('vbi_c1', 24), ('vbi_c2', 24);
INSERT INTO backorder.client_sla (client_id, time_zone, cutoff, promise, at_risk_margin)
VALUES ('vbi_c1', 'Europe/Berlin', '14:00', 'same_day', '2 hours');
INSERT INTO backorder.location (location_id, priority) VALUES ('vbi_w1', 1);
INSERT INTO backorder.sku (client_id, sku) VALUES
    ('vbi_c1', 'R'), ('vbi_c1', 'X'), ('vbi_c1', 'Y'), ('vbi_c1', 'Z'), ('vbi_c2', 'A');
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at)
VALUES ('vbi_c1', 'X', 'vbi_w1', 4, '2024-03-10'), ('vbi_c1', 'X', 'vbi_w1', 1, '2024-03-15');

-- place(client, order, sku, qty): one order of one line, at backorder.now()
CREATE FUNCTION pg_temp.place(p_client text, p_order text, p_sku text, p_qty int) RETURNS text
LANGUAGE sql AS $$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, location_id)
               VALUES (p_client, p_order, 'vbi_w1') RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT client_id, order_id, 1, p_sku, p_qty FROM o RETURNING order_id
$$;

SET backorder.now = '2024-02-10 09:00+00';
SELECT pg_temp.place('vbi_c1', 'H0', 'Y', 1);
SELECT backorder.receive('vbi_c1', 'R', 'vbi_w1', 10);
SET backorder.now = '2024-02-20 09:00+00';
SELECT pg_temp.place('vbi_c1', 'H2', 'Y', 1);
SET backorder.now = '2024-02-27 09:00+00';
SELECT pg_temp.place('vbi_c1', 'H3', 'Y', 1);
SET backorder.now = '2024-02-28 09:00+00';
SELECT backorder.receive('vbi_c2', 'A', 'vbi_w1', 1);
SELECT pg_temp.place('vbi_c2', 'B1', 'A', 1);
SET backorder.now = '2024-02-28 10:00+00';
SELECT pg_temp.place('vbi_c1', 'S0', 'R', 1);
SELECT backorder.ship_order('vbi_c1', 'S0');
SET backorder.now = '2024-02-29 09:00+00';
SELECT backorder.receive('vbi_c1', 'X', 'vbi_w1', 1);
SELECT pg_temp.place('vbi_c1', 'H4', 'X', 3);
SET backorder.now = '2024-03-01 09:00+00';
SELECT pg_temp.place('vbi_c1', 'H1', 'X', 2);
SELECT pg_temp.place('vbi_c1', 'S1', 'R', 1);
SELECT pg_temp.place('vbi_c1', 'S3', 'R', 1);
SELECT pg_temp.place('vbi_c1', 'C1', 'Z', 1);
SET backorder.now = '2024-03-01 10:00+00';
SELECT backorder.ship_order('vbi_c1', 'S3');
SET backorder.now = '2024-03-01 12:00+00';
SELECT backorder.cancel_order('vbi_c1', 'C1');
SET backorder.now = '2024-03-01 13:30+00';
SELECT pg_temp.place('vbi_c1', 'S2', 'R', 1);

SET backorder.now = '2024-03-01 21:30+00';

SELECT results_eq(
    $$SELECT client_id, order_id, status, state, sla_due_at, time_left, promise
        FROM backorder.sla_status WHERE client_id IN ('vbi_c1', 'vbi_c2') ORDER BY client_id, order_id$$,
    $$VALUES ('vbi_c1'::text, 'H0'::text, 'needs_review'::text, 'excluded'::text, NULL::timestamptz, NULL::interval, 'same_day'::text),
             ('vbi_c1', 'H1', 'needs_review', 'excluded', NULL, NULL, 'same_day'),
             ('vbi_c1', 'H2', 'needs_review', 'excluded', NULL, NULL, 'same_day'),
             ('vbi_c1', 'H3', 'needs_review', 'excluded', NULL, NULL, 'same_day'),
             ('vbi_c1', 'H4', 'needs_review', 'excluded', NULL, NULL, 'same_day'),
             ('vbi_c1', 'S1', 'ready', 'at_risk', '2024-03-01 23:00+00', '01:30:00', 'same_day'),
             ('vbi_c1', 'S2', 'ready', 'on_time', '2024-03-04 23:00+00', '3 days 01:30:00', 'same_day'),
             ('vbi_c2', 'B1', 'ready', 'breached', '2024-02-29 09:00+00', '-36:30:00', 'hours')$$,
    'sla_status: held orders excluded; at_risk within the 2-hour margin; breached past due (negative time left)');
UPDATE backorder.client_sla SET at_risk_margin = '1 hour' WHERE client_id = 'vbi_c1';
SELECT is((SELECT state FROM backorder.sla_status WHERE client_id = 'vbi_c1' AND order_id = 'S1'), 'on_time',
    'a 1-hour margin: 90 minutes left is on_time');
UPDATE backorder.client_sla SET at_risk_margin = '2 hours' WHERE client_id = 'vbi_c1';

SELECT results_eq(
    $$SELECT sku, units_short, lines_waiting, orders_waiting, oldest_waiting_since, oldest_wait,
             on_hand, allocated, inbound_units, next_arrival, uncovered_units
        FROM backorder.backordered_skus WHERE client_id = 'vbi_c1' ORDER BY sku$$,
    $$VALUES ('X'::text, 4::bigint, 2::bigint, 2::bigint, '2024-02-29 09:00+00'::timestamptz, '1 day 12:30:00'::interval,
              1::bigint, 1::bigint, 5::numeric, '2024-03-10'::date, 0::numeric),
             ('Y', 3, 3, 3, '2024-02-10 09:00+00', '20 days 12:30:00', 0, 0, 0, NULL, 3)$$,
    'backordered_skus: short units, lines, orders, oldest wait, stock, inbound, next arrival, what no PO covers');

SELECT results_eq(
    $$SELECT client_id, status, period, period_start, orders, lines, units, units_allocated, units_short, oldest_placed_at
        FROM backorder.order_status_summary WHERE client_id IN ('vbi_c1', 'vbi_c2') ORDER BY client_id, period, status$$,
    $$VALUES ('vbi_c1'::text, 'needs_review'::text, 'open'::text, NULL::timestamptz, 5::bigint, 5::numeric, 8::numeric, 1::numeric, 7::numeric, '2024-02-10 09:00+00'::timestamptz),
             ('vbi_c1', 'ready', 'open', NULL, 2, 2, 2, 2, 0, '2024-03-01 09:00+00'),
             ('vbi_c1', 'cancelled', 'today', '2024-02-29 23:00+00', 1, 1, 1, 0, 0, '2024-03-01 09:00+00'),
             ('vbi_c1', 'shipped', 'today', '2024-02-29 23:00+00', 1, 1, 1, 0, 0, '2024-03-01 09:00+00'),
             ('vbi_c2', 'ready', 'open', NULL, 1, 1, 1, 1, 0, '2024-02-28 09:00+00')$$,
    'order_status_summary: open orders per status; shipped and cancelled since the client''s local midnight (S0, shipped the day before, is not counted)');

SELECT results_eq(
    $$SELECT client_id, bucket_no, bucket, from_days, to_days, orders, units_short, oldest_held_since
        FROM backorder.hold_aging WHERE client_id IN ('vbi_c1', 'vbi_c2') ORDER BY client_id, bucket_no$$,
    $$VALUES ('vbi_c1'::text, 1, '0-1 days'::text, 0, 1, 1::bigint, 2::numeric, '2024-03-01 09:00+00'::timestamptz),
             ('vbi_c1', 2, '1-3 days', 1, 3, 1, 2, '2024-02-29 09:00+00'),
             ('vbi_c1', 3, '3-7 days', 3, 7, 1, 1, '2024-02-27 09:00+00'),
             ('vbi_c1', 4, '7-14 days', 7, 14, 1, 1, '2024-02-20 09:00+00'),
             ('vbi_c1', 5, '14+ days', 14, NULL, 1, 1, '2024-02-10 09:00+00')$$,
    'hold_aging: one held order per bucket; clients without held orders have no rows');

-- bucket edges: exactly 1 day held is in 1-3
SET backorder.now = '2024-03-02 09:00+00';
SELECT results_eq(
    $$SELECT bucket_no, orders FROM backorder.hold_aging WHERE client_id = 'vbi_c1' AND bucket_no <= 2 ORDER BY bucket_no$$,
    $$VALUES (1, 0::bigint), (2, 2::bigint)$$,
    'held exactly 1 day: bucket 1-3 (lower bounds inclusive)');

-- Every column of these views has a comment, and so has every view
SELECT is_empty(
    $$SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
       WHERE c.oid IN ('backorder.needs_review'::regclass, 'backorder.waiting_lines'::regclass,
                       'backorder.backordered_skus'::regclass, 'backorder.sla_status'::regclass,
                       'backorder.order_status_summary'::regclass, 'backorder.hold_aging'::regclass)
         AND col_description(c.oid, a.attnum) IS NULL$$,
    'every column of the BI views has a comment');
SELECT is_empty(
    $$SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'backorder' AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL$$,
    'every table and view of the schema has a comment');

-- Cheap: with sequential scans priced out, no view reads a big table sequentially (an
-- index path exists for each).  Small configuration tables may be scanned.
CREATE FUNCTION pg_temp.seq_scanned(p_view text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    line text;
    found text[] := '{}';
BEGIN
    SET LOCAL enable_seqscan = off;
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT * FROM ' || p_view LOOP
        IF line ~ 'Seq Scan on (orders|order_line|order_hold|order_event|stock_movement|stock|inbound)\M' THEN
            found := found || substring(line FROM 'Seq Scan on (\w+)');
        END IF;
    END LOOP;
    RETURN found;
END
$$;
SELECT is(pg_temp.seq_scanned('backorder.needs_review') || pg_temp.seq_scanned('backorder.waiting_lines')
          || pg_temp.seq_scanned('backorder.backordered_skus') || pg_temp.seq_scanned('backorder.sla_status')
          || pg_temp.seq_scanned('backorder.order_status_summary') || pg_temp.seq_scanned('backorder.hold_aging'),
    '{}'::text[], 'the views read orders, lines, holds, stock and inbound through indexes');
SELECT is(pg_temp.seq_scanned('(SELECT * FROM backorder.needs_review WHERE client_id = ''vbi_c1'') x'), '{}'::text[],
    'needs_review for one client: index scans too');

-- Read-only use (hot standby): every view answers in a read-only transaction
SET TRANSACTION READ ONLY;
SELECT lives_ok($$SELECT * FROM backorder.backordered_skus, backorder.sla_status LIMIT 1$$, 'backordered_skus, sla_status read-only');
SELECT lives_ok($$SELECT * FROM backorder.order_status_summary, backorder.hold_aging LIMIT 1$$, 'order_status_summary, hold_aging read-only');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
