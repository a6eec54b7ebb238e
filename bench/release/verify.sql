-- bench/release/verify.sql — a warm-up receipt that checks what it did, then rolls back: the
-- same receipt of :k units in pg_backorder and in the PL/pgSQL reference, and the two end
-- states compared row for row.
-- Prints one line: ours_ready ref_ready differences ours_violations, where differences counts
-- the orders whose (status, open holds) or lines' (allocated, waiting) differ between the two,
-- plus 1 if the stock rows (on_hand, allocated) differ, plus 1 if the events written by the
-- receipt differ (kind and count).  A correct run prints ":k :k 0 0".
\set ON_ERROR_STOP 1
BEGIN;
SELECT coalesce(max(event_id), 0) AS ours_ev FROM backorder.order_event \gset
SELECT coalesce(max(event_id), 0) AS ref_ev FROM bo_ref.order_event \gset
SELECT backorder.receive('bench', 'HOT', 'w1', :k, 'bench check');
SELECT bo_ref.receive('bench', 'HOT', 'w1', :k, 'bench check');
SET CONSTRAINTS ALL IMMEDIATE;
WITH ours AS (
    SELECT o.order_id, o.status, l.allocated, l.waiting,
           (SELECT array_agg(h.reason ORDER BY h.reason) FROM backorder.order_hold h
             WHERE h.client_id = o.client_id AND h.order_id = o.order_id AND h.released_at IS NULL) AS holds
      FROM backorder.orders o JOIN backorder.order_line l USING (client_id, order_id)
     WHERE o.client_id = 'bench'),
ref AS (
    SELECT o.order_id, o.status, l.allocated, l.waiting,
           (SELECT array_agg(h.reason ORDER BY h.reason) FROM bo_ref.order_hold h
             WHERE h.client_id = o.client_id AND h.order_id = o.order_id AND h.released_at IS NULL) AS holds
      FROM bo_ref.orders o JOIN bo_ref.order_line l USING (client_id, order_id)
     WHERE o.client_id = 'bench'),
order_diff AS (
    SELECT count(*) AS n FROM (
        (SELECT * FROM ours EXCEPT ALL SELECT * FROM ref)
        UNION ALL
        (SELECT * FROM ref EXCEPT ALL SELECT * FROM ours)) d),
stock_diff AS (
    SELECT CASE WHEN (SELECT (on_hand, allocated) FROM backorder.stock WHERE client_id = 'bench' AND sku = 'HOT')
                   IS NOT DISTINCT FROM
                     (SELECT (on_hand, allocated) FROM bo_ref.stock WHERE client_id = 'bench' AND sku = 'HOT')
                THEN 0 ELSE 1 END AS n),
event_diff AS (
    SELECT CASE WHEN (SELECT array_agg(e ORDER BY e) FROM (
                        SELECT event || ':' || count(*) AS e FROM backorder.order_event
                         WHERE event_id > :ours_ev GROUP BY event) x)
                   IS NOT DISTINCT FROM
                     (SELECT array_agg(e ORDER BY e) FROM (
                        SELECT event || ':' || count(*) AS e FROM bo_ref.order_event
                         WHERE event_id > :ref_ev GROUP BY event) x)
                THEN 0 ELSE 1 END AS n)
SELECT (SELECT count(*) FROM backorder.orders WHERE status = 'ready'),
       (SELECT count(*) FROM bo_ref.orders WHERE status = 'ready'),
       (SELECT n FROM order_diff) + (SELECT n FROM stock_diff) + (SELECT n FROM event_diff),
       (SELECT count(*) FROM backorder.check_invariants());
ROLLBACK;
