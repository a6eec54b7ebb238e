-- demo/replay.sql — replay a real order year (UCI Online Retail, 2010-12-01 .. 2011-12-09)
-- through pg_backorder.  Creates schema "replay" (dropped first): staging tables, the replay
-- procedure, two restocking policies, KPIs.  Loaded by demo/replay (and by the December test);
-- needs CREATE EXTENSION pg_backorder in the database.  Nothing here is part of the extension.
--
-- The model, one trading day at a time (days are the files of online_retail/by-day):
--   06:00    inbound rows whose expected_at has come are received (backorder.receive_inbounds):
--            the ledger releases the held orders they complete.
--   day      every timestamp of the day, in time order, is one transaction with the engine's
--            clock pinned to it (SET backorder.now): the returns of that minute (cancellation
--            invoices, back into stock), then its orders (invoices) with their lines; the engine
--            evaluates them at commit, first come first served.
--   23:00    every ready order ships (backorder.ship_orders, one wave); the restocking policy looks at each
--            SKU and places inbound rows with expected_at = today + the SKU's lead time; a
--            snapshot of the day is kept for the KPIs and the chart.
-- Every decision reads data up to the current day only and the pinned clock: no random(), no
-- now() (clock_timestamp() only measures elapsed time).  Same data, same result.
--
-- Which rows become what (the documented filter):
--   * product code: StockCode starting with five digits (85123A, 22041, 84029G...).  Everything
--     else is a service or accounting code, not a product: POST, DOT (postage), C2 (carriage),
--     M/m (manual), D (discount), S (samples), B (bad debt), BANK CHARGES, AMAZONFEE, CRUK,
--     gift_0001_* (vouchers), and the marketplace codes DCGS*/PADS (49 lines).
--   * order line: a product line of an invoice not starting with C, Quantity > 0.  Lines with
--     Quantity <= 0 outside cancellations are stock write-offs ("damaged", "check"...): skipped.
--   * order: an invoice with at least one order line; placed_at = its earliest InvoiceDate
--     (43 invoices span two minutes); line_no = the line's position in the invoice.
--   * return: a product line of a C invoice, -Quantity units back into stock at its InvoiceDate.
--   InvoiceDate is read as UTC.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS replay CASCADE;
CREATE SCHEMA replay;
COMMENT ON SCHEMA replay IS 'The Online Retail replay (demo/replay.sql): staging, driver, policies, KPIs.';

-- ---------------------------------------------------------------------------------------------
-- Staging: the CSV rows as they are (COPY target), then the cleaned orders, lines and returns.

CREATE TABLE replay.raw (
    seq           bigint GENERATED ALWAYS AS IDENTITY,
    invoice_no    text,
    stock_code    text,
    description   text,
    quantity      integer,
    invoice_date  timestamp,
    unit_price    numeric,
    customer_id   text,
    country       text
);
COMMENT ON TABLE replay.raw IS 'The by-day CSV rows as loaded (seq = position in the files, sorted by day).';

CREATE TABLE replay.order_src (
    invoice    text PRIMARY KEY,
    placed_at  timestamptz NOT NULL,
    day        date NOT NULL,
    lines      integer NOT NULL
);
CREATE TABLE replay.line_src (
    invoice     text NOT NULL,
    line_no     integer NOT NULL,
    sku         text NOT NULL,
    qty         integer NOT NULL,
    unit_price  numeric(12,2),
    placed_at   timestamptz NOT NULL,
    day         date NOT NULL,
    PRIMARY KEY (invoice, line_no)
);
CREATE TABLE replay.return_src (
    invoice   text NOT NULL,
    seq       bigint NOT NULL,
    sku       text NOT NULL,
    qty       integer NOT NULL,
    at        timestamptz NOT NULL,
    day       date NOT NULL
);
COMMENT ON TABLE replay.order_src IS 'One row per replayed order: a non-cancellation invoice with at least one product line of positive quantity.';
COMMENT ON TABLE replay.line_src IS 'Its lines: product StockCode, positive Quantity, line_no = position in the invoice.';
COMMENT ON TABLE replay.return_src IS 'Product lines of cancellation (C) invoices: units returned into stock at InvoiceDate.';

-- Fills order_src, line_src and return_src from raw.  Returns the number of order lines.
CREATE FUNCTION replay.prepare() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    TRUNCATE replay.order_src, replay.line_src, replay.return_src;
    INSERT INTO replay.line_src (invoice, line_no, sku, qty, unit_price, placed_at, day)
    SELECT r.invoice_no,
           row_number() OVER (PARTITION BY r.invoice_no ORDER BY r.seq),
           r.stock_code, r.quantity, round(r.unit_price, 2),
           min(r.invoice_date) OVER (PARTITION BY r.invoice_no) AT TIME ZONE 'UTC',
           (min(r.invoice_date) OVER (PARTITION BY r.invoice_no))::date
      FROM replay.raw r
     WHERE r.invoice_no !~ '^C' AND r.stock_code ~ '^[0-9]{5}' AND r.quantity > 0;
    INSERT INTO replay.order_src (invoice, placed_at, day, lines)
    SELECT invoice, min(placed_at), min(day), count(*) FROM replay.line_src GROUP BY invoice;
    INSERT INTO replay.return_src (invoice, seq, sku, qty, at, day)
    SELECT r.invoice_no, r.seq, r.stock_code, -r.quantity, r.invoice_date AT TIME ZONE 'UTC', r.invoice_date::date
      FROM replay.raw r
     WHERE r.invoice_no ~ '^C' AND r.stock_code ~ '^[0-9]{5}' AND r.quantity < 0;
    CREATE INDEX ON replay.order_src (placed_at, invoice);
    CREATE INDEX ON replay.line_src (placed_at, invoice, line_no);
    CREATE INDEX ON replay.line_src (day, sku);
    CREATE INDEX ON replay.return_src (at, sku, seq);
    ANALYZE replay.order_src; ANALYZE replay.line_src; ANALYZE replay.return_src;
    SELECT count(*) INTO n FROM replay.line_src;
    RETURN n;
END $$;
COMMENT ON FUNCTION replay.prepare() IS 'Applies the documented filter: raw -> order_src, line_src, return_src.  Returns the number of order lines.';

-- ---------------------------------------------------------------------------------------------
-- Runs, policy state, daily snapshots.

CREATE TABLE replay.run (
    client_id       text PRIMARY KEY,
    policy          text NOT NULL CHECK (policy IN ('minmax', 'forecast')),
    from_day        date NOT NULL,
    to_day          date NOT NULL,
    lead_time_days  integer NOT NULL DEFAULT 14,
    warmup_days     integer NOT NULL DEFAULT 28,
    min_days        numeric NOT NULL DEFAULT 21,
    max_days        numeric NOT NULL DEFAULT 42,
    sla_hours       integer NOT NULL DEFAULT 48,
    started         timestamptz,
    finished        timestamptz,
    seconds         numeric,
    cpu_seconds     numeric,
    profile         jsonb NOT NULL DEFAULT '{}',
    lines           bigint NOT NULL DEFAULT 0,
    lines_analyzed  bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE replay.run IS 'One row per replay: its client (one client per policy, same data), policy, days and parameters, elapsed time.';
COMMENT ON COLUMN replay.run.lead_time_days IS 'Every SKU''s lead time: inbound placed today is expected today + this many days.';
COMMENT ON COLUMN replay.run.warmup_days IS 'min/max: a SKU''s average daily demand is measured over its first warmup_days calendar days (from its first order), then frozen.';
COMMENT ON COLUMN replay.run.min_days IS 'min/max: reorder when the inventory position falls below min_days x that average.';
COMMENT ON COLUMN replay.run.max_days IS 'min/max: order up to max_days x that average.';
COMMENT ON COLUMN replay.run.seconds IS 'Wall-clock seconds of the replay procedure.';
COMMENT ON COLUMN replay.run.cpu_seconds IS 'CPU seconds the server backend spent on it (from /proc, set by demo/replay; NULL if unknown).';
COMMENT ON COLUMN replay.run.profile IS 'Wall-clock seconds per step: receive (06:00 receipts), intake (returns and orders, commits included), ship, restock (the policy), snapshot.';
COMMENT ON COLUMN replay.run.lines IS 'Order lines replayed so far.';
COMMENT ON COLUMN replay.run.lines_analyzed IS 'Order lines replayed when the engine''s tables were last analyzed.';
COMMENT ON COLUMN replay.run.sla_hours IS 'The client''s sla_hours: an order meets the SLA when it ships within this many hours of being placed.';

CREATE TABLE replay.sku_state (
    client_id   text NOT NULL,
    sku         text NOT NULL,
    first_day   date NOT NULL,
    warm_units  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, sku)
);
COMMENT ON TABLE replay.sku_state IS 'min/max: per SKU, the day of its first order and the units ordered in its first warmup_days days (so far).';

CREATE TABLE replay.open_order (
    client_id  text NOT NULL,
    order_id   text NOT NULL,
    PRIMARY KEY (client_id, order_id)
);
COMMENT ON TABLE replay.open_order IS 'Orders placed and not yet shipped: where the end of the day looks for ready orders.';

CREATE TABLE replay.daily (
    client_id      text NOT NULL,
    day            date NOT NULL,
    orders_placed  integer NOT NULL,
    held_orders    integer NOT NULL,
    shipped        integer NOT NULL,
    on_hand        bigint NOT NULL,
    stockout_skus  integer NOT NULL,
    inbound_rows   integer NOT NULL,
    inbound_units  bigint NOT NULL,
    PRIMARY KEY (client_id, day)
);
COMMENT ON TABLE replay.daily IS 'End of each trading day, after shipping and restocking: orders placed that day, orders held (needs_review), orders shipped that day, units on hand, SKUs with customers waiting (stock-out), inbound rows and units placed that day.';

-- ---------------------------------------------------------------------------------------------
-- Restocking policies.  Each returns the inbound to place at the end of p_day: (sku, qty).

-- Inventory position of the SKUs ordered on a day: available - units short on waiting lines +
-- units inbound (one warehouse, uk).  The position only falls when orders arrive (shipping lowers
-- on_hand and allocated alike, a receipt turns inbound into on_hand, a return raises it), so a
-- policy only needs to look at the SKUs ordered today.
CREATE FUNCTION replay.position(p_client text, p_day date)
RETURNS TABLE (sku text, on_hand bigint, available bigint, waiting bigint, inbound bigint)
LANGUAGE sql STABLE SET jit = off AS $$
    SELECT t.sku, coalesce(s.on_hand, 0), coalesce(s.on_hand - s.allocated, 0),
           coalesce((SELECT sum(l.qty - l.allocated) FROM backorder.order_line l
                      WHERE l.client_id = p_client AND l.sku = t.sku AND l.location_id = 'uk' AND l.waiting), 0)::bigint,
           coalesce((SELECT sum(ib.qty) FROM backorder.inbound ib
                      WHERE ib.client_id = p_client AND ib.sku = t.sku AND ib.location_id = 'uk'
                        AND ib.received_at IS NULL), 0)::bigint
      FROM (SELECT DISTINCT l.sku FROM replay.line_src l WHERE l.day = p_day) t
      LEFT JOIN backorder.stock s ON s.client_id = p_client AND s.sku = t.sku AND s.location_id = 'uk'
$$;
COMMENT ON FUNCTION replay.position(text, date) IS 'Per SKU ordered on p_day: on hand, available, units short on waiting lines, units inbound.';

-- (a) min/max.  d = units ordered in the SKU's first warmup_days calendar days (from its first
-- order) / warmup_days: it grows during those days (units so far / warmup_days: no look-ahead)
-- and is frozen afterwards.  When available - waiting + inbound < min_days x d, order up to
-- max_days x d.
CREATE FUNCTION replay.policy_minmax(p_client text, p_day date)
RETURNS TABLE (sku text, qty bigint) LANGUAGE sql STABLE SET jit = off AS $$
    SELECT x.sku, (x.hi - x.ip)::bigint
      FROM (SELECT p.sku, p.available - p.waiting + p.inbound AS ip,
                   ceil(s.warm_units::numeric / r.warmup_days * r.min_days) AS lo,
                   ceil(s.warm_units::numeric / r.warmup_days * r.max_days) AS hi
              FROM replay.position(p_client, p_day) p
              JOIN replay.sku_state s ON s.client_id = p_client AND s.sku = p.sku
              JOIN replay.run r ON r.client_id = p_client) x
     WHERE x.ip < x.lo AND x.hi > x.ip
$$;
COMMENT ON FUNCTION replay.policy_minmax(text, date) IS 'Policy (a), min/max: the inbound to place at the end of a day.';

-- (b) forecast-driven: the engine's own stock-out forecast (the forecasting issue's
-- backorder.stockout_risk_at, the query behind stockout_forecast): its reorder point (demand over
-- the lead time plus safety stock for the client's service level, 95% by default) and its order
-- rule (when the position is at or below the reorder point, order up to it plus review_days of
-- forecast demand, 30 by default).  The forecast is refreshed once a week for the whole catalog
-- (one pass over the order lines, as of the next morning); every evening the SKUs ordered that
-- day are compared with their cached reorder point.  A SKU with less than warmup_days of history
-- (a new product: its forecast would rest on a few days, one big order can make it a thousand
-- times too high) follows the min/max warm-up rule instead, so both policies start alike.

CREATE TABLE replay.forecast_state (
    client_id      text NOT NULL,
    sku            text NOT NULL,
    as_of          date NOT NULL,
    method         text,
    history_days   integer NOT NULL,
    daily_demand   float8 NOT NULL,
    reorder_point  float8 NOT NULL,
    review_days    integer NOT NULL,
    PRIMARY KEY (client_id, sku)
);
COMMENT ON TABLE replay.forecast_state IS 'forecast policy: per SKU, the engine''s forecast as of the last weekly refresh (method, days of history, daily demand, reorder point) and the review period of the order quantity.';

CREATE FUNCTION replay.forecast_refresh(p_client text, p_day date) RETURNS integer
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    v_last    date;
    v_n       integer := 0;
    v_review  integer;
BEGIN
    SELECT max(f.as_of) INTO v_last FROM replay.forecast_state f WHERE f.client_id = p_client;
    IF v_last IS NOT NULL AND p_day + 1 < v_last + 7 THEN
        RETURN 0;
    END IF;
    SELECT coalesce((SELECT cs.review_days FROM backorder.client_forecast_setting cs
                      WHERE cs.client_id = p_client), 30) INTO v_review;
    -- as of tomorrow: today's orders are history, inbound placed now is expected from tomorrow on
    INSERT INTO replay.forecast_state AS f (client_id, sku, as_of, method, history_days, daily_demand,
                                            reorder_point, review_days)
    SELECT r.client_id, r.sku, r.as_of, r.method, r.history_days, r.daily_demand, r.reorder_point, v_review
      FROM backorder.stockout_risk_at(p_day + 1) r
     WHERE r.client_id = p_client
    ON CONFLICT (client_id, sku) DO UPDATE
       SET as_of = excluded.as_of, method = excluded.method, history_days = excluded.history_days,
           daily_demand = excluded.daily_demand, reorder_point = excluded.reorder_point,
           review_days = excluded.review_days;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION replay.forecast_refresh(text, date) IS 'forecast policy: refreshes the cached forecast of every SKU when the last refresh is a week old.  Returns the SKUs refreshed (0: not due).';

CREATE FUNCTION replay.policy_forecast(p_client text, p_day date)
RETURNS TABLE (sku text, qty bigint) LANGUAGE sql STABLE SET jit = off AS $$
    SELECT x.sku, ceil(x.hi - x.ip)::bigint
      FROM (SELECT p.sku, p.available - p.waiting + p.inbound AS ip,
                   CASE WHEN f.history_days >= r.warmup_days THEN f.reorder_point
                        ELSE ceil(s.warm_units::numeric / r.warmup_days * r.min_days) - 1 END AS rop,
                   CASE WHEN f.history_days >= r.warmup_days THEN f.reorder_point + f.daily_demand * f.review_days
                        ELSE ceil(s.warm_units::numeric / r.warmup_days * r.max_days) END AS hi
              FROM replay.position(p_client, p_day) p
              JOIN replay.sku_state s ON s.client_id = p_client AND s.sku = p.sku
              JOIN replay.run r ON r.client_id = p_client
              LEFT JOIN replay.forecast_state f ON f.client_id = p_client AND f.sku = p.sku) x
     WHERE x.ip <= x.rop AND ceil(x.hi - x.ip) > 0
$$;
COMMENT ON FUNCTION replay.policy_forecast(text, date) IS 'Policy (b), forecast-driven: the inbound to place at the end of a day, from the cached engine forecast (the min/max warm-up rule for SKUs with less than warmup_days of history).';

-- ---------------------------------------------------------------------------------------------
-- The replay: replay.start (client, catalog), replay.day for each trading day, replay.finish.
-- demo/replay issues one CALL per day, so that the server's statistics reach autovacuum between
-- days (a backend publishes them only when idle) and VACUUM can run between days; replay.replay()
-- runs the whole range in one CALL.  p_commit: one transaction per step (the demo); false:
-- everything in the caller's transaction (the test, under SET CONSTRAINTS ALL IMMEDIATE: each
-- statement is then evaluated at its end, as each transaction would be at its commit).

CREATE PROCEDURE replay.start(p_client text, p_policy text, p_from date, p_to date,
                              p_commit boolean DEFAULT true)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO replay.run (client_id, policy, from_day, to_day, started)
    VALUES (p_client, p_policy, p_from, p_to, clock_timestamp());
    PERFORM set_config('backorder.now', (p_from::timestamp AT TIME ZONE 'UTC')::text, false);
    INSERT INTO backorder.client (client_id, name, sla_hours)
    SELECT p_client, 'Online Retail replay, ' || p_policy || ' policy', r.sla_hours
      FROM replay.run r WHERE r.client_id = p_client;
    INSERT INTO backorder.location (location_id, name, priority) VALUES ('uk', 'UK warehouse', 1)
    ON CONFLICT DO NOTHING;
    -- the catalog: every product code ordered or returned in the replayed days
    INSERT INTO backorder.sku (client_id, sku, lead_time_days)
    SELECT p_client, x.sku, r.lead_time_days
      FROM (SELECT l.sku FROM replay.line_src l WHERE l.day BETWEEN p_from AND p_to
            UNION SELECT t.sku FROM replay.return_src t WHERE t.day BETWEEN p_from AND p_to) x,
           replay.run r
     WHERE r.client_id = p_client
     ORDER BY x.sku;
    ANALYZE backorder.sku;
    IF p_commit THEN COMMIT; END IF;
END $$;
COMMENT ON PROCEDURE replay.start(text, text, date, date, boolean) IS
    'Starts a replay: its run row, a new client p_client (one per policy), warehouse uk, the catalog of the replayed days.';

CREATE FUNCTION replay.days(p_from date, p_to date) RETURNS SETOF date LANGUAGE sql STABLE AS $$
    SELECT d FROM (SELECT day AS d FROM replay.order_src UNION SELECT day FROM replay.return_src) x
     WHERE d BETWEEN p_from AND p_to ORDER BY d
$$;
COMMENT ON FUNCTION replay.days(date, date) IS 'The trading days (days with orders or returns) between two dates, in order.';

CREATE PROCEDURE replay.day(p_client text, p_day date, p_commit boolean DEFAULT true)
LANGUAGE plpgsql AS $$
DECLARE
    v_policy  text;
    v_at      timestamptz;
    v_t       timestamptz;
    v_prof    numeric[] := '{0,0,0,0,0}';   -- seconds: receive, intake, ship, restock, snapshot
    v_shipped integer;
    v_rows    integer;
    v_units   bigint;
    v_lines   bigint;
    v_stats   bigint;
BEGIN
    -- the set queries below are cheap: JIT compilation would cost more than they do; and
    -- everything is in memory (random_page_cost = 1.1 lets the planner probe indexes)
    PERFORM set_config('jit', 'off', false);
    PERFORM set_config('random_page_cost', '1.1', false);
    SELECT r.policy INTO STRICT v_policy FROM replay.run r WHERE r.client_id = p_client;

    -- 06:00: inbound due today (or earlier, on a closed day) is received
    v_t := clock_timestamp();
    PERFORM set_config('backorder.now', ((p_day + time '06:00') AT TIME ZONE 'UTC')::text, false);
    -- (the dock receives the day's trucks in one call: one receipt per row, in stock key order)
    PERFORM backorder.receive_inbounds(ARRAY(
        SELECT i.inbound_id FROM backorder.inbound i
         WHERE i.client_id = p_client AND i.received_at IS NULL AND i.expected_at <= p_day));
    IF p_commit THEN COMMIT; END IF;
    v_prof[1] := extract(epoch FROM clock_timestamp() - v_t);

    -- the day's returns and orders, one transaction per timestamp, in time order
    v_t := clock_timestamp();
    FOR v_at IN SELECT a FROM (SELECT placed_at AS a FROM replay.order_src WHERE day = p_day
                               UNION SELECT at FROM replay.return_src WHERE day = p_day) x
                 ORDER BY a LOOP
        PERFORM set_config('backorder.now', v_at::text, false);
        INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta, reference)
        SELECT p_client, t.sku, 'uk', 'return', t.qty, 0, t.invoice
          FROM replay.return_src t WHERE t.at = v_at ORDER BY t.sku, t.seq;
        WITH o AS (
            INSERT INTO backorder.orders (client_id, order_id, placed_at, location_id)
            SELECT p_client, s.invoice, s.placed_at, 'uk' FROM replay.order_src s
             WHERE s.placed_at = v_at ORDER BY s.invoice
            RETURNING order_id),
        l AS (
            INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, unit_price)
            SELECT p_client, l.invoice, l.line_no, l.sku, l.qty, l.unit_price
              FROM replay.line_src l
             WHERE l.placed_at = v_at AND l.invoice IN (SELECT order_id FROM o)
             ORDER BY l.invoice, l.line_no
            RETURNING 1)
        INSERT INTO replay.open_order (client_id, order_id)
        SELECT p_client, o.order_id FROM o WHERE (SELECT count(*) FROM l) >= 0;
        IF p_commit THEN COMMIT; END IF;      -- intake: the engine evaluates the orders here
    END LOOP;
    v_prof[2] := extract(epoch FROM clock_timestamp() - v_t);

    -- 23:00: every ready order ships, as one wave (backorder.ship_orders: the packing
    -- station confirms the day's wave in one call)
    v_t := clock_timestamp();
    PERFORM set_config('backorder.now', ((p_day + time '23:00') AT TIME ZONE 'UTC')::text, false);
    SELECT backorder.ship_orders(p_client, coalesce(array_agg(o.order_id ORDER BY o.placed_at, o.order_id), '{}'))
      INTO v_shipped
      FROM replay.open_order oo
      JOIN backorder.orders o ON o.client_id = oo.client_id AND o.order_id = oo.order_id
     WHERE oo.client_id = p_client AND o.status = 'ready';
    DELETE FROM replay.open_order oo USING backorder.orders o
     WHERE oo.client_id = p_client AND o.client_id = oo.client_id AND o.order_id = oo.order_id
       AND o.status IN ('shipped', 'cancelled');
    IF p_commit THEN COMMIT; END IF;
    v_prof[3] := extract(epoch FROM clock_timestamp() - v_t);

    -- restock: the policy places inbound rows, expected in the SKU's lead time
    v_t := clock_timestamp();
    INSERT INTO replay.sku_state AS s (client_id, sku, first_day, warm_units)
    SELECT p_client, l.sku, p_day, sum(l.qty) FROM replay.line_src l
     WHERE l.day = p_day GROUP BY l.sku
    ON CONFLICT (client_id, sku) DO UPDATE SET warm_units = s.warm_units + excluded.warm_units
     WHERE p_day - s.first_day < (SELECT r.warmup_days FROM replay.run r WHERE r.client_id = p_client);
    IF v_policy = 'forecast' THEN
        PERFORM replay.forecast_refresh(p_client, p_day);
    END IF;
    WITH placed AS (
        INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at, reference)
        SELECT p_client, p.sku, 'uk', p.qty, p_day + coalesce(k.lead_time_days, 14),
               'PO-' || to_char(p_day, 'YYYYMMDD')
          FROM (SELECT * FROM replay.policy_minmax(p_client, p_day) WHERE v_policy = 'minmax'
                UNION ALL
                SELECT * FROM replay.policy_forecast(p_client, p_day) WHERE v_policy = 'forecast') p
          JOIN backorder.sku k ON k.client_id = p_client AND k.sku = p.sku
         ORDER BY p.sku
        RETURNING qty)
    SELECT count(*), coalesce(sum(qty), 0) INTO v_rows, v_units FROM placed;
    v_prof[4] := extract(epoch FROM clock_timestamp() - v_t);

    -- the day's snapshot
    v_t := clock_timestamp();
    INSERT INTO replay.daily (client_id, day, orders_placed, held_orders, shipped, on_hand,
                              stockout_skus, inbound_rows, inbound_units)
    SELECT p_client, p_day,
           (SELECT count(*) FROM replay.order_src s WHERE s.day = p_day),
           (SELECT count(*) FROM replay.open_order oo
              JOIN backorder.orders o ON o.client_id = oo.client_id AND o.order_id = oo.order_id
             WHERE oo.client_id = p_client AND o.status = 'needs_review'),
           v_shipped,
           (SELECT coalesce(sum(s.on_hand), 0) FROM backorder.stock s WHERE s.client_id = p_client),
           (SELECT count(DISTINCT l.sku) FROM backorder.order_line l
             WHERE l.client_id = p_client AND l.location_id = 'uk' AND l.waiting),
           v_rows, v_units;
    -- The tables grow from empty.  The engine keeps its plans per backend; planned on the
    -- statistics of near-empty tables, some scan a client's whole order_line where an index
    -- probe would do (see the note).  ANALYZE invalidates them: done each time the order lines
    -- doubled, which autovacuum would do too, but later.
    SELECT r.lines + (SELECT count(*) FROM replay.line_src l WHERE l.day = p_day), r.lines_analyzed
      INTO v_lines, v_stats FROM replay.run r WHERE r.client_id = p_client;
    IF v_lines >= 2 * v_stats + 1000 THEN
        ANALYZE backorder.orders; ANALYZE backorder.order_line; ANALYZE backorder.stock;
        ANALYZE backorder.order_hold; ANALYZE backorder.inbound;
        v_stats := v_lines;
    END IF;
    v_prof[5] := extract(epoch FROM clock_timestamp() - v_t);
    UPDATE replay.run r
       SET lines = v_lines, lines_analyzed = v_stats,
           profile = (SELECT jsonb_object_agg(k.step, round(coalesce((r.profile ->> k.step)::numeric, 0) + k.secs, 3))
                        FROM unnest(ARRAY['receive', 'intake', 'ship', 'restock', 'snapshot'], v_prof) AS k (step, secs))
     WHERE r.client_id = p_client;
    IF p_commit THEN COMMIT; END IF;
END $$;
COMMENT ON PROCEDURE replay.day(text, date, boolean) IS
    'Replays one trading day for a started run: 06:00 receipts, the day''s returns and orders in time order, 23:00 shipping, restocking, snapshot.';

CREATE PROCEDURE replay.finish(p_client text, p_commit boolean DEFAULT true)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE replay.run r SET finished = clock_timestamp(),
           seconds = round(extract(epoch FROM clock_timestamp() - r.started)::numeric, 2)
     WHERE r.client_id = p_client;
    IF p_commit THEN COMMIT; END IF;
END $$;
COMMENT ON PROCEDURE replay.finish(text, boolean) IS 'Ends a replay: elapsed time.';

-- A line at the start of each month while a replay runs, so a long run shows it is moving.
-- Reads only what the replay wrote; decides nothing.
CREATE PROCEDURE replay.progress(p_client text, p_day date)
LANGUAGE plpgsql AS $$
DECLARE
    v_orders bigint;
    v_held bigint;
    v_seconds numeric;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE o.status = 'needs_review')
      INTO v_orders, v_held
      FROM backorder.orders o WHERE o.client_id = p_client;
    SELECT round(extract(epoch FROM clock_timestamp() - r.started)) INTO v_seconds
      FROM replay.run r WHERE r.client_id = p_client;
    RAISE NOTICE '% %: % orders placed so far, % held now (% s)',
        p_client, to_char(p_day, 'YYYY-MM'), v_orders, v_held, v_seconds;
END $$;
COMMENT ON PROCEDURE replay.progress(text, date) IS 'Prints a progress line (orders so far, held now, seconds) as a replay enters a new month.';

CREATE PROCEDURE replay.replay(p_client text, p_policy text, p_from date, p_to date,
                               p_commit boolean DEFAULT true)
LANGUAGE plpgsql AS $$
DECLARE
    v_day date;
BEGIN
    CALL replay.start(p_client, p_policy, p_from, p_to, p_commit);
    FOR v_day IN SELECT d FROM replay.days(p_from, p_to) AS d LOOP
        CALL replay.day(p_client, v_day, p_commit);
    END LOOP;
    CALL replay.finish(p_client, p_commit);
END $$;
COMMENT ON PROCEDURE replay.replay(text, text, date, date, boolean) IS
    'Replays the loaded days p_from..p_to for a new client p_client under a restocking policy (minmax or forecast), in one CALL.';

-- ---------------------------------------------------------------------------------------------
-- KPIs: one row per run.

CREATE FUNCTION replay.kpis()
RETURNS TABLE (policy text, orders bigint, lines bigint, pct_ready_at_intake numeric,
               pct_ever_held numeric, hold_p50_days numeric, hold_p90_days numeric,
               hold_p99_days numeric, pct_sla_met numeric, mean_units_on_hand numeric,
               stockout_sku_days bigint, seconds numeric, lines_per_second numeric)
LANGUAGE sql STABLE AS $$
    WITH r AS (
        SELECT r.*, ((r.to_day + time '23:00') AT TIME ZONE 'UTC') AS end_at FROM replay.run r),
    o AS (
        SELECT r.client_id, o.order_id, o.placed_at, o.ready_at, o.shipped_at, o.status,
               (SELECT e.status FROM backorder.order_event e
                 WHERE e.client_id = o.client_id AND e.order_id = o.order_id AND e.event = 'placed'
                 ORDER BY e.event_id LIMIT 1) AS intake_status,
               (SELECT min(e.created_at) FROM backorder.order_event e
                 WHERE e.client_id = o.client_id AND e.order_id = o.order_id AND e.event = 'held') AS held_at,
               r.end_at, r.sla_hours
          FROM r JOIN backorder.orders o ON o.client_id = r.client_id),
    per AS (
        SELECT o.client_id, count(*) AS orders,
               round(100.0 * count(*) FILTER (WHERE o.intake_status = 'ready') / count(*), 1) AS ready_pct,
               round(100.0 * count(*) FILTER (WHERE o.held_at IS NOT NULL) / count(*), 1) AS held_pct,
               percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY
                   extract(epoch FROM coalesce(o.ready_at, o.end_at) - o.held_at))
                   FILTER (WHERE o.held_at IS NOT NULL) AS hold_s,
               round(100.0 * count(*) FILTER (WHERE o.shipped_at <= o.placed_at + make_interval(hours => o.sla_hours))
                     / nullif(count(*) FILTER (WHERE o.placed_at + make_interval(hours => o.sla_hours) <= o.end_at
                                                  OR o.shipped_at IS NOT NULL), 0), 1) AS sla_pct
          FROM o GROUP BY o.client_id)
    SELECT r.policy, per.orders,
           (SELECT count(*) FROM backorder.order_line l WHERE l.client_id = r.client_id),
           per.ready_pct, per.held_pct,
           round(per.hold_s[1]::numeric / 86400, 1), round(per.hold_s[2]::numeric / 86400, 1),
           round(per.hold_s[3]::numeric / 86400, 1), per.sla_pct,
           (SELECT round(avg(d.on_hand), 0) FROM replay.daily d WHERE d.client_id = r.client_id),
           (SELECT sum(d.stockout_skus) FROM replay.daily d WHERE d.client_id = r.client_id),
           r.seconds,
           round((SELECT count(*) FROM backorder.order_line l WHERE l.client_id = r.client_id) / nullif(r.seconds, 0), 0)
      FROM r JOIN per ON per.client_id = r.client_id
     ORDER BY r.policy = 'forecast', r.started
$$;
COMMENT ON FUNCTION replay.kpis() IS 'One row per replay run: the KPI table the demo prints (see demo/replay for the definitions).';
