-- pg_backorder walkthrough: run by `make demo` (demo/run) in a throwaway database.
-- Every step prints what happened.  Time is pinned so the output is the same every run.
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;
SET timezone = 'UTC';
SET backorder.now = '2024-03-01 09:00+00';

\echo
\echo '== 1. A 3PL sets up a client (brand), two warehouses and a catalog'
INSERT INTO backorder.client (client_id, name) VALUES ('acme', 'Acme Outdoor');
INSERT INTO backorder.location (location_id, name, priority) VALUES ('east', 'East DC', 1), ('west', 'West DC', 2);
INSERT INTO backorder.sku (client_id, sku, description, lead_time_days) VALUES
  ('acme', 'TENT-2P', 'Two-person tent', 14),
  ('acme', 'STOVE',   'Camping stove',    7),
  ('acme', 'MUG',     'Enamel mug',       7);
INSERT INTO backorder.sku (client_id, sku, description, status) VALUES ('acme', 'OLD-LAMP', 'Old lamp', 'discontinued');
SELECT backorder.receive('acme', 'TENT-2P', 'east', 2, 'PO-1') AS receipt,
       backorder.receive('acme', 'MUG', 'east', 10, 'PO-2') AS receipt,
       backorder.receive('acme', 'STOVE', 'west', 1, 'PO-3') AS receipt;
SELECT sku, location_id, on_hand, allocated FROM backorder.stock ORDER BY sku, location_id;

\echo
\echo '== 2. The shop sends six orders (plain INSERTs; each is evaluated when its transaction commits)'
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('acme', '#1001', '2024-03-01 08:00+00');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('acme', '#1001', 1, 'TENT-2P', 1), ('acme', '#1001', 2, 'MUG', 2);
COMMIT;
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('acme', '#1002', '2024-03-01 08:01+00');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('acme', '#1002', 1, 'TENT-2P', 2);
COMMIT;
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('acme', '#1003', '2024-03-01 08:02+00');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('acme', '#1003', 1, 'TENT-2P', 1), ('acme', '#1003', 2, 'MUG', 1);
COMMIT;
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('acme', '#1004', '2024-03-01 08:03+00');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('acme', '#1004', 1, 'STOVE', 1);
COMMIT;
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('acme', '#1005', '2024-03-01 08:04+00');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('acme', '#1005', 1, 'OLD-LAMP', 1);
COMMIT;
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at, priority) VALUES ('acme', '#1006', '2024-03-01 08:05+00', 5);
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('acme', '#1006', 1, 'TENT-2P', 1), ('acme', '#1006', 2, 'HAMMOCK', 1);
COMMIT;
SELECT o.order_id, o.status, string_agg(l.sku || ' ' || l.allocated || '/' || l.qty || coalesce(' @' || l.location_id, ''), ', ' ORDER BY l.line_no) AS "lines (allocated/ordered @warehouse)"
  FROM backorder.orders o JOIN backorder.order_line l USING (client_id, order_id)
 GROUP BY o.order_id, o.status ORDER BY o.order_id;
\echo '   #1004 was placed at west, the only warehouse with a stove; #1006 names a SKU the catalog lacks.'

\echo
\echo '== 3. The "needs review" queue'
SELECT order_id, reasons, short_skus, held_for FROM backorder.needs_review ORDER BY order_id;

\echo
\echo '== 4. Three days later 3 tents arrive at east: the receipt releases waiting orders in queue order'
SET backorder.now = '2024-03-04 10:00+00';
SELECT backorder.receive('acme', 'TENT-2P', 'east', 3, 'PO-4') AS receipt;
SELECT order_id, status, ready_at FROM backorder.orders WHERE order_id IN ('#1002', '#1003', '#1006') ORDER BY order_id;
\echo '   #1006 has priority 5, so it was served first, but it stays held for its unknown SKU;'
\echo '   then #1002 (placed first) got its missing tent, then #1003: both released.'

\echo
\echo '== 5. An operator fixes the catalog and releases #1006''s unknown_sku hold; puts #1003 on a manual hold'
INSERT INTO backorder.sku (client_id, sku, description) VALUES ('acme', 'HAMMOCK', 'Hammock');
SELECT backorder.release_hold('acme', '#1006', 'unknown_sku') AS released;
SELECT backorder.hold_order('acme', '#1003', 'manual', 'customer asked to wait') AS held;
SELECT order_id, reasons, short_skus FROM backorder.needs_review ORDER BY order_id;

\echo
\echo '== 6. Fulfillment ships the ready orders; a cycle count finds 6 mugs where the books say 8'
SELECT order_id, backorder.ship_order(client_id, order_id) AS shipped
  FROM backorder.orders WHERE status = 'ready' ORDER BY order_id;
SELECT backorder.count_stock('acme', 'MUG', 'east', 6, 'cycle count') IS NOT NULL AS counted;
SELECT kind, qty AS counted, delta FROM backorder.stock_movement WHERE kind = 'count';
SELECT sku, location_id, on_hand, allocated, on_hand - allocated AS available FROM backorder.stock ORDER BY sku, location_id;

\echo
\echo '== 7. Every transition left one event'
SELECT order_id, event, status, detail FROM backorder.order_event ORDER BY event_id;

\echo
\echo '== 8. Invariants (no rows means consistent)'
SELECT * FROM backorder.check_invariants();
