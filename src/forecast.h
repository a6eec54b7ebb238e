/*
 * forecast.h — the demand-forecasting core shared by forecast_aggs.c (the
 * SQL aggregates) and forecast.c (series forecasts, projection, stock-out
 * probability).
 *
 * A Smoother consumes a demand series one period at a time and gives the
 * one-step-ahead forecast after any prefix of it; the SQL aggregates
 * backorder.ses/croston/sba/tsb and backorder.series_forecast() are thin
 * wrappers around it, so both give bit-identical results.
 */
#ifndef PG_BACKORDER_FORECAST_H
#define PG_BACKORDER_FORECAST_H

#include "postgres.h"

#include "fmgr.h"

/* Forecasting methods; FM_AUTO is resolved from the demand pattern. */
typedef enum ForecastMethod
{
	FM_SES,
	FM_CROSTON,
	FM_SBA,
	FM_TSB,
	FM_MEAN,
	FM_AUTO
} ForecastMethod;

/* Syntetos-Boylan demand patterns. */
typedef enum DemandPattern
{
	DP_NONE,					/* no demand in the series */
	DP_SMOOTH,
	DP_ERRATIC,
	DP_INTERMITTENT,
	DP_LUMPY
} DemandPattern;

/* Cut-offs of Syntetos, Boylan and Croston (2005). */
#define FORECAST_ADI_CUTOFF 1.32
#define FORECAST_CV2_CUTOFF 0.49

#define FORECAST_DEFAULT_ALPHA 0.1
#define FORECAST_DEFAULT_BETA 0.1

typedef struct Smoother
{
	ForecastMethod method;
	double		alpha;
	double		beta;			/* TSB: smoothing of the demand probability */
	int64		n;				/* periods seen */
	int64		nonzero;		/* periods with demand */
	int64		gap;			/* periods since the last demand, this one included */
	double		level;			/* SES level; Croston/TSB: smoothed demand size */
	double		interval;		/* Croston: smoothed inter-demand interval */
	double		prob;			/* TSB: smoothed probability of demand */
	double		first_size;		/* Croston: first demand, kept raw (see smoother_add) */
	double		first_interval; /* Croston: first interval, kept raw */
	double		sum;			/* MEAN: running sum */
} Smoother;

/* Order-independent statistics of a series: enough to classify it. */
typedef struct DemandStats
{
	int64		n;				/* periods */
	double		mean;			/* Welford running mean of all periods */
	double		m2;				/* Welford sum of squared deviations */
	int64		nz;				/* periods with demand */
	double		nz_mean;		/* ... their running mean size */
	double		nz_m2;			/* ... and sum of squared deviations */
} DemandStats;

extern const char *forecast_method_name(ForecastMethod m);
extern ForecastMethod forecast_method_from_name(const char *name, bool allow_auto);
extern const char *demand_pattern_name(DemandPattern p);

/* Raises 22023 with a hint unless 0 < value <= 1. */
extern void forecast_check_weight(double value, const char *what);

/* Raises 22023 unless y is finite (and, for methods on counts, not negative). */
extern void forecast_check_demand(double y, ForecastMethod m);

extern void smoother_init(Smoother *s, ForecastMethod m, double alpha, double beta);
extern void smoother_add(Smoother *s, double y);

/*
 * One period, for method m (s->method, or a constant the compiler can
 * specialize a loop for).
 */
static inline void
smoother_step_m(Smoother *s, ForecastMethod m, double y)
{
	double		a = s->alpha;

	s->n++;
	s->gap++;
	switch (m)
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

/* smoother_add without the check, for values already checked. */
static inline void
smoother_step(Smoother *s, double y)
{
	smoother_step_m(s, s->method, y);
}

/* The one-step-ahead forecast for method m; *valid is false when no period was seen. */
static inline double
smoother_forecast_m(const Smoother *s, ForecastMethod m, bool *valid)
{
	double		f = 0.0;

	*valid = s->n > 0;
	if (s->n == 0)
		return 0.0;
	switch (m)
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
			if (m == FM_SBA)
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

/* The one-step-ahead forecast; *valid is false when no period was seen. */
static inline double
smoother_forecast(const Smoother *s, bool *valid)
{
	return smoother_forecast_m(s, s->method, valid);
}

extern void demand_stats_init(DemandStats *st);
extern void demand_stats_add(DemandStats *st, double y);
extern void demand_stats_merge(DemandStats *into, const DemandStats *from);
extern double demand_stats_sd(const DemandStats *st);	/* sample sd, 0 below 2 */
extern double demand_stats_adi(const DemandStats *st);	/* n / nz; NaN if nz = 0 */
extern double demand_stats_cv2(const DemandStats *st);	/* of the demand sizes */
extern DemandPattern demand_stats_pattern(const DemandStats *st);

/* A series classified and forecast (backorder.series_forecast_result). */
typedef struct SeriesForecast
{
	DemandPattern pattern;
	ForecastMethod method;		/* as applied (never FM_AUTO) */
	double		forecast;
	double		mean;
	double		sd;
	bool		has_demand;		/* adi and cv2 are defined */
	double		adi;
	double		cv2;
	int32		periods;
} SeriesForecast;

/* forecast.c: classify and forecast a checked series; the result as a datum. */
extern void forecast_series(const double *y, int n, ForecastMethod m, double alpha, double beta,
							SeriesForecast *out);
extern Datum series_forecast_datum(FunctionCallInfo fcinfo, const SeriesForecast *r);

/* The method the automatic choice uses for a pattern. */
extern ForecastMethod forecast_auto_method(DemandPattern p);

#endif							/* PG_BACKORDER_FORECAST_H */
