-- bench/release/ref.sql — the same receipt in the PL/pgSQL reference (it settles each order as
-- it serves it, inside the call; the SET CONSTRAINTS that follows has nothing left to run,
-- and is there so both scripts have the same shape).  ROLLBACK keeps the backlog.
BEGIN;
SELECT bo_ref.receive('bench', 'HOT', 'w1', :k, 'bench receipt');
SET CONSTRAINTS ALL IMMEDIATE;
ROLLBACK;
