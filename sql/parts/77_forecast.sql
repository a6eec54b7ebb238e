-- Forecasting (issue 5): demand per SKU and day, intermittent-demand methods (C aggregates in
-- src/forecast_aggs.c), Syntetos-Boylan classification, stock-out projection and
-- probability (src/forecast.c), demand surges, the stockout_risk view and alerts.

-- ---------------------------------------------------------------------------------------------
-- Methods as aggregates over a series in period order: SUM(...) ORDER BY period.

CREATE FUNCTION backorder.ses_trans(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_ses_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION backorder.ses_trans(internal, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_ses_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION backorder.croston_trans(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_croston_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION backorder.croston_trans(internal, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_croston_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION backorder.tsb_trans(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_tsb_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION backorder.tsb_trans(internal, float8, float8, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_tsb_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION backorder.smooth_final(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'backorder_smooth_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION backorder.sba_final(internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'backorder_sba_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION backorder.ses_trans(internal, float8) IS 'Internal: transition of backorder.ses.';
COMMENT ON FUNCTION backorder.ses_trans(internal, float8, float8) IS 'Internal: transition of backorder.ses.';
COMMENT ON FUNCTION backorder.croston_trans(internal, float8) IS 'Internal: transition of backorder.croston and backorder.sba.';
COMMENT ON FUNCTION backorder.croston_trans(internal, float8, float8) IS 'Internal: transition of backorder.croston and backorder.sba.';
COMMENT ON FUNCTION backorder.tsb_trans(internal, float8) IS 'Internal: transition of backorder.tsb.';
COMMENT ON FUNCTION backorder.tsb_trans(internal, float8, float8, float8) IS 'Internal: transition of backorder.tsb.';
COMMENT ON FUNCTION backorder.smooth_final(internal) IS 'Internal: final step of backorder.ses, croston and tsb.';
COMMENT ON FUNCTION backorder.sba_final(internal) IS 'Internal: final step of backorder.sba.';

CREATE AGGREGATE backorder.ses(qty float8) (
    SFUNC = backorder.ses_trans, STYPE = internal,
    FINALFUNC = backorder.smooth_final, FINALFUNC_MODIFY = READ_ONLY);
CREATE AGGREGATE backorder.ses(qty float8, alpha float8) (
    SFUNC = backorder.ses_trans, STYPE = internal,
    FINALFUNC = backorder.smooth_final, FINALFUNC_MODIFY = READ_ONLY);
CREATE AGGREGATE backorder.croston(qty float8) (
    SFUNC = backorder.croston_trans, STYPE = internal,
    FINALFUNC = backorder.smooth_final, FINALFUNC_MODIFY = READ_ONLY);
CREATE AGGREGATE backorder.croston(qty float8, alpha float8) (
    SFUNC = backorder.croston_trans, STYPE = internal,
    FINALFUNC = backorder.smooth_final, FINALFUNC_MODIFY = READ_ONLY);
CREATE AGGREGATE backorder.sba(qty float8) (
    SFUNC = backorder.croston_trans, STYPE = internal,
    FINALFUNC = backorder.sba_final, FINALFUNC_MODIFY = READ_ONLY);
CREATE AGGREGATE backorder.sba(qty float8, alpha float8) (
    SFUNC = backorder.croston_trans, STYPE = internal,
    FINALFUNC = backorder.sba_final, FINALFUNC_MODIFY = READ_ONLY);
CREATE AGGREGATE backorder.tsb(qty float8) (
    SFUNC = backorder.tsb_trans, STYPE = internal,
    FINALFUNC = backorder.smooth_final, FINALFUNC_MODIFY = READ_ONLY);
CREATE AGGREGATE backorder.tsb(qty float8, alpha float8, beta float8) (
    SFUNC = backorder.tsb_trans, STYPE = internal,
    FINALFUNC = backorder.smooth_final, FINALFUNC_MODIFY = READ_ONLY);

COMMENT ON AGGREGATE backorder.ses(float8) IS
    'Simple exponential smoothing, alpha 0.1: the one-step-ahead forecast after the series (aggregate with ORDER BY period; as a window function, the running forecast).  R forecast 8.20 ses(initial = "simple").  NULLs are skipped.';
COMMENT ON AGGREGATE backorder.ses(float8, float8) IS
    'Simple exponential smoothing with weight alpha in (0, 1]: the one-step-ahead forecast after the series (ORDER BY period).  R forecast 8.20 ses(initial = "simple").  NULLs are skipped.';
COMMENT ON AGGREGATE backorder.croston(float8) IS
    'Croston''s method, alpha 0.1: smoothed demand size over smoothed inter-demand interval, the forecast per period after the series (ORDER BY period).  R forecast 8.20 croston().  All zeros: 0.  NULLs are skipped.';
COMMENT ON AGGREGATE backorder.croston(float8, float8) IS
    'Croston''s method with weight alpha in (0, 1] (ORDER BY period).  R forecast 8.20 croston().  All zeros: 0.  NULLs are skipped.';
COMMENT ON AGGREGATE backorder.sba(float8) IS
    'Syntetos-Boylan approximation, alpha 0.1: croston * (1 - alpha/2), the forecast per period after the series (ORDER BY period).';
COMMENT ON AGGREGATE backorder.sba(float8, float8) IS
    'Syntetos-Boylan approximation with weight alpha in (0, 1]: croston * (1 - alpha/2) (ORDER BY period).';
COMMENT ON AGGREGATE backorder.tsb(float8) IS
    'Teunter-Syntetos-Babai, alpha = beta = 0.1: smoothed probability of demand (updated every period) times smoothed demand size (updated on demand), the forecast per period after the series (ORDER BY period).  Initial values as tsintermittent tsb(init = "naive").';
COMMENT ON AGGREGATE backorder.tsb(float8, float8, float8) IS
    'Teunter-Syntetos-Babai with size weight alpha and probability weight beta, both in (0, 1] (ORDER BY period).  Initial values as tsintermittent tsb(init = "naive").';

-- ---------------------------------------------------------------------------------------------
-- Syntetos-Boylan classification: one pass, any order, parallel.

CREATE TYPE backorder.demand_profile_result AS (
    periods         bigint,
    demand_periods  bigint,
    mean            float8,
    sd              float8,
    adi             float8,
    cv2             float8,
    pattern         text
);
COMMENT ON TYPE backorder.demand_profile_result IS 'Result of backorder.demand_profile(): a demand series summarised for the Syntetos-Boylan classification.';
COMMENT ON COLUMN backorder.demand_profile_result.periods IS 'Periods in the series (NULLs skipped).';
COMMENT ON COLUMN backorder.demand_profile_result.demand_periods IS 'Periods with demand (not 0).';
COMMENT ON COLUMN backorder.demand_profile_result.mean IS 'Mean demand per period.';
COMMENT ON COLUMN backorder.demand_profile_result.sd IS 'Sample standard deviation of demand per period (0 below 2 periods).';
COMMENT ON COLUMN backorder.demand_profile_result.adi IS 'Average inter-demand interval: periods / demand_periods (NULL without demand).';
COMMENT ON COLUMN backorder.demand_profile_result.cv2 IS 'Squared coefficient of variation of the non-zero demand sizes (sample sd; 0 below 2 demands; NULL without demand).';
COMMENT ON COLUMN backorder.demand_profile_result.pattern IS 'smooth (ADI < 1.32, CV2 < 0.49), erratic (ADI < 1.32, CV2 >= 0.49), intermittent (ADI >= 1.32, CV2 < 0.49), lumpy (both above), none (no demand).';

CREATE FUNCTION backorder.profile_trans(internal, float8) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION backorder.profile_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_profile_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION backorder.profile_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'backorder_profile_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION backorder.profile_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_profile_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION backorder.profile_final(internal) RETURNS backorder.demand_profile_result
    AS 'MODULE_PATHNAME', 'backorder_profile_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION backorder.profile_trans(internal, float8) IS 'Internal: transition of backorder.demand_profile.';
COMMENT ON FUNCTION backorder.profile_combine(internal, internal) IS 'Internal: combines partial backorder.demand_profile states (parallel aggregation).';
COMMENT ON FUNCTION backorder.profile_serialize(internal) IS 'Internal: serializes a backorder.demand_profile state.';
COMMENT ON FUNCTION backorder.profile_deserialize(bytea, internal) IS 'Internal: deserializes a backorder.demand_profile state.';
COMMENT ON FUNCTION backorder.profile_final(internal) IS 'Internal: final step of backorder.demand_profile.';

CREATE AGGREGATE backorder.demand_profile(qty float8) (
    SFUNC = backorder.profile_trans, STYPE = internal, SSPACE = 64,
    FINALFUNC = backorder.profile_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = backorder.profile_combine,
    SERIALFUNC = backorder.profile_serialize, DESERIALFUNC = backorder.profile_deserialize,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE backorder.demand_profile(float8) IS
    'One-pass summary of a demand series in any order (one row per period, zeros explicit): periods, demand periods, mean, sd, ADI, CV2 and the Syntetos-Boylan pattern.  NULLs are skipped; NaN, infinite or negative demand is an error.';

-- ---------------------------------------------------------------------------------------------
-- Daily series from order lines, and the forecast of a series.

CREATE FUNCTION backorder.series_trans(internal, timestamptz, integer, date, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_series_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION backorder.series_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_series_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION backorder.series_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'backorder_series_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION backorder.series_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_series_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION backorder.series_final(internal) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'backorder_series_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION backorder.series_trans(internal, timestamptz, integer, date, integer) IS 'Internal: transition of backorder.demand_series.';
COMMENT ON FUNCTION backorder.series_combine(internal, internal) IS 'Internal: combines partial backorder.demand_series states (parallel aggregation).';
COMMENT ON FUNCTION backorder.series_serialize(internal) IS 'Internal: serializes a backorder.demand_series state.';
COMMENT ON FUNCTION backorder.series_deserialize(bytea, internal) IS 'Internal: deserializes a backorder.demand_series state.';
COMMENT ON FUNCTION backorder.series_final(internal) IS 'Internal: final step of backorder.demand_series.';

CREATE AGGREGATE backorder.demand_series(placed_at timestamptz, qty integer, as_of date, history_days integer) (
    SFUNC = backorder.series_trans, STYPE = internal, SSPACE = 400,
    FINALFUNC = backorder.series_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = backorder.series_combine,
    SERIALFUNC = backorder.series_serialize, DESERIALFUNC = backorder.series_deserialize,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE backorder.demand_series(timestamptz, integer, date, integer) IS
    'Units per calendar day (session time zone), explicit zeros, oldest first, over the history_days days before as_of; the series starts at its first day of demand unless there was demand before the window.  NULL: no demand before as_of.  Rows in any order.';

CREATE TYPE backorder.series_forecast_result AS (
    pattern   text,
    method    text,
    forecast  float8,
    mean      float8,
    sd        float8,
    adi       float8,
    cv2       float8,
    periods   integer
);
COMMENT ON TYPE backorder.series_forecast_result IS 'Result of backorder.series_forecast().';
COMMENT ON COLUMN backorder.series_forecast_result.pattern IS 'Syntetos-Boylan pattern of the series: smooth, erratic, intermittent, lumpy, none.';
COMMENT ON COLUMN backorder.series_forecast_result.method IS 'Method applied (auto resolved): ses, croston, sba, tsb, mean.';
COMMENT ON COLUMN backorder.series_forecast_result.forecast IS 'One-step-ahead forecast: demand per period (0 for an empty series).';
COMMENT ON COLUMN backorder.series_forecast_result.mean IS 'Mean demand per period.';
COMMENT ON COLUMN backorder.series_forecast_result.sd IS 'Sample standard deviation of demand per period.';
COMMENT ON COLUMN backorder.series_forecast_result.adi IS 'Average inter-demand interval (periods / demand periods); NULL without demand.';
COMMENT ON COLUMN backorder.series_forecast_result.cv2 IS 'Squared coefficient of variation of demand sizes; NULL without demand.';
COMMENT ON COLUMN backorder.series_forecast_result.periods IS 'Periods in the series.';

CREATE FUNCTION backorder.series_forecast(series float8[], method text DEFAULT 'auto',
                                          alpha float8 DEFAULT 0.1, beta float8 DEFAULT 0.1)
RETURNS backorder.series_forecast_result
    AS 'MODULE_PATHNAME', 'backorder_series_forecast' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION backorder.series_forecast(float8[], text, float8, float8) IS
    'Classifies a demand series (oldest first, zeros explicit) and forecasts its next period with method ses, croston, sba, tsb, mean, or auto (chosen from the pattern; see README).  Same arithmetic as the aggregates.';

CREATE FUNCTION backorder.series_trans(internal, timestamptz, integer, date, integer, text, float8, float8)
RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_series_trans' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION backorder.series_forecast_final(internal) RETURNS backorder.series_forecast_result
    AS 'MODULE_PATHNAME', 'backorder_series_forecast_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION backorder.series_trans(internal, timestamptz, integer, date, integer, text, float8, float8) IS 'Internal: transition of backorder.demand_forecast with a method.';
COMMENT ON FUNCTION backorder.series_forecast_final(internal) IS 'Internal: final step of backorder.demand_forecast.';

CREATE AGGREGATE backorder.demand_forecast(placed_at timestamptz, qty integer, as_of date, history_days integer) (
    SFUNC = backorder.series_trans, STYPE = internal, SSPACE = 400,
    FINALFUNC = backorder.series_forecast_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = backorder.series_combine,
    SERIALFUNC = backorder.series_serialize, DESERIALFUNC = backorder.series_deserialize,
    PARALLEL = SAFE);
CREATE AGGREGATE backorder.demand_forecast(placed_at timestamptz, qty integer, as_of date, history_days integer,
                                           method text, alpha float8, beta float8) (
    SFUNC = backorder.series_trans, STYPE = internal, SSPACE = 400,
    FINALFUNC = backorder.series_forecast_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = backorder.series_combine,
    SERIALFUNC = backorder.series_serialize, DESERIALFUNC = backorder.series_deserialize,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE backorder.demand_forecast(timestamptz, integer, date, integer) IS
    'backorder.series_forecast(backorder.demand_series(...)) in one step, with the automatic choice: order lines in any order to the classified daily forecast.  What stockout_risk runs.';
COMMENT ON AGGREGATE backorder.demand_forecast(timestamptz, integer, date, integer, text, float8, float8) IS
    'backorder.series_forecast(backorder.demand_series(...), method, alpha, beta) in one step; method, alpha and beta are read from the first row of each group.';

CREATE FUNCTION backorder.series_block_trans(internal, date, integer[], date, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'backorder_series_block_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION backorder.series_block_trans(internal, date, integer[], date, integer) IS 'Internal: transition of backorder.demand_forecast over demand_summary rows.';
CREATE AGGREGATE backorder.demand_forecast(block_start date, units integer[], as_of date, history_days integer) (
    SFUNC = backorder.series_block_trans, STYPE = internal, SSPACE = 400,
    FINALFUNC = backorder.series_forecast_final, FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = backorder.series_combine,
    SERIALFUNC = backorder.series_serialize, DESERIALFUNC = backorder.series_deserialize,
    PARALLEL = SAFE);
COMMENT ON AGGREGATE backorder.demand_forecast(date, integer[], date, integer) IS
    'The classified daily forecast from backorder.demand_summary rows (units of the days from block_start on), rows in any order: what stockout_risk runs.  Same series, and so the same result, as demand_forecast over the order lines in the summary''s time zone.';

-- True when the session counts days in the summary's zone: stockout_risk then reads
-- demand_summary, else the order lines (same figures, slower).
CREATE FUNCTION backorder.demand_summary_applies() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.current_setting('TimeZone') = backorder.demand_time_zone()
$$;
COMMENT ON FUNCTION backorder.demand_summary_applies() IS
    'Whether the session''s TimeZone is the demand summary''s zone (backorder.demand_time_zone()), so that its days are the session''s days.';

-- ---------------------------------------------------------------------------------------------
-- Projection and probability (src/forecast.c): pure functions of their arguments.

CREATE TYPE backorder.projection AS (
    stockout_on        date,
    lead_time_demand   float8,
    lead_time_inbound  float8
);
COMMENT ON TYPE backorder.projection IS 'Result of backorder.project_stock().';
COMMENT ON COLUMN backorder.projection.stockout_on IS 'First day whose projected position is below zero; NULL if none within the horizon.';
COMMENT ON COLUMN backorder.projection.lead_time_demand IS 'Projected demand over the lead_time_days days from as_of, surges applied.';
COMMENT ON COLUMN backorder.projection.lead_time_inbound IS 'Inbound units expected within the lead time (overdue inbound included).';

CREATE FUNCTION backorder.project_stock(start_units float8, as_of date, daily_demand float8,
                                        horizon_days integer, lead_time_days integer,
                                        inbound_on date[] DEFAULT NULL, inbound_units float8[] DEFAULT NULL,
                                        surge_from date[] DEFAULT NULL, surge_to date[] DEFAULT NULL,
                                        surge_multiplier float8[] DEFAULT NULL, surge_extra float8[] DEFAULT NULL)
RETURNS backorder.projection
    AS 'MODULE_PATHNAME', 'backorder_project_stock' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION backorder.project_stock(float8, date, float8, integer, integer, date[], float8[], date[], date[], float8[], float8[]) IS
    'Day-by-day projection from as_of: each day adds the inbound expected that day (overdue inbound on as_of) and takes daily_demand times the multipliers plus the extra units of the surges covering it; returns the first day below zero, and demand and inbound over the lead time.';

CREATE FUNCTION backorder.stockout_probability(on_hand float8, in_transit float8, lead_time_days float8,
                                               mean_daily_demand float8, sd_daily_demand float8)
RETURNS float8
    AS 'MODULE_PATHNAME', 'backorder_stockout_probability' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION backorder.stockout_probability(float8, float8, float8, float8, float8) IS
    'Probability that demand over the lead time exceeds on_hand + in_transit, lead-time demand being normal with mean L*mean_daily_demand and sd sqrt(L)*sd_daily_demand (sd 0: 0 or 1).  Negative lead time or demand figures: 22023.';

CREATE FUNCTION backorder.safety_stock(sd_daily_demand float8, lead_time_days float8, service_level float8 DEFAULT 0.95)
RETURNS float8
    AS 'MODULE_PATHNAME', 'backorder_safety_stock' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION backorder.safety_stock(float8, float8, float8) IS
    'Units of safety stock for a cycle service level in (0, 1): z(service_level) * sd_daily_demand * sqrt(lead_time_days).';

CREATE FUNCTION backorder.normal_quantile(p float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'backorder_normal_quantile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION backorder.normal_quantile(float8) IS
    'Standard normal quantile (as R''s qnorm, algorithm AS 241) for p in (0, 1).';

-- ---------------------------------------------------------------------------------------------
-- Settings: per client (alert buffer, service level, defaults) and per SKU (method override).

CREATE TABLE backorder.client_forecast_setting (
    client_id               text PRIMARY KEY REFERENCES backorder.client,
    alert_buffer_days       integer NOT NULL DEFAULT 7 CHECK (alert_buffer_days >= 0),
    service_level           float8 NOT NULL DEFAULT 0.95 CHECK (service_level > 0 AND service_level < 1),
    default_lead_time_days  integer NOT NULL DEFAULT 14 CHECK (default_lead_time_days >= 0),
    review_days             integer NOT NULL DEFAULT 30 CHECK (review_days >= 0)
);
COMMENT ON TABLE backorder.client_forecast_setting IS 'Forecasting settings per client; a client without a row gets the column defaults.';
COMMENT ON COLUMN backorder.client_forecast_setting.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.client_forecast_setting.alert_buffer_days IS 'An alert opens when the projected stock-out falls within lead time + this many days (default 7).';
COMMENT ON COLUMN backorder.client_forecast_setting.service_level IS 'Cycle service level for safety stock and reorder points, in (0, 1) (default 0.95).';
COMMENT ON COLUMN backorder.client_forecast_setting.default_lead_time_days IS 'Lead time for SKUs whose catalog lead_time_days is NULL (default 14).';
COMMENT ON COLUMN backorder.client_forecast_setting.review_days IS 'Days of demand a suggested order covers beyond the reorder point (default 30).';

CREATE TABLE backorder.sku_forecast_setting (
    client_id  text NOT NULL,
    sku        text NOT NULL,
    method     text NOT NULL DEFAULT 'auto' CHECK (method IN ('auto', 'ses', 'croston', 'sba', 'tsb', 'mean')),
    alpha      float8 CHECK (alpha > 0 AND alpha <= 1),
    beta       float8 CHECK (beta > 0 AND beta <= 1),
    note       text,
    PRIMARY KEY (client_id, sku),
    FOREIGN KEY (client_id, sku) REFERENCES backorder.sku
);
COMMENT ON TABLE backorder.sku_forecast_setting IS 'Per-SKU override of the automatic choice of forecasting method.';
COMMENT ON COLUMN backorder.sku_forecast_setting.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.sku_forecast_setting.sku IS 'SKU.';
COMMENT ON COLUMN backorder.sku_forecast_setting.method IS 'auto (default: chosen per SKU), ses, croston, sba, tsb or mean.';
COMMENT ON COLUMN backorder.sku_forecast_setting.alpha IS 'Smoothing weight in (0, 1]; NULL: 0.1.';
COMMENT ON COLUMN backorder.sku_forecast_setting.beta IS 'TSB probability weight in (0, 1]; NULL: 0.1.';
COMMENT ON COLUMN backorder.sku_forecast_setting.note IS 'Why the override (free text).';

-- ---------------------------------------------------------------------------------------------
-- Announced demand surges.

CREATE TABLE backorder.demand_surge (
    surge_id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id            text NOT NULL REFERENCES backorder.client,
    sku                  text,
    starts_on            date NOT NULL,
    ends_on              date NOT NULL,
    multiplier           float8 NOT NULL DEFAULT 1,
    extra_units_per_day  float8 NOT NULL DEFAULT 0,
    note                 text,
    created_at           timestamptz NOT NULL DEFAULT backorder.now(),
    CONSTRAINT demand_surge_dates CHECK (ends_on >= starts_on AND isfinite(starts_on) AND isfinite(ends_on)),
    -- bounded so that a forecast stays within bigint whatever the demand (a typo such as 1e18
    -- would break stockout_risk and refresh_alerts for every client)
    CONSTRAINT demand_surge_multiplier CHECK (multiplier >= 0 AND multiplier <= 1000),
    CONSTRAINT demand_surge_extra CHECK (extra_units_per_day BETWEEN -1000000000 AND 1000000000),
    FOREIGN KEY (client_id, sku) REFERENCES backorder.sku
);
CREATE INDEX demand_surge_client ON backorder.demand_surge (client_id, ends_on);
COMMENT ON TABLE backorder.demand_surge IS 'Demand a client announced (a promotion, a launch): on each day from starts_on to ends_on, the forecast daily demand of the SKU (or of every SKU of the client) is multiplied by multiplier and raised by extra_units_per_day.';
COMMENT ON COLUMN backorder.demand_surge.surge_id IS 'Key.';
COMMENT ON COLUMN backorder.demand_surge.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.demand_surge.sku IS 'The SKU, or NULL for every SKU of the client.';
COMMENT ON COLUMN backorder.demand_surge.starts_on IS 'First day of the surge.';
COMMENT ON COLUMN backorder.demand_surge.ends_on IS 'Last day of the surge (inclusive).';
COMMENT ON COLUMN backorder.demand_surge.multiplier IS 'Factor on the forecast daily demand (1: none, 2: double); overlapping surges multiply.';
COMMENT ON COLUMN backorder.demand_surge.extra_units_per_day IS 'Units per day added to the forecast (may be negative; a day''s demand never goes below 0); overlapping surges add.';
COMMENT ON COLUMN backorder.demand_surge.note IS 'What the client announced.';
COMMENT ON COLUMN backorder.demand_surge.created_at IS 'When it was recorded (backorder.now()).';

CREATE FUNCTION backorder.demand_surge(p_client_id text, p_sku text, p_starts_on date, p_ends_on date,
                                       p_multiplier float8 DEFAULT 1, p_extra_units_per_day float8 DEFAULT 0,
                                       p_note text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id bigint;
BEGIN
    IF p_client_id IS NULL OR p_starts_on IS NULL OR p_ends_on IS NULL
       OR p_multiplier IS NULL OR p_extra_units_per_day IS NULL THEN
        RAISE EXCEPTION 'client_id, starts_on, ends_on, multiplier and extra_units_per_day must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass NULL only as the SKU (every SKU of the client); leave multiplier (1) or extra units (0) out to keep their defaults.';
    END IF;
    IF NOT (isfinite(p_starts_on) AND isfinite(p_ends_on)) THEN
        RAISE EXCEPTION 'a surge runs between two dates, not from % to %', p_starts_on, p_ends_on
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give the first and the last day of the announced surge; a lasting change of demand shows in the demand history itself.';
    END IF;
    IF p_ends_on < p_starts_on THEN
        RAISE EXCEPTION 'surge ends on % before it starts on %', p_ends_on, p_starts_on
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'ends_on is the last day of the surge (inclusive): it must be on or after starts_on.';
    END IF;
    IF NOT (p_multiplier >= 0 AND p_multiplier <= 1000) THEN
        RAISE EXCEPTION 'surge multiplier must be a number from 0 to 1000, got %', p_multiplier
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use 1 for no scaling, 2 for double demand; announce extra units with extra_units_per_day.';
    END IF;
    IF NOT (p_extra_units_per_day BETWEEN -1000000000 AND 1000000000) THEN
        RAISE EXCEPTION 'surge extra units per day must be a number from -1000000000 to 1000000000, got %', p_extra_units_per_day
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass units per day, such as 25.';
    END IF;
    IF p_multiplier = 1 AND p_extra_units_per_day = 0 THEN
        RAISE EXCEPTION 'a surge needs a multiplier other than 1 or extra units per day'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass p_multiplier => 1.5 or p_extra_units_per_day => 20, say.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM backorder.client c WHERE c.client_id = p_client_id) THEN
        RAISE EXCEPTION 'client "%" does not exist', p_client_id
            USING ERRCODE = 'foreign_key_violation', HINT = 'Register the client in backorder.client first.';
    END IF;
    IF p_sku IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backorder.sku s WHERE s.client_id = p_client_id AND s.sku = p_sku) THEN
        RAISE EXCEPTION 'SKU "%" of client "%" does not exist', p_sku, p_client_id
            USING ERRCODE = 'foreign_key_violation', HINT = 'Add the SKU to backorder.sku first, or pass NULL for every SKU of the client.';
    END IF;
    INSERT INTO backorder.demand_surge (client_id, sku, starts_on, ends_on, multiplier, extra_units_per_day, note)
    VALUES (p_client_id, p_sku, p_starts_on, p_ends_on, p_multiplier, p_extra_units_per_day, p_note)
    RETURNING surge_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION backorder.demand_surge(text, text, date, date, float8, float8, text) IS
    'Records an announced demand surge (SKU NULL: every SKU of the client) from starts_on to ends_on inclusive: the forecast is multiplied by p_multiplier and raised by p_extra_units_per_day on those days.  Returns surge_id.';

-- ---------------------------------------------------------------------------------------------
-- Demand per SKU and day.
--
-- Demand is what customers ordered: order lines by the day their order was placed (the line's
-- copy of orders.placed_at, kept by the engine; days of the session's TimeZone), cancelled orders
-- left out, backordered units included.  A line tells by itself whether its order was cancelled:
-- the engine keeps every line of an open order allocated or waiting and every line of a shipped
-- order shipped (invariants 3 and 5), and leaves a cancelled order's lines with none of the three;
-- so "allocated > 0 OR shipped > 0 OR waiting" selects demand without joining orders (the same
-- test keeps backorder.demand_summary).  Lines never placed at a warehouse (an
-- unknown SKU, or an order still inside its inserting transaction) are not demand yet.
-- Stock on a day comes from the ledger: on_hand summed over warehouses; a day is in stock unless
-- on_hand was 0 (or less) all day.

-- Validation shared by the read functions: 22004 for NULLs, P0002 for what does not exist.
CREATE FUNCTION backorder.require_sku(p_client_id text, p_sku text, p_sku_may_be_null boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_client_id IS NULL OR (p_sku IS NULL AND NOT p_sku_may_be_null) THEN
        RAISE EXCEPTION 'client_id and sku must not be null'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass a client_id and a SKU of backorder.sku.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM backorder.client c WHERE c.client_id = p_client_id) THEN
        RAISE EXCEPTION 'client "%" does not exist', p_client_id
            USING ERRCODE = 'no_data_found', HINT = 'Check the client_id in backorder.client.';
    END IF;
    IF p_sku IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backorder.sku s
                                          WHERE s.client_id = p_client_id AND s.sku = p_sku) THEN
        RAISE EXCEPTION 'SKU "%" of client "%" does not exist', p_sku, p_client_id
            USING ERRCODE = 'no_data_found', HINT = 'Check the SKU in backorder.sku (codes are case-sensitive).';
    END IF;
END
$$;
COMMENT ON FUNCTION backorder.require_sku(text, text, boolean) IS
    'Raises 22004 for a NULL client or SKU, P0002 for a client or SKU that does not exist.  Used by the forecasting functions.';

CREATE INDEX order_line_demand ON backorder.order_line (client_id, sku, placed_at);

CREATE FUNCTION backorder.daily_demand(p_client_id text, p_sku text DEFAULT NULL,
                                       p_from date DEFAULT NULL, p_to date DEFAULT NULL)
RETURNS TABLE (client_id text, sku text, day date, units bigint, lines bigint, orders bigint,
               on_hand_start bigint, in_stock boolean)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_to    date := coalesce(p_to, backorder.now()::date);
    v_from  date := coalesce(p_from, coalesce(p_to, backorder.now()::date) - 29);
BEGIN
    PERFORM backorder.require_sku(p_client_id, p_sku, p_sku IS NULL);
    IF NOT (isfinite(v_from) AND isfinite(v_to)) THEN
        RAISE EXCEPTION 'day range from % to % is not between two dates', v_from, v_to
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass two dates at most ten years apart (one row per SKU and day comes back).';
    END IF;
    IF v_to - v_from >= 3660 THEN
        RAISE EXCEPTION 'day range from % to % is longer than 3660 days', v_from, v_to
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass two dates at most ten years apart (one row per SKU and day comes back).';
    END IF;
    IF v_to < v_from THEN
        RAISE EXCEPTION 'day range ends on % before it starts on %', v_to, v_from
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass p_from <= p_to.';
    END IF;
    RETURN QUERY
    WITH skus AS (
        SELECT s.sku FROM backorder.sku s
         WHERE s.client_id = p_client_id AND (p_sku IS NULL OR s.sku = p_sku)),
    dem AS (
        SELECT l.sku, l.placed_at::date AS day, sum(l.qty)::bigint AS units, count(*) AS lines,
               count(DISTINCT l.order_id) AS orders
          FROM backorder.order_line l
         WHERE l.client_id = p_client_id AND (p_sku IS NULL OR l.sku = p_sku)
           AND l.placed_at >= v_from::timestamptz AND l.placed_at < (v_to + 1)::timestamptz
           AND (l.allocated > 0 OR l.shipped > 0 OR l.waiting)       -- not cancelled (see above)
         GROUP BY 1, 2),
    opening AS (                -- on_hand when the range starts
        SELECT m.sku, sum(m.delta) AS level
          FROM backorder.stock_movement m
         WHERE m.client_id = p_client_id AND (p_sku IS NULL OR m.sku = p_sku)
           AND m.created_at < v_from::timestamptz
         GROUP BY 1),
    mv AS (                     -- on_hand after each movement in the range
        SELECT m.sku, m.created_at::date AS day, m.created_at, m.movement_id,
               coalesce(o.level, 0) + sum(m.delta) OVER (PARTITION BY m.sku ORDER BY m.created_at, m.movement_id) AS level
          FROM backorder.stock_movement m
          LEFT JOIN opening o ON o.sku = m.sku
         WHERE m.client_id = p_client_id AND (p_sku IS NULL OR m.sku = p_sku)
           AND m.created_at >= v_from::timestamptz AND m.created_at < (v_to + 1)::timestamptz),
    mv_day AS (
        SELECT mv.sku, mv.day, max(mv.level) AS max_level,
               (array_agg(mv.level ORDER BY mv.created_at DESC, mv.movement_id DESC))[1] AS end_level
          FROM mv GROUP BY 1, 2),
    cal AS (
        SELECT k.sku, g::date AS day, md.max_level, md.end_level,
               count(md.end_level) OVER (PARTITION BY k.sku ORDER BY g) AS grp
          FROM skus k
         CROSS JOIN generate_series(v_from::timestamp, v_to::timestamp, interval '1 day') g
          LEFT JOIN mv_day md ON md.sku = k.sku AND md.day = g::date),
    lvl AS (                    -- on_hand at the end of each day: the last movement's, carried on
        SELECT c.sku, c.day, c.max_level,
               coalesce(first_value(c.end_level) OVER (PARTITION BY c.sku, c.grp ORDER BY c.day), o.level, 0) AS end_level,
               o.level AS opening
          FROM cal c LEFT JOIN opening o ON o.sku = c.sku),
    lvl2 AS (
        SELECT v.sku, v.day, v.max_level,
               coalesce(lag(v.end_level) OVER (PARTITION BY v.sku ORDER BY v.day), v.opening, 0) AS start_level
          FROM lvl v)
    SELECT p_client_id, v.sku, v.day, coalesce(d.units, 0), coalesce(d.lines, 0), coalesce(d.orders, 0),
           v.start_level::bigint, greatest(v.start_level, v.max_level) > 0
      FROM lvl2 v
      LEFT JOIN dem d ON d.sku = v.sku AND d.day = v.day
     ORDER BY v.sku, v.day;
END
$$;
COMMENT ON FUNCTION backorder.daily_demand(text, text, date, date) IS
    'Demand per SKU and calendar day (session time zone), zero days explicit, from p_from to p_to inclusive (default: the 30 days up to backorder.now()); p_sku NULL: every catalog SKU of the client.  units: ordered units of orders not cancelled, backordered units included; on_hand_start: on_hand over all warehouses when the day began (from the ledger); in_stock: false when on_hand was 0 all day.';

CREATE FUNCTION backorder.avg_units_sold_per_day(p_client_id text, p_sku text, p_window_days integer DEFAULT 30,
                                                 p_as_of date DEFAULT (backorder.now())::date,
                                                 p_in_stock_days_only boolean DEFAULT false)
RETURNS float8 LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_units bigint;
    v_days  bigint;
BEGIN
    IF p_sku IS NULL THEN
        RAISE EXCEPTION 'sku must not be null'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass the SKU to average; backorder.daily_demand lists every SKU.';
    END IF;
    IF p_window_days IS NULL OR p_window_days < 1 OR p_window_days > 3660 THEN
        RAISE EXCEPTION 'window must be between 1 and 3660 days, got %', p_window_days
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass a number of days such as 30.';
    END IF;
    IF p_as_of IS NULL OR p_in_stock_days_only IS NULL THEN
        RAISE EXCEPTION 'as_of and in_stock_days_only must not be null'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Leave them out for their defaults.';
    END IF;
    IF NOT isfinite(p_as_of) THEN
        RAISE EXCEPTION 'as_of must be a date, not %', p_as_of
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass the day the window ends before, or leave it out for today.';
    END IF;
    SELECT sum(d.units), count(*) INTO v_units, v_days
      FROM backorder.daily_demand(p_client_id, p_sku, p_as_of - p_window_days, p_as_of - 1) d
     WHERE d.in_stock OR NOT p_in_stock_days_only;
    RETURN v_units::float8 / nullif(v_days, 0);
END
$$;
COMMENT ON FUNCTION backorder.avg_units_sold_per_day(text, text, integer, date, boolean) IS
    'Average units ordered per day over the p_window_days calendar days before p_as_of (p_as_of itself, a day in progress, excluded; default the 30 days before backorder.now()).  Denominator: calendar days in the window.  p_in_stock_days_only: units and days of the days the SKU was in stock only (on_hand above 0 at some moment), NULL if it never was.';

CREATE FUNCTION backorder.sku_demand_forecast(p_client_id text, p_sku text, p_as_of date, p_method text,
                                              p_alpha float8 DEFAULT 0.1, p_beta float8 DEFAULT 0.1)
RETURNS backorder.series_forecast_result
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT backorder.demand_forecast(l.placed_at, l.qty, p_as_of, 365, p_method, p_alpha, p_beta)
      FROM backorder.order_line l
     WHERE l.client_id = p_client_id AND l.sku = p_sku
       AND (l.allocated > 0 OR l.shipped > 0 OR l.waiting)       -- not cancelled (see above)
$$;
COMMENT ON FUNCTION backorder.sku_demand_forecast(text, text, date, text, float8, float8) IS
    'The daily demand forecast of one SKU as of a day with a given method and weights: its order lines (not cancelled) over the 365 days before p_as_of, through backorder.demand_forecast.';

-- ---------------------------------------------------------------------------------------------
-- Stock-out forecast: one row per SKU (all warehouses pooled, as the engine allocates an order at
-- whichever warehouse can fill it).
--
-- stockout_risk_at() is the one query behind the view stockout_risk, stockout_forecast() and
-- refresh_alerts().  Its body is SQL-standard (BEGIN ATOMIC): names are bound when it is created,
-- so it needs no pinned search_path, and such a function is inlined into the calling query, so
-- that stockout_forecast()'s client and SKU reach the scans as index conditions.  Demand comes
-- from backorder.demand_summary (10_tables.sql, src/demand_summary.c): about 13 rows per SKU,
-- warehouse and year instead of every order line; in a session whose TimeZone is not the
-- summary's, from one (parallel) pass over order lines, which gives the same rows.

CREATE FUNCTION backorder.stockout_risk_at(p_as_of date)
RETURNS TABLE (
    client_id              text,
    sku                    text,
    as_of                  date,
    on_hand                bigint,
    allocated              bigint,
    available              bigint,
    short                  bigint,
    inbound_units          bigint,
    inbound_count          integer,
    next_inbound_on        date,
    next_inbound_units     bigint,
    overdue_inbound_units  bigint,
    inbound_schedule       jsonb,
    pattern                text,
    method                 text,
    daily_demand           float8,
    demand_sd              float8,
    mean_daily_demand      float8,
    history_days           integer,
    surges                 integer,
    lead_time_days         integer,
    service_level          float8,
    alert_buffer_days      integer,
    days_of_cover          float8,
    stockout_on            date,
    days_to_stockout       integer,
    lead_time_demand       float8,
    lead_time_inbound      float8,
    safety_stock           float8,
    reorder_point          float8,
    inventory_position     bigint,
    suggested_order_qty    bigint,
    stockout_probability   float8,
    at_risk                boolean)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.client_id, s.sku, p.as_of,
           coalesce(st.on_hand, 0), coalesce(st.allocated, 0),
           coalesce(st.on_hand - st.allocated, 0), coalesce(w.short, 0),
           coalesce(ib.units, 0), coalesce(ib.n, 0), ib.next_on, ib.next_units, coalesce(ib.overdue, 0),
           coalesce(ib.schedule, '[]'),
           f.pattern, f.method, f.forecast, f.sd, f.mean, f.periods,
           coalesce(cardinality(sg.s_from), 0),
           k.lead_time, k.service, k.buffer,
           CASE WHEN f.forecast > 0 THEN coalesce(st.on_hand - st.allocated, 0) / f.forecast END,
           pj.stockout_on, pj.stockout_on - p.as_of,
           pj.lead_time_demand, pj.lead_time_inbound,
           r.safety, pj.lead_time_demand + r.safety, r.position,
           CASE WHEN r.position <= pj.lead_time_demand + r.safety
                -- (capped below bigint's end: overlapping surges multiply)
                THEN least(ceil(pj.lead_time_demand + r.safety + f.forecast * k.review - r.position), 9e18)::bigint
                ELSE 0 END,
           backorder.stockout_probability(
               (coalesce(st.on_hand - st.allocated, 0) - coalesce(w.short, 0))::float8,
               pj.lead_time_inbound, k.lead_time,
               CASE WHEN k.lead_time > 0 THEN pj.lead_time_demand / k.lead_time ELSE f.forecast END,
               f.sd),
           pj.stockout_on IS NOT NULL AND pj.stockout_on < p.as_of + k.lead_time + k.buffer
      FROM (SELECT p_as_of AS as_of OFFSET 0) p
     CROSS JOIN backorder.sku s
      LEFT JOIN backorder.client_forecast_setting cs ON cs.client_id = s.client_id
      LEFT JOIN backorder.sku_forecast_setting ss ON ss.client_id = s.client_id AND ss.sku = s.sku
      LEFT JOIN (SELECT x.client_id, x.sku, sum(x.on_hand)::bigint AS on_hand, sum(x.allocated)::bigint AS allocated
                   FROM backorder.stock x GROUP BY 1, 2) st
             ON st.client_id = s.client_id AND st.sku = s.sku
      LEFT JOIN (SELECT l.client_id, l.sku, sum(l.qty - l.allocated)::bigint AS short
                   FROM backorder.order_line l WHERE l.waiting GROUP BY 1, 2) w
             ON w.client_id = s.client_id AND w.sku = s.sku
      LEFT JOIN (SELECT i.client_id, i.sku, sum(i.qty)::bigint AS units, count(*)::integer AS n,
                        min(i.expected_at) AS next_on,
                        sum(i.qty) FILTER (WHERE i.expected_at = i.first_on)::bigint AS next_units,
                        sum(i.qty) FILTER (WHERE i.expected_at < p_as_of)::bigint AS overdue,
                        jsonb_agg(jsonb_build_object('inbound_id', i.inbound_id, 'expected_at', i.expected_at,
                                                     'units', i.qty, 'location_id', i.location_id, 'reference', i.reference)
                                  ORDER BY i.expected_at, i.inbound_id) AS schedule,
                        array_agg(i.expected_at) AS on_days, array_agg(i.qty::float8) AS on_units
                   FROM (SELECT j.*, min(j.expected_at) OVER (PARTITION BY j.client_id, j.sku) AS first_on
                           FROM backorder.inbound j WHERE j.received_at IS NULL) i
                  GROUP BY 1, 2) ib
             ON ib.client_id = s.client_id AND ib.sku = s.sku
      -- Demand: from the summary when its days are the session's (its rows before as_of: those
      -- of the window, and older ones, which say there was demand before the window), else from
      -- one pass over order lines.  One-time filters run only one of the two branches.
      LEFT JOIN (SELECT h.client_id, h.sku,
                        backorder.demand_forecast(h.block_start, h.units, (SELECT p_as_of), 365) AS fc
                   FROM backorder.demand_summary h
                  WHERE h.block_start < p_as_of AND backorder.demand_summary_applies()
                  GROUP BY 1, 2
                 UNION ALL
                 SELECT l.client_id, l.sku,
                        backorder.demand_forecast(l.placed_at, l.qty, (SELECT p_as_of), 365) AS fc
                   FROM backorder.order_line l
                  WHERE (l.allocated > 0 OR l.shipped > 0 OR l.waiting)   -- not cancelled (see above)
                    AND NOT backorder.demand_summary_applies()
                  GROUP BY 1, 2) d
             ON d.client_id = s.client_id AND d.sku = s.sku
      -- SKUs with a method override (few) read their lines again; the function is strict, so
      -- it is not even called for the others
      LEFT JOIN LATERAL backorder.sku_demand_forecast(s.client_id, s.sku, p.as_of, ss.method,
                                                      coalesce(ss.alpha, 0.1), coalesce(ss.beta, 0.1)) dov ON true
      LEFT JOIN (SELECT g.client_id, g.sku, array_agg(g.starts_on) AS s_from, array_agg(g.ends_on) AS s_to,
                        array_agg(g.multiplier) AS s_mult, array_agg(g.extra_units_per_day) AS s_extra
                   FROM backorder.demand_surge g WHERE g.ends_on >= p_as_of AND g.sku IS NOT NULL
                  GROUP BY 1, 2) sg1
             ON sg1.client_id = s.client_id AND sg1.sku = s.sku
      LEFT JOIN (SELECT g.client_id, array_agg(g.starts_on) AS s_from, array_agg(g.ends_on) AS s_to,
                        array_agg(g.multiplier) AS s_mult, array_agg(g.extra_units_per_day) AS s_extra
                   FROM backorder.demand_surge g WHERE g.ends_on >= p_as_of AND g.sku IS NULL
                  GROUP BY 1) sg2
             ON sg2.client_id = s.client_id
     CROSS JOIN LATERAL (SELECT sg1.s_from || sg2.s_from AS s_from, sg1.s_to || sg2.s_to AS s_to,
                                sg1.s_mult || sg2.s_mult AS s_mult, sg1.s_extra || sg2.s_extra AS s_extra) sg
     CROSS JOIN LATERAL (SELECT coalesce(s.lead_time_days, cs.default_lead_time_days, 14) AS lead_time,
                                coalesce(cs.service_level, 0.95) AS service,
                                coalesce(cs.alert_buffer_days, 7) AS buffer,
                                coalesce(cs.review_days, 30) AS review) k
     CROSS JOIN LATERAL (SELECT coalesce(dov.pattern, (d.fc).pattern, 'none') AS pattern,
                                coalesce(dov.method, (d.fc).method, 'ses') AS method,
                                coalesce(dov.forecast, (d.fc).forecast, 0) AS forecast,
                                coalesce(dov.sd, (d.fc).sd, 0) AS sd,
                                coalesce(dov.mean, (d.fc).mean, 0) AS mean,
                                coalesce(dov.periods, (d.fc).periods, 0) AS periods) f
     CROSS JOIN LATERAL backorder.project_stock(
                    (coalesce(st.on_hand - st.allocated, 0) - coalesce(w.short, 0))::float8, p.as_of, f.forecast,
                    365, k.lead_time, ib.on_days, ib.on_units, sg.s_from, sg.s_to, sg.s_mult, sg.s_extra) pj
     CROSS JOIN LATERAL (SELECT greatest(s.safety_stock::float8,
                                         backorder.safety_stock(f.sd, k.lead_time, k.service)) AS safety,
                                coalesce(st.on_hand - st.allocated, 0) - coalesce(w.short, 0)
                                    + coalesce(ib.units, 0) AS position) r;
END;
COMMENT ON FUNCTION backorder.stockout_risk_at(date) IS
    'The stock-out forecast of every SKU as of a day: the rows of the view backorder.stockout_risk (see its column comments), for any as_of.';

-- Like the other BI views: owner's rights, security barrier, and only the clients the session is
-- bound to (76_views.sql).
CREATE VIEW backorder.stockout_risk WITH (security_barrier) AS
SELECT * FROM backorder.stockout_risk_at((backorder.now())::date) r
 WHERE r.client_id = ANY ((SELECT backorder.session_clients())::text[]);
COMMENT ON VIEW backorder.stockout_risk IS
    'One row per SKU (warehouses pooled) of the clients the session is bound to: stock, inbound, the demand forecast and its method, the projected stock-out day, reorder point, suggested order and the probability of stocking out within the lead time, as of backorder.now().  backorder.stockout_forecast() gives the same row for one SKU and any day.';
COMMENT ON COLUMN backorder.stockout_risk.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.stockout_risk.sku IS 'SKU (every catalog SKU has a row).';
COMMENT ON COLUMN backorder.stockout_risk.as_of IS 'The day the forecast is made on (backorder.now() as a date); demand history ends the day before.';
COMMENT ON COLUMN backorder.stockout_risk.on_hand IS 'Units on hand, all warehouses.';
COMMENT ON COLUMN backorder.stockout_risk.allocated IS 'Units reserved for open orders, all warehouses.';
COMMENT ON COLUMN backorder.stockout_risk.available IS 'on_hand - allocated.';
COMMENT ON COLUMN backorder.stockout_risk.short IS 'Units that open orders are waiting for (backordered now).';
COMMENT ON COLUMN backorder.stockout_risk.inbound_units IS 'Units on open inbound rows (not yet received).';
COMMENT ON COLUMN backorder.stockout_risk.inbound_count IS 'Open inbound rows.';
COMMENT ON COLUMN backorder.stockout_risk.next_inbound_on IS 'Earliest expected date among open inbound rows (may be overdue).';
COMMENT ON COLUMN backorder.stockout_risk.next_inbound_units IS 'Units expected on next_inbound_on.';
COMMENT ON COLUMN backorder.stockout_risk.overdue_inbound_units IS 'Open inbound units expected before as_of (the projection counts them as arriving on as_of).';
COMMENT ON COLUMN backorder.stockout_risk.inbound_schedule IS 'JSON array of the open inbound rows: inbound_id, expected_at, units, location_id, reference, by date.';
COMMENT ON COLUMN backorder.stockout_risk.pattern IS 'Syntetos-Boylan pattern of the daily demand: smooth, erratic, intermittent, lumpy, or none.';
COMMENT ON COLUMN backorder.stockout_risk.method IS 'Forecasting method used: the automatic choice or backorder.sku_forecast_setting.method.';
COMMENT ON COLUMN backorder.stockout_risk.daily_demand IS 'Forecast units per day (before surges).';
COMMENT ON COLUMN backorder.stockout_risk.demand_sd IS 'Standard deviation of daily demand over the history.';
COMMENT ON COLUMN backorder.stockout_risk.mean_daily_demand IS 'Mean daily demand over the history (calendar days).';
COMMENT ON COLUMN backorder.stockout_risk.history_days IS 'Days of history used: up to 365 before as_of, from the first day of demand for a SKU newer than that.';
COMMENT ON COLUMN backorder.stockout_risk.surges IS 'Announced demand surges that are not over (backorder.demand_surge).';
COMMENT ON COLUMN backorder.stockout_risk.lead_time_days IS 'Catalog lead time, else the client''s default_lead_time_days (14 without settings).';
COMMENT ON COLUMN backorder.stockout_risk.service_level IS 'Cycle service level of the safety stock (client setting, default 0.95).';
COMMENT ON COLUMN backorder.stockout_risk.alert_buffer_days IS 'Days added to the lead time to decide at_risk (client setting, default 7).';
COMMENT ON COLUMN backorder.stockout_risk.days_of_cover IS 'available / daily_demand; NULL without demand.';
COMMENT ON COLUMN backorder.stockout_risk.stockout_on IS 'Projected stock-out day: the first day, from as_of, on which demand (surges applied) exceeds available stock less waiting units plus inbound arrived by then; NULL if none within 365 days.';
COMMENT ON COLUMN backorder.stockout_risk.days_to_stockout IS 'stockout_on - as_of (0: out today).';
COMMENT ON COLUMN backorder.stockout_risk.lead_time_demand IS 'Projected demand over the lead time, surges applied.';
COMMENT ON COLUMN backorder.stockout_risk.lead_time_inbound IS 'Inbound units expected within the lead time (overdue included).';
COMMENT ON COLUMN backorder.stockout_risk.safety_stock IS 'Greatest of the catalog safety_stock and z(service_level) * demand_sd * sqrt(lead_time_days).';
COMMENT ON COLUMN backorder.stockout_risk.reorder_point IS 'lead_time_demand + safety_stock: reorder when inventory_position is at or below it.';
COMMENT ON COLUMN backorder.stockout_risk.inventory_position IS 'available - short + inbound_units.';
COMMENT ON COLUMN backorder.stockout_risk.suggested_order_qty IS 'When inventory_position <= reorder_point: units bringing it to reorder_point + review_days of demand (rounded up); else 0.';
COMMENT ON COLUMN backorder.stockout_risk.stockout_probability IS 'backorder.stockout_probability(available - short, lead_time_inbound, lead_time_days, lead_time_demand / lead_time_days, demand_sd): probability of stocking out within the lead time.';
COMMENT ON COLUMN backorder.stockout_risk.at_risk IS 'stockout_on falls within lead_time_days + alert_buffer_days of as_of: what backorder.refresh_alerts() opens alerts for.';

CREATE FUNCTION backorder.stockout_forecast(p_client_id text, p_sku text,
                                            p_as_of date DEFAULT (backorder.now())::date)
RETURNS SETOF backorder.stockout_risk
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM backorder.require_sku(p_client_id, p_sku);
    IF p_as_of IS NULL OR NOT isfinite(p_as_of) THEN
        RAISE EXCEPTION 'as_of must be a finite date'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave it out for backorder.now(), or pass a day.';
    END IF;
    RETURN QUERY SELECT * FROM backorder.stockout_risk_at(p_as_of) r
                  WHERE r.client_id = p_client_id AND r.sku = p_sku;
END
$$;
COMMENT ON FUNCTION backorder.stockout_forecast(text, text, date) IS
    'The stock-out forecast of one SKU as of a day (default backorder.now()): one row with the columns of backorder.stockout_risk.  Unknown SKU: P0002.';

-- ---------------------------------------------------------------------------------------------
-- Alerts: one open alert per SKU whose projected stock-out falls within its lead time plus the
-- client's buffer; closed when it no longer does.  New alerts are sent on channel backorder_alerts.

CREATE TABLE backorder.alert (
    alert_id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id             text NOT NULL,
    sku                   text NOT NULL,
    kind                  text NOT NULL DEFAULT 'stockout' CHECK (kind IN ('stockout')),
    opened_at             timestamptz NOT NULL,
    closed_at             timestamptz,
    refreshed_at          timestamptz NOT NULL,
    as_of                 date NOT NULL,
    stockout_on           date NOT NULL,
    lead_time_days        integer NOT NULL,
    alert_buffer_days     integer NOT NULL,
    available             bigint NOT NULL,
    short                 bigint NOT NULL,
    inbound_units         bigint NOT NULL,
    daily_demand          float8 NOT NULL,
    stockout_probability  float8,
    suggested_order_qty   bigint,
    FOREIGN KEY (client_id, sku) REFERENCES backorder.sku
);
CREATE UNIQUE INDEX alert_open ON backorder.alert (client_id, sku) WHERE closed_at IS NULL;
COMMENT ON TABLE backorder.alert IS 'Stock-out alerts kept by backorder.refresh_alerts(): at most one open alert per SKU.';
COMMENT ON COLUMN backorder.alert.alert_id IS 'Key (also in the NOTIFY payload).';
COMMENT ON COLUMN backorder.alert.client_id IS 'Tenant.';
COMMENT ON COLUMN backorder.alert.sku IS 'SKU.';
COMMENT ON COLUMN backorder.alert.kind IS 'stockout: the projected stock-out falls within lead time + buffer.';
COMMENT ON COLUMN backorder.alert.opened_at IS 'When refresh_alerts opened it (backorder.now()).';
COMMENT ON COLUMN backorder.alert.closed_at IS 'When refresh_alerts found the stock-out no longer within lead time + buffer; NULL while open.';
COMMENT ON COLUMN backorder.alert.refreshed_at IS 'Last refresh_alerts that opened, updated or closed it.';
COMMENT ON COLUMN backorder.alert.as_of IS 'Forecast day of the last refresh.';
COMMENT ON COLUMN backorder.alert.stockout_on IS 'Projected stock-out day at the last refresh while open.';
COMMENT ON COLUMN backorder.alert.lead_time_days IS 'Lead time used.';
COMMENT ON COLUMN backorder.alert.alert_buffer_days IS 'Client buffer used.';
COMMENT ON COLUMN backorder.alert.available IS 'Available units (all warehouses) at the last refresh while open.';
COMMENT ON COLUMN backorder.alert.short IS 'Units open orders were waiting for at the last refresh while open.';
COMMENT ON COLUMN backorder.alert.inbound_units IS 'Open inbound units at the last refresh while open.';
COMMENT ON COLUMN backorder.alert.daily_demand IS 'Forecast units per day at the last refresh while open.';
COMMENT ON COLUMN backorder.alert.stockout_probability IS 'Probability of stocking out within the lead time at the last refresh while open.';
COMMENT ON COLUMN backorder.alert.suggested_order_qty IS 'Suggested order quantity at the last refresh while open.';

CREATE FUNCTION backorder.refresh_alerts(p_as_of date DEFAULT (backorder.now())::date)
RETURNS TABLE (opened integer, updated integer, closed integer)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_now timestamptz := backorder.now();
BEGIN
    IF p_as_of IS NULL OR NOT isfinite(p_as_of) THEN
        RAISE EXCEPTION 'as_of must be a finite date'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave it out for backorder.now().';
    END IF;
    -- One refresh at a time (pg_backorder's advisory key space, key 2): two refreshes in parallel
    -- would both see no open alert for a SKU.  The lock is held to commit.
    PERFORM pg_catalog.pg_advisory_xact_lock(1111575375, 2);
    WITH risk AS MATERIALIZED (
        SELECT r.* FROM backorder.stockout_risk_at(p_as_of) r WHERE r.at_risk),
    gone AS (
        UPDATE backorder.alert a SET closed_at = v_now, refreshed_at = v_now
         WHERE a.closed_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM risk r WHERE r.client_id = a.client_id AND r.sku = a.sku)
        RETURNING a.alert_id),
    still AS (
        UPDATE backorder.alert a
           SET refreshed_at = v_now, as_of = r.as_of, stockout_on = r.stockout_on,
               lead_time_days = r.lead_time_days, alert_buffer_days = r.alert_buffer_days,
               available = r.available, short = r.short, inbound_units = r.inbound_units,
               daily_demand = r.daily_demand, stockout_probability = r.stockout_probability,
               suggested_order_qty = r.suggested_order_qty
          FROM risk r
         WHERE a.closed_at IS NULL AND a.client_id = r.client_id AND a.sku = r.sku
        RETURNING a.alert_id),
    new AS (
        INSERT INTO backorder.alert (client_id, sku, opened_at, refreshed_at, as_of, stockout_on,
                                     lead_time_days, alert_buffer_days, available, short, inbound_units,
                                     daily_demand, stockout_probability, suggested_order_qty)
        SELECT r.client_id, r.sku, v_now, v_now, r.as_of, r.stockout_on, r.lead_time_days,
               r.alert_buffer_days, r.available, r.short, r.inbound_units, r.daily_demand,
               r.stockout_probability, r.suggested_order_qty
          FROM risk r
         WHERE NOT EXISTS (SELECT 1 FROM backorder.alert a
                            WHERE a.closed_at IS NULL AND a.client_id = r.client_id AND a.sku = r.sku)
         ORDER BY r.client_id, r.sku
        ON CONFLICT (client_id, sku) WHERE closed_at IS NULL DO NOTHING
        RETURNING *),
    sent AS (
        -- NOTIFY is transactional: listeners hear of an alert only once it is committed
        SELECT pg_catalog.pg_notify('backorder_alerts', pg_catalog.json_build_object(
                   'event', 'opened', 'alert_id', n.alert_id, 'client_id', n.client_id, 'sku', n.sku,
                   'kind', n.kind, 'as_of', n.as_of, 'stockout_on', n.stockout_on,
                   'days_to_stockout', n.stockout_on - n.as_of, 'lead_time_days', n.lead_time_days,
                   'alert_buffer_days', n.alert_buffer_days, 'available', n.available, 'short', n.short,
                   'inbound_units', n.inbound_units, 'daily_demand', n.daily_demand,
                   'stockout_probability', n.stockout_probability,
                   'suggested_order_qty', n.suggested_order_qty, 'opened_at', n.opened_at)::text)
          FROM new n)
    SELECT (SELECT count(*) FROM new)::integer, (SELECT count(*) FROM still)::integer,
           (SELECT count(*) FROM gone)::integer
      INTO opened, updated, closed
     WHERE (SELECT count(*) FROM sent) >= 0;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION backorder.refresh_alerts(date) IS
    'Opens an alert for every SKU whose projected stock-out falls within its lead time plus the client''s alert_buffer_days (stockout_risk.at_risk) and has none open, refreshes the open ones, closes those no longer at risk.  Each new alert is sent as JSON with NOTIFY on channel backorder_alerts, delivered at commit.  Returns the counts.  Schedule with pg_cron: SELECT cron.schedule(''backorder-alerts'', ''*/15 * * * *'', ''SELECT backorder.refresh_alerts()'').';

-- ---------------------------------------------------------------------------------------------
-- pg_dump keeps the rows of these configuration and history tables (grants: 98_security.sql).
SELECT pg_catalog.pg_extension_config_dump('backorder.client_forecast_setting', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.sku_forecast_setting', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.demand_surge', '');
SELECT pg_catalog.pg_extension_config_dump('backorder.alert', '');
GRANT SELECT ON backorder.stockout_risk TO @extowner@;
GRANT USAGE, SELECT ON SEQUENCE backorder.demand_surge_surge_id_seq, backorder.alert_alert_id_seq TO @extowner@;
