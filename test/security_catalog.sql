-- What the catalog must say: pinned search_paths, row-level security on every tenant table,
-- pg_dump registration of every data table and identity sequence, the two group roles and
-- exactly their privileges.
BEGIN;
SELECT plan(18);

-- Every SQL and PL/pgSQL function pins its search_path (C functions pin it in engine_run();
-- SQL-standard bodies are bound when created; aggregates run C functions).
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
       WHERE p.pronamespace = 'backorder'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
         AND p.prokind IN ('f', 'p') AND p.prosqlbody IS NULL
         AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')$$,
    'every SQL and PL/pgSQL function of the schema pins search_path');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'backorder'::regnamespace AND p.prosecdef$$,
    'no SECURITY DEFINER functions');

-- Row-level security on every table with a client_id, with the tenant policy for both groups.
SELECT is_empty(
    $$SELECT c.relname FROM pg_class c
       WHERE c.relnamespace = 'backorder'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'client_role'
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped)
         AND NOT (c.relrowsecurity
                  AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'all_rows' AND p.polpermissive)
                  AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant' AND NOT p.polpermissive
                                 AND p.polroles @> ARRAY['backorder_app'::regrole::oid, 'backorder_reader'::regrole::oid]
                                 AND p.polcmd = '*' AND p.polwithcheck IS NOT NULL))$$,
    'every table with a client_id has row-level security and the tenant policy (reads and writes)');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'backorder.client_role'::regclass), 'client_role has row-level security');
SELECT is_empty(
    $$SELECT c.relname FROM pg_class c
       WHERE c.relnamespace = 'backorder'::regnamespace AND c.relkind = 'v'
         AND (has_table_privilege('backorder_reader', c.oid, 'SELECT') OR has_table_privilege('backorder_app', c.oid, 'SELECT'))
         AND NOT coalesce('security_barrier=true' = ANY (c.reloptions), false)$$,
    'every view the groups may read is a security barrier (its tenant filter applies before callers'' functions)');

-- pg_dump: every permanent table and every identity sequence is registered.
SELECT is_empty(
    $$SELECT c.oid::regclass::text FROM pg_class c
       WHERE c.relnamespace = 'backorder'::regnamespace AND c.relkind IN ('r', 'p', 'S') AND c.relpersistence = 'p'
         AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'pg_backorder')::oid[])$$,
    'every permanent table and sequence is registered with pg_extension_config_dump');
SELECT is(
    (SELECT count(*)::int FROM pg_class c WHERE c.relnamespace = 'backorder'::regnamespace AND c.relkind = 'S'
        AND c.oid = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'pg_backorder')::oid[])) >= 4,
    true, 'the identity sequences (ledger, inbound, holds, events) are among them');

-- The group roles.
SELECT results_eq(
    $$SELECT rolname::text COLLATE "default", rolcanlogin, rolsuper, rolbypassrls FROM pg_roles
       WHERE rolname IN ('backorder_app', 'backorder_reader') ORDER BY 1$$,
    $$VALUES ('backorder_app'::text, false, false, false), ('backorder_reader', false, false, false)$$,
    'backorder_app and backorder_reader exist, cannot log in, bypass nothing');

-- backorder_reader: SELECT on the views (and its own bindings), nothing else.
SELECT is_empty(
    $$SELECT c.relname FROM pg_class c
       WHERE c.relnamespace = 'backorder'::regnamespace AND c.relkind <> 'v' AND c.relname <> 'client_role'
         AND has_table_privilege('backorder_reader', c.oid, 'SELECT')$$,
    'backorder_reader can SELECT no table but client_role (its own bindings only)');
SELECT ok((SELECT bool_and(has_table_privilege('backorder_reader', v, 'SELECT'))
             FROM unnest('{backorder.needs_review,backorder.waiting_lines,backorder.backordered_skus,backorder.sla_status,backorder.order_status_summary,backorder.hold_aging}'::text[]) v),
    'backorder_reader can SELECT the BI views');
SELECT is_empty(
    $$SELECT c.relname, p FROM pg_class c, unnest('{INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER}'::text[]) p
       WHERE c.relnamespace = 'backorder'::regnamespace AND has_table_privilege('backorder_reader', c.oid, p)$$,
    'backorder_reader writes nothing');
SELECT is(
    (SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p
      WHERE p.pronamespace = 'backorder'::regnamespace AND has_function_privilege('backorder_reader', p.oid, 'EXECUTE')),
    '{now,session_clients}'::text[],
    'backorder_reader executes only what the views call: now(), session_clients()');

-- backorder_app: writes what apps write; no DELETE of orders, no ledger edits, no settings.
SELECT is_empty(
    $$SELECT t, p FROM (VALUES ('backorder.orders', 'DELETE'), ('backorder.stock_movement', 'UPDATE'),
                               ('backorder.stock_movement', 'DELETE'), ('backorder.client', 'INSERT'),
                               ('backorder.client', 'UPDATE'), ('backorder.location', 'INSERT'),
                               ('backorder.client_sla', 'UPDATE'), ('backorder.client_sla', 'INSERT'),
                               ('backorder.client_holiday', 'INSERT'), ('backorder.client_role', 'INSERT'),
                               ('backorder.client_role', 'UPDATE'), ('backorder.order_hold', 'DELETE'),
                               ('backorder.order_event', 'DELETE'), ('backorder.stock', 'DELETE')) x (t, p)
       WHERE has_table_privilege('backorder_app', t, p)$$,
    'backorder_app: no DELETE of orders, holds, events or stock, no ledger edits, no clients, locations, SLA settings or bindings');
SELECT is_empty(
    $$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'backorder'::regnamespace
         AND has_table_privilege('backorder_app', c.oid, 'TRUNCATE')$$,
    'backorder_app truncates nothing');
SELECT ok(has_table_privilege('backorder_app', 'backorder.orders', 'INSERT')
          AND has_table_privilege('backorder_app', 'backorder.order_line', 'INSERT, UPDATE, DELETE')
          AND has_table_privilege('backorder_app', 'backorder.stock_movement', 'INSERT')
          AND has_table_privilege('backorder_app', 'backorder.inbound', 'INSERT'),
    'backorder_app inserts orders, lines, movements, inbound, and edits lines');
SELECT ok((SELECT bool_and(has_function_privilege('backorder_app', p.oid, 'EXECUTE')) FROM pg_proc p
            WHERE p.pronamespace = 'backorder'::regnamespace
              AND p.proname IN ('receive', 'adjust', 'count_stock', 'receive_inbound', 'receive_inbounds', 'cancel_order',
                                'ship_order', 'hold_order', 'release_hold', 'check_invariants', 'sla_due_at')),
    'backorder_app calls the public functions');

-- PUBLIC cannot call the functions that change anything.
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'backorder'::regnamespace
         AND p.proname IN ('receive', 'adjust', 'count_stock', 'receive_inbound', 'receive_inbounds', 'cancel_order',
                           'ship_order', 'hold_order', 'release_hold')
         AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                      WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')$$,
    'PUBLIC has no EXECUTE on the functions that change stock or orders');
SELECT ok(NOT has_schema_privilege('public', 'backorder', 'USAGE'), 'PUBLIC has no USAGE on schema backorder');

SELECT * FROM finish();
ROLLBACK;
