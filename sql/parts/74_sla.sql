-- The SLA clock (issue 6).  An order's clock starts when it becomes ready (orders.ready_at,
-- set by the engine); its due time is stored in orders.sla_due_at by a cheap BEFORE UPDATE
-- trigger that fires only when ready_at changes or a ready order is held.  While an order is
-- held (needs_review) it is excluded from the SLA and sla_due_at is NULL.
--
-- A client's promise is either elapsed hours (client.sla_hours, the default when the client
-- has no row in client_sla) or a calendar rule in client_sla: orders ready on a business
-- day before the local cutoff ship that day, later ones on the next business day; the
-- promise same_day is due at the end of that ship day, next_business_day at the end of the
-- business day after it.  "End of day" is local midnight: shipped before sla_due_at is on time.

CREATE TABLE backorder.client_sla (
    client_id       text PRIMARY KEY,
    time_zone       text NOT NULL DEFAULT 'UTC',
    cutoff          time NOT NULL DEFAULT '14:00',
    business_days   integer[] NOT NULL DEFAULT '{1,2,3,4,5}',
    promise         text NOT NULL DEFAULT 'same_day',
    at_risk_margin  interval NOT NULL DEFAULT '2 hours'
);
COMMENT ON TABLE backorder.client_sla IS 'Per-client SLA calendar: time zone, same-day cutoff, business days, promise, at-risk margin.  A client without a row is promised client.sla_hours elapsed hours from ready.  Changes apply to orders that become ready afterwards.';
COMMENT ON COLUMN backorder.client_sla.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.client_sla.time_zone IS 'IANA time zone of the client''s warehouse day (e.g. Europe/Berlin; see pg_timezone_names).  Stored in the catalog''s spelling.';
COMMENT ON COLUMN backorder.client_sla.cutoff IS 'Local time of day, 00:00 to 23:59: an order ready on a business day before it ships that day; at or after it, on the next business day.';
COMMENT ON COLUMN backorder.client_sla.business_days IS 'ISO days of the week the warehouse ships (1 = Monday ... 7 = Sunday), stored sorted; holidays in client_holiday are excluded as well.';
COMMENT ON COLUMN backorder.client_sla.promise IS 'same_day: due at the end of the ship day; next_business_day: due at the end of the business day after the ship day; hours: due client.sla_hours after ready.';
COMMENT ON COLUMN backorder.client_sla.at_risk_margin IS 'sla_status calls an open ready order at_risk when its due time is less than this far away (not negative).';

CREATE TABLE backorder.client_holiday (
    client_id  text NOT NULL,
    holiday    date NOT NULL,
    name       text,
    PRIMARY KEY (client_id, holiday)
);
COMMENT ON TABLE backorder.client_holiday IS 'Days a client''s warehouse does not ship, on top of the days missing from client_sla.business_days.';
COMMENT ON COLUMN backorder.client_holiday.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.client_holiday.holiday IS 'Local date (in client_sla.time_zone) with no shipping.';
COMMENT ON COLUMN backorder.client_holiday.name IS 'Display name (e.g. Christmas Day).';

ALTER TABLE backorder.orders ADD COLUMN sla_due_at timestamptz;
COMMENT ON COLUMN backorder.orders.sla_due_at IS 'engine: when the order must have shipped, fixed when it became ready (ready_at) by its client''s SLA; NULL while new or held (held orders are excluded from the SLA).  Shipped before it is on time.';

-- No foreign keys to backorder.client: tests and tools reset the engine's tables with
-- TRUNCATE backorder.client, ... (a foreign key from here would make that fail).  The
-- validation triggers check the client instead, with the engine's SQLSTATE and hint.
CREATE FUNCTION backorder.require_client(p_client_id text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_client_id IS NULL THEN
        RAISE EXCEPTION 'client_id must not be null'
            USING ERRCODE = 'not_null_violation', HINT = 'Name a client from backorder.client.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM backorder.client c WHERE c.client_id = p_client_id) THEN
        RAISE EXCEPTION 'client "%" does not exist', p_client_id
            USING ERRCODE = 'foreign_key_violation', HINT = 'Insert it into backorder.client first.';
    END IF;
END
$$;
COMMENT ON FUNCTION backorder.require_client(text) IS
    'Raises 23502 for a NULL client and 23503 for a client missing from backorder.client (as the engine does); used by the validation triggers of the per-client settings tables.';

CREATE FUNCTION backorder.client_holiday_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM backorder.require_client(NEW.client_id);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION backorder.client_holiday_validate() IS
    'Trigger on client_holiday: the client must exist (23503).';
CREATE TRIGGER validate BEFORE INSERT OR UPDATE ON backorder.client_holiday
    FOR EACH ROW EXECUTE FUNCTION backorder.client_holiday_validate();

-- Validation with SQLSTATEs and hints (CHECK constraints cannot give hints).
CREATE FUNCTION backorder.client_sla_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    canonical text;
BEGIN
    PERFORM backorder.require_client(NEW.client_id);
    IF NEW.time_zone IS NULL THEN
        RAISE EXCEPTION 'time_zone must not be null'
            USING ERRCODE = 'not_null_violation',
                  HINT = 'Give an IANA time zone name such as ''Europe/Berlin'' (see pg_timezone_names).';
    END IF;
    IF TG_OP = 'INSERT' OR NEW.time_zone IS DISTINCT FROM OLD.time_zone THEN
        -- Full zone names only: abbreviations (EST) and POSIX strings (UTC+3) have no DST
        -- rules or an inverted sign, and are easy to get wrong.
        SELECT z.name INTO canonical
          FROM pg_timezone_names z
         WHERE lower(z.name) = lower(NEW.time_zone)
         ORDER BY z.name = NEW.time_zone DESC, z.name
         LIMIT 1;
        IF canonical IS NULL THEN
            RAISE EXCEPTION 'time zone "%" is not recognized', NEW.time_zone
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give an IANA time zone name such as ''Europe/Berlin'' or ''America/New_York''; SELECT name FROM pg_timezone_names lists them.';
        END IF;
        NEW.time_zone := canonical;
    END IF;
    IF NEW.cutoff IS NULL THEN
        RAISE EXCEPTION 'cutoff must not be null'
            USING ERRCODE = 'not_null_violation',
                  HINT = 'Give the same-day cutoff as a local time of day between 00:00 and 23:59, e.g. ''14:00''.';
    END IF;
    IF NEW.cutoff >= '24:00'::time THEN
        RAISE EXCEPTION 'cutoff % is outside 00:00-23:59', NEW.cutoff
            USING ERRCODE = 'datetime_field_overflow',
                  HINT = 'Give the same-day cutoff as a local time of day between 00:00 and 23:59, e.g. ''14:00''.';
    END IF;
    IF NEW.business_days IS NULL OR cardinality(NEW.business_days) = 0
       OR EXISTS (SELECT 1 FROM unnest(NEW.business_days) d
                   WHERE d IS NULL OR d < 1 OR d > 7) THEN
        RAISE EXCEPTION 'business_days % is not a non-empty list of ISO weekdays', NEW.business_days
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give ISO weekday numbers, 1 = Monday to 7 = Sunday, e.g. ''{1,2,3,4,5}''.';
    END IF;
    NEW.business_days := ARRAY(SELECT DISTINCT d FROM unnest(NEW.business_days) d ORDER BY d);
    IF NEW.promise IS NULL OR NEW.promise NOT IN ('same_day', 'next_business_day', 'hours') THEN
        RAISE EXCEPTION 'unknown SLA promise "%"', NEW.promise
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use same_day, next_business_day, or hours (client.sla_hours after ready).';
    END IF;
    IF NEW.at_risk_margin IS NULL THEN
        RAISE EXCEPTION 'at_risk_margin must not be null'
            USING ERRCODE = 'not_null_violation',
                  HINT = 'Give a non-negative interval such as ''2 hours''; ''0'' turns at_risk off.';
    END IF;
    IF NEW.at_risk_margin < '0'::interval THEN
        RAISE EXCEPTION 'at_risk_margin % is negative', NEW.at_risk_margin
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give a non-negative interval such as ''2 hours''; ''0'' turns at_risk off.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION backorder.client_sla_validate() IS
    'Trigger on client_sla: refuses an unknown time zone (22023), a cutoff outside 00:00-23:59 (22008), bad business days or promise (22023), a negative margin (22023), each with a hint; stores the time zone in the catalog''s spelling.';

CREATE TRIGGER validate BEFORE INSERT OR UPDATE ON backorder.client_sla
    FOR EACH ROW EXECUTE FUNCTION backorder.client_sla_validate();

-- The due time.  One query for the settings, then a walk over the calendar that looks
-- each candidate business day up in client_holiday (one primary-key probe per day).
CREATE FUNCTION backorder.sla_due_at(p_client_id text, p_ready_at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s         record;
    local_ts  timestamp;
    day       date;
    steps     integer;
    walked    integer := 0;
BEGIN
    IF p_client_id IS NULL OR p_ready_at IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT c.sla_hours, cs.time_zone, cs.cutoff, cs.business_days, cs.promise
      INTO s
      FROM backorder.client c
      LEFT JOIN backorder.client_sla cs ON cs.client_id = c.client_id
     WHERE c.client_id = p_client_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF s.promise IS NULL OR s.promise = 'hours' THEN
        RETURN p_ready_at + make_interval(hours => s.sla_hours);
    END IF;

    local_ts := p_ready_at AT TIME ZONE s.time_zone;
    day := local_ts::date;
    -- The ship day is the ready day if that is a business day and the order was ready
    -- before the cutoff, else the next business day; next_business_day adds one more.
    steps := CASE WHEN s.promise = 'next_business_day' THEN 1 ELSE 0 END;
    IF NOT (local_ts::time < s.cutoff
            AND extract(isodow FROM day)::integer = ANY (s.business_days)
            AND NOT EXISTS (SELECT 1 FROM backorder.client_holiday h
                             WHERE h.client_id = p_client_id
                               AND h.holiday = day)) THEN
        steps := steps + 1;
    END IF;
    WHILE steps > 0 LOOP
        day := day + 1;
        walked := walked + 1;
        IF walked > 3660 THEN
            RETURN NULL;        -- no business day in ten years of holidays
        END IF;
        IF extract(isodow FROM day)::integer = ANY (s.business_days)
           AND NOT EXISTS (SELECT 1 FROM backorder.client_holiday h
                            WHERE h.client_id = p_client_id
                              AND h.holiday = day) THEN
            steps := steps - 1;
        END IF;
    END LOOP;
    RETURN (day + 1)::timestamp AT TIME ZONE s.time_zone;
END
$$;
COMMENT ON FUNCTION backorder.sla_due_at(text, timestamptz) IS
    'When an order of this client that became ready at p_ready_at must have shipped: the end (local midnight) of its ship day (same_day) or of the business day after it (next_business_day), or ready + client.sla_hours (promise hours, or no client_sla row).  NULL for an unknown client.';

-- orders.sla_due_at is computed when the order becomes ready (from ready_at, which the engine
-- sets then and keeps while the order is held again), and cleared while it is held.  The WHEN
-- clause keeps the trigger off every other update of orders (shipping, cancelling, held ->
-- held, priority changes): it is evaluated in the executor, without calling the function.
-- Apps cannot write the column: only the engine changes ready_at and status (guard.c).
-- The trigger is C (src/sla_clock.c): it runs once per order a receipt releases.  The usual
-- promise (sla_hours) is computed there; calendar promises call sla_due_at() above.
CREATE FUNCTION backorder.sla_clock() RETURNS trigger
LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_sla_clock';
COMMENT ON FUNCTION backorder.sla_clock() IS
    'Trigger on orders: sets sla_due_at when an order becomes ready (or is inserted ready by a split), clears it when the order is held, and refuses app writes to it (428C9).';

-- Named to fire after "edit_lock" and "guard" (triggers fire in name order).
CREATE TRIGGER sla_clock BEFORE UPDATE ON backorder.orders
    FOR EACH ROW
    WHEN ((NEW.status = 'ready' AND (OLD.status <> 'ready' OR NEW.ready_at IS DISTINCT FROM OLD.ready_at))
          OR (NEW.status = 'needs_review' AND OLD.sla_due_at IS NOT NULL)
          OR NEW.sla_due_at IS DISTINCT FROM OLD.sla_due_at)
    EXECUTE FUNCTION backorder.sla_clock();
-- Apps insert orders as new (the guard refuses any other status); the engine inserts ready
-- orders itself when it splits one.
CREATE TRIGGER sla_clock_insert BEFORE INSERT ON backorder.orders
    FOR EACH ROW WHEN (NEW.sla_due_at IS NOT NULL OR NEW.status = 'ready')
    EXECUTE FUNCTION backorder.sla_clock();

SELECT pg_catalog.pg_extension_config_dump('backorder.client_sla', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.client_holiday', '');
