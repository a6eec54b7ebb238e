-- bench/split/setup.sql — one order of 50 lines (50 SKUs) waiting at the first of :locations
-- warehouses, with stock of its SKUs scattered over all of them; with -v background=N also
-- another client with 1000 SKUs stocked everywhere and N orders of 3 lines (so that the
-- engine's statements run against tables of some size).
--   psql -v locations=5 [-v background=20000] -f bench/split/setup.sql
\set ON_ERROR_STOP on
\if :{?background}
\else
\set background 0
\endif
SET backorder.now = '2024-01-01 10:00+00';
INSERT INTO backorder.client (client_id, name) VALUES ('bench', 'split bench'), ('bg', 'background');
INSERT INTO backorder.location (location_id, priority)
SELECT format('L%s', k), k FROM generate_series(1, :locations) k;
INSERT INTO backorder.sku (client_id, sku)
SELECT 'bench', format('S%s', lpad(i::text, 2, '0')) FROM generate_series(1, 50) i;

-- Background: 1000 SKUs with 100 units at every warehouse, and :background orders.
INSERT INTO backorder.sku (client_id, sku) SELECT 'bg', format('G%s', i) FROM generate_series(1, 1000) i;
INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta, reference)
SELECT 'bg', format('G%s', i), format('L%s', k), 'receipt', 100, 0, 'bench'
  FROM generate_series(1, 1000) i, generate_series(1, :locations) k
 WHERE :background > 0 ORDER BY 1, 2, 3;
BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at)
SELECT 'bg', format('G-%s', n), '2023-12-01'::timestamptz + n * interval '1 minute'
  FROM generate_series(1, :background) n;
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT 'bg', format('G-%s', n), j, format('G%s', (n * 7 + j * 13) % 1000 + 1), 1
  FROM generate_series(1, :background) n, generate_series(1, 3) j;
COMMIT;
ANALYZE;

-- L1 holds 0, 1 or 2 units of each SKU: the order will wait there holding them.
SELECT count(backorder.receive('bench', format('S%s', lpad(i::text, 2, '0')), 'L1', i % 3))
  FROM generate_series(1, 50) i WHERE i % 3 > 0;

BEGIN;
INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('bench', 'B1', '2024-01-01 09:00+00');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, unit_price)
SELECT 'bench', 'B1', i, format('S%s', lpad(i::text, 2, '0')), 4, 10 + i FROM generate_series(1, 50) i;
COMMIT;

-- Then every other warehouse receives 0 to 4 units of each SKU (the order keeps waiting at L1).
SELECT count(backorder.receive('bench', format('S%s', lpad(i::text, 2, '0')), format('L%s', k),
                               (i * 7 + k * 3) % 5))
  FROM generate_series(1, 50) i, generate_series(2, :locations) k WHERE (i * 7 + k * 3) % 5 > 0;
ANALYZE;

SELECT status, (SELECT count(*) FROM backorder.order_line WHERE order_id = 'B1') AS lines,
       (SELECT sum(allocated) FROM backorder.order_line WHERE order_id = 'B1') AS allocated,
       (SELECT count(DISTINCT location_id) FROM backorder.stock WHERE client_id = 'bench' AND on_hand > 0)
           AS warehouses_with_stock,
       (SELECT count(*) FROM backorder.orders) AS orders_in_database
  FROM backorder.orders WHERE order_id = 'B1';
SELECT count(*) AS plan_rows, count(DISTINCT shipment_no) AS shipments,
       sum(qty) FILTER (WHERE ships_now) AS units_now, sum(qty) FILTER (WHERE NOT ships_now) AS units_held
  FROM backorder.compute_split('bench', 'B1');
SELECT count(*) AS invariant_violations FROM backorder.check_invariants();
