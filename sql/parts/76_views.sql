-- Views for people and BI tools (issue 6), and the tenant binding they filter by.
--
-- Every view here is read-only SQL (works on a hot standby), reads its rows through indexes
-- that start with client_id, and shows only the clients the session is bound to:
--     WHERE client_id = ANY ((SELECT backorder.session_clients())::text[])
-- The views run with their owner's rights (the extension's superuser), so that
-- backorder_reader needs SELECT on the views and nothing else; the filter above is the same
-- rule as the row-level security policies on the tables (78_security.sql), and
-- security_barrier keeps a caller's leaky functions from seeing rows before it applies.

-- ---- Tenant binding ----------------------------------------------------------------------

CREATE TABLE backorder.client_role (
    client_id  text NOT NULL,
    role_name  name NOT NULL,
    PRIMARY KEY (client_id, role_name)
);
CREATE INDEX client_role_role ON backorder.client_role (role_name);
COMMENT ON TABLE backorder.client_role IS 'Binds database roles to clients: a session whose role has the privileges of role_name (is it, or inherits from it) and belongs to backorder_app or backorder_reader sees and writes only the clients mapped to its roles.  Each role sees only its own mappings.';
COMMENT ON COLUMN backorder.client_role.client_id IS 'Tenant the role is bound to.';
COMMENT ON COLUMN backorder.client_role.role_name IS 'A role that exists (usually one NOLOGIN or LOGIN role per client, member of backorder_app or backorder_reader).';

CREATE FUNCTION backorder.client_role_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM backorder.require_client(NEW.client_id);
    IF NEW.role_name IS NULL THEN
        RAISE EXCEPTION 'role_name must not be null'
            USING ERRCODE = 'not_null_violation',
                  HINT = 'Name the role to bind to the client.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = NEW.role_name) THEN
        RAISE EXCEPTION 'role "%" does not exist', NEW.role_name
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create the role first (CREATE ROLE ... IN ROLE backorder_app), then map it.';
    END IF;
    IF NEW.role_name IN ('backorder_app', 'backorder_reader') THEN
        RAISE EXCEPTION 'the group role "%" cannot be bound to one client', NEW.role_name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Bind a role of the client''s own (member of the group), not the group: every member would inherit the binding.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION backorder.client_role_validate() IS
    'Trigger on client_role: the client must exist (23503), the role must exist (42704) and must not be one of the group roles (22023).';
CREATE TRIGGER validate BEFORE INSERT OR UPDATE ON backorder.client_role
    FOR EACH ROW EXECUTE FUNCTION backorder.client_role_validate();

-- The clients this session may see and write.  Read once per statement (callers wrap it in
-- a scalar subquery, which becomes an InitPlan), so policies and views keep index scans.
CREATE FUNCTION backorder.session_clients() RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    setting  text := nullif(current_setting('backorder.client_id', true), '');
    mapped   text[];
BEGIN
    -- Roles that row-level security does not restrict see every client: those it does not
    -- apply to at all (superusers, BYPASSRLS roles: row_security_active() is false), and
    -- roles outside the two groups, which the tenant policy does not name (the installing
    -- owner, administrators).
    IF NOT row_security_active('backorder.orders'::regclass)
       OR NOT (pg_has_role('backorder_app', 'USAGE') OR pg_has_role('backorder_reader', 'USAGE')) THEN
        RETURN ARRAY(SELECT c.client_id FROM backorder.client c ORDER BY c.client_id);
    END IF;
    -- Bound by role: the clients mapped to any role whose privileges this one has
    -- (to_regrole: a mapped role that was dropped since matches nothing).
    SELECT array_agg(DISTINCT m.client_id ORDER BY m.client_id) INTO mapped
      FROM backorder.client_role m
     WHERE pg_has_role(to_regrole(quote_ident(m.role_name)), 'USAGE');
    IF mapped IS NOT NULL THEN
        -- the setting can narrow a role binding, never widen it
        IF setting IS NULL THEN
            RETURN mapped;
        END IF;
        RETURN CASE WHEN setting = ANY (mapped) THEN ARRAY[setting] ELSE '{}'::text[] END;
    END IF;
    -- Bound by the setting the app made (SET backorder.client_id = '...'); unbound: nothing.
    RETURN CASE WHEN setting IS NULL THEN '{}'::text[] ELSE ARRAY[setting] END;
END
$$;
COMMENT ON FUNCTION backorder.session_clients() IS
    'The clients this session may see and write.  Members of backorder_app / backorder_reader: the clients mapped to their roles in client_role (narrowed to backorder.client_id if set), else the client named by the setting backorder.client_id, else none.  Other roles (superusers, the installing owner, administrators): every client.';

-- ---- Indexes the views read through -------------------------------------------------------

-- Open orders (held and ready) of a client, by due time: needs_review, sla_status,
-- order_status_summary, hold_aging.
CREATE INDEX orders_open ON backorder.orders (client_id, sla_due_at)
    WHERE status IN ('ready', 'needs_review');
-- Orders shipped or cancelled, by when: the "today" rows of order_status_summary.
CREATE INDEX orders_closed ON backorder.orders (client_id, (coalesce(shipped_at, cancelled_at)))
    WHERE status IN ('shipped', 'cancelled');

-- ---- waiting_lines: the queue, and when each waiting line's units are expected ----------

CREATE VIEW backorder.waiting_lines WITH (security_barrier) AS
SELECT q.client_id,
       q.order_id,
       q.line_no,
       q.sku,
       q.location_id,
       q.priority,
       q.placed_at,
       q.short,
       q.queue_position,
       q.units_ahead,
       CASE WHEN q.units_ahead + q.short <= coalesce(st.available, 0) THEN (backorder.now())::date
            ELSE e.expected_at END AS expected_on
  FROM (SELECT l.client_id, l.order_id, l.line_no, l.sku, l.location_id, l.priority, l.placed_at,
               l.qty - l.allocated AS short,
               row_number() OVER w AS queue_position,
               sum(l.qty - l.allocated) OVER w - (l.qty - l.allocated) AS units_ahead
          FROM backorder.order_line l
         WHERE l.waiting
           AND l.client_id = ANY ((SELECT backorder.session_clients())::text[])
        WINDOW w AS (PARTITION BY l.client_id, l.sku, l.location_id
                     ORDER BY l.priority DESC, l.placed_at, l.order_id, l.line_no)) q
  LEFT JOIN LATERAL (
        SELECT greatest(s.on_hand - s.allocated, 0) AS available
          FROM backorder.stock s
         WHERE s.client_id = q.client_id AND s.sku = q.sku AND s.location_id = q.location_id) st ON true
  LEFT JOIN LATERAL (
        -- inbound units go to waiting lines in release order: this line is covered by the
        -- first inbound row (by expected_at) whose running total reaches the units ahead of
        -- it plus its own, less what is available now
        SELECT c.expected_at
          FROM (SELECT i.expected_at,
                       sum(i.qty) OVER (ORDER BY i.expected_at, i.inbound_id) AS running
                  FROM backorder.inbound i
                 WHERE i.client_id = q.client_id AND i.sku = q.sku AND i.location_id = q.location_id
                   AND i.received_at IS NULL) c
         WHERE c.running >= q.units_ahead + q.short - coalesce(st.available, 0)
         ORDER BY c.running
         LIMIT 1) e ON true;
COMMENT ON VIEW backorder.waiting_lines IS 'One row per order line waiting for units, with its place in the release queue and the date its units are expected from inbound (purchase orders / ASNs).';
COMMENT ON COLUMN backorder.waiting_lines.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.waiting_lines.order_id IS 'The waiting order.';
COMMENT ON COLUMN backorder.waiting_lines.line_no IS 'The waiting line.';
COMMENT ON COLUMN backorder.waiting_lines.sku IS 'SKU it waits for.';
COMMENT ON COLUMN backorder.waiting_lines.location_id IS 'Warehouse it waits at.';
COMMENT ON COLUMN backorder.waiting_lines.priority IS 'The order''s priority (higher is served first).';
COMMENT ON COLUMN backorder.waiting_lines.placed_at IS 'When the order was placed (first come, first served within a priority).';
COMMENT ON COLUMN backorder.waiting_lines.short IS 'Units the line still lacks.';
COMMENT ON COLUMN backorder.waiting_lines.queue_position IS '1 for the first line served when units of this SKU arrive at this warehouse.';
COMMENT ON COLUMN backorder.waiting_lines.units_ahead IS 'Units that lines ahead of it in the queue still lack.';
COMMENT ON COLUMN backorder.waiting_lines.expected_on IS 'Date the line''s last short unit is expected: the expected_at of the open inbound row that covers it when inbound units are handed out in release order (today if available stock covers it, a past date if that inbound is overdue); NULL when open inbound does not cover it.';

-- ---- needs_review, final form -------------------------------------------------------------

-- The first nine columns are 50_views.sql's, unchanged, in the same order.
CREATE OR REPLACE VIEW backorder.needs_review WITH (security_barrier) AS
SELECT o.client_id,
       o.order_id,
       o.placed_at,
       o.priority,
       o.held_since,
       backorder.now() - o.held_since AS held_for,
       h.reasons,
       s.short_skus,
       coalesce(s.short_units, 0) AS short_units,
       CASE WHEN s.short_lines > 0 AND w.covered_lines = s.short_lines THEN w.last_expected END
           AS expected_release_on,
       true AS sla_excluded,
       backorder.now() - o.placed_at AS age,
       coalesce(w.blocking, '[]'::jsonb) AS blocking,
       h.notes
  FROM backorder.orders o
  CROSS JOIN LATERAL (
        SELECT array_agg(oh.reason ORDER BY oh.reason) AS reasons,
               jsonb_object_agg(oh.reason, oh.note) FILTER (WHERE oh.note IS NOT NULL) AS notes
          FROM backorder.order_hold oh
         WHERE oh.client_id = o.client_id AND oh.order_id = o.order_id AND oh.released_at IS NULL) h
  LEFT JOIN LATERAL (
        SELECT jsonb_object_agg(coalesce(x.sku, '(none)'), x.short ORDER BY x.sku) AS short_skus,
               sum(x.short) AS short_units,
               sum(x.lines) AS short_lines
          FROM (SELECT ol.sku, sum(ol.qty - ol.allocated) AS short, count(*) AS lines
                  FROM backorder.order_line ol
                 WHERE ol.client_id = o.client_id AND ol.order_id = o.order_id
                   AND ol.allocated < ol.qty
                 GROUP BY ol.sku) x) s ON true
  LEFT JOIN (
        SELECT wl.client_id, wl.order_id,
               count(wl.expected_on) AS covered_lines,
               max(wl.expected_on) AS last_expected,
               jsonb_agg(jsonb_build_object('line_no', wl.line_no, 'sku', wl.sku,
                                            'location_id', wl.location_id, 'short', wl.short,
                                            'units_ahead', wl.units_ahead,
                                            'expected_on', wl.expected_on)
                         ORDER BY wl.line_no) AS blocking
          FROM backorder.waiting_lines wl
         GROUP BY wl.client_id, wl.order_id) w
    ON w.client_id = o.client_id AND w.order_id = o.order_id
 WHERE o.status = 'needs_review'
   AND o.client_id = ANY ((SELECT backorder.session_clients())::text[]);
COMMENT ON VIEW backorder.needs_review IS 'One row per held order: why it is held, since when, which SKUs it is short of, and when its missing units are expected.';
COMMENT ON COLUMN backorder.needs_review.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.needs_review.order_id IS 'The held order.';
COMMENT ON COLUMN backorder.needs_review.placed_at IS 'When the customer placed it.';
COMMENT ON COLUMN backorder.needs_review.priority IS 'Queue priority (higher is served first).';
COMMENT ON COLUMN backorder.needs_review.held_since IS 'When the current hold period began.';
COMMENT ON COLUMN backorder.needs_review.held_for IS 'How long it has been held, as of backorder.now().';
COMMENT ON COLUMN backorder.needs_review.reasons IS 'Open hold reasons, sorted: out_of_stock, discontinued, unknown_sku, manual, ...';
COMMENT ON COLUMN backorder.needs_review.short_skus IS 'JSON object: SKU -> units still missing ("(none)" for lines without a SKU).';
COMMENT ON COLUMN backorder.needs_review.short_units IS 'Units still missing over all lines.';
COMMENT ON COLUMN backorder.needs_review.expected_release_on IS 'Date the order''s last short unit is expected from inbound, handing inbound units to waiting lines in release order (see waiting_lines.expected_on); NULL when it is short of nothing (only operator holds), or when a short line is not covered by open inbound or waits nowhere (unknown SKU).  Operator holds can keep it held longer.';
COMMENT ON COLUMN backorder.needs_review.sla_excluded IS 'Always true: a held order is excluded from the SLA (sla_status state excluded, orders.sla_due_at NULL); its clock starts again when it is released.';
COMMENT ON COLUMN backorder.needs_review.age IS 'Time since the customer placed it, as of backorder.now().';
COMMENT ON COLUMN backorder.needs_review.blocking IS 'JSON array, one object per waiting line: line_no, sku, location_id, short (units missing), units_ahead (missing units of lines ahead in the queue), expected_on.';
COMMENT ON COLUMN backorder.needs_review.notes IS 'JSON object: hold reason -> the operator''s note, for open holds that have one; NULL when none has.';

-- ---- backordered_skus -----------------------------------------------------------------

CREATE VIEW backorder.backordered_skus WITH (security_barrier) AS
SELECT q.client_id,
       q.sku,
       q.location_id,
       q.units_short,
       q.lines_waiting,
       q.orders_waiting,
       q.oldest_waiting_since,
       backorder.now() - q.oldest_waiting_since AS oldest_wait,
       coalesce(st.on_hand, 0) AS on_hand,
       coalesce(st.allocated, 0) AS allocated,
       coalesce(i.inbound_units, 0) AS inbound_units,
       i.next_arrival,
       greatest(q.units_short - greatest(coalesce(st.on_hand - st.allocated, 0), 0)
                - coalesce(i.inbound_units, 0), 0) AS uncovered_units
  FROM (SELECT l.client_id, l.sku, l.location_id,
               sum(l.qty - l.allocated) AS units_short,
               count(*) AS lines_waiting,
               count(DISTINCT l.order_id) AS orders_waiting,
               min(o.held_since) AS oldest_waiting_since
          FROM backorder.order_line l
          JOIN backorder.orders o ON o.client_id = l.client_id AND o.order_id = l.order_id
         WHERE l.waiting
           AND l.client_id = ANY ((SELECT backorder.session_clients())::text[])
         GROUP BY l.client_id, l.sku, l.location_id) q
  LEFT JOIN backorder.stock st
    ON st.client_id = q.client_id AND st.sku = q.sku AND st.location_id = q.location_id
  LEFT JOIN LATERAL (
        SELECT sum(ib.qty) AS inbound_units, min(ib.expected_at) AS next_arrival
          FROM backorder.inbound ib
         WHERE ib.client_id = q.client_id AND ib.sku = q.sku AND ib.location_id = q.location_id
           AND ib.received_at IS NULL) i ON true;
COMMENT ON VIEW backorder.backordered_skus IS 'One row per SKU and warehouse that order lines wait for: how much is short, for how many orders and how long, and what stock and inbound there is.';
COMMENT ON COLUMN backorder.backordered_skus.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.backordered_skus.sku IS 'The SKU waited for.';
COMMENT ON COLUMN backorder.backordered_skus.location_id IS 'Warehouse the lines wait at.';
COMMENT ON COLUMN backorder.backordered_skus.units_short IS 'Units the waiting lines still lack.';
COMMENT ON COLUMN backorder.backordered_skus.lines_waiting IS 'Order lines waiting.';
COMMENT ON COLUMN backorder.backordered_skus.orders_waiting IS 'Distinct orders waiting.';
COMMENT ON COLUMN backorder.backordered_skus.oldest_waiting_since IS 'Earliest held_since among the waiting orders.';
COMMENT ON COLUMN backorder.backordered_skus.oldest_wait IS 'How long the longest-waiting order has been held, as of backorder.now().';
COMMENT ON COLUMN backorder.backordered_skus.on_hand IS 'Units on hand at the warehouse.';
COMMENT ON COLUMN backorder.backordered_skus.allocated IS 'Units on hand already allocated to order lines.';
COMMENT ON COLUMN backorder.backordered_skus.inbound_units IS 'Units in open inbound rows (not yet received).';
COMMENT ON COLUMN backorder.backordered_skus.next_arrival IS 'Earliest expected_at of the open inbound rows; NULL when none.';
COMMENT ON COLUMN backorder.backordered_skus.uncovered_units IS 'Short units that neither available stock nor open inbound covers: what still needs a purchase order.';

-- ---- sla_status -----------------------------------------------------------------------

CREATE VIEW backorder.sla_status WITH (security_barrier) AS
SELECT o.client_id,
       o.order_id,
       o.status,
       o.priority,
       o.placed_at,
       o.ready_at,
       o.sla_due_at,
       CASE WHEN o.status = 'needs_review' THEN 'excluded'
            WHEN o.sla_due_at IS NULL THEN NULL
            WHEN o.sla_due_at <= n.now THEN 'breached'
            WHEN o.sla_due_at - n.now <= coalesce(cs.at_risk_margin, '2 hours'::interval) THEN 'at_risk'
            ELSE 'on_time' END AS state,
       CASE WHEN o.status = 'ready' THEN o.sla_due_at - n.now END AS time_left,
       coalesce(cs.at_risk_margin, '2 hours'::interval) AS at_risk_margin,
       coalesce(cs.promise, 'hours') AS promise
  FROM (SELECT backorder.now() AS now) n
  JOIN backorder.orders o ON o.status IN ('ready', 'needs_review')
  LEFT JOIN backorder.client_sla cs ON cs.client_id = o.client_id
 WHERE o.client_id = ANY ((SELECT backorder.session_clients())::text[]);
COMMENT ON VIEW backorder.sla_status IS 'One row per open order (ready or held) with its SLA state as of backorder.now().';
COMMENT ON COLUMN backorder.sla_status.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.sla_status.order_id IS 'The order.';
COMMENT ON COLUMN backorder.sla_status.status IS 'ready or needs_review.';
COMMENT ON COLUMN backorder.sla_status.priority IS 'Queue priority (higher is served first).';
COMMENT ON COLUMN backorder.sla_status.placed_at IS 'When the customer placed it.';
COMMENT ON COLUMN backorder.sla_status.ready_at IS 'When it last became ready: the SLA clock started then (for a held order: before it was held again).';
COMMENT ON COLUMN backorder.sla_status.sla_due_at IS 'When it must have shipped (orders.sla_due_at); NULL while held.';
COMMENT ON COLUMN backorder.sla_status.state IS 'excluded (held), breached (due time passed), at_risk (due within at_risk_margin), on_time; NULL for a ready order without a due time (ready before the SLA clock was installed).';
COMMENT ON COLUMN backorder.sla_status.time_left IS 'Due time minus backorder.now() for ready orders (negative once breached); NULL when excluded.';
COMMENT ON COLUMN backorder.sla_status.at_risk_margin IS 'The client''s margin (client_sla.at_risk_margin, 2 hours without a row).';
COMMENT ON COLUMN backorder.sla_status.promise IS 'The client''s promise: same_day, next_business_day, or hours (client.sla_hours).';

-- ---- order_status_summary -------------------------------------------------------------

CREATE VIEW backorder.order_status_summary WITH (security_barrier) AS
SELECT o.client_id,
       o.status,
       'open'::text AS period,
       NULL::timestamptz AS period_start,
       count(*) AS orders,
       sum(u.lines) AS lines,
       sum(u.units) AS units,
       sum(u.allocated) AS units_allocated,
       sum(u.units - u.allocated) AS units_short,
       min(o.placed_at) AS oldest_placed_at
  FROM backorder.orders o
  CROSS JOIN LATERAL (
        SELECT count(*) AS lines, coalesce(sum(l.qty), 0) AS units, coalesce(sum(l.allocated), 0) AS allocated
          FROM backorder.order_line l
         WHERE l.client_id = o.client_id AND l.order_id = o.order_id) u
 WHERE o.status IN ('ready', 'needs_review')
   AND o.client_id = ANY ((SELECT backorder.session_clients())::text[])
 GROUP BY o.client_id, o.status
UNION ALL
SELECT d.client_id,
       t.status,
       'today'::text,
       d.day_start,
       count(*),
       sum(t.lines),
       sum(t.units),
       0::numeric,
       0::numeric,
       min(t.placed_at)
  FROM (SELECT c.client_id,
               (date_trunc('day', backorder.now() AT TIME ZONE coalesce(cs.time_zone, 'UTC'))
                 AT TIME ZONE coalesce(cs.time_zone, 'UTC')) AS day_start
          FROM backorder.client c
          LEFT JOIN backorder.client_sla cs ON cs.client_id = c.client_id
         WHERE c.client_id = ANY ((SELECT backorder.session_clients())::text[])) d
  CROSS JOIN LATERAL (
        SELECT o.status, o.placed_at, u.lines, u.units
          FROM backorder.orders o
          CROSS JOIN LATERAL (
                SELECT count(*) AS lines, coalesce(sum(l.qty), 0) AS units
                  FROM backorder.order_line l
                 WHERE l.client_id = o.client_id AND l.order_id = o.order_id) u
         WHERE o.client_id = d.client_id AND o.status IN ('shipped', 'cancelled')
           AND coalesce(o.shipped_at, o.cancelled_at) >= d.day_start
        OFFSET 0) t     -- not flattened: one index range scan (orders_closed) per client
 GROUP BY d.client_id, t.status, d.day_start;
COMMENT ON VIEW backorder.order_status_summary IS 'Orders and units per client and status: every open order (period open), and the orders shipped or cancelled since the start of the client''s local day (period today).';
COMMENT ON COLUMN backorder.order_status_summary.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.order_status_summary.status IS 'ready or needs_review (period open); shipped or cancelled (period today).';
COMMENT ON COLUMN backorder.order_status_summary.period IS 'open: all orders now in this status; today: orders that reached it since period_start.';
COMMENT ON COLUMN backorder.order_status_summary.period_start IS 'Start of the client''s local day (client_sla.time_zone, else UTC) for period today; NULL for open.';
COMMENT ON COLUMN backorder.order_status_summary.orders IS 'Number of orders.';
COMMENT ON COLUMN backorder.order_status_summary.lines IS 'Number of order lines.';
COMMENT ON COLUMN backorder.order_status_summary.units IS 'Units ordered.';
COMMENT ON COLUMN backorder.order_status_summary.units_allocated IS 'Units allocated (0 once shipped or cancelled).';
COMMENT ON COLUMN backorder.order_status_summary.units_short IS 'Units ordered but not allocated (0 once shipped or cancelled).';
COMMENT ON COLUMN backorder.order_status_summary.oldest_placed_at IS 'Earliest placed_at among the orders.';

-- ---- hold_aging ---------------------------------------------------------------------------

CREATE VIEW backorder.hold_aging WITH (security_barrier) AS
SELECT c.client_id,
       b.bucket,
       b.bucket_no,
       b.from_days,
       b.to_days,
       count(x.order_id) AS orders,
       coalesce(sum(x.short), 0) AS units_short,
       min(x.held_since) AS oldest_held_since
  FROM (SELECT DISTINCT o.client_id
          FROM backorder.orders o
         WHERE o.status = 'needs_review'
           AND o.client_id = ANY ((SELECT backorder.session_clients())::text[])) c
  CROSS JOIN (VALUES (1, '0-1 days',  0, 1), (2, '1-3 days',  1, 3), (3, '3-7 days', 3, 7),
                     (4, '7-14 days', 7, 14), (5, '14+ days', 14, NULL))
             AS b(bucket_no, bucket, from_days, to_days)
  LEFT JOIN (
        SELECT o.client_id, o.order_id, o.held_since,
               (SELECT coalesce(sum(l.qty - l.allocated), 0) FROM backorder.order_line l
                 WHERE l.client_id = o.client_id AND l.order_id = o.order_id) AS short,
               backorder.now() - o.held_since AS held_for
          FROM backorder.orders o
         WHERE o.status = 'needs_review'
           AND o.client_id = ANY ((SELECT backorder.session_clients())::text[])) x
    ON x.client_id = c.client_id
   AND x.held_for >= make_interval(days => b.from_days)
   AND (b.to_days IS NULL OR x.held_for < make_interval(days => b.to_days))
 GROUP BY c.client_id, b.bucket, b.bucket_no, b.from_days, b.to_days;
COMMENT ON VIEW backorder.hold_aging IS 'Held orders per client by how long they have been held (as of backorder.now()), in five buckets: 0-1, 1-3, 3-7, 7-14, 14+ days; every bucket appears for a client with held orders, empty ones with 0.';
COMMENT ON COLUMN backorder.hold_aging.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.hold_aging.bucket IS 'Label: 0-1 days, 1-3 days, 3-7 days, 7-14 days, 14+ days.';
COMMENT ON COLUMN backorder.hold_aging.bucket_no IS '1 to 5, for sorting.';
COMMENT ON COLUMN backorder.hold_aging.from_days IS 'Held for at least this many days (24-hour periods since held_since).';
COMMENT ON COLUMN backorder.hold_aging.to_days IS 'Held for less than this many days; NULL for the last bucket.';
COMMENT ON COLUMN backorder.hold_aging.orders IS 'Held orders in the bucket.';
COMMENT ON COLUMN backorder.hold_aging.units_short IS 'Units those orders still lack.';
COMMENT ON COLUMN backorder.hold_aging.oldest_held_since IS 'Earliest held_since in the bucket; NULL when empty.';
