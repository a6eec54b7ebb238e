-- Roles, privileges and per-client row-level security (issue 6).
--
-- Two group roles, created if missing (roles belong to the cluster: DROP EXTENSION keeps
-- them):
--   backorder_reader  SELECT on the views, nothing else;
--   backorder_app     reads the tables, inserts orders, lines, stock movements, inbound and
--                     catalog rows, edits orders and lines, calls the public functions.
-- The engine runs its statements as the calling role, so backorder_app also holds the
-- table privileges the engine uses on its behalf (UPDATE of stock, INSERT of holds and
-- events...); the guard triggers refuse those writes from the app itself (428C9), as they
-- do for every role.
--
-- This part must run after every part that creates tables or functions (it works over
-- what exists: RLS on every table with a client_id, EXECUTE on every function, the
-- internal per-transaction tables, identity sequences); each statement is idempotent.
--
-- Row-level security: a member of either group sees and writes only the clients of
-- backorder.session_clients() (bound by role through client_role, or by the setting
-- backorder.client_id); roles outside the groups (the owner, administrators) are not
-- restricted.  Every table of the schema with a client_id column gets the same two
-- policies; the views apply the same rule in their WHERE clause (76_views.sql).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'backorder_reader') THEN
        CREATE ROLE backorder_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'backorder_app') THEN
        CREATE ROLE backorder_app NOLOGIN;
    END IF;
END
$$;
COMMENT ON ROLE backorder_reader IS 'pg_backorder: may SELECT the views (needs_review, backordered_skus, sla_status, ...), limited to the clients the session is bound to.';
COMMENT ON ROLE backorder_app IS 'pg_backorder: may insert orders, lines, stock movements and inbound, edit orders and lines and call the public functions, limited to the clients the session is bound to.';

-- ---- Row-level security ----------------------------------------------------------------

DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped
         WHERE n.nspname = 'backorder' AND c.relkind IN ('r', 'p') AND c.relname <> 'client_role'
         ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = t AND p.polname = 'tenant') THEN
            -- RLS denies everything no permissive policy allows: allow every row ...
            EXECUTE format('CREATE POLICY all_rows ON %s USING (true)', t);
            -- ... and restrict members of the groups to their clients, for reads and writes.
            EXECUTE format('CREATE POLICY tenant ON %s AS RESTRICTIVE TO backorder_app, backorder_reader'
                           ' USING (client_id = ANY ((SELECT backorder.session_clients())::text[]))'
                           ' WITH CHECK (client_id = ANY ((SELECT backorder.session_clients())::text[]))', t);
        END IF;
    END LOOP;
END
$$;

-- client_role: each role sees only the mappings of roles whose privileges it has.
ALTER TABLE backorder.client_role ENABLE ROW LEVEL SECURITY;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                    WHERE p.polrelid = 'backorder.client_role'::regclass AND p.polname = 'own_roles') THEN
        CREATE POLICY own_roles ON backorder.client_role FOR SELECT
            USING (pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(role_name)), 'USAGE'));
        -- The installing role administers the bindings (a superuser passes RLS anyway; a
        -- database owner who installed the trusted extension does not).
        CREATE POLICY administer ON backorder.client_role TO @extowner@ USING (true) WITH CHECK (true);
    END IF;
END
$$;

-- ---- Privileges ------------------------------------------------------------------------

GRANT USAGE ON SCHEMA backorder TO backorder_reader, backorder_app, @extowner@;

-- Functions: only the roles that need them.  The views call now() and session_clients()
-- with the caller's rights; the engine's trigger functions are not checked when they fire.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA backorder FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA backorder TO @extowner@, backorder_app;
GRANT EXECUTE ON FUNCTION backorder.now(), backorder.session_clients() TO backorder_reader;
-- Rebuilding the demand summary locks out every engine path: the administrator's call.
REVOKE EXECUTE ON FUNCTION backorder.rebuild_demand_summary(), backorder.set_demand_time_zone(text) FROM backorder_app;

-- The views of 76_views.sql.  Another part's view may be granted to the groups once it filters by
-- backorder.session_clients() as these do, and everything it calls works for a reader
-- (no table privileges, EXECUTE on now() and session_clients() only).
GRANT SELECT ON backorder.needs_review, backorder.waiting_lines, backorder.backordered_skus,
                backorder.sla_status, backorder.order_status_summary, backorder.hold_aging
    TO backorder_reader, backorder_app, @extowner@;
GRANT SELECT, INSERT, UPDATE, DELETE ON backorder.client_sla, backorder.client_holiday,
                                        backorder.client_role TO @extowner@;
GRANT SELECT ON backorder.client_role TO backorder_reader, backorder_app;

-- The app: reads every table (its clients' rows), writes what apps write ...
GRANT SELECT ON ALL TABLES IN SCHEMA backorder TO backorder_app;
GRANT INSERT, UPDATE ON backorder.orders, backorder.order_line, backorder.sku, backorder.inbound
    TO backorder_app;
GRANT DELETE ON backorder.order_line TO backorder_app;
GRANT INSERT ON backorder.stock_movement TO backorder_app;
-- ... and what the engine writes on its behalf (the guards refuse these from the app).
GRANT INSERT, UPDATE ON backorder.stock, backorder.order_hold TO backorder_app;
GRANT INSERT ON backorder.order_event TO backorder_app;
GRANT INSERT, UPDATE, DELETE ON backorder.demand_summary TO backorder_app;
-- The internal per-transaction request tables (settle_request, ...): unlogged, always
-- empty outside a transaction, written by the engine's deferred triggers.
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_catalog.pg_class c
              WHERE c.relnamespace = 'backorder'::regnamespace AND c.relkind = 'r' AND c.relpersistence = 'u'
    LOOP
        EXECUTE format('GRANT INSERT, DELETE ON %s TO backorder_app', t);
    END LOOP;
END
$$;

-- Forecasting (77_forecast.sql): the app may announce surges, tune methods and refresh alerts.
-- stockout_risk calls functions that read tables with the caller's rights, so it is the app's
-- and the owner's view, not the reader's.
GRANT SELECT ON backorder.stockout_risk TO backorder_app;
GRANT INSERT, UPDATE, DELETE ON backorder.demand_surge, backorder.sku_forecast_setting,
                                backorder.client_forecast_setting TO backorder_app;
GRANT INSERT, UPDATE ON backorder.alert TO backorder_app;

-- The installing role administers the extension: every table and sequence, whichever part
-- created it.  When a non-superuser installs it (trusted extension), the objects belong to the
-- bootstrap superuser; the engine's guards, not privileges, keep engine columns engine-only.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA backorder TO @extowner@;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA backorder TO @extowner@;

-- ---- pg_dump ---------------------------------------------------------------------------

-- The identity sequences of the data tables: without them a restored database would hand
-- out ids that already exist.
DO $$
DECLARE
    s regclass;
BEGIN
    FOR s IN
        SELECT d.objid::regclass
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class sq ON sq.oid = d.objid AND sq.relkind = 'S'
          JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
          JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
         WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
           AND d.deptype IN ('i', 'a') AND n.nspname = 'backorder' AND t.relpersistence = 'p'
         ORDER BY 1
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(s, '');
    END LOOP;
END
$$;
SELECT pg_catalog.pg_extension_config_dump('backorder.client_role', '');
