-- forecast_demand.sql — demand per SKU and day from order lines (cancelled orders out,
-- backordered units in, zero days explicit), stock-out days from the ledger, and
-- avg_units_sold_per_day with both denominators.
--
-- Client fd (UTC days).  A: 100 received on 03-01, 2 units ordered every day 03-01 .. 03-20
-- (plus a cancelled order of 7 on 03-06).  B: never in stock, 4 units ordered on 03-05 and 03-10
-- (backordered).  C: 5 received on 03-01, an order of 5 placed on 03-02 and shipped on 03-03
-- (on_hand 0 from then), 1 unit ordered on 03-10 (backordered).
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET TimeZone = 'UTC';
SET backorder.now = '2024-03-01 09:00+00';
SELECT plan(22);

CREATE FUNCTION pg_temp.place(p_order text, p_placed_at timestamptz, p_sku text, p_qty int)
RETURNS void LANGUAGE sql AS $$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('fd', p_order, p_placed_at)
               RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, p_sku, p_qty FROM o
$$;

\o /dev/null
INSERT INTO backorder.client (client_id, name) VALUES ('fd', 'Forecast demand');
INSERT INTO backorder.location (location_id, priority) VALUES ('fd_w1', 1);
INSERT INTO backorder.sku (client_id, sku, lead_time_days) VALUES ('fd', 'A', 10), ('fd', 'B', 5), ('fd', 'C', NULL);
SELECT backorder.receive('fd', 'A', 'fd_w1', 100);
SELECT backorder.receive('fd', 'C', 'fd_w1', 5);
SELECT pg_temp.place('a' || d, timestamptz '2024-03-01 10:00+00' + d * interval '1 day', 'A', 2) FROM generate_series(0, 19) d;
SELECT pg_temp.place('ax', '2024-03-06 11:00+00', 'A', 7);
SELECT backorder.cancel_order('fd', 'ax');
SELECT pg_temp.place('b1', '2024-03-05 12:00+00', 'B', 4);
SELECT pg_temp.place('b2', '2024-03-10 12:00+00', 'B', 4);
SELECT pg_temp.place('c1', '2024-03-02 12:00+00', 'C', 5);
SET backorder.now = '2024-03-03 09:00+00';
SELECT backorder.ship_order('fd', 'c1');
SELECT pg_temp.place('c2', '2024-03-10 12:00+00', 'C', 1);
SET backorder.now = '2024-03-21 09:00+00';
\o

-- daily_demand
SELECT is((SELECT count(*) FROM backorder.daily_demand('fd', 'A', '2024-03-01', '2024-03-22')), 22::bigint,
          'one row per day, zero days included (22 days)');
SELECT results_eq($$SELECT day, units, lines, orders FROM backorder.daily_demand('fd', 'A', '2024-03-05', '2024-03-07')$$,
                  $$VALUES ('2024-03-05'::date, 2::bigint, 1::bigint, 1::bigint), ('2024-03-06', 2, 1, 1), ('2024-03-07', 2, 1, 1)$$,
                  'the cancelled order of 03-06 is not demand');
SELECT results_eq($$SELECT day, units FROM backorder.daily_demand('fd', 'A', '2024-03-20', '2024-03-22')$$,
                  $$VALUES ('2024-03-20'::date, 2::bigint), ('2024-03-21', 0), ('2024-03-22', 0)$$,
                  'days without orders are explicit zeros');
SELECT results_eq($$SELECT day, units, in_stock FROM backorder.daily_demand('fd', 'B', '2024-03-04', '2024-03-05')$$,
                  $$VALUES ('2024-03-04'::date, 0::bigint, false), ('2024-03-05', 4, false)$$,
                  'backordered units are demand (B was never in stock)');
SELECT results_eq($$SELECT day, on_hand_start, in_stock FROM backorder.daily_demand('fd', 'C', '2024-02-29', '2024-03-05')$$,
                  $$VALUES ('2024-02-29'::date, 0::bigint, false), ('2024-03-01', 0, true), ('2024-03-02', 5, true),
                           ('2024-03-03', 5, true), ('2024-03-04', 0, false), ('2024-03-05', 0, false)$$,
                  'stock from the ledger: in stock on a day unless on_hand was 0 all day');
SELECT is((SELECT count(*) FROM backorder.daily_demand('fd', NULL, '2024-03-01', '2024-03-10')), 30::bigint,
          'sku NULL: every SKU of the client, ten days each');
SELECT is((SELECT sum(units) FROM backorder.daily_demand('fd', NULL, '2024-03-01', '2024-03-31'))::bigint, 54::bigint,
          'all demand of March: 40 (A) + 8 (B) + 6 (C)');
SELECT is((SELECT count(*) FROM backorder.daily_demand('fd', 'A')), 30::bigint, 'default range: the 30 days up to backorder.now()');

-- avg_units_sold_per_day: the window_days days before as_of
SELECT is(backorder.avg_units_sold_per_day('fd', 'A'), 40 / 30.0::float8, 'A: 40 units over the 30 calendar days before 03-21');
SELECT is(backorder.avg_units_sold_per_day('fd', 'A', 10, '2024-03-11'), 2::float8, 'A: 10 days before 03-11, 2 a day');
SELECT is(backorder.avg_units_sold_per_day('fd', 'C', 10, '2024-03-11'), 0.6::float8, 'C: 6 units over 10 calendar days');
SELECT is(backorder.avg_units_sold_per_day('fd', 'C', 10, '2024-03-11', true), 5 / 3.0::float8,
          'C, in-stock days only: 5 units over the 3 days it had stock');
SELECT is(backorder.avg_units_sold_per_day('fd', 'B', 30, '2024-03-21', true), NULL, 'B, in-stock days only: never in stock, NULL');
SELECT is(backorder.avg_units_sold_per_day('fd', 'B', 30, '2024-03-21'), 8 / 30.0::float8, 'B: backordered units count');

-- demand_series / demand_forecast over the same lines
SELECT is((SELECT backorder.demand_series(l.placed_at, l.qty, '2024-03-12', 365) FROM backorder.order_line l
            WHERE l.client_id = 'fd' AND l.sku = 'C' AND (l.allocated > 0 OR l.shipped > 0 OR l.waiting)),
          '{5,0,0,0,0,0,0,0,1,0}'::float8[], 'demand_series of C: from its first day of demand (03-02) to the day before as_of');
SELECT results_eq($$SELECT pattern, method, forecast, periods FROM backorder.sku_demand_forecast('fd', 'A', '2024-03-21', 'auto')$$,
                  $$VALUES ('smooth'::text, 'ses'::text, 2::float8, 20)$$, 'A: smooth, SES, 2 a day over 20 days');

-- Bad input
SELECT throws_ok($$SELECT backorder.avg_units_sold_per_day('fd', 'NOPE')$$, 'P0002', 'SKU "NOPE" of client "fd" does not exist',
                 'unknown SKU: P0002');
SELECT throws_ok($$SELECT backorder.avg_units_sold_per_day('nobody', 'A')$$, 'P0002', NULL, 'unknown client: P0002');
SELECT throws_ok($$SELECT backorder.avg_units_sold_per_day('fd', NULL)$$, '22004', NULL, 'NULL SKU: 22004');
SELECT throws_ok($$SELECT backorder.avg_units_sold_per_day('fd', 'A', 0)$$, '22023', NULL, 'a window of 0 days: 22023');
SELECT throws_ok($$SELECT * FROM backorder.daily_demand('fd', 'A', '2024-03-10', '2024-03-01')$$, '22023', NULL,
                 'a day range that ends before it starts: 22023');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');
SELECT * FROM finish();
ROLLBACK;
