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
 * zero days.  demand_forecast(block_start, units, as_of, history_days) builds
 * the same series from backorder.demand_summary's 32-day rows: what the
 * stockout_risk view reads.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
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
PG_FUNCTION_INFO_V1(backorder_series_block_trans);
PG_FUNCTION_INFO_V1(backorder_series_combine);
PG_FUNCTION_INFO_V1(backorder_series_serialize);
PG_FUNCTION_INFO_V1(backorder_series_deserialize);
PG_FUNCTION_INFO_V1(backorder_series_final);
PG_FUNCTION_INFO_V1(backorder_series_forecast_final);

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
	forecast_check_demand(y, s->method);
	smoother_step(s, y);
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
 * TimeZone, found from the window's local midnights, which are computed
 * once per query (fn_extra) rather than converting every row.
 * The series starts at the window's first day if the SKU had demand before
 * the window (zeros there are real), else at its first day of demand (a
 * new SKU has no history before it).
 *
 * Memory: one state per SKU lives in the hash table of a GROUP BY over all
 * order lines, so a state is kept small: the units of each day are stored
 * in 1 byte while every day's total fits, and the state is widened to 2, 4
 * or 8 bytes a day the first time a day's total does not.  A year of a
 * typical SKU takes under 400 bytes, and 10,000 SKUs fit in the default
 * work_mem's hash budget.
 */

typedef struct SeriesState
{
	int32		history;		/* days in the window */
	DateADT		as_of;
	bool		before_window;	/* a demand before the window was seen */
	uint8		width;			/* bytes per day: 1, 2, 4 or 8 */
	uint8		method;			/* demand_forecast: ForecastMethod */
	int32		first;			/* first day index with demand, or history */
	double		alpha;			/* demand_forecast: weights */
	double		beta;
	char		days[FLEXIBLE_ARRAY_MEMBER];	/* units per day of the window */
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
series_new(MemoryContext ctx, DateADT as_of, int32 history, uint8 width)
{
	SeriesState *st = MemoryContextAllocZero(ctx, offsetof(SeriesState, days) + (Size) width * history);

	st->history = history;
	st->as_of = as_of;
	st->width = width;
	st->first = history;
	st->method = FM_AUTO;
	st->alpha = FORECAST_DEFAULT_ALPHA;
	st->beta = FORECAST_DEFAULT_BETA;
	return st;
}

static void
series_copy_header(SeriesState *to, const SeriesState *from)
{
	to->before_window = from->before_window;
	to->first = from->first;
	to->method = from->method;
	to->alpha = from->alpha;
	to->beta = from->beta;
}

static int64
series_get(const SeriesState *st, int32 i)
{
	switch (st->width)
	{
		case 1:
			return ((const uint8 *) st->days)[i];
		case 2:
			return ((const uint16 *) st->days)[i];
		case 4:
			return ((const uint32 *) st->days)[i];
		default:
			return ((const int64 *) st->days)[i];
	}
}

static void
series_set(SeriesState *st, int32 i, int64 v)
{
	switch (st->width)
	{
		case 1:
			((uint8 *) st->days)[i] = (uint8) v;
			break;
		case 2:
			((uint16 *) st->days)[i] = (uint16) v;
			break;
		case 4:
			((uint32 *) st->days)[i] = (uint32) v;
			break;
		default:
			((int64 *) st->days)[i] = v;
			break;
	}
}

static uint8
width_for(int64 v)
{
	if (v <= PG_UINT8_MAX)
		return 1;
	if (v <= PG_UINT16_MAX)
		return 2;
	if (v <= PG_UINT32_MAX)
		return 4;
	return 8;
}

/* A copy of st with at least `width` bytes a day; st is freed. */
static SeriesState *
series_widen(MemoryContext ctx, SeriesState *st, uint8 width)
{
	SeriesState *w;
	int32		i;

	if (width <= st->width)
		return st;
	w = series_new(ctx, st->as_of, st->history, width);
	series_copy_header(w, st);
	for (i = st->first; i < st->history; i++)
		series_set(w, i, series_get(st, i));
	pfree(st);
	return w;
}

/* Adds units to day i; returns the state, widened if it had to be. */
static SeriesState *
series_add(MemoryContext ctx, SeriesState *st, int32 i, int64 units)
{
	int64		sum;

	if (pg_add_s64_overflow(series_get(st, i), units, &sum))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("units of one day exceed the range of bigint"),
				 errhint("Check the quantities of the order lines.")));
	st = series_widen(ctx, st, width_for(sum));
	series_set(st, i, sum);
	if (i < st->first)
		st->first = i;
	return st;
}

/* The first row of a group: check the constant arguments, make the state. */
static SeriesState *
series_start(FunctionCallInfo fcinfo)
{
	MemoryContext ctx = agg_context(fcinfo, "backorder_series_trans");
	SeriesState *st;
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
	st = series_new(ctx, PG_GETARG_DATEADT(3), history, 1);
	if (PG_NARGS() > 5)
	{
		/* demand_forecast(..., method, alpha, beta): taken from the first row */
		if (PG_ARGISNULL(5) || PG_ARGISNULL(6) || PG_ARGISNULL(7))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("method, alpha and beta must not be null"),
					 errhint("Leave them out for the automatic choice with weights 0.1.")));
		st->method = forecast_method_from_name(text_to_cstring(PG_GETARG_TEXT_PP(5)), true);
		st->alpha = PG_GETARG_FLOAT8(6);
		st->beta = PG_GETARG_FLOAT8(7);
		forecast_check_weight(st->alpha, "alpha");
		forecast_check_weight(st->beta, "beta");
	}
	return st;
}

/*
 * Transition of demand_series and demand_forecast: one order line.  The
 * constant arguments (as_of, history_days, method, weights) are read from a
 * group's first row only.
 */
Datum
backorder_series_trans(PG_FUNCTION_ARGS)
{
	SeriesState *st = PG_ARGISNULL(0) ? series_start(fcinfo) : (SeriesState *) PG_GETARG_POINTER(0);
	MidnightCache *mc;
	TimestampTz ts;
	int32		qty;
	int32		day;
	uint8	   *cell;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);

	ts = PG_GETARG_TIMESTAMPTZ(1);
	qty = PG_GETARG_INT32(2);
	if (qty < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("demand must not be negative, got %d", qty),
				 errhint("Pass units ordered (0 or more); net returns out first.")));
	if (qty == 0 || TIMESTAMP_NOT_FINITE(ts))
		PG_RETURN_POINTER(st);

	mc = midnights(fcinfo, st->as_of, st->history);
	if (ts >= mc->midnight[st->history])
		PG_RETURN_POINTER(st);	/* on or after as_of: not history */
	if (ts < mc->midnight[0])
	{
		st->before_window = true;
		PG_RETURN_POINTER(st);
	}

	/*
	 * The day d with midnight[d] <= ts < midnight[d + 1]: days are 24 hours
	 * but around a daylight-saving change, so guess by division and step to
	 * the right day.
	 */
	day = (int32) ((ts - mc->midnight[0]) / USECS_PER_DAY);
	if (day >= st->history)
		day = st->history - 1;
	while (day > 0 && mc->midnight[day] > ts)
		day--;
	while (day < st->history - 1 && mc->midnight[day + 1] <= ts)
		day++;

	/* the common case: a byte-wide day that stays under 256 */
	cell = (uint8 *) st->days + day;
	if (st->width == 1 && qty <= PG_UINT8_MAX - *cell)
	{
		*cell += (uint8) qty;
		if (day < st->first)
			st->first = day;
		PG_RETURN_POINTER(st);
	}
	PG_RETURN_POINTER(series_add(agg_context(fcinfo, "backorder_series_trans"), st, day, qty));
}

/*
 * Transition of demand_forecast over demand_summary rows: the units of the
 * days block_start, block_start + 1, ... (days of the summary's zone, so no
 * time zone arithmetic here).  Same state as the order-line transition.
 */
Datum
backorder_series_block_trans(PG_FUNCTION_ARGS)
{
	SeriesState *st = PG_ARGISNULL(0) ? series_start(fcinfo) : (SeriesState *) PG_GETARG_POINTER(0);
	MemoryContext ctx = agg_context(fcinfo, "backorder_series_block_trans");
	ArrayType  *a;
	const int32 *units;
	int			n,
				i;
	DateADT		start,
				window_start;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	start = PG_GETARG_DATEADT(1);
	a = PG_GETARG_ARRAYTYPE_P(2);
	if (ARR_ELEMTYPE(a) != INT4OID || ARR_NDIM(a) > 1 || ARR_HASNULL(a))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("units must be a one-dimensional integer array without NULLs"),
				 errhint("Pass backorder.demand_summary.units.")));
	if (DATE_NOT_FINITE(start))
		PG_RETURN_POINTER(st);
	n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	units = (const int32 *) ARR_DATA_PTR(a);
	window_start = st->as_of - st->history;
	for (i = 0; i < n && start + i < st->as_of; i++)
	{
		if (units[i] == 0)
			continue;
		if (units[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("demand must not be negative, got %d", units[i]),
					 errhint("Pass units ordered (0 or more).")));
		if (start + i < window_start)
			st->before_window = true;
		else
			st = series_add(ctx, st, start + i - window_start, units[i]);
	}
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
		/* the first partial state of a group: a copy */
		a = series_new(ctx, b->as_of, b->history, b->width);
		memcpy(a->days, b->days, (Size) b->width * b->history);
		series_copy_header(a, b);
		PG_RETURN_POINTER(a);
	}
	if (a->as_of != b->as_of || a->history != b->history)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("as_of and history_days must be the same for every row of a series"),
				 errhint("Pass constants, not columns, for as_of and history_days.")));
	i = b->first;
	if (a->width == 1 && b->width == 1)
	{
		/* the common case: byte-wide days, added until one overflows */
		uint8	   *ad = (uint8 *) a->days;
		const uint8 *bd = (const uint8 *) b->days;

		a->first = Min(a->first, b->first);
		for (; i < b->history; i++)
		{
			unsigned int sum = (unsigned int) ad[i] + bd[i];

			if (sum > PG_UINT8_MAX)
				break;
			ad[i] = (uint8) sum;
		}
	}
	for (; i < b->history; i++)
	{
		int64		v = series_get(b, i);

		if (v != 0)
			a = series_add(ctx, a, i, v);
	}
	a->before_window |= b->before_window;
	PG_RETURN_POINTER(a);
}

/*
 * Serialized: history, as_of, before_window, width, method, alpha, beta,
 * first, then the days
 * from the first demand on at the state's width (the days before are zero).
 */
Datum
backorder_series_serialize(PG_FUNCTION_ARGS)
{
	SeriesState *st = (SeriesState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->history);
	pq_sendint32(&buf, st->as_of);
	pq_sendbyte(&buf, st->before_window ? 1 : 0);
	pq_sendbyte(&buf, st->width);
	pq_sendbyte(&buf, st->method);
	pq_sendfloat8(&buf, st->alpha);
	pq_sendfloat8(&buf, st->beta);
	pq_sendint32(&buf, st->first);
	if (st->first < st->history)
		pq_sendbytes(&buf, st->days + (Size) st->width * st->first,
					 (int) ((Size) st->width * (st->history - st->first)));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
backorder_series_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "backorder_series_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	SeriesState *st;
	int32		history,
				first;
	DateADT		as_of;
	bool		before;
	uint8		width,
				method;
	double		alpha,
				beta;

	read_only_buf(&buf, b);
	history = pq_getmsgint(&buf, 4);
	as_of = pq_getmsgint(&buf, 4);
	before = pq_getmsgbyte(&buf) != 0;
	width = (uint8) pq_getmsgbyte(&buf);
	method = (uint8) pq_getmsgbyte(&buf);
	alpha = pq_getmsgfloat8(&buf);
	beta = pq_getmsgfloat8(&buf);
	first = pq_getmsgint(&buf, 4);
	if (history < 1 || history > SERIES_MAX_HISTORY || first < 0 || first > history ||
		(width != 1 && width != 2 && width != 4 && width != 8))
		elog(ERROR, "pg_backorder: corrupt demand_series state");
	st = series_new(ctx, as_of, history, width);
	st->before_window = before;
	st->first = first;
	st->method = method;
	st->alpha = alpha;
	st->beta = beta;
	if (first < history)
		pq_copymsgbytes(&buf, st->days + (Size) width * first, (int) ((Size) width * (history - first)));
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

/*
 * The series as doubles, oldest day first, ending the day before as_of;
 * NULL if the SKU had no demand before as_of at all.
 */
static double *
series_values(const SeriesState *st, int32 *n)
{
	int32		start,
				i;
	double	   *y;

	if (!st->before_window && st->first >= st->history)
		return NULL;
	start = st->before_window ? 0 : st->first;
	*n = st->history - start;
	y = palloc(sizeof(double) * *n);
	for (i = 0; i < *n; i++)
		y[i] = (double) series_get(st, start + i);
	return y;
}

/* demand_series: the daily series as float8[], or NULL. */
Datum
backorder_series_final(PG_FUNCTION_ARGS)
{
	double	   *y;
	int32		n,
				i;
	Datum	   *d;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	y = series_values((SeriesState *) PG_GETARG_POINTER(0), &n);
	if (y == NULL)
		PG_RETURN_NULL();
	d = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(y[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * demand_forecast: backorder.series_forecast() of the daily series, without
 * building the array; an empty series (no demand) forecasts 0.
 */
Datum
backorder_series_forecast_final(PG_FUNCTION_ARGS)
{
	SeriesState *st;
	SeriesForecast r;
	double	   *y = NULL;
	int32		n = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (SeriesState *) PG_GETARG_POINTER(0);
	y = series_values(st, &n);
	forecast_series(y, y ? n : 0, (ForecastMethod) st->method, st->alpha, st->beta, &r);
	PG_RETURN_DATUM(series_forecast_datum(fcinfo, &r));
}
