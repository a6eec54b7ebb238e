-- bench/release/backlog.sql — grows the backlog: orders :from .. :to, one line of 1 unit of
-- 'HOT' each, placed one second apart (so release order = order id order), in one
-- transaction, set-based, through the plain INSERTs an app would send.  The intake (ours or
-- the reference's) holds every one of them as out_of_stock at COMMIT.
-- psql -v schema=backorder|bo_ref -v from=N -v to=M
\set ON_ERROR_STOP 1
BEGIN;
INSERT INTO :schema.orders (client_id, order_id, placed_at)
SELECT 'bench', 'B' || lpad(g::text, 8, '0'), timestamptz '2024-01-01 00:00+00' + g * interval '1 second'
  FROM generate_series(:from, :to) g;
INSERT INTO :schema.order_line (client_id, order_id, line_no, sku, qty)
SELECT 'bench', 'B' || lpad(g::text, 8, '0'), 1, 'HOT', 1
  FROM generate_series(:from, :to) g;
COMMIT;
VACUUM ANALYZE :schema.orders, :schema.order_line, :schema.order_hold, :schema.order_event, :schema.stock;
