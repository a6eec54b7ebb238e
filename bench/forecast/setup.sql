-- Bench data for stockout_risk: :skus SKUs of one client with :days days of demand each, about
-- one order line per SKU and day on average (SKU k orders floor(rate_k + random()) lines a day,
-- rates spread from 0.1 to 1.9, so patterns range from smooth to lumpy), five lines per order,
-- 2% of orders cancelled; stock, open inbound for every fifth SKU and a client-wide surge.
--
-- The history is loaded with the engine's triggers off (session_replication_role = replica,
-- superuser only): rows are written as the engine would have left them (orders shipped or
-- cancelled, lines carrying the order's placed_at), which takes seconds instead of replaying
-- a million orders through intake.  Only the bench does this; rebuild_demand_summary() then
-- computes the demand summary the triggers would have kept.
\set ON_ERROR_STOP 1
SET session_replication_role = replica;
SET backorder.now = '2024-12-31 12:00+00';
SELECT setseed(0.42);

INSERT INTO backorder.client (client_id, name) VALUES ('bench', 'Bench client');
INSERT INTO backorder.location (location_id, name, priority) VALUES ('w1', 'Bench warehouse', 1);
INSERT INTO backorder.sku (client_id, sku, lead_time_days, safety_stock)
SELECT 'bench', 'SKU-' || lpad(k::text, 6, '0'), 3 + k % 28, 0 FROM generate_series(1, :skus) k;

CREATE TEMP TABLE gen_line AS
SELECT k, d, n
  FROM generate_series(1, :skus) k
 CROSS JOIN generate_series(1, :days) d
 CROSS JOIN LATERAL generate_series(1, floor(0.1 + 1.8 * ((k * 37) % 100) / 99.0 + random() + 0 * d)::int) n;  -- d: a draw per day

CREATE TEMP TABLE gen_order AS
SELECT row_number() OVER (ORDER BY d, k, n) AS rn, k, d, n FROM gen_line;

INSERT INTO backorder.orders (client_id, order_id, placed_at, status, shipped_at, cancelled_at)
SELECT 'bench', 'B' || o, ts,
       CASE WHEN o % 50 = 0 THEN 'cancelled' ELSE 'shipped' END,
       CASE WHEN o % 50 = 0 THEN NULL ELSE ts + interval '1 day' END,
       CASE WHEN o % 50 = 0 THEN ts + interval '1 hour' END
  FROM (SELECT (rn - 1) / 5 AS o, min(d) AS d FROM gen_order GROUP BY 1) x
 CROSS JOIN LATERAL (SELECT date '2024-12-31' - :days - 1 + x.d + time '08:00' + (x.o % 600) * interval '1 minute' AS ts0) t
 CROSS JOIN LATERAL (SELECT t.ts0::timestamptz AS ts) u;

INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, allocated, shipped, location_id,
                                  priority, placed_at, waiting)
SELECT 'bench', 'B' || ((g.rn - 1) / 5), ((g.rn - 1) % 5) + 1, 'SKU-' || lpad(g.k::text, 6, '0'),
       1 + (g.k + g.d + g.n) % 4, 0,
       CASE WHEN o.status = 'shipped' THEN 1 + (g.k + g.d + g.n) % 4 ELSE 0 END, 'w1', 0, o.placed_at, false
  FROM gen_order g
  JOIN backorder.orders o ON o.client_id = 'bench' AND o.order_id = 'B' || ((g.rn - 1) / 5);

-- stock: 0 to 120 units per SKU, with its receipt in the ledger
INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta, reference, created_at)
SELECT 'bench', 'SKU-' || lpad(k::text, 6, '0'), 'w1', 'receipt', q, q, 'bench', '2024-12-30 08:00+00'
  FROM (SELECT k, (k * 7919) % 121 AS q FROM generate_series(1, :skus) k) s WHERE q > 0;
INSERT INTO backorder.stock (client_id, sku, location_id, on_hand, allocated, updated_at)
SELECT client_id, sku, location_id, sum(delta), 0, max(created_at)
  FROM backorder.stock_movement WHERE client_id = 'bench' GROUP BY 1, 2, 3;

INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at, reference)
SELECT 'bench', 'SKU-' || lpad(k::text, 6, '0'), 'w1', 50, date '2024-12-31' + k % 40, 'PO-' || k
  FROM generate_series(5, :skus, 5) k;
INSERT INTO backorder.demand_surge (client_id, sku, starts_on, ends_on, multiplier, note)
VALUES ('bench', NULL, '2025-01-10', '2025-01-20', 1.5, 'January sale');

RESET session_replication_role;
-- the engine's triggers were off: compute the demand summary they would have kept
\o /dev/null
SELECT backorder.rebuild_demand_summary();
\o
VACUUM ANALYZE backorder.orders, backorder.order_line, backorder.stock, backorder.stock_movement,
               backorder.inbound, backorder.sku, backorder.demand_surge, backorder.demand_summary;
SELECT count(*) AS order_lines, count(DISTINCT sku) AS skus FROM backorder.order_line;
