-- bad_input.sql — every rejection in semantics.md's error list, with its SQLSTATE, and proof
-- that a rejected statement wrote nothing (the state fingerprint is unchanged after each one).
--
-- Client 'bad', SKU 'A', warehouses bad_w1 and bad_w2.  State before the bad inputs:
--   10 received at bad_w1; OS (1) shipped; OC (1) cancelled; OR (2) ready; OH (20) held.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-01-01 10:00+00';

SELECT plan(143);

-- ---------------------------------------------------------------------------------------------
-- Helpers (pg_temp: gone at ROLLBACK).

\ir lib/scenario_helpers.sql

-- Everything a rejected statement could have written: row counts of every engine table, and
-- the orders, lines and stock of client 'bad'.
CREATE FUNCTION pg_temp.fingerprint() RETURNS text LANGUAGE sql AS $$
    SELECT format('clients=%s locations=%s skus=%s orders=%s lines=%s stock=%s movements=%s holds=%s(open %s) events=%s'
                  ' | orders: %s | lines: %s | stock: %s',
        (SELECT count(*) FROM backorder.client),
        (SELECT count(*) FROM backorder.location),
        (SELECT count(*) FROM backorder.sku),
        (SELECT count(*) FROM backorder.orders),
        (SELECT count(*) FROM backorder.order_line),
        (SELECT count(*) FROM backorder.stock),
        (SELECT count(*) FROM backorder.stock_movement),
        (SELECT count(*) FROM backorder.order_hold),
        (SELECT count(*) FROM backorder.order_hold WHERE released_at IS NULL),
        (SELECT count(*) FROM backorder.order_event),
        (SELECT string_agg(format('%s=%s', order_id, status), ' ' ORDER BY order_id)
           FROM backorder.orders WHERE client_id = 'bad'),
        (SELECT string_agg(format('%s/%s %s qty=%s alloc=%s shipped=%s at=%s waiting=%s',
                                  order_id, line_no, sku, qty, allocated, shipped, location_id, waiting),
                           ' ' ORDER BY order_id, line_no)
           FROM backorder.order_line WHERE client_id = 'bad'),
        (SELECT string_agg(format('%s@%s %s/%s', sku, location_id, on_hand, allocated), ' '
                           ORDER BY sku, location_id)
           FROM backorder.stock WHERE client_id = 'bad'))
$$;

-- Logs each bad statement (for the errhint check at the end) and returns it unchanged.
CREATE TABLE pg_temp.bad_statements (id serial, sql text);
CREATE FUNCTION pg_temp.logged(p_sql text) RETURNS text LANGUAGE sql AS $$
    INSERT INTO pg_temp.bad_statements (sql) VALUES (p_sql) RETURNING sql
$$;

-- ---------------------------------------------------------------------------------------------
-- Set-up.

INSERT INTO backorder.client (client_id) VALUES ('bad');
INSERT INTO backorder.location (location_id, priority) VALUES ('bad_w1', 1), ('bad_w2', 2);
INSERT INTO backorder.sku (client_id, sku) VALUES ('bad', 'A');
SELECT lives_ok($$SELECT backorder.receive('bad', 'A', 'bad_w1', 10)$$, 'set-up: 10 units of A received');
SELECT lives_ok($$SELECT pg_temp.place('bad', 'OS', '2024-01-01 09:00+00', 'A:1')$$, 'set-up: OS (1) placed');
SELECT lives_ok($$SELECT pg_temp.place('bad', 'OC', '2024-01-01 09:10+00', 'A:1')$$, 'set-up: OC (1) placed');
SELECT lives_ok($$SELECT pg_temp.place('bad', 'OR', '2024-01-01 09:20+00', 'A:2')$$, 'set-up: OR (2) placed');
SELECT lives_ok($$SELECT pg_temp.place('bad', 'OH', '2024-01-01 09:30+00', 'A:20')$$, 'set-up: OH (20) placed');
SELECT is(backorder.ship_order('bad', 'OS'), true, 'set-up: OS shipped');
SELECT is(backorder.cancel_order('bad', 'OC'), true, 'set-up: OC cancelled');
SELECT results_eq(
    $$SELECT o.order_id, o.status, l.allocated FROM backorder.orders o
      JOIN backorder.order_line l USING (client_id, order_id) WHERE o.client_id = 'bad' ORDER BY 1$$,
    $$VALUES ('OC', 'cancelled', 0), ('OH', 'needs_review', 7), ('OR', 'ready', 2), ('OS', 'shipped', 0)$$,
    'set-up: OC cancelled, OH held with 7, OR ready with 2, OS shipped');
SELECT results_eq($$SELECT on_hand, allocated FROM backorder.stock WHERE client_id = 'bad' AND sku = 'A' AND location_id = 'bad_w1'$$,
    $$VALUES (9::bigint, 9::bigint)$$, 'set-up: A at bad_w1 on_hand 9, allocated 9');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- The set-up state, and the state after the previous case: each "nothing written" check compares
-- with the latter and then moves it on, so a case that wrongly writes fails its own check only.
CREATE TABLE pg_temp.baseline AS SELECT pg_temp.fingerprint() AS setup_fp, pg_temp.fingerprint() AS last_fp;
CREATE FUNCTION pg_temp.nothing_written(p_description text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    result := is(pg_temp.fingerprint(), (SELECT last_fp FROM pg_temp.baseline), p_description);
    UPDATE pg_temp.baseline SET last_fp = pg_temp.fingerprint();
    RETURN result;
END
$$;

-- =============================================================================================
-- Orders and lines.

SELECT throws_ok(pg_temp.logged($$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at)
               VALUES ('bad', 'X_QTY0', '2024-01-01 09:00+00') RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT client_id, order_id, 1, 'A', 0 FROM o$$),
    '23514', NULL, 'an order line of qty 0 is rejected (23514)');
SELECT pg_temp.nothing_written('line qty 0: nothing written');

SELECT throws_ok(pg_temp.logged($$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at)
               VALUES ('bad', 'X_QTYNEG', '2024-01-01 09:00+00') RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT client_id, order_id, 1, 'A', -2 FROM o$$),
    '23514', NULL, 'an order line of qty -2 is rejected (23514)');
SELECT pg_temp.nothing_written('line qty -2: nothing written');

SELECT throws_ok(pg_temp.logged($$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at)
               VALUES ('bad', 'X_QTYNULL', '2024-01-01 09:00+00') RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT client_id, order_id, 1, 'A', NULL FROM o$$),
    '23502', NULL, 'an order line of qty NULL is rejected (23502)');
SELECT pg_temp.nothing_written('line qty NULL: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.order_line SET qty = 0 WHERE client_id = 'bad' AND order_id = 'OH'$$),
    '23514', NULL, 'reducing a line to qty 0 is rejected (23514)');
SELECT pg_temp.nothing_written('line qty updated to 0: nothing written');

SELECT throws_ok(pg_temp.logged($$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at)
               VALUES ('nobody', 'X_NOCLIENT', '2024-01-01 09:00+00') RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT client_id, order_id, 1, 'A', 1 FROM o$$),
    '23503', NULL, 'an order of an unknown client is rejected (23503)');
SELECT pg_temp.nothing_written('order of unknown client: nothing written');

SELECT throws_ok(pg_temp.logged($$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id)
               VALUES ('bad', 'X_NOLOC', '2024-01-01 09:00+00', 'nowhere') RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT client_id, order_id, 1, 'A', 1 FROM o$$),
    '23503', NULL, 'an order at an unknown location is rejected (23503)');
SELECT pg_temp.nothing_written('order at unknown location: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    VALUES ('bad', 'NO_SUCH_ORDER', 1, 'A', 1)$$),
    '23503', NULL, 'a line of an unknown order is rejected (23503)');
SELECT pg_temp.nothing_written('line of unknown order: nothing written');

-- The three refusals above come from the guard triggers, at the app's statement: the foreign
-- keys of orders are checked only at commit (a backstop; see sql/parts/10_tables.sql), and
-- order_line has none (the guard's refusal and check_invariants() stand in for it).
SELECT is(
    (SELECT string_agg(format('%s %s', conname, condeferrable AND condeferred), ', ' ORDER BY conname::text)
       FROM pg_constraint
      WHERE contype = 'f' AND conrelid IN ('backorder.orders'::regclass, 'backorder.order_line'::regclass)
        AND conname <> 'orders_parent_fkey'),
    'orders_client_id_fkey t, orders_location_id_fkey t',
    'the foreign keys of orders are checked at commit; the guard answers first');

-- An order without lines: under IMMEDIATE it waits in 'new' for lines that may come in a later
-- statement; COMMIT refuses it with 23514 (sql/intake_at_commit.sql shows that: a pgTAP file,
-- one transaction, cannot commit).  A savepoint takes it back out.
SAVEPOINT no_lines;
INSERT INTO backorder.orders (client_id, order_id, placed_at)
VALUES ('bad', 'X_NOLINES', '2024-01-01 09:00+00');
SELECT results_eq($$SELECT status FROM backorder.orders WHERE client_id = 'bad' AND order_id = 'X_NOLINES'$$,
    $$VALUES ('new')$$, 'an order without lines stays new until lines arrive (refused at COMMIT)');
ROLLBACK TO SAVEPOINT no_lines;
SELECT pg_temp.nothing_written('order without lines: nothing written');

-- Engine-maintained columns and tables.
SELECT throws_ok(pg_temp.logged($$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at, status)
               VALUES ('bad', 'X_READY', '2024-01-01 09:00+00', 'ready') RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT client_id, order_id, 1, 'A', 1 FROM o$$),
    '428C9', NULL, 'inserting an order with status ready is rejected (428C9)');
SELECT pg_temp.nothing_written('order inserted as ready: nothing written');

SELECT throws_ok(pg_temp.logged($$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at)
               VALUES ('bad', 'X_ALLOC', '2024-01-01 09:00+00') RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, allocated)
    SELECT client_id, order_id, 1, 'A', 1, 1 FROM o$$),
    '428C9', NULL, 'inserting a line with allocated set is rejected (428C9)');
SELECT pg_temp.nothing_written('line inserted with allocated: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.orders SET status = 'ready' WHERE client_id = 'bad' AND order_id = 'OH'$$),
    '428C9', NULL, 'UPDATE orders.status is rejected (428C9)');
SELECT pg_temp.nothing_written('UPDATE orders.status: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.orders SET held_since = NULL WHERE client_id = 'bad' AND order_id = 'OH'$$),
    '428C9', NULL, 'UPDATE orders.held_since is rejected (428C9)');
SELECT pg_temp.nothing_written('UPDATE orders.held_since: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.order_line SET allocated = qty WHERE client_id = 'bad' AND order_id = 'OH'$$),
    '428C9', NULL, 'UPDATE order_line.allocated is rejected (428C9)');
SELECT pg_temp.nothing_written('UPDATE order_line.allocated: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.order_line SET location_id = 'bad_w2' WHERE client_id = 'bad' AND order_id = 'OR'$$),
    '428C9', NULL, 'UPDATE order_line.location_id is rejected (428C9)');
SELECT pg_temp.nothing_written('UPDATE order_line.location_id: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.order_line SET waiting = NOT waiting WHERE client_id = 'bad' AND order_id = 'OH'$$),
    '428C9', NULL, 'UPDATE order_line.waiting is rejected (428C9)');
SELECT pg_temp.nothing_written('UPDATE order_line.waiting: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.order_line SET shipped = 1 WHERE client_id = 'bad' AND order_id = 'OR'$$),
    '428C9', NULL, 'UPDATE order_line.shipped is rejected (428C9)');
SELECT pg_temp.nothing_written('UPDATE order_line.shipped: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.order_hold (client_id, order_id, reason, created_at)
    VALUES ('bad', 'OR', 'manual', '2024-01-01 10:00+00')$$),
    '428C9', NULL, 'INSERT into order_hold is rejected (428C9)');
SELECT pg_temp.nothing_written('INSERT into order_hold: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.order_hold SET released_at = '2024-01-01 10:00+00'
    WHERE client_id = 'bad' AND order_id = 'OH' AND released_at IS NULL$$),
    '428C9', NULL, 'closing a hold with UPDATE order_hold is rejected (428C9)');
SELECT pg_temp.nothing_written('UPDATE order_hold: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.order_event (client_id, order_id, event, status, created_at)
    VALUES ('bad', 'OR', 'released', 'ready', '2024-01-01 10:00+00')$$),
    '428C9', NULL, 'INSERT into order_event is rejected (428C9)');
SELECT pg_temp.nothing_written('INSERT into order_event: nothing written');

SELECT throws_ok(pg_temp.logged($$
    DELETE FROM backorder.orders WHERE client_id = 'bad' AND order_id = 'OR'$$),
    '0A000', NULL, 'DELETE FROM orders is rejected (0A000)');
SELECT pg_temp.nothing_written('DELETE FROM orders: nothing written');

-- Lines of shipped and cancelled orders are closed.
SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.order_line SET qty = 2 WHERE client_id = 'bad' AND order_id = 'OS'$$),
    '55000', NULL, 'editing a line of a shipped order is rejected (55000)');
SELECT pg_temp.nothing_written('edit of shipped order''s line: nothing written');

SELECT throws_ok(pg_temp.logged($$
    DELETE FROM backorder.order_line WHERE client_id = 'bad' AND order_id = 'OS'$$),
    '55000', NULL, 'deleting a line of a shipped order is rejected (55000)');
SELECT pg_temp.nothing_written('delete of shipped order''s line: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    VALUES ('bad', 'OC', 2, 'A', 1)$$),
    '55000', NULL, 'adding a line to a cancelled order is rejected (55000)');
SELECT pg_temp.nothing_written('line added to cancelled order: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.order_line SET qty = 3 WHERE client_id = 'bad' AND order_id = 'OC'$$),
    '55000', NULL, 'editing a line of a cancelled order is rejected (55000)');
SELECT pg_temp.nothing_written('edit of cancelled order''s line: nothing written');

-- =============================================================================================
-- Stock: engine-only.

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.stock SET on_hand = 100 WHERE client_id = 'bad'$$),
    '428C9', NULL, 'UPDATE stock.on_hand is rejected (428C9)');
SELECT pg_temp.nothing_written('UPDATE stock.on_hand: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.stock SET allocated = 0 WHERE client_id = 'bad'$$),
    '428C9', NULL, 'UPDATE stock.allocated is rejected (428C9)');
SELECT pg_temp.nothing_written('UPDATE stock.allocated: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.stock (client_id, sku, location_id, on_hand, allocated)
    VALUES ('bad', 'A', 'bad_w2', 5, 0)$$),
    '428C9', NULL, 'INSERT into stock is rejected (428C9)');
SELECT pg_temp.nothing_written('INSERT into stock: nothing written');

SELECT throws_ok(pg_temp.logged($$
    DELETE FROM backorder.stock WHERE client_id = 'bad'$$),
    '428C9', NULL, 'DELETE FROM stock is rejected (428C9)');
SELECT pg_temp.nothing_written('DELETE FROM stock: nothing written');

-- =============================================================================================
-- The ledger.

SELECT throws_ok(pg_temp.logged($$SELECT backorder.receive('bad', 'A', 'bad_w1', 0)$$),
    '23514', NULL, 'a receipt of 0 is rejected (23514)');
SELECT pg_temp.nothing_written('receipt of 0: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.receive('bad', 'A', 'bad_w1', -3)$$),
    '23514', NULL, 'a receipt of -3 is rejected (23514)');
SELECT pg_temp.nothing_written('receipt of -3: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.receive('bad', 'A', 'bad_w1', NULL)$$),
    '23502', NULL, 'a receipt of NULL units is rejected (23502)');
SELECT pg_temp.nothing_written('receipt of NULL: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty)
    VALUES ('bad', 'A', 'bad_w1', 'receipt', 0)$$),
    '23514', NULL, 'a receipt of 0 inserted into the ledger directly is rejected (23514)');
SELECT pg_temp.nothing_written('direct receipt of 0: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty)
    VALUES ('bad', 'A', 'bad_w1', 'return', 0)$$),
    '23514', NULL, 'a return of 0 is rejected (23514)');
SELECT pg_temp.nothing_written('return of 0: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty)
    VALUES ('bad', 'A', 'bad_w1', 'return', -1)$$),
    '23514', NULL, 'a return of -1 is rejected (23514)');
SELECT pg_temp.nothing_written('return of -1: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty)
    VALUES ('bad', 'A', 'bad_w1', 'return', NULL)$$),
    '23502', NULL, 'a return of NULL units is rejected (23502)');
SELECT pg_temp.nothing_written('return of NULL: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.receive('nobody', 'A', 'bad_w1', 1)$$),
    '23503', NULL, 'a receipt for an unknown client is rejected (23503)');
SELECT pg_temp.nothing_written('receipt for unknown client: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.receive('bad', 'A', 'nowhere', 1)$$),
    '23503', NULL, 'a receipt at an unknown location is rejected (23503)');
SELECT pg_temp.nothing_written('receipt at unknown location: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.receive('bad', 'NOPE', 'bad_w1', 1)$$),
    '23503', NULL, 'a receipt of an unknown SKU is rejected (23503)');
SELECT pg_temp.nothing_written('receipt of unknown SKU: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.adjust('bad', 'A', 'nowhere', 1, 'found')$$),
    '23503', NULL, 'an adjustment at an unknown location is rejected (23503)');
SELECT pg_temp.nothing_written('adjustment at unknown location: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty)
    VALUES ('bad', 'A', 'bad_w1', 'gift', 1)$$),
    '22023', NULL, 'movement kind ''gift'' is rejected (22023)');
SELECT pg_temp.nothing_written('movement kind gift: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.count_stock('bad', 'A', 'bad_w1', -1, 'cycle count')$$),
    '23514', NULL, 'a count below zero is rejected (23514)');
SELECT pg_temp.nothing_written('count of -1: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.count_stock('bad', 'A', 'bad_w1', NULL, 'cycle count')$$),
    '23502', NULL, 'a count of NULL is rejected (23502)');
SELECT pg_temp.nothing_written('count of NULL: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.count_stock('bad', 'A', 'bad_w1', 5, NULL)$$),
    '23502', NULL, 'a count with a NULL reason is rejected (23502)');
SELECT pg_temp.nothing_written('count with NULL reason: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.adjust('bad', 'A', 'bad_w1', 0, 'nothing')$$),
    '23514', NULL, 'an adjustment of 0 is rejected (23514)');
SELECT pg_temp.nothing_written('adjustment of 0: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.adjust('bad', 'A', 'bad_w1', NULL, 'found')$$),
    '23502', NULL, 'an adjustment of NULL is rejected (23502)');
SELECT pg_temp.nothing_written('adjustment of NULL: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.adjust('bad', 'A', 'bad_w1', 2, NULL)$$),
    '23502', NULL, 'an adjustment with a NULL reason is rejected (23502)');
SELECT pg_temp.nothing_written('adjustment with NULL reason: nothing written');

SELECT throws_ok(pg_temp.logged($$
    INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, order_id)
    VALUES ('bad', 'A', 'bad_w1', 'shipment', -2, 'OR')$$),
    '428C9', NULL, 'an app insert of a shipment movement is rejected (428C9)');
SELECT pg_temp.nothing_written('app shipment movement: nothing written');

SELECT throws_ok(pg_temp.logged($$
    UPDATE backorder.stock_movement SET qty = 100 WHERE client_id = 'bad'$$),
    '0A000', NULL, 'UPDATE stock_movement is rejected (0A000)');
SELECT pg_temp.nothing_written('UPDATE stock_movement: nothing written');

SELECT throws_ok(pg_temp.logged($$
    DELETE FROM backorder.stock_movement WHERE client_id = 'bad'$$),
    '0A000', NULL, 'DELETE FROM stock_movement is rejected (0A000)');
SELECT pg_temp.nothing_written('DELETE FROM stock_movement: nothing written');

SELECT throws_ok(pg_temp.logged($$TRUNCATE backorder.stock_movement$$),
    '0A000', NULL, 'TRUNCATE stock_movement is rejected (0A000)');
SELECT pg_temp.nothing_written('TRUNCATE stock_movement: nothing written');

-- =============================================================================================
-- Order functions.

SELECT throws_ok(pg_temp.logged($$SELECT backorder.ship_order('bad', 'OH')$$),
    '55000', NULL, 'shipping a needs_review order is rejected (55000)');
SELECT pg_temp.nothing_written('ship of held order: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.ship_order('bad', 'OC')$$),
    '55000', NULL, 'shipping a cancelled order is rejected (55000)');
SELECT pg_temp.nothing_written('ship of cancelled order: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.cancel_order('bad', 'OS')$$),
    '55000', NULL, 'cancelling a shipped order is rejected (55000)');
SELECT pg_temp.nothing_written('cancel of shipped order: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.ship_order('bad', 'NO_SUCH_ORDER')$$),
    'P0002', NULL, 'ship_order of an unknown order is rejected (P0002)');
SELECT pg_temp.nothing_written('ship of unknown order: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.cancel_order('bad', 'NO_SUCH_ORDER')$$),
    'P0002', NULL, 'cancel_order of an unknown order is rejected (P0002)');
SELECT pg_temp.nothing_written('cancel of unknown order: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.hold_order('bad', 'NO_SUCH_ORDER')$$),
    'P0002', NULL, 'hold_order of an unknown order is rejected (P0002)');
SELECT pg_temp.nothing_written('hold of unknown order: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.release_hold('bad', 'NO_SUCH_ORDER')$$),
    'P0002', NULL, 'release_hold of an unknown order is rejected (P0002)');
SELECT pg_temp.nothing_written('release of unknown order: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.ship_order('nobody', 'OR')$$),
    'P0002', NULL, 'ship_order under another client''s id finds no order (P0002)');
SELECT pg_temp.nothing_written('ship under wrong client: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.hold_order('bad', 'OR', 'out_of_stock')$$),
    '22023', NULL, 'hold_order with reason out_of_stock is rejected (22023)');
SELECT pg_temp.nothing_written('hold out_of_stock: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.hold_order('bad', 'OR', 'discontinued')$$),
    '22023', NULL, 'hold_order with reason discontinued is rejected (22023)');
SELECT pg_temp.nothing_written('hold discontinued: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.hold_order('bad', 'OR', 'unknown_sku')$$),
    '22023', NULL, 'hold_order with reason unknown_sku is rejected (22023)');
SELECT pg_temp.nothing_written('hold unknown_sku: nothing written');

SELECT throws_ok(pg_temp.logged($$SELECT backorder.release_hold('bad', 'OH', 'out_of_stock')$$),
    '55000', NULL, 'releasing an out_of_stock hold by hand is rejected (55000)');
SELECT pg_temp.nothing_written('release out_of_stock: nothing written');

-- =============================================================================================
-- After all of it.

SELECT is_empty($$SELECT regexp_replace(sql, '\s+', ' ', 'g') FROM pg_temp.bad_statements
                  WHERE coalesce(pg_temp.hint_of(sql), '') = '' ORDER BY id$$,
    'every rejection carries an errhint (lists the statements whose error has none)');
SELECT is(pg_temp.fingerprint(), (SELECT setup_fp FROM pg_temp.baseline), 'the state is exactly the set-up state');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- The engine still works after all the rejections: OR ships, OH gets the rest.
SELECT is(backorder.ship_order('bad', 'OR'), true, 'OR still ships after the rejected statements');
SELECT lives_ok($$SELECT backorder.receive('bad', 'A', 'bad_w1', 13)$$, '13 units received');
SELECT results_eq($$SELECT order_id, status FROM backorder.orders
                    WHERE client_id = 'bad' AND order_id IN ('OC', 'OH', 'OR', 'OS') ORDER BY 1$$,
    $$VALUES ('OC', 'cancelled'), ('OH', 'ready'), ('OR', 'shipped'), ('OS', 'shipped')$$,
    'OH is released by the receipt');
SELECT results_eq($$SELECT on_hand, allocated FROM backorder.stock WHERE client_id = 'bad' AND sku = 'A' AND location_id = 'bad_w1'$$,
    $$VALUES (20::bigint, 20::bigint)$$, 'A at bad_w1: on_hand 20, allocated 20');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
