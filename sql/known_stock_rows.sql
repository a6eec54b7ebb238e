-- The stock rows a backend has seen exist (src/stock_known.c): an order at intake whose stock
-- rows are all known is locked without the create-if-missing statement.  Each case below
-- makes a known row disappear, then places an order naming it and another SKU, in the same
-- session: the row must be created again, the order held and the invariants clean.
--   1. the row was created by a transaction that rolled back;
--   2. by a subtransaction that rolled back (the order evaluated in the same transaction);
--   3. TRUNCATE backorder.stock CASCADE (a new relfilenode);
--   4. rows deleted with triggers disabled (the lock finds fewer rows than keys);
--   5. DROP and CREATE EXTENSION (a new relation).
DROP EXTENSION pg_backorder;
DROP SCHEMA backorder;
CREATE EXTENSION pg_backorder;
SET backorder.now = '2024-03-01 09:00+00';
CREATE FUNCTION pg_temp.setup() RETURNS void LANGUAGE sql AS $$
    INSERT INTO backorder.client (client_id) VALUES ('k');
    INSERT INTO backorder.location (location_id, priority) VALUES ('w1', 1);
    INSERT INTO backorder.sku (client_id, sku) VALUES ('k', 'A'), ('k', 'B'), ('k', 'C');
$$;
-- an order of A and B (two keys: the path that consults the known rows)
CREATE FUNCTION pg_temp.place(p_order text) RETURNS void LANGUAGE sql AS $$
    WITH o AS (INSERT INTO backorder.orders (client_id, order_id, location_id)
               VALUES ('k', p_order, 'w1') RETURNING order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT 'k', o.order_id, l.n, l.sku, 1 FROM o, (VALUES (1, 'A'), (2, 'B')) l (n, sku);
$$;
-- what each case checks after its order's commit
CREATE FUNCTION pg_temp.state() RETURNS TABLE (orders text, stock_rows text, invariant_violations bigint)
LANGUAGE sql AS $$
    SELECT (SELECT string_agg(order_id || ' ' || status, ', ' ORDER BY order_id) FROM backorder.orders),
           (SELECT string_agg(sku || ' ' || on_hand || '/' || allocated, ', ' ORDER BY sku) FROM backorder.stock),
           (SELECT count(*) FROM backorder.check_invariants());
$$;
SELECT pg_temp.setup();
-- 1.
BEGIN;
SELECT pg_temp.place('o1');
ROLLBACK;
SELECT * FROM pg_temp.state();
SELECT pg_temp.place('o1');
SELECT * FROM pg_temp.state();
-- 2.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SAVEPOINT s;
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('k', 'o2', 'w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('k', 'o2', 1, 'A', 1), ('k', 'o2', 2, 'C', 1);
SELECT * FROM pg_temp.state();
ROLLBACK TO SAVEPOINT s;
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('k', 'o3', 'w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('k', 'o3', 1, 'A', 1), ('k', 'o3', 2, 'C', 1);
COMMIT;
SELECT * FROM pg_temp.state();
-- 3.
-- (the ledger refuses TRUNCATE unless its triggers are off)
SET session_replication_role = replica;
TRUNCATE backorder.stock, backorder.stock_movement, backorder.orders, backorder.order_line, backorder.demand_summary CASCADE;
RESET session_replication_role;
SELECT pg_temp.place('o4');
SELECT * FROM pg_temp.state();
-- 4.
SET session_replication_role = replica;
DELETE FROM backorder.order_line;
DELETE FROM backorder.order_hold;
DELETE FROM backorder.order_event;
DELETE FROM backorder.orders;
DELETE FROM backorder.demand_summary;
DELETE FROM backorder.stock WHERE sku = 'B';
RESET session_replication_role;
SELECT pg_temp.place('o5');
SELECT * FROM pg_temp.state();
-- 5.
DROP EXTENSION pg_backorder;
DROP SCHEMA backorder;
CREATE EXTENSION pg_backorder;
SELECT pg_temp.setup();
SELECT pg_temp.place('o6');
SELECT * FROM pg_temp.state();
-- a fresh install for the walkthroughs after this one
DROP EXTENSION pg_backorder;
DROP SCHEMA backorder;
CREATE EXTENSION pg_backorder;
