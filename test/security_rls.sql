-- Tenant isolation: sessions bound to a client by role (client_role) or by the setting
-- backorder.client_id see and write only that client's rows, in tables and views alike;
-- backorder_app cannot write stock, allocations or statuses; backorder_reader reads the views only.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-03-01 09:00+00';
SELECT plan(63);

-- ---- data of three clients (as the superuser) ----
INSERT INTO backorder.client (client_id) VALUES ('sec_c1'), ('sec_c2'), ('sec_c3');
INSERT INTO backorder.client_sla (client_id) VALUES ('sec_c1'), ('sec_c2'), ('sec_c3');
INSERT INTO backorder.client_holiday (client_id, holiday) VALUES ('sec_c1', '2024-12-25'), ('sec_c2', '2024-12-25'), ('sec_c3', '2024-12-25');
INSERT INTO backorder.location (location_id, priority) VALUES ('sec_w1', 1);
INSERT INTO backorder.sku (client_id, sku) SELECT c, s FROM unnest('{sec_c1,sec_c2,sec_c3}'::text[]) c, unnest('{A,B}'::text[]) s;
SELECT backorder.receive(c, 'A', 'sec_w1', 1) FROM unnest('{sec_c1,sec_c2,sec_c3}'::text[]) c;
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at)
SELECT c, 'B', 'sec_w1', 5, '2024-03-10' FROM unnest('{sec_c1,sec_c2,sec_c3}'::text[]) c;
-- per client: R (ready, takes the A) and H (held, waits for B)
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at)
           SELECT c, x, '2024-03-01 08:00+00' FROM unnest('{sec_c1,sec_c2,sec_c3}'::text[]) c, unnest('{R,H}'::text[]) x
           RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
SELECT client_id, order_id, 1, CASE order_id WHEN 'R' THEN 'A' ELSE 'B' END, 1 FROM o;

-- ---- roles (rolled back with the test) ----
CREATE ROLE sec_tap_c1 IN ROLE backorder_app;          -- bound by role to sec_c1
CREATE ROLE sec_tap_agency IN ROLE backorder_app;      -- bound by role to sec_c1 and sec_c2
CREATE ROLE sec_tap_app IN ROLE backorder_app;         -- no mapping: bound by the setting
CREATE ROLE sec_tap_reader_c2 IN ROLE backorder_reader; -- reader bound by role to sec_c2
CREATE ROLE sec_tap_admin;                              -- outside the groups, a direct grant
GRANT USAGE ON SCHEMA backorder TO sec_tap_admin;
GRANT SELECT ON backorder.orders TO sec_tap_admin;
INSERT INTO backorder.client_role (client_id, role_name) VALUES
    ('sec_c1', 'sec_tap_c1'), ('sec_c1', 'sec_tap_agency'), ('sec_c2', 'sec_tap_agency'), ('sec_c2', 'sec_tap_reader_c2');

-- foreign_rows(allowed): tables and views of the schema with a client_id column that show
-- this session rows of other clients (only those it may SELECT).
CREATE FUNCTION pg_temp.foreign_rows(p_allowed text[]) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    r regclass;
    n bigint;
    found text[] := '{}';
BEGIN
    FOR r IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
              WHERE ns.nspname = 'backorder' AND c.relkind IN ('r', 'v')
                AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'client_id')
                AND has_table_privilege(c.oid, 'SELECT')
              ORDER BY c.relname
    LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE client_id <> ALL ($1)', r) INTO n USING p_allowed;
        IF n > 0 THEN
            found := found || r::text;
        END IF;
    END LOOP;
    RETURN found;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.foreign_rows(text[]) TO PUBLIC;
-- sqlstate_of(sql): the SQLSTATE the statement raises, or 'no error'; rows(sql): rows it touched
CREATE FUNCTION pg_temp.sqlstate_of(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE p_sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;
CREATE FUNCTION pg_temp.rows(p_sql text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE p_sql;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
-- visible(relation): the client_ids this session sees in it
CREATE FUNCTION pg_temp.visible(p_rel text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    ids text[];
BEGIN
    EXECUTE format('SELECT array_agg(DISTINCT client_id ORDER BY client_id) FROM %s WHERE client_id LIKE ''sec\_%%''', p_rel) INTO ids;
    RETURN coalesce(ids, '{}');
END
$$;

-- ==== bound by role ====
SET ROLE sec_tap_c1;
SELECT is(backorder.session_clients(), '{sec_c1}', 'role binding: session_clients() is the mapped client');
SELECT is(pg_temp.foreign_rows('{sec_c1}'), '{}', 'no table or view shows another client''s rows');
SELECT is(pg_temp.visible('backorder.orders'), '{sec_c1}', 'orders: own rows only');
SELECT is(pg_temp.visible('backorder.order_event'), '{sec_c1}', 'order_event: own rows only');
SELECT is(pg_temp.visible('backorder.needs_review'), '{sec_c1}', 'needs_review: own rows only');
SELECT is(pg_temp.visible('backorder.sla_status'), '{sec_c1}', 'sla_status: own rows only');
SELECT is(pg_temp.visible('backorder.backordered_skus'), '{sec_c1}', 'backordered_skus: own rows only');
SELECT results_eq($$SELECT client_id, role_name::text COLLATE "default" FROM backorder.client_role ORDER BY 1$$,
    $$VALUES ('sec_c1'::text, 'sec_tap_c1'::text)$$, 'client_role: a role sees only its own mapping');

-- writing another client's rows
SELECT throws_ok($$WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('sec_c2', 'EVIL') RETURNING client_id, order_id)
                   INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 1 FROM o$$,
    '23503', 'client "sec_c2" does not exist', 'an order for another client: its client does not exist for this session');
-- (23503 when the order is not visible; here the order was inserted in this same transaction,
-- so the guard skips its lookup and the policy's WITH CHECK refuses the row: 42501)
SELECT ok(pg_temp.sqlstate_of($$INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('sec_c2', 'H', 2, 'A', 1)$$)
          IN ('23503', '42501'), 'a line on another client''s order: refused');
SELECT throws_ok($$SELECT backorder.receive('sec_c2', 'A', 'sec_w1', 100)$$,
    '23503', NULL, 'a receipt for another client: refused');
SELECT throws_ok($$INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at) VALUES ('sec_c2', 'A', 'sec_w1', 1, '2024-04-01')$$,
    '42501', 'new row violates row-level security policy "tenant" for table "inbound"', 'inbound for another client: the policy''s WITH CHECK refuses it');
SELECT throws_ok($$INSERT INTO backorder.sku (client_id, sku) VALUES ('sec_c2', 'EVIL')$$,
    '42501', NULL, 'a SKU for another client: refused by the policy');
INSERT INTO backorder.sku (client_id, sku) VALUES ('sec_c1', 'UNUSED');
SELECT throws_ok($$UPDATE backorder.sku SET client_id = 'sec_c2' WHERE client_id = 'sec_c1' AND sku = 'UNUSED'$$,
    '42501', NULL, 'moving an own row to another client: refused by the policy');
SELECT is(pg_temp.rows($$UPDATE backorder.orders SET priority = 99 WHERE client_id = 'sec_c2'$$), 0::bigint,
    'UPDATE of another client''s orders touches nothing');
SELECT is(pg_temp.rows($$DELETE FROM backorder.order_line WHERE client_id = 'sec_c2'$$), 0::bigint,
    'DELETE of another client''s lines touches nothing');
SELECT throws_ok($$SELECT backorder.ship_order('sec_c2', 'R')$$, 'P0002', NULL, 'ship_order on another client''s order: no such order');
SELECT throws_ok($$SELECT backorder.cancel_order('sec_c2', 'H')$$, 'P0002', NULL, 'cancel_order on another client''s order: no such order');
SELECT throws_ok($$SELECT backorder.hold_order('sec_c2', 'R')$$, 'P0002', NULL, 'hold_order on another client''s order: no such order');

-- the setting narrows a role binding but cannot widen it
SET backorder.client_id = 'sec_c2';
SELECT is(backorder.session_clients(), '{}', 'role bound to sec_c1 with the setting sec_c2: nothing');
SELECT is(pg_temp.visible('backorder.orders'), '{}', '... and no orders at all');
RESET backorder.client_id;

-- own work goes through
SELECT lives_ok($$WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('sec_c1', 'N1') RETURNING client_id, order_id)
                  INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'B', 1 FROM o$$,
    'an own order');
SELECT lives_ok($$SELECT backorder.receive('sec_c1', 'B', 'sec_w1', 2)$$, 'an own receipt (releases H and N1)');
SELECT lives_ok($$SELECT backorder.ship_order('sec_c1', 'R')$$, 'ship an own order');
SELECT lives_ok($$SELECT backorder.hold_order('sec_c1', 'N1', 'address_check')$$, 'hold an own order');
SELECT lives_ok($$UPDATE backorder.order_line SET qty = 2 WHERE client_id = 'sec_c1' AND order_id = 'N1' AND line_no = 1$$, 'edit an own line');
SELECT lives_ok($$SELECT backorder.cancel_order('sec_c1', 'N1')$$, 'cancel an own order');
SELECT results_eq($$SELECT order_id, status FROM backorder.orders ORDER BY order_id$$,
    $$VALUES ('H'::text, 'ready'::text), ('N1', 'cancelled'), ('R', 'shipped')$$, 'the own orders moved as the engine says');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'check_invariants() as the app: consistent (its own rows)');

-- engine-maintained data: refused by the guards (privileges the engine needs are not enough)
SELECT throws_ok($$UPDATE backorder.stock SET on_hand = 100 WHERE client_id = 'sec_c1'$$, '428C9', NULL, 'app UPDATE of stock: 428C9');
SELECT throws_ok($$INSERT INTO backorder.stock (client_id, sku, location_id, on_hand) VALUES ('sec_c1', 'B', 'sec_w1', 5)$$, '428C9', NULL, 'app INSERT into stock: 428C9');
SELECT throws_ok($$UPDATE backorder.order_line SET allocated = 0 WHERE client_id = 'sec_c1' AND order_id = 'H'$$, '428C9', NULL, 'app UPDATE of an allocation: 428C9');
SELECT throws_ok($$UPDATE backorder.orders SET status = 'shipped' WHERE client_id = 'sec_c1' AND order_id = 'H'$$, '428C9', NULL, 'app UPDATE of a status: 428C9');
SELECT throws_ok($$INSERT INTO backorder.order_hold (client_id, order_id, reason, created_at) VALUES ('sec_c1', 'H', 'manual', now())$$, '428C9', NULL, 'app INSERT of a hold: 428C9');
SELECT throws_ok($$INSERT INTO backorder.order_event (client_id, order_id, event, status, created_at) VALUES ('sec_c1', 'H', 'shipped', 'shipped', now())$$, '428C9', NULL, 'app INSERT of an event: 428C9');
-- ... and by privileges
SELECT throws_ok($$DELETE FROM backorder.orders WHERE client_id = 'sec_c1'$$, '42501', NULL, 'app DELETE of orders: no privilege');
SELECT throws_ok($$UPDATE backorder.stock_movement SET qty = 5 WHERE client_id = 'sec_c1'$$, '42501', NULL, 'app UPDATE of the ledger: no privilege');
SELECT throws_ok($$INSERT INTO backorder.client (client_id) VALUES ('sec_c9')$$, '42501', NULL, 'app INSERT of a client: no privilege');
SELECT throws_ok($$UPDATE backorder.client_sla SET cutoff = '10:00'$$, '42501', NULL, 'app UPDATE of SLA settings: no privilege');
SELECT throws_ok($$INSERT INTO backorder.client_role (client_id, role_name) VALUES ('sec_c2', 'sec_tap_c1')$$, '42501', NULL,
    'app cannot bind itself to another client');
RESET ROLE;

-- ==== a role bound to two clients ====
SET ROLE sec_tap_agency;
SELECT is(backorder.session_clients(), '{sec_c1,sec_c2}', 'agency role: both mapped clients');
SELECT is(pg_temp.foreign_rows('{sec_c1,sec_c2}'), '{}', 'agency role: no rows of sec_c3 anywhere');
SET backorder.client_id = 'sec_c2';
SELECT is(pg_temp.visible('backorder.orders'), '{sec_c2}', 'agency role narrowed by the setting to sec_c2');
RESET backorder.client_id;
RESET ROLE;

-- ==== bound by the setting ====
SET ROLE sec_tap_app;
SELECT is(backorder.session_clients(), '{}', 'an app role without mapping or setting: no client (fails closed)');
SELECT is(pg_temp.visible('backorder.orders') || pg_temp.visible('backorder.needs_review'), '{}', 'unbound: no orders, nothing in the views');
SELECT throws_ok($$SELECT backorder.receive('sec_c1', 'A', 'sec_w1', 1)$$, '23503', NULL, 'unbound: cannot write for any client');
SET backorder.client_id = 'sec_c2';
SELECT is(pg_temp.foreign_rows('{sec_c2}'), '{}', 'SET backorder.client_id = sec_c2: only sec_c2''s rows');
SELECT is(pg_temp.visible('backorder.sla_status'), '{sec_c2}', 'views follow the setting');
SELECT lives_ok($$SELECT backorder.receive('sec_c2', 'B', 'sec_w1', 1)$$, 'and it writes for sec_c2');
SELECT is((SELECT status FROM backorder.orders WHERE client_id = 'sec_c2' AND order_id = 'H'), 'ready', 'sec_c2''s held order released');
-- what the setting guarantees: exactly what the app sets, no more
SET backorder.client_id = 'sec_c3';
SELECT is(pg_temp.visible('backorder.orders'), '{sec_c3}', 'the setting is only as trustworthy as the app: SET to sec_c3 shows sec_c3');
RESET backorder.client_id;
RESET ROLE;

-- ==== reader ====
SET ROLE sec_tap_reader_c2;
SELECT is(ARRAY(SELECT DISTINCT unnest(pg_temp.visible('backorder.needs_review') || pg_temp.visible('backorder.sla_status')
                  || pg_temp.visible('backorder.order_status_summary') || pg_temp.visible('backorder.hold_aging')
                  || pg_temp.visible('backorder.backordered_skus') || pg_temp.visible('backorder.waiting_lines'))),
    '{sec_c2}', 'reader bound to sec_c2: the views show sec_c2 only');
SELECT is(pg_temp.foreign_rows('{sec_c2}'), '{}', 'reader: nothing of other clients');
SELECT throws_ok($$SELECT count(*) FROM backorder.orders$$, '42501', NULL, 'reader: no SELECT on tables');
SELECT throws_ok($$SELECT count(*) FROM backorder.stock$$, '42501', NULL, 'reader: not on stock either');
SELECT throws_ok($$SELECT backorder.receive('sec_c2', 'A', 'sec_w1', 1)$$, '42501', NULL, 'reader: cannot call receive()');
SELECT throws_ok($$SELECT backorder.hold_order('sec_c2', 'R')$$, '42501', NULL, 'reader: cannot call hold_order()');
SELECT throws_ok($$SELECT * FROM backorder.check_invariants()$$, '42501', NULL, 'reader: cannot call check_invariants()');
RESET ROLE;

-- ==== a role outside the groups: row-level security does not restrict it ====
SET ROLE sec_tap_admin;
SELECT is(pg_temp.visible('backorder.orders'), '{sec_c1,sec_c2,sec_c3}', 'a role outside the groups sees every client in what it was granted');
RESET ROLE;

-- ==== an app's receipt for a client that splits held orders (engine writes its internal
--      request tables as the caller: the app role needs them granted) ====
UPDATE backorder.client SET split_rule = 'as_available' WHERE client_id = 'sec_c3';
INSERT INTO backorder.location (location_id, priority) VALUES ('sec_w2', 2);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id)
           VALUES ('sec_c3', 'SPL', '2024-03-01 08:30+00', 'sec_w1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'B', 1 FROM o;
SET ROLE sec_tap_app;
SET backorder.client_id = 'sec_c3';
SELECT lives_ok($$SELECT backorder.receive('sec_c3', 'A', 'sec_w2', 1)$$,
    'an app receipt that leaves units available for a splitting client goes through');
RESET backorder.client_id;
RESET ROLE;

-- nothing of other clients changed
SELECT results_eq($$SELECT client_id, order_id, status, priority FROM backorder.orders WHERE client_id IN ('sec_c2', 'sec_c3') ORDER BY 1, 2$$,
    $$VALUES ('sec_c2'::text, 'H'::text, 'ready'::text, 0), ('sec_c2', 'R', 'ready', 0),
             ('sec_c3', 'H', 'needs_review', 0), ('sec_c3', 'R', 'ready', 0), ('sec_c3', 'SPL', 'needs_review', 0)$$,
    'other clients'' orders: only sec_c2''s own receipt changed them');
SELECT is((SELECT count(*)::int FROM backorder.order_line WHERE client_id = 'sec_c2'), 2, 'other clients'' lines all there');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
