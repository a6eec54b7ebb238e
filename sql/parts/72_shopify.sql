-- Shopify order ingest.  backorder.ingest_shopify_order(client_id, payload) takes the body of an
-- orders/create or orders/updated webhook and writes the order and its lines into
-- backorder.orders / backorder.order_line with plain SQL, so the engine holds or releases the
-- order at commit exactly as for any other app.  Webhooks arrive at least once and out of
-- order: backorder.shopify_order keeps, per order, the Shopify updated_at of the payload that
-- was applied, and an older or equal one changes nothing.  Ids stay text: Shopify ids exceed
-- 2^53 and must never pass through a float (payload->>'id' gives jsonb's exact digits).

CREATE TABLE backorder.shopify_order (
    client_id      text NOT NULL,
    shopify_id     text NOT NULL CHECK (shopify_id ~ '^[1-9][0-9]{0,19}$'),
    order_id       text NOT NULL,
    name           text,
    created_at     timestamptz,
    updated_at     timestamptz NOT NULL,
    cancelled_at   timestamptz,
    payload        jsonb NOT NULL,
    first_seen_at  timestamptz NOT NULL DEFAULT backorder.now(),
    last_seen_at   timestamptz NOT NULL DEFAULT backorder.now(),
    deliveries     integer NOT NULL DEFAULT 1 CHECK (deliveries > 0),
    PRIMARY KEY (client_id, shopify_id),
    UNIQUE (client_id, order_id),
    FOREIGN KEY (client_id, order_id) REFERENCES backorder.orders
);
COMMENT ON TABLE backorder.shopify_order IS 'One row per Shopify order ingested by backorder.ingest_shopify_order(): the version (Shopify updated_at) applied to backorder.orders and the raw payload.  Written only by the ingest function.';
COMMENT ON COLUMN backorder.shopify_order.client_id IS 'Tenant (the shop).';
COMMENT ON COLUMN backorder.shopify_order.shopify_id IS 'Shopify''s order id, as text (exact digits; ids exceed 2^53).';
COMMENT ON COLUMN backorder.shopify_order.order_id IS 'The engine''s order id in backorder.orders (the Shopify id as text).';
COMMENT ON COLUMN backorder.shopify_order.name IS 'Shopify''s order name shown to the merchant and the customer (e.g. #1001).';
COMMENT ON COLUMN backorder.shopify_order.created_at IS 'Shopify created_at: becomes orders.placed_at when the order is first ingested.';
COMMENT ON COLUMN backorder.shopify_order.updated_at IS 'Shopify updated_at of the applied payload: a delivery with an older or equal one changes nothing.';
COMMENT ON COLUMN backorder.shopify_order.cancelled_at IS 'Shopify cancelled_at of the applied payload (NULL: not cancelled in Shopify).';
COMMENT ON COLUMN backorder.shopify_order.payload IS 'The applied payload, as received (the order object).';
COMMENT ON COLUMN backorder.shopify_order.first_seen_at IS 'When the first delivery arrived (backorder.now()).';
COMMENT ON COLUMN backorder.shopify_order.last_seen_at IS 'When the last delivery arrived, applied or not (backorder.now()).';
COMMENT ON COLUMN backorder.shopify_order.deliveries IS 'Deliveries received for this order, duplicates and stale ones included.';

CREATE TABLE backorder.shopify_order_line (
    client_id     text NOT NULL,
    shopify_id    text NOT NULL,
    line_item_id  text NOT NULL,
    line_no       integer NOT NULL CHECK (line_no > 0),
    removed       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (client_id, shopify_id, line_item_id),
    UNIQUE (client_id, shopify_id, line_no),
    FOREIGN KEY (client_id, shopify_id) REFERENCES backorder.shopify_order
);
COMMENT ON TABLE backorder.shopify_order_line IS 'Which backorder.order_line (line_no) a Shopify line item became, so that an orders/updated payload edits the right lines.  A line number is never reused.';
COMMENT ON COLUMN backorder.shopify_order_line.client_id IS 'Tenant (the shop).';
COMMENT ON COLUMN backorder.shopify_order_line.shopify_id IS 'Shopify''s order id.';
COMMENT ON COLUMN backorder.shopify_order_line.line_item_id IS 'Shopify''s line item id, as text (or "position N" for a line item without an id).';
COMMENT ON COLUMN backorder.shopify_order_line.line_no IS 'backorder.order_line.line_no of this line item.';
COMMENT ON COLUMN backorder.shopify_order_line.removed IS 'true when a later payload dropped the item (or set its current_quantity to 0): its order line was deleted.';

SELECT pg_catalog.pg_extension_config_dump('backorder.shopify_order', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.shopify_order_line', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON backorder.shopify_order, backorder.shopify_order_line TO @extowner@;

-- Parses one timestamp field of a payload; a value that is not a timestamp is a malformed payload.
CREATE FUNCTION backorder.shopify_timestamp(p_order jsonb, p_field text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF jsonb_typeof(p_order -> p_field) IS DISTINCT FROM 'string' THEN
        IF p_order -> p_field IS NULL OR jsonb_typeof(p_order -> p_field) = 'null' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'shopify order field "%" is not a timestamp string', p_field
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s.', p_order -> p_field),
                  HINT = 'Pass the webhook body unchanged: Shopify sends ISO 8601 timestamps such as "2019-06-04T13:53:06-04:00".';
    END IF;
    -- ISO 8601 only: PostgreSQL would also read 'now', 'today', 'epoch' or 'infinity', which are
    -- not when anything happened (and 'now' is the wall clock, not backorder.now())
    IF p_order ->> p_field !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$' THEN
        RAISE EXCEPTION 'shopify order field "%" is not a timestamp: "%"', p_field, p_order ->> p_field
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the webhook body unchanged: Shopify sends ISO 8601 timestamps such as "2019-06-04T13:53:06-04:00".';
    END IF;
    BEGIN
        RETURN (p_order ->> p_field)::timestamptz;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
        RAISE EXCEPTION 'shopify order field "%" is not a timestamp: "%"', p_field, p_order ->> p_field
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the webhook body unchanged: Shopify sends ISO 8601 timestamps such as "2019-06-04T13:53:06-04:00".';
    END;
END;
$$;
COMMENT ON FUNCTION backorder.shopify_timestamp(jsonb, text) IS
    'Internal to ingest_shopify_order(): the timestamp in a field of a Shopify order, NULL when absent or null; anything else raises 22023.';

CREATE FUNCTION backorder.ingest_shopify_order(p_client_id text, p_payload jsonb)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o            jsonb := p_payload;
    v_id         text;
    v_name       text;
    v_created    timestamptz;
    v_updated    timestamptz;
    v_cancelled  timestamptz;
    v_item       jsonb;
    v_n          integer;
    v_qty        jsonb;
    v_cur        jsonb;
    v_item_id    text;
    v_ids        text[] := '{}';
    v_skus       text[] := '{}';
    v_qtys       integer[] := '{}';
    v_orig       integer[] := '{}';
    v_prices     numeric[] := '{}';
    v_live       integer := 0;
    v_row        backorder.shopify_order%ROWTYPE;
    v_status     text;
    v_next       integer;
    v_family     text[];
    v_open       text[];
    v_member     text;
BEGIN
    IF p_client_id IS NULL OR p_payload IS NULL THEN
        RAISE EXCEPTION 'ingest_shopify_order needs a client_id and a payload'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Call backorder.ingest_shopify_order(client_id, webhook_body::jsonb).';
    END IF;

    -- An Admin REST API response wraps the order: {"order": {...}}.  A webhook body does not.
    IF jsonb_typeof(o) = 'object' AND NOT o ? 'id' AND jsonb_typeof(o -> 'order') = 'object' THEN
        o := o -> 'order';
    END IF;

    -- ---------------------------------------------------------------- validate (writes nothing)
    IF jsonb_typeof(o) = 'object' AND NOT o ? 'id' AND jsonb_typeof(o -> 'orders') = 'array' THEN
        RAISE EXCEPTION 'shopify payload is a list of % orders, not one order', jsonb_array_length(o -> 'orders')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Ingest each element of "orders" by itself: SELECT backorder.ingest_shopify_order(client_id, e) FROM jsonb_array_elements(payload -> ''orders'') e.';
    END IF;
    IF jsonb_typeof(o) <> 'object' THEN
        RAISE EXCEPTION 'shopify payload is not a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is a JSON %s.', jsonb_typeof(o)),
                  HINT = 'Pass the body of an orders/create or orders/updated webhook: one order object.';
    END IF;
    v_id := o ->> 'id';            -- jsonb keeps numbers exact: the digits as sent, never a float
    IF NOT coalesce(jsonb_typeof(o -> 'id') IN ('number', 'string') AND v_id ~ '^[1-9][0-9]{0,19}$', false) THEN
        RAISE EXCEPTION 'shopify order has no valid id'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('"id" is %s.', coalesce((o -> 'id')::text, 'missing')),
                  HINT = 'A Shopify order object carries its numeric id in "id"; pass the webhook body unchanged.';
    END IF;
    IF jsonb_typeof(o -> 'line_items') IS DISTINCT FROM 'array' OR jsonb_array_length(o -> 'line_items') = 0 THEN
        RAISE EXCEPTION 'shopify order % has no line_items', v_id
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('"line_items" is %s.', coalesce((o -> 'line_items')::text, 'missing')),
                  HINT = 'An orders/create or orders/updated body lists its items in a non-empty "line_items" array.';
    END IF;
    v_created := backorder.shopify_timestamp(o, 'created_at');
    v_updated := coalesce(backorder.shopify_timestamp(o, 'updated_at'), v_created);
    v_cancelled := backorder.shopify_timestamp(o, 'cancelled_at');
    IF v_updated IS NULL THEN
        RAISE EXCEPTION 'shopify order % has neither updated_at nor created_at', v_id
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Deliveries are ordered by updated_at; pass the webhook body unchanged.';
    END IF;
    v_name := CASE WHEN jsonb_typeof(o -> 'name') = 'string' THEN o ->> 'name' END;

    FOR v_item, v_n IN SELECT e, n::integer FROM jsonb_array_elements(o -> 'line_items') WITH ORDINALITY AS t (e, n) LOOP
        IF jsonb_typeof(v_item) <> 'object' THEN
            RAISE EXCEPTION 'line item % of shopify order % is not an object', v_n, v_id
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Each element of "line_items" is a line item object with "id", "sku" and "quantity".';
        END IF;
        v_qty := v_item -> 'quantity';
        IF NOT coalesce(CASE WHEN jsonb_typeof(v_qty) = 'number' AND v_qty::text ~ '^[0-9]{1,10}$'
                             THEN v_qty::text::bigint BETWEEN 1 AND 2147483647 END, false) THEN
            RAISE EXCEPTION 'line item % of shopify order % has quantity %, not a positive integer',
                            v_n, v_id, coalesce(v_qty::text, 'missing')
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A line item''s "quantity" is a JSON number of units, at least 1.';
        END IF;
        -- current_quantity (recent API versions): the quantity after order edits; 0 = removed
        v_cur := v_item -> 'current_quantity';
        IF v_cur IS NOT NULL AND jsonb_typeof(v_cur) <> 'null'
           AND NOT coalesce(CASE WHEN jsonb_typeof(v_cur) = 'number' AND v_cur::text ~ '^[0-9]{1,10}$'
                                 THEN v_cur::text::bigint <= 2147483647 END, false) THEN
            RAISE EXCEPTION 'line item % of shopify order % has current_quantity %, not a whole number', v_n, v_id, v_cur
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A line item''s "current_quantity" is a JSON number of units, 0 when the item was removed.';
        END IF;
        v_item_id := CASE WHEN jsonb_typeof(v_item -> 'id') IN ('number', 'string') AND v_item ->> 'id' <> ''
                          THEN v_item ->> 'id' ELSE 'position ' || v_n END;
        IF v_item_id = ANY (v_ids) THEN
            RAISE EXCEPTION 'shopify order % lists line item % twice', v_id, v_item_id
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Each line item appears once in "line_items"; pass the webhook body unchanged.';
        END IF;
        v_ids := v_ids || v_item_id;
        -- a missing or empty SKU is kept as NULL: the engine holds the order as unknown_sku
        v_skus := v_skus || CASE WHEN jsonb_typeof(v_item -> 'sku') IN ('string', 'number')
                                 THEN nullif(v_item ->> 'sku', '') END;
        v_qtys := v_qtys || CASE WHEN v_cur IS NOT NULL AND jsonb_typeof(v_cur) = 'number'
                                 THEN v_cur::text::integer ELSE v_qty::text::integer END;
        v_orig := v_orig || v_qty::text::integer;
        -- rounded to cents (unit_price is numeric(12,2)); a 3-decimal currency loses its last digit
        IF v_item -> 'price' IS NOT NULL AND jsonb_typeof(v_item -> 'price') <> 'null'
           AND NOT coalesce(CASE WHEN v_item ->> 'price' ~ '^[0-9]{1,10}(\.[0-9]+)?$'
                                 THEN round((v_item ->> 'price')::numeric, 2) < 10000000000 END, false) THEN
            RAISE EXCEPTION 'line item % of shopify order % has price %, not a price', v_n, v_id, v_item -> 'price'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A line item''s "price" is a decimal string of 0 or more, below 10000000000, such as "199.00".';
        END IF;
        v_prices := v_prices || round((v_item ->> 'price')::numeric, 2);
        IF v_qtys[v_n] > 0 THEN
            v_live := v_live + 1;
        END IF;
    END LOOP;
    IF v_live = 0 AND v_cancelled IS NULL THEN
        RAISE EXCEPTION 'shopify order % has no line item left to fulfil', v_id
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Every line item has current_quantity 0.',
                  HINT = 'An open order needs at least one item; a cancelled one carries "cancelled_at".';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM backorder.client c WHERE c.client_id = p_client_id) THEN
        RAISE EXCEPTION 'client "%" does not exist', p_client_id
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Register the shop first: INSERT INTO backorder.client (client_id, name) VALUES (...).';
    END IF;

    -- Deliveries of one order queue here, in an advisory key space of their own ("SHOP"; the
    -- engine's edit lock uses "BAKO"), until the transaction ends: the first creates the order,
    -- the next ones find it.  (Ingest several orders per transaction in a fixed order, or one
    -- per transaction, as with any row locks.)
    PERFORM pg_advisory_xact_lock(x'53484f50'::integer, hashtext(p_client_id || E'\x1f' || v_id));

    -- ---------------------------------------------------------------- a new order
    IF NOT EXISTS (SELECT 1 FROM backorder.shopify_order so
                    WHERE so.client_id = p_client_id AND so.shopify_id = v_id) THEN
        IF EXISTS (SELECT 1 FROM backorder.orders ord WHERE ord.client_id = p_client_id AND ord.order_id = v_id) THEN
            RAISE EXCEPTION 'order "%" of client "%" exists and did not come from Shopify', v_id, p_client_id
                USING ERRCODE = 'unique_violation',
                      HINT = 'Shopify orders are stored under their Shopify id: give the other app''s orders ids of their own (or ingest this shop under a client of its own).';
        END IF;
        IF v_live = 0 THEN
            -- created already cancelled, every item removed: record the items as first ordered
            v_qtys := v_orig;
        END IF;
        WITH ord AS (
            INSERT INTO backorder.orders (client_id, order_id, placed_at)
            VALUES (p_client_id, v_id, coalesce(v_created, v_updated))
            RETURNING client_id, order_id)
        INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, unit_price)
        SELECT ord.client_id, ord.order_id, l.n, l.sku, l.qty, l.price
          FROM ord, unnest(v_skus, v_qtys, v_prices) WITH ORDINALITY AS l (sku, qty, price, n)
         WHERE l.qty > 0
         ORDER BY l.n;
        INSERT INTO backorder.shopify_order (client_id, shopify_id, order_id, name, created_at, updated_at,
                                             cancelled_at, payload)
        VALUES (p_client_id, v_id, v_id, v_name, v_created, v_updated, v_cancelled, o);
        INSERT INTO backorder.shopify_order_line (client_id, shopify_id, line_item_id, line_no, removed)
        SELECT p_client_id, v_id, l.item_id, l.n, l.qty = 0
          FROM unnest(v_ids, v_qtys) WITH ORDINALITY AS l (item_id, qty, n);
        IF v_cancelled IS NOT NULL THEN
            PERFORM backorder.cancel_order(p_client_id, v_id);
            RETURN 'cancelled';
        END IF;
        RETURN 'created';
    END IF;

    -- ---------------------------------------------------------------- a known order
    SELECT * INTO STRICT v_row FROM backorder.shopify_order so
     WHERE so.client_id = p_client_id AND so.shopify_id = v_id
       FOR UPDATE;
    IF v_updated <= v_row.updated_at THEN
        UPDATE backorder.shopify_order so
           SET deliveries = so.deliveries + 1, last_seen_at = backorder.now()
         WHERE so.client_id = p_client_id AND so.shopify_id = v_id;
        RETURN CASE WHEN v_updated = v_row.updated_at THEN 'duplicate' ELSE 'stale' END;
    END IF;

    UPDATE backorder.shopify_order so
       SET name = v_name, updated_at = v_updated, cancelled_at = v_cancelled, payload = o,
           deliveries = so.deliveries + 1, last_seen_at = backorder.now()
     WHERE so.client_id = p_client_id AND so.shopify_id = v_id;

    -- A split order (split_order or the client's split rule) is a family: the parent keeps the
    -- held remainder, each child (parent_order_id) a shipment, under the parent's line numbers.
    -- Its members are cancelled together; an edit of its lines is not guessed at: the open
    -- members are held for an operator (reason shopify_edit), unless the family's lines already
    -- add up to the payload's.  A newer payload changes the order under the edit lock taken
    -- exclusively (README, Locking), as its line edits would: a split committed meanwhile is
    -- seen, and the members, cancelled or held one order at a time (their stock rows together
    -- not in key order), have nothing else running beside them.
    PERFORM backorder.lock_for_edit();
    SELECT array_agg(f.order_id ORDER BY f.priority DESC, f.placed_at, f.order_id),
           coalesce(array_agg(f.order_id ORDER BY f.priority DESC, f.placed_at, f.order_id)
                        FILTER (WHERE f.status NOT IN ('shipped', 'cancelled')), '{}')
      INTO v_family, v_open
      FROM (SELECT ord.* FROM backorder.orders ord
             WHERE ord.client_id = p_client_id AND ord.order_id = v_row.order_id
            UNION ALL
            SELECT ord.* FROM backorder.orders ord
             WHERE ord.client_id = p_client_id AND ord.parent_order_id = v_row.order_id) f;
    IF cardinality(v_family) > 1 THEN
        IF cardinality(v_open) = 0 THEN
            RAISE NOTICE 'shopify order % (split into %) is closed here: the newer payload is recorded, the orders are left as they are',
                         v_id, array_to_string(v_family, ', ');
            RETURN 'closed';
        END IF;
        IF v_cancelled IS NOT NULL THEN
            FOREACH v_member IN ARRAY v_open LOOP
                PERFORM backorder.cancel_order(p_client_id, v_member);
            END LOOP;
            IF cardinality(v_open) < cardinality(v_family) THEN
                RAISE NOTICE 'shopify order % was split: % cancelled, the rest had shipped or was cancelled already',
                             v_id, array_to_string(v_open, ', ');
            END IF;
            RETURN 'cancelled';
        END IF;
        IF EXISTS (
            WITH wanted AS (
                SELECT m.line_no, l.sku, l.qty
                  FROM unnest(v_ids, v_skus, v_qtys) AS l (item_id, sku, qty)
                  LEFT JOIN backorder.shopify_order_line m
                    ON m.client_id = p_client_id AND m.shopify_id = v_id AND m.line_item_id = l.item_id
                 WHERE l.qty > 0),
            have AS (
                SELECT ol.line_no, min(ol.sku) AS sku, sum(ol.qty)::integer AS qty
                  FROM backorder.order_line ol
                  JOIN backorder.orders ord ON ord.client_id = ol.client_id AND ord.order_id = ol.order_id
                 WHERE ol.client_id = p_client_id AND ol.order_id = ANY (v_family) AND ord.status <> 'cancelled'
                 GROUP BY ol.line_no)
            SELECT 1 FROM wanted w FULL JOIN have h ON h.line_no = w.line_no
             WHERE w.line_no IS NULL OR h.line_no IS NULL
                OR w.sku IS DISTINCT FROM h.sku OR w.qty <> h.qty) THEN
            FOREACH v_member IN ARRAY v_open LOOP
                PERFORM backorder.hold_order(p_client_id, v_member, 'shopify_edit',
                    format('Shopify order %s was edited (updated_at %s) after it was split into %s: change the lines by hand (shopify_order.payload has the edit), then release_hold(..., ''shopify_edit'').',
                           v_id, v_updated, array_to_string(v_family, ', ')));
            END LOOP;
            RAISE NOTICE 'shopify order % was split into %: its edit is not applied; % held for review (reason shopify_edit)',
                         v_id, array_to_string(v_family, ', '), array_to_string(v_open, ', ');
            RETURN 'held';
        END IF;
        -- the lines add up: only prices may have changed, on the orders still open
        UPDATE backorder.order_line ol
           SET unit_price = l.price
          FROM unnest(v_ids, v_prices) AS l (item_id, price),
               backorder.shopify_order_line m
         WHERE m.client_id = p_client_id AND m.shopify_id = v_id AND m.line_item_id = l.item_id
           AND NOT m.removed
           AND ol.client_id = p_client_id AND ol.order_id = ANY (v_open) AND ol.line_no = m.line_no
           AND ol.unit_price IS DISTINCT FROM l.price;
        RETURN 'updated';
    END IF;

    SELECT ord.status INTO STRICT v_status FROM backorder.orders ord
     WHERE ord.client_id = p_client_id AND ord.order_id = v_row.order_id;
    IF v_status IN ('shipped', 'cancelled') THEN
        RAISE NOTICE 'shopify order % is already % here: the newer payload is recorded, the order is left as it is', v_id, v_status;
        RETURN 'closed';
    END IF;
    IF v_cancelled IS NOT NULL THEN
        PERFORM backorder.cancel_order(p_client_id, v_row.order_id);
        RETURN 'cancelled';
    END IF;

    -- The lines: dropped items are deleted, changed ones updated, new ones inserted (the
    -- engine re-evaluates the order at commit).  Only lines that really change are written.
    WITH gone AS (
        UPDATE backorder.shopify_order_line m SET removed = true
         WHERE m.client_id = p_client_id AND m.shopify_id = v_id AND NOT m.removed
           AND NOT EXISTS (SELECT 1 FROM unnest(v_ids, v_qtys) AS l (item_id, qty)
                            WHERE l.item_id = m.line_item_id AND l.qty > 0)
        RETURNING m.line_no)
    DELETE FROM backorder.order_line ol
     USING gone
     WHERE ol.client_id = p_client_id AND ol.order_id = v_row.order_id AND ol.line_no = gone.line_no;

    UPDATE backorder.order_line ol
       SET sku = l.sku, qty = l.qty
      FROM unnest(v_ids, v_skus, v_qtys) AS l (item_id, sku, qty),
           backorder.shopify_order_line m
     WHERE m.client_id = p_client_id AND m.shopify_id = v_id AND m.line_item_id = l.item_id
       AND NOT m.removed AND l.qty > 0
       AND ol.client_id = p_client_id AND ol.order_id = v_row.order_id AND ol.line_no = m.line_no
       AND (ol.sku IS DISTINCT FROM l.sku OR ol.qty <> l.qty);
    UPDATE backorder.order_line ol
       SET unit_price = l.price
      FROM unnest(v_ids, v_prices) AS l (item_id, price),
           backorder.shopify_order_line m
     WHERE m.client_id = p_client_id AND m.shopify_id = v_id AND m.line_item_id = l.item_id
       AND NOT m.removed
       AND ol.client_id = p_client_id AND ol.order_id = v_row.order_id AND ol.line_no = m.line_no
       AND ol.unit_price IS DISTINCT FROM l.price;

    -- items back after a removal keep their old line number; new items get the next ones
    SELECT coalesce(max(m.line_no), 0) INTO v_next FROM backorder.shopify_order_line m
     WHERE m.client_id = p_client_id AND m.shopify_id = v_id;
    WITH back AS (
        UPDATE backorder.shopify_order_line m SET removed = false
          FROM unnest(v_ids, v_qtys) AS l (item_id, qty)
         WHERE m.client_id = p_client_id AND m.shopify_id = v_id AND m.removed
           AND l.item_id = m.line_item_id AND l.qty > 0
        RETURNING m.line_item_id, m.line_no),
    fresh AS (
        INSERT INTO backorder.shopify_order_line (client_id, shopify_id, line_item_id, line_no)
        SELECT p_client_id, v_id, l.item_id, v_next + row_number() OVER (ORDER BY l.n)
          FROM unnest(v_ids, v_qtys) WITH ORDINALITY AS l (item_id, qty, n)
         WHERE l.qty > 0
           AND NOT EXISTS (SELECT 1 FROM backorder.shopify_order_line m
                            WHERE m.client_id = p_client_id AND m.shopify_id = v_id
                              AND m.line_item_id = l.item_id)
        RETURNING line_item_id, line_no)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, unit_price)
    SELECT p_client_id, v_row.order_id, x.line_no, l.sku, l.qty, l.price
      FROM (SELECT * FROM back UNION ALL SELECT * FROM fresh) x
      JOIN unnest(v_ids, v_skus, v_qtys, v_prices) AS l (item_id, sku, qty, price) ON l.item_id = x.line_item_id
     ORDER BY x.line_no;
    RETURN 'updated';
END;
$$;
COMMENT ON FUNCTION backorder.ingest_shopify_order(text, jsonb) IS
    'Writes the body of a Shopify orders/create or orders/updated webhook (or an Admin API {"order": ...} response) as an order and its lines; the engine holds or releases it at commit.  Returns created, updated, cancelled, duplicate (same updated_at: re-delivery, nothing changed), stale (older updated_at: ignored), closed (newer payload for an order already shipped or cancelled here: recorded, order unchanged) or held (an edit of the lines of an order that was split here: not applied, its open orders held with reason shopify_edit).  A cancellation of a split order cancels its open orders.  Line items without a SKU or with a SKU the catalog lacks are kept (held as unknown_sku).  A malformed payload raises 22023 and writes nothing.';
