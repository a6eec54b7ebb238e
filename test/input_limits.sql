-- input_limits.sql — limits and guards an outside trial found missing (each case failed before
-- its fix): quantities beyond what one movement moves, infinite or NULL queue positions, line
-- numbers, blank reasons, received inbound rows reopened, long reasons echoed back, a day's demand
-- past int4.
-- Every refusal has its SQLSTATE and an errhint, and leaves the tables as they were.
--
-- Client 'lim', warehouse lim_w1, SKU 'A' with 1000000001 units on hand.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-01-01 10:00+00';

SELECT plan(35);

\ir lib/scenario_helpers.sql

-- What a refused statement could have written.
CREATE FUNCTION pg_temp.footprint() RETURNS text LANGUAGE sql AS $$
    SELECT format('%s orders, %s lines, %s movements, %s inbound (%s open), on hand %s',
                  (SELECT count(*) FROM backorder.orders WHERE client_id = 'lim'),
                  (SELECT count(*) FROM backorder.order_line WHERE client_id = 'lim'),
                  (SELECT count(*) FROM backorder.stock_movement WHERE client_id = 'lim'),
                  (SELECT count(*) FROM backorder.inbound WHERE client_id = 'lim'),
                  (SELECT count(*) FROM backorder.inbound WHERE client_id = 'lim' AND received_at IS NULL),
                  (SELECT sum(on_hand) FROM backorder.stock WHERE client_id = 'lim'))
$$;

INSERT INTO backorder.location (location_id, priority) VALUES ('lim_w1', 1);
INSERT INTO backorder.client (client_id) VALUES ('lim');
INSERT INTO backorder.sku (client_id, sku) VALUES ('lim', 'A');
SELECT backorder.receive('lim', 'A', 'lim_w1', 1000000000);
SELECT backorder.receive('lim', 'A', 'lim_w1', 1);
SELECT pg_temp.place('lim', 'L1', '2024-01-01 09:00+00', 'A:5');
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at, reference)
VALUES ('lim', 'A', 'lim_w1', 10, '2024-01-10', 'PO-1');
SELECT backorder.receive_inbound((SELECT inbound_id FROM backorder.inbound WHERE reference = 'PO-1'));

SELECT is(pg_temp.footprint(), '1 orders, 1 lines, 3 movements, 1 inbound (0 open), on hand 1000000011',
          'set-up: one order, one received inbound row');

-- 1. A line beyond one movement could be allocated but never shipped: refused at the line.
SELECT throws_ok($$SELECT pg_temp.place('lim', 'BIG', '2024-01-01 09:00+00', 'A:1000000001')$$,
                 '22003', 'order line quantity 1000000001 is out of range', 'a line of 1000000001 units: 22003');
SELECT is(pg_temp.hint_of($$SELECT pg_temp.place('lim', 'BIG', '2024-01-01 09:00+00', 'A:1000000001')$$),
          'One line orders at most 1000000000 units; split a larger quantity over several lines.', '... with a hint');
SELECT throws_ok($$UPDATE backorder.order_line SET qty = 1000000001 WHERE client_id = 'lim' AND order_id = 'L1'$$,
                 '22003', 'order line quantity 1000000001 is out of range', 'raising a line beyond it: 22003');
SELECT lives_ok($$SELECT pg_temp.place('lim', 'MAX', '2024-01-01 09:05+00', 'A:1000000000')$$,
                'a line of exactly 1000000000 units is taken');
SELECT is(backorder.ship_order('lim', 'MAX'), true, '... and ships');
SELECT is((SELECT on_hand FROM backorder.stock WHERE client_id = 'lim'), 11::bigint, '... leaving 11 on hand');

-- 2. Inbound rows beyond one receipt: refused at the row.
SELECT throws_ok($$INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at)
                   VALUES ('lim', 'A', 'lim_w1', 5000000000, '2024-03-10')$$,
                 '22003', 'inbound quantity 5000000000 is out of range', 'an inbound row of 5e9 units: 22003');
SELECT is(pg_temp.hint_of($$INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at)
                            VALUES ('lim', 'A', 'lim_w1', 5000000000, '2024-03-10')$$),
          'One inbound row is received as one movement, at most 1000000000 units: split a larger shipment over several rows.',
          '... with a hint');

-- 3. A received inbound row cannot be reopened and received again.
SELECT throws_ok($$UPDATE backorder.inbound SET received_at = NULL, qty = 5 WHERE reference = 'PO-1'$$,
                 '55000', NULL, 'reopening a received inbound row: 55000');
SELECT is(pg_temp.hint_of($$UPDATE backorder.inbound SET received_at = NULL WHERE reference = 'PO-1'$$),
          'Add a new inbound row for units still expected, or correct stock with backorder.adjust().', '... with a hint');
SELECT throws_ok($$UPDATE backorder.inbound SET qty = 500 WHERE reference = 'PO-1'$$,
                 '55000', NULL, 'changing the quantity of a received row: 55000');
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at, reference)
VALUES ('lim', 'A', 'lim_w1', 7, '2024-01-20', 'PO-2');
SELECT lives_ok($$UPDATE backorder.inbound SET received_at = '2024-01-02' WHERE reference = 'PO-2'$$,
                'an open row closed by hand (a cancelled PO) ...');
SELECT throws_ok($$SELECT backorder.receive_inbound((SELECT inbound_id FROM backorder.inbound WHERE reference = 'PO-2'))$$,
                 '55000', NULL, '... cannot be received afterwards');
SELECT is((SELECT on_hand FROM backorder.stock WHERE client_id = 'lim'), 11::bigint, 'no stock came from the closed row');

-- 4. Queue positions: placed_at finite and not NULL, priority not NULL.
SELECT throws_ok($$INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('lim', 'INF', 'infinity')$$,
                 '22008', 'order placed_at must be a finite time', 'placed_at infinity: 22008');
SELECT throws_ok($$INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('lim', 'INF', '-infinity')$$,
                 '22008', 'order placed_at must be a finite time', 'placed_at -infinity: 22008');
SELECT throws_ok($$UPDATE backorder.orders SET placed_at = 'infinity' WHERE client_id = 'lim' AND order_id = 'L1'$$,
                 '22008', 'order placed_at must be a finite time', 'moving placed_at to infinity: 22008');
SELECT throws_ok($$INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES ('lim', 'NUL', NULL)$$,
                 '23502', 'order placed_at must not be null', 'placed_at NULL: 23502');
SELECT throws_ok($$INSERT INTO backorder.orders (client_id, order_id, priority) VALUES ('lim', 'NUL', NULL)$$,
                 '23502', 'order priority must not be null', 'priority NULL: 23502');
SELECT is(pg_temp.hint_of($$INSERT INTO backorder.orders (client_id, order_id, priority) VALUES ('lim', 'NUL', NULL)$$),
          'Leave priority out for the default 0; higher numbers are served first.', '... with a hint');
SELECT is(pg_temp.hint_of($$UPDATE backorder.orders SET placed_at = NULL WHERE client_id = 'lim' AND order_id = 'L1'$$),
          'Leave placed_at out for the current time, or give when the shop took the order.', 'placed_at set to NULL: hint');

-- 5. Line numbers start at 1.
SELECT throws_ok($$WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('lim', 'L0') RETURNING 1)
                   INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
                   SELECT 'lim', 'L0', 0, 'A', 1 FROM o$$,
                 '23514', 'order line number must be 1 or more', 'line_no 0: 23514');
SELECT throws_ok($$WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('lim', 'L0') RETURNING 1)
                   INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
                   SELECT 'lim', 'L0', NULL, 'A', 1 FROM o$$,
                 '23502', 'order line number must be 1 or more', 'line_no NULL: 23502');
SELECT is(pg_temp.hint_of($$WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('lim', 'L0') RETURNING 1)
                            INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
                            SELECT 'lim', 'L0', -3, 'A', 1 FROM o$$),
          'Number an order''s lines 1, 2, 3...', '... with a hint');

-- 6. A blank reason is no reason.
SELECT throws_ok($$SELECT backorder.adjust('lim', 'A', 'lim_w1', 5, '')$$,
                 '23502', 'an adjustment needs a reason', 'an adjustment with an empty reason: 23502');
SELECT throws_ok($$SELECT backorder.adjust('lim', 'A', 'lim_w1', 5, E'  \t ')$$,
                 '23502', 'an adjustment needs a reason', '... with a blank one: 23502');
SELECT throws_ok($$SELECT backorder.count_stock('lim', 'A', 'lim_w1', 5, ' ')$$,
                 '23502', 'a count needs a reason', 'a count with a blank reason: 23502');

-- 7. A refused hold reason is echoed cut short; the inventory-hold message reads well.
SELECT throws_ok(format('SELECT backorder.hold_order(%L, %L, %L)', 'lim', 'L1', repeat('x', 10000)),
                 '22023', format('hold reason "%s" is not valid', repeat('x', 40)),
                 'a 10,000-character reason: echoed as its first 40 characters');
SELECT throws_ok($$SELECT backorder.release_hold('lim', 'L1', 'out_of_stock')$$,
                 '55000', 'the out_of_stock hold closes only when stock arrives', 'releasing out_of_stock by hand: 55000');

-- 5. One SKU's demand of one day at one warehouse is at most 2147483647 units, also when
-- orders of several transactions (here: evaluations) add up to more; the error was int4pl's
-- own, without a hint.  2024-01-01 holds 1000000005 units (L1, MAX); one more order of 1e9
-- fits, the next does not.
SELECT lives_ok($$SELECT pg_temp.place('lim', 'DAY1', '2024-01-01 11:00+00', 'A:1000000000')$$,
                'a day of 2000000005 units of A');
SELECT throws_ok($$SELECT pg_temp.place('lim', 'DAY2', '2024-01-01 12:00+00', 'A:1000000000')$$,
                 '22003', 'demand of one SKU at one warehouse on one day is out of range',
                 'one more order of 1e9 units that day: 22003');
SELECT is(pg_temp.hint_of($$SELECT pg_temp.place('lim', 'DAY2', '2024-01-01 12:00+00', 'A:1000000000')$$),
          'One SKU''s orders of one day add up to at most 2147483647 units.', '... with a hint');

-- Nothing of the above was written.
SELECT is(pg_temp.footprint(), '3 orders, 3 lines, 4 movements, 2 inbound (0 open), on hand 11',
          'only the set-up, the shipped MAX order, DAY1 and the PO closed by hand are there');
SELECT is_empty('SELECT * FROM backorder.check_invariants()', 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
