-- bench/replay/floor.sql — the floor of the real-year replay: the rows the contract writes for
-- every order line, and nothing else, as bare statements into copies of the engine's tables
-- (same columns, defaults, CHECKs and indexes; no triggers, no foreign keys), in the replay's
-- transactions (one per timestamp at intake, one per day at shipping).  Needs demo/replay.sql
-- loaded and replay.prepare() done.
--
-- Per order line: the app's INSERT, the allocation (allocated, warehouse and queue position
-- written once, as if every line were allocated in full at intake), the shipment's ledger row
-- and the line marked shipped.  Per order: the app's INSERT, its status written at intake and
-- at shipping, one event each time.  The returns' ledger rows.  Left out, so this is a lower
-- bound of what any engine keeping the contract writes: stock rows, holds (86 % of the
-- year's orders are held at least once and written again when released), receipts and
-- inbound, demand history, event details, the reads that decide anything, foreign keys.
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS replay_floor CASCADE;
CREATE SCHEMA replay_floor;
CREATE TABLE replay_floor.orders (LIKE backorder.orders INCLUDING ALL);
CREATE TABLE replay_floor.order_line (LIKE backorder.order_line INCLUDING ALL);
CREATE TABLE replay_floor.stock_movement (LIKE backorder.stock_movement INCLUDING ALL);
CREATE TABLE replay_floor.order_event (LIKE backorder.order_event INCLUDING ALL);
-- the tables grow from empty: ANALYZEd each time the lines doubled, as replay.day does for
-- the engine's (plans made on empty tables scan a client's whole table where an index probe
-- would do: the floor's cost then grows with its size; a fresh-user trial found it)
CREATE TABLE replay_floor.progress (lines bigint NOT NULL, lines_analyzed bigint NOT NULL);
INSERT INTO replay_floor.progress VALUES (0, 0);

CREATE PROCEDURE replay_floor.day(p_client text, p_day date)
LANGUAGE plpgsql AS $$
DECLARE
    v_at timestamptz;
BEGIN
    PERFORM set_config('jit', 'off', false);
    FOR v_at IN SELECT a FROM (SELECT placed_at AS a FROM replay.order_src WHERE day = p_day
                               UNION SELECT at FROM replay.return_src WHERE day = p_day) x
                 ORDER BY a LOOP
        INSERT INTO replay_floor.stock_movement (client_id, sku, location_id, kind, qty, delta, reference, created_at)
        SELECT p_client, t.sku, 'uk', 'return', t.qty, t.qty, t.invoice, v_at
          FROM replay.return_src t WHERE t.at = v_at ORDER BY t.sku, t.seq;
        INSERT INTO replay_floor.orders (client_id, order_id, placed_at, location_id)
        SELECT p_client, s.invoice, s.placed_at, 'uk' FROM replay.order_src s
         WHERE s.placed_at = v_at ORDER BY s.invoice;
        INSERT INTO replay_floor.order_line (client_id, order_id, line_no, sku, qty, unit_price)
        SELECT p_client, l.invoice, l.line_no, l.sku, l.qty, l.unit_price FROM replay.line_src l
         WHERE l.placed_at = v_at ORDER BY l.invoice, l.line_no;
        UPDATE replay_floor.order_line l
           SET allocated = l.qty, location_id = 'uk', priority = 0, placed_at = v_at, waiting = false
          FROM replay.order_src s
         WHERE s.placed_at = v_at AND l.client_id = p_client AND l.order_id = s.invoice;
        UPDATE replay_floor.orders o SET status = 'ready', ready_at = v_at
          FROM replay.order_src s
         WHERE s.placed_at = v_at AND o.client_id = p_client AND o.order_id = s.invoice;
        INSERT INTO replay_floor.order_event (client_id, order_id, event, status, created_at)
        SELECT p_client, s.invoice, 'placed', 'ready', v_at FROM replay.order_src s
         WHERE s.placed_at = v_at ORDER BY s.invoice;
        COMMIT;
    END LOOP;

    -- 23:00: the day's orders ship
    v_at := (p_day + time '23:00') AT TIME ZONE 'UTC';
    INSERT INTO replay_floor.stock_movement (client_id, sku, location_id, kind, qty, delta, reference, order_id, created_at)
    SELECT p_client, l.sku, 'uk', 'shipment', -l.allocated, -l.allocated, l.order_id, l.order_id, v_at
      FROM replay.order_src s
      JOIN replay_floor.order_line l ON l.client_id = p_client AND l.order_id = s.invoice
     WHERE s.day = p_day ORDER BY s.placed_at, s.invoice, l.line_no;
    UPDATE replay_floor.order_line l SET shipped = l.allocated, allocated = 0
      FROM replay.order_src s
     WHERE s.day = p_day AND l.client_id = p_client AND l.order_id = s.invoice;
    UPDATE replay_floor.orders o SET status = 'shipped', shipped_at = v_at
      FROM replay.order_src s
     WHERE s.day = p_day AND o.client_id = p_client AND o.order_id = s.invoice;
    INSERT INTO replay_floor.order_event (client_id, order_id, event, status, created_at)
    SELECT p_client, s.invoice, 'shipped', 'shipped', v_at FROM replay.order_src s
     WHERE s.day = p_day ORDER BY s.placed_at, s.invoice;
    UPDATE replay_floor.progress
       SET lines = lines + (SELECT count(*) FROM replay.line_src l WHERE l.day = p_day);
    IF (SELECT lines >= 2 * lines_analyzed + 1000 FROM replay_floor.progress) THEN
        ANALYZE replay_floor.orders; ANALYZE replay_floor.order_line;
        ANALYZE replay_floor.stock_movement; ANALYZE replay_floor.order_event;
        UPDATE replay_floor.progress SET lines_analyzed = lines;
    END IF;
    COMMIT;
END $$;
