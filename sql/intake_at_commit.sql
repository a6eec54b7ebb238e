-- When intake runs: at commit, once per order, whatever the statements did before.
-- A fresh install, so ids and rows do not depend on the tests before this one.
DROP EXTENSION pg_backorder;
DROP SCHEMA backorder;
CREATE EXTENSION pg_backorder;
SET timezone = 'UTC';
SET backorder.now = '2024-01-01 10:00+00';
INSERT INTO backorder.client (client_id) VALUES ('c1');
INSERT INTO backorder.location (location_id) VALUES ('w1');
INSERT INTO backorder.sku (client_id, sku) VALUES ('c1', 'A'), ('c1', 'B');
SELECT backorder.receive('c1', 'A', 'w1', 5);

-- Before commit the order is 'new': nothing is allocated yet.
BEGIN;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('c1', 'O1', 1, 'A', 2);
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('c1', 'O1', 2, 'B', 1);
UPDATE backorder.order_line SET qty = 3 WHERE client_id = 'c1' AND order_id = 'O1' AND line_no = 1;
SELECT order_id, status FROM backorder.orders;
COMMIT;
-- Evaluated once: one placed event, one held event (B is short).
SELECT order_id, line_no, sku, qty, allocated FROM backorder.order_line ORDER BY 1, 2;
SELECT order_id, event, status FROM backorder.order_event ORDER BY event_id;

-- Under SET CONSTRAINTS ALL IMMEDIATE intake runs at the end of each statement; an order
-- may still get its lines in a later statement.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O2');
SELECT order_id, status FROM backorder.orders WHERE order_id = 'O2';
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('c1', 'O2', 1, 'A', 1);
SELECT order_id, status FROM backorder.orders WHERE order_id = 'O2';
COMMIT;

-- An order that never gets a line is refused at commit, and nothing of it stays.
BEGIN;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O3');
COMMIT;
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O4');
COMMIT;
SELECT order_id, status FROM backorder.orders ORDER BY order_id;

-- A savepoint rolled back takes its order with it; the rest commits.
BEGIN;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O5');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('c1', 'O5', 1, 'A', 1);
SAVEPOINT s;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O6');
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT order_id, status FROM backorder.orders ORDER BY order_id;

-- Orders placed in one transaction are evaluated in release order, not insertion order:
-- the earlier placed order gets the last unit.
INSERT INTO backorder.sku (client_id, sku) VALUES ('c1', 'C');
SELECT backorder.receive('c1', 'C', 'w1', 1);
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at)
VALUES ('c1', 'LATE', '2024-01-01 08:04+00'), ('c1', 'EARLY', '2024-01-01 08:00+00');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('c1', 'LATE', 1, 'C', 1), ('c1', 'EARLY', 1, 'C', 1);
COMMIT;
SELECT order_id, status FROM backorder.orders WHERE order_id IN ('EARLY', 'LATE') ORDER BY order_id;
SELECT * FROM backorder.check_invariants();

-- INSERT ... ON CONFLICT DO NOTHING of an order that exists inserts nothing, and the guard's
-- BEFORE trigger runs before PostgreSQL knows that.  A line for the shipped order it names is
-- refused like any line of a shipped order (a trial once added one: the upsert had made the
-- order look new to this transaction).
SELECT backorder.ship_order('c1', 'O2');
BEGIN;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O2') ON CONFLICT DO NOTHING;
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('c1', 'O2', 2, 'A', 3);
ROLLBACK;
-- An open order re-written idempotently (the order and its line, both skipped) commits and
-- changes nothing; so does the order alone (both were refused at commit as "no lines").
SELECT count(*) AS events_before FROM backorder.order_event WHERE order_id = 'O1';
BEGIN;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O1') ON CONFLICT DO NOTHING;
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('c1', 'O1', 1, 'A', 3)
ON CONFLICT DO NOTHING;
COMMIT;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O1') ON CONFLICT DO NOTHING;
SELECT order_id, line_no, qty, allocated FROM backorder.order_line WHERE order_id IN ('O1', 'O2') ORDER BY 1, 2;
SELECT count(*) AS events_after FROM backorder.order_event WHERE order_id = 'O1';
-- A real line added next to a skipped order insert is an edit of the open order: evaluated.
BEGIN;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O1') ON CONFLICT DO NOTHING;
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('c1', 'O1', 3, 'A', 1);
COMMIT;
SELECT order_id, line_no, qty, allocated FROM backorder.order_line WHERE order_id = 'O1' ORDER BY 1, 2;
SELECT * FROM backorder.check_invariants();
-- Deleting every line of a placed order is refused at commit with a hint to cancel it instead.
BEGIN;
DELETE FROM backorder.order_line WHERE client_id = 'c1' AND order_id = 'O1';
COMMIT;
SELECT order_id, line_no, qty FROM backorder.order_line WHERE order_id = 'O1' ORDER BY 1, 2;
