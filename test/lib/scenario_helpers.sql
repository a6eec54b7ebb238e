-- test/lib/scenario_helpers.sql — pg_temp helpers shared by the scenario and bad-input pgTAP
-- files.  Include it with \ir lib/scenario_helpers.sql inside the test's transaction: the
-- functions are gone at its ROLLBACK.

-- Places an order and its lines in one statement.  p_lines: 'SKU:qty,SKU:qty' (line_no =
-- position; an empty SKU gives a NULL sku).
CREATE FUNCTION pg_temp.place(p_client text, p_order text, p_placed_at timestamptz, p_lines text,
                              p_priority int DEFAULT 0, p_location text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    WITH o AS (
        INSERT INTO backorder.orders (client_id, order_id, placed_at, priority, location_id)
        VALUES (p_client, p_order, p_placed_at, p_priority, p_location)
        RETURNING client_id, order_id)
    INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)
    SELECT o.client_id, o.order_id, l.n::int, nullif(split_part(l.item, ':', 1), ''),
           split_part(l.item, ':', 2)::int
    FROM o, unnest(string_to_array(p_lines, ',')) WITH ORDINALITY AS l (item, n)
$$;

-- Orders of a client: status and units allocated over all lines.
CREATE FUNCTION pg_temp.orders_of(p_client text)
RETURNS TABLE (order_id text, status text, allocated int) LANGUAGE sql AS $$
    SELECT o.order_id, o.status, coalesce(sum(l.allocated), 0)::int
    FROM backorder.orders o
    LEFT JOIN backorder.order_line l ON l.client_id = o.client_id AND l.order_id = o.order_id
    WHERE o.client_id = p_client
    GROUP BY o.order_id, o.status
    ORDER BY o.order_id
$$;

-- on_hand and allocated of one stock row (0, 0 when the row does not exist).
CREATE FUNCTION pg_temp.stock_of(p_client text, p_sku text, p_location text)
RETURNS TABLE (on_hand bigint, allocated bigint) LANGUAGE sql AS $$
    SELECT coalesce(max(s.on_hand), 0)::bigint, coalesce(max(s.allocated), 0)::bigint
    FROM backorder.stock s
    WHERE s.client_id = p_client AND s.sku = p_sku AND s.location_id = p_location
$$;

-- Open holds of a client's orders.
CREATE FUNCTION pg_temp.open_holds(p_client text)
RETURNS TABLE (order_id text, reason text) LANGUAGE sql AS $$
    SELECT h.order_id, h.reason FROM backorder.order_hold h
    WHERE h.client_id = p_client AND h.released_at IS NULL
    ORDER BY 1, 2
$$;

-- Number of events of one kind written for an order.
CREATE FUNCTION pg_temp.events(p_client text, p_order text, p_event text)
RETURNS int LANGUAGE sql AS $$
    SELECT count(*)::int FROM backorder.order_event e
    WHERE e.client_id = p_client AND e.order_id = p_order AND e.event = p_event
$$;

-- The errhint and errdetail of the error a statement raises, '(no error)' for both if it
-- raises none.  Whatever the statement did is rolled back either way.
CREATE FUNCTION pg_temp.error_parts(p_sql text, OUT hint text, OUT detail text) LANGUAGE plpgsql AS $$
DECLARE
    m text;
BEGIN
    EXECUTE p_sql;
    RAISE EXCEPTION 'pg_temp.error_parts: no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT, detail = PG_EXCEPTION_DETAIL, m = MESSAGE_TEXT;
    IF m = 'pg_temp.error_parts: no error' THEN
        hint := '(no error)';
        detail := '(no error)';
    END IF;
END
$$;
CREATE FUNCTION pg_temp.hint_of(p_sql text) RETURNS text LANGUAGE sql AS $$
    SELECT (pg_temp.error_parts(p_sql)).hint
$$;
CREATE FUNCTION pg_temp.detail_of(p_sql text) RETURNS text LANGUAGE sql AS $$
    SELECT (pg_temp.error_parts(p_sql)).detail
$$;
