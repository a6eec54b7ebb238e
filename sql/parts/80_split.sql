-- Splitting held orders: what ships now becomes child orders, the rest stays held
-- (src/split.c, src/split_plan.c, src/split_apply.c).

-- A child order names the order the customer placed.
ALTER TABLE backorder.orders
    ADD COLUMN parent_order_id text,
    ADD CONSTRAINT orders_parent_fkey
        FOREIGN KEY (client_id, parent_order_id) REFERENCES backorder.orders (client_id, order_id)
        DEFERRABLE INITIALLY DEFERRED;   -- checked at commit: a restore may copy a child before its parent
CREATE INDEX orders_parent ON backorder.orders (client_id, parent_order_id) WHERE parent_order_id IS NOT NULL;
COMMENT ON COLUMN backorder.orders.parent_order_id IS
    'engine: for an order made by a split, the original order it was split from (a split of a split names the original too); NULL for orders apps placed.';

-- Split rules: per client, overridable per order.  The checks back up the trigger
-- split_rule_check, which refuses a bad rule with SQLSTATE 22023 and a hint.
ALTER TABLE backorder.client
    ADD COLUMN split_rule text NOT NULL DEFAULT 'never',
    ADD COLUMN split_max_shipments integer,
    ADD COLUMN split_min_fraction numeric,
    ADD COLUMN split_after interval,
    ADD CONSTRAINT client_split_rule_check
        CHECK (split_rule IN ('never', 'as_available', 'up_to_n', 'min_fraction', 'after_held')),
    ADD CONSTRAINT client_split_max_shipments_check CHECK (split_max_shipments >= 1),
    ADD CONSTRAINT client_split_min_fraction_check CHECK (split_min_fraction >= 0 AND split_min_fraction <= 1),
    ADD CONSTRAINT client_split_after_check CHECK (split_after >= interval '0'),
    ADD CONSTRAINT client_split_parameters_check
        CHECK ((split_rule <> 'up_to_n' OR split_max_shipments IS NOT NULL)
               AND (split_rule <> 'min_fraction' OR split_min_fraction IS NOT NULL)
               AND (split_rule <> 'after_held' OR split_after IS NOT NULL));
COMMENT ON COLUMN backorder.client.split_rule IS
    'When held orders are split on their own: never (default: ship complete), as_available (whenever something can ship now), up_to_n (at most split_max_shipments shipments per original order), min_fraction (when at least split_min_fraction of the order can ship now), after_held (once held for split_after; applied by backorder.run_scheduled()).';
COMMENT ON COLUMN backorder.client.split_max_shipments IS 'up_to_n: the most shipments one original order may become, its held remainder included (1 or more).';
COMMENT ON COLUMN backorder.client.split_min_fraction IS 'min_fraction: the share (0 to 1) of the order that must ship now: of its value when every line has a price (line or catalog), else of its units.';
COMMENT ON COLUMN backorder.client.split_after IS 'after_held: how long an order must have been held (since held_since) before it is split.';

ALTER TABLE backorder.orders
    ADD COLUMN split_rule text,
    ADD COLUMN split_max_shipments integer,
    ADD COLUMN split_min_fraction numeric,
    ADD COLUMN split_after interval,
    ADD CONSTRAINT orders_split_rule_check
        CHECK (split_rule IN ('never', 'as_available', 'up_to_n', 'min_fraction', 'after_held')),
    ADD CONSTRAINT orders_split_max_shipments_check CHECK (split_max_shipments >= 1),
    ADD CONSTRAINT orders_split_min_fraction_check CHECK (split_min_fraction >= 0 AND split_min_fraction <= 1),
    ADD CONSTRAINT orders_split_after_check CHECK (split_after >= interval '0'),
    ADD CONSTRAINT orders_split_parameters_check
        CHECK (CASE WHEN split_rule IS NULL
                    THEN split_max_shipments IS NULL AND split_min_fraction IS NULL AND split_after IS NULL
                    ELSE (split_rule <> 'up_to_n' OR split_max_shipments IS NOT NULL)
                         AND (split_rule <> 'min_fraction' OR split_min_fraction IS NOT NULL)
                         AND (split_rule <> 'after_held' OR split_after IS NOT NULL) END);
-- The receipt watch looks for orders with a rule of their own.
CREATE INDEX orders_split_rule ON backorder.orders (client_id) WHERE split_rule IS NOT NULL;
COMMENT ON COLUMN backorder.orders.split_rule IS
    'This order''s own split rule (see backorder.client.split_rule), with its own parameters; NULL: the client''s rule and parameters.';
COMMENT ON COLUMN backorder.orders.split_max_shipments IS 'up_to_n for this order (with split_rule set).';
COMMENT ON COLUMN backorder.orders.split_min_fraction IS 'min_fraction for this order (with split_rule set).';
COMMENT ON COLUMN backorder.orders.split_after IS 'after_held for this order (with split_rule set).';

COMMENT ON COLUMN backorder.order_event.event IS
    'placed, held, hold_added, hold_released, allocated, released, deallocated, cancelled, shipped; split (units moved to child orders; detail: rule, children, shipments, units_left, changes).  A child order''s first event is placed (status ready, detail split_from).';

-- Internal: one row per transaction whose receipts left units available, acted on at
-- commit by the deferred trigger split_watch_run; unlogged because it never outlives
-- its transaction.
CREATE UNLOGGED TABLE backorder.split_request (
    requested_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE backorder.split_request IS 'Internal: a transaction''s request to consider splits at commit, after receipts left units available.  Always empty outside a transaction.';
COMMENT ON COLUMN backorder.split_request.requested_at IS 'When the request was made.';
GRANT SELECT, INSERT, DELETE ON backorder.split_request TO @extowner@;

-- Functions.
CREATE FUNCTION backorder.compute_split(p_client_id text, p_order_id text)
RETURNS TABLE (shipment_no integer, location_id text, line_no integer, sku text, qty integer,
               ships_now boolean)
LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_compute_split';
COMMENT ON FUNCTION backorder.compute_split(text, text) IS
    'The split plan of an order, without changing anything: one row per shipment, location and line that ships now (shipment_no 1, 2, ...; units allocated to the order or available now), and one row per line for the units that stay held (shipment_no NULL, ships_now false, at the location where the line waits).  Most units now, then fewest shipments, then preferred locations, then fewest allocated units moved.';

CREATE FUNCTION backorder.split_order(p_client_id text, p_order_id text)
RETURNS integer LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_split_order';
COMMENT ON FUNCTION backorder.split_order(text, text) IS
    'Applies compute_split''s plan: each ship-now shipment becomes a ready child order (parent_order_id set, id <original>-S<n>), the parent keeps the held remainder.  If nothing stays held the parent carries one shipment itself and becomes ready.  Returns the shipments made ready; 0 (with a NOTICE) for a ready order or one with nothing to ship now.';

CREATE FUNCTION backorder.run_scheduled(p_client_id text DEFAULT NULL)
RETURNS integer LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_run_scheduled';
COMMENT ON FUNCTION backorder.run_scheduled(text) IS
    'Applies the split rules to every held order (of one client, or all): after_held once an order has been held long enough, and any other rule that could not run when stock arrived (busy rows).  Never waits for a lock: a busy order is left for the next run.  Returns the number of orders split.  Schedule it with pg_cron: SELECT cron.schedule(''backorder-splits'', ''*/10 * * * *'', ''SELECT backorder.run_scheduled()'');';

CREATE FUNCTION backorder.split_rule_check() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_split_rule_check';
COMMENT ON FUNCTION backorder.split_rule_check() IS
    'Trigger: refuses an invalid split rule or parameter on client or orders (SQLSTATE 22023).';
CREATE FUNCTION backorder.split_watch() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_split_watch';
COMMENT ON FUNCTION backorder.split_watch() IS
    'Trigger on stock_movement: a movement that leaves units available is remembered, to consider at commit the orders waiting for that SKU elsewhere.';
CREATE FUNCTION backorder.split_watch_run() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_split_watch_run';
COMMENT ON FUNCTION backorder.split_watch_run() IS
    'Deferred constraint trigger: applies the split rules, at commit, to orders that could ship from stock left available by the transaction''s receipts.';

-- Triggers.
CREATE TRIGGER split_rule_check
    BEFORE INSERT OR UPDATE OF split_rule, split_max_shipments, split_min_fraction, split_after
    ON backorder.client
    FOR EACH ROW EXECUTE FUNCTION backorder.split_rule_check();
CREATE TRIGGER split_rule_check
    BEFORE INSERT OR UPDATE OF split_rule, split_max_shipments, split_min_fraction, split_after
    ON backorder.orders
    FOR EACH ROW
    WHEN (NEW.split_rule IS NOT NULL OR NEW.split_max_shipments IS NOT NULL
          OR NEW.split_min_fraction IS NOT NULL OR NEW.split_after IS NOT NULL)
    EXECUTE FUNCTION backorder.split_rule_check();
CREATE TRIGGER split_watch AFTER INSERT ON backorder.stock_movement
    FOR EACH ROW WHEN (NEW.delta > 0) EXECUTE FUNCTION backorder.split_watch();
CREATE CONSTRAINT TRIGGER split_watch_run AFTER INSERT ON backorder.split_request
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION backorder.split_watch_run();

-- Privileges, as the security part (78_security.sql) sets them for the other functions when
-- it is installed: the split functions for the installing role and backorder_app (not
-- PUBLIC), and the request row the engine writes on the app's behalf.  Nothing to do
-- without those roles.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'backorder_app') THEN
        REVOKE EXECUTE ON FUNCTION backorder.compute_split(text, text), backorder.split_order(text, text),
            backorder.run_scheduled(text), backorder.split_rule_check(), backorder.split_watch(),
            backorder.split_watch_run() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION backorder.compute_split(text, text), backorder.split_order(text, text),
            backorder.run_scheduled(text), backorder.split_rule_check(), backorder.split_watch(),
            backorder.split_watch_run() TO backorder_app;
        GRANT SELECT, INSERT, DELETE ON backorder.split_request TO backorder_app;
    END IF;
END
$$;
GRANT EXECUTE ON FUNCTION backorder.compute_split(text, text), backorder.split_order(text, text),
    backorder.run_scheduled(text), backorder.split_rule_check(), backorder.split_watch(),
    backorder.split_watch_run() TO @extowner@;
