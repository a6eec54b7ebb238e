-- A cycle count that finds the shelf a little off (-2..+2, never below zero): a fall below
-- what is allocated takes units back from the newest orders.  One in four is found stock
-- (an adjustment of +1) instead.
\set c random(1, 2)
\set s random(1, 6)
\set l random(1, 2)
\set d random(-2, 2)
\set k random(0, 3)
SELECT CASE WHEN :k = 0
            THEN backorder.adjust(client_id, sku, location_id, 1, 'found stock')
            ELSE backorder.count_stock(client_id, sku, location_id, greatest(on_hand + :d, 0), 'cycle count') END
  FROM backorder.stock
 WHERE client_id = 'b' || :c AND sku = 'H' || :s AND location_id = 'e' || :l;
