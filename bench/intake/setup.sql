-- bench/intake/setup.sql — the intake workload's database: 10,000 SKUs with ample stock, for
-- pg_backorder (schema backorder), the bare-write baseline (schema bo_base) and the PL/pgSQL
-- reference (schema bo_ref, loaded from bench/reference/reference.sql before this file).
-- SKU codes are '1' .. '10000' so pgbench can pass them as plain integers.
\set ON_ERROR_STOP 1

-- pg_backorder, through its public API: catalog rows and one receipt per SKU (in key order).
INSERT INTO backorder.client (client_id, name) VALUES ('bench', 'Benchmark');
INSERT INTO backorder.location (location_id, name, priority) VALUES ('w1', 'Bench DC', 1);
INSERT INTO backorder.sku (client_id, sku)
SELECT 'bench', g::text FROM generate_series(1, 10000) g;
INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta, reference)
SELECT 'bench', g::text, 'w1', 'receipt', 1000000000, 0, 'bench stock'
  FROM generate_series(1, 10000) g ORDER BY g::text;

-- Baseline: a copy of orders and order_line without any of our triggers.  Same columns,
-- defaults, CHECKs and indexes (primary keys; the engine's partial indexes get no entries
-- from these inserts), and the same foreign keys.
CREATE SCHEMA bo_base;
CREATE TABLE bo_base.orders (LIKE backorder.orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE bo_base.orders
    ADD FOREIGN KEY (client_id) REFERENCES backorder.client,
    ADD FOREIGN KEY (location_id) REFERENCES backorder.location;
CREATE TABLE bo_base.order_line (LIKE backorder.order_line INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE bo_base.order_line
    ADD FOREIGN KEY (client_id, order_id) REFERENCES bo_base.orders,
    ADD FOREIGN KEY (location_id) REFERENCES backorder.location;

-- The PL/pgSQL reference: the same catalog and stock through its own receive().
INSERT INTO bo_ref.client (client_id, name) VALUES ('bench', 'Benchmark');
INSERT INTO bo_ref.location (location_id, name, priority) VALUES ('w1', 'Bench DC', 1);
INSERT INTO bo_ref.sku (client_id, sku)
SELECT 'bench', g::text FROM generate_series(1, 10000) g;
SELECT count(bo_ref.receive('bench', g::text, 'w1', 1000000000, 'bench stock'))
  FROM generate_series(1, 10000) g;

VACUUM ANALYZE;
