-- ship_orders.sql — a wave of orders shipped in one call: exact stock, ledger, lines, events;
-- retries skip what shipped; one order that is not ready refuses the whole wave; orders
-- released earlier in the same transaction ship; the result equals ship_order's, order by order.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-06-03 16:00+00';
SET client_min_messages = warning;   -- the NOTICEs of retried waves are shown by ship_wave_races
SELECT plan(27);

\ir lib/scenario_helpers.sql

\o /dev/null
INSERT INTO backorder.client (client_id) VALUES ('wave'), ('solo');
INSERT INTO backorder.location (location_id, priority) VALUES ('wave_w1', 1);
INSERT INTO backorder.sku (client_id, sku)
VALUES ('wave', 'A'), ('wave', 'B'), ('wave', 'C'), ('solo', 'A'), ('solo', 'B'), ('solo', 'C');
SELECT backorder.receive(c, 'A', 'wave_w1', 10), backorder.receive(c, 'B', 'wave_w1', 5)
  FROM unnest(ARRAY['wave', 'solo']) c;
-- W1 (A 2, B 1) and W2 (A 3) are ready; W3 (C 1) is held; W4 (A 1) ready, kept for later
SELECT pg_temp.place(c, 'W1', '2024-06-03 09:00+00', 'A:2,B:1'),
       pg_temp.place(c, 'W2', '2024-06-03 09:05+00', 'A:3'),
       pg_temp.place(c, 'W3', '2024-06-03 09:10+00', 'C:1'),
       pg_temp.place(c, 'W4', '2024-06-03 09:15+00', 'A:1')
  FROM unnest(ARRAY['wave', 'solo']) c;
\o

SELECT results_eq($$SELECT order_id, status FROM backorder.orders WHERE client_id = 'wave' ORDER BY 1$$,
                  $$VALUES ('W1', 'ready'), ('W2', 'ready'), ('W3', 'needs_review'), ('W4', 'ready')$$,
                  'set-up: W1, W2, W4 ready, W3 held');

-- a wave of two, given in any order and with a duplicate
SELECT is(backorder.ship_orders('wave', ARRAY['W2', 'W1', 'W2']), 2, 'ship_orders ships the two ready orders once each');
SELECT results_eq($$SELECT order_id, status FROM backorder.orders WHERE client_id = 'wave' ORDER BY 1$$,
                  $$VALUES ('W1', 'shipped'), ('W2', 'shipped'), ('W3', 'needs_review'), ('W4', 'ready')$$,
                  'W1 and W2 shipped, the others untouched');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('wave', 'A', 'wave_w1')$$, $$VALUES (5::bigint, 1::bigint)$$,
                  'stock of A: 10 - 5 shipped on hand, W4''s 1 still allocated');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('wave', 'B', 'wave_w1')$$, $$VALUES (4::bigint, 0::bigint)$$,
                  'stock of B: 5 - 1 on hand, nothing allocated');
SELECT results_eq($$SELECT order_id, sku, qty, delta FROM backorder.stock_movement
                     WHERE client_id = 'wave' AND kind = 'shipment' ORDER BY movement_id$$,
                  $$VALUES ('W1', 'A', -2::bigint, -2::bigint), ('W1', 'B', -1, -1), ('W2', 'A', -3, -3)$$,
                  'one shipment row per line, by order, then line');
SELECT results_eq($$SELECT order_id, line_no, allocated, shipped, waiting FROM backorder.order_line
                     WHERE client_id = 'wave' AND order_id IN ('W1', 'W2') ORDER BY 1, 2$$,
                  $$VALUES ('W1', 1, 0, 2, false), ('W1', 2, 0, 1, false), ('W2', 1, 0, 3, false)$$,
                  'lines: shipped = what was allocated, nothing allocated');
SELECT results_eq($$SELECT order_id, status, created_at FROM backorder.order_event
                     WHERE client_id = 'wave' AND event = 'shipped' ORDER BY event_id$$,
                  $$VALUES ('W1', 'shipped', '2024-06-03 16:00+00'::timestamptz), ('W2', 'shipped', '2024-06-03 16:00+00')$$,
                  'one shipped event per order');
SELECT is((SELECT count(*) FROM backorder.orders WHERE client_id = 'wave' AND shipped_at = '2024-06-03 16:00+00'),
          2::bigint, 'shipped_at is the engine''s clock');

-- retries
SELECT is(backorder.ship_orders('wave', ARRAY['W1', 'W2']), 0, 'the same wave again ships nothing');
SELECT is(backorder.ship_orders('wave', ARRAY['W1', 'W4']), 1, 'a wave with a shipped order ships the rest');
SELECT is(backorder.ship_orders('wave', ARRAY['W2', 'W1', 'W4']), 0,
          'a retried wave ships nothing (one NOTICE names what it skipped: see ship_wave_races)');
SELECT is(pg_temp.events('wave', 'W1', 'shipped'), 1, 'a retried order gets no second event');
SELECT is(backorder.ship_orders('wave', ARRAY[]::text[]), 0, 'an empty wave ships nothing');

-- all or nothing
\o /dev/null
SELECT pg_temp.place('wave', 'W5', '2024-06-03 10:00+00', 'B:1');
\o
SELECT throws_ok($$SELECT backorder.ship_orders('wave', ARRAY['W5', 'W3'])$$, '55000',
                 'order "W3" is needs_review, not ready, and cannot ship', 'a held order in the wave: 55000');
SELECT is((SELECT status FROM backorder.orders WHERE client_id = 'wave' AND order_id = 'W5'), 'ready',
          '... and the ready order of that wave did not ship');
SELECT is(pg_temp.detail_of($$SELECT backorder.ship_orders('wave', ARRAY['W5', 'W3', 'W1'])$$),
          '1 order of the wave cannot ship: W3 (needs_review); nothing was shipped.',
          'the error''s detail names every order that cannot ship');
SELECT is(pg_temp.hint_of($$SELECT backorder.ship_orders('wave', ARRAY['W5', 'W3'])$$),
          'Wait for its holds to clear (see backorder.needs_review), or split it.  Ship the rest as a wave without it.',
          'the hint says what to do');
SELECT throws_ok($$SELECT backorder.ship_orders('wave', ARRAY['W5', 'NOPE'])$$, 'P0002',
                 'order "NOPE" of client "wave" does not exist', 'an unknown order in the wave: P0002');
SELECT throws_ok($$SELECT backorder.ship_orders('solo', ARRAY['W5'])$$, 'P0002',
                 'order "W5" of client "solo" does not exist', 'order ids are the named client''s: solo has no W5');

-- released earlier in this transaction: decided on the settled state
\o /dev/null
SELECT backorder.receive('wave', 'C', 'wave_w1', 1);
\o
SELECT is(backorder.ship_orders('wave', ARRAY['W3', 'W5']), 2, 'W3, released by a receipt in this transaction, ships with W5');
SELECT results_eq($$SELECT event FROM backorder.order_event WHERE client_id = 'wave' AND order_id = 'W3' ORDER BY event_id$$,
                  $$VALUES ('placed'), ('held'), ('released'), ('shipped')$$, 'W3: placed, held, released, shipped');

-- the same as ship_order, order by order: client solo ships W1, W2, W4 one by one
\o /dev/null
SELECT backorder.ship_order('solo', o) FROM unnest(ARRAY['W1', 'W2', 'W4']) o;
\o
SELECT results_eq($$SELECT order_id, status, shipped_at FROM backorder.orders WHERE client_id = 'solo' AND order_id IN ('W1', 'W2', 'W4') ORDER BY 1$$,
                  $$SELECT order_id, status, shipped_at FROM backorder.orders WHERE client_id = 'wave' AND order_id IN ('W1', 'W2', 'W4') ORDER BY 1$$,
                  'orders: the same end state as ship_order one by one');
SELECT results_eq($$SELECT sku, on_hand, allocated FROM backorder.stock WHERE client_id = 'solo' AND sku IN ('A', 'B') ORDER BY 1$$,
                  $$VALUES ('A', 4::bigint, 0::bigint), ('B', 4, 0)$$,
                  'solo''s stock after ship_order: A 10 - 6, B 5 - 1');
SELECT results_eq($$SELECT sku, on_hand, allocated FROM backorder.stock WHERE client_id = 'wave' AND sku IN ('A', 'B') ORDER BY 1$$,
                  $$VALUES ('A', 4::bigint, 0::bigint), ('B', 3, 0)$$,
                  'wave''s stock: the same A, and B one lower: W5 shipped here too');
SELECT results_eq($$SELECT order_id, sku, qty FROM backorder.stock_movement WHERE client_id = 'solo' AND kind = 'shipment' ORDER BY movement_id$$,
                  $$SELECT order_id, sku, qty FROM backorder.stock_movement WHERE client_id = 'wave' AND kind = 'shipment'
                     AND order_id IN ('W1', 'W2', 'W4') ORDER BY movement_id$$,
                  'the same shipment rows as ship_order one by one');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'all invariants hold');

SELECT * FROM finish();
ROLLBACK;
