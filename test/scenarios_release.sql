-- scenarios_release.sql — SCENARIOS.md S1, S2, S3, S4, S5, S11, S12: when units are released
-- to waiting orders, and (as important) when they are not.
--
-- One client per scenario (rel_s1 ... rel_s12), one warehouse rel_w1, SKU 'A', policy reserve.
-- SET CONSTRAINTS ALL IMMEDIATE makes intake run at the end of each statement, so an order
-- and its lines are inserted in one statement (pg_temp.place), as an app's transaction would.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-01-01 10:00+00';

SELECT plan(90);

-- ---------------------------------------------------------------------------------------------
-- Helpers (pg_temp: gone at ROLLBACK).

\ir lib/scenario_helpers.sql

-- Backordered units of a SKU: ordered minus allocated over the lines of open orders
-- (what backordered_skus must show; computed here because the view does not exist yet).
CREATE FUNCTION pg_temp.backordered(p_client text, p_sku text)
RETURNS int LANGUAGE sql AS $$
    SELECT coalesce(sum(l.qty - l.allocated), 0)::int
    FROM backorder.order_line l
    JOIN backorder.orders o ON o.client_id = l.client_id AND o.order_id = l.order_id
    WHERE l.client_id = p_client AND l.sku = p_sku
      AND o.status IN ('new', 'needs_review', 'ready')
$$;

INSERT INTO backorder.location (location_id, priority) VALUES ('rel_w1', 1);
INSERT INTO backorder.client (client_id)
VALUES ('rel_s1'), ('rel_s2'), ('rel_s3'), ('rel_s4'), ('rel_s5a'), ('rel_s5b'), ('rel_s11'), ('rel_s12');
INSERT INTO backorder.sku (client_id, sku)
SELECT client_id, 'A' FROM backorder.client WHERE client_id LIKE 'rel\_s%';

-- =============================================================================================
-- S1. Reducing a waiting line is not supply.
-- Stock 0.  O1 needs 1, O2 needs 2, O3 needs 1, all held.  O2's line goes to 1: nothing is
-- released, on_hand 0, allocated 0, all three held.

SELECT lives_ok($$SELECT pg_temp.place('rel_s1', 'O1', '2024-01-01 09:00+00', 'A:1')$$,
    'S1: O1 (1 of A) placed with no stock');
SELECT lives_ok($$SELECT pg_temp.place('rel_s1', 'O2', '2024-01-01 09:10+00', 'A:2')$$,
    'S1: O2 (2 of A) placed with no stock');
SELECT lives_ok($$SELECT pg_temp.place('rel_s1', 'O3', '2024-01-01 09:20+00', 'A:1')$$,
    'S1: O3 (1 of A) placed with no stock');

SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s1')$$,
    $$VALUES ('O1', 'needs_review', 0), ('O2', 'needs_review', 0), ('O3', 'needs_review', 0)$$,
    'S1: with stock 0 all three orders are held with nothing allocated');

SELECT lives_ok($$UPDATE backorder.order_line SET qty = 1
                  WHERE client_id = 'rel_s1' AND order_id = 'O2' AND line_no = 1$$,
    'S1: O2''s line is reduced from 2 to 1');

SELECT is((SELECT qty FROM backorder.order_line
           WHERE client_id = 'rel_s1' AND order_id = 'O2' AND line_no = 1), 1,
    'S1: O2''s line now asks for 1');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s1')$$,
    $$VALUES ('O1', 'needs_review', 0), ('O2', 'needs_review', 0), ('O3', 'needs_review', 0)$$,
    'S1: reducing a never-allocated line releases nothing: all three still held, nothing allocated');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('rel_s1', 'A', 'rel_w1')$$,
    $$VALUES (0::bigint, 0::bigint)$$,
    'S1: on_hand 0 and allocated 0 after the reduction');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('rel_s1')$$,
    $$VALUES ('O1', 'out_of_stock'), ('O2', 'out_of_stock'), ('O3', 'out_of_stock')$$,
    'S1: each order keeps exactly one open out_of_stock hold');
SELECT is((SELECT count(*)::int FROM backorder.order_event
           WHERE client_id = 'rel_s1' AND event IN ('released', 'allocated')), 0,
    'S1: no released or allocated event was written');
SELECT is(pg_temp.backordered('rel_s1', 'A'), 3,
    'S1: 3 units backordered (1 + 1 + 1)');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- S2. An absolute count is not a receipt.
-- Stock 0, O1 (3) held.  Count stock at 0: nothing released; the ledger records a count with delta 0.

SELECT lives_ok($$SELECT pg_temp.place('rel_s2', 'O1', '2024-01-01 09:00+00', 'A:3')$$,
    'S2: O1 (3 of A) placed with no stock');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s2')$$,
    $$VALUES ('O1', 'needs_review', 0)$$,
    'S2: O1 is held with nothing allocated');

SELECT lives_ok($$SELECT backorder.count_stock('rel_s2', 'A', 'rel_w1', 0, 'cycle count')$$,
    'S2: a count of 0 is recorded');

SELECT results_eq($$SELECT kind, qty, delta, reason FROM backorder.stock_movement
                    WHERE client_id = 'rel_s2' ORDER BY movement_id$$,
    $$VALUES ('count', 0::bigint, 0::bigint, 'cycle count')$$,
    'S2: the ledger holds one count row: counted 0, delta 0');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s2')$$,
    $$VALUES ('O1', 'needs_review', 0)$$,
    'S2: a count of 0 releases nothing: O1 still held, nothing allocated');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('rel_s2', 'A', 'rel_w1')$$,
    $$VALUES (0::bigint, 0::bigint)$$,
    'S2: on_hand 0, allocated 0');
SELECT is(pg_temp.events('rel_s2', 'O1', 'released'), 0,
    'S2: no released event');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('rel_s2')$$,
    $$VALUES ('O1', 'out_of_stock')$$,
    'S2: O1 keeps its out_of_stock hold');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- S3. A count below waiting demand keeps the rest waiting.
-- Stock 0; O1 4, O2 6 held.  Count 5: O1 ready (4), O2 allocated 1 and still held, 5 units short.

SELECT lives_ok($$SELECT pg_temp.place('rel_s3', 'O1', '2024-01-01 09:00+00', 'A:4')$$,
    'S3: O1 (4 of A) placed with no stock');
SELECT lives_ok($$SELECT pg_temp.place('rel_s3', 'O2', '2024-01-01 09:10+00', 'A:6')$$,
    'S3: O2 (6 of A) placed with no stock');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s3')$$,
    $$VALUES ('O1', 'needs_review', 0), ('O2', 'needs_review', 0)$$,
    'S3: both orders held with nothing allocated');
SELECT is(pg_temp.backordered('rel_s3', 'A'), 10, 'S3: 10 units backordered before the count');

SELECT lives_ok($$SELECT backorder.count_stock('rel_s3', 'A', 'rel_w1', 5, 'cycle count')$$,
    'S3: a count of 5 is recorded');

SELECT results_eq($$SELECT kind, qty, delta FROM backorder.stock_movement
                    WHERE client_id = 'rel_s3' ORDER BY movement_id$$,
    $$VALUES ('count', 5::bigint, 5::bigint)$$,
    'S3: the count row records counted 5 and delta +5');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s3')$$,
    $$VALUES ('O1', 'ready', 4), ('O2', 'needs_review', 1)$$,
    'S3: O1 ready with 4, O2 held with the remaining 1');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('rel_s3', 'A', 'rel_w1')$$,
    $$VALUES (5::bigint, 5::bigint)$$,
    'S3: on_hand 5, allocated 5');
SELECT is(pg_temp.backordered('rel_s3', 'A'), 5,
    'S3: 5 units still backordered (O2: 6 ordered, 1 allocated)');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('rel_s3')$$,
    $$VALUES ('O2', 'out_of_stock')$$,
    'S3: only O2 keeps an open hold (out_of_stock)');
SELECT is(pg_temp.events('rel_s3', 'O1', 'released'), 1, 'S3: O1 has one released event');
SELECT is(pg_temp.events('rel_s3', 'O2', 'released'), 0, 'S3: O2 has no released event');
SELECT is(pg_temp.events('rel_s3', 'O2', 'allocated'), 1,
    'S3: O2 has one allocated event (gained a unit, still held)');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- S4. An order with several short units is released once, completely.
-- O1 has two lines of the same SKU (1 and 1), both waiting.  Receive 2: O1 ready, one release event.

SELECT lives_ok($$SELECT pg_temp.place('rel_s4', 'O1', '2024-01-01 09:00+00', 'A:1,A:1')$$,
    'S4: O1 placed with two lines of A (1 and 1) and no stock');
SELECT results_eq($$SELECT line_no, allocated FROM backorder.order_line
                    WHERE client_id = 'rel_s4' AND order_id = 'O1' ORDER BY line_no$$,
    $$VALUES (1, 0), (2, 0)$$,
    'S4: both lines wait with nothing allocated');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s4')$$,
    $$VALUES ('O1', 'needs_review', 0)$$,
    'S4: O1 is held');

SELECT lives_ok($$SELECT backorder.receive('rel_s4', 'A', 'rel_w1', 2, 'PO-S4')$$,
    'S4: 2 units of A received');

SELECT results_eq($$SELECT line_no, allocated FROM backorder.order_line
                    WHERE client_id = 'rel_s4' AND order_id = 'O1' ORDER BY line_no$$,
    $$VALUES (1, 1), (2, 1)$$,
    'S4: each line gets its unit');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s4')$$,
    $$VALUES ('O1', 'ready', 2)$$,
    'S4: O1 is ready with both units');
SELECT is(pg_temp.events('rel_s4', 'O1', 'released'), 1,
    'S4: exactly one released event for O1');
SELECT is((SELECT string_agg(status, ',') FROM backorder.order_event
           WHERE client_id = 'rel_s4' AND order_id = 'O1' AND event = 'released'), 'ready',
    'S4: the released event records status ready');
SELECT is(pg_temp.events('rel_s4', 'O1', 'allocated'), 0,
    'S4: no intermediate allocated event (both lines filled by one receipt)');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('rel_s4')$$,
    'S4: O1 has no open hold left');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('rel_s4', 'A', 'rel_w1')$$,
    $$VALUES (2::bigint, 2::bigint)$$,
    'S4: on_hand 2, allocated 2');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- S5. Every real increase releases, not only receipts.
-- (a) O1 (2) held; a positive adjustment of 2 (found stock) releases it.

SELECT lives_ok($$SELECT pg_temp.place('rel_s5a', 'O1', '2024-01-01 09:00+00', 'A:2')$$,
    'S5a: O1 (2 of A) placed with no stock');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s5a')$$,
    $$VALUES ('O1', 'needs_review', 0)$$,
    'S5a: O1 is held');

SELECT lives_ok($$SELECT backorder.adjust('rel_s5a', 'A', 'rel_w1', 2, 'found stock')$$,
    'S5a: an adjustment of +2 (found stock) is recorded');

SELECT results_eq($$SELECT kind, qty, delta, reason FROM backorder.stock_movement
                    WHERE client_id = 'rel_s5a' ORDER BY movement_id$$,
    $$VALUES ('adjustment', 2::bigint, 2::bigint, 'found stock')$$,
    'S5a: the ledger holds the adjustment with delta +2');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s5a')$$,
    $$VALUES ('O1', 'ready', 2)$$,
    'S5a: a positive adjustment releases O1 with 2 allocated');
SELECT is(pg_temp.events('rel_s5a', 'O1', 'released'), 1, 'S5a: one released event');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('rel_s5a')$$, 'S5a: no open hold left');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('rel_s5a', 'A', 'rel_w1')$$,
    $$VALUES (2::bigint, 2::bigint)$$,
    'S5a: on_hand 2, allocated 2');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- (b) O1 (2) held; a return of 2 releases it.

SELECT lives_ok($$SELECT pg_temp.place('rel_s5b', 'O1', '2024-01-01 09:00+00', 'A:2')$$,
    'S5b: O1 (2 of A) placed with no stock');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s5b')$$,
    $$VALUES ('O1', 'needs_review', 0)$$,
    'S5b: O1 is held');

SELECT lives_ok($$INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, reference)
                  VALUES ('rel_s5b', 'A', 'rel_w1', 'return', 2, 'RMA-1')$$,
    'S5b: a return of 2 is recorded');

SELECT results_eq($$SELECT kind, qty, delta, reference FROM backorder.stock_movement
                    WHERE client_id = 'rel_s5b' ORDER BY movement_id$$,
    $$VALUES ('return', 2::bigint, 2::bigint, 'RMA-1')$$,
    'S5b: the ledger holds the return with delta +2');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s5b')$$,
    $$VALUES ('O1', 'ready', 2)$$,
    'S5b: a return releases O1 with 2 allocated');
SELECT is(pg_temp.events('rel_s5b', 'O1', 'released'), 1, 'S5b: one released event');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('rel_s5b')$$, 'S5b: no open hold left');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('rel_s5b', 'A', 'rel_w1')$$,
    $$VALUES (2::bigint, 2::bigint)$$,
    'S5b: on_hand 2, allocated 2');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- S11. Backordered quantity counts allocations, not the shelf.
-- Stock 6.  O1 (4) ready.  O2 (4) arrives: held with 2 allocated and 2 short; 2 backordered.

SELECT lives_ok($$SELECT backorder.receive('rel_s11', 'A', 'rel_w1', 6)$$,
    'S11: 6 units of A received');
SELECT lives_ok($$SELECT pg_temp.place('rel_s11', 'O1', '2024-01-01 09:00+00', 'A:4')$$,
    'S11: O1 (4 of A) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s11')$$,
    $$VALUES ('O1', 'ready', 4)$$,
    'S11: O1 is ready at once with 4 allocated');
SELECT lives_ok($$SELECT pg_temp.place('rel_s11', 'O2', '2024-01-01 09:10+00', 'A:4')$$,
    'S11: O2 (4 of A) placed');

SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s11')$$,
    $$VALUES ('O1', 'ready', 4), ('O2', 'needs_review', 2)$$,
    'S11: O2 is held with the 2 units left on the shelf');
SELECT is(pg_temp.backordered('rel_s11', 'A'), 2,
    'S11: 2 units backordered (O2: 4 ordered, 2 allocated)');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('rel_s11', 'A', 'rel_w1')$$,
    $$VALUES (6::bigint, 6::bigint)$$,
    'S11: on_hand 6, allocated 6');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('rel_s11')$$,
    $$VALUES ('O2', 'out_of_stock')$$,
    'S11: O2 holds for out_of_stock');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- S12. Cancellation frees exactly what was allocated.
-- Stock 2; O1 (2) ready; O2 (2) held.  Cancel O1: O2 ready in the same transaction.
-- Cancel O1 again: returns false, nothing changes, O1 holds no allocation.

SELECT lives_ok($$SELECT backorder.receive('rel_s12', 'A', 'rel_w1', 2)$$,
    'S12: 2 units of A received');
SELECT lives_ok($$SELECT pg_temp.place('rel_s12', 'O1', '2024-01-01 09:00+00', 'A:2')$$,
    'S12: O1 (2 of A) placed');
SELECT lives_ok($$SELECT pg_temp.place('rel_s12', 'O2', '2024-01-01 09:10+00', 'A:2')$$,
    'S12: O2 (2 of A) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s12')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'needs_review', 0)$$,
    'S12: O1 ready with 2, O2 held with 0');

SELECT is(backorder.cancel_order('rel_s12', 'O1'), true, 'S12: cancel_order(O1) returns true');

SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s12')$$,
    $$VALUES ('O1', 'cancelled', 0), ('O2', 'ready', 2)$$,
    'S12: O1 cancelled with nothing allocated, O2 ready with the 2 freed units');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('rel_s12', 'A', 'rel_w1')$$,
    $$VALUES (2::bigint, 2::bigint)$$,
    'S12: on_hand 2, allocated 2 after the cancellation');
SELECT is(pg_temp.events('rel_s12', 'O1', 'cancelled'), 1, 'S12: O1 has one cancelled event');
SELECT is(pg_temp.events('rel_s12', 'O2', 'released'), 1, 'S12: O2 has one released event');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('rel_s12')$$, 'S12: no open hold left');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT is(backorder.cancel_order('rel_s12', 'O1'), false,
    'S12: cancelling O1 again returns false');

SELECT results_eq($$SELECT * FROM pg_temp.orders_of('rel_s12')$$,
    $$VALUES ('O1', 'cancelled', 0), ('O2', 'ready', 2)$$,
    'S12: the second cancel changes nothing');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('rel_s12', 'A', 'rel_w1')$$,
    $$VALUES (2::bigint, 2::bigint)$$,
    'S12: stock unchanged (on_hand 2, allocated 2), never negative');
SELECT is(pg_temp.events('rel_s12', 'O1', 'cancelled'), 1,
    'S12: still exactly one cancelled event for O1');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
