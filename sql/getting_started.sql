-- Getting started with pg_backorder: the session from README.md, checked by pg_regress.
-- Pin the engine's clock so every timestamp below is exact.
SET timezone = 'UTC';
SET backorder.now = '2024-03-01 09:00+00';

-- A client (brand), a warehouse, two SKUs, some stock.
INSERT INTO backorder.client (client_id, name) VALUES ('acme', 'Acme Outdoor');
INSERT INTO backorder.location (location_id, name, priority) VALUES ('east', 'East DC', 1);
INSERT INTO backorder.sku (client_id, sku, description, lead_time_days)
VALUES ('acme', 'TENT-2P', 'Two-person tent', 14),
       ('acme', 'STOVE', 'Camping stove', 7);
SELECT backorder.receive('acme', 'TENT-2P', 'east', 3, 'PO-1001');

-- Orders arrive with plain SQL; each is evaluated at commit.
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('acme', '#1001', '2024-03-01 08:00+00');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('acme', '#1001', 1, 'TENT-2P', 2);
COMMIT;
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('acme', '#1002', '2024-03-01 08:05+00');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('acme', '#1002', 1, 'TENT-2P', 2), ('acme', '#1002', 2, 'STOVE', 1);
COMMIT;
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('acme', '#1003', '2024-03-01 08:10+00');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('acme', '#1003', 1, 'LANTERN', 1);
COMMIT;

-- #1001 is ready; #1002 is short (1 tent, the stove); #1003 names a SKU the catalog lacks.
SELECT order_id, status FROM backorder.orders ORDER BY order_id;
SELECT order_id, line_no, sku, qty, allocated FROM backorder.order_line ORDER BY order_id, line_no;
SELECT order_id, reasons, short_skus, short_units FROM backorder.needs_review ORDER BY order_id;

-- Stock arrives: the receipt releases #1002 in the same transaction.
SET backorder.now = '2024-03-04 10:00+00';
SELECT backorder.receive('acme', 'TENT-2P', 'east', 5, 'PO-1002');
SELECT backorder.receive('acme', 'STOVE', 'east', 4, 'PO-1003');
SELECT order_id, status, ready_at FROM backorder.orders ORDER BY order_id;
SELECT sku, on_hand, allocated, on_hand - allocated AS available FROM backorder.stock ORDER BY sku;

-- The catalog learns the lantern; releasing the unknown_sku hold re-evaluates #1003.
INSERT INTO backorder.sku (client_id, sku) VALUES ('acme', 'LANTERN');
SELECT backorder.release_hold('acme', '#1003', 'unknown_sku');
SELECT order_id, reasons, short_skus FROM backorder.needs_review ORDER BY order_id;

-- Ship, and look at the history of #1002.
SELECT backorder.ship_order('acme', '#1001');
SELECT backorder.ship_order('acme', '#1002');
SELECT event_id, event, status, detail FROM backorder.order_event WHERE order_id = '#1002' ORDER BY event_id;

-- A cycle count finds one tent fewer than the books say.
SELECT backorder.count_stock('acme', 'TENT-2P', 'east', 3, 'cycle count');
SELECT kind, qty, delta, reason FROM backorder.stock_movement WHERE sku = 'TENT-2P' ORDER BY movement_id;

-- Nothing is inconsistent.
SELECT * FROM backorder.check_invariants();
