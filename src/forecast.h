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
/* The one-step-ahead forecast; *valid is false when no period was seen. */
extern double smoother_forecast(const Smoother *s, bool *valid);

extern void demand_stats_init(DemandStats *st);
extern void demand_stats_add(DemandStats *st, double y);
extern void demand_stats_merge(DemandStats *into, const DemandStats *from);
extern double demand_stats_sd(const DemandStats *st);	/* sample sd, 0 below 2 */
extern double demand_stats_adi(const DemandStats *st);	/* n / nz; NaN if nz = 0 */
extern double demand_stats_cv2(const DemandStats *st);	/* of the demand sizes */
extern DemandPattern demand_stats_pattern(const DemandStats *st);

/* The method the automatic choice uses for a pattern. */
extern ForecastMethod forecast_auto_method(DemandPattern p);

#endif							/* PG_BACKORDER_FORECAST_H */
