-- bench/release/bare.sql — the bare-write limit: one UPDATE of the status of the same :k order
-- rows (the head of the queue, ids B00000001 .. B + :k zero-padded) in pg_backorder's own orders table,
-- with triggers off for this transaction (session_replication_role = replica), rolled back.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE backorder.orders SET status = 'ready' WHERE client_id = 'bench' AND order_id BETWEEN 'B00000001' AND ('B' || lpad((:k)::text, 8, '0'));
ROLLBACK;
