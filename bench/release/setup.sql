-- bench/release/setup.sql — the release workload's database: one SKU ('HOT') with no stock, for
-- pg_backorder and for the PL/pgSQL reference (bo_ref, loaded before this file).
\set ON_ERROR_STOP 1
INSERT INTO backorder.client (client_id, name) VALUES ('bench', 'Benchmark');
INSERT INTO backorder.location (location_id, name, priority) VALUES ('w1', 'Bench DC', 1);
INSERT INTO backorder.sku (client_id, sku) VALUES ('bench', 'HOT');
INSERT INTO bo_ref.client (client_id, name) VALUES ('bench', 'Benchmark');
INSERT INTO bo_ref.location (location_id, name, priority) VALUES ('w1', 'Bench DC', 1);
INSERT INTO bo_ref.sku (client_id, sku) VALUES ('bench', 'HOT');
ANALYZE;
