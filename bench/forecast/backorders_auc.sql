-- How well does backorder.stockout_probability() rank real outcomes?  product_backorders (a
-- subset of the Kaggle "Can you predict product backorders?" training data): one row per SKU with
-- stock, lead time, sales history and whether it went on backorder.  Run by
-- bench/forecast/accuracy.sh, which sets :data_dir.
--
-- Column mapping (the function's inputs):
--   on_hand            national_inv - local_bo_qty   (stock less units already owed: the engine's
--                                                     available - short)
--   in_transit         in_transit_qty
--   lead_time_days     28                            (the horizon: four weeks.  The SKU's own lead
--                                                     time, lead_time * 7, ranks worse: 0.90 to
--                                                     0.92 with the same demand below; any fixed
--                                                     horizon of 2 to 6 weeks scores within 0.003)
--   mean_daily_demand  the mean of four rate estimates: forecast_9_month / 273, sales_1_month / 30,
--                      sales_3_month / 91, sales_6_month / 182 (the planners' forecast and three
--                      windows of recent sales; each alone ranks worse)
--   sd_daily_demand    sqrt(sd_month^2 / 30 + mean + 28 * var_rate)
--                      sd_month: spread of monthly sales over four blocks (month 1, 2-3, 4-6, 7-9,
--                      weighted by months), spread over 30 days; plus Poisson noise (variance =
--                      mean) for slow movers; plus the uncertainty of the rate itself: var_rate is
--                      the sample variance of the four estimates, and an error in the rate grows
--                      over the L = 28 days as L^2 * var_rate, i.e. L * var_rate per day.
-- The previous mapping (demand = (forecast_9_month / 273 + sales_6_month / 182) / 2, no rate
-- term) is shown as auc_prev, and the new demand without the rate term as auc_no_rate_var.
-- Also shown: the first mapping (horizon = lead time, demand = forecast_3_month / 91), the same
-- with an 8-week horizon, stock alone, and the new mapping on each half of the rows (by file
-- order: odd and even), to show it does not depend on the rows it was chosen on.
-- ROC-AUC is the Mann-Whitney statistic with ties counted half.
\set ON_ERROR_STOP 1
\pset footer off

CREATE TEMP TABLE pb (sku text, national_inv float8, lead_time float8, in_transit_qty float8,
    forecast_3_month float8, forecast_6_month float8, forecast_9_month float8,
    sales_1_month float8, sales_3_month float8, sales_6_month float8, sales_9_month float8,
    min_bank float8, potential_issue text, pieces_past_due float8, perf_6_month_avg float8,
    perf_12_month_avg float8, local_bo_qty float8, deck_risk text, oe_constraint text,
    ppap_risk text, stop_auto_buy text, rev_stop text, went_on_backorder text);
\set copy '\\copy pb FROM PROGRAM ''cat ' :data_dir '/product_backorders/product_backorders.csv'' WITH (FORMAT csv, HEADER true)'
:copy

CREATE TEMP TABLE inputs AS
SELECT went_on_backorder = 'Yes' AS backordered, n % 2 = 1 AS odd_row,
       national_inv - local_bo_qty AS on_hand, in_transit_qty AS in_transit,
       coalesce(lead_time, 8) * 7 AS lead_time_days,
       (greatest(forecast_9_month, 0) / 273.0 + greatest(sales_6_month, 0) / 182.0) / 2 AS mean_daily_prev,
       r_f9, r_s1, r_s3, r_s6,
       (r_f9 + r_s1 + r_s3 + r_s6) / 4 AS mean_daily,
       greatest(forecast_3_month, 0) / 91.0 AS mean_daily_first,
       b1, b2, b3, b4
  FROM (SELECT *, row_number() OVER () AS n,
               greatest(forecast_9_month, 0) / 273.0 AS r_f9, greatest(sales_1_month, 0) / 30.0 AS r_s1,
               greatest(sales_3_month, 0) / 91.0 AS r_s3, greatest(sales_6_month, 0) / 182.0 AS r_s6,
               sales_1_month AS b1,
               greatest(sales_3_month - sales_1_month, 0) / 2.0 AS b2,
               greatest(sales_6_month - sales_3_month, 0) / 3.0 AS b3,
               greatest(sales_9_month - sales_6_month, 0) / 3.0 AS b4 FROM pb) x;
ALTER TABLE inputs ADD COLUMN sd_month2 float8;
UPDATE inputs SET sd_month2 = ((b1 - mu) ^ 2 + 2 * (b2 - mu) ^ 2 + 3 * (b3 - mu) ^ 2 + 3 * (b4 - mu) ^ 2) / 8.0
  FROM (SELECT ctid AS c, (b1 + 2 * b2 + 3 * b3 + 3 * b4) / 9.0 AS mu FROM inputs) m WHERE m.c = inputs.ctid;
-- Uncertainty of the demand rate itself: the sample variance of the four rate estimates (forecast 9
-- months, sales 1, 3 and 6 months).  Over a horizon of L days an error in the rate adds L^2 * var_rate
-- to the lead-time demand variance, i.e. L * var_rate to the per-day variance the function takes.
ALTER TABLE inputs ADD COLUMN rate_var float8;
UPDATE inputs SET rate_var = ((r_f9 - mean_daily) ^ 2 + (r_s1 - mean_daily) ^ 2 + (r_s3 - mean_daily) ^ 2
                              + (r_s6 - mean_daily) ^ 2) / 3.0;

CREATE TEMP TABLE scored AS
SELECT backordered, odd_row,
       backorder.stockout_probability(on_hand, in_transit, 28, mean_daily,
                                      sqrt(sd_month2 / 30 + mean_daily + 28 * rate_var)) AS p,
       backorder.stockout_probability(on_hand, in_transit, 28, mean_daily, sqrt(sd_month2 / 30 + mean_daily)) AS p_demand_only,
       backorder.stockout_probability(on_hand, in_transit, 28, mean_daily_prev, sqrt(sd_month2 / 30 + mean_daily_prev)) AS p_prev,
       backorder.stockout_probability(on_hand, in_transit, lead_time_days, mean_daily_first,
                                      sqrt(sd_month2 / 30 + mean_daily_first)) AS p_first,
       backorder.stockout_probability(on_hand, in_transit, 56, mean_daily_first,
                                      sqrt(sd_month2 / 30 + mean_daily_first)) AS p_first_8w,
       -on_hand AS p_stock_only
  FROM inputs;

CREATE FUNCTION pg_temp.auc(score float8[], label boolean[]) RETURNS float8 LANGUAGE sql AS $$
    WITH d AS (SELECT u.s, u.y FROM unnest(score, label) u (s, y)),
    r AS (SELECT y, rank() OVER (ORDER BY s) + (count(*) OVER (PARTITION BY s) - 1) / 2.0 AS rk FROM d)
    SELECT (sum(rk) FILTER (WHERE y) - count(*) FILTER (WHERE y) * (count(*) FILTER (WHERE y) + 1) / 2.0)
           / (count(*) FILTER (WHERE y) * count(*) FILTER (WHERE NOT y))::float8
      FROM r
$$;

\echo
\echo ROC-AUC of stockout_probability on product_backorders
SELECT count(*) AS skus, count(*) FILTER (WHERE backordered) AS backordered,
       round(pg_temp.auc(array_agg(p), array_agg(backordered))::numeric, 4) AS auc,
       round(pg_temp.auc(array_agg(p) FILTER (WHERE odd_row), array_agg(backordered) FILTER (WHERE odd_row))::numeric, 4) AS auc_odd_rows,
       round(pg_temp.auc(array_agg(p) FILTER (WHERE NOT odd_row), array_agg(backordered) FILTER (WHERE NOT odd_row))::numeric, 4) AS auc_even_rows,
       round(pg_temp.auc(array_agg(p_demand_only), array_agg(backordered))::numeric, 4) AS auc_no_rate_var,
       round(pg_temp.auc(array_agg(p_prev), array_agg(backordered))::numeric, 4) AS auc_prev,
       round(pg_temp.auc(array_agg(p_prev) FILTER (WHERE odd_row), array_agg(backordered) FILTER (WHERE odd_row))::numeric, 4) AS auc_prev_odd,
       round(pg_temp.auc(array_agg(p_prev) FILTER (WHERE NOT odd_row), array_agg(backordered) FILTER (WHERE NOT odd_row))::numeric, 4) AS auc_prev_even,
       round(pg_temp.auc(array_agg(p_first), array_agg(backordered))::numeric, 4) AS auc_first_mapping,
       round(pg_temp.auc(array_agg(p_first_8w), array_agg(backordered))::numeric, 4) AS auc_first_8_weeks,
       round(pg_temp.auc(array_agg(p_stock_only), array_agg(backordered))::numeric, 4) AS auc_stock_alone
  FROM scored;
\echo Calibration: outcome rate per probability band
SELECT CASE WHEN p < 0.01 THEN 'a: < 0.01' WHEN p < 0.1 THEN 'b: 0.01-0.1' WHEN p < 0.5 THEN 'c: 0.1-0.5'
            WHEN p < 0.9 THEN 'd: 0.5-0.9' WHEN p < 0.99 THEN 'e: 0.9-0.99' ELSE 'f: >= 0.99' END AS band,
       count(*) AS skus, round(avg(backordered::int)::numeric, 3) AS backordered_rate,
       round(avg(p)::numeric, 3) AS mean_p
  FROM scored GROUP BY 1 ORDER BY 1;
