-- split_order.sql — backorder.split_order(): children, the held remainder, stock, events.
--
-- A split moves the units that can ship now into ready child orders and leaves the rest
-- held in the parent; units and stock add up before and after; S9 applied; the cases that
-- change nothing; cancelling a parent; bad input with its SQLSTATE, writing nothing.
--
-- Warehouses so_a (priority 1), so_b (2), so_c (3).  One client per case.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-01-01 10:00+00';
SET client_min_messages = warning;  -- the NOTICEs of splits that change nothing

SELECT plan(68);

CREATE FUNCTION pg_temp.place(p_client text, p_order text, p_placed_at timestamptz, p_lines text,
                              p_location text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    WITH o AS (
        INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id)
        VALUES (p_client, p_order, p_placed_at, p_location)
        RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, unit_price)
    SELECT o.client_id, o.order_id, l.n::int, nullif(split_part(l.item, ':', 1), ''),
           split_part(l.item, ':', 2)::int, nullif(split_part(l.item, ':', 3), '')::numeric
    FROM o, unnest(string_to_array(p_lines, ',')) WITH ORDINALITY AS l (item, n)
$$;

-- Lines of a client: 'order#line sku qty/allocated@location waiting' rows.
CREATE FUNCTION pg_temp.lines_of(p_client text)
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT format('%s#%s %s %s/%s@%s %s', order_id, line_no, sku, qty, allocated, location_id,
                  CASE WHEN waiting THEN 'waiting' ELSE '-' END)
    FROM backorder.order_line WHERE client_id = p_client ORDER BY order_id, line_no
$$;

-- Units per original line over an order and its children: ordered, allocated, short.
CREATE FUNCTION pg_temp.family_units(p_client text, p_root text)
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT format('line %s: %s ordered, %s allocated, %s short', l.line_no, sum(l.qty), sum(l.allocated),
                  sum(l.qty - l.allocated))
    FROM backorder.order_line l JOIN backorder.orders o USING (client_id, order_id)
    WHERE l.client_id = p_client AND (o.order_id = p_root OR o.parent_order_id = p_root)
    GROUP BY l.line_no ORDER BY l.line_no
$$;

\ir lib/split_helpers.sql

INSERT INTO backorder.location (location_id, priority) VALUES ('so_a', 1), ('so_b', 2), ('so_c', 3);
INSERT INTO backorder.client (client_id)
VALUES ('so_one'), ('so_two'), ('so_s9'), ('so_noop'), ('so_bad'), ('so_cancel'), ('so_name'), ('so_again');
INSERT INTO backorder.sku (client_id, sku)
SELECT client_id, s FROM backorder.client, unnest(ARRAY['X', 'Y']) AS s WHERE client_id LIKE 'so\_%';

-- ---------------------------------------------------------------------------------------------
-- One shipment now, the rest held.  A has 2 X and 1 Y; O1 needs 5 X (at 9.50) and 1 Y.
SELECT backorder.receive('so_one', 'X', 'so_a', 2);
SELECT backorder.receive('so_one', 'Y', 'so_a', 1);
SELECT pg_temp.place('so_one', 'O1', '2024-01-01 09:00+00', 'X:5:9.50,Y:1:4.00');
SELECT results_eq($$SELECT * FROM pg_temp.family_units('so_one', 'O1')$$,
                  ARRAY['line 1: 5 ordered, 2 allocated, 3 short', 'line 2: 1 ordered, 1 allocated, 0 short'],
                  'before: O1 holds 2 X and 1 Y, 3 X short');
SELECT is(backorder.split_order('so_one', 'O1'), 1, 'split_order returns the shipments made ready: 1');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('so_one')$$,
                  ARRAY['O1 needs_review -', 'O1-S1 ready O1'],
                  'a ready child O1-S1 names its parent; O1 stays held');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('so_one')$$,
                  ARRAY['O1#1 X 3/0@so_a waiting', 'O1-S1#1 X 2/2@so_a -', 'O1-S1#2 Y 1/1@so_a -'],
                  'the child carries exactly the allocated units; the parent only the 3 short X');
SELECT results_eq($$SELECT * FROM pg_temp.family_units('so_one', 'O1')$$,
                  ARRAY['line 1: 5 ordered, 2 allocated, 3 short', 'line 2: 1 ordered, 1 allocated, 0 short'],
                  'after: the same units ordered, allocated and short over parent and child');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('so_one')$$,
                  ARRAY['X@so_a 2/2', 'Y@so_a 1/1'], 'stock.allocated does not change');
SELECT is((SELECT array_agg(unit_price ORDER BY line_no) FROM backorder.order_line
            WHERE client_id = 'so_one' AND order_id = 'O1-S1'), ARRAY[9.50, 4.00]::numeric[],
          'child lines keep their unit prices');
SELECT results_eq($$SELECT * FROM pg_temp.events_of('so_one')$$,
                  ARRAY['O1 placed needs_review', 'O1 held needs_review', 'O1 split needs_review',
                        'O1-S1 placed ready'],
                  'events: split on the parent, placed (ready) on the child');
SELECT is((SELECT detail FROM backorder.order_event WHERE client_id = 'so_one' AND event = 'split'),
          '{"rule": "manual", "children": ["O1-S1"], "shipments": [{"order_id": "O1-S1", "location_id": "so_a", "units": 3}], "units_left": 3, "changes": [{"sku": "X", "location_id": "so_a", "units": -2}, {"sku": "Y", "location_id": "so_a", "units": -1}]}'::jsonb,
          'the split event names the children, the shipments and the parent''s changes');
SELECT is((SELECT detail FROM backorder.order_event WHERE client_id = 'so_one' AND order_id = 'O1-S1'),
          '{"split_from": "O1", "location_id": "so_a", "lines": 2, "changes": [{"sku": "X", "location_id": "so_a", "units": 2}, {"sku": "Y", "location_id": "so_a", "units": 1}]}'::jsonb,
          'the child''s placed event says where it came from');
SELECT is((SELECT count(*)::int FROM backorder.order_hold WHERE client_id = 'so_one' AND released_at IS NULL),
          1, 'the parent keeps its one out_of_stock hold');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold after the split');
SELECT ok(backorder.ship_order('so_one', 'O1-S1'), 'the child ships');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('so_one')$$,
                  ARRAY[]::text[], 'shipping the child empties the shelf');
SELECT backorder.receive('so_one', 'X', 'so_a', 3);
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('so_one')$$,
                  ARRAY['O1 ready -', 'O1-S1 shipped O1'],
                  'a receipt releases the parent''s remainder as usual');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold after ship and receipt');

-- ---------------------------------------------------------------------------------------------
-- Everything can ship now, from two warehouses: the parent keeps A's shipment, a child ships C's.
SELECT backorder.receive('so_two', 'X', 'so_a', 2);
SELECT backorder.receive('so_two', 'Y', 'so_a', 1);
SELECT pg_temp.place('so_two', 'O2', '2024-01-01 09:00+00', 'X:5,Y:1');
SELECT backorder.receive('so_two', 'X', 'so_c', 3);
SELECT is(backorder.split_order('so_two', 'O2'), 2, 'two shipments made ready');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('so_two')$$,
                  ARRAY['O2 ready -', 'O2-S1 ready O2'], 'both ready: nothing stays held');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('so_two')$$,
                  ARRAY['O2#1 X 2/2@so_a -', 'O2#2 Y 1/1@so_a -', 'O2-S1#1 X 3/3@so_c -'],
                  'the parent keeps A''s units, the child takes 3 from C');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('so_two')$$,
                  ARRAY['X@so_a 2/2', 'X@so_c 3/3', 'Y@so_a 1/1'],
                  'units taken from available stock at C raise its allocated');
SELECT results_eq($$SELECT * FROM pg_temp.events_of('so_two')$$,
                  ARRAY['O2 placed needs_review', 'O2 held needs_review', 'O2 split needs_review',
                        'O2-S1 placed ready', 'O2 released ready'],
                  'the parent is released (its hold closed), the child placed');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- ---------------------------------------------------------------------------------------------
-- S9 applied: A, B, C hold 2, 4, 5; S9 needs 5 and waits at A with A's 2; W2 waits at A too.
-- The plan is one shipment of 5 from C: S9 moves to C, and A's 2 units go to W2 at once.
SELECT backorder.receive('so_s9', 'X', 'so_a', 2);
SELECT pg_temp.place('so_s9', 'S9', '2024-01-01 09:00+00', 'X:5');
SELECT pg_temp.place('so_s9', 'W2', '2024-01-01 09:10+00', 'X:2');
SELECT backorder.receive('so_s9', 'X', 'so_b', 4);
SELECT backorder.receive('so_s9', 'X', 'so_c', 5);
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('so_s9')$$,
                  ARRAY['S9#1 X 5/2@so_a waiting', 'W2#1 X 2/0@so_a waiting'], 'S9 and W2 wait at A');
SELECT is(backorder.split_order('so_s9', 'S9'), 1, 'S9: one shipment');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('so_s9')$$,
                  ARRAY['S9 ready -', 'W2 ready -'], 'S9 ready at C, no child; W2 released by the freed units');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('so_s9')$$,
                  ARRAY['S9#1 X 5/5@so_c -', 'W2#1 X 2/2@so_a -'], 'S9 ships 5 from C; W2 holds A''s 2');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('so_s9')$$,
                  ARRAY['X@so_a 2/2', 'X@so_b 4/0', 'X@so_c 5/5'], 'S9: stock adds up');
SELECT results_eq($$SELECT * FROM pg_temp.events_of('so_s9')$$,
                  ARRAY['S9 placed needs_review', 'S9 held needs_review', 'W2 placed needs_review',
                        'W2 held needs_review', 'S9 split needs_review', 'S9 released ready',
                        'W2 released ready'],
                  'S9: split then released; W2 released');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold after S9');

-- ---------------------------------------------------------------------------------------------
-- Splits that change nothing: a ready order, an order with nothing to ship now.
SELECT backorder.receive('so_noop', 'X', 'so_a', 1);
SELECT pg_temp.place('so_noop', 'R1', '2024-01-01 09:00+00', 'X:1');
SELECT pg_temp.place('so_noop', 'N1', '2024-01-01 09:10+00', 'X:2,Y:1');
SELECT pg_temp.footprint() AS before \gset
SELECT is(backorder.split_order('so_noop', 'R1'), 0, 'a ready order: 0 shipments');
SELECT is(backorder.split_order('so_noop', 'N1'), 0, 'nothing can ship now: 0 shipments');
SELECT is(pg_temp.footprint(), :'before', 'neither wrote anything');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('so_noop')$$,
                  ARRAY['N1 needs_review -', 'R1 ready -'], 'statuses unchanged');
-- Twice in a row: the second split finds nothing more to ship.
SELECT backorder.receive('so_noop', 'Y', 'so_b', 1);
SELECT is(backorder.split_order('so_noop', 'N1'), 1, 'N1: B''s Y ships');
SELECT pg_temp.footprint() AS before \gset
SELECT is(backorder.split_order('so_noop', 'N1'), 0, 'split again: nothing more, 0');
SELECT is(pg_temp.footprint(), :'before', 'the second split wrote nothing');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('so_noop')$$,
                  ARRAY['N1#1 X 2/0@so_a waiting', 'N1-S1#2 Y 1/1@so_b -', 'R1#1 X 1/1@so_a -'],
                  'N1 keeps its short X, N1-S1 ships B''s Y');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- ---------------------------------------------------------------------------------------------
-- Bad input: SQLSTATE and hint, nothing written.
SELECT backorder.receive('so_bad', 'X', 'so_a', 3);
SELECT pg_temp.place('so_bad', 'H1', '2024-01-01 09:00+00', 'X:2,Y:1');
SELECT backorder.hold_order('so_bad', 'H1', 'fraud_review');
SELECT pg_temp.place('so_bad', 'SH', '2024-01-01 09:10+00', 'X:1');
SELECT backorder.ship_order('so_bad', 'SH');
SELECT pg_temp.place('so_bad', 'CA', '2024-01-01 09:20+00', 'X:1,Y:1');
SELECT backorder.cancel_order('so_bad', 'CA');
SELECT pg_temp.footprint() AS before \gset
SELECT throws_ok($$SELECT backorder.split_order('so_bad', 'nope')$$, 'P0002',
                 'order "nope" of client "so_bad" does not exist', 'unknown order: P0002');
SELECT throws_ok($$SELECT backorder.split_order('so_bad', 'SH')$$, '55000',
                 'order "SH" is shipped and cannot be split', 'shipped order: 55000');
SELECT throws_ok($$SELECT backorder.split_order('so_bad', 'CA')$$, '55000',
                 'order "CA" is cancelled and cannot be split', 'cancelled order: 55000');
SELECT throws_ok($$SELECT backorder.split_order('so_bad', 'H1')$$, '55000',
                 'order "H1" has an open operator hold and cannot be split',
                 'an operator hold: 55000 (its children would ship past the hold)');
SELECT throws_ok($$SELECT backorder.split_order(NULL, 'H1')$$, '22004',
                 'client_id must not be null', 'NULL client: 22004');
SELECT throws_ok($$SELECT backorder.split_order('so_bad', NULL)$$, '22004',
                 'order_id must not be null', 'NULL order: 22004');
SELECT is(pg_temp.hint_of($$SELECT backorder.split_order('so_bad', 'nope')$$),
          'Check the client_id and order_id in backorder.orders.', 'P0002 hint');
SELECT is(pg_temp.hint_of($$SELECT backorder.split_order('so_bad', 'SH')$$),
          'Only ready and needs_review orders have something to split.', '55000 hint (shipped)');
SELECT is(pg_temp.hint_of($$SELECT backorder.split_order('so_bad', 'H1')$$),
          'Release the hold with backorder.release_hold() first.', '55000 hint (operator hold)');
SELECT is(pg_temp.footprint(), :'before', 'bad input wrote nothing');
SELECT throws_ok($$UPDATE backorder.orders SET parent_order_id = 'SH' WHERE client_id = 'so_bad' AND order_id = 'H1'$$,
                 '428C9', 'column "parent_order_id" of backorder.orders is maintained by the engine',
                 'apps cannot set parent_order_id');
SELECT throws_ok($$INSERT INTO backorder.orders (client_id, order_id, parent_order_id) VALUES ('so_bad', 'Z', 'SH')$$,
                 '428C9', 'column "parent_order_id" of backorder.orders is maintained by the engine',
                 'nor insert it');
-- Once released, the hold no longer stands in the way.
SELECT backorder.release_hold('so_bad', 'H1', 'fraud_review');
SELECT is(backorder.split_order('so_bad', 'H1'), 1, 'after release_hold the order splits');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- ---------------------------------------------------------------------------------------------
-- Cancelling a parent cancels its held remainder only; the children live on.
SELECT backorder.receive('so_cancel', 'X', 'so_a', 2);
SELECT pg_temp.place('so_cancel', 'P1', '2024-01-01 09:00+00', 'X:3,Y:2');
SELECT backorder.receive('so_cancel', 'Y', 'so_a', 1);
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('so_cancel')$$,
                  ARRAY['P1#1 X 3/2@so_a waiting', 'P1#2 Y 2/1@so_a waiting'], 'P1 holds 2 X and 1 Y');
SELECT is(backorder.split_order('so_cancel', 'P1'), 1, 'P1 split');
SELECT ok(backorder.cancel_order('so_cancel', 'P1'), 'cancel the parent');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('so_cancel')$$,
                  ARRAY['P1 cancelled -', 'P1-S1 ready P1'], 'the child lives on');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('so_cancel')$$,
                  ARRAY['P1#1 X 1/0@so_a -', 'P1#2 Y 1/0@so_a -', 'P1-S1#1 X 2/2@so_a -', 'P1-S1#2 Y 1/1@so_a -'],
                  'the parent''s remainder is cancelled, the child keeps its units');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('so_cancel')$$,
                  ARRAY['X@so_a 2/2', 'Y@so_a 1/1'], 'stock: the child''s units stay allocated');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold after the cancel');

-- ---------------------------------------------------------------------------------------------
-- Child names: the next free <original>-S<n>.
SELECT backorder.receive('so_name', 'X', 'so_a', 1);
SELECT backorder.receive('so_name', 'Y', 'so_a', 5);
SELECT pg_temp.place('so_name', 'K1-S1', '2024-01-01 08:00+00', 'Y:1');
SELECT pg_temp.place('so_name', 'K1', '2024-01-01 09:00+00', 'X:2');
SELECT is(backorder.split_order('so_name', 'K1'), 1, 'K1 split');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('so_name')$$,
                  ARRAY['K1 needs_review -', 'K1-S1 ready -', 'K1-S2 ready K1'],
                  'a shop order already named K1-S1: the child is K1-S2');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- ---------------------------------------------------------------------------------------------
-- A child can be split again; its children name the original order.
SELECT backorder.receive('so_again', 'X', 'so_a', 3);
SELECT backorder.receive('so_again', 'Y', 'so_a', 1);
SELECT pg_temp.place('so_again', 'G1', '2024-01-01 09:00+00', 'X:3,Y:2');
SELECT is(backorder.split_order('so_again', 'G1'), 1, 'G1 split: G1-S1 ships 3 X and 1 Y');
SELECT backorder.count_stock('so_again', 'X', 'so_a', 1, 'damaged');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('so_again')$$,
                  ARRAY['G1 needs_review -', 'G1-S1 needs_review G1'], 'the count took 2 X back from G1-S1');
SELECT is(backorder.split_order('so_again', 'G1-S1'), 1, 'split the child');
SELECT results_eq($$SELECT * FROM pg_temp.orders_of('so_again')$$,
                  ARRAY['G1 needs_review -', 'G1-S1 needs_review G1', 'G1-S2 ready G1'],
                  'the grandchild is G1-S2, child of the original G1');
SELECT results_eq($$SELECT * FROM pg_temp.family_units('so_again', 'G1')$$,
                  ARRAY['line 1: 3 ordered, 1 allocated, 2 short', 'line 2: 2 ordered, 1 allocated, 1 short'],
                  'over the family: 3 X and 2 Y ordered, as placed');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold at the end');

SELECT * FROM finish();
ROLLBACK;
