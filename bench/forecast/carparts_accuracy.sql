-- Forecast accuracy on the car parts data (Hyndman et al., expsmooth): 2,674 monthly series,
-- fit on months 1-45, forecast months 46-51 (flat forecasts, h = 1..6).  Run by
-- bench/forecast/accuracy.sh, which creates the database and sets :data_dir.
--
-- Series with unknown (NA) months are left out (NA is unknown, not zero), and so are series whose
-- in-sample naive errors are all zero (MASE undefined): 2,503 series remain.
--   MASE  = mean |y - f| over 46..51 / mean |y_t - y_t-1| over 2..45
--   RMSSE = sqrt(mean (y - f)^2 over 46..51 / mean (y_t - y_t-1)^2 over 2..45)
-- Methods: the aggregates with their defaults (alpha = beta = 0.1), the in-sample mean, and
-- series_forecast(..., 'auto'), the automatic choice stockout_risk uses.
\set ON_ERROR_STOP 1
\pset footer off

CREATE TEMP TABLE cp (part_id text, month text, qty float8);
\set copy '\\copy cp FROM PROGRAM ''cat ' :data_dir '/carparts/carparts_long.csv'' WITH (FORMAT csv, HEADER true, NULL ''NA'')'
:copy
ALTER TABLE cp ADD COLUMN t int;
UPDATE cp SET t = (substr(month, 1, 4)::int - 1998) * 12 + substr(month, 6, 2)::int;
ANALYZE cp;

CREATE TEMP TABLE fc AS
SELECT part_id,
       backorder.ses(qty ORDER BY t) FILTER (WHERE t <= 45) AS ses,
       backorder.croston(qty ORDER BY t) FILTER (WHERE t <= 45) AS croston,
       backorder.sba(qty ORDER BY t) FILTER (WHERE t <= 45) AS sba,
       backorder.tsb(qty ORDER BY t) FILTER (WHERE t <= 45) AS tsb,
       avg(qty) FILTER (WHERE t <= 45) AS mean,
       backorder.series_forecast(array_agg(qty ORDER BY t) FILTER (WHERE t <= 45)) AS auto
  FROM cp
 GROUP BY part_id
HAVING count(*) = 51 AND count(qty) = 51;

CREATE TEMP TABLE scale AS
SELECT part_id, avg(abs(d)) AS mae_naive, avg(d * d) AS mse_naive
  FROM (SELECT part_id, qty - lag(qty) OVER (PARTITION BY part_id ORDER BY t) AS d
          FROM cp WHERE t <= 45) x
 WHERE d IS NOT NULL
 GROUP BY part_id
HAVING avg(abs(d)) > 0;

CREATE TEMP TABLE err AS
SELECT f.part_id, m.method, m.ord,
       avg(abs(c.qty - m.f)) / s.mae_naive AS mase,
       sqrt(avg((c.qty - m.f) ^ 2) / s.mse_naive) AS rmsse
  FROM fc f
  JOIN scale s USING (part_id)
  CROSS JOIN LATERAL (VALUES ('SES', 1, f.ses), ('Croston', 2, f.croston), ('SBA', 3, f.sba),
                             ('TSB', 4, f.tsb), ('mean', 5, f.mean),
                             ('auto', 6, (f.auto).forecast)) m (method, ord, f)
  JOIN cp c ON c.part_id = f.part_id AND c.t > 45
 GROUP BY f.part_id, m.method, m.ord, s.mae_naive, s.mse_naive;

\echo
\echo Accuracy on car parts, months 46-51 (series scored, median and mean MASE, median RMSSE)
SELECT method, count(*) AS series,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY mase)::numeric, 4) AS median_mase,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY rmsse)::numeric, 4) AS median_rmsse,
       round(avg(mase)::numeric, 4) AS mean_mase,
       round(avg(rmsse)::numeric, 4) AS mean_rmsse
  FROM err GROUP BY method, ord ORDER BY ord;

\echo Patterns (Syntetos-Boylan, months 1-45) and the methods the automatic choice took
SELECT (auto).pattern, count(*) AS series,
       count(*) FILTER (WHERE (auto).method = 'ses') AS ses,
       count(*) FILTER (WHERE (auto).method = 'croston') AS croston,
       count(*) FILTER (WHERE (auto).method = 'sba') AS sba,
       count(*) FILTER (WHERE (auto).method = 'tsb') AS tsb,
       count(*) FILTER (WHERE (auto).method = 'mean') AS mean
  FROM fc JOIN scale USING (part_id) GROUP BY 1 ORDER BY 1;

\echo The classification alone (SES for smooth and erratic, SBA for intermittent and lumpy)
SELECT count(*) AS series,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY e.mase)::numeric, 4) AS median_mase,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY e.rmsse)::numeric, 4) AS median_rmsse
  FROM err e JOIN fc f USING (part_id)
 WHERE e.method = CASE WHEN (f.auto).pattern IN ('intermittent', 'lumpy') THEN 'SBA' ELSE 'SES' END;

\echo For scale: the zero forecast (not a method: it never predicts a stock-out)
SELECT count(*) AS series,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY mase)::numeric, 4) AS median_mase,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY rmsse)::numeric, 4) AS median_rmsse
  FROM (SELECT f.part_id, avg(abs(c.qty)) / s.mae_naive AS mase, sqrt(avg(c.qty ^ 2) / s.mse_naive) AS rmsse
          FROM fc f JOIN scale s USING (part_id) JOIN cp c ON c.part_id = f.part_id AND c.t > 45
         GROUP BY f.part_id, s.mae_naive, s.mse_naive) z;
