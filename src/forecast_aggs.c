/*
 * forecast_aggs.c — demand forecasting methods as SQL aggregates.
 *
 * backorder.ses, croston, sba and tsb consume a demand series in period
 * order (aggregate with ORDER BY, or as window functions for the running
 * forecast) and return the one-step-ahead forecast after the last period.
 * The conventions are those of R's forecast package 8.20, so results can be
 * checked against it (test/forecast/):
 *
 *   ses      initial = "simple": the level starts at the first value and is
 *            updated by every period, the first one included:
 *            l = alpha * y + (1 - alpha) * l.
 *   croston  croston(): demand sizes and inter-demand intervals are smoothed
 *            separately by ses(initial = "simple") over the periods with
 *            demand; the first interval counts from the start of the series.
 *            All zeros: 0.  A single demand y after t periods: y / t.
 *   sba      Syntetos-Boylan approximation: croston * (1 - alpha / 2).
 *   tsb      Teunter-Syntetos-Babai (not in forecast 8.20): the recursion of
 *            tsintermittent's tsb(init = "naive") with fixed weights: the
 *            size starts at the first demand and is smoothed by alpha on
 *            periods with demand; the probability starts at 1 or 0 (demand
 *            in the first period or not) and is smoothed by beta on every
 *            later period; forecast = probability * size.
 *
 * NULL demands are skipped, as every SQL aggregate skips NULLs: a period
 * without demand must be an explicit 0.  NaN, infinities, and negative
 * demand for the intermittent methods are errors (22023).  The weights come
 * with every row and must not change within a group.
 *
 * backorder.demand_profile(qty) is the one-pass, order-independent summary
 * behind the Syntetos-Boylan classification (ADI and CV^2); it runs in
 * parallel (combine, serialize and deserialize functions).
 *
 * backorder.demand_series(placed_at, qty, as_of, history_days) turns order
 * lines, in any order, into one SKU's daily demand series with explicit
 * zero days: the aggregate behind the stockout_risk view's single pass over
 * order lines.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include "forecast.h"

PG_FUNCTION_INFO_V1(backorder_ses_trans);
PG_FUNCTION_INFO_V1(backorder_croston_trans);
PG_FUNCTION_INFO_V1(backorder_tsb_trans);
PG_FUNCTION_INFO_V1(backorder_smooth_final);
PG_FUNCTION_INFO_V1(backorder_sba_final);
PG_FUNCTION_INFO_V1(backorder_profile_trans);
PG_FUNCTION_INFO_V1(backorder_profile_combine);
PG_FUNCTION_INFO_V1(backorder_profile_serialize);
PG_FUNCTION_INFO_V1(backorder_profile_deserialize);
PG_FUNCTION_INFO_V1(backorder_profile_final);
PG_FUNCTION_INFO_V1(backorder_series_trans);
PG_FUNCTION_INFO_V1(backorder_series_combine);
PG_FUNCTION_INFO_V1(backorder_series_serialize);
PG_FUNCTION_INFO_V1(backorder_series_deserialize);
PG_FUNCTION_INFO_V1(backorder_series_final);

/* ---------------------------------------------------------------------------
 * Names and validation
 */

const char *
forecast_method_name(ForecastMethod m)
{
	switch (m)
	{
		case FM_SES:
			return "ses";
		case FM_CROSTON:
			return "croston";
		case FM_SBA:
			return "sba";
		case FM_TSB:
			return "tsb";
		case FM_MEAN:
			return "mean";
		case FM_AUTO:
			return "auto";
	}
	return "?";					/* keep compiler quiet */
}

ForecastMethod
forecast_method_from_name(const char *name, bool allow_auto)
{
	static const ForecastMethod all[] = {FM_SES, FM_CROSTON, FM_SBA, FM_TSB, FM_MEAN, FM_AUTO};
	int			i;

	for (i = 0; i < lengthof(all); i++)
	{
		if (all[i] == FM_AUTO && !allow_auto)
			continue;
		if (strcmp(name, forecast_method_name(all[i])) == 0)
			return all[i];
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown forecasting method \"%s\"", name),
			 errhint("Use one of ses, croston, sba, tsb, mean%s.", allow_auto ? ", auto" : "")));
	return FM_AUTO;				/* keep compiler quiet */
}

const char *
demand_pattern_name(DemandPattern p)
{
	switch (p)
	{
		case DP_NONE:
			return "none";
		case DP_SMOOTH:
			return "smooth";
		case DP_ERRATIC:
			return "erratic";
		case DP_INTERMITTENT:
			return "intermittent";
		case DP_LUMPY:
			return "lumpy";
	}
	return "?";					/* keep compiler quiet */
}

void
forecast_check_weight(double value, const char *what)
{
	if (!(value > 0.0 && value <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be in (0, 1], got %g", what, value),
				 errdetail("A smoothing weight of 0 never learns from the data; above 1 it overshoots."),
				 errhint("Pass a smoothing weight such as 0.1 (the default); 1 repeats the last value.")));
}

void
forecast_check_demand(double y, ForecastMethod m)
{
	if (isnan(y) || isinf(y))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("demand must be a finite number, got %g", y),
				 errhint("Filter out NaN and infinite values; a period without demand is 0, an unknown one NULL (skipped).")));
	if (y < 0.0 && m != FM_SES && m != FM_MEAN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("demand must not be negative for %s, got %g", forecast_method_name(m), y),
				 errhint("Intermittent-demand methods take units demanded per period (0 or more); net returns out first.")));
}

/* ---------------------------------------------------------------------------
 * The smoother: one period at a time.
 */

void
smoother_init(Smoother *s, ForecastMethod m, double alpha, double beta)
{
	memset(s, 0, sizeof(*s));
	s->method = m;
	s->alpha = alpha;
	s->beta = beta;
}

/*
 * Adds one period.  Croston keeps its first demand and interval raw because
 * R smooths them with ses() only once a second demand exists (one demand y
 * after t periods forecasts exactly y / t); the second demand then starts
 * ses() at them, whose first step is alpha * x1 + (1 - alpha) * x1.
 */
void
smoother_add(Smoother *s, double y)
{
	double		a = s->alpha;

	forecast_check_demand(y, s->method);
	s->n++;
	s->gap++;
	switch (s->method)
	{
		case FM_SES:
			s->level = (s->n == 1) ? a * y + (1 - a) * y : a * y + (1 - a) * s->level;
			break;
		case FM_CROSTON:
		case FM_SBA:
			if (y > 0.0)
			{
				s->nonzero++;
				if (s->nonzero == 1)
				{
					s->first_size = y;
					s->first_interval = (double) s->gap;
				}
				else
				{
					if (s->nonzero == 2)
					{
						s->level = a * s->first_size + (1 - a) * s->first_size;
						s->interval = a * s->first_interval + (1 - a) * s->first_interval;
					}
					s->level = a * y + (1 - a) * s->level;
					s->interval = a * (double) s->gap + (1 - a) * s->interval;
				}
				s->gap = 0;
			}
			break;
		case FM_TSB:
			if (y != 0.0)
			{
				s->nonzero++;
				if (s->nonzero == 1)
					s->level = y;	/* the initial size is the first demand */
				else
					s->level = s->level + a * (y - s->level);
			}
			if (s->n == 1)
				s->prob = (y != 0.0) ? 1.0 : 0.0;
			else
				s->prob = s->prob + s->beta * (((y != 0.0) ? 1.0 : 0.0) - s->prob);
			break;
		case FM_MEAN:
			s->sum += y;
			if (y != 0.0)
				s->nonzero++;
			break;
		case FM_AUTO:
			elog(ERROR, "pg_backorder: smoother without a resolved method");
	}
}

double
smoother_forecast(const Smoother *s, bool *valid)
{
	double		f = 0.0;

	*valid = s->n > 0;
	if (s->n == 0)
		return 0.0;
	switch (s->method)
	{
		case FM_SES:
			f = s->level;
			break;
		case FM_CROSTON:
		case FM_SBA:
			if (s->nonzero == 0)
				f = 0.0;
			else if (s->nonzero == 1)
				f = s->first_size / s->first_interval;
			else
				f = s->level / s->interval;
			if (s->method == FM_SBA)
				f = f * (1 - s->alpha / 2);
			break;
		case FM_TSB:
			f = (s->nonzero == 0) ? 0.0 : s->prob * s->level;
			break;
		case FM_MEAN:
			f = s->sum / (double) s->n;
			break;
		case FM_AUTO:
			elog(ERROR, "pg_backorder: smoother without a resolved method");
	}
	return f;
}

/* ---------------------------------------------------------------------------
 * Order-independent statistics and the Syntetos-Boylan classification.
 */

void
demand_stats_init(DemandStats *st)
{
	memset(st, 0, sizeof(*st));
}

void
demand_stats_add(DemandStats *st, double y)
{
	double		d;

	st->n++;
	d = y - st->mean;
	st->mean += d / (double) st->n;
	st->m2 += d * (y - st->mean);
	if (y != 0.0)
	{
		st->nz++;
		d = y - st->nz_mean;
		st->nz_mean += d / (double) st->nz;
		st->nz_m2 += d * (y - st->nz_mean);
	}
}

/* Chan et al.'s pairwise update of (count, mean, M2). */
static void
merge_moments(int64 *n, double *mean, double *m2, int64 n2, double mean2, double m2b)
{
	int64		n1 = *n;
	double		d;

	if (n2 == 0)
		return;
	if (n1 == 0)
	{
		*n = n2;
		*mean = mean2;
		*m2 = m2b;
		return;
	}
	d = mean2 - *mean;
	*n = n1 + n2;
	*mean = *mean + d * (double) n2 / (double) *n;
	*m2 = *m2 + m2b + d * d * (double) n1 * (double) n2 / (double) *n;
}

void
demand_stats_merge(DemandStats *into, const DemandStats *from)
{
	merge_moments(&into->n, &into->mean, &into->m2, from->n, from->mean, from->m2);
	merge_moments(&into->nz, &into->nz_mean, &into->nz_m2, from->nz, from->nz_mean, from->nz_m2);
}

double
demand_stats_sd(const DemandStats *st)
{
	return st->n < 2 ? 0.0 : sqrt(fmax(st->m2, 0.0) / (double) (st->n - 1));
}

double
demand_stats_adi(const DemandStats *st)
{
	return st->nz == 0 ? get_float8_nan() : (double) st->n / (double) st->nz;
}

double
demand_stats_cv2(const DemandStats *st)
{
	double		sd;

	if (st->nz < 2 || st->nz_mean == 0.0)
		return 0.0;
	sd = sqrt(fmax(st->nz_m2, 0.0) / (double) (st->nz - 1));
	return (sd / st->nz_mean) * (sd / st->nz_mean);
}

DemandPattern
demand_stats_pattern(const DemandStats *st)
{
	bool		sparse,
				variable;

	if (st->nz == 0)
		return DP_NONE;
	sparse = demand_stats_adi(st) >= FORECAST_ADI_CUTOFF;
	variable = demand_stats_cv2(st) >= FORECAST_CV2_CUTOFF;
	if (sparse)
		return variable ? DP_LUMPY : DP_INTERMITTENT;
	return variable ? DP_ERRATIC : DP_SMOOTH;
}

ForecastMethod
forecast_auto_method(DemandPattern p)
{
	switch (p)
	{
		case DP_NONE:
		case DP_SMOOTH:
		case DP_ERRATIC:
			return FM_SES;
		case DP_INTERMITTENT:
		case DP_LUMPY:
			return FM_SBA;
	}
	return FM_SES;				/* keep compiler quiet */
}

/* ---------------------------------------------------------------------------
 * ses, croston, sba, tsb aggregates
 */

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext ctx;

	if (!AggCheckCallContext(fcinfo, &ctx))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return ctx;
}

static double
weight_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what),
				 errhint("Pass a smoothing weight in (0, 1], or leave it out for the default 0.1.")));
	return PG_GETARG_FLOAT8(n);
}

/*
 * Common transition: state in arg 0, demand in arg 1, then up to two
 * weights (alpha, beta) whose defaults are 0.1.
 */
static Datum
smooth_trans(FunctionCallInfo fcinfo, ForecastMethod m, const char *fname)
{
	MemoryContext ctx = agg_context(fcinfo, fname);
	Smoother   *s = PG_ARGISNULL(0) ? NULL : (Smoother *) PG_GETARG_POINTER(0);
	double		alpha = FORECAST_DEFAULT_ALPHA;
	double		beta = FORECAST_DEFAULT_BETA;

	if (PG_NARGS() > 2)
		alpha = weight_arg(fcinfo, 2, "alpha");
	if (PG_NARGS() > 3)
		beta = weight_arg(fcinfo, 3, "beta");

	if (s == NULL)
	{
		forecast_check_weight(alpha, "alpha");
		if (m == FM_TSB)
			forecast_check_weight(beta, "beta");
		s = MemoryContextAlloc(ctx, sizeof(Smoother));
		smoother_init(s, m, alpha, beta);
	}
	else if (alpha != s->alpha || beta != s->beta)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("smoothing weights must be the same for every row of a series"),
				 errdetail("The series started with alpha %g, beta %g and now has alpha %g, beta %g.",
						   s->alpha, s->beta, alpha, beta),
				 errhint("Pass constants, not columns, as the weights.")));

	if (!PG_ARGISNULL(1))
		smoother_add(s, PG_GETARG_FLOAT8(1));
	PG_RETURN_POINTER(s);
}

Datum
backorder_ses_trans(PG_FUNCTION_ARGS)
{
	return smooth_trans(fcinfo, FM_SES, "backorder_ses_trans");
}

Datum
backorder_croston_trans(PG_FUNCTION_ARGS)
{
	return smooth_trans(fcinfo, FM_CROSTON, "backorder_croston_trans");
}

Datum
backorder_tsb_trans(PG_FUNCTION_ARGS)
{
	return smooth_trans(fcinfo, FM_TSB, "backorder_tsb_trans");
}

/* Final function of ses, croston and tsb: NULL when no period was seen. */
Datum
backorder_smooth_final(PG_FUNCTION_ARGS)
{
	Smoother   *s;
	bool		valid;
	double		f;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (Smoother *) PG_GETARG_POINTER(0);
	f = smoother_forecast(s, &valid);
	if (!valid)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(f);
}

/* sba shares croston's transition; only the final step differs. */
Datum
backorder_sba_final(PG_FUNCTION_ARGS)
{
	Smoother	copy;
	bool		valid;
	double		f;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	copy = *(Smoother *) PG_GETARG_POINTER(0);
	copy.method = FM_SBA;
	f = smoother_forecast(&copy, &valid);
	if (!valid)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(f);
}

/* A StringInfo reading a serialized state in place (PostgreSQL 15 has no helper). */
static void
read_only_buf(StringInfo buf, bytea *b)
{
	buf->data = VARDATA_ANY(b);
	buf->len = VARSIZE_ANY_EXHDR(b);
	buf->maxlen = buf->len;
	buf->cursor = 0;
}

/* ---------------------------------------------------------------------------
 * demand_profile(qty): count, mean, sd, ADI, CV^2 and pattern in one pass.
 */

Datum
backorder_profile_trans(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "backorder_profile_trans");
	DemandStats *st = PG_ARGISNULL(0) ? NULL : (DemandStats *) PG_GETARG_POINTER(0);

	if (st == NULL)
	{
		st = MemoryContextAlloc(ctx, sizeof(DemandStats));
		demand_stats_init(st);
	}
	if (!PG_ARGISNULL(1))
	{
		double		y = PG_GETARG_FLOAT8(1);

		forecast_check_demand(y, FM_CROSTON);
		demand_stats_add(st, y);
	}
	PG_RETURN_POINTER(st);
}

Datum
backorder_profile_combine(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "backorder_profile_combine");
	DemandStats *a = PG_ARGISNULL(0) ? NULL : (DemandStats *) PG_GETARG_POINTER(0);
	DemandStats *b = PG_ARGISNULL(1) ? NULL : (DemandStats *) PG_GETARG_POINTER(1);

	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
	{
		a = MemoryContextAlloc(ctx, sizeof(DemandStats));
		*a = *b;
		PG_RETURN_POINTER(a);
	}
	demand_stats_merge(a, b);
	PG_RETURN_POINTER(a);
}

Datum
backorder_profile_serialize(PG_FUNCTION_ARGS)
{
	DemandStats *st = (DemandStats *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, st->n);
	pq_sendfloat8(&buf, st->mean);
	pq_sendfloat8(&buf, st->m2);
	pq_sendint64(&buf, st->nz);
	pq_sendfloat8(&buf, st->nz_mean);
	pq_sendfloat8(&buf, st->nz_m2);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
backorder_profile_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "backorder_profile_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	DemandStats *st = MemoryContextAlloc(ctx, sizeof(DemandStats));
	StringInfoData buf;

	read_only_buf(&buf, b);
	st->n = pq_getmsgint64(&buf);
	st->mean = pq_getmsgfloat8(&buf);
	st->m2 = pq_getmsgfloat8(&buf);
	st->nz = pq_getmsgint64(&buf);
	st->nz_mean = pq_getmsgfloat8(&buf);
	st->nz_m2 = pq_getmsgfloat8(&buf);
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

Datum
backorder_profile_final(PG_FUNCTION_ARGS)
{
	DemandStats empty;
	DemandStats *st;
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};
	double		adi;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "pg_backorder: demand_profile must return a composite type");
	if (PG_ARGISNULL(0))
	{
		demand_stats_init(&empty);
		st = &empty;
	}
	else
		st = (DemandStats *) PG_GETARG_POINTER(0);

	adi = demand_stats_adi(st);
	values[0] = Int64GetDatum(st->n);
	values[1] = Int64GetDatum(st->nz);
	values[2] = Float8GetDatum(st->mean);
	nulls[2] = st->n == 0;
	values[3] = Float8GetDatum(demand_stats_sd(st));
	nulls[3] = st->n == 0;
	values[4] = Float8GetDatum(adi);
	nulls[4] = st->nz == 0;
	values[5] = Float8GetDatum(demand_stats_cv2(st));
	nulls[5] = st->nz == 0;
	values[6] = CStringGetTextDatum(demand_pattern_name(demand_stats_pattern(st)));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---------------------------------------------------------------------------
 * demand_series(placed_at, qty, as_of, history_days): daily buckets.
 *
 * The window is the history_days calendar days before as_of (as_of itself,
 * a day in progress, is not history).  Days are local days of the session's
 * TimeZone, found by binary search in the window's local midnights, which
 * are computed once per query (fn_extra) rather than converting every row.
 * The series starts at the window's first day if the SKU had demand before
 * the window (zeros there are real), else at its first day of demand (a
 * new SKU has no history before it).
 */

typedef struct SeriesState
{
	int32		history;		/* days in the window */
	DateADT		as_of;
	bool		before_window;	/* a demand before the window was seen */
	int32		first;			/* first day index with demand, or history */
	double		units[FLEXIBLE_ARRAY_MEMBER];	/* per day of the window */
} SeriesState;

typedef struct MidnightCache
{
	DateADT		as_of;
	int32		history;
	pg_tz	   *tz;
	TimestampTz *midnight;		/* history + 1 local midnights, ascending */
} MidnightCache;

#define SERIES_MAX_HISTORY 3660

static TimestampTz
local_midnight(DateADT d)
{
	return DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz, DateADTGetDatum(d)));
}

static MidnightCache *
midnights(FunctionCallInfo fcinfo, DateADT as_of, int32 history)
{
	MidnightCache *c = (MidnightCache *) fcinfo->flinfo->fn_extra;
	int32		i;

	if (c != NULL && c->as_of == as_of && c->history == history && c->tz == session_timezone)
		return c;
	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MidnightCache));
		fcinfo->flinfo->fn_extra = c;
	}
	if (c->midnight)
		pfree(c->midnight);
	c->midnight = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(TimestampTz) * (history + 1));
	for (i = 0; i <= history; i++)
		c->midnight[i] = local_midnight(as_of - history + i);
	c->as_of = as_of;
	c->history = history;
	c->tz = session_timezone;
	return c;
}

static SeriesState *
series_new(MemoryContext ctx, DateADT as_of, int32 history)
{
	SeriesState *st = MemoryContextAllocZero(ctx, offsetof(SeriesState, units) + sizeof(double) * history);

	st->history = history;
	st->as_of = as_of;
	st->first = history;
	return st;
}

Datum
backorder_series_trans(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "backorder_series_trans");
	SeriesState *st = PG_ARGISNULL(0) ? NULL : (SeriesState *) PG_GETARG_POINTER(0);
	MidnightCache *mc;
	TimestampTz ts;
	double		qty;
	int32		lo,
				hi;

	if (st == NULL)
	{
		int32		history;

		if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("as_of and history_days must not be null"),
					 errhint("Pass the day to forecast from and the number of days of history.")));
		history = PG_GETARG_INT32(4);
		if (history < 1 || history > SERIES_MAX_HISTORY)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("history_days must be between 1 and %d, got %d", SERIES_MAX_HISTORY, history),
					 errhint("Pass a window of days such as 365.")));
		if (DATE_NOT_FINITE(PG_GETARG_DATEADT(3)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("as_of must be a finite date"),
					 errhint("Pass a calendar date such as current_date.")));
		st = series_new(ctx, PG_GETARG_DATEADT(3), history);
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);

	ts = PG_GETARG_TIMESTAMPTZ(1);
	qty = PG_GETARG_FLOAT8(2);
	forecast_check_demand(qty, FM_CROSTON);
	if (qty == 0.0)
		PG_RETURN_POINTER(st);

	mc = midnights(fcinfo, st->as_of, st->history);
	if (ts >= mc->midnight[st->history])
		PG_RETURN_POINTER(st);	/* on or after as_of: not history */
	if (ts < mc->midnight[0])
	{
		st->before_window = true;
		PG_RETURN_POINTER(st);
	}
	/* the day d with midnight[d] <= ts < midnight[d + 1] */
	lo = 0;
	hi = st->history - 1;
	while (lo < hi)
	{
		int32		mid = (lo + hi + 1) / 2;

		if (mc->midnight[mid] <= ts)
			lo = mid;
		else
			hi = mid - 1;
	}
	st->units[lo] += qty;
	if (lo < st->first)
		st->first = lo;
	PG_RETURN_POINTER(st);
}

Datum
backorder_series_combine(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "backorder_series_combine");
	SeriesState *a = PG_ARGISNULL(0) ? NULL : (SeriesState *) PG_GETARG_POINTER(0);
	SeriesState *b = PG_ARGISNULL(1) ? NULL : (SeriesState *) PG_GETARG_POINTER(1);
	int32		i;

	if (b == NULL)
		PG_RETURN_POINTER(a);
	if (a == NULL)
	{
		a = series_new(ctx, b->as_of, b->history);
		memcpy(a->units, b->units, sizeof(double) * b->history);
		a->before_window = b->before_window;
		a->first = b->first;
		PG_RETURN_POINTER(a);
	}
	if (a->as_of != b->as_of || a->history != b->history)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of and history_days must be the same for every row of a series"),
				 errhint("Pass constants, not columns, for as_of and history_days.")));
	for (i = 0; i < a->history; i++)
		a->units[i] += b->units[i];
	a->before_window |= b->before_window;
	a->first = Min(a->first, b->first);
	PG_RETURN_POINTER(a);
}

Datum
backorder_series_serialize(PG_FUNCTION_ARGS)
{
	SeriesState *st = (SeriesState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int32		i;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->history);
	pq_sendint32(&buf, st->as_of);
	pq_sendbyte(&buf, st->before_window ? 1 : 0);
	pq_sendint32(&buf, st->first);
	/* only the days from the first demand on: the rest are zeros */
	for (i = st->first; i < st->history; i++)
		pq_sendfloat8(&buf, st->units[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
backorder_series_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "backorder_series_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	SeriesState *st;
	int32		history;
	DateADT		as_of;
	int32		i;

	read_only_buf(&buf, b);
	history = pq_getmsgint(&buf, 4);
	as_of = pq_getmsgint(&buf, 4);
	if (history < 1 || history > SERIES_MAX_HISTORY)
		elog(ERROR, "pg_backorder: corrupt demand_series state");
	st = series_new(ctx, as_of, history);
	st->before_window = pq_getmsgbyte(&buf) != 0;
	st->first = pq_getmsgint(&buf, 4);
	if (st->first < 0 || st->first > history)
		elog(ERROR, "pg_backorder: corrupt demand_series state");
	for (i = st->first; i < history; i++)
		st->units[i] = pq_getmsgfloat8(&buf);
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

/*
 * The daily series, oldest day first, ending the day before as_of; NULL if
 * the SKU had no demand before as_of at all.
 */
Datum
backorder_series_final(PG_FUNCTION_ARGS)
{
	SeriesState *st;
	int32		start,
				n,
				i;
	Datum	   *d;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (SeriesState *) PG_GETARG_POINTER(0);
	if (!st->before_window && st->first >= st->history)
		PG_RETURN_NULL();
	start = st->before_window ? 0 : st->first;
	n = st->history - start;
	d = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(st->units[start + i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
