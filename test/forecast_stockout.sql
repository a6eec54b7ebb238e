-- forecast_stockout.sql — stockout_forecast (day-by-day projection with inbound and surges,
-- reorder point, suggested order, probability), the stockout_risk view, the pure functions
-- (stockout_probability, safety_stock, normal_quantile, project_stock: values as R's pnorm and
-- qnorm), the per-SKU method override, and bad input with its SQLSTATE.
--
-- Client fs (UTC days).  A: 100 received, 2 units ordered every day 03-01 .. 03-20 (40 allocated
-- to ready orders), lead time 10.  B: never in stock, 4 units ordered on 03-05 (waiting).
-- Forecast as of 03-21.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET TimeZone = 'UTC';
SET backorder.now = '2024-03-01 09:00+00';
SELECT plan(40);

CREATE FUNCTION pg_temp.place(p_order text, p_placed_at timestamptz, p_sku text, p_qty int)
RETURNS void LANGUAGE sql AS $$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('fs', p_order, p_placed_at)
               RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, p_sku, p_qty FROM o
$$;

\o /dev/null
INSERT INTO backorder.client (client_id, name) VALUES ('fs', 'Forecast stock-outs');
INSERT INTO backorder.location (location_id, priority) VALUES ('fs_w1', 1);
INSERT INTO backorder.sku (client_id, sku, lead_time_days) VALUES ('fs', 'A', 10), ('fs', 'B', NULL);
SELECT backorder.receive('fs', 'A', 'fs_w1', 100);
SELECT pg_temp.place('a' || d, timestamptz '2024-03-01 10:00+00' + d * interval '1 day', 'A', 2) FROM generate_series(0, 19) d;
SELECT pg_temp.place('b1', '2024-03-05 12:00+00', 'B', 4);
SET backorder.now = '2024-03-21 09:00+00';
\o

-- The projection: 60 available, 2 a day.
SELECT results_eq(
    $$SELECT on_hand, allocated, available, short, inbound_units, pattern, method, daily_demand, demand_sd,
             history_days, lead_time_days, days_of_cover, stockout_on, days_to_stockout
        FROM backorder.stockout_forecast('fs', 'A')$$,
    $$VALUES (100::bigint, 40::bigint, 60::bigint, 0::bigint, 0::bigint, 'smooth'::text, 'ses'::text, 2::float8, 0::float8,
              20, 10, 30::float8, '2024-04-20'::date, 30)$$,
    'A: 60 available at 2 a day last 30 days; the stock-out is on day 30 (04-20)');
SELECT results_eq(
    $$SELECT lead_time_demand, safety_stock, reorder_point, inventory_position, suggested_order_qty,
             stockout_probability, at_risk
        FROM backorder.stockout_forecast('fs', 'A')$$,
    $$VALUES (20::float8, 0::float8, 20::float8, 60::bigint, 0::bigint, 0::float8, false)$$,
    'A: reorder point 20 (no variation, no safety stock), position 60: no order, no risk within 10 + 7 days');
SELECT results_eq($$SELECT pattern, history_days, stockout_on FROM backorder.stockout_forecast('fs', 'A', '2024-04-15')$$,
                  $$VALUES ('intermittent'::text, 45, NULL::date)$$,
                  'as of 04-15, after 25 days without orders: intermittent, no stock-out within the 365-day horizon');

-- Inbound arrives on its day.
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at, reference)
VALUES ('fs', 'A', 'fs_w1', 30, '2024-04-05', 'PO-1');
SELECT results_eq(
    $$SELECT inbound_units, inbound_count, next_inbound_on, next_inbound_units, overdue_inbound_units,
             stockout_on, lead_time_inbound, inventory_position
        FROM backorder.stockout_forecast('fs', 'A')$$,
    $$VALUES (30::bigint, 1, '2024-04-05'::date, 30::bigint, 0::bigint, '2024-05-05'::date, 0::float8, 90::bigint)$$,
    'inbound of 30 on 04-05 (after the lead time) moves the stock-out 15 days, to 05-05');
SELECT is((SELECT inbound_schedule FROM backorder.stockout_forecast('fs', 'A')),
          jsonb_build_array(jsonb_build_object('inbound_id', (SELECT inbound_id FROM backorder.inbound WHERE reference = 'PO-1'),
                                               'expected_at', '2024-04-05', 'units', 30, 'location_id', 'fs_w1',
                                               'reference', 'PO-1')),
          'the inbound schedule as JSON');
SELECT results_eq($$SELECT overdue_inbound_units, lead_time_inbound FROM backorder.stockout_forecast('fs', 'A', '2024-04-10')$$,
                  $$VALUES (30::bigint, 30::float8)$$,
                  'as of 04-10 the 04-05 inbound is overdue: it counts as arriving on as_of, within the lead time');

-- Surges: double demand 04-01 .. 04-10 for every SKU of the client.
SELECT lives_ok($$SELECT backorder.demand_surge('fs', NULL, '2024-04-01', '2024-04-10', 2, 0, 'spring sale')$$, 'a client-wide surge');
SELECT results_eq($$SELECT surges, stockout_on FROM backorder.stockout_forecast('fs', 'A')$$,
                  $$VALUES (1, '2024-04-25'::date)$$, 'the surge adds 20 units over its 10 days: the stock-out comes 10 days sooner');
SELECT lives_ok($$SELECT backorder.demand_surge('fs', 'A', '2024-03-21', '2024-03-30', 1, 3)$$, 'a SKU surge of 3 extra units a day');
SELECT results_eq($$SELECT surges, lead_time_demand, stockout_on FROM backorder.stockout_forecast('fs', 'A')$$,
                  $$VALUES (2, 50::float8, '2024-04-03'::date)$$,
                  'both surges apply: 5 a day until 03-30 leaves 10 units, 2 on 03-31, 4 a day from 04-01: out on 04-03');
SELECT is((SELECT at_risk FROM backorder.stockout_forecast('fs', 'A')), true, '04-03 is within lead time + 7 days of 03-21');
SELECT results_eq($$SELECT reorder_point, inventory_position, suggested_order_qty FROM backorder.stockout_forecast('fs', 'A')$$,
                  $$VALUES (50::float8, 90::bigint, 0::bigint)$$, 'position 90 is above the reorder point 50: no order yet');
UPDATE backorder.sku SET safety_stock = 45 WHERE client_id = 'fs' AND sku = 'A';
SELECT results_eq($$SELECT safety_stock, reorder_point, suggested_order_qty FROM backorder.stockout_forecast('fs', 'A')$$,
                  $$VALUES (45::float8, 95::float8, 65::bigint)$$,
                  'catalog safety stock 45: reorder point 95, order up to 95 + 30 days of demand: 65 units');

-- B: backordered, lead time from the client default (14 without settings).
SELECT results_eq($$SELECT available, short, lead_time_days, stockout_on, stockout_probability FROM backorder.stockout_forecast('fs', 'B')$$,
                  $$VALUES (0::bigint, 4::bigint, 14, '2024-03-21'::date, 1::float8)$$,
                  'B: 4 units waiting, nothing available: out today, probability 1');
INSERT INTO backorder.client_forecast_setting (client_id, default_lead_time_days, alert_buffer_days, service_level)
VALUES ('fs', 21, 0, 0.9);
SELECT results_eq($$SELECT lead_time_days, alert_buffer_days, service_level FROM backorder.stockout_forecast('fs', 'B')$$,
                  $$VALUES (21, 0, 0.9::float8)$$, 'client settings: default lead time, buffer, service level');

-- Method override.
INSERT INTO backorder.sku_forecast_setting (client_id, sku, method, alpha) VALUES ('fs', 'A', 'croston', 0.2);
SELECT results_eq($$SELECT method, daily_demand FROM backorder.stockout_forecast('fs', 'A')$$,
                  $$VALUES ('croston'::text, 2::float8)$$, 'a per-SKU override picks the method');
SELECT results_eq($$SELECT client_id, sku, method FROM backorder.stockout_risk WHERE client_id = 'fs' ORDER BY sku$$,
                  $$VALUES ('fs'::text, 'A'::text, 'croston'::text), ('fs', 'B', 'mean')$$,
                  'the view: one row per SKU, the override applied');
SELECT is((SELECT count(*) FROM backorder.stockout_risk r JOIN backorder.stockout_forecast('fs', 'A') f USING (client_id, sku)
            WHERE r IS NOT DISTINCT FROM f), 1::bigint, 'the view''s row equals stockout_forecast''s');

-- Pure functions (values as R: pnorm, qnorm).
SELECT is(backorder.stockout_probability(10, 0, 4, 3, 1), 0.8413447460685429::float8, 'P(N(12, 2^2) > 10) = pnorm(1)');
SELECT ok(abs(backorder.stockout_probability(100, 20, 14, 2, 1.5) / 1.0903276590535322e-60 - 1) < 1e-12, 'far tail as R''s pnorm');
SELECT is(backorder.stockout_probability(10, 0, 5, 2, 0), 0::float8, 'no variation, demand equals stock: 0');
SELECT is(backorder.stockout_probability(10, 0, 6, 2, 0), 1::float8, 'no variation, demand above stock: 1');
SELECT is(backorder.stockout_probability(-1, 0, 0, 1, 1), 1::float8, 'lead time 0 with negative stock: 1');
SELECT is(backorder.stockout_probability(-4, 0, 14, 0.1, 1), 1::float8, 'units already owed: 1, whatever the normal tail says');
SELECT is(backorder.normal_quantile(0.95), 1.6448536269514715::float8, 'qnorm(0.95)');
SELECT is(backorder.normal_quantile(1e-10), -6.361340902404056::float8, 'qnorm(1e-10)');
SELECT is(backorder.safety_stock(2, 9, 0.95), 9.869121761708829::float8, 'safety stock z * sd * sqrt(L)');
SELECT results_eq($$SELECT * FROM backorder.project_stock(5, '2024-01-01', 1, 30, 3, '{2024-01-03}', '{10}',
                                                          '{2024-01-05}', '{2024-01-06}', '{3}', '{1}')$$,
                  $$VALUES ('2024-01-10'::date, 3::float8, 10::float8)$$,
                  'project_stock: 5 + 10 on day 3, 1 a day, 4 a day on days 5-6: out on day 10');

-- Bad input.
SELECT throws_ok($$SELECT backorder.stockout_probability(10, 0, -1, 1, 1)$$, '22023', 'lead time must be 0 days or more, got -1',
                 'negative lead time: 22023');
SELECT throws_ok($$SELECT backorder.stockout_probability(10, 0, 5, 'NaN', 1)$$, '22023', NULL, 'NaN demand: 22023');
SELECT throws_ok($$SELECT backorder.safety_stock(1, 5, 1)$$, '22023', 'service level must be strictly between 0 and 1, got 1',
                 'service level 1: 22023');
SELECT throws_ok($$SELECT backorder.safety_stock(1, 5, 0)$$, '22023', NULL, 'service level 0: 22023');
SELECT throws_ok($$SELECT backorder.demand_surge('fs', 'A', '2024-05-10', '2024-05-01', 2)$$, '22023',
                 'surge ends on 2024-05-01 before it starts on 2024-05-10', 'a surge that ends before it starts: 22023');
SELECT throws_ok($$SELECT backorder.demand_surge('fs', 'NOPE', '2024-05-01', '2024-05-10', 2)$$, '23503', NULL,
                 'a surge for an unknown SKU: 23503');
SELECT throws_ok($$SELECT * FROM backorder.stockout_forecast('fs', 'NOPE')$$, 'P0002', 'SKU "NOPE" of client "fs" does not exist',
                 'forecast of an unknown SKU: P0002');
SELECT throws_ok($$INSERT INTO backorder.sku_forecast_setting (client_id, sku, alpha) VALUES ('fs', 'B', 1.5)$$, '23514', NULL,
                 'an override with alpha outside (0, 1]: 23514');
SELECT throws_ok($$UPDATE backorder.client_forecast_setting SET service_level = 1 WHERE client_id = 'fs'$$, '23514', NULL,
                 'a service level of 1 in the settings: 23514');

-- Overlapping surges multiply: three of the largest (x1000) ask 1e9 times A's 2 a day over
-- its 10 days of lead time.  (Past bigint, the suggested quantity stops at 9e18 instead of
-- breaking the view and refresh_alerts for every client.)
SELECT backorder.demand_surge('fs', 'A', '2024-03-01', '2024-06-30', 1000) FROM generate_series(1, 3) \g /dev/null
SELECT lives_ok($$SELECT count(*) FROM backorder.stockout_risk$$, 'stockout_risk with three x1000 surges');
SELECT is((SELECT suggested_order_qty FROM backorder.stockout_forecast('fs', 'A')), 20000000045::bigint,
          '... A''s suggested quantity: a billion times its demand, still a bigint');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');
SELECT * FROM finish();
ROLLBACK;
