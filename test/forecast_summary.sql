-- forecast_summary.sql — backorder.demand_summary stays equal to the raw definition of demand
-- (lines of orders not cancelled, backordered units in, by the day of placed_at) through intake,
-- backorders, cancels, qty / SKU / placed_at edits, deleted lines, shipping, savepoints and
-- unknown SKUs; its time zone; and stockout_risk giving the same rows from the summary as from
-- the order lines.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET TimeZone = 'UTC';
SET backorder.now = '2024-03-01 09:00+00';
SELECT plan(36);

CREATE FUNCTION pg_temp.place(p_order text, p_placed_at timestamptz, p_lines text)
RETURNS void LANGUAGE sql AS $$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('fs', p_order, p_placed_at)
               RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT o.client_id, o.order_id, x.n, split_part(x.l, ':', 1), split_part(x.l, ':', 2)::int
      FROM o, unnest(string_to_array(p_lines, ',')) WITH ORDINALITY x(l, n)
$$;
-- the summary of one SKU as 'location day units', one per day with demand
CREATE FUNCTION pg_temp.summary(p_sku text) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT format('%s %s %s', d.location_id, d.block_start + (u.i::int - 1), u.units)
      FROM backorder.demand_summary d, unnest(d.units) WITH ORDINALITY u(units, i)
     WHERE d.client_id = 'fs' AND d.sku = p_sku AND u.units <> 0
     ORDER BY d.location_id, d.block_start, u.i
$$;
CREATE FUNCTION pg_temp.summary_mismatches() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM backorder.check_invariants() WHERE invariant = 8
$$;

\o /dev/null
INSERT INTO backorder.client (client_id) VALUES ('fs');
INSERT INTO backorder.location (location_id, priority) VALUES ('fs_w1', 1), ('fs_w2', 2);
\o /dev/null
INSERT INTO backorder.sku (client_id, sku) VALUES ('fs', 'A'), ('fs', 'B'), ('fs', 'C'), ('fs', 'D');
\o
SELECT backorder.receive('fs', 'A', 'fs_w1', 10);
\o

\o /dev/null
SELECT pg_temp.place('o1', '2024-03-01 10:00+00', 'A:3');
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('A')$$, ARRAY['fs_w1 2024-03-01 3'],
                  'intake adds a placed line''s units on the day of placed_at, at its warehouse');
\o /dev/null
SELECT pg_temp.place('o2', '2024-03-01 11:00+00', 'A:20');
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('A')$$, ARRAY['fs_w1 2024-03-01 23'],
                  'a backordered line counts in full (7 allocated, 13 waiting)');
\o /dev/null
SELECT pg_temp.place('o3', '2024-03-02 08:00+00', 'B:4');
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('B')$$, ARRAY['fs_w1 2024-03-02 4'],
                  'a line waiting for a SKU never in stock counts');
\o /dev/null
SELECT backorder.cancel_order('fs', 'o2');
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('A')$$, ARRAY['fs_w1 2024-03-01 3'],
                  'cancel_order takes the order''s units out');

\o /dev/null
UPDATE backorder.order_line SET qty = 5 WHERE client_id = 'fs' AND order_id = 'o1';
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('A')$$, ARRAY['fs_w1 2024-03-01 5'],
                  'a qty edit moves the difference');
-- 2024-03-01 is in the 32-day block 2024-02-04 .. 03-06; 2024-03-10 in the next one
\o /dev/null
UPDATE backorder.orders SET placed_at = '2024-03-10 10:00+00' WHERE client_id = 'fs' AND order_id = 'o1';
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('A')$$, ARRAY['fs_w1 2024-03-10 5'],
                  'a placed_at edit moves the units to the new day');
SELECT is((SELECT array_agg(block_start ORDER BY block_start) FROM backorder.demand_summary
            WHERE client_id = 'fs' AND sku = 'A'), ARRAY['2024-03-07'::date],
          'the emptied block row is deleted: A has one row, the block from 2024-03-07');
\o /dev/null
UPDATE backorder.order_line SET sku = 'B' WHERE client_id = 'fs' AND order_id = 'o1';
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('A') UNION ALL SELECT * FROM pg_temp.summary('B')$$,
                  ARRAY['fs_w1 2024-03-02 4', 'fs_w1 2024-03-10 5'],
                  'a SKU edit moves the units from A to B');

\o /dev/null
SELECT pg_temp.place('o4', '2024-03-12 09:00+00', 'A:1,B:2');
DELETE FROM backorder.order_line WHERE client_id = 'fs' AND order_id = 'o4' AND line_no = 2;
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('A') UNION ALL SELECT * FROM pg_temp.summary('B')$$,
                  ARRAY['fs_w1 2024-03-12 1', 'fs_w1 2024-03-02 4', 'fs_w1 2024-03-10 5'],
                  'a deleted line''s units go');
\o /dev/null
SELECT backorder.ship_order('fs', 'o4');
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('A')$$, ARRAY['fs_w1 2024-03-12 1'],
                  'shipping changes nothing: shipped units stay demand');

\o /dev/null
SAVEPOINT before_o5;
SELECT pg_temp.place('o5', '2024-03-12 10:00+00', 'A:2');
ROLLBACK TO SAVEPOINT before_o5;
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('A')$$, ARRAY['fs_w1 2024-03-12 1'],
                  'an order rolled back to a savepoint leaves no trace');

\o /dev/null
SELECT pg_temp.place('o6', '2024-03-13 09:00+00', 'Z:2');
\o
SELECT is((SELECT count(*) FROM backorder.demand_summary WHERE client_id = 'fs' AND sku = 'Z'), 0::bigint,
          'a line of an unknown SKU is not demand (not placed)');
\o /dev/null
INSERT INTO backorder.sku (client_id, sku) VALUES ('fs', 'Z');
SELECT backorder.release_hold('fs', 'o6', 'unknown_sku');
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('Z')$$, ARRAY['fs_w1 2024-03-13 2'],
                  'once the SKU is in the catalog and the order re-evaluated, it is');

-- the same at a second warehouse: rows are per warehouse
\o /dev/null
INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id) VALUES ('fs', 'o7', '2024-03-13 12:00+00', 'fs_w2');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('fs', 'o7', 1, 'Z', 3);
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('Z')$$, ARRAY['fs_w1 2024-03-13 2', 'fs_w2 2024-03-13 3'],
                  'an order at another warehouse has its own row');

-- history before the window (as_of 2024-03-20: the window starts 2023-03-21): C ordered in
-- January 2023 and March 2024, D only in March 2024
\o /dev/null
SELECT pg_temp.place('c1', '2023-01-05 10:00+00', 'C:1');
SELECT pg_temp.place('c2', '2024-03-05 10:00+00', 'C:2');
SELECT pg_temp.place('d1', '2024-03-05 10:00+00', 'D:2');
\o
SELECT is(pg_temp.summary_mismatches(), 0::bigint, 'check_invariants: the summary equals the order lines (invariant 8)');

-- stockout_risk from the summary and from the order lines
SELECT ok(backorder.demand_summary_applies(), 'the session''s zone (UTC) is the summary''s: the view reads the summary');
\o /dev/null
CREATE TEMP TABLE from_summary AS SELECT * FROM backorder.stockout_risk_at('2024-03-20') WHERE client_id = 'fs';
\o
SELECT results_eq($$SELECT sku, history_days, round((mean_daily_demand * history_days)::numeric, 9) FROM from_summary ORDER BY sku$$,
                  $$VALUES ('A', 8, 1::numeric), ('B', 18, 9), ('C', 365, 2), ('D', 15, 2), ('Z', 7, 5)$$,
                  'history from the first day of demand, or the whole window when there was demand before it (C)');
SELECT is(backorder.set_demand_time_zone('Etc/UTC'), 8::bigint, 'set_demand_time_zone rebuilds: 8 rows');
SELECT ok(NOT backorder.demand_summary_applies(), 'zone Etc/UTC is not the session''s UTC: the view reads order lines');
SELECT results_eq($$SELECT * FROM backorder.stockout_risk_at('2024-03-20') WHERE client_id = 'fs' ORDER BY sku$$,
                  $$SELECT * FROM from_summary ORDER BY sku$$,
                  'stockout_risk: the same rows from the summary as from the order lines');

-- the view does read the summary: a summary out of step shows (restored by a rebuild)
\o /dev/null
SELECT backorder.set_demand_time_zone('UTC');
\o
SET LOCAL session_replication_role = replica;
UPDATE backorder.demand_summary SET units[1] = units[1] + 90 WHERE client_id = 'fs' AND sku = 'D';
SET LOCAL session_replication_role = origin;
SELECT isnt((SELECT mean_daily_demand FROM backorder.stockout_risk_at('2024-03-20') WHERE client_id = 'fs' AND sku = 'D'),
            (SELECT mean_daily_demand FROM from_summary WHERE sku = 'D'),
            'a summary out of step changes stockout_risk (it is what the view reads)');
SELECT is(backorder.rebuild_demand_summary(), 8::bigint, 'rebuild_demand_summary: 8 rows');
SELECT results_eq($$SELECT * FROM backorder.stockout_risk_at('2024-03-20') WHERE client_id = 'fs' ORDER BY sku$$,
                  $$SELECT * FROM from_summary ORDER BY sku$$, 'after the rebuild, the same rows again');

-- time zones: 23:30 UTC on 03-15 is 03-16 in Berlin
\o /dev/null
SELECT pg_temp.place('d2', '2024-03-15 23:30+00', 'D:1');
SELECT backorder.set_demand_time_zone('europe/berlin');
\o
SELECT results_eq($$SELECT * FROM pg_temp.summary('D')$$, ARRAY['fs_w1 2024-03-05 2', 'fs_w1 2024-03-16 1'],
                  'in zone Europe/Berlin the order of 23:30 UTC counts on the next day');
SELECT is(backorder.demand_time_zone(), 'Europe/Berlin', 'the zone is kept in the spelling SHOW TimeZone uses');
SELECT throws_ok($$SELECT backorder.set_demand_time_zone('Mars/Olympus_Mons')$$, '22023',
                 'time zone "Mars/Olympus_Mons" is not recognized', 'an unknown zone: 22023');
SELECT throws_ok($$UPDATE backorder.demand_summary SET units[1] = 0 WHERE client_id = 'fs'$$, '428C9',
                 'backorder.demand_summary is maintained by the engine', 'apps cannot write the summary: 428C9');
SELECT throws_ok($$UPDATE backorder.demand_summary_zone SET time_zone = 'UTC'$$, '428C9',
                 'backorder.demand_summary_zone is maintained by the engine', 'nor its zone: 428C9');
-- A bulk load: 200 orders of one SKU and day evaluated in one go (at COMMIT, here at SET
-- CONSTRAINTS ... IMMEDIATE) write the summary once, not once per order.  Writing per order
-- made such loads quadratic: each write walked the versions of the row the transaction had made.
\o /dev/null
INSERT INTO backorder.sku (client_id, sku) VALUES ('fs', 'BULK');
\o
CREATE TEMP TABLE summary_writes AS
SELECT n_tup_ins + n_tup_upd AS n FROM pg_stat_xact_user_tables
 WHERE relid = 'backorder.demand_summary'::regclass;
SET CONSTRAINTS ALL DEFERRED;
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id)
           SELECT 'fs', 'BULK' || g, timestamptz '2024-03-02 10:00+00' + g * interval '1 second', 'fs_w1'
             FROM generate_series(1, 200) g
           RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT client_id, order_id, 1, 'BULK', 2 FROM o;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT is((SELECT count(*) FROM backorder.orders WHERE client_id = 'fs' AND order_id LIKE 'BULK%' AND status = 'needs_review'),
          200::bigint, 'bulk load: the 200 orders were evaluated (held, no stock)');
SELECT results_eq($$SELECT * FROM pg_temp.summary('BULK')$$, ARRAY['fs_w1 2024-03-02 400'],
                  'bulk load: the summary has their 400 units on their day');
SELECT is((SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables
            WHERE relid = 'backorder.demand_summary'::regclass) - (SELECT n FROM summary_writes),
          1::bigint, 'bulk load: one summary write for 200 orders of one SKU and day');

-- One batch, many summary rows: an order of 4 SKUs is one write of 4 rows, and a batch whose
-- orders fall on two days of one 32-day row, or on a row that exists, adds to the right days.
\o /dev/null
INSERT INTO backorder.sku (client_id, sku) VALUES ('fs', 'M1'), ('fs', 'M2'), ('fs', 'M3'), ('fs', 'M4');
\o
DELETE FROM summary_writes;
INSERT INTO summary_writes SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables
 WHERE relid = 'backorder.demand_summary'::regclass;
SET CONSTRAINTS ALL DEFERRED;
\o /dev/null
SELECT pg_temp.place('multi1', '2024-03-03 10:00+00', 'M1:1,M2:2,M3:3,M4:4');
\o
SET CONSTRAINTS ALL IMMEDIATE;
SELECT is((SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables
            WHERE relid = 'backorder.demand_summary'::regclass) - (SELECT n FROM summary_writes),
          4::bigint, 'an order of 4 SKUs: its 4 summary rows written once each');
SET CONSTRAINTS ALL DEFERRED;
\o /dev/null
SELECT pg_temp.place('multi2', '2024-03-03 11:00+00', 'M1:10');
SELECT pg_temp.place('multi3', '2024-03-04 11:00+00', 'M1:100,M2:5');
\o
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT * FROM pg_temp.summary('M1')$$, ARRAY['fs_w1 2024-03-03 11', 'fs_w1 2024-03-04 100'],
                  'one batch on two days of one summary row, one of them already there: both days right');
SELECT results_eq($$SELECT * FROM pg_temp.summary('M2')$$, ARRAY['fs_w1 2024-03-03 2', 'fs_w1 2024-03-04 5'],
                  'an existing row gains a second day');
SELECT is(pg_temp.summary_mismatches(), 0::bigint, 'the summary still equals the order lines');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'all invariants hold');

SELECT * FROM finish();
ROLLBACK;
