-- forecast_alerts.sql — refresh_alerts(): one open alert per SKU whose projected stock-out falls
-- within lead time + the client's buffer, refreshed while it stays, closed when it no longer
-- does, opened again when it comes back.  (The NOTIFY on channel backorder_alerts is delivered at
-- commit, so this rolled-back test cannot hear it: test/specs/forecast_alerts_notify.spec does.)
--
-- Client fa (UTC days): A and B, lead time 30, 2 units ordered every day 03-01 .. 03-20; A has 60
-- available (stock-out projected 04-20), B has 200 (04-30 as of 03-21: not within 30 + 7 days).
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET TimeZone = 'UTC';
SET backorder.now = '2024-03-01 09:00+00';
SELECT plan(15);

CREATE FUNCTION pg_temp.place(p_order text, p_placed_at timestamptz, p_sku text, p_qty int)
RETURNS void LANGUAGE sql AS $$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('fa', p_order, p_placed_at)
               RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, p_sku, p_qty FROM o
$$;

\o /dev/null
INSERT INTO backorder.client (client_id, name) VALUES ('fa', 'Forecast alerts');
INSERT INTO backorder.location (location_id, priority) VALUES ('fa_w1', 1);
INSERT INTO backorder.sku (client_id, sku, lead_time_days) VALUES ('fa', 'A', 30), ('fa', 'B', 30);
SELECT backorder.receive('fa', 'A', 'fa_w1', 100);
SELECT backorder.receive('fa', 'B', 'fa_w1', 240);
SELECT pg_temp.place(s || d, timestamptz '2024-03-01 10:00+00' + d * interval '1 day', s, 2)
  FROM generate_series(0, 19) d, unnest('{A,B}'::text[]) s;
SET backorder.now = '2024-03-21 09:00+00';
\o

SELECT results_eq($$SELECT * FROM backorder.refresh_alerts()$$, $$VALUES (1, 0, 0)$$,
                  'A''s stock-out (04-20) is within 30 + 7 days: one alert opened');
SELECT results_eq($$SELECT client_id, sku, kind, as_of, stockout_on, lead_time_days, alert_buffer_days, available, short,
                           daily_demand, closed_at FROM backorder.alert$$,
                  $$VALUES ('fa'::text, 'A'::text, 'stockout'::text, '2024-03-21'::date, '2024-04-20'::date, 30, 7, 60::bigint,
                            0::bigint, 2::float8, NULL::timestamptz)$$,
                  'the alert records the forecast that opened it');
SELECT is((SELECT opened_at FROM backorder.alert), '2024-03-21 09:00+00'::timestamptz, 'opened at backorder.now()');
SELECT results_eq($$SELECT * FROM backorder.refresh_alerts()$$, $$VALUES (0, 1, 0)$$, 'refreshing again: the open alert is updated, not duplicated');
SELECT is((SELECT count(*) FROM backorder.alert), 1::bigint, 'still one alert');

-- A purchase order in time closes it.
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at) VALUES ('fa', 'A', 'fa_w1', 100, '2024-04-01');
SET backorder.now = '2024-03-22 09:00+00';
SELECT results_eq($$SELECT * FROM backorder.refresh_alerts()$$, $$VALUES (0, 0, 1)$$, 'inbound in time: the alert is closed');
SELECT is((SELECT closed_at FROM backorder.alert), '2024-03-22 09:00+00'::timestamptz, 'closed at backorder.now()');
SELECT results_eq($$SELECT * FROM backorder.refresh_alerts()$$, $$VALUES (0, 0, 0)$$, 'nothing at risk: nothing to do');

-- A larger buffer puts both at risk: A gets a new alert.
INSERT INTO backorder.client_forecast_setting (client_id, alert_buffer_days) VALUES ('fa', 90);
SELECT results_eq($$SELECT sku, stockout_on FROM backorder.stockout_risk WHERE client_id = 'fa' ORDER BY sku$$,
                  $$VALUES ('A'::text, '2024-06-18'::date), ('B', '2024-07-11')$$,
                  'after a day without orders SES forecasts 1.8 a day: A (160 units with the inbound) lasts to 06-18, B (200) to 07-11');
SELECT results_eq($$SELECT * FROM backorder.refresh_alerts()$$, $$VALUES (2, 0, 0)$$,
                  'buffer 90 days: both stock-outs are within 30 + 90 days of 03-22, two alerts opened');
SELECT is((SELECT count(*) FROM backorder.alert WHERE closed_at IS NULL), 2::bigint, 'two open alerts, one per SKU');
SELECT is((SELECT count(*) FROM backorder.alert WHERE sku = 'A'), 2::bigint, 'A''s closed alert stays as history; a new one was opened');
SELECT throws_ok($$INSERT INTO backorder.alert (client_id, sku, opened_at, refreshed_at, as_of, stockout_on, lead_time_days,
                                               alert_buffer_days, available, short, inbound_units, daily_demand)
                   VALUES ('fa', 'A', now(), now(), '2024-03-22', '2024-04-01', 1, 1, 0, 0, 0, 0)$$,
                 '23505', NULL, 'at most one open alert per SKU');
SELECT throws_ok($$SELECT * FROM backorder.refresh_alerts('infinity')$$, '22023', NULL, 'an infinite as_of: 22023');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');
SELECT * FROM finish();
ROLLBACK;
