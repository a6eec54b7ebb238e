-- complete_only's completion pass over several receipts whose waiting orders name many other
-- stock rows: a truck of A and B, o1 waits for A and 11 other SKUs, o2 for B and 300 more.
-- The pass once overran its array of rows here and crashed the backend (signal 11; found by a
-- fresh-user trial of receive_inbounds).  Nothing can be completed (the other SKUs have no
-- stock): both orders stay held, A's and B's units stay free.
DROP EXTENSION pg_backorder;
DROP SCHEMA backorder;
CREATE EXTENSION pg_backorder;
SET backorder.now = '2024-03-01 09:00+00';
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('co', 'complete_only');
INSERT INTO backorder.location (location_id, priority) VALUES ('w1', 1);
INSERT INTO backorder.sku (client_id, sku)
SELECT 'co', s FROM unnest(ARRAY['A', 'B']) s
UNION ALL SELECT 'co', 'X' || lpad(g::text, 2, '0') FROM generate_series(1, 11) g
UNION ALL SELECT 'co', 'Y' || lpad(g::text, 3, '0') FROM generate_series(1, 300) g;
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('co', 'o1', 'w1'), ('co', 'o2', 'w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT 'co', 'o1', 1, 'A', 1 UNION ALL SELECT 'co', 'o1', 1 + g, 'X' || lpad(g::text, 2, '0'), 1 FROM generate_series(1, 11) g
UNION ALL SELECT 'co', 'o2', 1, 'B', 1 UNION ALL SELECT 'co', 'o2', 1 + g, 'Y' || lpad(g::text, 3, '0'), 1 FROM generate_series(1, 300) g;
COMMIT;
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at)
VALUES ('co', 'A', 'w1', 1, '2024-03-02'), ('co', 'B', 'w1', 1, '2024-03-02');
-- the truck, received in one call: two rows pending for the pass at commit
SELECT backorder.receive_inbounds(ARRAY(SELECT inbound_id FROM backorder.inbound ORDER BY inbound_id));
SELECT order_id, status FROM backorder.orders ORDER BY order_id;
SELECT sku, on_hand, allocated FROM backorder.stock WHERE sku IN ('A', 'B') ORDER BY sku;
SELECT count(*) AS invariant_violations FROM backorder.check_invariants();
-- a fresh install for the walkthroughs after this one
DROP EXTENSION pg_backorder;
DROP SCHEMA backorder;
CREATE EXTENSION pg_backorder;
