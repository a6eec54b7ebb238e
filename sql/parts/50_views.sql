-- Views for people and BI tools.  Every column is commented.

CREATE VIEW backorder.needs_review AS
SELECT o.client_id,
       o.order_id,
       o.placed_at,
       o.priority,
       o.held_since,
       backorder.now() - o.held_since AS held_for,
       h.reasons,
       s.short_skus,
       coalesce(s.short_units, 0) AS short_units
  FROM backorder.orders o
  CROSS JOIN LATERAL (
        SELECT array_agg(oh.reason ORDER BY oh.reason) AS reasons
          FROM backorder.order_hold oh
         WHERE oh.client_id = o.client_id AND oh.order_id = o.order_id AND oh.released_at IS NULL) h
  LEFT JOIN LATERAL (
        SELECT jsonb_object_agg(coalesce(x.sku, '(none)'), x.short ORDER BY x.sku) AS short_skus,
               sum(x.short) AS short_units
          FROM (SELECT ol.sku, sum(ol.qty - ol.allocated) AS short
                  FROM backorder.order_line ol
                 WHERE ol.client_id = o.client_id AND ol.order_id = o.order_id
                   AND ol.allocated < ol.qty
                 GROUP BY ol.sku) x) s ON true
 WHERE o.status = 'needs_review';
COMMENT ON VIEW backorder.needs_review IS 'One row per held order: why it is held, since when, and which SKUs it is short of.';
COMMENT ON COLUMN backorder.needs_review.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.needs_review.order_id IS 'The held order.';
COMMENT ON COLUMN backorder.needs_review.placed_at IS 'When the customer placed it.';
COMMENT ON COLUMN backorder.needs_review.priority IS 'Queue priority (higher is served first).';
COMMENT ON COLUMN backorder.needs_review.held_since IS 'When the current hold period began.';
COMMENT ON COLUMN backorder.needs_review.held_for IS 'How long it has been held, as of backorder.now().';
COMMENT ON COLUMN backorder.needs_review.reasons IS 'Open hold reasons, sorted: out_of_stock, discontinued, unknown_sku, manual, ...';
COMMENT ON COLUMN backorder.needs_review.short_skus IS 'JSON object: SKU -> units still missing ("(none)" for lines without a SKU).';
COMMENT ON COLUMN backorder.needs_review.short_units IS 'Units still missing over all lines.';
