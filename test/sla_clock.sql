-- The SLA clock: backorder.sla_due_at() over calendars, and orders.sla_due_at kept by the
-- trigger as orders become ready, are held, released, shipped and cancelled.
-- 2024-03-01 is a Friday; Europe/Berlin is UTC+1 until 2024-03-31 02:00, UTC+2 after.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-03-01 09:00+00';
SET TimeZone = 'UTC';
SELECT plan(46);

\ir lib/scenario_helpers.sql

INSERT INTO backorder.client (client_id, sla_hours) VALUES ('slac_c1', 24), ('slac_c2', 24), ('slac_c3', 24), ('slac_c4', 6);
INSERT INTO backorder.location (location_id, priority) VALUES ('slac_w1', 1);
INSERT INTO backorder.sku (client_id, sku) VALUES ('slac_c1', 'A'), ('slac_c1', 'B');
-- c1: Berlin, cutoff 14:00, Monday to Friday, same day, Monday 2024-03-04 a holiday
INSERT INTO backorder.client_sla (client_id, time_zone, cutoff, promise)
VALUES ('slac_c1', 'Europe/Berlin', '14:00', 'same_day');
INSERT INTO backorder.client_holiday (client_id, holiday, name) VALUES ('slac_c1', '2024-03-04', 'test holiday');
-- c2: Berlin, cutoff 12:00, Monday to Saturday, next business day
INSERT INTO backorder.client_sla (client_id, time_zone, cutoff, business_days, promise)
VALUES ('slac_c2', 'Europe/Berlin', '12:00', '{1,2,3,4,5,6}', 'next_business_day');
-- c3: no client_sla row: sla_hours (24) after ready; c4: promise hours with sla_hours 6
INSERT INTO backorder.client_sla (client_id, promise) VALUES ('slac_c4', 'hours');

-- ---- sla_due_at() ----
SELECT is(backorder.sla_due_at('slac_c1', '2024-03-01 09:00+00'), '2024-03-01 23:00+00',
    'same_day, ready Friday 10:00 local before the 14:00 cutoff: due at local midnight ending Friday');
SELECT is(backorder.sla_due_at('slac_c1', '2024-03-01 12:59:59+00'), '2024-03-01 23:00+00',
    'ready one second before the cutoff: still today');
SELECT is(backorder.sla_due_at('slac_c1', '2024-03-01 13:00+00'), '2024-03-05 23:00+00',
    'ready at the cutoff: the next business day, skipping the weekend and the Monday holiday');
SELECT is(backorder.sla_due_at('slac_c1', '2024-03-02 08:00+00'), '2024-03-05 23:00+00',
    'ready on Saturday morning: the next business day (Tuesday)');
SELECT is(backorder.sla_due_at('slac_c1', '2024-03-03 23:30+00'), '2024-03-05 23:00+00',
    'ready Sunday 23:30 UTC = Monday 00:30 local, a holiday: Tuesday');
SELECT is(backorder.sla_due_at('slac_c1', '2024-03-28 15:00+00'), '2024-03-29 23:00+00',
    'ready Thursday after the cutoff: due at the end of Friday');
SELECT is(backorder.sla_due_at('slac_c1', '2024-04-02 08:00+00'), '2024-04-02 22:00+00',
    'after the switch to summer time, local midnight is 22:00 UTC');
SELECT is(backorder.sla_due_at('slac_c2', '2024-03-30 10:00+00'), '2024-04-01 22:00+00',
    'next_business_day, ready Saturday 11:00 local (a business day for c2) before 12:00: Monday, across the DST change');
SELECT is(backorder.sla_due_at('slac_c2', '2024-03-30 11:00+00'), '2024-04-02 22:00+00',
    'next_business_day, ready Saturday after the cutoff: ship Monday, due end of Tuesday');
SELECT is(backorder.sla_due_at('slac_c3', '2024-03-01 09:00+00'), '2024-03-02 09:00+00',
    'no client_sla row: client.sla_hours after ready');
SELECT is(backorder.sla_due_at('slac_c4', '2024-03-01 09:00+00'), '2024-03-01 15:00+00',
    'promise hours: client.sla_hours (6) after ready');
SELECT is(backorder.sla_due_at('slac_nobody', '2024-03-01 09:00+00'), NULL,
    'unknown client: NULL');
SELECT is(backorder.sla_due_at('slac_c1', NULL), NULL, 'no ready time: NULL');

-- ---- orders.sla_due_at ----
SELECT backorder.receive('slac_c1', 'A', 'slac_w1', 1);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at)
           VALUES ('slac_c1', 'R1', '2024-03-01 08:00+00'), ('slac_c1', 'H1', '2024-03-01 08:01+00')
           RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT client_id, order_id, 1, 'A', 1 FROM o;
SELECT results_eq(
    $$SELECT order_id, status, ready_at, sla_due_at FROM backorder.orders WHERE client_id = 'slac_c1' ORDER BY order_id$$,
    $$VALUES ('H1'::text, 'needs_review'::text, NULL::timestamptz, NULL::timestamptz),
             ('R1', 'ready', '2024-03-01 09:00+00', '2024-03-01 23:00+00')$$,
    'intake: the ready order''s clock starts at intake; the held one has no due time');

-- the held order is released after the cutoff: its clock starts then
SET backorder.now = '2024-03-01 13:30+00';
SELECT backorder.receive('slac_c1', 'A', 'slac_w1', 1);
SELECT results_eq(
    $$SELECT status, ready_at, sla_due_at FROM backorder.orders WHERE client_id = 'slac_c1' AND order_id = 'H1'$$,
    $$VALUES ('ready'::text, '2024-03-01 13:30+00'::timestamptz, '2024-03-05 23:00+00'::timestamptz)$$,
    'released at 14:30 local: due at the end of the next business day (Tuesday)');

-- an operator hold excludes the order; releasing it starts a new clock
SET backorder.now = '2024-03-01 10:00+00';
SELECT ok(backorder.hold_order('slac_c1', 'R1', 'manual', 'check address'), 'R1 held');
SELECT results_eq(
    $$SELECT status, ready_at, sla_due_at FROM backorder.orders WHERE client_id = 'slac_c1' AND order_id = 'R1'$$,
    $$VALUES ('needs_review'::text, '2024-03-01 09:00+00'::timestamptz, NULL::timestamptz)$$,
    'held: sla_due_at cleared (excluded), ready_at kept as the engine keeps it');
SET backorder.now = '2024-03-01 10:30+00';
SELECT ok(backorder.release_hold('slac_c1', 'R1'), 'R1 released');
SELECT results_eq(
    $$SELECT status, ready_at, sla_due_at FROM backorder.orders WHERE client_id = 'slac_c1' AND order_id = 'R1'$$,
    $$VALUES ('ready'::text, '2024-03-01 10:30+00'::timestamptz, '2024-03-01 23:00+00'::timestamptz)$$,
    'released before the cutoff: a new clock from the release, due tonight');

-- held and released at the same (pinned) instant: ready_at does not change, the due time comes back
SELECT ok(backorder.hold_order('slac_c1', 'R1'), 'R1 held again at the same instant');
SELECT is((SELECT sla_due_at FROM backorder.orders WHERE client_id = 'slac_c1' AND order_id = 'R1'), NULL,
    'held: no due time');
SELECT ok(backorder.release_hold('slac_c1', 'R1'), 'R1 released at the same instant');
SELECT is((SELECT sla_due_at FROM backorder.orders WHERE client_id = 'slac_c1' AND order_id = 'R1'),
    '2024-03-01 23:00+00'::timestamptz,
    'released with an unchanged ready_at: the due time is computed again');

-- a take-back puts a ready order back on hold: excluded again
SET backorder.now = '2024-03-01 11:00+00';
SELECT backorder.adjust('slac_c1', 'A', 'slac_w1', -1, 'damaged');
SELECT results_eq(
    $$SELECT order_id, status, sla_due_at FROM backorder.orders WHERE client_id = 'slac_c1' ORDER BY order_id$$,
    $$VALUES ('H1'::text, 'needs_review'::text, NULL::timestamptz), ('R1', 'ready', '2024-03-01 23:00+00')$$,
    'take-back from the newest order (H1): held, its due time cleared; R1 keeps its own');

-- shipping keeps the due time (on time = shipped_at < sla_due_at); cancelling a held order leaves none
SET backorder.now = '2024-03-01 12:00+00';
SELECT ok(backorder.ship_order('slac_c1', 'R1'), 'R1 shipped');
SELECT ok(backorder.cancel_order('slac_c1', 'H1'), 'H1 cancelled');
SELECT results_eq(
    $$SELECT order_id, status, sla_due_at, shipped_at < sla_due_at FROM backorder.orders WHERE client_id = 'slac_c1' ORDER BY order_id$$,
    $$VALUES ('H1'::text, 'cancelled'::text, NULL::timestamptz, NULL::boolean),
             ('R1', 'shipped', '2024-03-01 23:00+00', true)$$,
    'shipped keeps its due time (shipped on time); cancelled while held has none');

-- settings apply to orders that become ready afterwards
UPDATE backorder.client_sla SET cutoff = '09:00' WHERE client_id = 'slac_c1';
SELECT is((SELECT sla_due_at FROM backorder.orders WHERE client_id = 'slac_c1' AND order_id = 'R1'),
    '2024-03-01 23:00+00'::timestamptz, 'a settings change does not move existing due times');
SELECT backorder.receive('slac_c1', 'B', 'slac_w1', 1);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('slac_c1', 'R2') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'B', 1 FROM o;
SELECT is((SELECT sla_due_at FROM backorder.orders WHERE client_id = 'slac_c1' AND order_id = 'R2'),
    '2024-03-05 23:00+00'::timestamptz, 'an order ready at 13:00 local after the cutoff moved to 09:00: Tuesday');

-- other clients: elapsed hours
INSERT INTO backorder.sku (client_id, sku) VALUES ('slac_c3', 'A'), ('slac_c4', 'A');
SELECT backorder.receive('slac_c3', 'A', 'slac_w1', 1);
SELECT backorder.receive('slac_c4', 'A', 'slac_w1', 1);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id)
           VALUES ('slac_c3', 'E1'), ('slac_c4', 'E1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 1 FROM o;
SELECT results_eq(
    $$SELECT client_id, sla_due_at FROM backorder.orders WHERE order_id = 'E1' AND client_id IN ('slac_c3', 'slac_c4') ORDER BY 1$$,
    $$VALUES ('slac_c3'::text, '2024-03-02 12:00+00'::timestamptz), ('slac_c4', '2024-03-01 18:00+00')$$,
    'no calendar: ready + sla_hours (24 and 6)');

-- a split's child order is inserted ready by the engine: its clock starts then
INSERT INTO backorder.client (client_id) VALUES ('slac_c5');
INSERT INTO backorder.client_sla (client_id, time_zone) VALUES ('slac_c5', 'Europe/Berlin');
INSERT INTO backorder.sku (client_id, sku) VALUES ('slac_c5', 'A'), ('slac_c5', 'B');
SELECT backorder.receive('slac_c5', 'A', 'slac_w1', 1);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('slac_c5', 'P') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT client_id, order_id, n, s, 1 FROM o, (VALUES (1, 'A'), (2, 'B')) v (n, s);
SET backorder.now = '2024-03-01 12:30+00';
SELECT is(backorder.split_order('slac_c5', 'P'), 1, 'P split: one ready child');
SELECT results_eq(
    $$SELECT order_id, status, sla_due_at FROM backorder.orders WHERE client_id = 'slac_c5' ORDER BY order_id$$,
    $$VALUES ('P'::text, 'needs_review'::text, NULL::timestamptz), ('P-S1', 'ready', '2024-03-01 23:00+00')$$,
    'the child order has a due time from its split (13:30 local, before the cutoff: tonight)');
SET backorder.now = '2024-03-01 12:00+00';

-- apps cannot write the column
SELECT throws_ok(
    $$UPDATE backorder.orders SET sla_due_at = '2030-01-01' WHERE client_id = 'slac_c3' AND order_id = 'E1'$$,
    '428C9', 'column "sla_due_at" of backorder.orders is maintained by the engine',
    'UPDATE of sla_due_at: 428C9');
SELECT throws_ok(
    $$UPDATE backorder.orders SET sla_due_at = NULL, priority = 5 WHERE client_id = 'slac_c3' AND order_id = 'E1'$$,
    '428C9', NULL, 'clearing it along with an allowed column: 428C9');
SELECT throws_ok(
    $$INSERT INTO backorder.orders (client_id, order_id, sla_due_at) VALUES ('slac_c3', 'E2', '2030-01-01')$$,
    '428C9', NULL, 'INSERT with sla_due_at: 428C9');
SELECT lives_ok(
    $$UPDATE backorder.orders SET priority = 5 WHERE client_id = 'slac_c3' AND order_id = 'E1'$$,
    'other updates of a ready order are untouched');
SELECT is((SELECT sla_due_at FROM backorder.orders WHERE client_id = 'slac_c3' AND order_id = 'E1'),
    '2024-03-02 12:00+00'::timestamptz, '... and keep its due time');

-- the trigger fires after the engine's guard (same timing, name order) and only when its
-- WHEN clause says so
SELECT is(
    (SELECT string_agg(format('%s %s %s', tgname, tgqual IS NOT NULL, tgname > 'guard' AND tgname > 'edit_lock'), ', ' ORDER BY tgname)
       FROM pg_trigger WHERE tgrelid = 'backorder.orders'::regclass AND tgname::text LIKE 'sla%'),
    'sla_clock t t, sla_clock_insert t t',
    'sla_clock triggers: WHEN-filtered, named after guard and edit_lock');

-- The trigger keeps the client's settings for the rest of the statement that read them (a
-- release sets thousands of orders ready in one UPDATE): one receipt releasing orders of
-- two clients gives each its own promise, and a change of the settings, in the same
-- transaction or rolled back to a savepoint, applies to the next release.
SET backorder.now = '2024-03-01 09:00+00';
INSERT INTO backorder.client (client_id, sla_hours) VALUES ('slac_k1', 5), ('slac_k2', 7);
INSERT INTO backorder.sku (client_id, sku) VALUES ('slac_k1', 'K'), ('slac_k2', 'K');
\o /dev/null
SELECT pg_temp.place(c, o, '2024-03-01 08:00+00', 'K:1')
  FROM unnest(ARRAY['slac_k1', 'slac_k2']) c, unnest(ARRAY['K1', 'K2', 'K3', 'K4']) o;
INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta)
VALUES ('slac_k1', 'K', 'slac_w1', 'receipt', 2, 0), ('slac_k2', 'K', 'slac_w1', 'receipt', 2, 0);
\o
SELECT results_eq($$SELECT client_id, order_id, sla_due_at FROM backorder.orders
                     WHERE client_id LIKE 'slac_k%' AND status = 'ready' ORDER BY 1, 2$$,
                  $$VALUES ('slac_k1', 'K1', '2024-03-01 14:00+00'::timestamptz), ('slac_k1', 'K2', '2024-03-01 14:00+00'),
                           ('slac_k2', 'K1', '2024-03-01 16:00+00'), ('slac_k2', 'K2', '2024-03-01 16:00+00')$$,
                  'one statement releasing two clients'' orders: 5 and 7 hours');
UPDATE backorder.client SET sla_hours = 10 WHERE client_id = 'slac_k1';
\o /dev/null
SELECT backorder.receive('slac_k1', 'K', 'slac_w1', 1);
\o
SELECT is((SELECT sla_due_at FROM backorder.orders WHERE client_id = 'slac_k1' AND order_id = 'K3'),
          '2024-03-01 19:00+00'::timestamptz, 'sla_hours changed in the transaction: the next release has 10 hours');
SAVEPOINT s;
INSERT INTO backorder.client_sla (client_id, promise, time_zone, cutoff) VALUES ('slac_k1', 'same_day', 'UTC', '23:00');
\o /dev/null
SELECT backorder.receive('slac_k1', 'K', 'slac_w1', 1);
\o
SELECT is((SELECT sla_due_at FROM backorder.orders WHERE client_id = 'slac_k1' AND order_id = 'K4'),
          '2024-03-02 00:00+00'::timestamptz, 'a calendar promise added: same day, local midnight');
ROLLBACK TO SAVEPOINT s;
\o /dev/null
SELECT backorder.receive('slac_k1', 'K', 'slac_w1', 1);
\o
SELECT is((SELECT sla_due_at FROM backorder.orders WHERE client_id = 'slac_k1' AND order_id = 'K4'),
          '2024-03-01 19:00+00'::timestamptz, 'rolled back to the savepoint: 10 hours again');
SELECT is((SELECT count(*) FROM backorder.orders WHERE client_id LIKE 'slac_k%' AND status = 'ready' AND sla_due_at IS NULL),
          0::bigint, 'every released order has a due time');

-- Client ids of up to 64 characters can be 256 bytes: a 32-character id of two-byte letters
-- is the first 64 bytes of a 33-character one, and their orders, released by one commit-time
-- settle, each get their own client's promise (48 and 24 hours).
INSERT INTO backorder.client (client_id, sla_hours) VALUES (repeat('é', 33), 48), (repeat('é', 32), 24);
INSERT INTO backorder.sku (client_id, sku) VALUES (repeat('é', 33), 'K'), (repeat('é', 32), 'K');
\o /dev/null
SELECT pg_temp.place(repeat('é', 33), 'P1', '2024-03-01 08:00+00', 'K:1', 5),
       pg_temp.place(repeat('é', 32), 'P1', '2024-03-01 08:00+00', 'K:1');
SET CONSTRAINTS ALL DEFERRED;
SELECT backorder.receive(repeat('é', 33), 'K', 'slac_w1', 1), backorder.receive(repeat('é', 32), 'K', 'slac_w1', 1);
SET CONSTRAINTS ALL IMMEDIATE;
\o
SELECT is((SELECT sla_due_at - ready_at FROM backorder.orders WHERE client_id = repeat('é', 33) AND order_id = 'P1'),
          interval '48 hours', 'a 66-byte client id: its own 48 hours');
SELECT is((SELECT sla_due_at - ready_at FROM backorder.orders WHERE client_id = repeat('é', 32) AND order_id = 'P1'),
          interval '24 hours', 'the 64-byte id that is its prefix: its own 24 hours');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
