-- Two SKUs received in one transaction, in key order (README: the app's side of locking).
-- receipt2_clients (pgbench -D): 2 = both clients; 1 = the reserve client only (run.sh sets 1
-- under BENCH_AVOID_KNOWN_BUGS=1: the shape of the runs before engine bug B7 was fixed).
\set c random(1, :receipt2_clients)
\set s1 random(1, 6)
\set s2 random(1, 6)
\set l random(1, 2)
\set q random(1, 4)
INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, reference)
SELECT 'b' || :c, 'H' || s, 'e' || :l, 'receipt', :q, 'ASN'
  FROM unnest(ARRAY[:s1, :s2]) s
 ORDER BY 1, 2, 3;
