-- scenarios_orders.sql — the life of an order: intake, release order, allocation policy,
-- line edits, S6/S7 run sequentially, ship/cancel/hold/release and their events, and the
-- choice of location (S10).
--
-- One client per scenario (ord_*).  Warehouse ord_w1 (priority 50) for everything but the
-- location section, which adds loc_a / loc_b / loc_c (priorities 1, 2, 3) at its start.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-01-01 10:00+00';

SELECT plan(273);

-- ---------------------------------------------------------------------------------------------
-- Helpers (pg_temp: gone at ROLLBACK).

\ir lib/scenario_helpers.sql

-- Lines of one order: line_no, sku, qty, allocated, location.
CREATE FUNCTION pg_temp.lines_of(p_client text, p_order text)
RETURNS TABLE (line_no int, sku text, qty int, allocated int, location_id text) LANGUAGE sql AS $$
    SELECT l.line_no, l.sku, l.qty, l.allocated, l.location_id FROM backorder.order_line l
    WHERE l.client_id = p_client AND l.order_id = p_order
    ORDER BY l.line_no
$$;

-- The client's ready orders, comma-separated in order_id order.
CREATE FUNCTION pg_temp.ready_orders(p_client text)
RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(o.order_id, ',' ORDER BY o.order_id), '')
    FROM backorder.orders o WHERE o.client_id = p_client AND o.status = 'ready'
$$;

INSERT INTO backorder.location (location_id, priority) VALUES ('ord_w1', 50);

-- =============================================================================================
-- Intake.
-- Stock of A: 5.  D is discontinued, N is not backorderable, DS is discontinued with 2 on hand,
-- B is active with no stock.

INSERT INTO backorder.client (client_id) VALUES ('ord_in');
INSERT INTO backorder.sku (client_id, sku, status, backorderable) VALUES
    ('ord_in', 'A', 'active', true),
    ('ord_in', 'B', 'active', true),
    ('ord_in', 'D', 'discontinued', true),
    ('ord_in', 'N', 'active', false),
    ('ord_in', 'DS', 'discontinued', true);
SELECT lives_ok($$SELECT backorder.receive('ord_in', 'A', 'ord_w1', 5)$$, 'intake: 5 units of A received');
SELECT lives_ok($$SELECT backorder.receive('ord_in', 'DS', 'ord_w1', 2)$$, 'intake: 2 units of DS received');

-- Ready at once.
SELECT lives_ok($$SELECT pg_temp.place('ord_in', 'O1', '2024-01-01 09:00+00', 'A:2')$$,
    'intake: O1 (2 of A) placed with 5 on hand');
SELECT results_eq($$SELECT order_id, status, ready_at, held_since FROM backorder.orders
                    WHERE client_id = 'ord_in' AND order_id = 'O1'$$,
    $$VALUES ('O1', 'ready', '2024-01-01 10:00+00'::timestamptz, NULL::timestamptz)$$,
    'intake: O1 is ready at once, ready_at = backorder.now(), not held');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('ord_in', 'O1')$$,
    $$VALUES (1, 'A', 2, 2, 'ord_w1')$$,
    'intake: O1''s line is fully allocated at ord_w1');
SELECT results_eq($$SELECT event, status FROM backorder.order_event
                    WHERE client_id = 'ord_in' AND order_id = 'O1' ORDER BY event_id$$,
    $$VALUES ('placed', 'ready')$$,
    'intake: O1 has one event, placed (ready)');

-- Partially allocated, held out_of_stock.
SELECT lives_ok($$SELECT pg_temp.place('ord_in', 'O2', '2024-01-01 09:10+00', 'A:5')$$,
    'intake: O2 (5 of A) placed with 3 available');
SELECT results_eq($$SELECT order_id, status, held_since FROM backorder.orders
                    WHERE client_id = 'ord_in' AND order_id = 'O2'$$,
    $$VALUES ('O2', 'needs_review', '2024-01-01 10:00+00'::timestamptz)$$,
    'intake: O2 is held since backorder.now()');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('ord_in', 'O2')$$,
    $$VALUES (1, 'A', 5, 3, 'ord_w1')$$,
    'intake: O2 gets the 3 available units and waits for 2 at ord_w1');
SELECT results_eq($$SELECT reason FROM backorder.order_hold
                    WHERE client_id = 'ord_in' AND order_id = 'O2' AND released_at IS NULL$$,
    $$VALUES ('out_of_stock')$$,
    'intake: O2 has one open hold, out_of_stock');
SELECT is((SELECT string_agg(status, ',') FROM backorder.order_event
           WHERE client_id = 'ord_in' AND order_id = 'O2' AND event = 'placed'), 'needs_review',
    'intake: O2''s placed event records needs_review');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_in', 'A', 'ord_w1')$$,
    $$VALUES (5::bigint, 5::bigint)$$,
    'intake: A on_hand 5, allocated 5');

-- Unknown SKU: held unknown_sku, the order and its line are kept.
SELECT lives_ok($$SELECT pg_temp.place('ord_in', 'O3', '2024-01-01 09:20+00', 'NOPE:1')$$,
    'intake: O3 with a SKU missing from the catalog is accepted');
SELECT results_eq($$SELECT line_no, sku, qty, allocated FROM pg_temp.lines_of('ord_in', 'O3')$$,
    $$VALUES (1, 'NOPE', 1, 0)$$,
    'intake: O3''s line is kept as written, nothing allocated');
SELECT results_eq($$SELECT reason FROM backorder.order_hold
                    WHERE client_id = 'ord_in' AND order_id = 'O3' AND released_at IS NULL$$,
    $$VALUES ('unknown_sku')$$,
    'intake: O3 is held for unknown_sku only');

-- NULL sku.
SELECT lives_ok($$SELECT pg_temp.place('ord_in', 'O4', '2024-01-01 09:30+00', ':1')$$,
    'intake: O4 with a NULL sku line is accepted');
SELECT results_eq($$SELECT reason FROM backorder.order_hold
                    WHERE client_id = 'ord_in' AND order_id = 'O4' AND released_at IS NULL$$,
    $$VALUES ('unknown_sku')$$,
    'intake: a NULL sku holds O4 for unknown_sku');
SELECT is((SELECT count(*)::int FROM backorder.order_line
           WHERE client_id = 'ord_in' AND order_id = 'O4' AND sku IS NULL), 1,
    'intake: O4''s NULL-sku line is kept');

-- Discontinued SKU, short.
SELECT lives_ok($$SELECT pg_temp.place('ord_in', 'O5', '2024-01-01 09:40+00', 'D:1')$$,
    'intake: O5 (1 of discontinued D, none on hand) placed');
SELECT results_eq($$SELECT reason FROM backorder.order_hold
                    WHERE client_id = 'ord_in' AND order_id = 'O5' AND released_at IS NULL$$,
    $$VALUES ('discontinued')$$,
    'intake: a short discontinued SKU holds O5 as discontinued, not out_of_stock');

-- Not backorderable, short.
SELECT lives_ok($$SELECT pg_temp.place('ord_in', 'O6', '2024-01-01 09:41+00', 'N:1')$$,
    'intake: O6 (1 of non-backorderable N, none on hand) placed');
SELECT results_eq($$SELECT reason FROM backorder.order_hold
                    WHERE client_id = 'ord_in' AND order_id = 'O6' AND released_at IS NULL$$,
    $$VALUES ('discontinued')$$,
    'intake: a short backorderable=false SKU holds O6 as discontinued');

-- Discontinued but in stock.
SELECT lives_ok($$SELECT pg_temp.place('ord_in', 'O7', '2024-01-01 09:42+00', 'DS:2')$$,
    'intake: O7 (2 of discontinued DS, 2 on hand) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_in') WHERE order_id = 'O7'$$,
    $$VALUES ('O7', 'ready', 2)$$,
    'intake: a discontinued SKU in stock is simply allocated: O7 ready');

-- Several reasons at once: holds are a set.
SELECT lives_ok($$SELECT pg_temp.place('ord_in', 'O8', '2024-01-01 09:43+00', 'B:1,NOPE2:1')$$,
    'intake: O8 (1 of B with none on hand, 1 of unknown NOPE2) placed');
SELECT results_eq($$SELECT reason FROM backorder.order_hold
                    WHERE client_id = 'ord_in' AND order_id = 'O8' AND released_at IS NULL ORDER BY reason$$,
    $$VALUES ('out_of_stock'), ('unknown_sku')$$,
    'intake: O8 has two open holds, out_of_stock and unknown_sku');
SELECT lives_ok($$SELECT backorder.receive('ord_in', 'B', 'ord_w1', 1)$$, 'intake: 1 unit of B received');
SELECT results_eq($$SELECT reason FROM backorder.order_hold
                    WHERE client_id = 'ord_in' AND order_id = 'O8' AND released_at IS NULL$$,
    $$VALUES ('unknown_sku')$$,
    'intake: the receipt closes O8''s out_of_stock hold, unknown_sku stays open');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_in') WHERE order_id = 'O8'$$,
    $$VALUES ('O8', 'needs_review', 1)$$,
    'intake: O8 got its unit of B and stays needs_review');
SELECT is(pg_temp.events('ord_in', 'O8', 'released'), 0, 'intake: O8 has no released event');

SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_in')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'needs_review', 3), ('O3', 'needs_review', 0),
             ('O4', 'needs_review', 0), ('O5', 'needs_review', 0), ('O6', 'needs_review', 0),
             ('O7', 'ready', 2), ('O8', 'needs_review', 1)$$,
    'intake: statuses and allocations of all eight orders');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- Release order: priority desc, then placed_at, then order_id.  Five orders of 1 unit, stock 0:
--   B (priority 0, 09:00), D (priority 5, 09:30), A (priority 0, 09:00), C (priority 0, 08:00),
--   E (priority -1, 07:00).  Expected release order: D, C, A, B, E — one unit at a time.

INSERT INTO backorder.client (client_id) VALUES ('ord_rel');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_rel', 'A');
SELECT lives_ok($$SELECT pg_temp.place('ord_rel', 'B', '2024-01-01 09:00+00', 'A:1', 0)$$, 'release order: B placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_rel', 'D', '2024-01-01 09:30+00', 'A:1', 5)$$, 'release order: D placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_rel', 'A', '2024-01-01 09:00+00', 'A:1', 0)$$, 'release order: A placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_rel', 'C', '2024-01-01 08:00+00', 'A:1', 0)$$, 'release order: C placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_rel', 'E', '2024-01-01 07:00+00', 'A:1', -1)$$, 'release order: E placed');
SELECT is(pg_temp.ready_orders('ord_rel'), '', 'release order: all five held with no stock');

SELECT lives_ok($$SELECT backorder.receive('ord_rel', 'A', 'ord_w1', 1)$$, 'release order: unit 1 received');
SELECT is(pg_temp.ready_orders('ord_rel'), 'D', 'release order: unit 1 goes to D (highest priority)');
SELECT lives_ok($$SELECT backorder.receive('ord_rel', 'A', 'ord_w1', 1)$$, 'release order: unit 2 received');
SELECT is(pg_temp.ready_orders('ord_rel'), 'C,D', 'release order: unit 2 goes to C (earliest placed_at in priority 0)');
SELECT lives_ok($$SELECT backorder.receive('ord_rel', 'A', 'ord_w1', 1)$$, 'release order: unit 3 received');
SELECT is(pg_temp.ready_orders('ord_rel'), 'A,C,D', 'release order: unit 3 goes to A (same placed_at as B, lower order_id)');
SELECT lives_ok($$SELECT backorder.receive('ord_rel', 'A', 'ord_w1', 1)$$, 'release order: unit 4 received');
SELECT is(pg_temp.ready_orders('ord_rel'), 'A,B,C,D', 'release order: unit 4 goes to B');
SELECT lives_ok($$SELECT backorder.receive('ord_rel', 'A', 'ord_w1', 1)$$, 'release order: unit 5 received');
SELECT is(pg_temp.ready_orders('ord_rel'), 'A,B,C,D,E', 'release order: unit 5 goes to E (priority -1, though placed first)');
SELECT is((SELECT string_agg(order_id, ',' ORDER BY event_id) FROM backorder.order_event
           WHERE client_id = 'ord_rel' AND event = 'released'), 'D,C,A,B,E',
    'release order: one released event each, in the order D, C, A, B, E');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- Raising a waiting order's priority moves it ahead in the queue.
INSERT INTO backorder.client (client_id) VALUES ('ord_pri');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_pri', 'A');
SELECT lives_ok($$SELECT pg_temp.place('ord_pri', 'O1', '2024-01-01 09:00+00', 'A:1')$$, 'priority change: O1 (1) placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_pri', 'O2', '2024-01-01 09:10+00', 'A:1')$$, 'priority change: O2 (1) placed after O1');
SELECT lives_ok($$UPDATE backorder.orders SET priority = 5 WHERE client_id = 'ord_pri' AND order_id = 'O2'$$,
    'priority change: O2''s priority raised to 5 while it waits');
SELECT lives_ok($$SELECT backorder.receive('ord_pri', 'A', 'ord_w1', 1)$$, 'priority change: 1 unit received');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_pri')$$,
    $$VALUES ('O1', 'needs_review', 0), ('O2', 'ready', 1)$$,
    'priority change: the unit goes to O2, now first in release order');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- Policy complete_only: units go only to orders they make complete.
-- O1 (3) then O2 (1), no stock.  Receive 1: O2 ready, O1 skipped.  Receive 2: still not enough
-- for O1 (nothing allocated to it, 2 available).  Receive 1: O1 ready.

INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('ord_co', 'complete_only');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_co', 'A');
SELECT lives_ok($$SELECT pg_temp.place('ord_co', 'O1', '2024-01-01 09:00+00', 'A:3')$$, 'complete_only: O1 (3) placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_co', 'O2', '2024-01-01 09:10+00', 'A:1')$$, 'complete_only: O2 (1) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_co')$$,
    $$VALUES ('O1', 'needs_review', 0), ('O2', 'needs_review', 0)$$,
    'complete_only: both held with nothing allocated');

SELECT lives_ok($$SELECT backorder.receive('ord_co', 'A', 'ord_w1', 1)$$, 'complete_only: 1 unit received');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_co')$$,
    $$VALUES ('O1', 'needs_review', 0), ('O2', 'ready', 1)$$,
    'complete_only: the unit skips O1 (it cannot complete it) and completes O2');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_co', 'A', 'ord_w1')$$,
    $$VALUES (1::bigint, 1::bigint)$$, 'complete_only: on_hand 1, allocated 1');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT lives_ok($$SELECT backorder.receive('ord_co', 'A', 'ord_w1', 2)$$, 'complete_only: 2 more units received');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_co')$$,
    $$VALUES ('O1', 'needs_review', 0), ('O2', 'ready', 1)$$,
    'complete_only: 2 units cannot complete O1, so O1 gets none');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_co', 'A', 'ord_w1')$$,
    $$VALUES (3::bigint, 1::bigint)$$, 'complete_only: on_hand 3, allocated 1 (2 stay available)');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$,
    'invariants hold (available units with a waiting line are consistent under complete_only)');

SELECT lives_ok($$SELECT backorder.receive('ord_co', 'A', 'ord_w1', 1)$$, 'complete_only: 1 more unit received');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_co')$$,
    $$VALUES ('O1', 'ready', 3), ('O2', 'ready', 1)$$,
    'complete_only: 3 available complete O1: ready with 3');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_co', 'A', 'ord_w1')$$,
    $$VALUES (4::bigint, 4::bigint)$$, 'complete_only: on_hand 4, allocated 4');
SELECT is(pg_temp.events('ord_co', 'O1', 'released'), 1, 'complete_only: one released event for O1');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- complete_only across SKUs: O1 needs A 1 and B 1, O2 needs B 1; 1 B on hand, no A.
-- O1 cannot complete, so the B goes to O2.  A unit of A alone completes nothing; then a unit
-- of B completes O1 (with the A waiting on the shelf).
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('ord_co2', 'complete_only');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_co2', 'A'), ('ord_co2', 'B');
SELECT lives_ok($$SELECT backorder.receive('ord_co2', 'B', 'ord_w1', 1)$$, 'complete_only 2 SKUs: 1 unit of B received');
SELECT lives_ok($$SELECT pg_temp.place('ord_co2', 'O1', '2024-01-01 09:00+00', 'A:1,B:1')$$,
    'complete_only 2 SKUs: O1 (A 1, B 1) placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_co2', 'O2', '2024-01-01 09:10+00', 'B:1')$$,
    'complete_only 2 SKUs: O2 (B 1) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_co2')$$,
    $$VALUES ('O1', 'needs_review', 0), ('O2', 'ready', 1)$$,
    'complete_only 2 SKUs: O1 takes nothing it cannot complete; O2 gets the B');
SELECT lives_ok($$SELECT backorder.receive('ord_co2', 'A', 'ord_w1', 1)$$, 'complete_only 2 SKUs: 1 unit of A received');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_co2')$$,
    $$VALUES ('O1', 'needs_review', 0), ('O2', 'ready', 1)$$,
    'complete_only 2 SKUs: the A alone does not complete O1: nothing allocated');
SELECT lives_ok($$SELECT backorder.receive('ord_co2', 'B', 'ord_w1', 1)$$, 'complete_only 2 SKUs: 1 more unit of B received');
SELECT results_eq($$SELECT line_no, sku, allocated FROM pg_temp.lines_of('ord_co2', 'O1')$$,
    $$VALUES (1, 'A', 1), (2, 'B', 1)$$,
    'complete_only 2 SKUs: the B completes O1: both lines allocated');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_co2')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'ready', 1)$$, 'complete_only 2 SKUs: O1 ready');
SELECT results_eq($$SELECT sku, on_hand, allocated FROM backorder.stock WHERE client_id = 'ord_co2' ORDER BY sku$$,
    $$VALUES ('A', 1::bigint, 1::bigint), ('B', 2::bigint, 2::bigint)$$,
    'complete_only 2 SKUs: A 1/1, B 2/2');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- Line edits.
-- (a) Reducing a partly allocated line frees only allocated units above the new qty.
-- Stock 3.  O1 (5) gets 3 and waits; O2 (1), O3 (1) wait with 0.
-- O1 5 -> 4: frees nothing (3 <= 4).  O1 4 -> 2: frees 1, which releases O2; O3 still waits.

INSERT INTO backorder.client (client_id) VALUES ('ord_red');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_red', 'A');
SELECT lives_ok($$SELECT backorder.receive('ord_red', 'A', 'ord_w1', 3)$$, 'reduce: 3 units received');
SELECT lives_ok($$SELECT pg_temp.place('ord_red', 'O1', '2024-01-01 09:00+00', 'A:5')$$, 'reduce: O1 (5) placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_red', 'O2', '2024-01-01 09:10+00', 'A:1')$$, 'reduce: O2 (1) placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_red', 'O3', '2024-01-01 09:20+00', 'A:1')$$, 'reduce: O3 (1) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_red')$$,
    $$VALUES ('O1', 'needs_review', 3), ('O2', 'needs_review', 0), ('O3', 'needs_review', 0)$$,
    'reduce: O1 holds 3 of 5, O2 and O3 wait with 0');

SELECT lives_ok($$UPDATE backorder.order_line SET qty = 4 WHERE client_id = 'ord_red' AND order_id = 'O1'$$,
    'reduce: O1''s line 5 -> 4');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_red')$$,
    $$VALUES ('O1', 'needs_review', 3), ('O2', 'needs_review', 0), ('O3', 'needs_review', 0)$$,
    'reduce: 5 -> 4 frees no allocated unit: O1 keeps 3, nobody else gets anything');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_red', 'A', 'ord_w1')$$,
    $$VALUES (3::bigint, 3::bigint)$$, 'reduce: on_hand 3, allocated 3');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT lives_ok($$UPDATE backorder.order_line SET qty = 2 WHERE client_id = 'ord_red' AND order_id = 'O1'$$,
    'reduce: O1''s line 4 -> 2');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_red')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'ready', 1), ('O3', 'needs_review', 0)$$,
    'reduce: 4 -> 2 frees exactly 1 unit: O1 ready with 2, O2 released with it, O3 still waits');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_red', 'A', 'ord_w1')$$,
    $$VALUES (3::bigint, 3::bigint)$$, 'reduce: on_hand 3, allocated 3');
SELECT is(pg_temp.events('ord_red', 'O1', 'released'), 1, 'reduce: one released event for O1');
SELECT is(pg_temp.events('ord_red', 'O2', 'released'), 1, 'reduce: one released event for O2');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- (b) A line added to an existing order is evaluated at once.
-- Stock 2.  O1 (1) ready; add a line of 1: still ready (2 allocated); add another: held.

INSERT INTO backorder.client (client_id) VALUES ('ord_add');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_add', 'A');
SELECT lives_ok($$SELECT backorder.receive('ord_add', 'A', 'ord_w1', 2)$$, 'add line: 2 units received');
SELECT lives_ok($$SELECT pg_temp.place('ord_add', 'O1', '2024-01-01 09:00+00', 'A:1')$$, 'add line: O1 (1) placed');
SELECT lives_ok($$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
                  VALUES ('ord_add', 'O1', 2, 'A', 1)$$, 'add line: line 2 (1 of A) added to O1');
SELECT results_eq($$SELECT line_no, allocated FROM pg_temp.lines_of('ord_add', 'O1')$$,
    $$VALUES (1, 1), (2, 1)$$, 'add line: the added line is allocated');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_add')$$,
    $$VALUES ('O1', 'ready', 2)$$, 'add line: O1 stays ready');
SELECT lives_ok($$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
                  VALUES ('ord_add', 'O1', 3, 'A', 1)$$, 'add line: line 3 (1 of A) added with none available');
SELECT results_eq($$SELECT line_no, allocated FROM pg_temp.lines_of('ord_add', 'O1')$$,
    $$VALUES (1, 1), (2, 1), (3, 0)$$, 'add line: lines 1 and 2 keep their units, line 3 waits');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_add')$$,
    $$VALUES ('O1', 'needs_review', 2)$$, 'add line: O1 is held');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('ord_add')$$,
    $$VALUES ('O1', 'out_of_stock')$$, 'add line: O1 held for out_of_stock');
SELECT is(pg_temp.events('ord_add', 'O1', 'held'), 1, 'add line: one held event for O1');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_add', 'A', 'ord_w1')$$,
    $$VALUES (2::bigint, 2::bigint)$$, 'add line: on_hand 2, allocated 2');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- (c) Deleted lines.  Stock A 1, C 1.  O1: A 1, B 1 (none), C 1 -> held on B.  O2: A 1 waits.
-- Delete O1's A line: its unit goes to O2.  Delete O1's B line: O1 ready.

INSERT INTO backorder.client (client_id) VALUES ('ord_del');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_del', 'A'), ('ord_del', 'B'), ('ord_del', 'C');
SELECT lives_ok($$SELECT backorder.receive('ord_del', 'A', 'ord_w1', 1)$$, 'delete line: 1 unit of A received');
SELECT lives_ok($$SELECT backorder.receive('ord_del', 'C', 'ord_w1', 1)$$, 'delete line: 1 unit of C received');
SELECT lives_ok($$SELECT pg_temp.place('ord_del', 'O1', '2024-01-01 09:00+00', 'A:1,B:1,C:1')$$,
    'delete line: O1 (A 1, B 1, C 1) placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_del', 'O2', '2024-01-01 09:10+00', 'A:1')$$,
    'delete line: O2 (A 1) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_del')$$,
    $$VALUES ('O1', 'needs_review', 2), ('O2', 'needs_review', 0)$$,
    'delete line: O1 holds A and C and waits for B; O2 waits for A');

SELECT lives_ok($$DELETE FROM backorder.order_line WHERE client_id = 'ord_del' AND order_id = 'O1' AND line_no = 1$$,
    'delete line: O1''s A line deleted');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_del')$$,
    $$VALUES ('O1', 'needs_review', 1), ('O2', 'ready', 1)$$,
    'delete line: the freed unit of A releases O2; O1 still waits for B');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_del', 'A', 'ord_w1')$$,
    $$VALUES (1::bigint, 1::bigint)$$, 'delete line: A on_hand 1, allocated 1 (to O2)');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT lives_ok($$DELETE FROM backorder.order_line WHERE client_id = 'ord_del' AND order_id = 'O1' AND line_no = 2$$,
    'delete line: O1''s B line deleted');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_del')$$,
    $$VALUES ('O1', 'ready', 1), ('O2', 'ready', 1)$$,
    'delete line: with its short line gone O1 is ready');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('ord_del')$$, 'delete line: no open hold left');
SELECT is(pg_temp.events('ord_del', 'O1', 'released'), 1, 'delete line: one released event for O1');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- (d) Raising a line's qty.  Stock 3.  O1 (2) ready; 2 -> 3: still ready with 3; 3 -> 5: held,
-- keeps its 3, waits for 2.

INSERT INTO backorder.client (client_id) VALUES ('ord_inc');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_inc', 'A');
SELECT lives_ok($$SELECT backorder.receive('ord_inc', 'A', 'ord_w1', 3)$$, 'raise qty: 3 units received');
SELECT lives_ok($$SELECT pg_temp.place('ord_inc', 'O1', '2024-01-01 09:00+00', 'A:2')$$, 'raise qty: O1 (2) placed');
SELECT lives_ok($$UPDATE backorder.order_line SET qty = 3 WHERE client_id = 'ord_inc' AND order_id = 'O1'$$,
    'raise qty: O1''s line 2 -> 3');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_inc')$$,
    $$VALUES ('O1', 'ready', 3)$$, 'raise qty: the extra unit is allocated, O1 stays ready');
SELECT lives_ok($$UPDATE backorder.order_line SET qty = 5 WHERE client_id = 'ord_inc' AND order_id = 'O1'$$,
    'raise qty: O1''s line 3 -> 5');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_inc')$$,
    $$VALUES ('O1', 'needs_review', 3)$$, 'raise qty: O1 is held with its 3 units');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('ord_inc')$$,
    $$VALUES ('O1', 'out_of_stock')$$, 'raise qty: O1 held for out_of_stock');
SELECT is(pg_temp.events('ord_inc', 'O1', 'held'), 1, 'raise qty: one held event');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_inc', 'A', 'ord_w1')$$,
    $$VALUES (3::bigint, 3::bigint)$$, 'raise qty: on_hand 3, allocated 3');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- (e) Changing a line's SKU frees what it held.  Stock A 1, B 0.  O1 (A 1) ready, O2 (A 1)
-- waits.  O1's line becomes B: O1 held, its A goes to O2.

INSERT INTO backorder.client (client_id) VALUES ('ord_sku');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_sku', 'A'), ('ord_sku', 'B');
SELECT lives_ok($$SELECT backorder.receive('ord_sku', 'A', 'ord_w1', 1)$$, 'change sku: 1 unit of A received');
SELECT lives_ok($$SELECT pg_temp.place('ord_sku', 'O1', '2024-01-01 09:00+00', 'A:1')$$, 'change sku: O1 (A 1) placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_sku', 'O2', '2024-01-01 09:10+00', 'A:1')$$, 'change sku: O2 (A 1) placed');
SELECT lives_ok($$UPDATE backorder.order_line SET sku = 'B' WHERE client_id = 'ord_sku' AND order_id = 'O1'$$,
    'change sku: O1''s line changed from A to B');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('ord_sku', 'O1')$$,
    $$VALUES (1, 'B', 1, 0, 'ord_w1')$$, 'change sku: O1''s line now waits for B with nothing allocated');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_sku')$$,
    $$VALUES ('O1', 'needs_review', 0), ('O2', 'ready', 1)$$,
    'change sku: O1 held, the freed A released O2');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_sku', 'A', 'ord_w1')$$,
    $$VALUES (1::bigint, 1::bigint)$$, 'change sku: A on_hand 1, allocated 1 (to O2)');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- (f) Correcting an unknown SKU with UPDATE re-evaluates the order.  Stock A 1.
INSERT INTO backorder.client (client_id) VALUES ('ord_fix');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_fix', 'A');
SELECT lives_ok($$SELECT backorder.receive('ord_fix', 'A', 'ord_w1', 1)$$, 'fix sku: 1 unit of A received');
SELECT lives_ok($$SELECT pg_temp.place('ord_fix', 'O1', '2024-01-01 09:00+00', 'TYPO:1')$$, 'fix sku: O1 (TYPO 1) placed');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('ord_fix')$$,
    $$VALUES ('O1', 'unknown_sku')$$, 'fix sku: O1 held for unknown_sku');
SELECT lives_ok($$UPDATE backorder.order_line SET sku = 'A' WHERE client_id = 'ord_fix' AND order_id = 'O1'$$,
    'fix sku: the line''s SKU corrected to A');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_fix')$$,
    $$VALUES ('O1', 'ready', 1)$$, 'fix sku: O1 allocated and ready');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('ord_fix')$$, 'fix sku: the unknown_sku hold is closed');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- S6, sequentially.  Stock 5; two orders of 3: exactly one ready, the other held with 2.

INSERT INTO backorder.client (client_id) VALUES ('ord_s6');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_s6', 'A');
SELECT lives_ok($$SELECT backorder.receive('ord_s6', 'A', 'ord_w1', 5)$$, 'S6: 5 units received');
SELECT lives_ok($$SELECT pg_temp.place('ord_s6', 'O1', '2024-01-01 09:00+00', 'A:3')$$, 'S6: O1 (3) placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_s6', 'O2', '2024-01-01 09:00+00', 'A:3')$$, 'S6: O2 (3) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_s6')$$,
    $$VALUES ('O1', 'ready', 3), ('O2', 'needs_review', 2)$$,
    'S6: O1 ready with 3, O2 held with the last 2');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_s6', 'A', 'ord_w1')$$,
    $$VALUES (5::bigint, 5::bigint)$$, 'S6: on_hand 5, allocated 5');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- S7, sequentially.  Stock 2, O1 (2) ready.  Ship twice: the second call returns false;
-- one shipment row, on_hand 0.

INSERT INTO backorder.client (client_id) VALUES ('ord_s7');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_s7', 'A');
SELECT lives_ok($$SELECT backorder.receive('ord_s7', 'A', 'ord_w1', 2)$$, 'S7: 2 units received');
SELECT lives_ok($$SELECT pg_temp.place('ord_s7', 'O1', '2024-01-01 09:00+00', 'A:2')$$, 'S7: O1 (2) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_s7')$$,
    $$VALUES ('O1', 'ready', 2)$$, 'S7: O1 is ready');

SELECT is(backorder.ship_order('ord_s7', 'O1'), true, 'S7: the first ship_order returns true');
SELECT is(backorder.ship_order('ord_s7', 'O1'), false, 'S7: the second ship_order returns false');

SELECT results_eq($$SELECT kind, qty, delta, order_id FROM backorder.stock_movement
                    WHERE client_id = 'ord_s7' AND kind = 'shipment'$$,
    $$VALUES ('shipment', -2::bigint, -2::bigint, 'O1')$$,
    'S7: exactly one shipment row: qty -2, delta -2, order O1');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_s7', 'A', 'ord_w1')$$,
    $$VALUES (0::bigint, 0::bigint)$$, 'S7: on_hand 0, allocated 0');
SELECT results_eq($$SELECT status, shipped_at FROM backorder.orders WHERE client_id = 'ord_s7' AND order_id = 'O1'$$,
    $$VALUES ('shipped', '2024-01-01 10:00+00'::timestamptz)$$,
    'S7: O1 shipped, shipped_at = backorder.now()');
SELECT results_eq($$SELECT line_no, allocated, shipped FROM backorder.order_line
                    WHERE client_id = 'ord_s7' AND order_id = 'O1'$$,
    $$VALUES (1, 0, 2)$$, 'S7: O1''s line shipped 2 and holds no allocation');
SELECT is(pg_temp.events('ord_s7', 'O1', 'shipped'), 1, 'S7: one shipped event');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- Shipping an order of several lines writes one shipment row per line.
INSERT INTO backorder.client (client_id) VALUES ('ord_ship');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_ship', 'A'), ('ord_ship', 'B');
SELECT lives_ok($$SELECT backorder.receive('ord_ship', 'A', 'ord_w1', 1)$$, 'ship lines: 1 unit of A received');
SELECT lives_ok($$SELECT backorder.receive('ord_ship', 'B', 'ord_w1', 3)$$, 'ship lines: 3 units of B received');
SELECT lives_ok($$SELECT pg_temp.place('ord_ship', 'O1', '2024-01-01 09:00+00', 'A:1,B:2')$$, 'ship lines: O1 (A 1, B 2) placed');
SELECT is(backorder.ship_order('ord_ship', 'O1'), true, 'ship lines: ship_order(O1) returns true');
SELECT results_eq($$SELECT sku, qty, delta, order_id FROM backorder.stock_movement
                    WHERE client_id = 'ord_ship' AND kind = 'shipment' ORDER BY sku$$,
    $$VALUES ('A', -1::bigint, -1::bigint, 'O1'), ('B', -2::bigint, -2::bigint, 'O1')$$,
    'ship lines: one shipment row per line');
SELECT results_eq($$SELECT sku, on_hand, allocated FROM backorder.stock WHERE client_id = 'ord_ship' ORDER BY sku$$,
    $$VALUES ('A', 0::bigint, 0::bigint), ('B', 1::bigint, 0::bigint)$$,
    'ship lines: A 0/0, B 1/0');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- Two lines of one SKU: a shipment row for each, and the one stock row falls by both.
INSERT INTO backorder.client (client_id) VALUES ('ord_ship2');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_ship2', 'A');
SELECT lives_ok($$SELECT backorder.receive('ord_ship2', 'A', 'ord_w1', 5)$$, 'ship one SKU twice: 5 units of A received');
SELECT lives_ok($$SELECT pg_temp.place('ord_ship2', 'O1', '2024-01-01 09:00+00', 'A:1,A:2')$$,
    'ship one SKU twice: O1 (A 1, A 2) placed');
SELECT is(backorder.ship_order('ord_ship2', 'O1'), true, 'ship one SKU twice: ship_order(O1) returns true');
SELECT results_eq($$SELECT qty, delta FROM backorder.stock_movement
                    WHERE client_id = 'ord_ship2' AND kind = 'shipment' ORDER BY movement_id$$,
    $$VALUES (-1::bigint, -1::bigint), (-2::bigint, -2::bigint)$$,
    'ship one SKU twice: one shipment row per line, in line order');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_ship2', 'A', 'ord_w1')$$,
    $$VALUES (2::bigint, 0::bigint)$$, 'ship one SKU twice: on_hand 5 - 3 = 2, allocated 0');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- Operator functions: hold_order, release_hold, cancel_order, ship_order and their events.
-- Stock 2.  O1 (2) ready, O2 (2) held out_of_stock, O3 (5) held out_of_stock.

INSERT INTO backorder.client (client_id) VALUES ('ord_ops');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_ops', 'A');
SELECT lives_ok($$SELECT backorder.receive('ord_ops', 'A', 'ord_w1', 2)$$, 'ops: 2 units received');
SELECT lives_ok($$SELECT pg_temp.place('ord_ops', 'O1', '2024-01-01 09:00+00', 'A:2')$$, 'ops: O1 (2) placed');
SELECT lives_ok($$SELECT pg_temp.place('ord_ops', 'O2', '2024-01-01 09:10+00', 'A:2')$$, 'ops: O2 (2) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_ops')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'needs_review', 0)$$, 'ops: O1 ready, O2 held');

-- A manual hold on a ready order keeps its allocation.
SELECT is(backorder.hold_order('ord_ops', 'O1'), true, 'ops: hold_order(O1) returns true');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_ops') WHERE order_id = 'O1'$$,
    $$VALUES ('O1', 'needs_review', 2)$$, 'ops: O1 is needs_review and keeps its 2 units');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_ops', 'A', 'ord_w1')$$,
    $$VALUES (2::bigint, 2::bigint)$$, 'ops: the manual hold frees nothing: allocated 2');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('ord_ops')$$,
    $$VALUES ('O1', 'manual'), ('O2', 'out_of_stock')$$, 'ops: O1 has an open manual hold');
SELECT is(pg_temp.events('ord_ops', 'O1', 'held'), 1, 'ops: one held event for O1');
SELECT is(backorder.hold_order('ord_ops', 'O1'), false,
    'ops: hold_order(O1) again with the same reason returns false');
SELECT is((SELECT count(*)::int FROM backorder.order_hold
           WHERE client_id = 'ord_ops' AND order_id = 'O1' AND reason = 'manual'), 1,
    'ops: still one manual hold on O1');
SELECT is(pg_temp.events('ord_ops', 'O1', 'held'), 1, 'ops: still one held event for O1');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- A manual hold on an already held order, then a restock: the inventory hold closes, the
-- manual one stays.
SELECT is(backorder.hold_order('ord_ops', 'O2', 'manual', 'customer asked to wait'), true,
    'ops: hold_order(O2, manual, note) returns true');
SELECT is((SELECT note FROM backorder.order_hold
           WHERE client_id = 'ord_ops' AND order_id = 'O2' AND reason = 'manual' AND released_at IS NULL),
    'customer asked to wait', 'ops: the note is kept on the hold');
SELECT is(pg_temp.events('ord_ops', 'O2', 'hold_added'), 1,
    'ops: one hold_added event for O2 (it was already held)');
SELECT lives_ok($$SELECT backorder.receive('ord_ops', 'A', 'ord_w1', 2)$$, 'ops: 2 more units received');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_ops')$$,
    $$VALUES ('O1', 'needs_review', 2), ('O2', 'needs_review', 2)$$,
    'ops: O2 gets the 2 units but stays needs_review; O1 stays held');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('ord_ops')$$,
    $$VALUES ('O1', 'manual'), ('O2', 'manual')$$,
    'ops: the restock closed O2''s out_of_stock hold, not the manual holds');
SELECT is(pg_temp.events('ord_ops', 'O2', 'released'), 0, 'ops: no released event for O2');
SELECT is((SELECT string_agg(event || ' ' || (detail->'closed' IS NOT NULL) || ' ' || (detail->'changes')::text, ', ')
             FROM backorder.order_event WHERE client_id = 'ord_ops' AND order_id = 'O2'
              AND event IN ('allocated', 'hold_released')),
    'allocated true [{"sku": "A", "units": 2, "location_id": "ord_w1"}]',
    'ops: one allocated event for O2, with the changes and the out_of_stock hold it closed (still held)');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_ops', 'A', 'ord_w1')$$,
    $$VALUES (4::bigint, 4::bigint)$$, 'ops: on_hand 4, allocated 4');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT is(backorder.release_hold('ord_ops', 'O2'), true, 'ops: release_hold(O2) returns true');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_ops') WHERE order_id = 'O2'$$,
    $$VALUES ('O2', 'ready', 2)$$, 'ops: O2 is complete and has no other hold: ready');
SELECT is(pg_temp.events('ord_ops', 'O2', 'released'), 1, 'ops: one released event for O2');
SELECT is(backorder.release_hold('ord_ops', 'O2'), false,
    'ops: release_hold(O2) again returns false (no such open hold)');
SELECT is(backorder.release_hold('ord_ops', 'O1', 'manual'), true, 'ops: release_hold(O1, manual) returns true');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_ops')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'ready', 2)$$, 'ops: O1 ready again');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('ord_ops')$$, 'ops: no open hold left');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- Cancelling frees units to the next waiter at once; cancelling a held order closes its holds.
SELECT lives_ok($$SELECT pg_temp.place('ord_ops', 'O3', '2024-01-01 09:20+00', 'A:5')$$, 'ops: O3 (5) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_ops') WHERE order_id = 'O3'$$,
    $$VALUES ('O3', 'needs_review', 0)$$, 'ops: O3 held with nothing');
SELECT is(backorder.cancel_order('ord_ops', 'O2'), true, 'ops: cancel_order(O2) returns true');
SELECT results_eq($$SELECT order_id, status, cancelled_at FROM backorder.orders
                    WHERE client_id = 'ord_ops' AND order_id = 'O2'$$,
    $$VALUES ('O2', 'cancelled', '2024-01-01 10:00+00'::timestamptz)$$,
    'ops: O2 cancelled, cancelled_at = backorder.now()');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_ops')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'cancelled', 0), ('O3', 'needs_review', 2)$$,
    'ops: O2''s 2 units go to O3 at once (O3 still short)');
SELECT is(pg_temp.events('ord_ops', 'O2', 'cancelled'), 1, 'ops: one cancelled event for O2');
SELECT is(pg_temp.events('ord_ops', 'O3', 'allocated'), 1,
    'ops: one allocated event for O3 (gained units, still held)');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT is(backorder.cancel_order('ord_ops', 'O3'), true, 'ops: cancel_order(O3), a held order, returns true');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_ops')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'cancelled', 0), ('O3', 'cancelled', 0)$$,
    'ops: O3 cancelled and holds nothing');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('ord_ops')$$, 'ops: cancelling O3 closed its hold');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_ops', 'A', 'ord_w1')$$,
    $$VALUES (4::bigint, 2::bigint)$$, 'ops: on_hand 4, allocated 2 (O1 only)');
SELECT is(backorder.cancel_order('ord_ops', 'O2'), false, 'ops: cancel_order(O2) again returns false');

SELECT is(backorder.ship_order('ord_ops', 'O1'), true, 'ops: ship_order(O1) returns true');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_ops') WHERE order_id = 'O1'$$,
    $$VALUES ('O1', 'shipped', 0)$$, 'ops: O1 shipped, nothing allocated');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_ops', 'A', 'ord_w1')$$,
    $$VALUES (2::bigint, 0::bigint)$$, 'ops: on_hand 2, allocated 0 after shipping O1');
SELECT is(pg_temp.events('ord_ops', 'O1', 'shipped'), 1, 'ops: one shipped event for O1');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- release_hold of unknown_sku after the SKU is added to the catalog re-evaluates the order.
INSERT INTO backorder.client (client_id) VALUES ('ord_unk');
SELECT lives_ok($$SELECT pg_temp.place('ord_unk', 'O1', '2024-01-01 09:00+00', 'Z:1')$$,
    'unknown_sku: O1 (1 of Z, not in the catalog) placed');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('ord_unk')$$,
    $$VALUES ('O1', 'unknown_sku')$$, 'unknown_sku: O1 held for unknown_sku');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_unk', 'Z');
SELECT lives_ok($$SELECT backorder.receive('ord_unk', 'Z', 'ord_w1', 1)$$, 'unknown_sku: Z added and 1 unit received');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('ord_unk')$$,
    $$VALUES ('O1', 'unknown_sku')$$, 'unknown_sku: the hold stays open until released');
SELECT is(backorder.release_hold('ord_unk', 'O1', 'unknown_sku'), true,
    'unknown_sku: release_hold(O1, unknown_sku) returns true');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('ord_unk', 'O1')$$,
    $$VALUES (1, 'Z', 1, 1, 'ord_w1')$$, 'unknown_sku: the re-evaluated line is allocated at ord_w1');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_unk')$$,
    $$VALUES ('O1', 'ready', 1)$$, 'unknown_sku: O1 is ready');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('ord_unk')$$, 'unknown_sku: no open hold left');
SELECT is(pg_temp.events('ord_unk', 'O1', 'released'), 1, 'unknown_sku: one released event');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('ord_unk', 'Z', 'ord_w1')$$,
    $$VALUES (1::bigint, 1::bigint)$$, 'unknown_sku: Z on_hand 1, allocated 1');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- Deferred evaluation, as in an app's transaction: the order and its lines in separate
-- statements, intake at commit.  SET CONSTRAINTS ALL IMMEDIATE fires what is pending, as
-- COMMIT would.  Several movements in one such transaction are settled together.

INSERT INTO backorder.client (client_id) VALUES ('ord_def');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_def', 'A'), ('ord_def', 'B');
SET CONSTRAINTS ALL DEFERRED;
SELECT lives_ok($$INSERT INTO backorder.orders (client_id, order_id, placed_at)
                  VALUES ('ord_def', 'O1', '2024-01-01 09:00+00')$$, 'deferred: O1 inserted without lines');
SELECT lives_ok($$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
                  VALUES ('ord_def', 'O1', 1, 'A', 1)$$, 'deferred: O1 line 1 (A 1) inserted');
SELECT lives_ok($$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
                  VALUES ('ord_def', 'O1', 2, 'B', 1)$$, 'deferred: O1 line 2 (B 1) inserted');
SELECT is((SELECT status FROM backorder.orders WHERE client_id = 'ord_def' AND order_id = 'O1'), 'new',
    'deferred: O1 is new until intake runs');
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_def')$$,
    $$VALUES ('O1', 'needs_review', 0)$$, 'deferred: at "commit" O1 is evaluated: held, nothing on hand');
SELECT is(pg_temp.events('ord_def', 'O1', 'placed'), 1, 'deferred: one placed event');
SET CONSTRAINTS ALL DEFERRED;
SELECT lives_ok($$SELECT backorder.receive('ord_def', 'A', 'ord_w1', 1)$$, 'deferred: 1 unit of A received');
SELECT lives_ok($$SELECT backorder.receive('ord_def', 'B', 'ord_w1', 1)$$, 'deferred: 1 unit of B received');
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_def')$$,
    $$VALUES ('O1', 'ready', 2)$$, 'deferred: two receipts in one transaction release O1');
SELECT is(pg_temp.events('ord_def', 'O1', 'released'), 1, 'deferred: exactly one released event');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('ord_def')$$, 'deferred: no open hold left');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- Location choice (orders.location_id NULL): the first location by priority that fills the
-- whole order, else the one with the most units available, else the preferred one.
INSERT INTO backorder.location (location_id, priority) VALUES ('loc_a', 1), ('loc_b', 2), ('loc_c', 3);

-- S10. One warehouse's shortage does not block another's stock.
-- loc_a: 1 on hand, all of it allocated to O1 (which must ship from loc_a and waits for 1 more).
-- loc_b: 3 available.  A new order for 1 is allocated at loc_b.
INSERT INTO backorder.client (client_id) VALUES ('ord_s10');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_s10', 'A');
SELECT lives_ok($$SELECT backorder.receive('ord_s10', 'A', 'loc_a', 1)$$, 'S10: 1 unit received at loc_a');
SELECT lives_ok($$SELECT pg_temp.place('ord_s10', 'O1', '2024-01-01 09:00+00', 'A:2', 0, 'loc_a')$$,
    'S10: O1 (2, must ship from loc_a) placed');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('ord_s10', 'O1')$$,
    $$VALUES (1, 'A', 2, 1, 'loc_a')$$, 'S10: O1 holds 1 at loc_a and waits there for 1');
SELECT lives_ok($$SELECT backorder.receive('ord_s10', 'A', 'loc_b', 3)$$, 'S10: 3 units received at loc_b');
SELECT lives_ok($$SELECT pg_temp.place('ord_s10', 'O2', '2024-01-01 09:10+00', 'A:1')$$,
    'S10: O2 (1, any location) placed');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('ord_s10', 'O2')$$,
    $$VALUES (1, 'A', 1, 1, 'loc_b')$$, 'S10: O2 is allocated at loc_b, not queued behind O1 at loc_a');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_s10')$$,
    $$VALUES ('O1', 'needs_review', 1), ('O2', 'ready', 1)$$, 'S10: O2 ready, O1 still waits at loc_a');
SELECT results_eq($$SELECT location_id, on_hand, allocated FROM backorder.stock
                    WHERE client_id = 'ord_s10' AND (on_hand <> 0 OR allocated <> 0) ORDER BY location_id$$,
    $$VALUES ('loc_a', 1::bigint, 1::bigint), ('loc_b', 3::bigint, 1::bigint)$$,
    'S10: loc_a 1/1, loc_b 3/1');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- Stock of A: loc_a 1, loc_b 5, loc_c 5.
INSERT INTO backorder.client (client_id) VALUES ('ord_loc');
INSERT INTO backorder.sku (client_id, sku) VALUES ('ord_loc', 'A'), ('ord_loc', 'Y');
SELECT lives_ok($$SELECT backorder.receive('ord_loc', 'A', 'loc_a', 1)$$, 'location: 1 unit received at loc_a');
SELECT lives_ok($$SELECT backorder.receive('ord_loc', 'A', 'loc_b', 5)$$, 'location: 5 units received at loc_b');
SELECT lives_ok($$SELECT backorder.receive('ord_loc', 'A', 'loc_c', 5)$$, 'location: 5 units received at loc_c');

SELECT lives_ok($$SELECT pg_temp.place('ord_loc', 'O1', '2024-01-01 09:00+00', 'A:3')$$, 'location: O1 (3) placed');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('ord_loc', 'O1')$$,
    $$VALUES (1, 'A', 3, 3, 'loc_b')$$,
    'location: O1 goes to loc_b, the first location by priority that fills it (loc_a has 1)');

SELECT lives_ok($$SELECT pg_temp.place('ord_loc', 'O2', '2024-01-01 09:10+00', 'A:8')$$, 'location: O2 (8) placed');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('ord_loc', 'O2')$$,
    $$VALUES (1, 'A', 8, 5, 'loc_c')$$,
    'location: no location fills O2; it goes to loc_c, the one with most available (5 vs 1 and 2)');

SELECT lives_ok($$SELECT pg_temp.place('ord_loc', 'O3', '2024-01-01 09:20+00', 'Y:1')$$, 'location: O3 (1 of Y, none anywhere) placed');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('ord_loc', 'O3')$$,
    $$VALUES (1, 'Y', 1, 0, 'loc_a')$$,
    'location: with no units anywhere O3 waits at the preferred location, loc_a');
SELECT lives_ok($$SELECT backorder.receive('ord_loc', 'Y', 'loc_a', 1)$$, 'location: 1 unit of Y received at loc_a');

SELECT results_eq($$SELECT * FROM pg_temp.orders_of('ord_loc')$$,
    $$VALUES ('O1', 'ready', 3), ('O2', 'needs_review', 5), ('O3', 'ready', 1)$$,
    'location: O1 ready, O2 held with 5 of 8, O3 released by the receipt where it waits');
SELECT results_eq($$SELECT sku, location_id, on_hand, allocated FROM backorder.stock
                    WHERE client_id = 'ord_loc' AND (on_hand <> 0 OR allocated <> 0) ORDER BY sku, location_id$$,
    $$VALUES ('A', 'loc_a', 1::bigint, 0::bigint), ('A', 'loc_b', 5::bigint, 3::bigint),
             ('A', 'loc_c', 5::bigint, 5::bigint), ('Y', 'loc_a', 1::bigint, 1::bigint)$$,
    'location: stock per location');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
