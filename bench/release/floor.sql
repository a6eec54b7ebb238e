-- bench/release/floor.sql — what the contract itself writes per released order, as bare
-- statements with triggers off (session_replication_role = replica), for the same :k orders as
-- bare.sql, rolled back: the line's allocation, the closed out_of_stock hold, the order's status
-- and ready time, one event.  Not a goal: the floor under any implementation of the contract's
-- tables, so the receipt's cost can be read against it.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE backorder.order_line SET allocated = qty, waiting = false
 WHERE client_id = 'bench' AND order_id BETWEEN 'B00000001' AND ('B' || lpad((:k)::text, 8, '0'));
UPDATE backorder.order_hold SET released_at = now()
 WHERE client_id = 'bench' AND order_id BETWEEN 'B00000001' AND ('B' || lpad((:k)::text, 8, '0')) AND released_at IS NULL;
UPDATE backorder.orders SET status = 'ready', ready_at = now(), held_since = NULL
 WHERE client_id = 'bench' AND order_id BETWEEN 'B00000001' AND ('B' || lpad((:k)::text, 8, '0'));
INSERT INTO backorder.order_event (client_id, order_id, event, status, created_at, detail)
SELECT 'bench', 'B' || lpad(g::text, 8, '0'), 'released', 'ready', now(), '{}' FROM generate_series(1, :k) g;
ROLLBACK;
