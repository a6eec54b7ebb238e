-- bench/intake/verify.sql — the same 300 orders of 3 lines (the bench's shape: 3 distinct SKUs
-- of 10,000, 1-3 units each) placed in pg_backorder and in the PL/pgSQL reference, evaluated
-- (SET CONSTRAINTS ALL IMMEDIATE runs the commit-time intake of both), compared, rolled back.
-- Prints one line: ours_ready ref_ready differences ours_violations, where differences counts
-- the lines whose (order status, allocated, location) differ, plus 1 if the stock rows touched
-- changed differently (on_hand, allocated), plus 1 if the events written differ (kind and count).
-- A correct run prints "300 300 0 0".
\set ON_ERROR_STOP 1
BEGIN;
SELECT coalesce(max(event_id), 0) AS ours_ev FROM backorder.order_event \gset
SELECT coalesce(max(event_id), 0) AS ref_ev FROM bo_ref.order_event \gset
CREATE TEMP TABLE v_line ON COMMIT DROP AS
SELECT 'V' || o AS order_id, i AS line_no,
       (1 + (s1 - 1 + CASE i WHEN 1 THEN 0 WHEN 2 THEN 1 + (o * 7919) % 4999 ELSE 5000 + (o * 104729) % 5000 END) % 10000)::text AS sku,
       1 + (o * i) % 3 AS qty
  FROM generate_series(1, 300) o
 CROSS JOIN LATERAL (SELECT 1 + (o * 2654435761) % 10000 AS s1) s
 CROSS JOIN generate_series(1, 3) i;
-- The stock rows before (the bench runs have left different allocations in the two): deltas are compared.
CREATE TEMP TABLE v_before ON COMMIT DROP AS
SELECT 'ours' AS impl, sku, on_hand, allocated FROM backorder.stock WHERE client_id = 'bench' AND sku IN (SELECT sku FROM v_line)
UNION ALL
SELECT 'ref', sku, on_hand, allocated FROM bo_ref.stock WHERE client_id = 'bench' AND sku IN (SELECT sku FROM v_line);
INSERT INTO backorder.orders (client_id, order_id) SELECT DISTINCT 'bench', order_id FROM v_line;
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT 'bench', order_id, line_no, sku, qty FROM v_line;
INSERT INTO bo_ref.orders (client_id, order_id) SELECT DISTINCT 'bench', order_id FROM v_line;
INSERT INTO bo_ref.order_line (client_id, order_id, line_no, sku, qty)
SELECT 'bench', order_id, line_no, sku, qty FROM v_line;
SET CONSTRAINTS ALL IMMEDIATE;
WITH ours AS (
    SELECT o.order_id, l.line_no, o.status, l.allocated, l.location_id
      FROM backorder.orders o JOIN backorder.order_line l USING (client_id, order_id)
     WHERE o.client_id = 'bench' AND o.order_id LIKE 'V%'),
ref AS (
    SELECT o.order_id, l.line_no, o.status, l.allocated, l.location_id
      FROM bo_ref.orders o JOIN bo_ref.order_line l USING (client_id, order_id)
     WHERE o.client_id = 'bench' AND o.order_id LIKE 'V%'),
line_diff AS (
    SELECT count(*) AS n FROM (
        (SELECT * FROM ours EXCEPT ALL SELECT * FROM ref)
        UNION ALL
        (SELECT * FROM ref EXCEPT ALL SELECT * FROM ours)) d),
stock_delta AS (
    SELECT 'ours' AS impl, s.sku, s.on_hand - b.on_hand AS d_on_hand, s.allocated - b.allocated AS d_allocated
      FROM backorder.stock s JOIN v_before b ON b.impl = 'ours' AND b.sku = s.sku WHERE s.client_id = 'bench'
    UNION ALL
    SELECT 'ref', s.sku, s.on_hand - b.on_hand, s.allocated - b.allocated
      FROM bo_ref.stock s JOIN v_before b ON b.impl = 'ref' AND b.sku = s.sku WHERE s.client_id = 'bench'),
stock_diff AS (
    SELECT count(*) AS n FROM (
        (SELECT sku, d_on_hand, d_allocated FROM stock_delta WHERE impl = 'ours'
         EXCEPT ALL SELECT sku, d_on_hand, d_allocated FROM stock_delta WHERE impl = 'ref')
        UNION ALL
        (SELECT sku, d_on_hand, d_allocated FROM stock_delta WHERE impl = 'ref'
         EXCEPT ALL SELECT sku, d_on_hand, d_allocated FROM stock_delta WHERE impl = 'ours')) d),
event_diff AS (
    SELECT CASE WHEN (SELECT array_agg(e ORDER BY e) FROM (
                        SELECT event || ':' || count(*) AS e FROM backorder.order_event
                         WHERE event_id > :ours_ev GROUP BY event) x)
                   IS NOT DISTINCT FROM
                     (SELECT array_agg(e ORDER BY e) FROM (
                        SELECT event || ':' || count(*) AS e FROM bo_ref.order_event
                         WHERE event_id > :ref_ev GROUP BY event) x)
                THEN 0 ELSE 1 END AS n)
SELECT (SELECT count(*) FROM backorder.orders WHERE order_id LIKE 'V%' AND status = 'ready'),
       (SELECT count(*) FROM bo_ref.orders WHERE order_id LIKE 'V%' AND status = 'ready'),
       (SELECT n FROM line_diff) + (SELECT CASE WHEN n > 0 THEN 1 ELSE 0 END FROM stock_diff) + (SELECT n FROM event_diff),
       (SELECT count(*) FROM backorder.check_invariants());
ROLLBACK;
