-- consistency_regressions.sql — engine bugs the reliability work found (the randomized model
-- check, test/model, and its review), each fixed, each pinned here with the exact state that
-- showed it:
--   B1  a catalog edit (discontinued, active again) switches the holds of waiting orders;
--   B2  a line moved to a SKU missing from the catalog is unplaced and waits nowhere;
--   B3  complete_only keeps every grant when one receipt looks at many other stock rows;
--   B4  line edits serve freed units from current stock figures (no over-allocation);
--   B6  units that close out_of_stock on an order that stays held leave one 'allocated'
--       event with the changes (and the closed hold);
--   B8  an explicit NULL hold reason is refused like every NULL argument;
--   B10 a client switched from complete_only to reserve has its free units served at once;
--   B11 a transaction that moves stock and places exactly one order still runs complete_only's
--       completion pass (a one-order intake shortcut once skipped it);
--   B12 the completion pass over several receipts whose waiting orders name many other stock
--       rows (it overran its array of rows and crashed the backend);
--   B13 ledger rows have no foreign key to their stock row (the ledger trigger locks or creates
--       it first): check_invariants reports a ledger row whose stock row is gone, even when its
--       deltas add up to 0;
--   B14 the demand summary's time zone, read in a savepoint that changed it, is forgotten when
--       the savepoint is rolled back (a line placed after it was counted on the wrong day);
--   B15 order lines have no foreign key to their order (the guard refuses a line of an unknown
--       order, and orders are never deleted): check_invariants reports a line whose order is gone,
--       and orders cannot be truncated (TRUNCATE ... CASCADE would leave their lines);
--   B16 units that moved in a savepoint rolled back are not named by the events of the commit
--       (an order that gained nothing got an 'allocated' event; found by a fresh-user trial);
--   B17 a shipment row written by an app's trigger while ship_orders writes its own is refused
--       like any hand-written one (it was recorded and never applied to stock);
--   B18 hold_order, cancel_order, ship_order and split_order on an order inserted earlier in the same
--       transaction evaluate it first, as its commit would (they refused it with 55000, and an
--       order inserted and cancelled in one transaction had no 'placed' event);
--   B19 hold_added and hold_released events name the open inventory reasons, like held's;
--   B20 set_demand_time_zone refuses a POSIX offset such as '+05' (it meant UTC-5) and localtime;
--   B21 a stock row created by a movement of 0 units has its updated_at set;
--   B22 an order settled inside a savepoint that is rolled back is settled again at commit,
--       with the changes the rolled-back events had named (it stayed needs_review with all its
--       units, and events lost units; found by a fresh-user trial);
--   B23 split rules wait for commit when an order is held or cancelled in the transaction that
--       placed it or gave it units (a ready child escaped the cancel or hold of its parent; a
--       second fresh-user trial);
--   B24-B26 work taken by a subtransaction that is rolled back is done again at commit: the
--       complete_only completion pass (B24), the split rules' watch of stock arriving at another
--       warehouse (B25), the serving of units a line edit freed (B26) (a second trial);
--   B27 a line edit inside a rolled-back subtransaction does not make the engine forget an
--       earlier edit of the same order (it committed unevaluated: ready with 1 of 3; a third trial);
--   B28 under SET CONSTRAINTS ALL IMMEDIATE, a split rule's own line edit does not evaluate its
--       order again mid-split (complete_only gave one unit to the parent and its child);
--   B29 a settle fired by the completion pass's own grants (IMMEDIATE again after a rolled-back
--       savepoint) waits for the pass: one release names both units, not 'allocated' then 'released'.
-- (B5 and B7, concurrency gaps of complete_only, are pinned by the isolation specs
-- complete_only_cross_sku and complete_only_other_rows_key_order.)
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-06-01 10:00+00';
SELECT plan(81);

INSERT INTO backorder.location (location_id, priority) VALUES ('kb_w1', 1);

-- B1.  A catalog edit leaves open orders' inventory holds stale: an order held out_of_stock
-- whose SKU is then discontinued keeps out_of_stock, and check_invariants() reports
-- invariant 4 ("inventory holds open {out_of_stock}, lines call for {discontinued}") until
-- something touches the order.  Every committed state should satisfy the invariants.
INSERT INTO backorder.client (client_id) VALUES ('kb1');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb1', 'A');
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('kb1', 'O1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 2 FROM o;
UPDATE backorder.sku SET status = 'discontinued' WHERE client_id = 'kb1' AND sku = 'A';
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb1'$$,
                'B1: discontinuing a SKU keeps the invariants (held orders switch to discontinued)');

-- ... and back: the SKU active again, the hold is out_of_stock again (one hold_released
-- event for the closed discontinued hold, with the order still held).
UPDATE backorder.sku SET status = 'active' WHERE client_id = 'kb1' AND sku = 'A';
SELECT is((SELECT string_agg(reason, ',' ORDER BY reason) FROM backorder.order_hold
            WHERE client_id = 'kb1' AND order_id = 'O1' AND released_at IS NULL),
          'out_of_stock', 'B1: the SKU active again: the order is held out_of_stock again');
SELECT is((SELECT string_agg(event, ',' ORDER BY event_id) FROM backorder.order_event WHERE client_id = 'kb1'),
          'placed,held,hold_added,hold_released,hold_added,hold_released',
          'B1: each catalog edit left its hold events');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb1'$$,
                'B1: invariants hold after the SKU is active again');

-- B2.  Changing a line's SKU to one missing from the catalog keeps the line's location and
-- leaves it waiting in a queue for a SKU that cannot have stock.  Then every order function
-- fails with a raw foreign-key error (no hint): lock_stock_rows() tries to create a stock row
-- for the unknown SKU.  (And inserting that SKU later breaks invariant 4 at once; a receipt of
-- it then closes unknown_sku by itself, against README "Adding a SKU ... does not by itself
-- release unknown_sku holds".)  Expected: the line is unplaced like an unknown line at intake.
INSERT INTO backorder.client (client_id) VALUES ('kb2');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb2', 'A');
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('kb2', 'O1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 2 FROM o;
UPDATE backorder.order_line SET sku = 'ZZ' WHERE client_id = 'kb2' AND order_id = 'O1';
SELECT is((SELECT row(location_id, waiting)::text FROM backorder.order_line WHERE client_id = 'kb2' AND order_id = 'O1'),
          row(NULL::text, false)::text,
          'B2: a line moved to a SKU missing from the catalog is unplaced and does not wait');
SELECT lives_ok($$SELECT backorder.cancel_order('kb2', 'O1')$$,
                'B2: an order with such a line can still be cancelled');

-- B3.  complete_only loses grants when one serve sees more than four other stock rows
-- (serve_complete_only keeps pointers into an array that other_row() repallocs).  O5 needs
-- A, B and F; the receipt of A completes O1-O4 (other rows B, C, D, E) and then O5: its B
-- grant is lost, O5 is left with A and F allocated, B short, held.
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('kb3', 'complete_only');
INSERT INTO backorder.sku (client_id, sku) SELECT 'kb3', s FROM unnest('{A,B,C,D,E,F}'::text[]) s;
SELECT count(backorder.receive('kb3', s, 'kb_w1', 10)) = 5 AS received FROM unnest('{B,C,D,E,F}'::text[]) s \g /dev/null
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at)
           SELECT 'kb3', 'O' || i, '2024-06-01 09:00+00'::timestamptz + i * interval '1 minute'
             FROM generate_series(1, 5) i RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT o.client_id, o.order_id, l.n, l.s, 1
  FROM o JOIN (VALUES ('O1', 1, 'A'), ('O1', 2, 'B'), ('O2', 1, 'A'), ('O2', 2, 'C'), ('O3', 1, 'A'), ('O3', 2, 'D'),
                      ('O4', 1, 'A'), ('O4', 2, 'E'), ('O5', 1, 'A'), ('O5', 2, 'B'), ('O5', 3, 'F')) l(oid, n, s)
    ON l.oid = o.order_id;
SELECT backorder.receive('kb3', 'A', 'kb_w1', 5) \g /dev/null
SELECT is((SELECT string_agg(order_id || '=' || status, ' ' ORDER BY order_id) FROM backorder.orders WHERE client_id = 'kb3'),
          'O1=ready O2=ready O3=ready O4=ready O5=ready',
          'B3: complete_only completes all five orders (B, C, D, E, F are free)');
SELECT is((SELECT allocated FROM backorder.order_line WHERE client_id = 'kb3' AND order_id = 'O5' AND line_no = 2), 1,
          'B3: O5''s B line got its unit');

-- B4.  After a line edit, evaluate_order() serves the freed stock rows from figures it read
-- before serving: a complete_only grant at the first freed row that takes units at the second
-- is not seen, and the second is over-allocated (allocated > on_hand, invariant 1).
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('kb4', 'complete_only');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb4', 'A'), ('kb4', 'B');
SELECT backorder.receive('kb4', 'A', 'kb_w1', 3), backorder.receive('kb4', 'B', 'kb_w1', 2) \g /dev/null
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('kb4', 'X', '2024-06-01 09:00+00') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, n, s, q FROM o, (VALUES (1, 'A', 2), (2, 'B', 2)) v(n, s, q);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('kb4', 'W1', '2024-06-01 09:01+00') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, n, s, q FROM o, (VALUES (1, 'A', 2), (2, 'B', 1)) v(n, s, q);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('kb4', 'W2', '2024-06-01 09:02+00') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'B', 2 FROM o;
SET CONSTRAINTS ALL DEFERRED;            -- both edits, then one evaluation (as at commit)
UPDATE backorder.order_line SET qty = 1 WHERE client_id = 'kb4' AND order_id = 'X' AND line_no = 1;   -- frees 1 A
DELETE FROM backorder.order_line WHERE client_id = 'kb4' AND order_id = 'X' AND line_no = 2;          -- frees 2 B
SET CONSTRAINTS ALL IMMEDIATE;
-- A is freed 1 and B 2; serving A completes W1 with A 2 and B 1, so 1 of B is left and W2
-- (B 2) cannot be completed from it.
SELECT is((SELECT on_hand - allocated FROM backorder.stock WHERE client_id = 'kb4' AND sku = 'B'), 1::bigint,
          'B4: B keeps 1 unit free, not over-allocated (W1 took 1 of the 2 freed)');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb4'$$,
                'B4: invariants hold after the edits');
SELECT is((SELECT string_agg(order_id || '=' || status, ' ' ORDER BY order_id) FROM backorder.orders WHERE client_id = 'kb4'),
          'W1=ready W2=needs_review X=ready',
          'B4: W1 (first in the queue) completed, W2 waits for B');

-- B6.  Invariant 7: every allocation left one event.  Units that close out_of_stock on an
-- order that stays held (a manual hold) were reported as 'hold_released' without the
-- "changes" an 'allocated' event carries.
INSERT INTO backorder.client (client_id) VALUES ('kb6');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb6', 'A');
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('kb6', 'O1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 2 FROM o;
SELECT backorder.hold_order('kb6', 'O1', 'manual') \g /dev/null
SELECT backorder.receive('kb6', 'A', 'kb_w1', 2) \g /dev/null
SELECT is((SELECT string_agg(event || ' ' || coalesce(detail->>'changes', '-'), ', ' ORDER BY event_id)
             FROM backorder.order_event WHERE client_id = 'kb6'),
          'placed -, held -, hold_added -, allocated [{"sku": "A", "units": 2, "location_id": "kb_w1"}]',
          'B6: the allocation that closes out_of_stock is one allocated event with its changes');
SELECT is((SELECT e.detail->'closed' = jsonb_build_array(h.hold_id)
             FROM backorder.order_event e, backorder.order_hold h
            WHERE e.client_id = 'kb6' AND e.event = 'allocated'
              AND h.client_id = 'kb6' AND h.reason = 'out_of_stock'),
          true, 'B6: the allocated event names the out_of_stock hold it closed');

-- B8.  README: "22004 null_value_not_allowed: a NULL argument to an order function".  An
-- explicit NULL reason to hold_order / release_hold is taken as 'manual' instead.
INSERT INTO backorder.client (client_id) VALUES ('kb8');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb8', 'A');
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('kb8', 'O1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 1 FROM o;
SELECT throws_ok($$SELECT backorder.hold_order('kb8', 'O1', NULL)$$, '22004', NULL,
                 'B8: hold_order with an explicit NULL reason is refused');

-- B10.  Under complete_only units may stay free while a line waits for them; a switch to
-- reserve left invariant 5 broken ("available 1 while 1 lines wait") until the next receipt.
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('kb10', 'complete_only');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb10', 'A');
SELECT backorder.receive('kb10', 'A', 'kb_w1', 1) \g /dev/null
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('kb10', 'O1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 2 FROM o;
UPDATE backorder.client SET allocation_policy = 'reserve' WHERE client_id = 'kb10';
SELECT is((SELECT row(allocated, waiting)::text FROM backorder.order_line WHERE client_id = 'kb10' AND order_id = 'O1'),
          row(1, true)::text, 'B10: the switch to reserve gives the waiting line the free unit');
SELECT is((SELECT string_agg(event, ',' ORDER BY event_id) FROM backorder.order_event WHERE client_id = 'kb10'),
          'placed,held,allocated', 'B10: one allocated event, the order still held');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb10'$$,
                'B10: invariants hold after the switch');

-- B11.  A receipt of B for a complete_only order that also needs A (free units at hand) leaves
-- the completion to the commit-time pass.  When the same transaction placed exactly one order
-- (here another client's), intake's one-order shortcut returned before asking for the pass,
-- and the order stayed held with its units free (model check, seed 420231, step 123).
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('kb11', 'complete_only'), ('kb11r', 'reserve');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb11', 'A'), ('kb11', 'B'), ('kb11r', 'B');
SELECT backorder.receive('kb11', 'A', 'kb_w1', 9) \g /dev/null
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('kb11', 'E', '2024-06-01 09:00+00') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, n, s, q FROM o, (VALUES (1, 'A', 7), (2, 'B', 1)) v(n, s, q);
SET CONSTRAINTS ALL DEFERRED;            -- the receipt and the new order, then commit-time work
SELECT backorder.receive('kb11', 'B', 'kb_w1', 2) \g /dev/null
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('kb11r', 'N') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'B', 1 FROM o;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT is((SELECT string_agg(format('%s %s/%s', sku, on_hand, allocated), ', ' ORDER BY sku) FROM backorder.stock WHERE client_id = 'kb11'),
          'A 9/7, B 2/1', 'B11: the completion pass gave E its A and B units');
SELECT is((SELECT status FROM backorder.orders WHERE client_id = 'kb11' AND order_id = 'E'), 'ready',
          'B11: E is released in the transaction that received B');

-- B12.  Two receipts in one operation (a truck) leave two complete_only rows to the completion
-- pass; the orders waiting there name 11 and 300 other stock rows.  The pass collected the
-- rows in an array grown only when full, and appended each pending row unchecked: once the
-- first row's others filled it exactly, the next append overran it (signal 11; found by a
-- fresh-user trial of receive_inbounds).  Nothing can be completed here (the other SKUs have
-- no stock): both orders stay held, both units free.
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('kb12', 'complete_only');
INSERT INTO backorder.sku (client_id, sku)
SELECT 'kb12', s FROM unnest(ARRAY['A', 'B']) s
UNION ALL SELECT 'kb12', 'X' || lpad(g::text, 2, '0') FROM generate_series(1, 11) g
UNION ALL SELECT 'kb12', 'Y' || lpad(g::text, 3, '0') FROM generate_series(1, 300) g;
SET CONSTRAINTS ALL DEFERRED;            -- both orders evaluated after all their lines are in
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb12', 'O1', 'kb_w1'), ('kb12', 'O2', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT 'kb12', 'O1', 1, 'A', 1 UNION ALL SELECT 'kb12', 'O1', 1 + g, 'X' || lpad(g::text, 2, '0'), 1 FROM generate_series(1, 11) g
UNION ALL SELECT 'kb12', 'O2', 1, 'B', 1 UNION ALL SELECT 'kb12', 'O2', 1 + g, 'Y' || lpad(g::text, 3, '0'), 1 FROM generate_series(1, 300) g;
SET CONSTRAINTS ALL IMMEDIATE;
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at)
VALUES ('kb12', 'A', 'kb_w1', 1, '2024-06-02'), ('kb12', 'B', 'kb_w1', 1, '2024-06-02');
SET CONSTRAINTS ALL DEFERRED;            -- the pass at "commit" (the SET below), as after a truck
SELECT is(backorder.receive_inbounds(ARRAY(SELECT inbound_id FROM backorder.inbound WHERE client_id = 'kb12')), 2,
          'B12: the truck is received');
SET CONSTRAINTS ALL IMMEDIATE;
SELECT is((SELECT string_agg(format('%s %s %s/%s', o.order_id, o.status, s.on_hand, s.allocated), ', ' ORDER BY o.order_id)
             FROM backorder.orders o JOIN backorder.stock s ON s.client_id = o.client_id AND s.sku IN ('A', 'B')
                  AND s.sku = CASE o.order_id WHEN 'O1' THEN 'A' ELSE 'B' END
            WHERE o.client_id = 'kb12'),
          'O1 needs_review 1/0, O2 needs_review 1/0', 'B12: both held, their units free');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb12'$$,
                'B12: invariants hold after the pass');

-- B13.  The stock row is removed behind the engine's back (replica mode skips the guard).
INSERT INTO backorder.client (client_id) VALUES ('kb13');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb13', 'A');
SELECT backorder.receive('kb13', 'A', 'kb_w1', 5) \g /dev/null
SELECT backorder.adjust('kb13', 'A', 'kb_w1', -5, 'damaged') \g /dev/null
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb13'$$,
                'B13: invariants hold with the stock row there');
SELECT throws_ok($$INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, reason)
                   VALUES ('kb13', 'NOPE', 'kb_w1', 'adjustment', 1, 'found')$$,
                 '23503', 'SKU "NOPE" of client "kb13" is not in the catalog',
                 'B13: a movement of a SKU missing from the catalog is still refused');
SELECT throws_ok('TRUNCATE backorder.stock', '0A000', 'backorder.stock cannot be truncated',
                 'B13: stock rows cannot be truncated away from their ledger rows');
SET LOCAL session_replication_role = replica;
DELETE FROM backorder.stock WHERE client_id = 'kb13';
SET LOCAL session_replication_role = origin;
SELECT results_eq($$SELECT invariant, object, detail FROM backorder.check_invariants() WHERE client_id = 'kb13'$$,
                  $$VALUES (6, 'A@kb_w1', 'no stock row, ledger sum 0')$$,
                  'B13: a ledger row without its stock row is reported');

-- B14.  11:00 UTC on 06-01 is 06-02 in Kiritimati (UTC+14); the zone change is rolled back.
INSERT INTO backorder.client (client_id) VALUES ('kb14');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb14', 'A');
SAVEPOINT b14;
SELECT backorder.set_demand_time_zone('Pacific/Kiritimati') \g /dev/null
INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id) VALUES ('kb14', 'Z1', '2024-06-01 11:00+00', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('kb14', 'Z1', 1, 'A', 1);
ROLLBACK TO SAVEPOINT b14;
INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id) VALUES ('kb14', 'Z2', '2024-06-01 11:00+00', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('kb14', 'Z2', 1, 'A', 1);
SELECT results_eq($$SELECT s.block_start + d.i - 1, s.units[d.i] FROM backorder.demand_summary s,
                          generate_subscripts(s.units, 1) AS d (i)
                    WHERE s.client_id = 'kb14' AND s.units[d.i] <> 0$$,
                  $$VALUES (date '2024-06-01', 1)$$,
                  'B14: the line placed after the rollback counts on its UTC day');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb14' OR invariant = 8$$,
                'B14: invariants hold (the summary equals the order lines)');

-- B15.  The order is removed behind the engine's back (replica mode skips the guard).
SET LOCAL session_replication_role = replica;
DELETE FROM backorder.orders WHERE client_id = 'kb14' AND order_id = 'Z2';
SET LOCAL session_replication_role = origin;
SELECT results_eq($$SELECT invariant, object, detail FROM backorder.check_invariants()
                    WHERE client_id = 'kb14' AND invariant = 3$$,
                  $$VALUES (3, 'Z2#1', 'allocated 0 of 1, order missing')$$,
                  'B15: a line whose order is gone is reported');
SELECT throws_ok('TRUNCATE backorder.orders CASCADE', '0A000', 'backorder.orders cannot be truncated',
                 'B15: orders cannot be truncated away from their lines');

-- B16.  6 units would serve PA (1) and PB (5); rolled back, then 1 unit serves PA alone.
INSERT INTO backorder.client (client_id) VALUES ('kb16');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb16', 'P1');
INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id)
VALUES ('kb16', 'PA', '2024-06-01 08:00+00', 'kb_w1'), ('kb16', 'PB', '2024-06-01 08:01+00', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb16', 'PA', 1, 'P1', 1), ('kb16', 'PB', 1, 'P1', 5);
SET CONSTRAINTS ALL DEFERRED;            -- settled at "commit" (the SET below)
SAVEPOINT b16;
SELECT backorder.receive('kb16', 'P1', 'kb_w1', 6) \g /dev/null
ROLLBACK TO SAVEPOINT b16;
SELECT backorder.receive('kb16', 'P1', 'kb_w1', 1) \g /dev/null
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT order_id, event, detail -> 'changes' FROM backorder.order_event
                    WHERE client_id = 'kb16' AND event NOT IN ('placed', 'held') ORDER BY event_id$$,
                  $$VALUES ('PA', 'released', '[{"sku": "P1", "units": 1, "location_id": "kb_w1"}]'::jsonb)$$,
                  'B16: one event, PA released by the unit that stayed; nothing for PB');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb16'$$,
                'B16: invariants hold');

-- B17.
INSERT INTO backorder.client (client_id) VALUES ('kb17');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb17', 'A'), ('kb17', 'B');
SELECT backorder.receive('kb17', s, 'kb_w1', 5) FROM unnest('{A,B}'::text[]) s \g /dev/null
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb17', 'W1', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('kb17', 'W1', 1, 'A', 1);
CREATE FUNCTION public.kb17_sneak() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF NEW.client_id = 'kb17' AND NEW.kind = 'shipment' AND NEW.sku = 'A' THEN
        INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty)
        VALUES ('kb17', 'B', 'kb_w1', 'shipment', -1);
    END IF;
    RETURN NEW;
END $f$;
CREATE TRIGGER zz_kb17_sneak AFTER INSERT ON backorder.stock_movement
    FOR EACH ROW EXECUTE FUNCTION public.kb17_sneak();
SELECT throws_ok($$SELECT backorder.ship_orders('kb17', ARRAY['W1'])$$, '428C9',
                 'shipment movements are written by backorder.ship_order()',
                 'B17: a shipment written by an app''s trigger during a wave is refused');
DROP TRIGGER zz_kb17_sneak ON backorder.stock_movement;
SELECT is(backorder.ship_orders('kb17', ARRAY['W1']), 1, 'B17: without that trigger the wave ships');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb17'$$,
                'B17: invariants hold');

-- B18.  Stock A: 3.  Each order is inserted, then an engine function acts on it, before commit.
INSERT INTO backorder.client (client_id) VALUES ('kb18');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb18', 'A');
SELECT backorder.receive('kb18', 'A', 'kb_w1', 3) \g /dev/null
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id) VALUES
    ('kb18', 'H1', '2024-06-01 08:00+00', 'kb_w1'), ('kb18', 'C1', '2024-06-01 08:01+00', 'kb_w1'),
    ('kb18', 'S1', '2024-06-01 08:02+00', 'kb_w1'), ('kb18', 'E1', '2024-06-01 08:03+00', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb18', 'H1', 1, 'A', 1), ('kb18', 'C1', 1, 'A', 1), ('kb18', 'S1', 1, 'A', 1);
SELECT is(backorder.hold_order('kb18', 'H1', 'fraud_review'), true, 'B18: a new order can be held');
SELECT is(backorder.cancel_order('kb18', 'C1'), true, 'B18: a new order can be cancelled');
SELECT is(backorder.ship_order('kb18', 'S1'), true, 'B18: a new order that is ready ships');
SELECT throws_ok($$SELECT backorder.hold_order('kb18', 'E1')$$, '55000',
                 'order "E1" is new and cannot be held', 'B18: an order without lines is not evaluated yet');
SELECT throws_ok($$SELECT backorder.ship_order('kb18', 'E1')$$, '55000',
                 'order "E1" is new, not ready, and cannot ship', 'B18: ... nor shipped');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('kb18', 'E1', 1, 'A', 5);
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT order_id, string_agg(event || ' ' || status, ', ' ORDER BY event_id)
                      FROM backorder.order_event WHERE client_id = 'kb18' GROUP BY order_id ORDER BY order_id$$,
                  $$VALUES ('C1', 'placed ready, cancelled cancelled'),
                           ('E1', 'placed needs_review, held needs_review'),
                           ('H1', 'placed ready, held needs_review'),
                           ('S1', 'placed ready, shipped shipped')$$,
                  'B18: each order placed first, then held, cancelled or shipped');
SELECT results_eq($$SELECT o.order_id, o.status, l.allocated, l.shipped FROM backorder.orders o
                      JOIN backorder.order_line l USING (client_id, order_id)
                     WHERE o.client_id = 'kb18' ORDER BY o.order_id$$,
                  $$VALUES ('C1', 'cancelled', 0, 0), ('E1', 'needs_review', 1, 0),
                           ('H1', 'needs_review', 1, 0), ('S1', 'shipped', 0, 1)$$,
                  'B18: H1 keeps its unit, C1''s went to E1 at commit, S1 shipped');
SELECT results_eq($$SELECT on_hand, allocated FROM backorder.stock WHERE client_id = 'kb18'$$,
                  $$VALUES (2::bigint, 2::bigint)$$, 'B18: stock 2 on hand, both allocated');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb18'$$,
                'B18: invariants hold');

-- ... and split_order: P in stock, Q not; the new order is placed, held, then split.
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb18', 'P'), ('kb18', 'Q');
SELECT backorder.receive('kb18', 'P', 'kb_w1', 1) \g /dev/null
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb18', 'SP1', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb18', 'SP1', 1, 'P', 1), ('kb18', 'SP1', 2, 'Q', 1);
SELECT is(backorder.split_order('kb18', 'SP1'), 1, 'B18: a new order can be split');
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT o.order_id, o.status, l.sku FROM backorder.orders o
                      JOIN backorder.order_line l USING (client_id, order_id)
                     WHERE o.client_id = 'kb18' AND o.order_id LIKE 'SP1%' ORDER BY 1, 3$$,
                  $$VALUES ('SP1', 'needs_review', 'Q'), ('SP1-S1', 'ready', 'P')$$,
                  'B18: P ships in SP1-S1, SP1 keeps Q');

-- B19.  An order held out_of_stock gets a manual hold, which is then released.
INSERT INTO backorder.client (client_id) VALUES ('kb19');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb19', 'A');
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb19', 'M1', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('kb19', 'M1', 1, 'A', 1);
SELECT backorder.hold_order('kb19', 'M1', 'manual') \g /dev/null
SELECT backorder.release_hold('kb19', 'M1', 'manual') \g /dev/null
SELECT results_eq($$SELECT e.event, e.detail -> 'reasons', jsonb_array_length(coalesce(e.detail -> 'opened', e.detail -> 'closed'))
                      FROM backorder.order_event e WHERE client_id = 'kb19' AND event LIKE 'hold_%' ORDER BY event_id$$,
                  $$VALUES ('hold_added', '["out_of_stock"]'::jsonb, 1), ('hold_released', '["out_of_stock"]'::jsonb, 1)$$,
                  'B19: hold_added and hold_released name the hold and the open inventory reasons');

-- B20.
SELECT throws_ok($$SELECT backorder.set_demand_time_zone('+05')$$, '22023',
                 'time zone "+05" is not a time zone name', 'B20: a POSIX offset is refused');
SELECT throws_ok($$SELECT backorder.set_demand_time_zone('localtime')$$, '22023',
                 'time zone "localtime" is not a place''s time zone', 'B20: localtime (the host''s zone) is refused');
SELECT lives_ok($$SELECT backorder.set_demand_time_zone('Etc/GMT-5')$$, 'B20: its IANA spelling is taken');

-- B21.
INSERT INTO backorder.client (client_id) VALUES ('kb21');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb21', 'A');
SELECT backorder.count_stock('kb21', 'A', 'kb_w1', 0, 'cycle_count') \g /dev/null
SELECT is((SELECT updated_at FROM backorder.stock WHERE client_id = 'kb21'), backorder.now(),
          'B21: a stock row created by a count of 0 has updated_at');

-- B22.  #1 and #2 wait for 1 TENT each, #3 for 2.
INSERT INTO backorder.client (client_id) VALUES ('kb22');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb22', 'TENT');
INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id) VALUES
    ('kb22', '#1', '2024-06-01 08:00+00', 'kb_w1'), ('kb22', '#2', '2024-06-01 08:01+00', 'kb_w1'),
    ('kb22', '#3', '2024-06-01 08:02+00', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb22', '#1', 1, 'TENT', 1), ('kb22', '#2', 1, 'TENT', 1), ('kb22', '#3', 1, 'TENT', 2);
SET CONSTRAINTS ALL DEFERRED;
SELECT backorder.receive('kb22', 'TENT', 'kb_w1', 1) \g /dev/null
SAVEPOINT b22;
SELECT backorder.hold_order('kb22', '#1') \g /dev/null
ROLLBACK TO SAVEPOINT b22;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT o.status, (SELECT count(*) FROM backorder.order_hold h WHERE h.client_id = o.client_id
                                         AND h.order_id = o.order_id AND h.released_at IS NULL)
                      FROM backorder.orders o WHERE client_id = 'kb22' AND order_id = '#1'$$,
                  $$VALUES ('ready', 0::bigint)$$, 'B22: #1 released at commit, no hold left open');
SELECT results_eq($$SELECT event, detail -> 'changes' FROM backorder.order_event
                     WHERE client_id = 'kb22' AND order_id = '#1' ORDER BY event_id$$,
                  $$VALUES ('placed', NULL::jsonb), ('held', NULL),
                           ('released', '[{"sku": "TENT", "units": 1, "location_id": "kb_w1"}]')$$,
                  'B22: #1 placed, held, released by the unit');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb22'$$,
                'B22: invariants hold after the rolled-back hold');
-- 2 units: #2 complete, #3 gains 1 (reported by ship_order's settle inside a block that
-- fails), then 1 more completes #3: its release names both units.
SET CONSTRAINTS ALL DEFERRED;
SELECT backorder.receive('kb22', 'TENT', 'kb_w1', 2) \g /dev/null
DO $$
BEGIN
    PERFORM backorder.ship_order('kb22', '#3');     -- refused: #3 is held
EXCEPTION WHEN object_not_in_prerequisite_state THEN NULL;
END $$;
SELECT backorder.receive('kb22', 'TENT', 'kb_w1', 1) \g /dev/null
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT order_id, event, detail -> 'changes' FROM backorder.order_event
                     WHERE client_id = 'kb22' AND order_id IN ('#2', '#3') AND event NOT IN ('placed', 'held')
                     ORDER BY event_id$$,
                  $$VALUES ('#2', 'released', '[{"sku": "TENT", "units": 1, "location_id": "kb_w1"}]'::jsonb),
                           ('#3', 'released', '[{"sku": "TENT", "units": 1, "location_id": "kb_w1"},
                                                {"sku": "TENT", "units": 1, "location_id": "kb_w1"}]')$$,
                  'B22: each release names the units that moved, once');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb22'$$,
                'B22: invariants hold after the failed wave');

-- B23.  as_available; A: 1 in stock, B: none, C: 1.
INSERT INTO backorder.client (client_id, split_rule) VALUES ('kb23', 'as_available');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb23', 'A'), ('kb23', 'B'), ('kb23', 'C');
SELECT backorder.receive('kb23', s, 'kb_w1', 1) FROM unnest('{A,C}'::text[]) s \g /dev/null
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id) VALUES
    ('kb23', 'o1', '2024-06-01 08:00+00', 'kb_w1'), ('kb23', 'o2', '2024-06-01 08:01+00', 'kb_w1'),
    ('kb23', 'o3', '2024-06-01 08:02+00', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES
    ('kb23', 'o1', 1, 'A', 1), ('kb23', 'o1', 2, 'B', 1),
    ('kb23', 'o2', 1, 'A', 1), ('kb23', 'o2', 2, 'B', 1),
    ('kb23', 'o3', 1, 'C', 1), ('kb23', 'o3', 2, 'B', 1);
SELECT backorder.cancel_order('kb23', 'o1') \g /dev/null
SELECT backorder.hold_order('kb23', 'o2', 'fraud_review') \g /dev/null
SELECT is(backorder.release_hold('kb23', 'o3', 'manual'), false, 'B23: o3 has no manual hold');
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT o.order_id, o.status,
                           (SELECT string_agg(h.reason, ',' ORDER BY h.reason) FROM backorder.order_hold h
                             WHERE h.client_id = o.client_id AND h.order_id = o.order_id AND h.released_at IS NULL)
                      FROM backorder.orders o WHERE o.client_id = 'kb23' ORDER BY 1$$,
                  $$VALUES ('o1', 'cancelled', NULL), ('o2', 'needs_review', 'fraud_review,out_of_stock'),
                           ('o3', 'needs_review', 'out_of_stock'), ('o3-S1', 'ready', NULL)$$,
                  'B23: no child of the cancelled o1 nor of the held o2; o3 (no operator hold) split');
-- ... and an order placed before, completed by a receipt, then held in the same transaction.
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb23', 'w1', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb23', 'w1', 1, 'C', 1), ('kb23', 'w1', 2, 'B', 1);
SET CONSTRAINTS ALL DEFERRED;
SELECT backorder.receive('kb23', 'C', 'kb_w1', 1) \g /dev/null
SELECT backorder.hold_order('kb23', 'w1', 'fraud_review') \g /dev/null
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT order_id, status FROM backorder.orders WHERE client_id = 'kb23' AND order_id LIKE 'w1%'$$,
                  $$VALUES ('w1', 'needs_review')$$, 'B23: w1 gained C and was held: no child');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb23'$$, 'B23: invariants hold');

-- B24.  complete_only: o1 needs A and B; B is in stock, A arrives, then a savepoint runs the
-- completion pass and is rolled back.
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('kb24', 'complete_only');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb24', 'A'), ('kb24', 'B'), ('kb24', 'C');
SELECT backorder.receive('kb24', 'B', 'kb_w1', 1) \g /dev/null
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb24', 'o1', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb24', 'o1', 1, 'A', 1), ('kb24', 'o1', 2, 'B', 1);
SET CONSTRAINTS ALL DEFERRED;
SELECT backorder.receive('kb24', 'A', 'kb_w1', 1) \g /dev/null
SAVEPOINT b24;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT backorder.adjust('kb24', 'C', 'kb_w1', 1, 'found') \g /dev/null
ROLLBACK TO SAVEPOINT b24;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT is((SELECT status FROM backorder.orders WHERE client_id = 'kb24'), 'ready',
          'B24: the completion pass runs again at commit: o1 ready');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb24'$$, 'B24: invariants hold');

-- B25.  as_available; o1 (A, B) waits at kb_w1; A arrives at kb_w2; the watch runs in a
-- savepoint that is rolled back.
INSERT INTO backorder.location (location_id, priority) VALUES ('kb_w2', 2);
INSERT INTO backorder.client (client_id, split_rule) VALUES ('kb25', 'as_available');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb25', 'A'), ('kb25', 'B'), ('kb25', 'C');
INSERT INTO backorder.orders (client_id, order_id) VALUES ('kb25', 'o1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb25', 'o1', 1, 'A', 1), ('kb25', 'o1', 2, 'B', 1);
SET CONSTRAINTS ALL DEFERRED;
SELECT backorder.receive('kb25', 'A', 'kb_w2', 1) \g /dev/null
SAVEPOINT b25;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT backorder.adjust('kb25', 'C', 'kb_w1', 1, 'found') \g /dev/null
ROLLBACK TO SAVEPOINT b25;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT order_id, status FROM backorder.orders WHERE client_id = 'kb25' ORDER BY 1$$,
                  $$VALUES ('o1', 'needs_review'), ('o1-S1', 'ready')$$,
                  'B25: the watch runs again at commit: A ships from kb_w2 in o1-S1');

-- B26.  X holds 3 of A; Y waits for 2.  X's line drops to 1 (2 units freed); the evaluation
-- that serves them runs in a savepoint that is rolled back.
INSERT INTO backorder.client (client_id) VALUES ('kb26');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb26', 'A');
SELECT backorder.receive('kb26', 'A', 'kb_w1', 3) \g /dev/null
INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id) VALUES
    ('kb26', 'X', '2024-06-01 08:00+00', 'kb_w1'), ('kb26', 'Y', '2024-06-01 08:01+00', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb26', 'X', 1, 'A', 3), ('kb26', 'Y', 1, 'A', 2);
SET CONSTRAINTS ALL DEFERRED;
UPDATE backorder.order_line SET qty = 1 WHERE client_id = 'kb26' AND order_id = 'X';
SAVEPOINT b26;
SET CONSTRAINTS ALL IMMEDIATE;
ROLLBACK TO SAVEPOINT b26;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT order_id, status, allocated FROM backorder.orders JOIN backorder.order_line USING (client_id, order_id)
                     WHERE client_id = 'kb26' ORDER BY 1$$,
                  $$VALUES ('X', 'ready', 1), ('Y', 'ready', 2)$$,
                  'B26: the freed units are served at commit: Y ready');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id IN ('kb25', 'kb26')$$,
                'B25, B26: invariants hold');

-- B27.  O1 (1 of A, stock 1) is ready; its qty goes to 3, then a savepoint holds it and edits it
-- again, and is rolled back: the qty-3 edit is evaluated at commit.
INSERT INTO backorder.client (client_id) VALUES ('kb27');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb27', 'A');
SELECT backorder.receive('kb27', 'A', 'kb_w1', 1) \g /dev/null
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb27', 'O1', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('kb27', 'O1', 1, 'A', 1);
SET CONSTRAINTS ALL DEFERRED;
UPDATE backorder.order_line SET qty = 3 WHERE client_id = 'kb27' AND order_id = 'O1';
SAVEPOINT b27;
SELECT backorder.hold_order('kb27', 'O1') \g /dev/null
UPDATE backorder.order_line SET qty = 2 WHERE client_id = 'kb27' AND order_id = 'O1';
ROLLBACK TO SAVEPOINT b27;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT o.status, l.qty, l.allocated,
                           (SELECT string_agg(h.reason, ',') FROM backorder.order_hold h
                             WHERE h.client_id = o.client_id AND h.order_id = o.order_id AND h.released_at IS NULL)
                      FROM backorder.orders o JOIN backorder.order_line l USING (client_id, order_id)
                     WHERE o.client_id = 'kb27'$$,
                  $$VALUES ('needs_review', 3, 1, 'out_of_stock')$$,
                  'B27: the qty-3 edit is evaluated: O1 held out_of_stock with 1 of 3');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb27'$$, 'B27: invariants hold');

-- B28.  complete_only and as_available; B: 1 in stock; O1 wants 2, placed under IMMEDIATE.
INSERT INTO backorder.client (client_id, allocation_policy, split_rule) VALUES ('kb28', 'complete_only', 'as_available');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb28', 'B');
SELECT backorder.receive('kb28', 'B', 'kb_w1', 1) \g /dev/null
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb28', 'O1', 'kb_w1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'B', 2 FROM o;
SELECT results_eq($$SELECT o.order_id, o.status, l.qty, l.allocated FROM backorder.orders o
                      JOIN backorder.order_line l USING (client_id, order_id) WHERE o.client_id = 'kb28' ORDER BY 1$$,
                  $$VALUES ('O1', 'needs_review', 1, 0), ('O1-S1', 'ready', 1, 1)$$,
                  'B28: the unit ships in O1-S1, O1 keeps the one it waits for');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb28'$$, 'B28: invariants hold');

-- B29.  complete_only: O1 needs A and B, B in stock; A arrives.
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('kb29', 'complete_only');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb29', 'A'), ('kb29', 'B');
SELECT backorder.receive('kb29', 'B', 'kb_w1', 1) \g /dev/null
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb29', 'O1', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb29', 'O1', 1, 'A', 1), ('kb29', 'O1', 2, 'B', 1);
SET CONSTRAINTS ALL DEFERRED;
SELECT backorder.receive('kb29', 'A', 'kb_w1', 1) \g /dev/null
SAVEPOINT b29;
SET CONSTRAINTS ALL IMMEDIATE;
ROLLBACK TO SAVEPOINT b29;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT event, detail -> 'changes' FROM backorder.order_event
                     WHERE client_id = 'kb29' AND event NOT IN ('placed', 'held') ORDER BY event_id$$,
                  $$VALUES ('released', '[{"sku": "A", "units": 1, "location_id": "kb_w1"},
                                          {"sku": "B", "units": 1, "location_id": "kb_w1"}]'::jsonb)$$,
                  'B29: one release with both units');

-- B30.  complete_only: O1 (priority 1) needs B and C, O2 needs A and B; 1 of A is free.  B and
-- C arrive; between them a receipt of A is rolled back.  The completion pass walks the rows the
-- committed receipts left, B then C: O1 first.  It used to walk A's row too, queued by the
-- rolled-back receipt, and A comes first in key order: O2 completed and took B.
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('kb30', 'complete_only');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb30', 'A'), ('kb30', 'B'), ('kb30', 'C');
SELECT backorder.receive('kb30', 'A', 'kb_w1', 1) \g /dev/null
INSERT INTO backorder.orders (client_id, order_id, location_id, priority, placed_at)
VALUES ('kb30', 'O1', 'kb_w1', 1, '2024-01-02'), ('kb30', 'O2', 'kb_w1', 0, '2024-01-01');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb30', 'O1', 1, 'B', 1), ('kb30', 'O1', 2, 'C', 1), ('kb30', 'O2', 1, 'A', 1), ('kb30', 'O2', 2, 'B', 1);
SET CONSTRAINTS ALL DEFERRED;
SELECT backorder.receive('kb30', 'B', 'kb_w1', 1) \g /dev/null
SAVEPOINT b30;
SELECT backorder.receive('kb30', 'A', 'kb_w1', 1) \g /dev/null
ROLLBACK TO SAVEPOINT b30;
SELECT backorder.receive('kb30', 'C', 'kb_w1', 1) \g /dev/null
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT order_id, status FROM backorder.orders WHERE client_id = 'kb30' ORDER BY 1$$,
                  $$VALUES ('O1', 'ready'), ('O2', 'needs_review')$$,
                  'B30: the rolled-back receipt leaves nothing for the completion pass: O1 ready');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb30'$$, 'B30: invariants hold');

-- B31.  X waits for A; O1 (placed) waits for B.  One transaction receives A (its settle is
-- queued first), adds a line to O1, then receives B, which serves O1's first line.  The
-- settle ran before the intake and read O1's new line, not yet placed, as an unknown SKU:
-- an unknown_sku hold opened and closed in the same commit.
INSERT INTO backorder.client (client_id) VALUES ('kb31');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb31', 'A'), ('kb31', 'B');
INSERT INTO backorder.orders (client_id, order_id, location_id, placed_at)
VALUES ('kb31', 'X', 'kb_w1', '2024-01-01'), ('kb31', 'O1', 'kb_w1', '2024-01-02');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb31', 'X', 1, 'A', 1), ('kb31', 'O1', 1, 'B', 1);
SET CONSTRAINTS ALL DEFERRED;
SELECT backorder.receive('kb31', 'A', 'kb_w1', 1) \g /dev/null
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('kb31', 'O1', 2, 'B', 1);
SELECT backorder.receive('kb31', 'B', 'kb_w1', 1) \g /dev/null
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT order_id, event, detail -> 'reasons' FROM backorder.order_event
                     WHERE client_id = 'kb31' AND event NOT IN ('placed', 'held') ORDER BY event_id$$,
                  $$VALUES ('X', 'released', NULL::jsonb), ('O1', 'allocated', '["out_of_stock"]'::jsonb)$$,
                  'B31: O1 is settled after its new line is placed: no unknown_sku hold');
SELECT is_empty($$SELECT * FROM backorder.order_hold WHERE client_id = 'kb31' AND reason = 'unknown_sku'$$,
                'B31: no unknown_sku hold was ever opened');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb31'$$, 'B31: invariants hold');

-- B32.  O1 holds 1 of A and waits for B and C; X waits for C.  One transaction receives C,
-- which goes to O1, then deletes O1's line of C: the unit goes on to X.  O1's history named
-- the unit it gave back (an 'allocated' event with C +1).
INSERT INTO backorder.client (client_id) VALUES ('kb32');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb32', 'A'), ('kb32', 'B'), ('kb32', 'C');
SELECT backorder.receive('kb32', 'A', 'kb_w1', 5) \g /dev/null
INSERT INTO backorder.orders (client_id, order_id, location_id, placed_at)
VALUES ('kb32', 'O1', 'kb_w1', '2024-01-01'), ('kb32', 'X', 'kb_w1', '2024-01-02');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb32', 'O1', 1, 'A', 1), ('kb32', 'O1', 2, 'C', 1), ('kb32', 'O1', 3, 'B', 1), ('kb32', 'X', 1, 'C', 1);
SET CONSTRAINTS ALL DEFERRED;
SELECT backorder.receive('kb32', 'C', 'kb_w1', 1) \g /dev/null
DELETE FROM backorder.order_line WHERE client_id = 'kb32' AND order_id = 'O1' AND line_no = 2;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT order_id, event, detail -> 'changes' FROM backorder.order_event
                     WHERE client_id = 'kb32' AND event NOT IN ('placed', 'held') ORDER BY event_id$$,
                  $$VALUES ('X', 'released', '[{"sku": "C", "units": 1, "location_id": "kb_w1"}]'::jsonb)$$,
                  'B32: only X names the unit of C; O1 kept nothing of it');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb32'$$, 'B32: invariants hold');

-- B33.  O1 waits for 1 of A.  A re-delivery writes it again with ON CONFLICT DO NOTHING (the
-- rows are skipped), then A arrives.  A first fix of B31 left O1 unsettled: the skipped insert
-- marked it for an intake that never came (ready lines, needs_review: invariant 4).
INSERT INTO backorder.client (client_id) VALUES ('kb33');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb33', 'A');
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb33', 'O1', 'kb_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('kb33', 'O1', 1, 'A', 1);
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('kb33', 'O1', 'kb_w1') ON CONFLICT DO NOTHING;
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('kb33', 'O1', 1, 'A', 1) ON CONFLICT DO NOTHING;
SELECT backorder.receive('kb33', 'A', 'kb_w1', 1) \g /dev/null
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT o.status, l.allocated FROM backorder.orders o JOIN backorder.order_line l USING (client_id, order_id)
                     WHERE o.client_id = 'kb33'$$,
                  $$VALUES ('ready', 1)$$, 'B33: the re-delivered order is released by the receipt');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb33'$$, 'B33: invariants hold');

-- B34.  A split rule frees units where the held remainder itself waits.  3 of A at kb_w1,
-- 5 at kb_w2 held by X.  O (up to 2 shipments) orders 4 + 2 of A and 1 of B and is placed at
-- kb_w1 (3 units); X is cancelled in the same transaction; at commit the rule ships O's 5
-- units of A from kb_w2 and frees the 3 at kb_w1, where O's remainder waits for 1.  The freed
-- units were left free beside it (invariant 5); now they are served.
INSERT INTO backorder.client (client_id) VALUES ('kb34');
INSERT INTO backorder.sku (client_id, sku) VALUES ('kb34', 'A'), ('kb34', 'B');
SELECT backorder.receive('kb34', 'A', 'kb_w1', 3) \g /dev/null
SELECT backorder.receive('kb34', 'A', 'kb_w2', 5) \g /dev/null
INSERT INTO backorder.orders (client_id, order_id, location_id, placed_at) VALUES ('kb34', 'X', 'kb_w2', '2024-01-01');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('kb34', 'X', 1, 'A', 5);
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO backorder.orders (client_id, order_id, placed_at, split_rule, split_max_shipments)
VALUES ('kb34', 'O', '2024-01-02', 'up_to_n', 2);
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
VALUES ('kb34', 'O', 1, 'A', 4), ('kb34', 'O', 2, 'A', 2), ('kb34', 'O', 3, 'B', 1);
SELECT backorder.cancel_order('kb34', 'X') \g /dev/null
SET CONSTRAINTS ALL IMMEDIATE;
SELECT results_eq($$SELECT l.order_id, l.line_no, l.qty, l.allocated, l.location_id FROM backorder.order_line l
                     WHERE l.client_id = 'kb34' AND l.order_id <> 'X' ORDER BY 1, 2$$,
                  $$VALUES ('O', 2, 1, 1, 'kb_w1'), ('O', 3, 1, 0, 'kb_w1'),
                           ('O-S1', 1, 4, 4, 'kb_w2'), ('O-S1', 2, 1, 1, 'kb_w2')$$,
                  'B34: O-S1 ships 5 from kb_w2; O''s remainder takes 1 of the 3 freed at kb_w1');
SELECT is_empty($$SELECT * FROM backorder.check_invariants() WHERE client_id = 'kb34'$$, 'B34: invariants hold');

SELECT * FROM finish();
ROLLBACK;
