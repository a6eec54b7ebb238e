/*
 * split.c — splitting a held order into what ships now and what stays held.
 *
 * compute_split() reads an order and the stock of its SKUs everywhere and
 * returns the best plan (split_plan.c) without writing anything.
 * split_order() applies it (split_apply.c) under locks: the stock rows of
 * the order's SKUs in key order, then the order row (DESIGN.md rules 1-2),
 * then it recomputes the plan from what it holds.
 *
 * Rules (backorder.client.split_rule, overridable per order) apply on their
 * own, at three moments:
 *
 *   - the engine's hook, split_rules_after_settle(): settle.c calls it for
 *     an order that stays held after intake, after gaining units, or after a
 *     take-back, with the order row locked;
 *   - a receipt that leaves units available at a location while orders wait
 *     for that SKU elsewhere (trigger split_watch on stock_movement, acted on
 *     at commit by split_watch_run on backorder.split_request);
 *   - backorder.run_scheduled(), for after_held and as a sweep of anything
 *     the others skipped.
 *
 * All three run while the transaction may already hold order rows (the
 * commit-time settle batch holds many), so they never wait for a lock: stock
 * rows and order rows are taken with SKIP LOCKED and a busy row means "not
 * now" (the order is reconsidered at the next receipt or run_scheduled()).
 * Never waiting, they cannot deadlock.  For the same reason they never free
 * allocated units that another order waits for: serving that queue would
 * lock more orders out of release order.  Each automatic split runs in a
 * subtransaction: if it fails, a WARNING says so and the transaction that
 * triggered it (a receipt, an intake) commits without the split.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "split.h"

PG_FUNCTION_INFO_V1(backorder_compute_split);
PG_FUNCTION_INFO_V1(backorder_split_order);
PG_FUNCTION_INFO_V1(backorder_run_scheduled);
PG_FUNCTION_INFO_V1(backorder_split_rule_check);
PG_FUNCTION_INFO_V1(backorder_split_watch);
PG_FUNCTION_INFO_V1(backorder_split_watch_run);

/* Candidates the watch considers per stock row and transaction (the rest: run_scheduled). */
#define WATCH_MAX_ORDERS 100

typedef enum SplitRule
{
	RULE_NEVER,
	RULE_AS_AVAILABLE,
	RULE_UP_TO_N,
	RULE_MIN_FRACTION,
	RULE_AFTER_HELD
} SplitRule;

static const char *const rule_names[] =
{"never", "as_available", "up_to_n", "min_fraction", "after_held", NULL};

/* The order row and its effective rule. */
typedef struct OrderInfo
{
	char	   *client_id;
	char	   *order_id;
	char	   *status;
	char	   *pinned;			/* orders.location_id */
	char	   *root;
	AllocationPolicy policy;
	SplitRule	rule;
	int32		max_shipments;
	double		min_fraction;
	bool		held_long_enough;	/* after_held: held at least split_after */
	bool		operator_hold;	/* an open hold that is not an inventory hold */
} OrderInfo;

/* A stock row of one of the order's SKUs. */
typedef struct StockRow
{
	char	   *sku;
	char	   *location_id;
	int32		priority;
	int64		available;
} StockRow;

typedef struct StockSet
{
	StockRow   *rows;
	int			n;
} StockSet;

/* Set while a split runs: the settle it calls must not split again. */
static bool split_in_progress = false;

static const Oid two_text[2] = {TEXTOID, TEXTOID};

/* ---------------------------------------------------------------- loading */

static SplitRule
rule_of(const char *name)
{
	int			i;

	for (i = 0; rule_names[i]; i++)
		if (strcmp(name, rule_names[i]) == 0)
			return (SplitRule) i;
	return RULE_NEVER;
}

/* Reads the order and its effective rule; false if it does not exist. */
static bool
load_order_info(const char *client_id, const char *order_id, OrderInfo *o)
{
	static SPIPlanPtr plan = NULL;
	Datum		values[2];

	values[0] = text_datum(client_id);
	values[1] = text_datum(order_id);
	run_plan(&plan,
			 "SELECT o.status, o.location_id, coalesce(o.parent_order_id, o.order_id),"
			 "       c.allocation_policy, coalesce(o.split_rule, c.split_rule),"
			 "       CASE WHEN o.split_rule IS NULL THEN c.split_max_shipments ELSE o.split_max_shipments END,"
			 "       (CASE WHEN o.split_rule IS NULL THEN c.split_min_fraction ELSE o.split_min_fraction END)::float8,"
			 "       coalesce(o.held_since + CASE WHEN o.split_rule IS NULL THEN c.split_after ELSE o.split_after END"
			 "                <= backorder.now(), false),"
			 "       EXISTS (SELECT 1 FROM backorder.order_hold h"
			 "                WHERE h.client_id = o.client_id AND h.order_id = o.order_id"
			 "                  AND h.released_at IS NULL"
			 "                  AND h.reason NOT IN ('out_of_stock', 'discontinued', 'unknown_sku'))"
			 "  FROM backorder.orders o JOIN backorder.client c ON c.client_id = o.client_id"
			 " WHERE o.client_id = $1 AND o.order_id = $2",
			 2, two_text, values, NULL, 1);
	if (SPI_processed == 0)
		return false;
	o->client_id = pstrdup(client_id);
	o->order_id = pstrdup(order_id);
	o->status = spi_text(0, 1);
	o->pinned = spi_text(0, 2);
	o->root = spi_text(0, 3);
	o->policy = strcmp(spi_text(0, 4), "complete_only") == 0 ? POLICY_COMPLETE_ONLY : POLICY_RESERVE;
	o->rule = rule_of(spi_text(0, 5));
	o->max_shipments = (int32) spi_int64(0, 6);
	if (spi_isnull(0, 7))
		o->min_fraction = 0;
	else
	{
		bool		isnull;

		o->min_fraction = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 7, &isnull));
	}
	o->held_long_enough = spi_bool(0, 8);
	o->operator_hold = spi_bool(0, 9);
	return true;
}

/*
 * The order's lines.  A placed line's SKU is in the catalog (its stock row's
 * foreign key keeps it there), so "placed" is "known".  Prices (the line's,
 * else the catalog's) only matter to min_fraction: with_prices reads them.
 */
static void
load_lines(const OrderInfo *o, SplitInput *in, bool with_prices)
{
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr priced_plan = NULL;
	Datum		values[2];
	uint64		r;

	values[0] = text_datum(o->client_id);
	values[1] = text_datum(o->order_id);
	if (with_prices)
		run_plan(&priced_plan,
				 "SELECT l.line_no, l.sku, l.qty, l.allocated, l.location_id,"
				 "       coalesce(l.unit_price, s.unit_price)::float8"
				 "  FROM backorder.order_line l"
				 "  LEFT JOIN backorder.sku s ON s.client_id = l.client_id AND s.sku = l.sku"
				 " WHERE l.client_id = $1 AND l.order_id = $2 ORDER BY l.line_no",
				 2, two_text, values, NULL, 0);
	else
		run_plan(&plan,
				 "SELECT l.line_no, l.sku, l.qty, l.allocated, l.location_id, l.unit_price::float8"
				 "  FROM backorder.order_line l"
				 " WHERE l.client_id = $1 AND l.order_id = $2 ORDER BY l.line_no",
				 2, two_text, values, NULL, 0);
	in->n_lines = (int) SPI_processed;
	in->lines = palloc0(sizeof(SplitLine) * Max(in->n_lines, 1));
	for (r = 0; r < SPI_processed; r++)
	{
		SplitLine  *l = &in->lines[r];
		bool		isnull;
		Datum		price;

		l->line_no = (int32) spi_int64(r, 1);
		l->sku = spi_text(r, 2);
		l->qty = spi_int64(r, 3);
		l->allocated = spi_int64(r, 4);
		l->location_id = spi_text(r, 5);
		l->shippable = l->sku != NULL && l->location_id != NULL;
		price = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 6, &isnull);
		l->price = isnull ? -1 : DatumGetFloat8(price);
		l->sku_index = -1;
		l->home = -1;
	}
}

/* Distinct SKUs of the lines that could ship, sorted (byte order) for sku_lookup(). */
static char **
line_skus(const SplitInput *in, int *n_out)
{
	char	  **skus = palloc(sizeof(char *) * Max(in->n_lines, 1));
	int			n = 0,
				i;

	for (i = 0; i < in->n_lines; i++)
		if (in->lines[i].shippable)
			skus[n++] = in->lines[i].sku;
	*n_out = sort_unique_strings(skus, n);
	return skus;
}

/* Index of a SKU in a sorted SKU array, or -1. */
static int
sku_lookup(char **skus, int n, const char *sku)
{
	char	  **found = bsearch(&sku, skus, n, sizeof(char *), pg_qsort_strcmp);

	return found ? (int) (found - skus) : -1;
}

static void
copy_stock_rows(StockSet *set, bool with_priority)
{
	uint64		r;

	set->n = (int) SPI_processed;
	set->rows = palloc(sizeof(StockRow) * Max(set->n, 1));
	for (r = 0; r < SPI_processed; r++)
	{
		set->rows[r].sku = spi_text(r, 1);
		set->rows[r].location_id = spi_text(r, 2);
		set->rows[r].priority = with_priority ? (int32) spi_int64(r, 3) : 0;
		set->rows[r].available = spi_int64(r, with_priority ? 4 : 3);
	}
}

/* Tells stock.c which stock rows this transaction now holds (rule 2, queue.c's pass). */
static void
note_locked_rows(const char *client_id, const StockSet *set)
{
	int			i;

	for (i = 0; i < set->n; i++)
	{
		StockKey	key;

		key.client_id = (char *) client_id;
		key.sku = set->rows[i].sku;
		key.location_id = set->rows[i].location_id;
		note_stock_locked(&key);
	}
}

/*
 * Reads (with lock: locks, waiting, in key order) the stock rows of the
 * order's SKUs at every location, or at its pinned location only.
 */
static void
read_stock(const OrderInfo *o, char **skus, int n_skus, bool lock, StockSet *set)
{
	static SPIPlanPtr read_plan = NULL;
	static SPIPlanPtr lock_plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTARRAYOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', o->pinned ? ' ' : 'n'};

	values[0] = text_datum(o->client_id);
	values[1] = text_array_datum(skus, n_skus);
	values[2] = o->pinned ? text_datum(o->pinned) : (Datum) 0;
	if (!lock)
		run_plan(&read_plan,
				 "SELECT s.sku, s.location_id, loc.priority, greatest(s.on_hand - s.allocated, 0)"
				 "  FROM backorder.stock s JOIN backorder.location loc ON loc.location_id = s.location_id"
				 " WHERE s.client_id = $1 AND s.sku = ANY ($2) AND ($3::text IS NULL OR s.location_id = $3)",
				 3, types, values, nulls, 0);
	else
		/* LockRows sits above the Sort: rows are locked in key order (byte order, as stock.c). */
		run_plan(&lock_plan,
				 "SELECT s.sku, s.location_id, loc.priority, greatest(s.on_hand - s.allocated, 0)"
				 "  FROM backorder.stock s JOIN backorder.location loc ON loc.location_id = s.location_id"
				 " WHERE s.client_id = $1 AND s.sku = ANY ($2) AND ($3::text IS NULL OR s.location_id = $3)"
				 " ORDER BY s.sku COLLATE \"C\", s.location_id COLLATE \"C\""
				 "   FOR UPDATE OF s",
				 3, types, values, nulls, 0);
	copy_stock_rows(set, true);
	if (lock)
		note_locked_rows(o->client_id, set);
}

/*
 * Locks, without waiting, the rows a split could touch: the
 * lines' own rows and the rows with units available.  Returns false if one
 * of them is busy.  On success `set` holds exactly the locked rows, with
 * the quantities read under the lock.
 */
static bool
try_lock_stock(const OrderInfo *o, const SplitInput *in, char **skus, int n_skus, StockSet *set)
{
	static SPIPlanPtr lock_plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID};
	StockSet	seen;
	StockKey   *keys;
	StockSet	locked;
	int			n = 0,
				i;
	char	  **k_skus,
			  **k_locs;
	Datum		values[3];

	read_stock(o, skus, n_skus, false, &seen);
	keys = palloc(sizeof(StockKey) * (seen.n + in->n_lines + 1));
	for (i = 0; i < seen.n; i++)
		if (seen.rows[i].available > 0)
		{
			keys[n].client_id = o->client_id;
			keys[n].sku = seen.rows[i].sku;
			keys[n].location_id = seen.rows[i].location_id;
			n++;
		}
	for (i = 0; i < in->n_lines; i++)
		if (in->lines[i].shippable)
		{
			keys[n].client_id = o->client_id;
			keys[n].sku = in->lines[i].sku;
			keys[n].location_id = in->lines[i].location_id;
			n++;
		}
	n = sort_unique_stock_keys(keys, n);
	if (n == 0)
	{
		set->n = 0;
		set->rows = palloc(sizeof(StockRow));
		return true;
	}
	k_skus = palloc(sizeof(char *) * n);
	k_locs = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		k_skus[i] = keys[i].sku;
		k_locs[i] = keys[i].location_id;
	}
	values[0] = text_datum(o->client_id);
	values[1] = text_array_datum(k_skus, n);
	values[2] = text_array_datum(k_locs, n);
	run_plan(&lock_plan,
			 "SELECT s.sku, s.location_id, loc.priority, greatest(s.on_hand - s.allocated, 0)"
			 "  FROM unnest($2, $3) AS k(sku, location_id)"
			 "  JOIN backorder.stock s"
			 "    ON s.client_id = $1 AND s.sku = k.sku AND s.location_id = k.location_id"
			 "  JOIN backorder.location loc ON loc.location_id = s.location_id"
			 " ORDER BY s.sku COLLATE \"C\", s.location_id COLLATE \"C\""
			 "   FOR UPDATE OF s SKIP LOCKED",
			 3, types, values, NULL, 0);
	if (SPI_processed < (uint64) n)
		return false;			/* busy (or a line's row is missing): not now */
	copy_stock_rows(&locked, true);
	note_locked_rows(o->client_id, &locked);
	*set = locked;
	return true;
}

/* For ranking candidate locations beyond SPLIT_MAX_LOCATIONS. */
typedef struct Candidate
{
	char	   *location_id;
	int32		priority;
	bool		home;			/* some line holds units there */
	int64		supply;			/* units it could give the order */
} Candidate;

static int
candidate_rank_cmp(const void *a, const void *b)
{
	const Candidate *x = a;
	const Candidate *y = b;

	if (x->home != y->home)
		return x->home ? -1 : 1;
	if (x->supply != y->supply)
		return x->supply > y->supply ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->location_id, y->location_id);
}

static int
candidate_pref_cmp(const void *a, const void *b)
{
	const Candidate *x = a;
	const Candidate *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->location_id, y->location_id);
}

/*
 * Builds the plan input from the lines and the stock rows at hand.  A line
 * ships only if its SKU is known, it is placed and its own stock row is at
 * hand; every other line stays as it is, in the remainder.  Rows and lines
 * are grouped by SKU (sorted SKUs, binary search), so this is linear in
 * rows plus lines, give or take a log.
 */
static void
build_input(SplitInput *in, const StockSet *stock)
{
	Candidate  *cands = palloc(sizeof(Candidate) * (stock->n + 1));
	char	  **all_skus;
	int			n_all,
				n_cands = 0,
				i,
				j,
				r;
	int		   *row_sku = palloc(sizeof(int) * Max(stock->n, 1));
	int		   *row_cand = palloc(sizeof(int) * Max(stock->n, 1));
	int		   *first_row,		/* per SKU of all_skus: rows of it, chained */
			   *next_row = palloc(sizeof(int) * Max(stock->n, 1));
	int64	   *need;

	/* Rows by SKU. */
	all_skus = line_skus(in, &n_all);
	first_row = palloc(sizeof(int) * Max(n_all, 1));
	for (i = 0; i < n_all; i++)
		first_row[i] = -1;
	for (r = stock->n - 1; r >= 0; r--)
	{
		row_sku[r] = sku_lookup(all_skus, n_all, stock->rows[r].sku);
		if (row_sku[r] >= 0)
		{
			next_row[r] = first_row[row_sku[r]];
			first_row[row_sku[r]] = r;
		}
	}

	/* A line ships only with its own stock row at hand. */
	for (i = 0; i < in->n_lines; i++)
	{
		SplitLine  *l = &in->lines[i];
		int			s;

		if (!l->shippable)
			continue;
		s = sku_lookup(all_skus, n_all, l->sku);
		for (r = first_row[s]; r >= 0; r = next_row[r])
			if (strcmp(stock->rows[r].location_id, l->location_id) == 0)
				break;
		if (r < 0)
			l->shippable = false;
	}
	in->skus = line_skus(in, &in->n_skus);
	need = palloc0(sizeof(int64) * Max(in->n_skus, 1));
	for (i = 0; i < in->n_lines; i++)
	{
		SplitLine  *l = &in->lines[i];

		if (!l->shippable)
			continue;
		l->sku_index = sku_lookup(in->skus, in->n_skus, l->sku);
		need[l->sku_index] += l->qty;
	}
	for (r = 0; r < stock->n; r++)
		row_sku[r] = row_sku[r] >= 0 ? sku_lookup(in->skus, in->n_skus, stock->rows[r].sku) : -1;

	/* Candidates: locations with units available for a SKU, or holding the lines' units. */
	for (r = 0; r < stock->n; r++)
	{
		const StockRow *row = &stock->rows[r];
		int			s = row_sku[r];
		bool		home = false;
		Candidate  *c = NULL;

		row_cand[r] = -1;
		if (s < 0)
			continue;
		if (row->available <= 0)
		{
			for (i = 0; i < in->n_lines && !home; i++)
				home = in->lines[i].sku_index == s && in->lines[i].allocated > 0 &&
					strcmp(in->lines[i].location_id, row->location_id) == 0;
			if (!home)
				continue;
		}
		for (j = 0; j < n_cands; j++)
			if (strcmp(cands[j].location_id, row->location_id) == 0)
			{
				c = &cands[j];
				break;
			}
		if (c == NULL)
		{
			c = &cands[n_cands++];
			c->location_id = row->location_id;
			c->priority = row->priority;
			c->home = false;
			c->supply = 0;
		}
		c->home |= home;
		c->supply += Min(row->available, need[s]);
	}
	/* Lines holding units make their location a candidate too (it may have none available). */
	for (i = 0; i < in->n_lines; i++)
	{
		SplitLine  *l = &in->lines[i];

		if (!l->shippable || l->allocated == 0)
			continue;
		for (j = 0; j < n_cands; j++)
			if (strcmp(cands[j].location_id, l->location_id) == 0)
				break;
		if (j < n_cands)
		{
			cands[j].home = true;
			continue;
		}
		for (r = first_row[sku_lookup(all_skus, n_all, l->sku)]; r >= 0; r = next_row[r])
			if (strcmp(stock->rows[r].location_id, l->location_id) == 0)
				break;
		cands[n_cands].location_id = l->location_id;
		cands[n_cands].priority = stock->rows[r].priority;
		cands[n_cands].home = true;
		cands[n_cands].supply = 0;
		n_cands++;
	}
	if (n_cands > SPLIT_MAX_LOCATIONS)
	{
		qsort(cands, n_cands, sizeof(Candidate), candidate_rank_cmp);
		n_cands = SPLIT_MAX_LOCATIONS;
	}
	qsort(cands, n_cands, sizeof(Candidate), candidate_pref_cmp);
	in->n_locs = n_cands;
	for (j = 0; j < n_cands; j++)
	{
		in->locs[j].location_id = cands[j].location_id;
		in->locs[j].priority = cands[j].priority;
	}

	in->available = palloc0(sizeof(int64) * Max(in->n_skus * in->n_locs, 1));
	for (r = 0; r < stock->n; r++)
	{
		if (row_sku[r] < 0)
			continue;
		for (j = 0; j < in->n_locs; j++)
			if (strcmp(in->locs[j].location_id, stock->rows[r].location_id) == 0)
			{
				in->available[row_sku[r] * in->n_locs + j] = stock->rows[r].available;
				break;
			}
	}
	for (i = 0; i < in->n_lines; i++)
	{
		SplitLine  *l = &in->lines[i];

		if (!l->shippable)
			continue;
		for (j = 0; j < in->n_locs; j++)
			if (strcmp(in->locs[j].location_id, l->location_id) == 0)
				l->home = j;
		/* Beyond the bound, a line holding units somewhere else stays as it is. */
		if (l->allocated > 0 && l->home < 0)
		{
			l->shippable = false;
			l->sku_index = -1;
		}
	}
	in->keep_allocated = NULL;
	in->budget = 0;
}

/* ------------------------------------------------------------------ errors */

static char *
arg_text(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name),
				 errhint("Pass the %s of an existing order.", name)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static void
no_such_order(const char *client_id, const char *order_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("order \"%s\" of client \"%s\" does not exist", order_id, client_id),
			 errhint("Check the client_id and order_id in backorder.orders.")));
}

/* Shipped, cancelled and not yet evaluated orders cannot be split. */
static void
require_splittable(const OrderInfo *o, const char *action)
{
	if (strcmp(o->status, "shipped") == 0 || strcmp(o->status, "cancelled") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("order \"%s\" is %s and cannot be %s", o->order_id, o->status, action),
				 errhint("Only ready and needs_review orders have something to split.")));
	if (strcmp(o->status, "new") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("order \"%s\" has not been evaluated yet and cannot be %s", o->order_id, action),
				 errhint("Commit the transaction that inserted it (or SET CONSTRAINTS ALL IMMEDIATE) first.")));
}

/* ----------------------------------------------------------- compute_split */

typedef struct ComputeWork
{
	char	   *client_id;
	char	   *order_id;
	ReturnSetInfo *rsinfo;
} ComputeWork;

static void
emit_row(ComputeWork *w, int shipment_no, const char *location_id, int32 line_no,
		 const char *sku, int64 qty, bool ships_now)
{
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	values[0] = Int32GetDatum(shipment_no);
	nulls[0] = shipment_no == 0;
	values[1] = location_id ? text_datum(location_id) : (Datum) 0;
	nulls[1] = location_id == NULL;
	values[2] = Int32GetDatum(line_no);
	values[3] = sku ? text_datum(sku) : (Datum) 0;
	nulls[3] = sku == NULL;
	values[4] = Int32GetDatum((int32) qty);
	values[5] = BoolGetDatum(ships_now);
	tuplestore_putvalues(w->rsinfo->setResult, w->rsinfo->setDesc, values, nulls);
}

static void
compute_work(void *arg)
{
	ComputeWork *w = arg;
	OrderInfo	o;
	SplitInput	in = {0};
	SplitPlan	plan;
	StockSet	stock;
	char	  **skus;
	int			n_skus,
				s,
				i;

	if (!load_order_info(w->client_id, w->order_id, &o))
		no_such_order(w->client_id, w->order_id);
	require_splittable(&o, "split");
	load_lines(&o, &in, false);
	skus = line_skus(&in, &n_skus);
	read_stock(&o, skus, n_skus, false, &stock);
	build_input(&in, &stock);
	split_compute_plan(&in, &plan);

	if (plan.found)
		for (s = 0; s < plan.n_shipments; s++)
		{
			int			j = plan.shipment_loc[s];

			for (i = 0; i < in.n_lines; i++)
				if (in.lines[i].shippable && plan.take[i * in.n_locs + j] > 0)
					emit_row(w, s + 1, in.locs[j].location_id, in.lines[i].line_no,
							 in.lines[i].sku, plan.take[i * in.n_locs + j], true);
		}
	for (i = 0; i < in.n_lines; i++)
	{
		int64		left = plan.found ? plan.left_qty[i] : in.lines[i].qty;

		if (left > 0)
			emit_row(w, 0, in.lines[i].location_id, in.lines[i].line_no, in.lines[i].sku,
					 left, false);
	}
}

/*
 * backorder.compute_split(client_id, order_id)
 *   RETURNS TABLE (shipment_no, location_id, line_no, sku, qty, ships_now)
 */
Datum
backorder_compute_split(PG_FUNCTION_ARGS)
{
	ComputeWork w;

	w.client_id = arg_text(fcinfo, 0, "client_id");
	w.order_id = arg_text(fcinfo, 1, "order_id");
	InitMaterializedSRF(fcinfo, 0);
	w.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	engine_run(compute_work, &w);
	return (Datum) 0;
}

/* ------------------------------------------------------------- split_order */

typedef struct SplitOrderWork
{
	char	   *client_id;
	char	   *order_id;
	int			shipments;
} SplitOrderWork;

/* Gives freed units to the queues where they were freed. */
static void
serve_freed(const OrderInfo *o, const SplitResult *res)
{
	int			i;

	for (i = 0; i < res->n_freed; i++)
	{
		int64		on_hand,
					allocated;

		lock_stock_rows(&res->freed_keys[i], 1, &on_hand, &allocated);	/* ours: re-reads */
		serve_queue(&res->freed_keys[i], o->policy, on_hand - allocated);
	}
}

static void
split_order_locked(SplitOrderWork *w)
{
	static SPIPlanPtr lock_plan = NULL;
	OrderInfo	o;
	SplitInput	in = {0};
	SplitPlan	plan;
	SplitResult res;
	SplitParent parent;
	StockSet	stock;
	char	  **skus;
	int			n_skus;
	Datum		values[2];

	if (!load_order_info(w->client_id, w->order_id, &o))
		no_such_order(w->client_id, w->order_id);
	require_splittable(&o, "split");

	/* Rules 1 and 2: the stock rows of the order's SKUs, in key order, then the order. */
	load_lines(&o, &in, false);
	skus = line_skus(&in, &n_skus);
	read_stock(&o, skus, n_skus, true, &stock);
	values[0] = text_datum(w->client_id);
	values[1] = text_datum(w->order_id);
	run_plan(&lock_plan,
			 "SELECT status FROM backorder.orders WHERE client_id = $1 AND order_id = $2 FOR NO KEY UPDATE",
			 2, two_text, values, NULL, 1);
	if (SPI_processed == 0)
		no_such_order(w->client_id, w->order_id);
	if (strcmp(spi_text(0, 1), "ready") == 0 || strcmp(spi_text(0, 1), "needs_review") == 0)
		settle_now(w->client_id, w->order_id);	/* stock may have moved earlier in this transaction */
	if (!load_order_info(w->client_id, w->order_id, &o))
		no_such_order(w->client_id, w->order_id);
	require_splittable(&o, "split");
	if (strcmp(o.status, "ready") == 0)
	{
		ereport(NOTICE,
				(errmsg("order \"%s\" is ready: nothing to split", w->order_id),
				 errdetail("All of its units are allocated; it ships as one shipment.")));
		return;
	}
	if (o.operator_hold)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("order \"%s\" has an open operator hold and cannot be split", w->order_id),
				 errdetail("Its children would ship at once, past the hold."),
				 errhint("Release the hold with backorder.release_hold() first.")));

	/* Re-read the lines under the locks; lines whose stock rows we do not hold stay as they are. */
	in.n_lines = 0;
	load_lines(&o, &in, false);
	build_input(&in, &stock);
	split_compute_plan(&in, &plan);
	if (!plan.found)
	{
		ereport(NOTICE,
				(errmsg("nothing of order \"%s\" can ship now: nothing to split", w->order_id),
				 errdetail("No unit of it is allocated or available at any warehouse.")));
		return;
	}

	parent.client_id = o.client_id;
	parent.order_id = o.order_id;
	parent.root = o.root;
	parent.pinned_location = o.pinned;
	parent.rule = "manual";
	split_apply_plan(&parent, &in, &plan, &res);
	serve_freed(&o, &res);
	w->shipments = plan.n_shipments;
}

static void
split_order_work(void *arg)
{
	bool		saved = split_in_progress;

	intake_evaluate_pending();	/* an order inserted in this transaction is split as placed */
	PG_TRY();
	{
		split_in_progress = true;
		split_order_locked((SplitOrderWork *) arg);
	}
	PG_FINALLY();
	{
		split_in_progress = saved;
	}
	PG_END_TRY();
}

/*
 * backorder.split_order(client_id, order_id) returns integer: the number of
 * shipments made ready (child orders, plus the parent if it carries one).
 */
Datum
backorder_split_order(PG_FUNCTION_ARGS)
{
	SplitOrderWork w = {0};

	w.client_id = arg_text(fcinfo, 0, "client_id");
	w.order_id = arg_text(fcinfo, 1, "order_id");
	engine_run(split_order_work, &w);
	PG_RETURN_INT32(w.shipments);
}

/* ------------------------------------------------- per-transaction state */

/*
 * The hook runs for every order that stays held, and settle handles
 * thousands of orders in a few statements: a client whose rule is never, and
 * none of whose orders has a rule of its own, must cost no query per order.
 * Whether a client may split at all is read once per transaction and kept
 * here; split_rule_check (a rule written) and a subtransaction abort forget
 * it.  A rule another transaction commits meanwhile applies from the next
 * transaction on.
 *
 * The receipt watch's stock rows live here too.  All of it is in
 * TopTransactionContext and reset at transaction end; the callbacks are
 * registered on first use (the engine's _PG_init is not ours to extend).
 */
#define CLIENT_KEY_LEN (64 * 4 + 1)	/* 64 characters of up to 4 bytes */

typedef struct ClientRules
{
	char		client_id[CLIENT_KEY_LEN];
	bool		may_split;		/* a rule other than never: the client's or an order's */
} ClientRules;

static HTAB *client_rules = NULL;
static KeyQueue watched_keys;

/*
 * Rules postponed while an order function first evaluates the transaction's
 * new orders (intake_evaluate_pending): a hold or cancel of them later in the
 * transaction decides whether a rule may split them, so the rules run at
 * commit, with the watch (watch_run).
 */
typedef struct PostponedOrder
{
	char	   *client_id;
	char	   *order_id;
} PostponedOrder;

static int	rules_postponed = 0;	/* depth of split_rules_postpone(true) */
static KeyQueue postponed_orders;	/* PostponedOrder * */
static bool watch_requested = false;

static void
split_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		client_rules = NULL;
		key_queue_reset(&watched_keys);
		watch_requested = false;
		rules_postponed = 0;
		key_queue_reset(&postponed_orders);
	}
}

/* Asks for watch_run at commit (once per transaction, again after a run). */
static void
request_watch_run(void)
{
	static SPIPlanPtr request_plan = NULL;

	if (watch_requested)
		return;
	/* Set first: under SET CONSTRAINTS IMMEDIATE the trigger fires inside the INSERT. */
	watch_requested = true;
	run_plan(&request_plan, "INSERT INTO backorder.split_request DEFAULT VALUES",
			 0, NULL, NULL, NULL, 0);
}

/* A request row inserted in an aborted subtransaction is gone with its trigger event. */
static void
split_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		client_rules = NULL;
		watch_requested = false;
		key_queue_subxact_abort(&watched_keys, mySubid);	/* a watch run in it is undone */
		key_queue_subxact_abort(&postponed_orders, mySubid);
	}
}

/* From _PG_init: the queues must be reset at every transaction's end, used or not. */
void
split_init(void)
{
	RegisterXactCallback(split_xact_callback, NULL);
	RegisterSubXactCallback(split_subxact_callback, NULL);
}

/* May any order of this client be split by a rule?  One query per client and transaction. */
static bool
client_may_split(const char *client_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	ClientRules *entry;
	bool		found;
	Datum		values[1];

	if (client_rules == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = CLIENT_KEY_LEN;
		ctl.entrysize = sizeof(ClientRules);
		ctl.hcxt = TopTransactionContext;
		client_rules = hash_create("pg_backorder split rules", 16, &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	entry = hash_search(client_rules, client_id, HASH_ENTER, &found);
	if (!found)
	{
		values[0] = text_datum(client_id);
		run_plan(&plan,
				 "SELECT c.split_rule <> 'never'"
				 "       OR EXISTS (SELECT 1 FROM backorder.orders o"
				 "                   WHERE o.client_id = $1 AND o.split_rule IS NOT NULL"
				 "                     AND o.split_rule <> 'never')"
				 "  FROM backorder.client c WHERE c.client_id = $1",
				 1, types, values, NULL, 1);
		entry->may_split = SPI_processed > 0 && spi_bool(0, 1);
	}
	return entry->may_split;
}

/* ---------------------------------------------------------------- the rules */

/* Does the rule let an order with this info be split now (before looking at stock)? */
static bool
rule_may_apply(const OrderInfo *o)
{
	if (strcmp(o->status, "needs_review") != 0 || o->operator_hold)
		return false;
	switch (o->rule)
	{
		case RULE_NEVER:
			return false;
		case RULE_AFTER_HELD:
			return o->held_long_enough;
		default:
			return true;
	}
}

/* Marks the stock rows where the parent's allocated units may not be freed. */
static bool
mark_kept_allocations(const OrderInfo *o, SplitInput *in)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID};
	char	  **skus = palloc(sizeof(char *) * Max(in->n_lines, 1));
	char	  **locs = palloc(sizeof(char *) * Max(in->n_lines, 1));
	int			n = 0,
				i,
				s,
				j;
	uint64		r;
	bool		any = false;
	Datum		values[4];

	for (i = 0; i < in->n_lines; i++)
		if (in->lines[i].shippable && in->lines[i].allocated > 0)
		{
			skus[n] = in->lines[i].sku;
			locs[n++] = in->lines[i].location_id;
		}
	if (n == 0)
		return false;
	values[0] = text_datum(o->client_id);
	values[1] = text_array_datum(skus, n);
	values[2] = text_array_datum(locs, n);
	values[3] = text_datum(o->order_id);
	run_plan(&plan,
			 "SELECT k.sku, k.location_id FROM unnest($2, $3) AS k(sku, location_id)"
			 " WHERE EXISTS (SELECT 1 FROM backorder.order_line l"
			 "                WHERE l.client_id = $1 AND l.sku = k.sku AND l.location_id = k.location_id"
			 "                  AND l.waiting AND l.order_id <> $4)",
			 4, types, values, NULL, 0);
	in->keep_allocated = palloc0(sizeof(bool) * Max(in->n_skus * in->n_locs, 1));
	for (r = 0; r < SPI_processed; r++)
	{
		char	   *sku = spi_text(r, 1);
		char	   *loc = spi_text(r, 2);

		for (s = 0; s < in->n_skus; s++)
			if (strcmp(in->skus[s], sku) == 0)
				for (j = 0; j < in->n_locs; j++)
					if (strcmp(in->locs[j].location_id, loc) == 0)
					{
						in->keep_allocated[s * in->n_locs + j] = true;
						any = true;
					}
	}
	return any;
}

/*
 * One automatic split attempt, never waiting for a lock.  order_locked: the
 * caller (settle) holds the order row and has settled it.  Returns true if
 * the order was split.
 */
static bool
auto_split(OrderInfo *o, bool order_locked)
{
	static SPIPlanPtr lock_plan = NULL;
	SplitInput	in = {0};
	SplitPlan	plan;
	SplitResult res;
	SplitParent parent;
	StockSet	stock;
	char	  **skus;
	int			n_skus,
				budget = 0;
	Datum		values[2];

	/*
	 * up_to_n: the shipments the original order may still become, counting
	 * its children.  Splits of one family are counted under the original
	 * order's row lock (taken without waiting), so two cannot both take the
	 * last one.
	 */
	if (o->rule == RULE_UP_TO_N)
	{
		static SPIPlanPtr count_plan = NULL;
		static SPIPlanPtr root_plan = NULL;
		int64		children;

		values[0] = text_datum(o->client_id);
		values[1] = text_datum(o->root);
		if (strcmp(o->root, o->order_id) != 0)
		{
			run_plan(&root_plan,
					 "SELECT 1 FROM backorder.orders WHERE client_id = $1 AND order_id = $2"
					 "   FOR NO KEY UPDATE SKIP LOCKED",
					 2, two_text, values, NULL, 1);
			if (SPI_processed == 0)
				return false;
		}
		run_plan(&count_plan,
				 "SELECT count(*) FROM backorder.orders WHERE client_id = $1 AND parent_order_id = $2",
				 2, two_text, values, NULL, 1);
		children = spi_int64(0, 1);
		if (o->max_shipments - children < 1)
			return false;
		budget = (int) (o->max_shipments - children);
	}

	/* Stock rows first (without waiting), then the order row. */
	load_lines(o, &in, false);
	skus = line_skus(&in, &n_skus);
	if (!try_lock_stock(o, &in, skus, n_skus, &stock))
		return false;
	if (!order_locked)
	{
		values[0] = text_datum(o->client_id);
		values[1] = text_datum(o->order_id);
		run_plan(&lock_plan,
				 "SELECT status FROM backorder.orders WHERE client_id = $1 AND order_id = $2"
				 "   FOR NO KEY UPDATE SKIP LOCKED",
				 2, two_text, values, NULL, 1);
		if (SPI_processed == 0)
			return false;
		if (strcmp(spi_text(0, 1), "ready") == 0 || strcmp(spi_text(0, 1), "needs_review") == 0)
			settle_now(o->client_id, o->order_id);
		if (!load_order_info(o->client_id, o->order_id, o) || !rule_may_apply(o))
			return false;
	}

	/* The lines as they are under the locks. */
	in.n_lines = 0;
	load_lines(o, &in, o->rule == RULE_MIN_FRACTION);
	build_input(&in, &stock);
	in.budget = budget;
	split_compute_plan(&in, &plan);
	if (plan.found && plan.moved > 0 && mark_kept_allocations(o, &in))
		split_compute_plan(&in, &plan);
	if (!plan.found)
		return false;
	if (o->rule == RULE_MIN_FRACTION)
	{
		double		fraction = plan.priced ? plan.value_now / plan.value_total
			: (double) plan.units_now / (double) (plan.units_now + plan.units_left);

		if (fraction < o->min_fraction)
			return false;
	}

	parent.client_id = o->client_id;
	parent.order_id = o->order_id;
	parent.root = o->root;
	parent.pinned_location = o->pinned;
	parent.rule = rule_names[o->rule];
	split_apply_plan(&parent, &in, &plan, &res);
	/*
	 * Units it frees nobody else waits for (mark_kept_allocations), but the
	 * held remainder may wait there itself: under reserve it takes them back.
	 */
	serve_freed(o, &res);
	return true;
}

/*
 * Runs auto_split in a subtransaction: an automatic split that fails is
 * skipped with a WARNING instead of failing the transaction that triggered
 * it.  A cancel (statement_timeout, pg_cancel_backend) still cancels.
 */
static bool
auto_split_guarded(OrderInfo *o, bool order_locked)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	bool		saved = split_in_progress;
	volatile bool done = false;

	/* the split's summary writes are direct: they must find the batch's units written */
	demand_summary_flush();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		split_in_progress = true;
		done = auto_split(o, order_locked);
		split_in_progress = saved;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		split_in_progress = saved;
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			PG_RE_THROW();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ereport(WARNING,
				(errmsg("pg_backorder: automatic split of order \"%s\" skipped: %s",
						o->order_id, edata->message),
				 errhint("The order stays held; split it with backorder.split_order() or wait for backorder.run_scheduled().")));
		done = false;
	}
	PG_END_TRY();
	return done;
}

/*
 * The engine's hook: settle.c calls it for an order that stays held, with
 * the order row locked and settled.
 */
void
split_rules_after_settle(const char *client_id, const char *order_id)
{
	OrderInfo	o;

	if (split_in_progress)
		return;
	if (rules_postponed > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
		PostponedOrder *p = palloc(sizeof(PostponedOrder));

		p->client_id = pstrdup(client_id);
		p->order_id = pstrdup(order_id);
		MemoryContextSwitchTo(old);
		key_queue_push(&postponed_orders, p);
		request_watch_run();
		return;
	}
	if (!client_may_split(client_id))
		return;
	if (!load_order_info(client_id, order_id, &o) || !rule_may_apply(&o))
		return;
	(void) auto_split_guarded(&o, true);
}

/* Postpones (on) the rules to commit, or stops (off) one postponement; they nest. */
void
split_rules_postpone(bool on)
{
	rules_postponed += on ? 1 : -1;
}

/* ----------------------------------------------------------- run_scheduled */

typedef struct ScheduledWork
{
	char	   *client_id;		/* NULL: every client */
	int			split;
} ScheduledWork;

static void
scheduled_work(void *arg)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	ScheduledWork *w = arg;
	Datum		values[1];
	char		nulls[1] = {w->client_id ? ' ' : 'n'};
	char	  **clients,
			  **orders;
	uint64		n,
				r;

	if (w->client_id)
		require_client(w->client_id);
	values[0] = w->client_id ? text_datum(w->client_id) : (Datum) 0;
	run_plan(&plan,
			 "SELECT o.client_id, o.order_id"
			 "  FROM backorder.orders o JOIN backorder.client c ON c.client_id = o.client_id"
			 " WHERE o.status = 'needs_review' AND ($1::text IS NULL OR o.client_id = $1)"
			 "   AND coalesce(o.split_rule, c.split_rule) <> 'never'"
			 " ORDER BY o.priority DESC, o.placed_at, o.order_id, o.client_id",
			 1, types, values, nulls, 0);
	n = SPI_processed;
	clients = palloc(sizeof(char *) * Max(n, 1));
	orders = palloc(sizeof(char *) * Max(n, 1));
	for (r = 0; r < n; r++)
	{
		clients[r] = spi_text(r, 1);
		orders[r] = spi_text(r, 2);
	}
	for (r = 0; r < n; r++)
	{
		OrderInfo	o;

		CHECK_FOR_INTERRUPTS();
		if (!load_order_info(clients[r], orders[r], &o) || !rule_may_apply(&o))
			continue;
		if (auto_split_guarded(&o, false))
			w->split++;
	}
}

/*
 * backorder.run_scheduled(client_id default null) returns integer: the
 * number of orders split.
 */
Datum
backorder_run_scheduled(PG_FUNCTION_ARGS)
{
	ScheduledWork w = {0};

	w.client_id = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	engine_run(scheduled_work, &w);
	PG_RETURN_INT32(w.split);
}

/* ------------------------------------------------- receipts at other places */

/*
 * A receipt (or return, or positive count or adjustment) that leaves units
 * available at a location may let orders waiting for that SKU elsewhere (or,
 * under complete_only, here) ship part of themselves from here.  The trigger split_watch remembers the stock
 * row; at commit, split_watch_run considers the orders waiting for that SKU
 * at other locations, in release order, while units stay available.  At
 * commit, so a transaction that receives several SKUs is seen whole.
 */
typedef struct WatchWork
{
	StockKey	key;
} WatchWork;

static void
watch_work(void *arg)
{
	static SPIPlanPtr check_plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
	WatchWork  *w = arg;
	Datum		values[3];

	/* A client (or an order) with a rule, and units left over here. */
	if (!client_may_split(w->key.client_id))
		return;
	values[0] = text_datum(w->key.client_id);
	values[1] = text_datum(w->key.sku);
	values[2] = text_datum(w->key.location_id);
	run_plan(&check_plan,
			 "SELECT on_hand > allocated FROM backorder.stock"
			 " WHERE client_id = $1 AND sku = $2 AND location_id = $3",
			 3, types, values, NULL, 1);
	if (SPI_processed == 0 || !spi_bool(0, 1))
		return;

	if (!key_queue_contains(&watched_keys, &w->key))
		key_queue_add(&watched_keys, &w->key);
	request_watch_run();
}

/*
 * backorder.split_watch() — AFTER INSERT FOR EACH ROW on stock_movement,
 * WHEN (NEW.delta > 0).
 */
Datum
backorder_split_watch(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	WatchWork	w;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.split_watch: not called by trigger manager");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "backorder.split_watch: must be fired AFTER INSERT FOR EACH ROW");
	tupdesc = td->tg_relation->rd_att;
	w.key.client_id = tuple_text(td->tg_trigtuple, tupdesc, "client_id");
	w.key.sku = tuple_text(td->tg_trigtuple, tupdesc, "sku");
	w.key.location_id = tuple_text(td->tg_trigtuple, tupdesc, "location_id");
	engine_run(watch_work, &w);
	return PointerGetDatum(NULL);
}

/*
 * Orders waiting for a SKU, with a rule, in release order: at other
 * locations, and (complete_only: units may stay available where orders wait
 * that they cannot complete) at this one.
 */
static void
watch_key(const StockKey *key)
{
	static SPIPlanPtr candidates_plan = NULL;
	static SPIPlanPtr available_plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, INT4OID};
	Datum		values[4];
	char	  **orders;
	uint64		n,
				r;

	stock_key_values(key, values);
	values[3] = Int32GetDatum(WATCH_MAX_ORDERS);
	run_plan(&candidates_plan,
			 "SELECT l.order_id, l.priority, l.placed_at"
			 "  FROM backorder.order_line l"
			 "  JOIN backorder.orders o ON o.client_id = l.client_id AND o.order_id = l.order_id"
			 "  JOIN backorder.client c ON c.client_id = o.client_id"
			 " WHERE l.client_id = $1 AND l.sku = $2 AND l.waiting"
			 "   AND o.status = 'needs_review' AND o.location_id IS NULL"
			 "   AND coalesce(o.split_rule, c.split_rule) <> 'never'"
			 " GROUP BY l.order_id, l.priority, l.placed_at"
			 " ORDER BY l.priority DESC, l.placed_at, l.order_id LIMIT $4",
			 4, types, values, NULL, 0);
	n = SPI_processed;
	orders = palloc(sizeof(char *) * Max(n, 1));
	for (r = 0; r < n; r++)
		orders[r] = spi_text(r, 1);

	for (r = 0; r < n; r++)
	{
		OrderInfo	o;

		CHECK_FOR_INTERRUPTS();
		run_plan(&available_plan,
				 "SELECT on_hand > allocated FROM backorder.stock"
				 " WHERE client_id = $1 AND sku = $2 AND location_id = $3",
				 3, types, values, NULL, 1);
		if (SPI_processed == 0 || !spi_bool(0, 1))
			break;				/* nothing left here */
		if (!load_order_info(key->client_id, orders[r], &o) || !rule_may_apply(&o))
			continue;
		(void) auto_split_guarded(&o, false);
	}
}

static void
watch_run(void *arg)
{
	static SPIPlanPtr done_plan = NULL;
	static const Oid tid_type[1] = {TIDOID};
	Datum		request[1];

	request[0] = PointerGetDatum(arg);
	run_plan(&done_plan, "DELETE FROM backorder.split_request WHERE ctid = $1",
			 1, tid_type, request, NULL, 0);

	while (watched_keys.pending != NIL || postponed_orders.pending != NIL)
	{
		List	   *batch = key_queue_take(&watched_keys);
		List	   *orders = key_queue_take(&postponed_orders);
		int			saved = rules_postponed;
		ListCell   *lc;

		foreach(lc, batch)
			watch_key((StockKey *) lfirst(lc));
		rules_postponed = 0;	/* (SET CONSTRAINTS IMMEDIATE can bring us here inside one) */
		PG_TRY();
		{
			foreach(lc, orders)
			{
				PostponedOrder *p = lfirst(lc);
				OrderInfo	o;

				if (client_may_split(p->client_id) && load_order_info(p->client_id, p->order_id, &o) &&
					rule_may_apply(&o))
					(void) auto_split_guarded(&o, false);
			}
		}
		PG_FINALLY();
		{
			rules_postponed = saved;
		}
		PG_END_TRY();
	}
}

/*
 * backorder.split_watch_run() — deferred constraint trigger on
 * backorder.split_request: acts on the stock rows split_watch remembered.
 */
Datum
backorder_split_watch_run(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.split_watch_run: not called by trigger manager");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "backorder.split_watch_run: must be fired AFTER ... FOR EACH ROW");

	watch_requested = false;	/* later statements ask again */
	engine_run(watch_run, &td->tg_trigtuple->t_self);
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------- rule validation */

static void
bad_rule(const char *message, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message),
			 errhint("%s", hint)));
}

/*
 * backorder.split_rule_check() — BEFORE INSERT OR UPDATE on client and
 * orders: a split rule and its parameters must make sense (22023 with a
 * hint), so a bad rule is refused when it is written, not found at commit.
 */
Datum
backorder_split_rule_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	char	   *rule;
	int64		n;
	bool		has_n,
				has_fraction,
				has_after,
				isnull;
	Datum		fraction_d;
	double		fraction = 0;
	bool		on_orders;
	const char *rules_hint = "Use never, as_available, up_to_n, min_fraction or after_held.";

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.split_rule_check: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "backorder.split_rule_check: must be fired BEFORE ... FOR EACH ROW");

	client_rules = NULL;		/* a rule is being written: ask again */
	tupdesc = td->tg_relation->rd_att;
	tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	on_orders = strcmp(RelationGetRelationName(td->tg_relation), "orders") == 0;

	rule = tuple_text(tuple, tupdesc, "split_rule");
	has_n = tuple_int64(tuple, tupdesc, "split_max_shipments", &n);
	fraction_d = SPI_getbinval(tuple, tupdesc, SPI_fnumber(tupdesc, "split_min_fraction"), &isnull);
	has_fraction = !isnull;
	if (has_fraction)
		fraction = DatumGetFloat8(DirectFunctionCall1(numeric_float8, fraction_d));
	(void) SPI_getbinval(tuple, tupdesc, SPI_fnumber(tupdesc, "split_after"), &isnull);
	has_after = !isnull;

	if (rule == NULL)
	{
		if (on_orders && (has_n || has_fraction || has_after))
			bad_rule("split parameters need a split_rule on the order",
					 "Set the order's split_rule too, or leave its split parameters NULL to follow the client's rule.");
		return PointerGetDatum(tuple);	/* a client's NOT NULL says the rest */
	}
	if (rule_of(rule) == RULE_NEVER && strcmp(rule, "never") != 0)
		bad_rule(psprintf("split rule \"%s\" is not valid", rule), rules_hint);
	if (has_n && n < 1)
		bad_rule(psprintf("split_max_shipments must be at least 1, not " INT64_FORMAT, n),
				 "Give the most shipments one order may be split into: 1 means never split.");
	if (has_fraction && (isnan(fraction) || fraction < 0 || fraction > 1))
		bad_rule(psprintf("split_min_fraction must be between 0 and 1, not %s",
						  DatumGetCString(DirectFunctionCall1(numeric_out, fraction_d))),
				 "Give the share of the order (units, or value when lines have prices) that must ship now, such as 0.5.");
	if (has_after)
	{
		Interval   *iv = DatumGetIntervalP(SPI_getbinval(tuple, tupdesc,
														 SPI_fnumber(tupdesc, "split_after"), &isnull));
		Interval	zero = {0};

		if (DatumGetBool(DirectFunctionCall2(interval_lt, IntervalPGetDatum(iv),
											 IntervalPGetDatum(&zero))))
			bad_rule("split_after must not be negative",
					 "Give how long an order must have been held before it is split, such as '48 hours'.");
	}
	switch (rule_of(rule))
	{
		case RULE_UP_TO_N:
			if (!has_n)
				bad_rule("split rule up_to_n needs split_max_shipments",
						 "Set split_max_shipments to the most shipments one order may be split into.");
			break;
		case RULE_MIN_FRACTION:
			if (!has_fraction)
				bad_rule("split rule min_fraction needs split_min_fraction",
						 "Set split_min_fraction to the share that must ship now, between 0 and 1.");
			break;
		case RULE_AFTER_HELD:
			if (!has_after)
				bad_rule("split rule after_held needs split_after",
						 "Set split_after to how long an order must be held first, such as '48 hours'.");
			break;
		default:
			break;
	}
	return PointerGetDatum(tuple);
}
