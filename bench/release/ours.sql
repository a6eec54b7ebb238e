-- bench/release/ours.sql — one receipt of :k units of 'HOT': pg_backorder allocates them to the
-- head of the queue (in the statement) and settles the :k orders it completes (holds,
-- statuses, events) in one batch at commit.  SET CONSTRAINTS ALL IMMEDIATE, issued after the
-- receipt, runs that commit-time batch right there (the same deferred trigger, the same
-- work as COMMIT), so the two statements' latencies add up to the receipt's cost, and
-- ROLLBACK keeps the backlog for the next repetition.
-- (Do not SET CONSTRAINTS ALL IMMEDIATE *before* the receipt: the engine then settles each
-- order as it is touched, one batch per order, which is a different code path.)
BEGIN;
SELECT backorder.receive('bench', 'HOT', 'w1', :k, 'bench receipt');
SET CONSTRAINTS ALL IMMEDIATE;
ROLLBACK;
