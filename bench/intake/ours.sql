-- bench/intake/ours.sql — pg_backorder: the INSERTs an app sends; intake runs at COMMIT.
-- One transaction = one order of 3 lines over 10,000 SKUs (3 distinct SKUs, 1-3 units each).
-- pgbench -D n=0 -D run=K: :n counts this client's orders, so order ids are unique per run.
\set n :n + 1
\set oid :run * 1000000000 + :client_id * 100000000 + :n
\set s1 random(1, 10000)
\set s2 1 + (:s1 - 1 + random(1, 4999)) % 10000
\set s3 1 + (:s1 - 1 + random(5000, 9999)) % 10000
\set q1 random(1, 3)
\set q2 random(1, 3)
\set q3 random(1, 3)
BEGIN;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('bench', :oid);
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('bench', :oid, 1, :s1, :q1), ('bench', :oid, 2, :s2, :q2), ('bench', :oid, 3, :s3, :q3);
COMMIT;
