/*
 * split.h — declarations shared by the split files (split.c, split_plan.c,
 * split_apply.c).  The engine itself sees only what pg_backorder.h declares.
 */
#ifndef PG_BACKORDER_SPLIT_H
#define PG_BACKORDER_SPLIT_H

#include "pg_backorder.h"

/*
 * Subsets of candidate locations are enumerated, so their number is bounded:
 * 2^10 = 1024 subsets at most.  An order whose SKUs have stock at more
 * locations keeps its own locations and the ones that could supply most.
 */
#define SPLIT_MAX_LOCATIONS 10

/* One line of the order being split. */
typedef struct SplitLine
{
	int32		line_no;
	char	   *sku;			/* NULL when the line has none */
	int64		qty;
	int64		allocated;
	char	   *location_id;	/* where it is allocated or waits; NULL if unplaced */
	double		price;			/* unit price (line's, else the SKU's); < 0 if none */
	bool		shippable;		/* known SKU, placed, its stock row at hand */
	int			sku_index;		/* into SplitInput.skus; -1 unless shippable */
	int			home;			/* candidate index of location_id, or -1 */
} SplitLine;

/* A candidate location: one that holds stock the order could use. */
typedef struct SplitLocation
{
	char	   *location_id;
	int32		priority;
} SplitLocation;

/* What the plan is computed from. */
typedef struct SplitInput
{
	SplitLine  *lines;
	int			n_lines;
	char	  **skus;			/* the shippable lines' SKUs, distinct */
	int			n_skus;
	SplitLocation locs[SPLIT_MAX_LOCATIONS];	/* by preference: priority, location_id */
	int			n_locs;
	int64	   *available;		/* [sku * n_locs + loc] units free to take now (>= 0) */
	bool	   *keep_allocated; /* [sku * n_locs + loc] units allocated there may not be freed */
	int			budget;			/* at most this many shipments, a held remainder included; 0: any */
} SplitInput;

/* The chosen plan. */
typedef struct SplitPlan
{
	bool		found;			/* false: nothing can ship now (within the budget) */
	uint32		mask;			/* candidate locations that ship */
	int			n_shipments;
	int			shipment_loc[SPLIT_MAX_LOCATIONS];	/* shipment i ships from locs[...] */
	int64		units_now;		/* units that ship now */
	int64		units_left;		/* units that stay in the held remainder */
	int64		moved;			/* allocated units freed at their location */
	double		value_now;		/* by price, when every line has one */
	double		value_total;
	bool		priced;
	int64	   *take;			/* [line * n_locs + loc] units of the line shipping from loc */
	int64	   *left_qty;		/* [line] quantity left in the parent */
	int64	   *left_alloc;		/* [line] units left allocated to the parent (at its location) */
	int64	   *freed;			/* [sku * n_locs + loc] allocated units given back */
} SplitPlan;

/* ---- split_plan.c ---- */
extern void split_compute_plan(const SplitInput *in, SplitPlan *plan);

/* ---- split_apply.c ---- */

/* What the application of a plan produced. */
typedef struct SplitResult
{
	int			n_children;
	char	  **children;		/* child order ids */
	bool		parent_ready;	/* the parent kept a shipment and is ready */
	StockKey   *freed_keys;		/* stock rows where allocated units were freed */
	int			n_freed;
} SplitResult;

typedef struct SplitParent
{
	char	   *client_id;
	char	   *order_id;
	char	   *root;			/* the original order (parent_order_id, or itself) */
	char	   *pinned_location;	/* orders.location_id */
	const char *rule;			/* for the event: the rule, or "manual" */
} SplitParent;

extern void split_apply_plan(const SplitParent *p, const SplitInput *in, const SplitPlan *plan,
							 SplitResult *result);

#endif							/* PG_BACKORDER_SPLIT_H */
