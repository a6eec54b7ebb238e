-- The split rules' queues (src/split.c) are reset at the end of every transaction, also in a
-- backend that has not asked for a client's rules yet.  A hold placed on a new order
-- postpones the rules to commit and queues the order; that transaction rolls back.  The
-- next one did the same on the rolled-back transaction's freed list and crashed the backend
-- (found by a differential fuzzer).  Then the split watch runs with a savepoint rolled back
-- in its transaction: O2 (A and B) ships A from w2, where it arrives.
DROP EXTENSION pg_backorder;
DROP SCHEMA backorder;
CREATE EXTENSION pg_backorder;
\c
SET backorder.now = '2024-03-01 09:00+00';
INSERT INTO backorder.client (client_id, split_rule) VALUES ('k', 'as_available');
INSERT INTO backorder.location (location_id, priority) VALUES ('w1', 1), ('w2', 2);
INSERT INTO backorder.sku (client_id, sku) VALUES ('k', 'A'), ('k', 'B');
\c
SET backorder.now = '2024-03-01 09:00+00';
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('k', 'O1', NULL);
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('k', 'O1', 1, 'A', 1);
SELECT backorder.hold_order('k', 'O1', 'fraud_review');
ROLLBACK;
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('k', 'O2', NULL);
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('k', 'O2', 1, 'A', 1), ('k', 'O2', 2, 'B', 1);
SELECT backorder.hold_order('k', 'O2', 'fraud_review');
COMMIT;
SELECT backorder.release_hold('k', 'O2', 'fraud_review');
BEGIN;
SELECT backorder.receive('k', 'A', 'w2', 1) IS NOT NULL AS received;
SAVEPOINT s;
SELECT backorder.receive('k', 'B', 'w9', 1);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT order_id, status FROM backorder.orders ORDER BY order_id;
SELECT * FROM backorder.check_invariants();
