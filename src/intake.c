/*
 * intake.c — evaluating orders that apps wrote with plain SQL.
 *
 * Apps insert an order and its lines (or edit lines) in one transaction.  A
 * deferred constraint trigger on orders and order_line queues one event per
 * row; evaluating per event would evaluate a three-line order four times.  So
 * the guard trigger (a BEFORE trigger that sees every app write) marks the
 * order "dirty" in a per-transaction hash table, and the deferred trigger
 * evaluates an order only while it is dirty, then marks it clean.  A later
 * edit in the same transaction (after SET CONSTRAINTS ... IMMEDIATE) marks it
 * dirty again.  On subtransaction abort every entry turns dirty again:
 * evaluation is idempotent, so re-evaluating is always safe.
 *
 * Line edits that free allocated units (a qty below what is allocated, a
 * changed SKU, a deleted line) give the units back to stock at once, in the
 * guard trigger, and note the stock row here; the next evaluation serves that
 * stock row's queue, because freed units are a real increase of supply.
 *
 * evaluate_order() is also the re-evaluation behind release_hold(unknown_sku).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "pg_backorder.h"

PG_FUNCTION_INFO_V1(backorder_intake);

#define ORDER_KEY_LEN (64 + 1 + 128 + 1)

typedef struct DirtyOrder
{
	char		key[ORDER_KEY_LEN]; /* client_id \x1f order_id */
	bool		dirty;			/* an app write since the last evaluation */
	bool		inserts_only;	/* ... and every such write was an INSERT */
	bool		is_new;			/* inserted by this transaction, not shipped or cancelled */
	bool		new_seen;		/* ... and its row was read back as 'new' */
	bool		empty;			/* last evaluation found no lines */
	List	   *saved;			/* SavedState *: what a subtransaction abort restores */
} DirtyOrder;

/* An entry as it was before the first change made in subtransaction subid (or a child of it). */
typedef struct SavedState
{
	SubTransactionId subid;
	DirtyOrder	state;
} SavedState;

/* Per-transaction state, in TopTransactionContext; reset at transaction end. */
static HTAB *dirty_orders = NULL;
static KeyQueue freed_keys;

/*
 * No entry is dirty: set when an evaluation left none so, cleared by every
 * write and subtransaction abort.  Most of a transaction's deferred events
 * (one per line) fire after its evaluation; they return at once.
 */
static bool all_clean = false;

/*
 * An evaluation is running.  Under SET CONSTRAINTS IMMEDIATE the intake
 * events of the engine's own statements (a split rule's, inside it) fire at
 * once: they must not evaluate again an order half evaluated.
 */
static bool evaluating = false;

static void
order_key(char *buf, const char *client_id, const char *order_id)
{
	snprintf(buf, ORDER_KEY_LEN, "%s\x1f%s", client_id, order_id);
}

/*
 * At commit every order an app wrote must have been evaluated.  One that is
 * still dirty has no lines (its evaluation waited for them), unless every
 * write that dirtied it was an INSERT and no evaluation followed: then every
 * one was skipped by ON CONFLICT (a row really inserted queues the deferred
 * event that evaluates it), and the order did not change.
 */
static void
check_all_evaluated(void)
{
	HASH_SEQ_STATUS seq;
	DirtyOrder *entry;

	if (dirty_orders == NULL)
		return;
	hash_seq_init(&seq, dirty_orders);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		char	   *sep;

		if (!entry->dirty || (entry->inserts_only && !entry->empty))
			continue;
		hash_seq_term(&seq);
		sep = strchr(entry->key, '\x1f');
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("order \"%s\" of client \"%.*s\" has no lines", sep + 1,
						(int) (sep - entry->key), entry->key),
				 entry->is_new ?
				 errhint("Insert its lines into backorder.order_line in the same transaction as the order; this transaction is rolled back.") :
				 errhint("A placed order keeps at least one line: cancel it with backorder.cancel_order instead; this transaction is rolled back.")));
	}
}

static void
intake_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT)
		check_all_evaluated();
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
			 event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
			 event == XACT_EVENT_PREPARE)
	{
		dirty_orders = NULL;	/* memory goes with TopTransactionContext */
		key_queue_reset(&freed_keys);
		all_clean = false;
	}
}

/*
 * Before an entry changes inside a subtransaction, its state is saved, once
 * per subtransaction: an abort puts back the state from before its first
 * change.  (A state saved in a child that committed stands for the parent
 * too: nothing changed in the parent before it.)
 */
static DirtyOrder *
changing(DirtyOrder *entry)
{
	SubTransactionId here = GetCurrentSubTransactionId();
	MemoryContext old;
	SavedState *saved;

	if (entry == NULL || here == TopSubTransactionId ||
		(entry->saved != NIL && ((SavedState *) llast(entry->saved))->subid >= here))
		return entry;
	old = MemoryContextSwitchTo(TopTransactionContext);
	saved = palloc(sizeof(SavedState));
	saved->subid = here;
	saved->state = *entry;
	entry->saved = lappend(entry->saved, saved);
	MemoryContextSwitchTo(old);
	return entry;
}

/*
 * A subtransaction abort undoes the writes and evaluations made in it.
 * PostgreSQL discards the trigger events queued in it and re-arms deferred
 * events it fired, so each order is put back as it was when the
 * subtransaction began: dirty again if an evaluation in it is undone, clean
 * again if the write that dirtied it is, new or not as before.
 * Subtransaction ids only grow, so "in it" is ">= mySubid".
 */
static void
intake_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	HASH_SEQ_STATUS seq;
	DirtyOrder *entry;
	MemoryContext old;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	key_queue_subxact_abort(&freed_keys, mySubid);	/* an evaluation in it served them */
	if (dirty_orders == NULL)
		return;
	all_clean = false;
	old = MemoryContextSwitchTo(TopTransactionContext);	/* the kept lists outlive the callback */
	hash_seq_init(&seq, dirty_orders);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		List	   *kept = NIL;
		SavedState *restore = NULL;
		ListCell   *lc;

		foreach(lc, entry->saved)
		{
			SavedState *saved = lfirst(lc);

			if (saved->subid < mySubid)
				kept = lappend(kept, saved);
			else if (restore == NULL)
				restore = saved;
		}
		if (restore == NULL)
			continue;
		*entry = restore->state;
		entry->saved = kept;
	}
	MemoryContextSwitchTo(old);
}

void
intake_init(void)
{
	RegisterXactCallback(intake_xact_callback, NULL);
	RegisterSubXactCallback(intake_subxact_callback, NULL);
}

static DirtyOrder *
dirty_entry(const char *client_id, const char *order_id, bool create)
{
	char		key[ORDER_KEY_LEN];
	bool		found;
	DirtyOrder *entry;

	if (dirty_orders == NULL)
	{
		HASHCTL		ctl;

		if (!create)
			return NULL;
		ctl.keysize = ORDER_KEY_LEN;
		ctl.entrysize = sizeof(DirtyOrder);
		ctl.hcxt = TopTransactionContext;
		dirty_orders = hash_create("pg_backorder dirty orders", 64, &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	order_key(key, client_id, order_id);
	entry = hash_search(dirty_orders, key, create ? HASH_ENTER : HASH_FIND, &found);
	if (create && !found)
	{
		entry->dirty = false;
		entry->inserts_only = false;
		entry->is_new = false;
		entry->new_seen = false;
		entry->empty = false;
		entry->saved = NIL;
	}
	return entry;
}

/*
 * An app write of the order or one of its lines, seen by the guard's BEFORE
 * trigger.  It may still be skipped (INSERT ... ON CONFLICT DO NOTHING), so
 * an inserted order is taken as new only once its row is read back as such
 * (intake_order_status_seen).
 */
void
intake_mark_dirty(const char *client_id, const char *order_id, DirtyWrite write)
{
	DirtyOrder *entry = changing(dirty_entry(client_id, order_id, true));

	if (!entry->dirty)
		entry->inserts_only = true;
	entry->dirty = true;
	all_clean = false;
	if (write == DIRTY_EDIT)
		entry->inserts_only = false;
	if (write == DIRTY_ORDER_INSERT)
	{
		entry->is_new = true;
		entry->new_seen = false;
	}
}

/*
 * The guard read the order of a line being inserted: status 'new' is only
 * ever seen by the transaction that inserted the order (intake changes it
 * before commit), so it confirms the insert; any other status means the
 * INSERT of the order was skipped by ON CONFLICT.
 */
void
intake_order_status_seen(const char *client_id, const char *order_id, bool status_new)
{
	DirtyOrder *entry = changing(dirty_entry(client_id, order_id, false));

	if (entry == NULL || !entry->is_new)
		return;
	if (status_new)
		entry->new_seen = true;
	else
		entry->is_new = false;
}

/* ship_order and cancel_order close an order: its lines may no longer change. */
void
intake_order_closed(const char *client_id, const char *order_id)
{
	DirtyOrder *entry = changing(dirty_entry(client_id, order_id, false));

	if (entry != NULL)
		entry->is_new = false;
}

bool
intake_order_is_new(const char *client_id, const char *order_id)
{
	DirtyOrder *entry = dirty_entry(client_id, order_id, false);

	return entry != NULL && entry->is_new && entry->new_seen;
}

void
intake_note_freed(const StockKey *key)
{
	key_queue_add(&freed_keys, key);
}

/* Is an order written by this transaction still to be evaluated? */
bool
intake_pending(void)
{
	HASH_SEQ_STATUS seq;
	DirtyOrder *entry;

	if (dirty_orders == NULL)
		return false;
	hash_seq_init(&seq, dirty_orders);
	while ((entry = hash_seq_search(&seq)) != NULL)
		if (entry->dirty)
		{
			hash_seq_term(&seq);
			return true;
		}
	return false;
}

/* ---- evaluation ---- */

typedef struct Line
{
	int32		line_no;
	char	   *sku;
	int64		qty;
	int64		allocated;
	char	   *location_id;	/* where it is allocated / waits; NULL if not yet placed */
	bool		known;			/* SKU in the catalog */
	bool		restockable;	/* active and backorderable */
	int			key_index;		/* into the locked stock keys, or -1 */
} Line;

typedef struct OrderState
{
	char	   *status;
	char	   *location_id;	/* requested by the app, or NULL */
	AllocationPolicy policy;
	Line	   *lines;
	int			n_lines;
} OrderState;

static bool
load_order(const char *client_id, const char *order_id, OrderState *o)
{
	static SPIPlanPtr order_plan = NULL;
	static SPIPlanPtr lines_plan = NULL;
	static const Oid types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	uint64		r;

	values[0] = text_datum(client_id);
	values[1] = text_datum(order_id);
	run_plan(&order_plan,
			 "SELECT o.status, o.location_id, c.allocation_policy"
			 "  FROM backorder.orders o JOIN backorder.client c ON c.client_id = o.client_id"
			 " WHERE o.client_id = $1 AND o.order_id = $2",
			 2, types, values, NULL, 1);
	if (SPI_processed == 0)
		return false;
	o->status = spi_text(0, 1);
	o->location_id = spi_text(0, 2);
	o->policy = strcmp(spi_text(0, 3), "complete_only") == 0 ? POLICY_COMPLETE_ONLY : POLICY_RESERVE;

	/*
	 * The catalog is probed once per line (LIMIT keeps the subquery a
	 * parameterized probe): as a join, a generic plan could hash the
	 * client's whole catalog for every order (3,933 SKUs: 2 ms an order).
	 */
	run_plan(&lines_plan,
			 "SELECT l.line_no, l.sku, l.qty, l.allocated, l.location_id, s.known IS NOT NULL,"
			 "       coalesce(s.restockable, false)"
			 "  FROM backorder.order_line l"
			 "  LEFT JOIN LATERAL (SELECT true AS known, k.status = 'active' AND k.backorderable AS restockable"
			 "                       FROM backorder.sku k WHERE k.client_id = l.client_id AND k.sku = l.sku"
			 "                      LIMIT 1) s ON true"
			 " WHERE l.client_id = $1 AND l.order_id = $2 ORDER BY l.line_no",
			 2, types, values, NULL, 0);
	o->n_lines = (int) SPI_processed;
	o->lines = palloc0(sizeof(Line) * (o->n_lines > 0 ? o->n_lines : 1));
	for (r = 0; r < SPI_processed; r++)
	{
		Line	   *l = &o->lines[r];

		l->line_no = (int32) spi_int64(r, 1);
		l->sku = spi_text(r, 2);
		l->qty = spi_int64(r, 3);
		l->allocated = spi_int64(r, 4);
		l->known = spi_bool(r, 6);
		/* A line whose SKU is not in the catalog (any more) is unplaced and waits nowhere. */
		l->location_id = l->known ? spi_text(r, 5) : NULL;
		l->restockable = spi_bool(r, 7);
		l->key_index = -1;
	}
	return true;
}

/*
 * Where an order without a location is served: the first location by
 * priority that can fill the whole order, else the one with the most of its
 * units available, else the preferred one.
 */
static char *
choose_location(const char *client_id, OrderState *o)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTARRAYOID, INT8ARRAYOID};
	char	  **skus = palloc(sizeof(char *) * o->n_lines);
	int64	   *needs = palloc(sizeof(int64) * o->n_lines);
	int			n = 0,
				i,
				j;
	Datum		values[3];

	for (i = 0; i < o->n_lines; i++)
	{
		Line	   *l = &o->lines[i];

		if (!l->known)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(skus[j], l->sku) == 0)
				break;
		if (j == n)
		{
			skus[n] = l->sku;
			needs[n++] = 0;
		}
		needs[j] += l->qty - l->allocated;
	}

	values[0] = text_datum(client_id);
	values[1] = text_array_datum(skus, n);
	values[2] = int8_array_datum(needs, n);
	run_plan(&plan,
			 "SELECT l.location_id"
			 "  FROM backorder.location l"
			 "  CROSS JOIN LATERAL ("
			 "        SELECT bool_and(a.available >= a.need) AS fills,"
			 "               sum(least(greatest(a.available, 0), a.need)) AS units"
			 "          FROM (SELECT n.need,"
			 /* a scalar subquery stays one index probe per SKU and location */
			 "                       coalesce((SELECT s.on_hand - s.allocated FROM backorder.stock s"
			 "                                  WHERE s.client_id = $1 AND s.sku = n.sku"
			 "                                    AND s.location_id = l.location_id), 0) AS available"
			 "                  FROM unnest($2, $3) AS n(sku, need)) a) x"
			 " ORDER BY x.fills DESC, CASE WHEN x.fills THEN l.priority END, x.units DESC,"
			 "          l.priority, l.location_id"
			 " LIMIT 1",
			 3, types, values, NULL, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no warehouse to place orders of client \"%s\" at", client_id),
				 errdetail("backorder.location is empty."),
				 errhint("Insert at least one warehouse into backorder.location.")));
	return spi_text(0, 1);
}

/*
 * Writes the lines' allocations, locations and queue positions, and moves
 * stock.allocated by `key_delta`, in one statement.
 */
static void
write_allocation(const char *client_id, const char *order_id, OrderState *o, int64 *new_alloc,
				 StockKey *keys, int64 *key_delta, int n_keys)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[8] = {TEXTOID, TEXTOID, INT4ARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID};
	int32	   *line_nos = palloc(sizeof(int32) * o->n_lines);
	int32	   *alloc = palloc(sizeof(int32) * o->n_lines);
	Datum	   *loc_d = palloc(sizeof(Datum) * o->n_lines);
	bool	   *loc_null = palloc(sizeof(bool) * o->n_lines);
	char	  **skus = palloc(sizeof(char *) * (n_keys + 1));
	char	  **locs = palloc(sizeof(char *) * (n_keys + 1));
	int64	   *deltas = palloc(sizeof(int64) * (n_keys + 1));
	int			dims[1];
	int			lbs[1] = {1};
	int			i,
				m = 0;
	Datum		values[8];

	for (i = 0; i < o->n_lines; i++)
	{
		line_nos[i] = o->lines[i].line_no;
		alloc[i] = (int32) new_alloc[i];
		loc_null[i] = o->lines[i].location_id == NULL;
		loc_d[i] = loc_null[i] ? (Datum) 0 : text_datum(o->lines[i].location_id);
	}
	for (i = 0; i < n_keys; i++)
		if (key_delta[i] != 0)
		{
			skus[m] = keys[i].sku;
			locs[m] = keys[i].location_id;
			deltas[m++] = key_delta[i];
		}
	dims[0] = o->n_lines;
	values[0] = text_datum(client_id);
	values[1] = text_datum(order_id);
	values[2] = int4_array_datum(line_nos, o->n_lines);
	values[3] = int4_array_datum(alloc, o->n_lines);
	values[4] = PointerGetDatum(construct_md_array(loc_d, loc_null, 1, dims, lbs,
												   TEXTOID, -1, false, TYPALIGN_INT));
	values[5] = text_array_datum(skus, m);
	values[6] = text_array_datum(locs, m);
	values[7] = int8_array_datum(deltas, m);
	/* The priority and placed_at copies put the line at its place in the queue index. */
	run_plan(&plan,
			 "WITH lines AS ("
			 "  UPDATE backorder.order_line l"
			 "     SET allocated = g.allocated, location_id = g.location_id,"
			 "         waiting = g.location_id IS NOT NULL AND g.allocated < l.qty,"
			 "         priority = o.priority, placed_at = o.placed_at"
			 "    FROM unnest($3, $4, $5) AS g(line_no, allocated, location_id), backorder.orders o"
			 "   WHERE l.client_id = $1 AND l.order_id = $2 AND l.line_no = g.line_no"
			 "     AND o.client_id = $1 AND o.order_id = $2)"
			 "UPDATE backorder.stock s SET allocated = s.allocated + d.delta, updated_at = backorder.now()"
			 "  FROM unnest($6, $7, $8) AS d(sku, location_id, delta)"
			 " WHERE s.client_id = $1 AND s.sku = d.sku AND s.location_id = d.location_id",
			 8, types, values, NULL, 0);
}

/* Collects and locks the stock rows of the order's placed lines plus `extra`. */
static StockKey *
lock_order_stock(const char *client_id, OrderState *o, List *extra, int *n_keys,
				 int64 **on_hand, int64 **allocated)
{
	StockKey   *keys = palloc(sizeof(StockKey) * (o->n_lines + list_length(extra) + 1));
	int			n = 0,
				i;
	ListCell   *lc;

	for (i = 0; i < o->n_lines; i++)
	{
		if (!o->lines[i].known || o->lines[i].location_id == NULL)
			continue;
		keys[n].client_id = (char *) client_id;
		keys[n].sku = o->lines[i].sku;
		keys[n].location_id = o->lines[i].location_id;
		n++;
	}
	foreach(lc, extra)
		keys[n++] = *(StockKey *) lfirst(lc);
	n = sort_unique_stock_keys(keys, n);
	*on_hand = palloc(sizeof(int64) * (n + 1));
	*allocated = palloc(sizeof(int64) * (n + 1));
	lock_stock_rows(keys, n, *on_hand, *allocated);
	*n_keys = n;
	return keys;
}

static int
find_key(StockKey *keys, int n, const char *client_id, const char *sku, const char *location_id)
{
	StockKey	k;
	StockKey   *found;

	k.client_id = (char *) client_id;
	k.sku = (char *) sku;
	k.location_id = (char *) location_id;
	found = bsearch(&k, keys, n, sizeof(StockKey), stock_key_cmp);
	return found ? (int) (found - keys) : -1;
}

/* Places the order's unplaced lines of known SKUs at its one location. */
static char *
place_lines(const char *client_id, OrderState *o)
{
	char	   *place = NULL;
	bool		any_unplaced = false;
	int			i;

	/* An order lives at one location: the one its lines already have, or a new choice. */
	for (i = 0; i < o->n_lines; i++)
	{
		if (o->lines[i].location_id && place == NULL)
			place = o->lines[i].location_id;
		any_unplaced |= o->lines[i].known && o->lines[i].location_id == NULL;
	}
	if (!any_unplaced)
		return place;
	if (place == NULL)
		place = o->location_id;
	if (place == NULL)
		place = choose_location(client_id, o);
	for (i = 0; i < o->n_lines; i++)
		if (o->lines[i].known && o->lines[i].location_id == NULL)
			o->lines[i].location_id = place;
	return place;
}

/* How many units each line gets now, by the client's policy. */
static void
allocate_lines(OrderState *o, int64 *on_hand, int64 *allocated, int n_keys,
			   int64 *new_alloc, int64 *key_delta)
{
	int			i;

	for (i = 0; i < o->n_lines; i++)
		new_alloc[i] = o->lines[i].allocated;

	if (o->policy == POLICY_RESERVE)
	{
		/* Available > 0 means nobody waits there (invariant 5): take what exists. */
		for (i = 0; i < o->n_lines; i++)
		{
			Line	   *l = &o->lines[i];
			int			ki = l->key_index;
			int64		take;

			if (ki < 0)
				continue;
			take = Min(Max(on_hand[ki] - allocated[ki] - key_delta[ki], 0), l->qty - l->allocated);
			new_alloc[i] += take;
			key_delta[ki] += take;
		}
	}
	else
	{
		/* complete_only: everything or nothing. */
		int64	   *need = palloc0(sizeof(int64) * (n_keys + 1));

		for (i = 0; i < o->n_lines; i++)
		{
			Line	   *l = &o->lines[i];

			if (l->allocated >= l->qty)
				continue;
			if (l->key_index < 0)
				return;
			need[l->key_index] += l->qty - l->allocated;
		}
		for (i = 0; i < n_keys; i++)
			if (need[i] > on_hand[i] - allocated[i])
				return;
		for (i = 0; i < o->n_lines; i++)
		{
			Line	   *l = &o->lines[i];

			if (l->key_index < 0)
				continue;
			key_delta[l->key_index] += l->qty - l->allocated;
			new_alloc[i] = l->qty;
		}
	}
}

/*
 * Evaluates an order: places its lines, allocates what the policy allows,
 * and settles its holds and status.  Idempotent.
 *
 * A new order (inserted by this transaction) is invisible to everyone else,
 * so its lines cannot change under us and it is settled from what we read.
 * An existing order is re-read after its stock rows and its row are locked.
 */
void
evaluate_order(const char *client_id, const char *order_id)
{
	static SPIPlanPtr lock_plan = NULL;
	static const Oid types[2] = {TEXTOID, TEXTOID};
	OrderState	o;
	StockKey   *keys;
	int			n_keys,
				i;
	int64	   *on_hand,
			   *allocated,
			   *new_alloc,
			   *key_delta;
	char	   *place;
	List	   *freed;
	bool		was_new;
	ListCell   *lc;
	Datum		values[2];
	StringInfoData detail;

	if (!load_order(client_id, order_id, &o))
		return;
	if (strcmp(o.status, "shipped") == 0 || strcmp(o.status, "cancelled") == 0)
		return;
	if (o.n_lines == 0)
	{
		changing(dirty_entry(client_id, order_id, true))->empty = true;	/* checked again at commit */
		return;
	}
	changing(dirty_entry(client_id, order_id, true))->empty = false;
	was_new = strcmp(o.status, "new") == 0;

	freed = key_queue_take(&freed_keys);	/* this evaluation serves them */

	place = place_lines(client_id, &o);

	/* Rules 1 and 2: every stock row this evaluation touches, in key order. */
	keys = lock_order_stock(client_id, &o, freed, &n_keys, &on_hand, &allocated);

	/*
	 * Units freed by line edits in this transaction go to the queue first;
	 * the figures of the locked rows are read again after each serve.
	 */
	foreach(lc, freed)
	{
		StockKey   *k = lfirst(lc);
		int			ki = find_key(keys, n_keys, k->client_id, k->sku, k->location_id);

		if (ki >= 0 && on_hand[ki] > allocated[ki] &&
			serve_queue(&keys[ki], client_policy(k->client_id), on_hand[ki] - allocated[ki]) > 0)
			lock_stock_rows(&keys[ki], 1, &on_hand[ki], &allocated[ki]);
	}

	/*
	 * Rule 3: the order row after its stock rows.  A new order is invisible to
	 * every other transaction, so nobody else can lock it: no lock to take.
	 */
	if (!was_new)
	{
		values[0] = text_datum(client_id);
		values[1] = text_datum(order_id);
		run_plan(&lock_plan,
				 "SELECT 1 FROM backorder.orders WHERE client_id = $1 AND order_id = $2 FOR NO KEY UPDATE",
				 2, types, values, NULL, 1);
	}
	if (!was_new || freed != NIL)
	{
		/* Re-read under the locks: the queue may have served this order meanwhile. */
		load_order(client_id, order_id, &o);
		for (i = 0; i < o.n_lines; i++)
			if (o.lines[i].known && o.lines[i].location_id == NULL)
				o.lines[i].location_id = place;
	}

	for (i = 0; i < o.n_lines; i++)
		if (o.lines[i].known && o.lines[i].location_id)
			o.lines[i].key_index = find_key(keys, n_keys, client_id, o.lines[i].sku,
											o.lines[i].location_id);
	new_alloc = palloc(sizeof(int64) * o.n_lines);
	key_delta = palloc0(sizeof(int64) * (n_keys + 1));
	allocate_lines(&o, on_hand, allocated, n_keys, new_alloc, key_delta);
	write_allocation(client_id, order_id, &o, new_alloc, keys, key_delta, n_keys);

	initStringInfo(&detail);
	if (was_new)
	{
		bool		needed[3] = {false, false, false};

		/* The holds it needs, from what we read: unknown_sku, discontinued, out_of_stock. */
		for (i = 0; i < o.n_lines; i++)
		{
			Line	   *l = &o.lines[i];

			if (!l->known || l->location_id == NULL)
				needed[0] = true;
			else if (new_alloc[i] < l->qty)
				needed[l->restockable ? 2 : 1] = true;
		}
		appendStringInfo(&detail, "\"lines\": %d, \"location_id\": ", o.n_lines);
		if (place)
			escape_json(&detail, place);
		else
			appendStringInfoString(&detail, "null");
		settle_new_order(client_id, order_id, needed, detail.data);
	}
	else
	{
		SettleInput in = {0};

		in.cause = SETTLE_INTAKE;
		settle_order(client_id, order_id, &in);
	}
}

/* Evaluates one dirty order and marks it clean, unless it has no lines yet. */
static void
evaluate_dirty_order(const char *client_id, const char *order_id)
{
	DirtyOrder *entry;

	evaluate_order(client_id, order_id);
	entry = changing(dirty_entry(client_id, order_id, true));
	/* An order without lines stays dirty: lines may follow, or commit refuses it. */
	if (!entry->empty)
		entry->dirty = false;
}

/*
 * Evaluates every dirty order, in release order: orders placed in one
 * transaction compete for stock like orders placed one by one, so the
 * earlier placed order must be evaluated first.  The usual transaction
 * places one order, which needs no sorting (and no statement).
 */
static void
evaluate_dirty_orders(void *arg)
{
	static SPIPlanPtr plan[2];
	static const Oid types[2] = {TEXTARRAYOID, TEXTARRAYOID};
	long		n = hash_get_num_entries(dirty_orders);
	char	  **clients = palloc(sizeof(char *) * (n + 1));
	char	  **orders = palloc(sizeof(char *) * (n + 1));
	HASH_SEQ_STATUS seq;
	DirtyOrder *entry;
	Datum		values[2];
	int			m = 0;
	uint64		r;

	hash_seq_init(&seq, dirty_orders);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		char	   *sep;

		if (!entry->dirty)
			continue;
		sep = strchr(entry->key, '\x1f');
		clients[m] = pnstrdup(entry->key, sep - entry->key);
		orders[m++] = pstrdup(sep + 1);
	}
	if (m == 0)
		return;
	if (m == 1)
		evaluate_dirty_order(clients[0], orders[0]);
	else
	{
		SPITupleTable *sorted;
		uint64		n_sorted;

		values[0] = text_array_datum(clients, m);
		values[1] = text_array_datum(orders, m);
		/* Driven by the keys: one primary-key probe per order, whatever the table's size. */
		run_batch_plan(plan, m,
					   "SELECT o.client_id, o.order_id"
					   "  FROM unnest($1, $2) AS t(client_id, order_id)"
					   "  JOIN backorder.orders o ON o.client_id = t.client_id AND o.order_id = t.order_id"
					   " ORDER BY o.priority DESC, o.placed_at, o.order_id, o.client_id",
					   2, types, values, NULL, 0);
		sorted = SPI_tuptable;
		n_sorted = SPI_processed;
		for (r = 0; r < n_sorted; r++)
			evaluate_dirty_order(SPI_getvalue(sorted->vals[r], sorted->tupdesc, 1),
								 SPI_getvalue(sorted->vals[r], sorted->tupdesc, 2));
	}
	all_clean = !intake_pending();
	/* complete_only's completion pass waited for the intake (deferred_settle.c). */
	if (completion_pass_pending() && all_clean)
		request_completion_pass();
}

/* The evaluations' demand-summary writes, summed and written once (demand_summary.c). */
static void
evaluate_dirty_orders_batched(void *arg)
{
	bool		saved = evaluating;

	evaluating = true;
	PG_TRY();
	{
		demand_summary_batched(evaluate_dirty_orders, arg);
	}
	PG_FINALLY();
	{
		evaluating = saved;
	}
	PG_END_TRY();
}

/*
 * Evaluates the transaction's orders now, as its commit would (or SET
 * CONSTRAINTS ALL IMMEDIATE): hold_order, cancel_order, release_hold and
 * ship_order on an order inserted earlier in the same transaction act on the
 * order as placed, with its placed event first.  All of them, in release
 * order, so evaluating early skips no earlier order.  Call inside engine
 * work, before any lock is taken.
 */
void
intake_evaluate_pending(void)
{
	if (!intake_pending())
		return;
	/* the caller's hold or cancel decides whether a split rule may apply: after it */
	split_rules_postpone(true);
	PG_TRY();
	{
		evaluate_dirty_orders_batched(NULL);
	}
	PG_FINALLY();
	{
		split_rules_postpone(false);
	}
	PG_END_TRY();
}

/*
 * backorder.intake() — deferred constraint trigger on orders and order_line.
 * The first event that finds its order dirty evaluates all dirty orders of
 * the transaction (see evaluate_dirty_orders); the rest find theirs clean.
 */
Datum
backorder_intake(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	tupdesc;
	char	   *client_id;
	char	   *order_id;
	DirtyOrder *entry;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.intake: not called by trigger manager");
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "backorder.intake: must be fired AFTER ... FOR EACH ROW");
	if (all_clean || evaluating)
		return PointerGetDatum(NULL);

	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	tupdesc = trigdata->tg_relation->rd_att;
	client_id = SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "client_id"));
	order_id = SPI_getvalue(tuple, tupdesc, SPI_fnumber(tupdesc, "order_id"));

	entry = dirty_entry(client_id, order_id, false);
	if (entry == NULL || !entry->dirty)
		return PointerGetDatum(NULL);

	engine_run(evaluate_dirty_orders_batched, NULL);
	return PointerGetDatum(NULL);
}
