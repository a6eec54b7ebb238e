-- Tables.  Keys start with client_id (the tenant).  Columns marked "engine" are written
-- only by the engine: the guard triggers (src/guard.c) reject direct writes to them.

CREATE TABLE backorder.client (
    client_id          text PRIMARY KEY CHECK (client_id <> '' AND length(client_id) <= 64),
    name               text,
    sla_hours          integer NOT NULL DEFAULT 24 CHECK (sla_hours > 0),
    allocation_policy  text NOT NULL DEFAULT 'reserve'
                       CHECK (allocation_policy IN ('reserve', 'complete_only')),
    created_at         timestamptz NOT NULL DEFAULT backorder.now()
);
COMMENT ON TABLE backorder.client IS 'A brand served by the warehouse: the tenant every other row belongs to.';
COMMENT ON COLUMN backorder.client.client_id IS 'Tenant key (text, at most 64 characters).';
COMMENT ON COLUMN backorder.client.name IS 'Display name.';
COMMENT ON COLUMN backorder.client.sla_hours IS 'Hours from ready to shipped that the warehouse promises this client.';
COMMENT ON COLUMN backorder.client.allocation_policy IS 'reserve: arriving units go to the earliest waiting line even if its order stays short; complete_only: units go only to orders they make complete.';
COMMENT ON COLUMN backorder.client.created_at IS 'When the client was registered (backorder.now()).';

CREATE TABLE backorder.location (
    location_id  text PRIMARY KEY CHECK (location_id <> '' AND length(location_id) <= 64),
    name         text,
    priority     integer NOT NULL DEFAULT 100
);
COMMENT ON TABLE backorder.location IS 'A warehouse.  Orders without a location are placed where they can be filled; ties go to the lower priority number.';
COMMENT ON COLUMN backorder.location.location_id IS 'Warehouse key.';
COMMENT ON COLUMN backorder.location.name IS 'Display name.';
COMMENT ON COLUMN backorder.location.priority IS 'Preference: the lower number is preferred.';

CREATE TABLE backorder.sku (
    client_id       text NOT NULL REFERENCES backorder.client,
    sku             text NOT NULL CHECK (sku <> '' AND length(sku) <= 128),
    description     text,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'discontinued')),
    backorderable   boolean NOT NULL DEFAULT true,
    lead_time_days  integer CHECK (lead_time_days >= 0),
    safety_stock    integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    unit_price      numeric(12,2) CHECK (unit_price >= 0),
    weight_g        integer CHECK (weight_g > 0),
    length_mm       integer CHECK (length_mm > 0),
    width_mm        integer CHECK (width_mm > 0),
    height_mm       integer CHECK (height_mm > 0),
    PRIMARY KEY (client_id, sku)
);
COMMENT ON TABLE backorder.sku IS 'The catalog: one row per client and SKU.';
COMMENT ON COLUMN backorder.sku.client_id IS 'Owner of the SKU.';
COMMENT ON COLUMN backorder.sku.sku IS 'The client''s stock-keeping unit code.';
COMMENT ON COLUMN backorder.sku.description IS 'Product description.';
COMMENT ON COLUMN backorder.sku.status IS 'active, or discontinued (short lines of it are held as discontinued, not out_of_stock).';
COMMENT ON COLUMN backorder.sku.backorderable IS 'false: a short line is held as discontinued (it will not be restocked).';
COMMENT ON COLUMN backorder.sku.lead_time_days IS 'Days from reorder to receipt; NULL when unknown.';
COMMENT ON COLUMN backorder.sku.safety_stock IS 'Units kept as a buffer against demand variation (used by forecasting).';
COMMENT ON COLUMN backorder.sku.unit_price IS 'Unit price, for value-based split rules and reports.';
COMMENT ON COLUMN backorder.sku.weight_g IS 'Unit weight in grams.';
COMMENT ON COLUMN backorder.sku.length_mm IS 'Unit length in millimetres.';
COMMENT ON COLUMN backorder.sku.width_mm IS 'Unit width in millimetres.';
COMMENT ON COLUMN backorder.sku.height_mm IS 'Unit height in millimetres.';

-- The foreign keys of orders are checked at commit (DEFERRABLE INITIALLY DEFERRED).  The guard
-- triggers already refuse an unknown client or warehouse at the app's statement, with a hint;
-- the keys stay as the backstop.  At commit, a row the engine updated after the app inserted it
-- is checked once (its inserted version is gone) instead of twice, and every check runs under
-- the app's search_path, so PostgreSQL does not re-plan the cached checks each time the
-- engine's pinned search_path and the app's alternate.  order_line has no key to orders (below).
CREATE TABLE backorder.orders (
    client_id     text NOT NULL REFERENCES backorder.client DEFERRABLE INITIALLY DEFERRED,
    order_id      text NOT NULL CHECK (order_id <> '' AND length(order_id) <= 128),
    placed_at     timestamptz NOT NULL DEFAULT backorder.now(),
    priority      integer NOT NULL DEFAULT 0,
    location_id   text REFERENCES backorder.location DEFERRABLE INITIALLY DEFERRED,
    status        text NOT NULL DEFAULT 'new'
                  CHECK (status IN ('new', 'needs_review', 'ready', 'shipped', 'cancelled')),
    held_since    timestamptz,
    ready_at      timestamptz,
    shipped_at    timestamptz,
    cancelled_at  timestamptz,
    PRIMARY KEY (client_id, order_id)
);
COMMENT ON TABLE backorder.orders IS 'Customer orders, inserted by apps with plain SQL; the engine evaluates each one at commit.';
COMMENT ON COLUMN backorder.orders.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.orders.order_id IS 'The shop''s own order id (text: shop ids exceed 2^53).';
COMMENT ON COLUMN backorder.orders.placed_at IS 'When the customer placed the order (default backorder.now()); with priority, the order''s place in the queue.';
COMMENT ON COLUMN backorder.orders.priority IS 'Higher is served first; within a priority, first come first served.';
COMMENT ON COLUMN backorder.orders.location_id IS 'Warehouse the app requires, or NULL to let the engine choose (the choice is order_line.location_id).';
COMMENT ON COLUMN backorder.orders.status IS 'engine: new (intake not yet run; only inside the inserting transaction), needs_review (held), ready (in the fulfillment flow), shipped, cancelled.';
COMMENT ON COLUMN backorder.orders.held_since IS 'engine: when the current hold period began; NULL unless needs_review.';
COMMENT ON COLUMN backorder.orders.ready_at IS 'engine: when the order last became ready (the SLA clock starts here).';
COMMENT ON COLUMN backorder.orders.shipped_at IS 'engine: when ship_order shipped it.';
COMMENT ON COLUMN backorder.orders.cancelled_at IS 'engine: when cancel_order cancelled it.';

CREATE TABLE backorder.order_line (
    client_id    text NOT NULL,
    order_id     text NOT NULL,
    line_no      integer NOT NULL CHECK (line_no > 0),
    sku          text,
    qty          integer NOT NULL CHECK (qty > 0),
    unit_price   numeric(12,2) CHECK (unit_price >= 0),
    allocated    integer NOT NULL DEFAULT 0 CHECK (allocated >= 0 AND allocated <= qty),
    shipped      integer NOT NULL DEFAULT 0 CHECK (shipped >= 0),
    -- engine-maintained and checked by the engine: a foreign key here would KEY SHARE-lock
    -- the warehouse row for every allocation, a hot spot under concurrent intake
    location_id  text,
    priority     integer,
    placed_at    timestamptz,
    waiting      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (client_id, order_id, line_no)
    -- No foreign key to orders: the guard refuses a line of an order that does not exist, at the
    -- app's statement (23503), and orders are never deleted (0A000) nor change their key.  A key
    -- check would run again at commit for every line the engine allocated (the row the app
    -- inserted and the engine updated in one transaction is checked once more): 530,000 checks in
    -- a year's replay.  check_invariants() reports a line whose order is missing (invariant 3).
);
COMMENT ON TABLE backorder.order_line IS 'Order lines, inserted by apps with plain SQL.  Changing qty or sku, adding or deleting lines re-evaluates the order at commit.';
COMMENT ON COLUMN backorder.order_line.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.order_line.order_id IS 'The order this line belongs to.';
COMMENT ON COLUMN backorder.order_line.line_no IS 'Line number within the order (positive).';
COMMENT ON COLUMN backorder.order_line.sku IS 'SKU ordered; NULL or a code missing from backorder.sku holds the order as unknown_sku.';
COMMENT ON COLUMN backorder.order_line.qty IS 'Units ordered (positive).';
COMMENT ON COLUMN backorder.order_line.unit_price IS 'Price per unit, if the shop sent one.';
COMMENT ON COLUMN backorder.order_line.allocated IS 'engine: units reserved for this line at location_id.';
COMMENT ON COLUMN backorder.order_line.shipped IS 'engine: units shipped by ship_order.';
COMMENT ON COLUMN backorder.order_line.location_id IS 'engine: warehouse where the line is allocated or waits.';
COMMENT ON COLUMN backorder.order_line.priority IS 'engine: copy of the order''s priority, so the waiting-line index is in release order.';
COMMENT ON COLUMN backorder.order_line.placed_at IS 'engine: copy of the order''s placed_at, for the same reason.';
COMMENT ON COLUMN backorder.order_line.waiting IS 'engine: true while the line of an open order waits for units (allocated < qty at a known SKU).';

-- The release queue: waiting lines of one SKU and location, in release order.
CREATE INDEX order_line_queue ON backorder.order_line
    (client_id, sku, location_id, priority DESC, placed_at, order_id, line_no) WHERE waiting;
-- Lines holding units, for take-back (newest first) and the invariants.
CREATE INDEX order_line_allocated ON backorder.order_line (client_id, sku, location_id) WHERE allocated > 0;

CREATE TABLE backorder.stock (
    client_id    text NOT NULL,
    sku          text NOT NULL,
    location_id  text NOT NULL REFERENCES backorder.location,
    on_hand      bigint NOT NULL DEFAULT 0,
    allocated    bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz,
    PRIMARY KEY (client_id, sku, location_id),
    FOREIGN KEY (client_id, sku) REFERENCES backorder.sku
);
COMMENT ON TABLE backorder.stock IS 'engine: units per SKU and warehouse, kept by the ledger trigger; available = on_hand - allocated.  Read-only to apps.';
COMMENT ON COLUMN backorder.stock.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.stock.sku IS 'SKU.';
COMMENT ON COLUMN backorder.stock.location_id IS 'Warehouse.';
COMMENT ON COLUMN backorder.stock.on_hand IS 'engine: units physically on hand (sum of the ledger''s deltas).';
COMMENT ON COLUMN backorder.stock.allocated IS 'engine: units reserved for open order lines (never more than on_hand).';
COMMENT ON COLUMN backorder.stock.updated_at IS 'engine: last change.';

CREATE TABLE backorder.stock_movement (
    movement_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id    text NOT NULL,
    sku          text NOT NULL,
    location_id  text NOT NULL,
    kind         text NOT NULL,
    qty          bigint NOT NULL,
    delta        bigint NOT NULL,
    reason       text,
    reference    text,
    order_id     text,
    created_at   timestamptz NOT NULL DEFAULT backorder.now(),
    CONSTRAINT stock_movement_kind_check
        CHECK (kind IN ('receipt', 'return', 'adjustment', 'count', 'shipment'))
    -- Every ledger row belongs to a stock row, and the stock row references the catalog.  No
    -- foreign key says so: the ledger trigger locks the row's stock row (creating it, after
    -- checking the catalog, when it is new) before the row is written, and stock rows are never
    -- deleted (the guard refuses it; the catalog's keys refuse deleting what they name).  A key
    -- check would repeat that lookup for every row (a year's replay writes 550,000 shipment
    -- rows: 5 % of its time).  check_invariants() reports a ledger row without a stock row.
);
CREATE INDEX stock_movement_sku ON backorder.stock_movement (client_id, sku, location_id, movement_id);
COMMENT ON TABLE backorder.stock_movement IS 'The stock ledger, insert-only: every change of on_hand is one row.  Inserting a row applies it to backorder.stock and allocates or takes back units.';
COMMENT ON COLUMN backorder.stock_movement.movement_id IS 'Ledger position.';
COMMENT ON COLUMN backorder.stock_movement.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.stock_movement.sku IS 'SKU.';
COMMENT ON COLUMN backorder.stock_movement.location_id IS 'Warehouse.';
COMMENT ON COLUMN backorder.stock_movement.kind IS 'receipt (+), return (+), adjustment (signed), count (absolute counted quantity), shipment (-, written by ship_order).';
COMMENT ON COLUMN backorder.stock_movement.qty IS 'As given: units received or returned, the signed adjustment, the counted quantity, or minus the units shipped.';
COMMENT ON COLUMN backorder.stock_movement.delta IS 'engine: the change the row applied to on_hand (for a count: counted minus the previous on_hand).';
COMMENT ON COLUMN backorder.stock_movement.reason IS 'Why (required for adjustments and counts: damage, cycle count, sync error...).';
COMMENT ON COLUMN backorder.stock_movement.reference IS 'External reference: PO, ASN, RMA, count sheet.';
COMMENT ON COLUMN backorder.stock_movement.order_id IS 'The order a shipment belongs to.';
COMMENT ON COLUMN backorder.stock_movement.created_at IS 'When it was recorded (backorder.now()).';

CREATE TABLE backorder.inbound (
    inbound_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id    text NOT NULL,
    sku          text NOT NULL,
    location_id  text NOT NULL REFERENCES backorder.location,
    qty          bigint NOT NULL CHECK (qty > 0),
    expected_at  date NOT NULL,
    reference    text,
    received_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT backorder.now(),
    FOREIGN KEY (client_id, sku) REFERENCES backorder.sku
);
CREATE INDEX inbound_open ON backorder.inbound (client_id, sku, location_id, expected_at) WHERE received_at IS NULL;
COMMENT ON TABLE backorder.inbound IS 'Purchase orders and ASNs in transit: units expected at a warehouse on a date.';
COMMENT ON COLUMN backorder.inbound.inbound_id IS 'Key.';
COMMENT ON COLUMN backorder.inbound.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.inbound.sku IS 'SKU.';
COMMENT ON COLUMN backorder.inbound.location_id IS 'Receiving warehouse.';
COMMENT ON COLUMN backorder.inbound.qty IS 'Units expected.';
COMMENT ON COLUMN backorder.inbound.expected_at IS 'Expected arrival date.';
COMMENT ON COLUMN backorder.inbound.reference IS 'PO or ASN number.';
COMMENT ON COLUMN backorder.inbound.received_at IS 'Set by backorder.receive_inbound(), or by hand to close a row that will not arrive; NULL while in transit.  A received row cannot change.';
COMMENT ON COLUMN backorder.inbound.created_at IS 'When it was announced.';

CREATE TABLE backorder.order_hold (
    hold_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id    text NOT NULL,
    order_id     text NOT NULL,
    reason       text NOT NULL CHECK (reason ~ '^[a-z][a-z_]{0,31}$'),
    note         text,
    created_at   timestamptz NOT NULL,
    released_at  timestamptz,
    FOREIGN KEY (client_id, order_id) REFERENCES backorder.orders
);
CREATE UNIQUE INDEX order_hold_open ON backorder.order_hold (client_id, order_id, reason) WHERE released_at IS NULL;
COMMENT ON TABLE backorder.order_hold IS 'engine: why an order is held.  Holds are a set: an order is needs_review while any is open.  Inventory reasons (out_of_stock, discontinued, unknown_sku) are opened and closed by the engine; any other reason (manual, ...) only by hold_order / release_hold.';
COMMENT ON COLUMN backorder.order_hold.hold_id IS 'Key; order_event.detail names it.';
COMMENT ON COLUMN backorder.order_hold.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.order_hold.order_id IS 'Held order.';
COMMENT ON COLUMN backorder.order_hold.reason IS 'out_of_stock, discontinued, unknown_sku, manual, or another operator reason.';
COMMENT ON COLUMN backorder.order_hold.note IS 'Free text from the operator.';
COMMENT ON COLUMN backorder.order_hold.created_at IS 'When the hold was opened.';
COMMENT ON COLUMN backorder.order_hold.released_at IS 'When it was closed; NULL while open.';

CREATE TABLE backorder.order_event (
    event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   text NOT NULL,
    order_id    text NOT NULL,
    event       text NOT NULL,
    status      text NOT NULL,
    created_at  timestamptz NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX order_event_order ON backorder.order_event (client_id, order_id, event_id);
COMMENT ON TABLE backorder.order_event IS 'engine: one row per transition of an order (placed, held, hold_added, hold_released, allocated, released, deallocated, cancelled, shipped).';
COMMENT ON COLUMN backorder.order_event.event_id IS 'Order of events.';
COMMENT ON COLUMN backorder.order_event.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.order_event.order_id IS 'Order.';
COMMENT ON COLUMN backorder.order_event.event IS 'placed, held, hold_added, hold_released, allocated, released, deallocated, cancelled, shipped.';
COMMENT ON COLUMN backorder.order_event.status IS 'The order''s status after the event.';
COMMENT ON COLUMN backorder.order_event.created_at IS 'backorder.now() of the transaction.';
COMMENT ON COLUMN backorder.order_event.detail IS 'What changed: hold ids opened or closed, SKU, location and units allocated or taken back.';

-- Internal: one row per transaction that changed order lines, whose deferred
-- trigger settles those orders at commit (src/deferred_settle.c).  The row is
-- deleted by the same trigger; unlogged because it never outlives its transaction.
CREATE UNLOGGED TABLE backorder.settle_request (
    requested_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE backorder.settle_request IS 'Internal: a transaction''s request to settle the orders it touched, at commit.  Always empty outside a transaction.';
COMMENT ON COLUMN backorder.settle_request.requested_at IS 'When the request was made.';

-- Daily demand per SKU and warehouse, for forecasting (77_forecast.sql): kept by the engine from
-- order-line changes (src/demand_summary.c), so stockout_risk reads one row per SKU, warehouse
-- and 32 days instead of every order line.
CREATE TABLE backorder.demand_summary (
    client_id    text NOT NULL,
    sku          text NOT NULL,
    location_id  text NOT NULL,
    block_start  date NOT NULL,
    units        integer[] NOT NULL CHECK (cardinality(units) = 32),
    PRIMARY KEY (client_id, sku, block_start, location_id),
    FOREIGN KEY (client_id, sku) REFERENCES backorder.sku
);
COMMENT ON TABLE backorder.demand_summary IS 'engine: units ordered per SKU, warehouse and calendar day (orders not cancelled, backordered units included, by placed_at in the zone backorder.demand_time_zone()), 32 days a row.  Kept from order-line changes; read-only to apps; rebuilt by backorder.rebuild_demand_summary().';
COMMENT ON COLUMN backorder.demand_summary.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.demand_summary.sku IS 'SKU.';
COMMENT ON COLUMN backorder.demand_summary.location_id IS 'Warehouse the lines are placed at.';
COMMENT ON COLUMN backorder.demand_summary.block_start IS 'First of the 32 days of the row: 2000-01-01 plus a multiple of 32 days.';
COMMENT ON COLUMN backorder.demand_summary.units IS 'Units ordered on block_start + i - 1 for i = 1..32.  A row with no units is deleted.';

-- The zone whose calendar days demand_summary counts; no row: UTC.
CREATE TABLE backorder.demand_summary_zone (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    time_zone  text NOT NULL
);
COMMENT ON TABLE backorder.demand_summary_zone IS 'engine: the time zone of backorder.demand_summary''s days (one row; none means UTC).  Change it with backorder.set_demand_time_zone().';
COMMENT ON COLUMN backorder.demand_summary_zone.one IS 'Always true: at most one row.';
COMMENT ON COLUMN backorder.demand_summary_zone.time_zone IS 'IANA zone name, as SHOW TimeZone spells it.';

-- pg_dump keeps user data of extension tables only when they are registered.
SELECT pg_catalog.pg_extension_config_dump('backorder.client', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.location', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.sku', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.orders', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.order_line', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.stock', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.stock_movement', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.inbound', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.order_hold', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.order_event', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.demand_summary', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.demand_summary_zone', '');
