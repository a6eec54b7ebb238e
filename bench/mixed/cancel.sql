-- Cancel an open order (ready or held), picked from a random point of the order ids.
\set c random(1, 2)
\set r random(1, 99999)
SELECT bench.try_cancel(client_id, order_id)
  FROM backorder.orders
 WHERE client_id = 'b' || :c AND status IN ('ready', 'needs_review') AND order_id >= 'o' || :r
 ORDER BY order_id LIMIT 1;
