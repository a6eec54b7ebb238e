-- Objects named like ours in a schema earlier in the caller's search_path (tables, functions,
-- an operator, even a fake pg_roles in public placed before pg_catalog) change nothing:
-- every function pins its search_path, views, policies and trigger conditions are bound
-- to their objects when created, and the C engine pins its own.
-- The statements run under the hostile search_path and store what they saw; the checks
-- run afterwards with a clean search_path (pgTAP itself does not pin its search_path).
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-03-01 09:00+00';
SET TimeZone = 'UTC';
SELECT plan(16);

INSERT INTO backorder.client (client_id) VALUES ('sp_c1'), ('sp_c2');
INSERT INTO backorder.client_sla (client_id, time_zone, cutoff, promise) VALUES ('sp_c1', 'Europe/Berlin', '14:00', 'same_day');
INSERT INTO backorder.location (location_id, priority) VALUES ('sp_w1', 1);
INSERT INTO backorder.sku (client_id, sku) VALUES ('sp_c1', 'A'), ('sp_c2', 'A');
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('sp_c2', 'SECRET') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 1 FROM o;
CREATE ROLE sp_tap_app IN ROLE backorder_app;
GRANT USAGE, CREATE ON SCHEMA public TO sp_tap_app;

-- ---- the hostile objects, in public ----
CREATE TABLE public.client (client_id text, sla_hours integer);
INSERT INTO public.client VALUES ('sp_c1', 999), ('sp_c2', 999);
CREATE TABLE public.client_sla (client_id text, time_zone text, cutoff time, business_days integer[], promise text, at_risk_margin interval);
INSERT INTO public.client_sla VALUES ('sp_c1', 'Asia/Tokyo', '01:00', '{7}', 'next_business_day', '100 days');
CREATE TABLE public.client_holiday (client_id text, holiday date);
INSERT INTO public.client_holiday SELECT 'sp_c1', d::date FROM generate_series('2024-01-01'::date, '2024-12-31', '1 day') d;
CREATE TABLE public.client_role (client_id text, role_name name);
INSERT INTO public.client_role VALUES ('sp_c2', 'sp_tap_app');
CREATE TABLE public.orders (client_id text, order_id text, status text);
INSERT INTO public.orders VALUES ('sp_c2', 'SECRET', 'needs_review');
CREATE TABLE public.pg_roles (oid oid, rolname name, rolsuper boolean, rolbypassrls boolean);
INSERT INTO public.pg_roles VALUES (0, 'sp_tap_app', true, true);
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2099-01-01 00:00+00'::timestamptz $$;
CREATE FUNCTION public.current_setting(text, boolean) RETURNS text LANGUAGE sql AS $$ SELECT 'sp_c2'::text $$;
CREATE FUNCTION public.pg_has_role(name, oid, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION public.pg_has_role(oid, name, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION public.to_regrole(text) RETURNS regrole LANGUAGE sql AS $$ SELECT 'backorder_app'::regrole $$;
CREATE FUNCTION public.make_interval(hours integer) RETURNS interval LANGUAGE sql AS $$ SELECT interval '1000 hours' $$;
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT 'utc'::text $$;
CREATE FUNCTION public.evil_texteq(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.evil_texteq);
CREATE FUNCTION public.evil_timelt(time, time) RETURNS boolean LANGUAGE sql AS $$ SELECT false $$;
CREATE OPERATOR public.< (LEFTARG = time, RIGHTARG = time, FUNCTION = public.evil_timelt);
CREATE FUNCTION public.evil_intgt(integer, integer) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR public.> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.evil_intgt);
GRANT SELECT ON public.client, public.client_sla, public.client_holiday, public.client_role, public.orders, public.pg_roles TO PUBLIC;

CREATE TEMP TABLE seen (k text PRIMARY KEY, v text);
GRANT ALL ON seen TO PUBLIC;
-- sqlstate_of(sql): the SQLSTATE the statement raises, or 'no error' (pinned itself)
CREATE FUNCTION pg_temp.sqlstate_of(p_sql text) RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog AS $$
BEGIN
    EXECUTE p_sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

-- ==== as the superuser, public before pg_catalog ====
SET search_path = public, pg_catalog, backorder;
INSERT INTO pg_temp.seen VALUES ('control', now()::text || ' ' || ('a' = 'b')::text || ' ' || (SELECT count(*) FROM pg_roles)::text);
INSERT INTO pg_temp.seen VALUES ('due', backorder.sla_due_at('sp_c1', '2024-03-01 09:00+00')::text);
INSERT INTO pg_temp.seen VALUES ('bad tz', pg_temp.sqlstate_of($$INSERT INTO backorder.client_sla (client_id, time_zone) VALUES ('sp_c2', 'Mars/Olympus_Mons')$$));
INSERT INTO backorder.client_sla (client_id, time_zone, business_days) VALUES ('sp_c2', 'europe/paris', '{5,1,1}');
INSERT INTO pg_temp.seen SELECT 'sp_c2 sla', time_zone || ' ' || business_days::text FROM backorder.client_sla WHERE client_id OPERATOR(pg_catalog.=) 'sp_c2';
INSERT INTO pg_temp.seen VALUES ('role check', pg_temp.sqlstate_of($$INSERT INTO backorder.client_role (client_id, role_name) VALUES ('sp_c1', 'sp_no_such_role')$$));
INSERT INTO pg_temp.seen SELECT 'invariants', count(*)::text FROM backorder.check_invariants();
INSERT INTO pg_temp.seen SELECT 'summary', string_agg(client_id || ':' || status || ':' || orders, ',' ORDER BY client_id) FROM backorder.order_status_summary
 WHERE client_id IN ('sp_c1', 'sp_c2');
RESET search_path;

-- ==== as an app bound to sp_c1 by the setting, public first ====
SET ROLE sp_tap_app;
SET backorder.client_id = 'sp_c1';
SET search_path = public, pg_catalog, backorder;
INSERT INTO pg_temp.seen VALUES ('app clients', backorder.session_clients()::text);
SELECT backorder.receive('sp_c1', 'A', 'sp_w1', 1);
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('sp_c1', 'R1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 1 FROM o;
INSERT INTO pg_temp.seen SELECT 'app R1', status || ' ' || sla_due_at::text FROM backorder.orders WHERE order_id OPERATOR(pg_catalog.=) 'R1';
INSERT INTO pg_temp.seen SELECT 'app orders', string_agg(client_id || '/' || order_id, ',' ORDER BY client_id, order_id) FROM backorder.orders;
INSERT INTO pg_temp.seen SELECT 'app views', coalesce(string_agg(client_id || '/' || order_id || '/' || state, ','), '') FROM backorder.sla_status;
INSERT INTO pg_temp.seen SELECT 'app needs_review', count(*)::text FROM backorder.needs_review;
INSERT INTO pg_temp.seen VALUES ('app writes sp_c2', pg_temp.sqlstate_of($$SELECT backorder.receive('sp_c2', 'A', 'sp_w1', 1)$$));
RESET search_path;
RESET backorder.client_id;
RESET ROLE;

-- ==== an app's trigger with its own search_path, inside an engine statement ====
-- The engine's writes fire the app's triggers; one whose function sets a search_path and moves
-- stock calls the engine again from inside it: that nested call must pin the engine's path too.
CREATE SCHEMA sp_evil;
CREATE FUNCTION sp_evil.raise_texteq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'sp_evil.= called'; END $$;
CREATE OPERATOR sp_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = sp_evil.raise_texteq);
CREATE FUNCTION sp_evil.receipt_on_ship() RETURNS trigger LANGUAGE plpgsql
SET search_path = sp_evil, pg_catalog AS $$
BEGIN
    IF NEW.event OPERATOR(pg_catalog.=) 'shipped' THEN
        INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta)
        VALUES (NEW.client_id, 'A', 'sp_w1', 'receipt', 5, 0);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sp_receipt_on_ship AFTER INSERT ON backorder.order_event
    FOR EACH ROW EXECUTE FUNCTION sp_evil.receipt_on_ship();
SELECT backorder.receive('sp_c1', 'A', 'sp_w1', 1) IS NOT NULL AS received;
WITH o AS (INSERT INTO backorder.orders (client_id, order_id) VALUES ('sp_c1', 'SHIP1') RETURNING client_id, order_id)
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) SELECT client_id, order_id, 1, 'A', 1 FROM o;
INSERT INTO pg_temp.seen VALUES ('nested', pg_temp.sqlstate_of($$SELECT backorder.ship_order('sp_c1', 'SHIP1')$$));
INSERT INTO pg_temp.seen SELECT 'nested stock', on_hand || ' ' || allocated FROM backorder.stock
 WHERE client_id OPERATOR(pg_catalog.=) 'sp_c1' AND sku OPERATOR(pg_catalog.=) 'A';
DROP TRIGGER sp_receipt_on_ship ON backorder.order_event;

SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'control'), '2099-01-01 00:00:00+00 true 1',
    'control: the hostile search_path works on unqualified SQL (public now(), =, pg_roles)');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'due'), '2024-03-01 23:00:00+00',
    'sla_due_at(): the real settings, clock and operators, not public''s');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'bad tz'), '22023', 'time zone validation still refuses an unknown zone');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'sp_c2 sla'), 'Europe/Paris {1,5}', 'and still normalises what it stores');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'role check'), '42704', 'client_role validation reads the real pg_roles');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'invariants'), '0', 'check_invariants() reads the real tables');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'summary'), 'sp_c2:needs_review:1', 'views read the real tables');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'app clients'), '{sp_c1}',
    'session_clients(): a fake pg_roles, client_role, current_setting or pg_has_role in public widen nothing');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'app R1'), 'ready 2024-03-01 23:00:00+00',
    'intake and the SLA trigger under the hostile search_path: the real due time');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'app orders'), 'sp_c1/R1', 'the app sees only its client''s orders');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'app views'), 'sp_c1/R1/on_time', 'sla_status: its client only, the real clock');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'app needs_review'), '0', 'needs_review: nothing of sp_c2');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'app writes sp_c2'), '23503', 'and it still cannot write for sp_c2');

SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'nested'), 'no error',
    'an app trigger with SET search_path moving stock inside ship_order: the engine pins its path again');
SELECT is((SELECT v FROM pg_temp.seen WHERE k = 'nested stock'), '6 1',
    '... and the receipt it wrote is applied (1 + 1 received, 1 shipped, 5 more; R1 keeps 1)');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

SELECT * FROM finish();
ROLLBACK;
