-- split_compute.sql — backorder.compute_split(): the plan, without writing anything.
--
-- SCENARIOS S9 (fewest shipments across warehouses) and the plan's objective in order:
-- most units now, fewest shipments, preferred locations, fewest allocated units moved;
-- what stays held; the cases that do not split; bad input.
--
-- Warehouses sc_a (priority 1), sc_b (2), sc_c (3), sc_d (2).  One client per case.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-01-01 10:00+00';

SELECT plan(33);

-- Places an order and its lines in one statement.  p_lines: 'SKU:qty,SKU:qty' (line_no = position).
CREATE FUNCTION pg_temp.place(p_client text, p_order text, p_placed_at timestamptz, p_lines text,
                              p_location text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    WITH o AS (
        INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id)
        VALUES (p_client, p_order, p_placed_at, p_location)
        RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT o.client_id, o.order_id, l.n::int, nullif(split_part(l.item, ':', 1), ''),
           split_part(l.item, ':', 2)::int
    FROM o, unnest(string_to_array(p_lines, ',')) WITH ORDINALITY AS l (item, n)
$$;

-- The plan as text rows, in a stable order.
CREATE FUNCTION pg_temp.plan_of(p_client text, p_order text)
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT format('%s|%s|%s|%s|%s|%s', coalesce(shipment_no::text, '-'), coalesce(location_id, '-'),
                  line_no, coalesce(sku, '-'), qty, ships_now::text)
    FROM backorder.compute_split(p_client, p_order)
    ORDER BY shipment_no NULLS LAST, line_no, location_id
$$;

\ir lib/split_helpers.sql

INSERT INTO backorder.location (location_id, priority)
VALUES ('sc_a', 1), ('sc_b', 2), ('sc_c', 3), ('sc_d', 2);
INSERT INTO backorder.client (client_id)
VALUES ('sc_s9'), ('sc_ship'), ('sc_prio'), ('sc_moved'), ('sc_multi'), ('sc_multi2'), ('sc_left'),
       ('sc_pin'), ('sc_ready'), ('sc_none'), ('sc_co');
UPDATE backorder.client SET allocation_policy = 'complete_only' WHERE client_id = 'sc_co';
INSERT INTO backorder.sku (client_id, sku)
SELECT client_id, s FROM backorder.client, unnest(ARRAY['X', 'Y', 'Z']) AS s WHERE client_id LIKE 'sc\_%';

-- ---------------------------------------------------------------------------------------------
-- S9.  A, B and C hold 2, 4 and 5 of X; the order needs 5 (and waits at A with the 2 units
-- there).  Expected: one shipment of 5 from C, not 2+3 or 2+2+1.
SELECT backorder.receive('sc_s9', 'X', 'sc_a', 2);
SELECT pg_temp.place('sc_s9', 'S9', '2024-01-01 09:00+00', 'X:5');
SELECT backorder.receive('sc_s9', 'X', 'sc_b', 4);
SELECT backorder.receive('sc_s9', 'X', 'sc_c', 5);
SELECT is((SELECT status || ' at ' || l.location_id || ', allocated ' || allocated
             FROM backorder.orders JOIN backorder.order_line l USING (client_id, order_id)
            WHERE client_id = 'sc_s9'),
          'needs_review at sc_a, allocated 2', 'S9: the order waits at A with the 2 units there');
SELECT pg_temp.footprint() AS before \gset
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_s9', 'S9')$$,
                  ARRAY['1|sc_c|1|X|5|true'],
                  'S9: one shipment of 5 from C');
SELECT is(pg_temp.footprint(), :'before', 'S9: compute_split writes nothing');
SELECT is((SELECT array_agg(on_hand || '/' || allocated ORDER BY location_id) FROM backorder.stock
            WHERE client_id = 'sc_s9'),
          ARRAY['2/2', '4/0', '5/0'], 'S9: stock untouched');

-- Most units first, then fewest shipments: 9 of X with A 2 (allocated), B 4, C 5 ships
-- 4 from B and 5 from C (two shipments) rather than 2+4+3 (three).
SELECT backorder.receive('sc_ship', 'X', 'sc_a', 2);
SELECT pg_temp.place('sc_ship', 'N9', '2024-01-01 09:00+00', 'X:9');
SELECT backorder.receive('sc_ship', 'X', 'sc_b', 4);
SELECT backorder.receive('sc_ship', 'X', 'sc_c', 5);
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_ship', 'N9')$$,
                  ARRAY['1|sc_b|1|X|4|true', '2|sc_c|1|X|5|true'],
                  'fewest shipments: 9 = 4 (B) + 5 (C), not 2 + 4 + 3');
-- ... and 12 of X can ship only 11: all three, with 1 held at A where the line waits.
SELECT pg_temp.place('sc_ship', 'N12', '2024-01-01 09:30+00', 'X:12', 'sc_a');
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_ship', 'N12')$$,
                  ARRAY['-|sc_a|1|X|12|false'],
                  'an order pinned at A with nothing there: nothing ships, everything held at A');

-- Location priority: B (priority 2) and C (priority 3) could each ship the whole order.
SELECT backorder.receive('sc_prio', 'X', 'sc_c', 3);
SELECT backorder.receive('sc_prio', 'X', 'sc_b', 3);
SELECT pg_temp.place('sc_prio', 'P1', '2024-01-01 09:00+00', 'X:3', 'sc_a');
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_prio', 'P1')$$,
                  ARRAY['-|sc_a|1|X|3|false'],
                  'pinned at A: other warehouses are not considered');
SELECT pg_temp.place('sc_prio', 'P2', '2024-01-01 09:05+00', 'X:4');
SELECT is((SELECT location_id || ' ' || allocated FROM backorder.order_line
            WHERE client_id = 'sc_prio' AND order_id = 'P2'), 'sc_b 3',
          'P2 (4) waits at B, the warehouse with most units, holding 3');
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_prio', 'P2')$$,
                  ARRAY['1|sc_b|1|X|3|true', '2|sc_c|1|X|1|true'],
                  'two shipments: B''s 3 and 1 from C');

-- Equal priority numbers (B and D are both 2): the plan that moves no allocated units wins.
-- M1 waits at D holding its 2 X; B has 2 X and 1 Y, C has 1 Y and 1 Z.  D+C and B+C both ship
-- all 4 units in two shipments from warehouses of priorities 2 and 3; B+C would move D's X.
SELECT backorder.receive('sc_moved', 'X', 'sc_d', 2);
SELECT pg_temp.place('sc_moved', 'M1', '2024-01-01 09:00+00', 'X:2,Y:1,Z:1');
SELECT is((SELECT string_agg(location_id || ':' || allocated, ',' ORDER BY line_no) FROM backorder.order_line
            WHERE client_id = 'sc_moved' AND order_id = 'M1'), 'sc_d:2,sc_d:0,sc_d:0',
          'M1 waits at D, holding its 2 X');
SELECT backorder.receive('sc_moved', 'X', 'sc_b', 2);
SELECT backorder.receive('sc_moved', 'Y', 'sc_b', 1);
SELECT backorder.receive('sc_moved', 'Y', 'sc_c', 1);
SELECT backorder.receive('sc_moved', 'Z', 'sc_c', 1);
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_moved', 'M1')$$,
                  ARRAY['1|sc_d|1|X|2|true', '2|sc_c|2|Y|1|true', '2|sc_c|3|Z|1|true'],
                  'same priorities: D + C, where its X already is, not B + C (no units moved)');

-- Several SKUs: X allocated at A, Y short there; C has Y.  Two shipments (A's X, C's Y)...
SELECT backorder.receive('sc_multi', 'X', 'sc_a', 3);
SELECT pg_temp.place('sc_multi', 'T1', '2024-01-01 09:00+00', 'X:3,Y:2');
SELECT backorder.receive('sc_multi', 'Y', 'sc_c', 2);
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_multi', 'T1')$$,
                  ARRAY['1|sc_a|1|X|3|true', '2|sc_c|2|Y|2|true'],
                  'two SKUs from two warehouses: two shipments, nothing held');
-- ... but one shipment when C has both SKUs (A's 3 X are moved: fewer shipments comes first).
SELECT backorder.receive('sc_multi2', 'X', 'sc_a', 3);
SELECT pg_temp.place('sc_multi2', 'T2', '2024-01-01 09:00+00', 'X:3,Y:2');
SELECT backorder.receive('sc_multi2', 'X', 'sc_c', 3);
SELECT backorder.receive('sc_multi2', 'Y', 'sc_c', 2);
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_multi2', 'T2')$$,
                  ARRAY['1|sc_c|1|X|3|true', '1|sc_c|2|Y|2|true'],
                  'both SKUs at C: one shipment from C');

-- What stays held: a short remainder, a line without SKU, an unknown SKU.
SELECT backorder.receive('sc_left', 'X', 'sc_a', 2);
SELECT pg_temp.place('sc_left', 'L1', '2024-01-01 09:00+00', 'X:5,:1,NOPE:2,Y:1');
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_left', 'L1')$$,
                  ARRAY['1|sc_a|1|X|2|true', '-|sc_a|1|X|3|false', '-|-|2|-|1|false',
                        '-|-|3|NOPE|2|false', '-|sc_a|4|Y|1|false'],
                  'the remainder: 3 X short at A, the line without SKU, the unknown SKU, Y short');

-- Order lines of the same SKU share what is available.
SELECT pg_temp.place('sc_left', 'L2', '2024-01-01 09:10+00', 'Y:1,Y:2');
SELECT backorder.receive('sc_left', 'Y', 'sc_c', 2);
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_left', 'L2')$$,
                  ARRAY['1|sc_c|1|Y|1|true', '1|sc_c|2|Y|1|true', '-|sc_a|2|Y|1|false'],
                  'two lines of Y share C''s 2 units, in line order');

-- A pinned order ships only what it holds at its warehouse.
SELECT backorder.receive('sc_pin', 'X', 'sc_b', 2);
SELECT backorder.receive('sc_pin', 'X', 'sc_c', 9);
SELECT pg_temp.place('sc_pin', 'Q1', '2024-01-01 09:00+00', 'X:4', 'sc_b');
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_pin', 'Q1')$$,
                  ARRAY['1|sc_b|1|X|2|true', '-|sc_b|1|X|2|false'],
                  'pinned at B: B''s 2 ship, 2 stay held, C''s 9 are not considered');

-- A ready order ships as it is allocated, even where a preferred warehouse could fill it.
SELECT backorder.receive('sc_ready', 'X', 'sc_c', 2);
SELECT pg_temp.place('sc_ready', 'R1', '2024-01-01 09:00+00', 'X:2');
SELECT backorder.receive('sc_ready', 'X', 'sc_a', 5);
SELECT is((SELECT status FROM backorder.orders WHERE client_id = 'sc_ready'), 'ready', 'R1 is ready at C');
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_ready', 'R1')$$,
                  ARRAY['1|sc_c|1|X|2|true'], 'a ready order: one shipment, as allocated (C), not A');
-- ... also under an operator hold.
SELECT backorder.hold_order('sc_ready', 'R1', 'fraud_review');
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_ready', 'R1')$$,
                  ARRAY['1|sc_c|1|X|2|true'], 'a complete order under an operator hold: as allocated');

-- Nothing anywhere: everything is held where it waits.
SELECT pg_temp.place('sc_none', 'Z1', '2024-01-01 09:00+00', 'X:2,Y:3');
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_none', 'Z1')$$,
                  ARRAY['-|sc_a|1|X|2|false', '-|sc_a|2|Y|3|false'],
                  'no stock anywhere: all held, at the preferred warehouse where it waits');

-- complete_only: units available at C while nothing is allocated to the order.
SELECT backorder.receive('sc_co', 'X', 'sc_c', 1);
SELECT pg_temp.place('sc_co', 'C1', '2024-01-01 09:00+00', 'X:3,Y:1');
SELECT backorder.receive('sc_co', 'Y', 'sc_a', 1);
SELECT is((SELECT string_agg(location_id || ':' || allocated, ',' ORDER BY line_no) FROM backorder.order_line
            WHERE client_id = 'sc_co'), 'sc_c:0,sc_c:0', 'complete_only: C1 waits at C with nothing');
SELECT results_eq($$SELECT * FROM pg_temp.plan_of('sc_co', 'C1')$$,
                  ARRAY['1|sc_a|2|Y|1|true', '2|sc_c|1|X|1|true', '-|sc_c|1|X|2|false'],
                  'complete_only: the available units at A and C ship, 2 X stay held');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- ---------------------------------------------------------------------------------------------
-- Shipped and cancelled orders have no plan; unknown orders and NULLs are errors.
SELECT backorder.receive('sc_none', 'X', 'sc_b', 5);
SELECT pg_temp.place('sc_none', 'Z2', '2024-01-01 09:10+00', 'X:1', 'sc_b');
SELECT backorder.ship_order('sc_none', 'Z2');
SELECT pg_temp.place('sc_none', 'Z3', '2024-01-01 09:20+00', 'X:1');
SELECT backorder.cancel_order('sc_none', 'Z3');
SELECT throws_ok($$SELECT * FROM backorder.compute_split('sc_none', 'nope')$$, 'P0002',
                 'order "nope" of client "sc_none" does not exist', 'unknown order: P0002');
SELECT throws_ok($$SELECT * FROM backorder.compute_split('nobody', 'Z1')$$, 'P0002',
                 'order "Z1" of client "nobody" does not exist', 'unknown client: P0002');
SELECT throws_ok($$SELECT * FROM backorder.compute_split('sc_none', 'Z2')$$, '55000',
                 'order "Z2" is shipped and cannot be split', 'shipped order: 55000');
SELECT throws_ok($$SELECT * FROM backorder.compute_split('sc_none', 'Z3')$$, '55000',
                 'order "Z3" is cancelled and cannot be split', 'cancelled order: 55000');
SELECT throws_ok($$SELECT * FROM backorder.compute_split(NULL, 'Z1')$$, '22004',
                 'client_id must not be null', 'NULL client: 22004');
SELECT throws_ok($$SELECT * FROM backorder.compute_split('sc_none', NULL)$$, '22004',
                 'order_id must not be null', 'NULL order: 22004');

SELECT is(pg_temp.hint_of($$SELECT * FROM backorder.compute_split('sc_none', 'nope')$$),
          'Check the client_id and order_id in backorder.orders.', 'P0002 has a hint');
SELECT is(pg_temp.hint_of($$SELECT * FROM backorder.compute_split('sc_none', 'Z2')$$),
          'Only ready and needs_review orders have something to split.', '55000 has a hint');

-- An order not yet evaluated (still new inside its transaction) has no plan yet.
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('sc_none', 'Z4');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('sc_none', 'Z4', 1, 'X', 1);
SELECT throws_ok($$SELECT * FROM backorder.compute_split('sc_none', 'Z4')$$, '55000',
                 'order "Z4" has not been evaluated yet and cannot be split', 'a new order: 55000');
SET CONSTRAINTS ALL IMMEDIATE;

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold at the end');

SELECT * FROM finish();
ROLLBACK;
