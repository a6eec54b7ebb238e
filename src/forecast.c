/*
 * forecast.c — from a daily demand series to a stock-out projection.
 *
 * backorder.series_forecast(series, method, alpha, beta) classifies a daily
 * series (Syntetos-Boylan) and applies the chosen method with the same
 * Smoother the aggregates use.  backorder.project_stock() walks the days
 * from as_of: each day adds the inbound expected that day (overdue inbound
 * on as_of) and takes that day's demand, the forecast rate scaled and
 * raised by the demand surges covering the day; the first day the position
 * falls below zero is the projected stock-out.  backorder.stockout_probability()
 * and backorder.safety_stock() are the normal lead-time-demand formulas.
 * All of them are pure functions of their arguments: the SQL functions and
 * views of sql/parts/70_forecast.sql feed them.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "forecast.h"

PG_FUNCTION_INFO_V1(backorder_series_forecast);
PG_FUNCTION_INFO_V1(backorder_project_stock);
PG_FUNCTION_INFO_V1(backorder_stockout_probability);
PG_FUNCTION_INFO_V1(backorder_safety_stock);
PG_FUNCTION_INFO_V1(backorder_normal_quantile);

/* Positions within this of zero count as zero (sums of fractional demand). */
#define PROJECTION_EPSILON 1e-9
#define PROJECTION_MAX_HORIZON 3660

/* ---------------------------------------------------------------------------
 * Helpers
 */

/* The elements of a one-dimensional float8 array; NULL elements are errors. */
static double *
float8_array_values(ArrayType *a, int *n, const char *what)
{
	Datum	   *d;
	bool	   *nulls;
	double	   *v;
	int			i;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what),
				 errhint("Pass an array such as array_agg(units ORDER BY day).")));
	deconstruct_array(a, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &d, &nulls, n);
	v = palloc(sizeof(double) * (*n > 0 ? *n : 1));
	for (i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL elements", what),
					 errhint("Use 0 for a day without demand or inbound.")));
		v[i] = DatumGetFloat8(d[i]);
	}
	return v;
}

static DateADT *
date_array_values(ArrayType *a, int *n, const char *what)
{
	Datum	   *d;
	bool	   *nulls;
	DateADT    *v;
	int			i;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what),
				 errhint("Pass an array of dates.")));
	deconstruct_array(a, DATEOID, sizeof(DateADT), true, TYPALIGN_INT, &d, &nulls, n);
	v = palloc(sizeof(DateADT) * (*n > 0 ? *n : 1));
	for (i = 0; i < *n; i++)
	{
		if (nulls[i] || DATE_NOT_FINITE(DatumGetDateADT(d[i])))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must contain finite dates", what),
					 errhint("Every inbound and surge needs its dates.")));
		v[i] = DatumGetDateADT(d[i]);
	}
	return v;
}

static void
check_finite_nonnegative(double v, const char *what, const char *hint)
{
	if (isnan(v) || isinf(v) || v < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number of 0 or more, got %g", what, v),
				 errhint("%s", hint)));
}

static void
check_finite(double v, const char *what)
{
	if (isnan(v) || isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number, got %g", what, v),
				 errhint("Pass stock quantities as ordinary numbers.")));
}

static void
check_lead_time(double lead_time)
{
	if (isnan(lead_time) || isinf(lead_time) || lead_time < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lead time must be 0 days or more, got %g", lead_time),
				 errhint("Set backorder.sku.lead_time_days to the days from reorder to receipt.")));
}

static void
check_service_level(double p)
{
	if (!(p > 0.0 && p < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("service level must be strictly between 0 and 1, got %g", p),
				 errhint("Pass the probability of not stocking out during a lead time, such as 0.95.")));
}

/*
 * The standard normal quantile: Wichura's algorithm AS 241 (PPND16), good
 * to about 1e-16, the one R's qnorm() uses.
 */
static double
normal_quantile(double p)
{
	double		q = p - 0.5;
	double		r,
				x;

	if (fabs(q) <= 0.425)
	{
		r = 0.180625 - q * q;
		return q * (((((((2509.0809287301226727 * r + 33430.575583588128105) * r +
						 67265.770927008700853) * r + 45921.953931549871457) * r +
					   13731.693765509461125) * r + 1971.5909503065514427) * r +
					 133.14166789178437745) * r + 3.387132872796366608) /
			(((((((5226.495278852854561 * r + 28729.085735721942674) * r +
				  39307.89580009271061) * r + 21213.794301586595867) * r +
				5394.1960214247511077) * r + 687.1870074920579083) * r +
			  42.313330701600911252) * r + 1.0);
	}
	r = (q < 0.0) ? p : 1.0 - p;
	r = sqrt(-log(r));
	if (r <= 5.0)
	{
		r -= 1.6;
		x = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r +
				  0.24178072517745061177) * r + 1.27045825245236838258) * r +
				3.64784832476320460504) * r + 5.7694972214606914055) * r +
			  4.6303378461565452959) * r + 1.42343711074968357734) /
			(((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r +
				  0.0151986665636164571966) * r + 0.14810397642748007459) * r +
				0.68976733498510000455) * r + 1.6763848301838038494) * r +
			  2.05319162663775882187) * r + 1.0);
	}
	else
	{
		r -= 5.0;
		x = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r +
				  0.0012426609473880784386) * r + 0.026532189526576123093) * r +
				0.29656057182850489123) * r + 1.7848265399172913358) * r +
			  5.4637849111641143699) * r + 6.6579046435011037772) /
			(((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r +
				  1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
				0.0148753612908506148525) * r + 0.13692988092273580531) * r +
			  0.59983220655588793769) * r + 1.0);
	}
	return (q < 0.0) ? -x : x;
}

/*
 * P(D > stock) for lead-time demand D ~ Normal(mean, sd^2); demand is never
 * negative, so a stock already below zero (units owed) is out for sure.
 */
static double
exceed_probability(double stock, double mean, double sd)
{
	if (stock < 0.0)
		return 1.0;
	if (sd <= 0.0)
		return (mean > stock + PROJECTION_EPSILON) ? 1.0 : 0.0;
	return 0.5 * erfc((stock - mean) / (sd * M_SQRT2));
}

/*
 * The automatic choice.  Every candidate method runs over the series and is
 * scored by its mean absolute one-step-ahead error over the second half of
 * the series (the first half warms the smoothers up from their initial
 * values); the lowest error wins, ties (within 1e-9 relative) going to the method the pattern
 * suggests (Syntetos-Boylan: SES for smooth and erratic demand, SBA for
 * intermittent and lumpy), then to the order ses, croston, sba, tsb, mean.
 * A series too short to score (fewer than AUTO_MIN_PERIODS) takes the
 * pattern's method.  Why not the classification alone: see README
 * ("Forecasting", accuracy on car parts).  The winner's smoother has seen
 * the whole series, so its state gives the forecast.
 */
#define AUTO_MIN_PERIODS 4
#define N_CANDIDATES 5

/*
 * The five candidates in one pass: their recurrences are independent, so the
 * processor overlaps them, where one candidate at a time waits on each
 * multiply-add of its own chain.  The arithmetic is smoother_step_m()'s and
 * smoother_forecast_m()'s, operation for operation (the tests check that the
 * automatic choice's forecast equals the chosen method's), and the winner's
 * state is handed back as a Smoother.
 */
static void
auto_forecast(const double *y, int n, DemandPattern pattern, double alpha, double beta,
			  Smoother *winner)
{
	static const ForecastMethod order[] = {FM_SES, FM_CROSTON, FM_SBA, FM_TSB, FM_MEAN};
	ForecastMethod preferred = forecast_auto_method(pattern);
	const double a = alpha;
	const double sba_factor = 1 - alpha / 2;
	int			from = Max(n / 2, 1);
	int			i,
				c,
				best;
	double		ses_level = 0.0;
	int64		cro_nz = 0,
				cro_gap = 0;
	double		cro_first_size = 0.0,
				cro_first_interval = 0.0,
				cro_level = 0.0,
				cro_interval = 0.0;
	int64		tsb_nz = 0;
	double		tsb_level = 0.0,
				tsb_prob = 0.0;
	double		mean_sum = 0.0;
	int64		mean_nz = 0;
	double		err[N_CANDIDATES] = {0.0, 0.0, 0.0, 0.0, 0.0};	/* as order[] */
	ForecastMethod cand[N_CANDIDATES];
	int			idx[N_CANDIDATES];

	StaticAssertStmt(lengthof(order) == N_CANDIDATES, "candidate list");
	if (n < AUTO_MIN_PERIODS || pattern == DP_NONE)
	{
		smoother_init(winner, preferred, alpha, beta);
		for (i = 0; i < n; i++)
			smoother_step(winner, y[i]);
		return;
	}

	for (i = 0; i < n; i++)
	{
		double		v = y[i];

		if (i >= from)
		{
			double		f_cro = (cro_nz == 0) ? 0.0 :
				(cro_nz == 1) ? cro_first_size / cro_first_interval : cro_level / cro_interval;

			err[0] += fabs(v - ses_level);
			err[1] += fabs(v - f_cro);
			err[2] += fabs(v - f_cro * sba_factor);
			err[3] += fabs(v - ((tsb_nz == 0) ? 0.0 : tsb_prob * tsb_level));
			err[4] += fabs(v - mean_sum / (double) i);
		}
		/* SES */
		ses_level = (i == 0) ? a * v + (1 - a) * v : a * v + (1 - a) * ses_level;
		/* Croston (and SBA) */
		cro_gap++;
		if (v > 0.0)
		{
			cro_nz++;
			if (cro_nz == 1)
			{
				cro_first_size = v;
				cro_first_interval = (double) cro_gap;
			}
			else
			{
				if (cro_nz == 2)
				{
					cro_level = a * cro_first_size + (1 - a) * cro_first_size;
					cro_interval = a * cro_first_interval + (1 - a) * cro_first_interval;
				}
				cro_level = a * v + (1 - a) * cro_level;
				cro_interval = a * (double) cro_gap + (1 - a) * cro_interval;
			}
			cro_gap = 0;
		}
		/* TSB */
		if (v != 0.0)
		{
			tsb_nz++;
			tsb_level = (tsb_nz == 1) ? v : tsb_level + a * (v - tsb_level);
		}
		tsb_prob = (i == 0) ? ((v != 0.0) ? 1.0 : 0.0)
			: tsb_prob + beta * (((v != 0.0) ? 1.0 : 0.0) - tsb_prob);
		/* mean */
		mean_sum += v;
		if (v != 0.0)
			mean_nz++;
	}

	/* candidates in tie-break order: the pattern's method first */
	c = 0;
	for (i = 0; i < N_CANDIDATES; i++)
		if (order[i] == preferred)
		{
			cand[c] = order[i];
			idx[c++] = i;
		}
	for (i = 0; i < N_CANDIDATES; i++)
		if (order[i] != preferred)
		{
			cand[c] = order[i];
			idx[c++] = i;
		}
	/* errors equal but for rounding (SES, Croston and TSB on demand every period) are ties */
	best = 0;
	for (c = 1; c < N_CANDIDATES; c++)
		if (err[idx[c]] < err[idx[best]] - 1e-9 * fabs(err[idx[best]]))
			best = c;

	/* the winner's state, as smoother_step would have left it */
	smoother_init(winner, cand[best], alpha, beta);
	winner->n = n;
	switch (cand[best])
	{
		case FM_SES:
			winner->level = ses_level;
			break;
		case FM_CROSTON:
		case FM_SBA:
			winner->nonzero = cro_nz;
			winner->gap = cro_gap;
			winner->first_size = cro_first_size;
			winner->first_interval = cro_first_interval;
			winner->level = cro_level;
			winner->interval = cro_interval;
			break;
		case FM_TSB:
			winner->nonzero = tsb_nz;
			winner->level = tsb_level;
			winner->prob = tsb_prob;
			break;
		default:
			winner->sum = mean_sum;
			winner->nonzero = mean_nz;
			break;
	}
}

/*
 * Classifies a checked series and forecasts it with method m (FM_AUTO: the
 * automatic choice).
 */
void
forecast_series(const double *y, int n, ForecastMethod m, double alpha, double beta,
				SeriesForecast *out)
{
	DemandStats st;
	Smoother	s;
	bool		valid;
	int			i;

	/* two passes (sums, then squared deviations): exact, and no division per period */
	demand_stats_init(&st);
	{
		double		sum = 0.0,
					nz_sum = 0.0;

		for (i = 0; i < n; i++)
		{
			sum += y[i];
			if (y[i] != 0.0)
			{
				nz_sum += y[i];
				st.nz++;
			}
		}
		st.n = n;
		st.mean = n > 0 ? sum / n : 0.0;
		st.nz_mean = st.nz > 0 ? nz_sum / st.nz : 0.0;
		for (i = 0; i < n; i++)
		{
			double		d = y[i] - st.mean;

			st.m2 += d * d;
			if (y[i] != 0.0)
			{
				d = y[i] - st.nz_mean;
				st.nz_m2 += d * d;
			}
		}
	}
	out->pattern = demand_stats_pattern(&st);
	if (m == FM_AUTO)
		auto_forecast(y, n, out->pattern, alpha, beta, &s);
	else
	{
		smoother_init(&s, m, alpha, beta);
		for (i = 0; i < n; i++)
			smoother_step(&s, y[i]);
	}
	out->forecast = smoother_forecast(&s, &valid);
	if (!valid)
		out->forecast = 0.0;	/* no history: no demand */
	out->method = s.method;
	out->mean = n > 0 ? st.mean : 0.0;
	out->sd = demand_stats_sd(&st);
	out->has_demand = st.nz > 0;
	out->adi = demand_stats_adi(&st);
	out->cv2 = demand_stats_cv2(&st);
	out->periods = n;
}

/* A SeriesForecast as a backorder.series_forecast_result datum. */
Datum
series_forecast_datum(FunctionCallInfo fcinfo, const SeriesForecast *r)
{
	TupleDesc	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	Datum		values[8];
	bool		nulls[8] = {false, false, false, false, false, false, false, false};

	if (tupdesc == NULL)
	{
		/* the result type's descriptor, looked up once per query (fn_extra) */
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "pg_backorder: a forecast must return a composite type");
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = tupdesc;
	}
	values[0] = CStringGetTextDatum(demand_pattern_name(r->pattern));
	values[1] = CStringGetTextDatum(forecast_method_name(r->method));
	values[2] = Float8GetDatum(r->forecast);
	values[3] = Float8GetDatum(r->mean);
	values[4] = Float8GetDatum(r->sd);
	values[5] = Float8GetDatum(r->adi);
	nulls[5] = !r->has_demand;
	values[6] = Float8GetDatum(r->cv2);
	nulls[6] = !r->has_demand;
	values[7] = Int32GetDatum(r->periods);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* ---------------------------------------------------------------------------
 * series_forecast(series float8[], method text, alpha float8, beta float8)
 *   -> (pattern, method, forecast, mean, sd, adi, cv2, periods)
 */
Datum
backorder_series_forecast(PG_FUNCTION_ARGS)
{
	const double *y = NULL;
	int			n = 0,
				i;
	ForecastMethod m;
	double		alpha,
				beta;
	SeriesForecast r;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("method, alpha and beta must not be null"),
				 errhint("Leave them out for the defaults: auto, 0.1, 0.1.")));
	m = forecast_method_from_name(text_to_cstring(PG_GETARG_TEXT_PP(1)), true);
	alpha = PG_GETARG_FLOAT8(2);
	beta = PG_GETARG_FLOAT8(3);
	forecast_check_weight(alpha, "alpha");
	forecast_check_weight(beta, "beta");
	if (!PG_ARGISNULL(0))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);

		if (ARR_NDIM(a) <= 1 && !ARR_HASNULL(a))
		{
			/* the common case: read the doubles in place */
			n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
			y = (const double *) ARR_DATA_PTR(a);
		}
		else
			y = float8_array_values(a, &n, "the demand series");
	}
	for (i = 0; i < n; i++)
		forecast_check_demand(y[i], FM_CROSTON);
	forecast_series(y, n, m, alpha, beta, &r);
	PG_RETURN_DATUM(series_forecast_datum(fcinfo, &r));
}

/* ---------------------------------------------------------------------------
 * project_stock(start_units, as_of, daily_demand, horizon_days, lead_time_days,
 *               inbound_on date[], inbound_units float8[],
 *               surge_from date[], surge_to date[], surge_multiplier float8[],
 *               surge_extra float8[])
 *   -> (stockout_on date, lead_time_demand float8, lead_time_inbound float8)
 *
 * start_units is what is free now: available minus units already waiting.
 * Day t (as_of + k, k = 0 .. horizon - 1): position += inbound expected on t
 * (inbound expected before as_of, overdue, arrives on as_of); position -=
 * demand(t) = daily_demand * product of the multipliers of the surges that
 * cover t + sum of their extra units, never below 0.  The first t whose
 * position is below zero is the stock-out day (NULL: none in the horizon).
 * The lead time is the lead_time_days days from as_of: lead_time_demand is
 * the projected demand over them, lead_time_inbound what arrives in them.
 */
Datum
backorder_project_stock(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {true, false, false};
	double		position,
				daily;
	DateADT		as_of;
	int32		horizon,
				lead_time,
				days,
				k,
				i;
	int			n_in = 0,
				n_in_units = 0,
				n_s = 0,
				n_s2 = 0,
				n_s3 = 0,
				n_s4 = 0;
	DateADT    *in_on = NULL,
			   *s_from = NULL,
			   *s_to = NULL;
	double	   *in_units = NULL,
			   *s_mult = NULL,
			   *s_extra = NULL;
	double	   *arrivals;
	double		lt_demand = 0.0,
				lt_inbound = 0.0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "pg_backorder: project_stock must return a composite type");
	for (i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("start_units, as_of, daily_demand, horizon_days and lead_time_days must not be null"),
					 errhint("Pass 0 for no stock or no demand.")));
	position = PG_GETARG_FLOAT8(0);
	as_of = PG_GETARG_DATEADT(1);
	daily = PG_GETARG_FLOAT8(2);
	horizon = PG_GETARG_INT32(3);
	lead_time = PG_GETARG_INT32(4);
	check_finite(position, "start_units");
	check_finite_nonnegative(daily, "daily demand", "Pass a forecast of units per day.");
	check_lead_time(lead_time);
	if (DATE_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of must be a finite date"),
				 errhint("Pass a calendar date such as current_date.")));
	if (horizon < 1 || horizon > PROJECTION_MAX_HORIZON)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon_days must be between 1 and %d, got %d", PROJECTION_MAX_HORIZON, horizon),
				 errhint("Project a year (365 days) or less.")));

	if (!PG_ARGISNULL(5))
		in_on = date_array_values(PG_GETARG_ARRAYTYPE_P(5), &n_in, "inbound_on");
	if (!PG_ARGISNULL(6))
		in_units = float8_array_values(PG_GETARG_ARRAYTYPE_P(6), &n_in_units, "inbound_units");
	if (!PG_ARGISNULL(7))
		s_from = date_array_values(PG_GETARG_ARRAYTYPE_P(7), &n_s, "surge_from");
	if (!PG_ARGISNULL(8))
		s_to = date_array_values(PG_GETARG_ARRAYTYPE_P(8), &n_s2, "surge_to");
	if (!PG_ARGISNULL(9))
		s_mult = float8_array_values(PG_GETARG_ARRAYTYPE_P(9), &n_s3, "surge_multiplier");
	if (!PG_ARGISNULL(10))
		s_extra = float8_array_values(PG_GETARG_ARRAYTYPE_P(10), &n_s4, "surge_extra");
	if (n_in != n_in_units || n_s != n_s2 || n_s != n_s3 || n_s != n_s4)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("inbound and surge arrays must come in equal lengths"),
				 errhint("Aggregate each inbound's date and units, and each surge's four fields, together.")));

	/* arrivals per day of the longer of horizon and lead time */
	days = Max(horizon, lead_time);
	arrivals = palloc0(sizeof(double) * (days > 0 ? days : 1));
	for (i = 0; i < n_in; i++)
	{
		int32		k_in = Max(in_on[i] - as_of, 0);

		check_finite_nonnegative(in_units[i], "inbound units", "Inbound quantities are units expected (0 or more).");
		if (k_in < days)
			arrivals[k_in] += in_units[i];
	}
	for (i = 0; i < n_s; i++)
	{
		check_finite_nonnegative(s_mult[i], "surge multiplier", "Use 1 for no scaling, 2 for double demand.");
		check_finite(s_extra[i], "surge extra units");
	}

	for (k = 0; k < days; k++)
	{
		DateADT		t = as_of + k;
		double		demand = daily;
		double		extra = 0.0;

		/* nothing left to find: the stock-out is known (or impossible) and the lead time is over */
		if (k >= lead_time && (!nulls[0] || (daily == 0.0 && n_s == 0 && position >= -PROJECTION_EPSILON)))
			break;

		for (i = 0; i < n_s; i++)
			if (s_from[i] <= t && t <= s_to[i])
			{
				demand *= s_mult[i];
				extra += s_extra[i];
			}
		demand = Max(demand + extra, 0.0);
		if (k < lead_time)
		{
			lt_demand += demand;
			lt_inbound += arrivals[k];
		}
		if (k < horizon && nulls[0])
		{
			position += arrivals[k] - demand;
			if (position < -PROJECTION_EPSILON)
			{
				values[0] = DateADTGetDatum(t);
				nulls[0] = false;
			}
		}
	}
	values[1] = Float8GetDatum(lt_demand);
	values[2] = Float8GetDatum(lt_inbound);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---------------------------------------------------------------------------
 * stockout_probability(on_hand, in_transit, lead_time_days, mean_daily_demand,
 *                      sd_daily_demand)
 *
 * The probability that demand over the lead time exceeds on_hand +
 * in_transit, with lead-time demand normal of mean L * mean and standard
 * deviation sqrt(L) * sd (independent days).  sd = 0 gives 0 or 1.
 */
Datum
backorder_stockout_probability(PG_FUNCTION_ARGS)
{
	double		on_hand = PG_GETARG_FLOAT8(0);
	double		in_transit = PG_GETARG_FLOAT8(1);
	double		lead_time = PG_GETARG_FLOAT8(2);
	double		mean = PG_GETARG_FLOAT8(3);
	double		sd = PG_GETARG_FLOAT8(4);

	check_finite(on_hand, "on_hand");
	check_finite(in_transit, "in_transit");
	check_lead_time(lead_time);
	check_finite_nonnegative(mean, "mean daily demand", "Pass units per day (0 or more).");
	check_finite_nonnegative(sd, "standard deviation of daily demand", "Pass units per day (0 or more).");
	PG_RETURN_FLOAT8(exceed_probability(on_hand + in_transit, lead_time * mean, sqrt(lead_time) * sd));
}

/*
 * safety_stock(sd_daily_demand, lead_time_days, service_level):
 * z(service_level) * sd * sqrt(lead time), never below 0.
 */
Datum
backorder_safety_stock(PG_FUNCTION_ARGS)
{
	double		sd = PG_GETARG_FLOAT8(0);
	double		lead_time = PG_GETARG_FLOAT8(1);
	double		service = PG_GETARG_FLOAT8(2);

	check_finite_nonnegative(sd, "standard deviation of daily demand", "Pass units per day (0 or more).");
	check_lead_time(lead_time);
	check_service_level(service);
	PG_RETURN_FLOAT8(Max(normal_quantile(service) * sd * sqrt(lead_time), 0.0));
}

/* normal_quantile(p): the standard normal quantile (qnorm), p in (0, 1). */
Datum
backorder_normal_quantile(PG_FUNCTION_ARGS)
{
	double		p = PG_GETARG_FLOAT8(0);

	if (!(p > 0.0 && p < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("probability must be strictly between 0 and 1, got %g", p),
				 errhint("The quantile of 0 or 1 is infinite.")));
	PG_RETURN_FLOAT8(normal_quantile(p));
}
