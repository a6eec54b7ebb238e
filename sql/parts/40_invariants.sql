-- check_invariants(): one row per violation of DESIGN.md's invariants, none when consistent.
-- Plain SQL over the whole database, independent of the C code it checks.

CREATE FUNCTION backorder.check_invariants()
RETURNS TABLE (invariant integer, client_id text, object text, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- 1. 0 <= allocated <= on_hand, on_hand never negative
    SELECT 1, s.client_id, s.sku || '@' || s.location_id,
           format('on_hand %s, allocated %s', s.on_hand, s.allocated)
      FROM backorder.stock s
     WHERE s.on_hand < 0 OR s.allocated < 0 OR s.allocated > s.on_hand
    UNION ALL
    -- 2. stock.allocated = sum of line allocations at that SKU and location
    SELECT 2, coalesce(s.client_id, l.client_id), coalesce(s.sku, l.sku) || '@' || coalesce(s.location_id, l.location_id),
           format('stock.allocated %s, lines hold %s', coalesce(s.allocated, 0), coalesce(l.units, 0))
      FROM backorder.stock s
      FULL JOIN (SELECT ol.client_id, ol.sku, ol.location_id, sum(ol.allocated) AS units
                   FROM backorder.order_line ol
                  WHERE ol.allocated > 0
                  GROUP BY 1, 2, 3) l
        ON l.client_id = s.client_id AND l.sku = s.sku AND l.location_id = s.location_id
     WHERE coalesce(s.allocated, 0) <> coalesce(l.units, 0)
    UNION ALL
    -- 3. 0 <= line.allocated <= qty; shipped and cancelled orders hold nothing; a shipped
    --    order shipped every unit of every line, and only shipped orders shipped anything;
    --    every line's order exists
    SELECT 3, l.client_id, l.order_id || '#' || l.line_no,
           format('allocated %s of %s, order %s', l.allocated, l.qty, coalesce(o.status, 'missing'))
      FROM backorder.order_line l
      LEFT JOIN backorder.orders o ON o.client_id = l.client_id AND o.order_id = l.order_id
     WHERE o.order_id IS NULL OR l.allocated < 0 OR l.allocated > l.qty
        OR (o.status IN ('shipped', 'cancelled') AND l.allocated <> 0)
        OR (o.status = 'shipped' AND l.shipped <> l.qty)
        OR (o.status <> 'shipped' AND l.shipped <> 0)
    UNION ALL
    -- 4. ready iff complete and no open hold; needs_review iff a hold is open
    SELECT 4, o.client_id, o.order_id,
           format('status %s, open holds %s, short lines %s', o.status, h.open_holds, coalesce(ls.short, 0))
      FROM backorder.orders o
      LEFT JOIN LATERAL (SELECT count(*) AS open_holds FROM backorder.order_hold oh
                          WHERE oh.client_id = o.client_id AND oh.order_id = o.order_id
                            AND oh.released_at IS NULL) h ON true
      LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE ol.allocated < ol.qty) AS short
                           FROM backorder.order_line ol
                          WHERE ol.client_id = o.client_id AND ol.order_id = o.order_id) ls ON true
     WHERE o.status = 'new'
        OR (o.status = 'ready' AND (h.open_holds > 0 OR coalesce(ls.short, 0) > 0))
        OR (o.status = 'needs_review' AND h.open_holds = 0)
        OR (o.status IN ('shipped', 'cancelled') AND h.open_holds > 0)
    UNION ALL
    --    ... and an open order's inventory holds are exactly the ones its lines call for
    SELECT 4, o.client_id, o.order_id,
           format('inventory holds open %s, lines call for %s', coalesce(h.open, '{}'), coalesce(n.needed, '{}'))
      FROM backorder.orders o
      LEFT JOIN LATERAL (
            SELECT array_agg(oh.reason ORDER BY oh.reason) AS open FROM backorder.order_hold oh
             WHERE oh.client_id = o.client_id AND oh.order_id = o.order_id AND oh.released_at IS NULL
               AND oh.reason IN ('out_of_stock', 'discontinued', 'unknown_sku')) h ON true
      LEFT JOIN LATERAL (
            SELECT array_agg(DISTINCT r.reason ORDER BY r.reason) AS needed
              FROM backorder.order_line ol
              LEFT JOIN backorder.sku sk ON sk.client_id = ol.client_id AND sk.sku = ol.sku
             CROSS JOIN LATERAL (SELECT CASE
                      WHEN sk.sku IS NULL OR ol.location_id IS NULL THEN 'unknown_sku'
                      WHEN ol.allocated >= ol.qty THEN NULL
                      WHEN sk.status = 'active' AND sk.backorderable THEN 'out_of_stock'
                      ELSE 'discontinued' END AS reason) r
             WHERE ol.client_id = o.client_id AND ol.order_id = o.order_id AND r.reason IS NOT NULL) n ON true
     WHERE o.status IN ('ready', 'needs_review')
       AND coalesce(h.open, '{}') IS DISTINCT FROM coalesce(n.needed, '{}')
    UNION ALL
    -- 5. under reserve, available units at a SKU and location mean nobody waits there;
    --    and a line waits exactly when its open order is short of it at a placed location
    SELECT 5, s.client_id, s.sku || '@' || s.location_id,
           format('available %s while %s lines wait', s.on_hand - s.allocated, w.lines)
      FROM backorder.stock s
      JOIN backorder.client c ON c.client_id = s.client_id AND c.allocation_policy = 'reserve'
      JOIN LATERAL (SELECT count(*) AS lines FROM backorder.order_line ol
                     WHERE ol.client_id = s.client_id AND ol.sku = s.sku
                       AND ol.location_id = s.location_id AND ol.waiting) w ON w.lines > 0
     WHERE s.on_hand > s.allocated
    UNION ALL
    SELECT 5, l.client_id, l.order_id || '#' || l.line_no,
           format('waiting %s, allocated %s of %s, order %s', l.waiting, l.allocated, l.qty, o.status)
      FROM backorder.order_line l
      JOIN backorder.orders o ON o.client_id = l.client_id AND o.order_id = l.order_id
     WHERE l.waiting IS DISTINCT FROM (o.status IN ('ready', 'needs_review')
                                       AND l.location_id IS NOT NULL AND l.allocated < l.qty)
    UNION ALL
    -- 6. on_hand is the sum of the ledger's deltas
    SELECT 6, coalesce(s.client_id, m.client_id), coalesce(s.sku, m.sku) || '@' || coalesce(s.location_id, m.location_id),
           CASE WHEN s.client_id IS NULL THEN format('no stock row, ledger sum %s', m.total)
                ELSE format('on_hand %s, ledger sum %s', s.on_hand, coalesce(m.total, 0)) END
      FROM backorder.stock s
      FULL JOIN (SELECT sm.client_id, sm.sku, sm.location_id, sum(sm.delta) AS total
                   FROM backorder.stock_movement sm GROUP BY 1, 2, 3) m
        ON m.client_id = s.client_id AND m.sku = s.sku AND m.location_id = s.location_id
     WHERE s.client_id IS NULL OR coalesce(s.on_hand, 0) <> coalesce(m.total, 0)
    UNION ALL
    -- 7. every hold was opened by exactly one event, and closed by exactly one if closed;
    --    every shipped or cancelled order has exactly one such event
    SELECT 7, h.client_id, h.order_id || ' hold ' || h.hold_id,
           format('%s: %s opening events, %s closing events', h.reason, ev.opening, ev.closing)
      FROM backorder.order_hold h
      LEFT JOIN LATERAL (
            SELECT count(*) FILTER (WHERE e.detail->'opened' @> to_jsonb(h.hold_id)) AS opening,
                   count(*) FILTER (WHERE e.detail->'closed' @> to_jsonb(h.hold_id)) AS closing
              FROM backorder.order_event e
             WHERE e.client_id = h.client_id AND e.order_id = h.order_id) ev ON true
     WHERE ev.opening <> 1 OR ev.closing <> (CASE WHEN h.released_at IS NULL THEN 0 ELSE 1 END)
    UNION ALL
    SELECT 7, o.client_id, o.order_id, format('%s order with %s %s events', o.status, ev.n, o.status)
      FROM backorder.orders o
      LEFT JOIN LATERAL (SELECT count(*) AS n FROM backorder.order_event e
                          WHERE e.client_id = o.client_id AND e.order_id = o.order_id
                            AND e.event = o.status) ev ON true
     WHERE o.status IN ('shipped', 'cancelled') AND ev.n <> 1
    UNION ALL
    -- 8. demand_summary = the units of the lines that are demand (allocated, shipped or
    --    waiting) per SKU, warehouse and day of placed_at in the summary's zone; no empty rows
    SELECT 8, coalesce(e.client_id, s.client_id),
           coalesce(e.sku, s.sku) || '@' || coalesce(e.location_id, s.location_id) || ' ' || coalesce(e.day, s.day),
           format('lines %s, demand_summary %s', coalesce(e.units, 0), coalesce(s.units, 0))
      FROM (SELECT l.client_id, l.sku, coalesce(l.location_id, '') AS location_id,
                   (l.placed_at AT TIME ZONE backorder.demand_time_zone())::date AS day, sum(l.qty) AS units
              FROM backorder.order_line l
             WHERE (l.allocated > 0 OR l.shipped > 0 OR l.waiting) AND l.sku IS NOT NULL AND isfinite(l.placed_at)
             GROUP BY 1, 2, 3, 4) e
      FULL JOIN (SELECT d.client_id, d.sku, d.location_id, d.block_start + (u.i::integer - 1) AS day, u.units
                   FROM backorder.demand_summary d, unnest(d.units) WITH ORDINALITY u(units, i)
                  WHERE u.units <> 0) s
        ON s.client_id = e.client_id AND s.sku = e.sku AND s.location_id = e.location_id AND s.day = e.day
     WHERE coalesce(e.units, 0) <> coalesce(s.units, 0)
    UNION ALL
    SELECT 8, d.client_id, d.sku || '@' || d.location_id || ' ' || d.block_start, 'demand_summary row without units'
      FROM backorder.demand_summary d
     WHERE 0 = ALL (d.units)
$$;
COMMENT ON FUNCTION backorder.check_invariants() IS
    'One row per violated invariant (DESIGN.md 1-7; 8: the demand summary matches the order lines): invariant number, client, the object (SKU@location, order, line or hold) and what is wrong.  No rows: consistent.';
