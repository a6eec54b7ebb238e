-- bad_isolation_level.sql — engine paths refuse REPEATABLE READ (and SERIALIZABLE) with SQLSTATE
-- 0A000: orders and stock change under row locks and must see what others committed.
-- (semantics.md, update of 19:20.)  The whole file runs in one REPEATABLE READ transaction.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-01-01 10:00+00';

SELECT plan(10);

-- Catalog rows are plain app data, not engine paths.
INSERT INTO backorder.client (client_id) VALUES ('iso');
INSERT INTO backorder.location (location_id, priority) VALUES ('iso_w1', 1);
INSERT INTO backorder.sku (client_id, sku) VALUES ('iso', 'A');

SELECT throws_ok($$SELECT backorder.receive('iso', 'A', 'iso_w1', 5)$$,
    '0A000', NULL, 'a receipt under REPEATABLE READ is rejected (0A000)');
SELECT is((SELECT count(*)::int FROM backorder.stock_movement WHERE client_id = 'iso'), 0,
    'no ledger row was written');
SELECT is((SELECT count(*)::int FROM backorder.stock WHERE client_id = 'iso'), 0,
    'no stock row was written');

SELECT throws_ok($$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at)
               VALUES ('iso', 'O1', '2024-01-01 09:00+00') RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT client_id, order_id, 1, 'A', 1 FROM o$$,
    '0A000', NULL, 'placing an order under REPEATABLE READ is rejected at intake (0A000)');
SELECT is((SELECT count(*)::int FROM backorder.orders WHERE client_id = 'iso'), 0,
    'no order was written');

SELECT throws_ok($$SELECT backorder.adjust('iso', 'A', 'iso_w1', 1, 'found')$$,
    '0A000', NULL, 'an adjustment under REPEATABLE READ is rejected (0A000)');
SELECT throws_ok($$SELECT backorder.count_stock('iso', 'A', 'iso_w1', 1, 'cycle count')$$,
    '0A000', NULL, 'a count under REPEATABLE READ is rejected (0A000)');
SELECT throws_ok($$SELECT backorder.ship_orders('iso', ARRAY['O1'])$$,
    '0A000', NULL, 'a wave under REPEATABLE READ is rejected (0A000)');
SELECT throws_ok($$SELECT backorder.ship_orders('iso', ARRAY[]::text[])$$,
    '0A000', NULL, 'an empty wave too: the isolation level is checked first');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
