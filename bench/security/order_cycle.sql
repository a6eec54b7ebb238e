-- One order's life in three autocommit statements: a receipt of 1 unit, an order of that
-- unit (ready at intake: the SLA clock starts), and shipping it.
\set s random(1, 500)
SELECT backorder.receive('c1', 'S' || :s, 'w1', 1);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', ((random() * 1e15)::bigint)::text) RETURNING order_id),
     l AS (INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT 'c1', o.order_id, 1, 'S' || :s, 1 FROM o)
SELECT order_id AS oid FROM o \gset
SELECT backorder.ship_order('c1', :oid::text);
