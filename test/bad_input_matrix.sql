-- bad_input_matrix.sql — the bad-input matrix of the reliability issue: every function and
-- table of the contract, with NULL in each argument, zero / negative / out-of-range quantities
-- (beyond 1e9, int4 and int8), unknown client / SKU / location / order / inbound, wrong kinds
-- and statuses, oversize text, JSON the engine keeps, direct writes to engine columns, and
-- UPDATE / DELETE / TRUNCATE of the ledger.
--
-- Each case is one row of pg_temp.bad_case and yields three tests:
--   1. the statement fails with exactly that SQLSTATE;
--   2. the error carries an errhint (README: "an errhint saying what to do");
--   3. nothing was written: the fingerprint of every table is what it was before.
-- Every error the engine raises carries a hint, the catalog tables' included (their CHECK
-- and FOREIGN KEY rules are checked first by the validate triggers, sql/parts/42_catalog.sql).
-- Four cases fail inside PostgreSQL itself, while it parses or coerces a literal, before any
-- function or trigger of ours runs: a value beyond int8 given to a bigint (cases 10 and 34),
-- beyond int4 for an integer column (case 105), and malformed JSON (case 124).  Their errors
-- are PostgreSQL's own (22003, 22P02) and carry no hint we could add: for them (core = true)
-- the matrix asserts the SQLSTATE and "nothing written" only, two tests instead of three.
-- Client 'mx', warehouse mx_w1; state before the cases:
--   A received 10 at mx_w1; MX_READY (A 2) ready; MX_HELD (A 20) held with 8 allocated;
--   MX_SHIPPED (A 1) shipped; MX_CANCELLED (A 1) cancelled; inbound ASN-MX received, ASN-MX-OPEN
--   (A 1) in transit.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-05-01 10:00+00';

-- ---------------------------------------------------------------------------------------------
-- Set-up.

INSERT INTO backorder.client (client_id, name) VALUES ('mx', 'Matrix'), ('mx_sla', 'Settings only');
INSERT INTO backorder.client_sla (client_id) VALUES ('mx_sla');
INSERT INTO backorder.location (location_id, priority) VALUES ('mx_w1', 1);
INSERT INTO backorder.sku (client_id, sku) VALUES ('mx', 'A'), ('mx', 'B');
SELECT backorder.receive('mx', 'A', 'mx_w1', 10, 'PO-MX');
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at) VALUES
             ('mx', 'MX_READY', '2024-05-01 08:00+00'), ('mx', 'MX_SHIPPED', '2024-05-01 08:01+00'),
             ('mx', 'MX_CANCELLED', '2024-05-01 08:02+00'), ('mx', 'MX_HELD', '2024-05-01 08:03+00')
           RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT client_id, order_id, 1, 'A', CASE order_id WHEN 'MX_READY' THEN 2 WHEN 'MX_HELD' THEN 20 ELSE 1 END FROM o;
SELECT backorder.ship_order('mx', 'MX_SHIPPED');
SELECT backorder.cancel_order('mx', 'MX_CANCELLED');
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at, reference)
VALUES ('mx', 'A', 'mx_w1', 1, '2024-05-02', 'ASN-MX');
SELECT backorder.receive_inbound((SELECT inbound_id FROM backorder.inbound WHERE reference = 'ASN-MX'));
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at, reference)
VALUES ('mx', 'A', 'mx_w1', 1, '2024-05-03', 'ASN-MX-OPEN');

-- Everything a rejected statement could have written: every row of every backorder table,
-- hashed (cheap to compare after each case).
CREATE FUNCTION pg_temp.fingerprint() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r record;
    acc text := '';
    h text;
BEGIN
    FOR r IN SELECT c.oid::regclass AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'backorder' AND c.relkind = 'r' ORDER BY c.relname LOOP
        EXECUTE format('SELECT %L || '':'' || count(*) || '':'' || coalesce(md5(string_agg(x::text, ''|'' ORDER BY x::text)), '''')'
                       ' FROM %s x', r.t, r.t) INTO h;
        acc := acc || h || ' ';
    END LOOP;
    RETURN acc;
END $$;

-- The SQLSTATE and errhint a statement raises; ('none', ...) if it raises nothing.  Whatever
-- it did is rolled back either way (the exception block is a subtransaction).
CREATE FUNCTION pg_temp.error_of(p_sql text, OUT state text, OUT hint text) LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE p_sql;
        RAISE EXCEPTION 'no error' USING ERRCODE = 'ZZ999';    -- undoes what the statement did
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, hint = PG_EXCEPTION_HINT;
    END;
    IF state = 'ZZ999' THEN
        state := 'none';
        hint := NULL;
    END IF;
END $$;

CREATE TEMP TABLE bad_case (
    id        serial PRIMARY KEY,
    area      text NOT NULL,      -- the function or table
    descr     text NOT NULL,
    sql       text NOT NULL,
    state     text NOT NULL,      -- expected SQLSTATE
    core      boolean NOT NULL DEFAULT false   -- PostgreSQL's own parse/coercion error: no hint test
);

INSERT INTO bad_case (area, descr, sql, state, core) VALUES
-- receive(client, sku, location, qty, reference)
('receive', 'NULL client',                 $$SELECT backorder.receive(NULL, 'A', 'mx_w1', 1)$$, '23502', false),
('receive', 'NULL sku',                    $$SELECT backorder.receive('mx', NULL, 'mx_w1', 1)$$, '23502', false),
('receive', 'NULL location',               $$SELECT backorder.receive('mx', 'A', NULL, 1)$$, '23502', false),
('receive', 'NULL qty',                    $$SELECT backorder.receive('mx', 'A', 'mx_w1', NULL)$$, '23502', false),
('receive', 'zero qty',                    $$SELECT backorder.receive('mx', 'A', 'mx_w1', 0)$$, '23514', false),
('receive', 'negative qty',                $$SELECT backorder.receive('mx', 'A', 'mx_w1', -3)$$, '23514', false),
('receive', 'qty above 1e9',               $$SELECT backorder.receive('mx', 'A', 'mx_w1', 1000000001)$$, '22003', false),
('receive', 'qty beyond int4',             $$SELECT backorder.receive('mx', 'A', 'mx_w1', 3000000000)$$, '22003', false),
('receive', 'qty at int8 max',             $$SELECT backorder.receive('mx', 'A', 'mx_w1', 9223372036854775807)$$, '22003', false),
('receive', 'qty beyond int8',             $$SELECT backorder.receive('mx', 'A', 'mx_w1', '99999999999999999999')$$, '22003', true),
('receive', 'qty at int8 min',             $$SELECT backorder.receive('mx', 'A', 'mx_w1', -9223372036854775808)$$, '23514', false),
('receive', 'unknown client',              $$SELECT backorder.receive('nobody', 'A', 'mx_w1', 1)$$, '23503', false),
('receive', 'unknown SKU',                 $$SELECT backorder.receive('mx', 'NOPE', 'mx_w1', 1)$$, '23503', false),
('receive', 'unknown location',            $$SELECT backorder.receive('mx', 'A', 'nowhere', 1)$$, '23503', false),
('receive', 'oversize SKU (10,000 chars)', $$SELECT backorder.receive('mx', repeat('A', 10000), 'mx_w1', 1)$$, '23503', false),
('receive', 'oversize client (10,000 chars)', $$SELECT backorder.receive(repeat('m', 10000), 'A', 'mx_w1', 1)$$, '23503', false),
-- adjust(client, sku, location, delta, reason)
('adjust', 'NULL delta',                   $$SELECT backorder.adjust('mx', 'A', 'mx_w1', NULL, 'damage')$$, '23502', false),
('adjust', 'NULL reason',                  $$SELECT backorder.adjust('mx', 'A', 'mx_w1', -1, NULL)$$, '23502', false),
('adjust', 'NULL client',                  $$SELECT backorder.adjust(NULL, 'A', 'mx_w1', -1, 'damage')$$, '23502', false),
('adjust', 'zero delta',                   $$SELECT backorder.adjust('mx', 'A', 'mx_w1', 0, 'damage')$$, '23514', false),
('adjust', 'below zero on hand',           $$SELECT backorder.adjust('mx', 'A', 'mx_w1', -11, 'damage')$$, '23514', false),
('adjust', 'delta below -1e9',             $$SELECT backorder.adjust('mx', 'A', 'mx_w1', -2000000000, 'damage')$$, '22003', false),
('adjust', 'unknown SKU',                  $$SELECT backorder.adjust('mx', 'NOPE', 'mx_w1', 1, 'found')$$, '23503', false),
-- count_stock(client, sku, location, counted, reason)
('count_stock', 'NULL counted',            $$SELECT backorder.count_stock('mx', 'A', 'mx_w1', NULL, 'cycle count')$$, '23502', false),
('count_stock', 'NULL reason',             $$SELECT backorder.count_stock('mx', 'A', 'mx_w1', 3, NULL)$$, '23502', false),
('count_stock', 'NULL location',           $$SELECT backorder.count_stock('mx', 'A', NULL, 3, 'cycle count')$$, '23502', false),
('count_stock', 'negative count',          $$SELECT backorder.count_stock('mx', 'A', 'mx_w1', -1, 'cycle count')$$, '23514', false),
('count_stock', 'count above 1e9',         $$SELECT backorder.count_stock('mx', 'A', 'mx_w1', 1000000001, 'cycle count')$$, '22003', false),
('count_stock', 'unknown location',        $$SELECT backorder.count_stock('mx', 'A', 'nowhere', 3, 'cycle count')$$, '23503', false),
-- stock_movement: the ledger
('stock_movement', 'unknown kind',         $$INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty) VALUES ('mx', 'A', 'mx_w1', 'gift', 1)$$, '22023', false),
('stock_movement', 'NULL kind',            $$INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty) VALUES ('mx', 'A', 'mx_w1', NULL, 1)$$, '23502', false),
('stock_movement', 'shipment by hand',     $$INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty) VALUES ('mx', 'A', 'mx_w1', 'shipment', -1)$$, '428C9', false),
('stock_movement', 'return of zero',       $$INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty) VALUES ('mx', 'A', 'mx_w1', 'return', 0)$$, '23514', false),
('stock_movement', 'qty beyond int8',      $$INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty) VALUES ('mx', 'A', 'mx_w1', 'receipt', 99999999999999999999)$$, '22003', true),
('stock_movement', 'UPDATE of the ledger', $$UPDATE backorder.stock_movement SET qty = qty + 1 WHERE client_id = 'mx'$$, '0A000', false),
('stock_movement', 'UPDATE of delta',      $$UPDATE backorder.stock_movement SET delta = 0 WHERE client_id = 'mx'$$, '0A000', false),
('stock_movement', 'DELETE from the ledger', $$DELETE FROM backorder.stock_movement WHERE client_id = 'mx'$$, '0A000', false),
('stock_movement', 'TRUNCATE of the ledger', $$TRUNCATE backorder.stock_movement CASCADE$$, '0A000', false),
-- receive_inbound(inbound_id) and the inbound table
('receive_inbound', 'NULL id',             $$SELECT backorder.receive_inbound(NULL)$$, '22004', false),
('receive_inbound', 'unknown id',          $$SELECT backorder.receive_inbound(-1)$$, 'P0002', false),
('receive_inbound', 'received twice',      $$SELECT backorder.receive_inbound((SELECT inbound_id FROM backorder.inbound WHERE reference = 'ASN-MX'))$$, '55000', false),
-- receive_inbounds(inbound_ids[]): all or nothing (each batch also holds the open ASN-MX-OPEN)
('receive_inbounds', 'NULL array',         $$SELECT backorder.receive_inbounds(NULL)$$, '22004', false),
('receive_inbounds', 'NULL element',       $$SELECT backorder.receive_inbounds(ARRAY[(SELECT inbound_id FROM backorder.inbound WHERE reference = 'ASN-MX-OPEN'), NULL])$$, '22004', false),
('receive_inbounds', 'two-dimensional array', $$SELECT backorder.receive_inbounds(ARRAY[[1], [2]]::bigint[])$$, '2202E', false),
('receive_inbounds', 'unknown id in batch', $$SELECT backorder.receive_inbounds(ARRAY[(SELECT inbound_id FROM backorder.inbound WHERE reference = 'ASN-MX-OPEN'), -1])$$, 'P0002', false),
('receive_inbounds', 'received row in batch', $$SELECT backorder.receive_inbounds(ARRAY(SELECT inbound_id FROM backorder.inbound WHERE client_id = 'mx'))$$, '55000', false),
('inbound', 'zero qty',                    $$INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at) VALUES ('mx', 'A', 'mx_w1', 0, '2024-06-01')$$, '23514', false),
('inbound', 'unknown SKU',                 $$INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at) VALUES ('mx', 'NOPE', 'mx_w1', 5, '2024-06-01')$$, '23503', false),
-- ship_order(client, order)
('ship_order', 'NULL client',              $$SELECT backorder.ship_order(NULL, 'MX_READY')$$, '22004', false),
('ship_order', 'NULL order',               $$SELECT backorder.ship_order('mx', NULL)$$, '22004', false),
('ship_order', 'unknown order',            $$SELECT backorder.ship_order('mx', 'NOPE')$$, 'P0002', false),
('ship_order', 'unknown client',           $$SELECT backorder.ship_order('nobody', 'MX_READY')$$, 'P0002', false),
('ship_order', 'held order',               $$SELECT backorder.ship_order('mx', 'MX_HELD')$$, '55000', false),
('ship_order', 'cancelled order',          $$SELECT backorder.ship_order('mx', 'MX_CANCELLED')$$, '55000', false),
-- ship_orders(client, order_ids[]): all or nothing
('ship_orders', 'NULL client',             $$SELECT backorder.ship_orders(NULL, ARRAY['MX_READY'])$$, '22004', false),
('ship_orders', 'NULL array',              $$SELECT backorder.ship_orders('mx', NULL)$$, '22004', false),
('ship_orders', 'NULL element',            $$SELECT backorder.ship_orders('mx', ARRAY['MX_READY', NULL])$$, '22004', false),
('ship_orders', 'two-dimensional array',   $$SELECT backorder.ship_orders('mx', ARRAY[['MX_READY'], ['MX_SHIPPED']])$$, '2202E', false),
('ship_orders', 'unknown order in wave',   $$SELECT backorder.ship_orders('mx', ARRAY['MX_READY', 'NOPE'])$$, 'P0002', false),
('ship_orders', 'held order in wave',      $$SELECT backorder.ship_orders('mx', ARRAY['MX_READY', 'MX_HELD'])$$, '55000', false),
('ship_orders', 'cancelled order in wave', $$SELECT backorder.ship_orders('mx', ARRAY['MX_CANCELLED', 'MX_READY'])$$, '55000', false),
-- cancel_order(client, order)
('cancel_order', 'NULL client',            $$SELECT backorder.cancel_order(NULL, 'MX_READY')$$, '22004', false),
('cancel_order', 'NULL order',             $$SELECT backorder.cancel_order('mx', NULL)$$, '22004', false),
('cancel_order', 'unknown order',          $$SELECT backorder.cancel_order('mx', 'NOPE')$$, 'P0002', false),
('cancel_order', 'shipped order',          $$SELECT backorder.cancel_order('mx', 'MX_SHIPPED')$$, '55000', false),
-- hold_order(client, order, reason, note)
('hold_order', 'NULL client',              $$SELECT backorder.hold_order(NULL, 'MX_READY')$$, '22004', false),
('hold_order', 'NULL order',               $$SELECT backorder.hold_order('mx', NULL)$$, '22004', false),
('hold_order', 'unknown order',            $$SELECT backorder.hold_order('mx', 'NOPE')$$, 'P0002', false),
('hold_order', 'inventory reason',         $$SELECT backorder.hold_order('mx', 'MX_READY', 'out_of_stock')$$, '22023', false),
('hold_order', 'reason unknown_sku',       $$SELECT backorder.hold_order('mx', 'MX_READY', 'unknown_sku')$$, '22023', false),
('hold_order', 'reason not a word',        $$SELECT backorder.hold_order('mx', 'MX_READY', 'Fraud Review!')$$, '22023', false),
('hold_order', 'empty reason',             $$SELECT backorder.hold_order('mx', 'MX_READY', '')$$, '22023', false),
('hold_order', 'oversize reason (40 chars)', $$SELECT backorder.hold_order('mx', 'MX_READY', repeat('a', 40))$$, '22023', false),
('hold_order', 'NULL reason',              $$SELECT backorder.hold_order('mx', 'MX_READY', NULL)$$, '22004', false),
('hold_order', 'shipped order',            $$SELECT backorder.hold_order('mx', 'MX_SHIPPED')$$, '55000', false),
('hold_order', 'cancelled order',          $$SELECT backorder.hold_order('mx', 'MX_CANCELLED')$$, '55000', false),
-- release_hold(client, order, reason)
('release_hold', 'NULL client',            $$SELECT backorder.release_hold(NULL, 'MX_HELD')$$, '22004', false),
('release_hold', 'NULL order',             $$SELECT backorder.release_hold('mx', NULL)$$, '22004', false),
('release_hold', 'unknown order',          $$SELECT backorder.release_hold('mx', 'NOPE')$$, 'P0002', false),
('release_hold', 'out_of_stock by hand',   $$SELECT backorder.release_hold('mx', 'MX_HELD', 'out_of_stock')$$, '55000', false),
('release_hold', 'discontinued by hand',   $$SELECT backorder.release_hold('mx', 'MX_HELD', 'discontinued')$$, '55000', false),
('release_hold', 'reason not a word',      $$SELECT backorder.release_hold('mx', 'MX_HELD', 'x-y')$$, '22023', false),
('release_hold', 'NULL reason',            $$SELECT backorder.release_hold('mx', 'MX_HELD', NULL)$$, '22004', false),
('release_hold', 'shipped order',          $$SELECT backorder.release_hold('mx', 'MX_SHIPPED')$$, '55000', false),
-- compute_split / split_order(client, order)
('compute_split', 'NULL client',           $$SELECT * FROM backorder.compute_split(NULL, 'MX_HELD')$$, '22004', false),
('compute_split', 'NULL order',            $$SELECT * FROM backorder.compute_split('mx', NULL)$$, '22004', false),
('compute_split', 'unknown order',         $$SELECT * FROM backorder.compute_split('mx', 'NOPE')$$, 'P0002', false),
('split_order', 'NULL client',             $$SELECT backorder.split_order(NULL, 'MX_HELD')$$, '22004', false),
('split_order', 'unknown order',           $$SELECT backorder.split_order('mx', 'NOPE')$$, 'P0002', false),
-- orders
('orders', 'unknown client',               $$INSERT INTO backorder.orders (client_id, order_id) VALUES ('nobody', 'MX_NEW')$$, '23503', false),
('orders', 'NULL client',                  $$INSERT INTO backorder.orders (client_id, order_id) VALUES (NULL, 'MX_NEW')$$, '23502', false),
('orders', 'unknown location',             $$INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('mx', 'MX_NEW', 'nowhere')$$, '23503', false),
('orders', 'status given by the app',      $$INSERT INTO backorder.orders (client_id, order_id, status) VALUES ('mx', 'MX_NEW', 'ready')$$, '428C9', false),
('orders', 'shipped_at given by the app',  $$INSERT INTO backorder.orders (client_id, order_id, shipped_at) VALUES ('mx', 'MX_NEW', now())$$, '428C9', false),
('orders', 'oversize order_id (200 chars)', $$INSERT INTO backorder.orders (client_id, order_id) VALUES ('mx', repeat('x', 200))$$, '23514', false),
('orders', 'empty order_id',               $$INSERT INTO backorder.orders (client_id, order_id) VALUES ('mx', '')$$, '23514', false),
('orders', 'UPDATE of status',             $$UPDATE backorder.orders SET status = 'ready' WHERE client_id = 'mx' AND order_id = 'MX_HELD'$$, '428C9', false),
('orders', 'UPDATE of ready_at',           $$UPDATE backorder.orders SET ready_at = now() WHERE client_id = 'mx' AND order_id = 'MX_HELD'$$, '428C9', false),
('orders', 'UPDATE of the key',            $$UPDATE backorder.orders SET order_id = 'MX_OTHER' WHERE client_id = 'mx' AND order_id = 'MX_HELD'$$, '0A000', false),
('orders', 'UPDATE of an evaluated location', $$UPDATE backorder.orders SET location_id = 'mx_w1' WHERE client_id = 'mx' AND order_id = 'MX_HELD'$$, '0A000', false),
('orders', 'DELETE',                       $$DELETE FROM backorder.orders WHERE client_id = 'mx' AND order_id = 'MX_CANCELLED'$$, '0A000', false),
-- order_line
('order_line', 'zero qty',                 $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('mx', 'MX_HELD', 9, 'A', 0)$$, '23514', false),
('order_line', 'negative qty',             $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('mx', 'MX_HELD', 9, 'A', -2)$$, '23514', false),
('order_line', 'negative unit_price',      $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, unit_price) VALUES ('mx', 'MX_HELD', 9, 'A', 1, -0.01)$$, '23514', false),
('order_line', 'UPDATE to a negative unit_price', $$UPDATE backorder.order_line SET unit_price = -5 WHERE client_id = 'mx' AND order_id = 'MX_HELD'$$, '23514', false),
('order_line', 'NaN unit_price',           $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, unit_price) VALUES ('mx', 'MX_HELD', 9, 'A', 1, 'NaN')$$, '23514', false),
('sku', 'NaN unit_price',                  $$INSERT INTO backorder.sku (client_id, sku, unit_price) VALUES ('mx', 'C', 'NaN')$$, '23514', false),
('order_line', 'NULL qty',                 $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('mx', 'MX_HELD', 9, 'A', NULL)$$, '23502', false),
('order_line', 'qty beyond int4',          $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('mx', 'MX_HELD', 9, 'A', 3000000000)$$, '22003', true),
('order_line', 'unknown order',            $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('mx', 'NOPE', 1, 'A', 1)$$, '23503', false),
('order_line', 'allocated given by the app', $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, allocated) VALUES ('mx', 'MX_HELD', 9, 'A', 2, 2)$$, '428C9', false),
('order_line', 'waiting given by the app', $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, waiting) VALUES ('mx', 'MX_HELD', 9, 'A', 2, true)$$, '428C9', false),
('order_line', 'line for a shipped order', $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('mx', 'MX_SHIPPED', 2, 'A', 1)$$, '55000', false),
('order_line', 'line for a cancelled order', $$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('mx', 'MX_CANCELLED', 2, 'A', 1)$$, '55000', false),
('order_line', 'UPDATE of allocated',      $$UPDATE backorder.order_line SET allocated = 20 WHERE client_id = 'mx' AND order_id = 'MX_HELD'$$, '428C9', false),
('order_line', 'UPDATE of shipped',        $$UPDATE backorder.order_line SET shipped = 1 WHERE client_id = 'mx' AND order_id = 'MX_READY'$$, '428C9', false),
('order_line', 'UPDATE of location_id',    $$UPDATE backorder.order_line SET location_id = NULL WHERE client_id = 'mx' AND order_id = 'MX_HELD'$$, '428C9', false),
('order_line', 'UPDATE of line_no',        $$UPDATE backorder.order_line SET line_no = 7 WHERE client_id = 'mx' AND order_id = 'MX_HELD'$$, '0A000', false),
('order_line', 'UPDATE qty to zero',       $$UPDATE backorder.order_line SET qty = 0 WHERE client_id = 'mx' AND order_id = 'MX_HELD'$$, '23514', false),
('order_line', 'UPDATE qty of a shipped order', $$UPDATE backorder.order_line SET qty = 5 WHERE client_id = 'mx' AND order_id = 'MX_SHIPPED'$$, '55000', false),
('order_line', 'DELETE line of a cancelled order', $$DELETE FROM backorder.order_line WHERE client_id = 'mx' AND order_id = 'MX_CANCELLED'$$, '55000', false),
-- engine-only tables
('stock', 'INSERT',                        $$INSERT INTO backorder.stock (client_id, sku, location_id, on_hand) VALUES ('mx', 'B', 'mx_w1', 5)$$, '428C9', false),
('stock', 'UPDATE of on_hand',             $$UPDATE backorder.stock SET on_hand = 100 WHERE client_id = 'mx'$$, '428C9', false),
('stock', 'DELETE',                        $$DELETE FROM backorder.stock WHERE client_id = 'mx'$$, '428C9', false),
('order_hold', 'INSERT',                   $$INSERT INTO backorder.order_hold (client_id, order_id, reason, created_at) VALUES ('mx', 'MX_READY', 'manual', now())$$, '428C9', false),
('order_hold', 'UPDATE released_at',       $$UPDATE backorder.order_hold SET released_at = now() WHERE client_id = 'mx'$$, '428C9', false),
('order_event', 'INSERT (valid JSON detail)', $$INSERT INTO backorder.order_event (client_id, order_id, event, status, created_at, detail) VALUES ('mx', 'MX_READY', 'released', 'ready', now(), '{"changes": []}')$$, '428C9', false),
('order_event', 'INSERT (malformed JSON detail)', $$INSERT INTO backorder.order_event (client_id, order_id, event, status, created_at, detail) VALUES ('mx', 'MX_READY', 'released', 'ready', now(), '{"changes": [')$$, '22P02', true),
('order_event', 'DELETE',                  $$DELETE FROM backorder.order_event WHERE client_id = 'mx'$$, '428C9', false),
-- the catalog (plain tables: PostgreSQL's constraints)
('client', 'unknown allocation policy',    $$INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('mx2', 'fifo')$$, '23514', false),
('client', 'oversize client_id (65 chars)', $$INSERT INTO backorder.client (client_id) VALUES (repeat('c', 65))$$, '23514', false),
('sku', 'unknown client',                  $$INSERT INTO backorder.sku (client_id, sku) VALUES ('nobody', 'A')$$, '23503', false),
('sku', 'oversize SKU (129 chars)',        $$INSERT INTO backorder.sku (client_id, sku) VALUES ('mx', repeat('s', 129))$$, '23514', false),
('location', 'empty location_id',          $$INSERT INTO backorder.location (location_id) VALUES ('')$$, '23514', false),
('location', 'oversize location_id (65 chars)', $$INSERT INTO backorder.location (location_id) VALUES (repeat('w', 65))$$, '23514', false),
('client', 'zero sla_hours',               $$INSERT INTO backorder.client (client_id, sla_hours) VALUES ('mx2', 0)$$, '23514', false),
('sku', 'unknown status',                  $$INSERT INTO backorder.sku (client_id, sku, status) VALUES ('mx', 'C', 'retired')$$, '23514', false),
('sku', 'negative lead time',              $$INSERT INTO backorder.sku (client_id, sku, lead_time_days) VALUES ('mx', 'C', -1)$$, '23514', false),
('sku', 'UPDATE to an unknown status',     $$UPDATE backorder.sku SET status = 'gone' WHERE client_id = 'mx' AND sku = 'A'$$, '23514', false),
('inbound', 'unknown location',            $$INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at) VALUES ('mx', 'A', 'nowhere', 5, '2024-06-01')$$, '23503', false),
('inbound', 'NULL expected_at',            $$INSERT INTO backorder.inbound (client_id, sku, location_id, qty) VALUES ('mx', 'A', 'mx_w1', 5)$$, '23502', false),
('orders', 'NULL order_id',                $$INSERT INTO backorder.orders (client_id, order_id) VALUES ('mx', NULL)$$, '23502', false),
-- found by a newcomer's trial (each was accepted before): infinite or unreadable times,
-- backdated ledger rows, returns naming no order, edits of history, deletes of named rows
('inbound', 'expected_at infinity',        $$INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at) VALUES ('mx', 'A', 'mx_w1', 5, 'infinity')$$, '22008', false),
('inbound', 'DELETE of a received row',    $$DELETE FROM backorder.inbound WHERE client_id = 'mx' AND reference = 'ASN-MX'$$, '55000', false),
('sku', 'DELETE of a SKU with stock',      $$DELETE FROM backorder.sku WHERE client_id = 'mx' AND sku = 'A'$$, '23503', false),
('location', 'DELETE of a warehouse with stock', $$DELETE FROM backorder.location WHERE location_id = 'mx_w1'$$, '23503', false),
('client', 'DELETE of a client with SKUs', $$DELETE FROM backorder.client WHERE client_id = 'mx'$$, '23503', false),
('sku', 'new code for a SKU with stock',   $$UPDATE backorder.sku SET sku = 'A2' WHERE client_id = 'mx' AND sku = 'A'$$, '23503', false),
('location', 'new key for a warehouse with stock', $$UPDATE backorder.location SET location_id = 'mx_w9' WHERE location_id = 'mx_w1'$$, '23503', false),
('client', 'new key for a client with SKUs', $$UPDATE backorder.client SET client_id = 'mx9' WHERE client_id = 'mx'$$, '23503', false),
('client', 'DELETE of a client with an SLA row', $$DELETE FROM backorder.client WHERE client_id = 'mx_sla'$$, '23503', false),
('client', 'new key for a client with an SLA row', $$UPDATE backorder.client SET client_id = 'mx_sla2' WHERE client_id = 'mx_sla'$$, '23503', false),
('stock_movement', 'backdated created_at', $$INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, created_at) VALUES ('mx', 'A', 'mx_w1', 'receipt', 1, '1999-01-01')$$, '428C9', false),
('stock_movement', 'return naming an unknown order', $$INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, order_id) VALUES ('mx', 'A', 'mx_w1', 'return', 1, 'NO_SUCH')$$, '23503', false),
('orders', 'UPDATE priority of a shipped order', $$UPDATE backorder.orders SET priority = 9 WHERE client_id = 'mx' AND order_id = 'MX_SHIPPED'$$, '55000', false),
('orders', 'UPDATE placed_at of a cancelled order', $$UPDATE backorder.orders SET placed_at = '2024-01-01' WHERE client_id = 'mx' AND order_id = 'MX_CANCELLED'$$, '55000', false),
('clock', 'backorder.now infinity',        $$SET backorder.now = 'infinity'$$, '22023', false),
('clock', 'backorder.now unreadable',      $$SET backorder.now = 'garbage'$$, '22023', false),
('clock', 'backorder.now beyond year 9999', $$SET backorder.now = '294276-12-31 23:59:59Z'$$, '22023', false),
('clock', 'backorder.now BC',              $$SET backorder.now = '4714-11-24 00:00:00+00 BC'$$, '22023', false),
-- found by a second newcomer's trial: endless day ranges, never-ending surges, a NaN fraction
('forecast', 'daily_demand to infinity',    $$SELECT count(*) FROM backorder.daily_demand('mx', 'A', '2024-01-01', 'infinity')$$, '22023', false),
('forecast', 'daily_demand over 20 years',  $$SELECT count(*) FROM backorder.daily_demand('mx', 'A', '2004-01-01', '2024-01-01')$$, '22023', false),
('forecast', 'average as of infinity',      $$SELECT backorder.avg_units_sold_per_day('mx', 'A', 30, 'infinity')$$, '22023', false),
('forecast', 'surge ending at infinity',    $$SELECT backorder.demand_surge('mx', 'A', '2024-12-01', 'infinity', 2, 0, 'x')$$, '22023', false),
('forecast', 'surge from -infinity',        $$SELECT backorder.demand_surge('mx', NULL, '-infinity', '2024-12-01', 2, 0, 'x')$$, '22023', false),
-- found by a fourth newcomer's trial: one huge surge broke stockout_risk for every client
('forecast', 'surge multiplier 1e18',       $$SELECT backorder.demand_surge('mx', 'A', '2024-12-01', '2024-12-31', 1e18)$$, '22023', false),
('forecast', 'surge of 1e17 extra units',   $$SELECT backorder.demand_surge('mx', 'A', '2024-12-01', '2024-12-31', 1, 1e17)$$, '22023', false),
('split', 'NaN split_min_fraction',         $$UPDATE backorder.client SET split_min_fraction = 'NaN' WHERE client_id = 'mx'$$, '22023', false),
-- found by a third newcomer's trial: a ledger row naming a taken movement_id was applied and
-- then skipped by ON CONFLICT (units from nothing); PostgreSQL's special time words in Shopify
('stock_movement', 'taken movement_id, ON CONFLICT DO NOTHING', $$INSERT INTO backorder.stock_movement (movement_id, client_id, sku, location_id, kind, qty) OVERRIDING SYSTEM VALUE SELECT min(movement_id), 'mx', 'A', 'mx_w1', 'receipt', 100 FROM backorder.stock_movement ON CONFLICT DO NOTHING$$, '23505', false),
('stock_movement', 'taken movement_id',    $$INSERT INTO backorder.stock_movement (movement_id, client_id, sku, location_id, kind, qty) OVERRIDING SYSTEM VALUE SELECT min(movement_id), 'mx', 'A', 'mx_w1', 'receipt', 100 FROM backorder.stock_movement$$, '23505', false),
('shopify', 'created_at "now"',            $$SELECT backorder.ingest_shopify_order('mx', '{"id": 901, "created_at": "now", "line_items": [{"id": 1, "sku": "A", "quantity": 1}]}')$$, '22023', false),
('shopify', 'created_at "epoch"',          $$SELECT backorder.ingest_shopify_order('mx', '{"id": 902, "created_at": "epoch", "line_items": [{"id": 1, "sku": "A", "quantity": 1}]}')$$, '22023', false),
('shopify', 'updated_at "tomorrow"',       $$SELECT backorder.ingest_shopify_order('mx', '{"id": 903, "created_at": "2024-05-01T08:00:00Z", "updated_at": "tomorrow", "line_items": [{"id": 1, "sku": "A", "quantity": 1}]}')$$, '22023', false),
('shopify', 'cancelled_at "infinity"',     $$SELECT backorder.ingest_shopify_order('mx', '{"id": 904, "created_at": "2024-05-01T08:00:00Z", "cancelled_at": "infinity", "line_items": [{"id": 1, "sku": "A", "quantity": 1}]}')$$, '22023', false);

SELECT plan((SELECT 3 * count(*)::int - count(*) FILTER (WHERE core)::int + 4 FROM bad_case));

SELECT is(
    (SELECT string_agg(format('%s=%s', order_id, status), ' ' ORDER BY order_id) FROM backorder.orders WHERE client_id = 'mx'),
    'MX_CANCELLED=cancelled MX_HELD=needs_review MX_READY=ready MX_SHIPPED=shipped',
    'set-up: one order in each status');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'set-up: invariants hold');

-- Three tests per case, in case order; "nothing written" compares the fingerprint taken just
-- before the case.
CREATE FUNCTION pg_temp.run_matrix() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    c record;
    e record;
    label text;
    before text;
BEGIN
    FOR c IN SELECT * FROM bad_case ORDER BY id LOOP
        before := pg_temp.fingerprint();
        label := format('%s, case %s, %s', c.area, c.id, c.descr);
        RETURN NEXT throws_ok(c.sql, c.state, NULL, label || ': SQLSTATE ' || c.state);
        IF NOT c.core THEN      -- PostgreSQL's own errors: SQLSTATE only (see the header)
            SELECT * INTO e FROM pg_temp.error_of(c.sql);
            RETURN NEXT ok(e.state <> 'none' AND coalesce(e.hint, '') <> '', label || ': has an errhint');
        END IF;
        RETURN NEXT is(pg_temp.fingerprint(), before, label || ': nothing written');
    END LOOP;
END $$;
SELECT * FROM pg_temp.run_matrix();

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'after the matrix: invariants hold');
SELECT is(
    (SELECT string_agg(format('%s=%s', order_id, status), ' ' ORDER BY order_id) FROM backorder.orders WHERE client_id = 'mx'),
    'MX_CANCELLED=cancelled MX_HELD=needs_review MX_READY=ready MX_SHIPPED=shipped',
    'after the matrix: the orders are as they were');

SELECT * FROM finish();
ROLLBACK;
