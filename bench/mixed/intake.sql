-- A checkout: one order of 1-3 lines over the hot SKUs, inserted in one statement
-- (intake runs at commit).  One order in ten has priority 1; one in five names a warehouse.
\set c random(1, 2)
\set n random(1, 3)
\set s1 random(1, 6)
\set s2 random(1, 6)
\set s3 random(1, 6)
\set q random(1, 3)
\set p random(0, 9)
\set w random(0, 9)
WITH o AS (
    INSERT INTO backorder.orders (client_id, order_id, priority, location_id)
    VALUES ('b' || :c, 'o' || nextval('bench.order_seq'), CASE WHEN :p = 0 THEN 1 ELSE 0 END,
            CASE :w WHEN 0 THEN 'e1' WHEN 1 THEN 'e2' END)
    RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT o.client_id, o.order_id, g, 'H' || (ARRAY[:s1, :s2, :s3])[g], :q
  FROM o, generate_series(1, :n) g;
