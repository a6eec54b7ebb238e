-- pgbench script: applying the plan (children, stock, events), rolled back so every run
-- splits the same order.
BEGIN;
SELECT backorder.split_order('bench', 'B1');
ROLLBACK;
