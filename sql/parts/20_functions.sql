-- Public functions.  Stock changes are ledger inserts: these wrappers only name the kind,
-- the ledger trigger validates, applies and releases.  Order operations are C (src/order_ops.c).

CREATE FUNCTION backorder.receive(p_client_id text, p_sku text, p_location_id text,
                                  p_qty bigint, p_reference text DEFAULT NULL)
RETURNS bigint LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta, reference)
    VALUES (p_client_id, p_sku, p_location_id, 'receipt', p_qty, 0, p_reference)
    RETURNING movement_id
$$;
COMMENT ON FUNCTION backorder.receive(text, text, text, bigint, text) IS
    'Receives units into a warehouse (a receipt in the ledger): waiting orders are allocated and released in the same transaction.  Returns the ledger row id.';

CREATE FUNCTION backorder.adjust(p_client_id text, p_sku text, p_location_id text,
                                 p_delta bigint, p_reason text)
RETURNS bigint LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta, reason)
    VALUES (p_client_id, p_sku, p_location_id, 'adjustment', p_delta, 0, p_reason)
    RETURNING movement_id
$$;
COMMENT ON FUNCTION backorder.adjust(text, text, text, bigint, text) IS
    'Corrects on_hand by a signed delta (found stock, damage, sync error).  A decrease below what is allocated takes units back from the newest unshipped orders.  Returns the ledger row id.';

CREATE FUNCTION backorder.count_stock(p_client_id text, p_sku text, p_location_id text,
                                      p_counted bigint, p_reason text)
RETURNS bigint LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta, reason)
    VALUES (p_client_id, p_sku, p_location_id, 'count', p_counted, 0, p_reason)
    RETURNING movement_id
$$;
COMMENT ON FUNCTION backorder.count_stock(text, text, text, bigint, text) IS
    'Records a physical count: on_hand becomes the counted quantity and the ledger row keeps the delta applied.  Returns the ledger row id.';

CREATE FUNCTION backorder.receive_inbound(p_inbound_id bigint)
RETURNS bigint LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_receive_inbound';
COMMENT ON FUNCTION backorder.receive_inbound(bigint) IS
    'Receives an inbound row (PO/ASN) in full: a receipt with the inbound''s reference, and received_at set.  Returns the ledger row id.';

CREATE FUNCTION backorder.receive_inbounds(p_inbound_ids bigint[])
RETURNS integer LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_receive_inbounds';
COMMENT ON FUNCTION backorder.receive_inbounds(bigint[]) IS
    'Receives several inbound rows in full in one call (a truck at the dock): one receipt each, in stock key order, all or nothing.  Returns the number of rows received.';

CREATE FUNCTION backorder.cancel_order(p_client_id text, p_order_id text)
RETURNS boolean LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_cancel_order';
COMMENT ON FUNCTION backorder.cancel_order(text, text) IS
    'Cancels an open order: frees its allocated units (released to waiting orders in the same transaction) and closes its holds.  Returns false if it was already cancelled.';

CREATE FUNCTION backorder.ship_order(p_client_id text, p_order_id text)
RETURNS boolean LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_ship_order';
COMMENT ON FUNCTION backorder.ship_order(text, text) IS
    'Ships a ready order: one shipment row per line in the ledger, on_hand and allocated fall together.  Returns false if it was already shipped.';

CREATE FUNCTION backorder.ship_orders(p_client_id text, p_order_ids text[])
RETURNS integer LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_ship_orders';
COMMENT ON FUNCTION backorder.ship_orders(text, text[]) IS
    'Ships a wave of ready orders of one client in one call (a fixed number of statements however many): what ship_order does for each.  Orders already shipped are skipped (one NOTICE names them); any other order that is not ready refuses the whole call (55000; the detail names each such order), so the wave ships all or nothing.  Returns the number of orders shipped.';

CREATE FUNCTION backorder.hold_order(p_client_id text, p_order_id text,
                                     p_reason text DEFAULT 'manual', p_note text DEFAULT NULL)
RETURNS boolean LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_hold_order';
COMMENT ON FUNCTION backorder.hold_order(text, text, text, text) IS
    'Puts an operator hold on an open order (it keeps its allocated units).  Returns false if a hold with that reason is already open.';

CREATE FUNCTION backorder.release_hold(p_client_id text, p_order_id text,
                                       p_reason text DEFAULT 'manual')
RETURNS boolean LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_release_hold';
COMMENT ON FUNCTION backorder.release_hold(text, text, text) IS
    'Closes a hold.  Operator reasons close at once; unknown_sku re-evaluates the order against the catalog; out_of_stock and discontinued close only by stock arriving.  Returns false if no such hold was open.';

-- Trigger functions (src/guard.c, src/intake.c, src/ledger.c).
CREATE FUNCTION backorder.guard_row() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_guard_row';
COMMENT ON FUNCTION backorder.guard_row() IS
    'Trigger: validates app writes and rejects direct writes to engine-maintained columns.';
CREATE FUNCTION backorder.lock_for_edit() RETURNS void
    LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'backorder_lock_for_edit';
COMMENT ON FUNCTION backorder.lock_for_edit() IS
    'Takes the engine''s edit lock exclusively until the transaction ends, as an UPDATE of existing orders does (see README, Locking): for code that changes several existing orders one by one.';
CREATE FUNCTION backorder.guard_statement() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_guard_statement';
COMMENT ON FUNCTION backorder.guard_statement() IS
    'Trigger: an app statement that edits existing orders, a SKU''s status or backorderable flag, or a client''s allocation_policy takes the engine''s edit lock first (see README, Locking).';
CREATE FUNCTION backorder.intake() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_intake';
COMMENT ON FUNCTION backorder.intake() IS
    'Deferred constraint trigger: evaluates each order touched in the transaction once, at commit.';
CREATE FUNCTION backorder.settle() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_settle';
COMMENT ON FUNCTION backorder.settle() IS
    'Deferred constraint trigger: settles the orders the transaction touched, in one batch in release order, at commit.';
CREATE FUNCTION backorder.ledger() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_ledger';
COMMENT ON FUNCTION backorder.ledger() IS
    'Trigger on stock_movement: applies the row to stock, allocates new units to waiting lines, takes back units when on_hand falls below allocated.';

-- The demand summary for forecasting (src/demand_summary.c; table in 10_tables.sql).
CREATE FUNCTION backorder.demand_time_zone() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT z.time_zone FROM backorder.demand_summary_zone z), 'UTC')
$$;
COMMENT ON FUNCTION backorder.demand_time_zone() IS
    'The time zone whose calendar days backorder.demand_summary counts (default UTC; change it with backorder.set_demand_time_zone).';
CREATE FUNCTION backorder.demand_summary() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_demand_summary';
COMMENT ON FUNCTION backorder.demand_summary() IS
    'Trigger on order_line: moves a line''s units in backorder.demand_summary when its contribution to demand changes (placed, cancelled, qty, SKU, warehouse or placed_at edited, deleted).';
CREATE FUNCTION backorder.rebuild_demand_summary() RETURNS bigint
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_rebuild_demand_summary';
COMMENT ON FUNCTION backorder.rebuild_demand_summary() IS
    'Recomputes backorder.demand_summary from order lines (after loading lines with the engine''s triggers off, say), under the edit lock held exclusively.  Returns the rows written.';
CREATE FUNCTION backorder.set_demand_time_zone(p_time_zone text) RETURNS bigint
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_set_demand_time_zone';
COMMENT ON FUNCTION backorder.set_demand_time_zone(text) IS
    'Sets the time zone whose calendar days backorder.demand_summary counts and rebuilds it; stockout_risk reads the summary in sessions whose TimeZone is that zone, order lines otherwise.  Returns the rows written.';
