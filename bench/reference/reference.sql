-- bench/reference/reference.sql — the PL/pgSQL peer of pg_backorder, for the benchmark only.
--
-- A straightforward implementation of the same intake and release logic, written the way a
-- competent user would write it without the extension: its own copy of the tables in schema
-- bo_ref, a deferred constraint trigger that evaluates each new order at commit, and a
-- receive() function that serves the waiting-line queue head in release order.  Loaded by
-- bench/run only; never installed with the extension, and it does not depend on it.
--
-- What it does (the same rules as the engine, reserve policy):
--   intake   at commit, per new order: choose its warehouse (the first by priority that can
--            fill the whole order, else the one with most of its units available, else the
--            preferred one), lock its stock rows in key order, give each line what is
--            available, mark short lines as waiting (with priority and placed_at copied so
--            the queue index is in release order), open out_of_stock / discontinued /
--            unknown_sku holds, set status ready or needs_review, write 'placed' (and 'held')
--            events.  An order without lines is refused.
--   receive  writes a ledger row, raises on_hand under the stock row's lock, walks the
--            queue head (partial index, release order) giving units line by line; for each
--            line that gained units, settles its order: closes the out_of_stock hold when
--            no line is short, sets ready when no hold is open, writes 'released',
--            'hold_released' or 'allocated'.  The queue is read with FOR UPDATE (the loop
--            fetches, and so locks, a few rows at a time): a line edited or cancelled by a
--            concurrent transaction is waited for and re-read, never served from a stale need.
-- What it leaves out (the benchmark does not exercise it): the complete_only policy, line
-- edits (so it needs no trigger on order_line: one deferred trigger per order, where the
-- engine fires one per order and one per line), cancellations, shipping, counts and
-- take-back, the guard triggers that reject writes to engine columns, the SLA clock, NOTIFY
-- of events, and the errhints.  Each omission only makes the reference cheaper.

DROP SCHEMA IF EXISTS bo_ref CASCADE;
CREATE SCHEMA bo_ref;

CREATE TABLE bo_ref.client (
    client_id          text PRIMARY KEY,
    name               text,
    sla_hours          integer NOT NULL DEFAULT 24,
    allocation_policy  text NOT NULL DEFAULT 'reserve' CHECK (allocation_policy IN ('reserve', 'complete_only')),
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bo_ref.location (
    location_id  text PRIMARY KEY,
    name         text,
    priority     integer NOT NULL DEFAULT 100
);

CREATE TABLE bo_ref.sku (
    client_id       text NOT NULL REFERENCES bo_ref.client,
    sku             text NOT NULL,
    description     text,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'discontinued')),
    backorderable   boolean NOT NULL DEFAULT true,
    lead_time_days  integer,
    safety_stock    integer NOT NULL DEFAULT 0,
    unit_price      numeric(12,2),
    PRIMARY KEY (client_id, sku)
);

CREATE TABLE bo_ref.orders (
    client_id     text NOT NULL REFERENCES bo_ref.client,
    order_id      text NOT NULL,
    placed_at     timestamptz NOT NULL DEFAULT now(),
    priority      integer NOT NULL DEFAULT 0,
    location_id   text REFERENCES bo_ref.location,
    status        text NOT NULL DEFAULT 'new'
                  CHECK (status IN ('new', 'needs_review', 'ready', 'shipped', 'cancelled')),
    held_since    timestamptz,
    ready_at      timestamptz,
    shipped_at    timestamptz,
    cancelled_at  timestamptz,
    PRIMARY KEY (client_id, order_id)
);

CREATE TABLE bo_ref.order_line (
    client_id    text NOT NULL,
    order_id     text NOT NULL,
    line_no      integer NOT NULL CHECK (line_no > 0),
    sku          text,
    qty          integer NOT NULL CHECK (qty > 0),
    unit_price   numeric(12,2),
    allocated    integer NOT NULL DEFAULT 0 CHECK (allocated >= 0 AND allocated <= qty),
    shipped      integer NOT NULL DEFAULT 0,
    location_id  text REFERENCES bo_ref.location,
    priority     integer,
    placed_at    timestamptz,
    waiting      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (client_id, order_id, line_no),
    FOREIGN KEY (client_id, order_id) REFERENCES bo_ref.orders
);
-- The queue: waiting lines per SKU and warehouse in release order.
CREATE INDEX order_line_queue ON bo_ref.order_line
    (client_id, sku, location_id, priority DESC, placed_at, order_id, line_no) WHERE waiting;

CREATE TABLE bo_ref.stock (
    client_id    text NOT NULL,
    sku          text NOT NULL,
    location_id  text NOT NULL REFERENCES bo_ref.location,
    on_hand      bigint NOT NULL DEFAULT 0,
    allocated    bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz,
    PRIMARY KEY (client_id, sku, location_id),
    FOREIGN KEY (client_id, sku) REFERENCES bo_ref.sku
);

CREATE TABLE bo_ref.stock_movement (
    movement_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id    text NOT NULL,
    sku          text NOT NULL,
    location_id  text NOT NULL REFERENCES bo_ref.location,
    kind         text NOT NULL CHECK (kind IN ('receipt', 'return', 'adjustment', 'count', 'shipment')),
    qty          bigint NOT NULL,
    delta        bigint NOT NULL,
    reason       text,
    reference    text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (client_id, sku) REFERENCES bo_ref.sku
);

CREATE TABLE bo_ref.order_hold (
    hold_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id    text NOT NULL,
    order_id     text NOT NULL,
    reason       text NOT NULL,
    note         text,
    created_at   timestamptz NOT NULL,
    released_at  timestamptz,
    FOREIGN KEY (client_id, order_id) REFERENCES bo_ref.orders
);
CREATE UNIQUE INDEX order_hold_open ON bo_ref.order_hold (client_id, order_id, reason) WHERE released_at IS NULL;

CREATE TABLE bo_ref.order_event (
    event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   text NOT NULL,
    order_id    text NOT NULL,
    event       text NOT NULL,
    status      text NOT NULL,
    created_at  timestamptz NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX order_event_order ON bo_ref.order_event (client_id, order_id, event_id);

-- ---- intake: a deferred constraint trigger, once per new order, at commit ----

CREATE FUNCTION bo_ref.intake() RETURNS trigger
LANGUAGE plpgsql SET search_path = bo_ref, pg_catalog AS $$
DECLARE
    v_loc       text := NEW.location_id;
    v_line      record;
    v_avail     bigint;
    v_take      integer;
    v_lines     integer := 0;
    v_reasons   text[] := '{}';
    v_opened    bigint[] := '{}';
    v_hold      bigint;
    v_reason    text;
    v_status    text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM order_line WHERE client_id = NEW.client_id AND order_id = NEW.order_id) THEN
        RAISE EXCEPTION 'order "%" of client "%" has no lines', NEW.order_id, NEW.client_id
            USING ERRCODE = 'check_violation';
    END IF;

    -- The warehouse: first by priority that fills the whole order, else most units, else preferred.
    IF v_loc IS NULL THEN
        SELECT l.location_id INTO v_loc
          FROM location l
          CROSS JOIN LATERAL (
                SELECT bool_and(coalesce(s.on_hand - s.allocated, 0) >= n.need) AS fills,
                       sum(least(greatest(coalesce(s.on_hand - s.allocated, 0), 0), n.need)) AS units
                  FROM (SELECT ol.sku, sum(ol.qty) AS need
                          FROM order_line ol JOIN sku k ON k.client_id = ol.client_id AND k.sku = ol.sku
                         WHERE ol.client_id = NEW.client_id AND ol.order_id = NEW.order_id
                         GROUP BY ol.sku) n
                  LEFT JOIN stock s ON s.client_id = NEW.client_id AND s.sku = n.sku
                                   AND s.location_id = l.location_id) x
         ORDER BY x.fills DESC, CASE WHEN x.fills THEN l.priority END, x.units DESC NULLS LAST,
                  l.priority, l.location_id
         LIMIT 1;
        IF v_loc IS NULL THEN
            RAISE EXCEPTION 'no warehouse' USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;

    -- Stock rows of the order's known SKUs: create missing ones, then lock them in key order.
    INSERT INTO stock (client_id, sku, location_id)
    SELECT DISTINCT ol.client_id, ol.sku, v_loc
      FROM order_line ol JOIN sku k ON k.client_id = ol.client_id AND k.sku = ol.sku
     WHERE ol.client_id = NEW.client_id AND ol.order_id = NEW.order_id
       AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.client_id = ol.client_id AND s.sku = ol.sku
                                               AND s.location_id = v_loc)
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM stock s
     WHERE s.client_id = NEW.client_id AND s.location_id = v_loc
       AND s.sku IN (SELECT ol.sku FROM order_line ol
                      WHERE ol.client_id = NEW.client_id AND ol.order_id = NEW.order_id)
     ORDER BY s.sku
       FOR UPDATE;

    -- Each line takes what is available (reserve: nobody waits where units are available).
    FOR v_line IN
        SELECT ol.line_no, ol.sku, ol.qty, k.sku IS NOT NULL AS known,
               coalesce(k.status = 'active' AND k.backorderable, false) AS restockable
          FROM order_line ol
          LEFT JOIN sku k ON k.client_id = ol.client_id AND k.sku = ol.sku
         WHERE ol.client_id = NEW.client_id AND ol.order_id = NEW.order_id
         ORDER BY ol.line_no
    LOOP
        v_lines := v_lines + 1;
        IF NOT v_line.known THEN
            v_reasons := v_reasons || 'unknown_sku'::text;
            CONTINUE;
        END IF;
        SELECT on_hand - allocated INTO v_avail
          FROM stock WHERE client_id = NEW.client_id AND sku = v_line.sku AND location_id = v_loc;
        v_take := least(greatest(v_avail, 0), v_line.qty);
        IF v_take > 0 THEN
            UPDATE stock SET allocated = allocated + v_take, updated_at = now()
             WHERE client_id = NEW.client_id AND sku = v_line.sku AND location_id = v_loc;
        END IF;
        UPDATE order_line
           SET allocated = v_take, location_id = v_loc, waiting = v_take < qty,
               priority = NEW.priority, placed_at = NEW.placed_at
         WHERE client_id = NEW.client_id AND order_id = NEW.order_id AND line_no = v_line.line_no;
        IF v_take < v_line.qty THEN
            v_reasons := v_reasons || CASE WHEN v_line.restockable THEN 'out_of_stock' ELSE 'discontinued' END;
        END IF;
    END LOOP;

    -- Holds, status, events.
    FOREACH v_reason IN ARRAY ARRAY['unknown_sku', 'discontinued', 'out_of_stock'] LOOP
        IF v_reason = ANY (v_reasons) THEN
            INSERT INTO order_hold (client_id, order_id, reason, created_at)
            VALUES (NEW.client_id, NEW.order_id, v_reason, now())
            RETURNING hold_id INTO v_hold;
            v_opened := v_opened || v_hold;
        END IF;
    END LOOP;
    v_status := CASE WHEN cardinality(v_opened) > 0 THEN 'needs_review' ELSE 'ready' END;
    UPDATE orders
       SET status = v_status,
           held_since = CASE WHEN v_status = 'needs_review' THEN now() END,
           ready_at = CASE WHEN v_status = 'ready' THEN now() END
     WHERE client_id = NEW.client_id AND order_id = NEW.order_id;
    INSERT INTO order_event (client_id, order_id, event, status, created_at, detail)
    VALUES (NEW.client_id, NEW.order_id, 'placed', v_status, now(),
            jsonb_build_object('lines', v_lines, 'location_id', v_loc));
    IF v_status = 'needs_review' THEN
        INSERT INTO order_event (client_id, order_id, event, status, created_at, detail)
        VALUES (NEW.client_id, NEW.order_id, 'held', v_status, now(),
                jsonb_build_object('opened', to_jsonb(v_opened),
                                   'reasons', (SELECT to_jsonb(array_agg(DISTINCT r)) FROM unnest(v_reasons) r)));
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER intake AFTER INSERT ON bo_ref.orders
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bo_ref.intake();

-- ---- settling one order after its lines gained units ----

CREATE FUNCTION bo_ref.settle_allocated(p_client_id text, p_order_id text, p_changes jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = bo_ref, pg_catalog AS $$
DECLARE
    v_closed  bigint;
    v_status  text;
BEGIN
    IF EXISTS (SELECT 1 FROM order_line
                WHERE client_id = p_client_id AND order_id = p_order_id AND allocated < qty) THEN
        INSERT INTO order_event (client_id, order_id, event, status, created_at, detail)
        VALUES (p_client_id, p_order_id, 'allocated', 'needs_review', now(),
                jsonb_build_object('changes', p_changes));
        RETURN;
    END IF;
    UPDATE order_hold SET released_at = now()
     WHERE client_id = p_client_id AND order_id = p_order_id
       AND reason = 'out_of_stock' AND released_at IS NULL
    RETURNING hold_id INTO v_closed;
    IF EXISTS (SELECT 1 FROM order_hold
                WHERE client_id = p_client_id AND order_id = p_order_id AND released_at IS NULL) THEN
        v_status := 'needs_review';
    ELSE
        v_status := 'ready';
        UPDATE orders SET status = 'ready', held_since = NULL, ready_at = now()
         WHERE client_id = p_client_id AND order_id = p_order_id;
    END IF;
    INSERT INTO order_event (client_id, order_id, event, status, created_at, detail)
    VALUES (p_client_id, p_order_id,
            CASE WHEN v_status = 'ready' THEN 'released' ELSE 'hold_released' END, v_status, now(),
            jsonb_build_object('closed', CASE WHEN v_closed IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(v_closed) END,
                               'changes', p_changes));
END $$;

-- ---- receive: a receipt serves the queue head in release order ----

CREATE FUNCTION bo_ref.receive(p_client_id text, p_sku text, p_location_id text,
                               p_qty bigint, p_reference text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SET search_path = bo_ref, pg_catalog AS $$
DECLARE
    v_movement  bigint;
    v_avail     bigint;
    v_given     bigint := 0;
    v_take      integer;
    v_line      record;
BEGIN
    IF p_qty IS NULL OR p_qty <= 0 THEN
        RAISE EXCEPTION 'a receipt must bring a positive quantity' USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO stock_movement (client_id, sku, location_id, kind, qty, delta, reference)
    VALUES (p_client_id, p_sku, p_location_id, 'receipt', p_qty, p_qty, p_reference)
    RETURNING movement_id INTO v_movement;

    INSERT INTO stock (client_id, sku, location_id) VALUES (p_client_id, p_sku, p_location_id)
    ON CONFLICT DO NOTHING;
    UPDATE stock SET on_hand = on_hand + p_qty, updated_at = now()
     WHERE client_id = p_client_id AND sku = p_sku AND location_id = p_location_id
    RETURNING on_hand - allocated INTO v_avail;

    FOR v_line IN
        SELECT order_id, line_no, qty - allocated AS need
          FROM order_line
         WHERE client_id = p_client_id AND sku = p_sku AND location_id = p_location_id AND waiting
         ORDER BY priority DESC, placed_at, order_id, line_no
           FOR UPDATE
    LOOP
        EXIT WHEN v_avail <= 0;
        v_take := least(v_line.need, v_avail);
        UPDATE order_line
           SET allocated = allocated + v_take, waiting = allocated + v_take < qty
         WHERE client_id = p_client_id AND order_id = v_line.order_id AND line_no = v_line.line_no;
        v_avail := v_avail - v_take;
        v_given := v_given + v_take;
        PERFORM settle_allocated(p_client_id, v_line.order_id,
                                 jsonb_build_array(jsonb_build_object('sku', p_sku, 'location_id', p_location_id,
                                                                      'units', v_take)));
    END LOOP;

    IF v_given > 0 THEN
        UPDATE stock SET allocated = allocated + v_given
         WHERE client_id = p_client_id AND sku = p_sku AND location_id = p_location_id;
    END IF;
    RETURN v_movement;
END $$;
