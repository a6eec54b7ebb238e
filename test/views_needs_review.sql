-- needs_review (final form) and waiting_lines: expected restock dates handed out in release
-- order, blocking lines, operator notes, and the original nine columns kept first.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-03-01 09:00+00';
SET TimeZone = 'UTC';
SELECT plan(17);

INSERT INTO backorder.client (client_id) VALUES ('vnr_c1');
INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('vnr_c2', 'complete_only');
INSERT INTO backorder.location (location_id, priority) VALUES ('vnr_w1', 1), ('vnr_w2', 2);
INSERT INTO backorder.sku (client_id, sku) VALUES ('vnr_c1', 'A'), ('vnr_c1', 'B'), ('vnr_c2', 'A');

-- O6 takes the only B and is put on a manual hold: held, short of nothing
SELECT backorder.receive('vnr_c1', 'B', 'vnr_w1', 1);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id)
           VALUES ('vnr_c1', 'O6', '2024-03-01 08:00+00', 'vnr_w1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'B', 1 FROM o;
SELECT ok(backorder.hold_order('vnr_c1', 'O6', 'manual', 'call customer'), 'O6 on a manual hold');

-- Five orders wait for A at w1 (O3 has a higher priority); O4 also lacks B, O5 has an unknown SKU
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at, priority, location_id) VALUES
             ('vnr_c1', 'O1', '2024-03-01 08:01+00', 0, 'vnr_w1'), ('vnr_c1', 'O2', '2024-03-01 08:02+00', 0, 'vnr_w1'),
             ('vnr_c1', 'O3', '2024-03-01 08:03+00', 5, 'vnr_w1'), ('vnr_c1', 'O4', '2024-03-01 08:04+00', 0, 'vnr_w1'),
             ('vnr_c1', 'O5', '2024-03-01 08:05+00', 0, 'vnr_w1')
           RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT o.client_id, o.order_id, l.line_no, l.sku, l.qty
  FROM o JOIN (VALUES ('O1', 1, 'A', 2), ('O2', 1, 'A', 3), ('O3', 1, 'A', 1), ('O4', 1, 'A', 2),
                      ('O4', 2, 'B', 1), ('O5', 1, 'A', 1), ('O5', 2, 'NOPE', 1)) l (order_id, line_no, sku, qty)
    ON l.order_id = o.order_id;
-- Inbound for A at w1 (3 + 4 + 10), one at another warehouse, one already received
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at, reference) VALUES
    ('vnr_c1', 'A', 'vnr_w1', 3, '2024-03-05', 'PO-1'),
    ('vnr_c1', 'A', 'vnr_w1', 4, '2024-03-10', 'PO-2'),
    ('vnr_c1', 'A', 'vnr_w1', 10, '2024-03-20', 'PO-3'),
    ('vnr_c1', 'A', 'vnr_w2', 50, '2024-03-02', 'PO-W2'),
    ('vnr_c1', 'B', 'vnr_w1', 9, '2024-03-03', 'PO-B-old');
UPDATE backorder.inbound SET received_at = '2024-02-28' WHERE reference = 'PO-B-old';

SELECT results_eq(
    $$SELECT order_id, line_no, sku, short, queue_position, units_ahead, expected_on
        FROM backorder.waiting_lines WHERE client_id = 'vnr_c1' ORDER BY sku, queue_position$$,
    $$VALUES ('O3'::text, 1, 'A'::text, 1, 1::bigint, 0::bigint, '2024-03-05'::date),
             ('O1', 1, 'A', 2, 2, 1, '2024-03-05'),
             ('O2', 1, 'A', 3, 3, 3, '2024-03-10'),
             ('O4', 1, 'A', 2, 4, 6, '2024-03-20'),
             ('O5', 1, 'A', 1, 5, 8, '2024-03-20'),
             ('O4', 2, 'B', 1, 1, 0, NULL)$$,
    'waiting_lines: queue in release order (priority first), inbound handed out by expected_at; received and other-warehouse inbound ignored');

SELECT results_eq(
    $$SELECT order_id, reasons, short_skus, short_units, expected_release_on, sla_excluded, notes
        FROM backorder.needs_review WHERE client_id = 'vnr_c1' ORDER BY order_id$$,
    $$VALUES ('O1'::text, '{out_of_stock}'::text[], '{"A": 2}'::jsonb, 2::numeric, '2024-03-05'::date, true, NULL::jsonb),
             ('O2', '{out_of_stock}', '{"A": 3}', 3, '2024-03-10', true, NULL),
             ('O3', '{out_of_stock}', '{"A": 1}', 1, '2024-03-05', true, NULL),
             ('O4', '{out_of_stock}', '{"A": 2, "B": 1}', 3, NULL, true, NULL),
             ('O5', '{out_of_stock,unknown_sku}', '{"A": 1, "NOPE": 1}', 2, NULL, true, NULL),
             ('O6', '{manual}', NULL, 0, NULL, true, '{"manual": "call customer"}')$$,
    'needs_review: an order behind others gets a later date; NULL when a short line is not covered (O4: no inbound of B), waits nowhere (O5: unknown SKU), or nothing is short (O6)');

SELECT is(
    (SELECT blocking FROM backorder.needs_review WHERE client_id = 'vnr_c1' AND order_id = 'O4'),
    '[{"sku": "A", "short": 2, "line_no": 1, "expected_on": "2024-03-20", "location_id": "vnr_w1", "units_ahead": 6},
      {"sku": "B", "short": 1, "line_no": 2, "expected_on": null, "location_id": "vnr_w1", "units_ahead": 0}]'::jsonb,
    'blocking: one object per waiting line');
SELECT results_eq(
    $$SELECT held_for, age FROM backorder.needs_review WHERE client_id = 'vnr_c1' AND order_id = 'O1'$$,
    $$VALUES ('0'::interval, '59 minutes'::interval)$$,
    'held_for from held_since, age from placed_at, as of backorder.now()');

-- O4 jumps the queue: the others move back
UPDATE backorder.orders SET priority = 9 WHERE client_id = 'vnr_c1' AND order_id = 'O4';
SELECT results_eq(
    $$SELECT order_id, expected_release_on FROM backorder.needs_review WHERE client_id = 'vnr_c1' AND order_id IN ('O1', 'O2', 'O3') ORDER BY order_id$$,
    $$VALUES ('O1'::text, '2024-03-10'::date), ('O2', '2024-03-20'), ('O3', '2024-03-05')$$,
    'a higher priority for O4 makes O1 and O2 wait for later inbound');
UPDATE backorder.orders SET priority = 0 WHERE client_id = 'vnr_c1' AND order_id = 'O4';

-- PO-1 arrives: O3 and O1 are released; the rest now count from PO-2
SET backorder.now = '2024-03-05 10:00+00';
SELECT backorder.receive_inbound((SELECT inbound_id FROM backorder.inbound WHERE reference = 'PO-1'));
SELECT results_eq(
    $$SELECT order_id, expected_release_on FROM backorder.needs_review WHERE client_id = 'vnr_c1' ORDER BY order_id$$,
    $$VALUES ('O2'::text, '2024-03-10'::date), ('O4', NULL), ('O5', NULL), ('O6', NULL)$$,
    'after PO-1 is received: O1 and O3 are released, O2 waits for PO-2');
SELECT results_eq(
    $$SELECT order_id, units_ahead, expected_on FROM backorder.waiting_lines WHERE client_id = 'vnr_c1' AND sku = 'A' ORDER BY queue_position$$,
    $$VALUES ('O2'::text, 0::bigint, '2024-03-10'::date), ('O4', 3, '2024-03-20'), ('O5', 5, '2024-03-20')$$,
    'the queue after the receipt');
SELECT is((SELECT held_for FROM backorder.needs_review WHERE client_id = 'vnr_c1' AND order_id = 'O2'),
    '4 days 01:00:00'::interval, 'held_for grows with the clock');

-- Not enough inbound: the last lines have no date
UPDATE backorder.inbound SET qty = 1 WHERE reference = 'PO-3';
SELECT results_eq(
    $$SELECT order_id, expected_on FROM backorder.waiting_lines WHERE client_id = 'vnr_c1' AND sku = 'A' ORDER BY queue_position$$,
    $$VALUES ('O2'::text, '2024-03-10'::date), ('O4', '2024-03-20'), ('O5', NULL)$$,
    'PO-3 cut to 1 unit: 4 + 1 cover O2 and O4 (5 units), not O5 (6): NULL');

-- complete_only: units available now count (today) before inbound
SET backorder.now = '2024-03-01 09:00+00';
SELECT backorder.receive('vnr_c2', 'A', 'vnr_w1', 1);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id)
           VALUES ('vnr_c2', 'P1', '2024-03-01 08:00+00', 'vnr_w1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 3 FROM o;
SELECT results_eq(
    $$SELECT order_id, short, expected_on FROM backorder.waiting_lines WHERE client_id = 'vnr_c2'$$,
    $$VALUES ('P1'::text, 3, NULL::date)$$,
    'complete_only: 1 unit available, 3 short, no inbound: no date');
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at) VALUES ('vnr_c2', 'A', 'vnr_w1', 2, '2024-03-07');
SELECT results_eq(
    $$SELECT order_id, expected_release_on FROM backorder.needs_review WHERE client_id = 'vnr_c2'$$,
    $$VALUES ('P1'::text, '2024-03-07'::date)$$,
    'complete_only: the available unit plus 2 inbound cover it on 2024-03-07');

-- The first nine columns are the original view's, in order and type; every column commented
SELECT is(
    (SELECT array_agg(a.attname::text || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
       FROM pg_attribute a WHERE a.attrelid = 'backorder.needs_review'::regclass AND a.attnum <= 9),
    '{"client_id text","order_id text","placed_at timestamp with time zone","priority integer","held_since timestamp with time zone","held_for interval","reasons text[]","short_skus jsonb","short_units numeric"}'::text[],
    'needs_review keeps its original nine columns first');
SELECT is(
    (SELECT array_agg(a.attname::text ORDER BY a.attnum)
       FROM pg_attribute a WHERE a.attrelid = 'backorder.needs_review'::regclass AND a.attnum > 9),
    '{expected_release_on,sla_excluded,age,blocking,notes}'::text[],
    'needs_review adds expected_release_on, sla_excluded, age, blocking, notes');

-- Read-only: the views work in a read-only transaction (as on a hot standby)
SET TRANSACTION READ ONLY;
SELECT lives_ok($$SELECT * FROM backorder.needs_review$$, 'needs_review in a read-only transaction');
SELECT lives_ok($$SELECT * FROM backorder.waiting_lines$$, 'waiting_lines in a read-only transaction');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
