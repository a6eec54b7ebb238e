-- scenarios_decrease.sql — stock falling below what is allocated (SCENARIOS.md S8 and its kind):
-- counts and damage adjustments take units back from the newest orders in reverse release
-- order (lowest priority first, then latest placed_at, then highest order_id); a later
-- increase releases them again in release order.
--
-- One client per scenario, one warehouse dec_w1, SKU 'A', policy reserve.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-01-01 10:00+00';

SELECT plan(68);

-- ---------------------------------------------------------------------------------------------
-- Helpers (pg_temp: gone at ROLLBACK).

\ir lib/scenario_helpers.sql

INSERT INTO backorder.location (location_id, priority) VALUES ('dec_w1', 1);
INSERT INTO backorder.client (client_id) VALUES ('dec_s8'), ('dec_dmg'), ('dec_held'), ('dec_prio');
INSERT INTO backorder.sku (client_id, sku)
VALUES ('dec_s8', 'A'), ('dec_dmg', 'A'), ('dec_held', 'A'), ('dec_prio', 'A');

-- =============================================================================================
-- S8. A count below allocations takes back from the newest.
-- Stock 4; O1 (2) and O2 (2) ready.  Count 3: O2 back to needs_review with 1 allocated, O1
-- untouched, exactly one de-allocation event (O2's).

SELECT lives_ok($$SELECT backorder.receive('dec_s8', 'A', 'dec_w1', 4)$$, 'S8: 4 units of A received');
SELECT lives_ok($$SELECT pg_temp.place('dec_s8', 'O1', '2024-01-01 09:00+00', 'A:2')$$,
    'S8: O1 (2 of A) placed');
SELECT lives_ok($$SELECT pg_temp.place('dec_s8', 'O2', '2024-01-01 09:10+00', 'A:2')$$,
    'S8: O2 (2 of A) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('dec_s8')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'ready', 2)$$,
    'S8: both orders ready with 2 each');

SELECT lives_ok($$SELECT backorder.count_stock('dec_s8', 'A', 'dec_w1', 3, 'cycle count')$$,
    'S8: a count of 3 is recorded');

SELECT results_eq($$SELECT kind, qty, delta FROM backorder.stock_movement
                    WHERE client_id = 'dec_s8' AND kind = 'count'$$,
    $$VALUES ('count', 3::bigint, -1::bigint)$$,
    'S8: the count row records counted 3 and delta -1');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('dec_s8')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'needs_review', 1)$$,
    'S8: the unit is taken back from the newest order: O2 held with 1, O1 ready with 2');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('dec_s8', 'A', 'dec_w1')$$,
    $$VALUES (3::bigint, 3::bigint)$$,
    'S8: on_hand 3, allocated 3');
SELECT is((SELECT count(*)::int FROM backorder.order_event
           WHERE client_id = 'dec_s8' AND event = 'deallocated'), 1,
    'S8: exactly one deallocated event in all');
SELECT is(pg_temp.events('dec_s8', 'O2', 'deallocated'), 1, 'S8: the deallocated event is O2''s');
SELECT results_eq($$SELECT event, status FROM backorder.order_event
                    WHERE client_id = 'dec_s8' AND order_id = 'O1' ORDER BY event_id$$,
    $$VALUES ('placed', 'ready')$$,
    'S8: O1 is untouched: its only event is placed (ready)');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('dec_s8')$$,
    $$VALUES ('O2', 'out_of_stock')$$,
    'S8: O2 is held for out_of_stock, O1 has no hold');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- Damage: an adjustment that only eats available units takes nothing back; one that goes
-- below the allocation takes back from the newest order first, then the next.
-- Stock 7; O1 (3), O2 (2) ready.  -2 damaged: 5/5, both ready.  -3 damaged: on_hand 2,
-- O2 loses its 2, O1 loses 1.

SELECT lives_ok($$SELECT backorder.receive('dec_dmg', 'A', 'dec_w1', 7)$$, 'damage: 7 units of A received');
SELECT lives_ok($$SELECT pg_temp.place('dec_dmg', 'O1', '2024-01-01 09:00+00', 'A:3')$$,
    'damage: O1 (3 of A) placed');
SELECT lives_ok($$SELECT pg_temp.place('dec_dmg', 'O2', '2024-01-01 09:10+00', 'A:2')$$,
    'damage: O2 (2 of A) placed');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('dec_dmg', 'A', 'dec_w1')$$,
    $$VALUES (7::bigint, 5::bigint)$$,
    'damage: on_hand 7, allocated 5, 2 available');

SELECT lives_ok($$SELECT backorder.adjust('dec_dmg', 'A', 'dec_w1', -2, 'damaged')$$,
    'damage: an adjustment of -2 (damaged) is recorded');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('dec_dmg')$$,
    $$VALUES ('O1', 'ready', 3), ('O2', 'ready', 2)$$,
    'damage: losing only available units takes nothing back: both orders stay ready');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('dec_dmg', 'A', 'dec_w1')$$,
    $$VALUES (5::bigint, 5::bigint)$$,
    'damage: on_hand 5, allocated 5');
SELECT is((SELECT count(*)::int FROM backorder.order_event
           WHERE client_id = 'dec_dmg' AND event = 'deallocated'), 0,
    'damage: no deallocated event yet');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT lives_ok($$SELECT backorder.adjust('dec_dmg', 'A', 'dec_w1', -3, 'damaged')$$,
    'damage: an adjustment of -3 (damaged) is recorded');
SELECT results_eq($$SELECT kind, qty, delta, reason FROM backorder.stock_movement
                    WHERE client_id = 'dec_dmg' AND kind = 'adjustment' ORDER BY movement_id$$,
    $$VALUES ('adjustment', -2::bigint, -2::bigint, 'damaged'),
             ('adjustment', -3::bigint, -3::bigint, 'damaged')$$,
    'damage: the ledger holds both adjustments with their deltas');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('dec_dmg', 'A', 'dec_w1')$$,
    $$VALUES (2::bigint, 2::bigint)$$,
    'damage: on_hand 2, allocated 2');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('dec_dmg')$$,
    $$VALUES ('O1', 'needs_review', 2), ('O2', 'needs_review', 0)$$,
    'damage: 3 taken back newest first: O2 loses 2 (0 left), O1 loses 1 (2 left)');
SELECT is(pg_temp.events('dec_dmg', 'O2', 'deallocated'), 1, 'damage: one deallocated event for O2');
SELECT is(pg_temp.events('dec_dmg', 'O1', 'deallocated'), 1, 'damage: one deallocated event for O1');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('dec_dmg')$$,
    $$VALUES ('O1', 'out_of_stock'), ('O2', 'out_of_stock')$$,
    'damage: both orders held for out_of_stock');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- Take-back reaches held orders too, newest first, and writes one event per order however many
-- of its lines lose units.  Stock 5; O1 (2) ready, O2 (two lines of 1) ready, O3 (3) held with 1.
-- -3 damaged: O3 loses its 1, O2 loses both lines' units, O1 keeps its 2.

SELECT lives_ok($$SELECT backorder.receive('dec_held', 'A', 'dec_w1', 5)$$, 'held take-back: 5 units received');
SELECT lives_ok($$SELECT pg_temp.place('dec_held', 'O1', '2024-01-01 09:00+00', 'A:2')$$, 'held take-back: O1 (2) placed');
SELECT lives_ok($$SELECT pg_temp.place('dec_held', 'O2', '2024-01-01 09:10+00', 'A:1,A:1')$$,
    'held take-back: O2 (two lines of 1) placed');
SELECT lives_ok($$SELECT pg_temp.place('dec_held', 'O3', '2024-01-01 09:20+00', 'A:3')$$, 'held take-back: O3 (3) placed');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('dec_held')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'ready', 2), ('O3', 'needs_review', 1)$$,
    'held take-back: O1 and O2 ready, O3 held with 1');

SELECT lives_ok($$SELECT backorder.adjust('dec_held', 'A', 'dec_w1', -3, 'damaged')$$,
    'held take-back: an adjustment of -3 (damaged) is recorded');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('dec_held')$$,
    $$VALUES ('O1', 'ready', 2), ('O2', 'needs_review', 0), ('O3', 'needs_review', 0)$$,
    'held take-back: O3 (newest, held) loses 1, O2 loses 2, O1 keeps 2');
SELECT results_eq($$SELECT line_no, allocated FROM backorder.order_line
                    WHERE client_id = 'dec_held' AND order_id = 'O2' ORDER BY line_no$$,
    $$VALUES (1, 0), (2, 0)$$, 'held take-back: both of O2''s lines lost their unit');
SELECT is(pg_temp.events('dec_held', 'O2', 'deallocated'), 1,
    'held take-back: one deallocated event for O2, not one per line');
SELECT is(pg_temp.events('dec_held', 'O3', 'deallocated'), 1, 'held take-back: one deallocated event for O3');
SELECT is(pg_temp.events('dec_held', 'O1', 'deallocated'), 0, 'held take-back: no deallocated event for O1');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('dec_held', 'A', 'dec_w1')$$,
    $$VALUES (2::bigint, 2::bigint)$$, 'held take-back: on_hand 2, allocated 2');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- =============================================================================================
-- Take-back across priorities.  Reverse release order is priority ascending, then the latest
-- placed_at: the lowest-priority order loses first even though it is the oldest.
-- Stock 6; L (priority 0, 09:00), M (priority 5, 09:10), H (priority 10, 09:20), 2 each, ready.
-- Count 3: L loses 2, M loses 1, H keeps 2.  Then receipts re-release in release order: M, then L.

SELECT lives_ok($$SELECT backorder.receive('dec_prio', 'A', 'dec_w1', 6)$$, 'priority: 6 units of A received');
SELECT lives_ok($$SELECT pg_temp.place('dec_prio', 'L', '2024-01-01 09:00+00', 'A:2', 0)$$,
    'priority: L (priority 0, placed first) placed for 2');
SELECT lives_ok($$SELECT pg_temp.place('dec_prio', 'M', '2024-01-01 09:10+00', 'A:2', 5)$$,
    'priority: M (priority 5) placed for 2');
SELECT lives_ok($$SELECT pg_temp.place('dec_prio', 'H', '2024-01-01 09:20+00', 'A:2', 10)$$,
    'priority: H (priority 10, placed last) placed for 2');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('dec_prio')$$,
    $$VALUES ('H', 'ready', 2), ('L', 'ready', 2), ('M', 'ready', 2)$$,
    'priority: all three ready with 2 each');

SELECT lives_ok($$SELECT backorder.count_stock('dec_prio', 'A', 'dec_w1', 3, 'cycle count')$$,
    'priority: a count of 3 is recorded');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('dec_prio')$$,
    $$VALUES ('H', 'ready', 2), ('L', 'needs_review', 0), ('M', 'needs_review', 1)$$,
    'priority: lowest priority loses first: L loses 2, M loses 1, H keeps 2');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('dec_prio', 'A', 'dec_w1')$$,
    $$VALUES (3::bigint, 3::bigint)$$,
    'priority: on_hand 3, allocated 3');
SELECT is(pg_temp.events('dec_prio', 'L', 'deallocated'), 1, 'priority: one deallocated event for L');
SELECT is(pg_temp.events('dec_prio', 'M', 'deallocated'), 1, 'priority: one deallocated event for M');
SELECT is(pg_temp.events('dec_prio', 'H', 'deallocated'), 0, 'priority: no deallocated event for H');
SELECT results_eq($$SELECT * FROM pg_temp.open_holds('dec_prio')$$,
    $$VALUES ('L', 'out_of_stock'), ('M', 'out_of_stock')$$,
    'priority: L and M held for out_of_stock');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT lives_ok($$SELECT backorder.receive('dec_prio', 'A', 'dec_w1', 1)$$, 'priority: 1 unit received');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('dec_prio')$$,
    $$VALUES ('H', 'ready', 2), ('L', 'needs_review', 0), ('M', 'ready', 2)$$,
    'priority: the unit goes to M (priority 5) first: M released, L still waits with 0');
SELECT is(pg_temp.events('dec_prio', 'M', 'released'), 1, 'priority: one released event for M');
SELECT is(pg_temp.events('dec_prio', 'L', 'released'), 0, 'priority: no released event for L yet');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT lives_ok($$SELECT backorder.receive('dec_prio', 'A', 'dec_w1', 2)$$, 'priority: 2 units received');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('dec_prio')$$,
    $$VALUES ('H', 'ready', 2), ('L', 'ready', 2), ('M', 'ready', 2)$$,
    'priority: the later receipt re-releases L: all three ready');
SELECT is(pg_temp.events('dec_prio', 'L', 'released'), 1, 'priority: one released event for L');
SELECT is(pg_temp.events('dec_prio', 'M', 'released'), 1, 'priority: still one released event for M');
SELECT is_empty($$SELECT * FROM pg_temp.open_holds('dec_prio')$$, 'priority: no open hold left');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('dec_prio', 'A', 'dec_w1')$$,
    $$VALUES (6::bigint, 6::bigint)$$,
    'priority: on_hand 6, allocated 6');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
