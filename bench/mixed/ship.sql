-- Ship a ready order, picked from a random point of the order ids.
\set c random(1, 2)
\set r random(1, 99999)
SELECT bench.try_ship(client_id, order_id)
  FROM backorder.orders
 WHERE client_id = 'b' || :c AND status = 'ready' AND order_id >= 'o' || :r
 ORDER BY order_id LIMIT 1;
