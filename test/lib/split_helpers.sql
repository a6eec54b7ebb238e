-- test/lib/split_helpers.sql — pg_temp helpers shared by the split pgTAP files.  Include it
-- with \ir lib/split_helpers.sql inside the test's transaction: the functions are gone at
-- its ROLLBACK.

CREATE FUNCTION pg_temp.hint_of(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    EXECUTE p_sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END $$;

CREATE FUNCTION pg_temp.footprint()
RETURNS text LANGUAGE sql AS $$
    SELECT format('%s orders, %s lines, %s allocated, %s events, %s holds, %s stock allocated',
                  (SELECT count(*) FROM backorder.orders), (SELECT count(*) FROM backorder.order_line),
                  (SELECT sum(allocated) FROM backorder.order_line), (SELECT count(*) FROM backorder.order_event),
                  (SELECT count(*) FROM backorder.order_hold), (SELECT sum(allocated) FROM backorder.stock))
$$;

-- Events of a client: 'order event status' rows.
CREATE FUNCTION pg_temp.events_of(p_client text)
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT format('%s %s %s', order_id, event, status)
    FROM backorder.order_event WHERE client_id = p_client ORDER BY event_id
$$;

-- Orders of a client: 'order status parent' rows.
CREATE FUNCTION pg_temp.orders_of(p_client text)
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT format('%s %s %s', order_id, status, coalesce(parent_order_id, '-'))
    FROM backorder.orders WHERE client_id = p_client ORDER BY order_id
$$;

-- Stock of a client: 'sku@location on_hand/allocated' rows.
CREATE FUNCTION pg_temp.stock_of(p_client text)
RETURNS SETOF text LANGUAGE sql AS $$
    SELECT format('%s@%s %s/%s', sku, location_id, on_hand, allocated)
    FROM backorder.stock WHERE client_id = p_client AND (on_hand <> 0 OR allocated <> 0)
    ORDER BY sku, location_id
$$;
