/*
 * queue.c — handing units to waiting lines, and taking them back.
 *
 * Waiting lines of one SKU and location form a queue in release order
 * (priority desc, placed_at, order_id, line_no), kept by the partial index
 * order_line_queue.  The caller holds the stock row's lock, so the queue at
 * that stock row cannot change under us.
 *
 * serve_queue() under `reserve` reads only the head of the queue (at most
 * `available` lines can receive a unit), so a receipt costs what it releases,
 * not the length of the backlog.  Under `complete_only` it walks the queue and
 * grants units only to orders they make complete; orders that also need
 * other stock rows are completed by the completion pass at commit.
 *
 * Both directions decide in C, then write all lines in one statement.  The
 * orders are settled at commit (deferred_settle.c).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "pg_backorder.h"

/* Reserve reads the queue head in batches of at most this many lines. */
#define QUEUE_BATCH 10000

typedef struct Grant
{
	char	   *order_id;
	int32		line_no;
	int32		units;			/* positive: allocate; negative: take back */
} Grant;


/*
 * Applies grants to the lines in one statement and moves stock.allocated.
 * The orders are settled at commit (deferred_settle.c), all in one batch.
 * Waiting stays true while a line is short.
 */
static void
apply_grants(const StockKey *key, Grant *grants, int n)
{
	static SPIPlanPtr plan[2];
	static const Oid types[4] = {TEXTOID, TEXTARRAYOID, INT4ARRAYOID, INT4ARRAYOID};
	char	  **line_orders = palloc(sizeof(char *) * n);
	int32	   *line_nos = palloc(sizeof(int32) * n);
	int32	   *units = palloc(sizeof(int32) * n);
	int64		total = 0;
	int			i;
	Datum		values[4];

	if (n == 0)
		return;

	for (i = 0; i < n; i++)
	{
		line_orders[i] = grants[i].order_id;
		line_nos[i] = grants[i].line_no;
		units[i] = grants[i].units;
		total += grants[i].units;
	}

	values[0] = text_datum(key->client_id);
	values[1] = text_array_datum(line_orders, n);
	values[2] = int4_array_datum(line_nos, n);
	values[3] = int4_array_datum(units, n);
	run_batch_plan(plan, n,
			 "UPDATE backorder.order_line l"
			 "   SET allocated = l.allocated + g.units, waiting = l.allocated + g.units < l.qty"
			 "  FROM unnest($2, $3, $4) AS g(order_id, line_no, units)"
			 " WHERE l.client_id = $1 AND l.order_id = ANY ($2)"
			 "   AND l.order_id = g.order_id AND l.line_no = g.line_no",
			 4, types, values, NULL, 0);
	if (SPI_processed != (uint64) n)
		elog(ERROR, "pg_backorder: %d lines to update, " UINT64_FORMAT " updated",
			 n, SPI_processed);

	stock_apply(key, 0, total);

	/* One note per order, with the units it gained or lost here. */
	for (i = 0; i < n;)
	{
		int64		order_units = 0;
		int			j = i;

		while (j < n && strcmp(grants[j].order_id, grants[i].order_id) == 0)
			order_units += grants[j++].units;
		note_touched(key, grants[i].order_id, order_units);
		i = j;
	}
}

/* Under reserve: the earliest waiting lines get units, whole order or not. */
static int64
serve_reserve(const StockKey *key, int64 available)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	int64		given = 0;

	while (available > 0)
	{
		Datum		values[4];
		int64		batch = Min(available, QUEUE_BATCH);
		Grant	   *grants;
		int			n = 0;
		uint64		rows,
					r;

		stock_key_values(key, values);
		values[3] = Int64GetDatum(batch);
		run_plan(&plan,
				 "SELECT order_id, line_no, qty - allocated FROM backorder.order_line"
				 " WHERE client_id = $1 AND sku = $2 AND location_id = $3 AND waiting"
				 " ORDER BY priority DESC, placed_at, order_id, line_no LIMIT $4",
				 4, types, values, NULL, 0);
		rows = SPI_processed;
		if (rows == 0)
			break;

		grants = palloc(sizeof(Grant) * rows);
		for (r = 0; r < rows && available > 0; r++)
		{
			int64		need = spi_int64(r, 3);
			int64		take = Min(need, available);

			grants[n].order_id = spi_text(r, 1);
			grants[n].line_no = (int32) spi_int64(r, 2);
			grants[n].units = (int32) take;
			n++;
			available -= take;
			given += take;
		}
		apply_grants(key, grants, n);
		if (rows < (uint64) batch)
			break;
	}
	return given;
}

/*
 * Under complete_only an order gets units only if that makes it complete.
 * An order whose short lines all wait at this stock row is completed here
 * and now.  One that also needs other stock rows' free units is not: those
 * rows come before or after ours in key order, and a row taken now stays
 * locked to commit, above rows the transaction may still lock in later
 * statements (B7: a transaction whose movements are in key order deadlocked
 * against another one).  So the walk stops at the first such order (the
 * orders after it must not overtake it) and leaves this stock row to the
 * completion pass, which runs once the transaction's statements are done
 * (at commit, or at the end of the engine operation under SET CONSTRAINTS
 * ... IMMEDIATE), before the touched orders are settled:
 *
 *   - it locks the rows it needs in key order: a row above every row the
 *     transaction holds is waited for (rule 2 holds: nothing higher is
 *     held), a row below is taken only if free at once (SKIP LOCKED);
 *   - then it walks the queue of each pending row, in key order, in
 *     release order, completing orders from the rows it holds.
 *
 * An order whose other row is below and busy is passed over; the holder's
 * own pass serves it if that transaction raised the order's stock too.
 */

/* Stock rows whose queue walk waits for the completion pass. */
static KeyQueue pass_keys;

static void
queue_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		key_queue_reset(&pass_keys);
}

/* A pass run in a subtransaction that aborts is run again at commit. */
static void
queue_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		key_queue_subxact_abort(&pass_keys, mySubid);
}

void
queue_init(void)
{
	RegisterXactCallback(queue_xact_callback, NULL);
	RegisterSubXactCallback(queue_subxact_callback, NULL);
}

bool
completion_pass_pending(void)
{
	return pass_keys.pending != NIL;
}

static void
defer_to_pass(const StockKey *key)
{
	key_queue_add(&pass_keys, key);
	request_completion_pass();
}

/* Reads an order's short lines at other stock rows: (line_no, sku, location_id, need, known). */
static void
other_short_lines(const StockKey *key, const char *order_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];

	values[0] = text_datum(key->client_id);
	values[1] = text_datum(order_id);
	values[2] = text_datum(key->sku);
	values[3] = text_datum(key->location_id);
	run_plan(&plan,
			 "SELECT l.line_no, l.sku, l.location_id, l.qty - l.allocated,"
			 "       s.sku IS NOT NULL AND l.location_id IS NOT NULL"
			 "  FROM backorder.order_line l"
			 "  LEFT JOIN backorder.sku s ON s.client_id = l.client_id AND s.sku = l.sku"
			 " WHERE l.client_id = $1 AND l.order_id = $2 AND l.allocated < l.qty"
			 "   AND (l.sku IS DISTINCT FROM $3 OR l.location_id IS DISTINCT FROM $4)",
			 4, types, values, NULL, 0);
}

/* One row per waiting order at a stock row, in release order: (order_id, line_nos, needs, need). */
static void
queue_by_order(const StockKey *key)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];

	stock_key_values(key, values);
	run_plan(&plan,
			 "SELECT order_id, array_agg(line_no ORDER BY line_no), array_agg(qty - allocated ORDER BY line_no),"
			 "       sum(qty - allocated)"
			 "  FROM backorder.order_line"
			 " WHERE client_id = $1 AND sku = $2 AND location_id = $3 AND waiting"
			 " GROUP BY order_id"
			 " ORDER BY min(priority) DESC, min(placed_at), order_id",
			 3, types, values, NULL, 0);
}

static void
add_grant(Grant **grants, int *n, const char *order_id, int32 line_no, int32 units)
{
	*grants = *n == 0 ? palloc(sizeof(Grant) * 8)
		: (*n % 8 == 0 ? repalloc(*grants, sizeof(Grant) * (*n + 8)) : *grants);
	(*grants)[*n].order_id = (char *) order_id;
	(*grants)[*n].line_no = line_no;
	(*grants)[*n].units = units;
	(*n)++;
}

/* Grants every short line of queue row r its need (all of them wait at one stock row). */
static void
grant_queue_row(SPITupleTable *queue, uint64 r, const char *order_id, Grant **grants, int *n)
{
	Datum	   *ln_d,
			   *nd_d;
	bool		isnull;
	int			count,
				i;

	deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(queue->vals[r], queue->tupdesc, 2, &isnull)),
					  INT4OID, 4, true, TYPALIGN_INT, &ln_d, NULL, &count);
	deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(queue->vals[r], queue->tupdesc, 3, &isnull)),
					  INT4OID, 4, true, TYPALIGN_INT, &nd_d, NULL, &count);
	for (i = 0; i < count; i++)
		add_grant(grants, n, order_id, DatumGetInt32(ln_d[i]), DatumGetInt32(nd_d[i]));
}

static int64
queue_row_need(SPITupleTable *queue, uint64 r)
{
	bool		isnull;

	return DatumGetInt64(SPI_getbinval(queue->vals[r], queue->tupdesc, 4, &isnull));
}

/*
 * In the statement: completes the orders whose short lines all wait here, in
 * release order, up to the first order that needs other rows too.
 */
static int64
serve_complete_only(const StockKey *key, int64 available)
{
	Grant	   *grants = NULL;
	int			n = 0;
	int64		given = 0;
	bool		deferred = false;
	SPITupleTable *queue;
	uint64		queue_len,
				r,
				o;

	queue_by_order(key);
	queue = SPI_tuptable;
	queue_len = SPI_processed;

	for (r = 0; r < queue_len && available > 0 && !deferred; r++)
	{
		char	   *order_id = SPI_getvalue(queue->vals[r], queue->tupdesc, 1);
		int64		need = queue_row_need(queue, r);
		bool		isnull,
					placed = true;

		if (need > available)
			continue;
		other_short_lines(key, order_id);
		for (o = 0; o < SPI_processed; o++)
			placed &= DatumGetBool(SPI_getbinval(SPI_tuptable->vals[o], SPI_tuptable->tupdesc, 5, &isnull));
		if (!placed)
			continue;			/* a line with no place or an unknown SKU: cannot complete */
		if (SPI_processed > 0)
		{
			deferred = true;	/* needs other rows: the pass decides, from here on */
			break;
		}
		grant_queue_row(queue, r, order_id, &grants, &n);
		available -= need;
		given += need;
	}
	apply_grants(key, grants, n);
	/* After the grants: under SET CONSTRAINTS IMMEDIATE the pass may run inside this call. */
	if (deferred)
		defer_to_pass(key);
	return given;
}

/* A stock row the completion pass uses. */
typedef struct PassRow
{
	StockKey	key;
	bool		locked;			/* false: missing, or below our rows and busy */
	int64		available;		/* left after the grants made so far */
	Grant	   *grants;
	int			n_grants;
} PassRow;

static int
pass_row_cmp(const void *a, const void *b)
{
	return stock_key_cmp(&((const PassRow *) a)->key, &((const PassRow *) b)->key);
}

static PassRow *
find_pass_row(PassRow *rows, int n, const char *client_id, char *sku, char *location_id)
{
	PassRow		probe;

	probe.key.client_id = (char *) client_id;
	probe.key.sku = sku;
	probe.key.location_id = location_id;
	return bsearch(&probe, rows, n, sizeof(PassRow), pass_row_cmp);
}

/*
 * Takes a stock row below the transaction's highest one only if that needs
 * no wait.  SKIP LOCKED alone is not enough: when the version our snapshot
 * sees was updated by a transaction that has committed since, PostgreSQL
 * follows the update chain and waits for whoever holds the newest version,
 * SKIP LOCKED or not (heap_lock_updated_tuple).  That wait, below a row we
 * hold, could close a cycle, so it is cut short by a 1 ms lock_timeout in a
 * subtransaction: a row that is not free at once counts as busy.
 */
static bool
try_lock_below(Datum *values, int64 *available)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	int			guc_level = NewGUCNestLevel();
	bool		locked = false;

	(void) set_config_option("lock_timeout", "1", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		run_plan(&plan,
				 "SELECT on_hand - allocated FROM backorder.stock"
				 " WHERE client_id = $1 AND sku = $2 AND location_id = $3 FOR UPDATE SKIP LOCKED",
				 3, types, values, NULL, 1);
		locked = SPI_processed == 1;
		if (locked)
			*available = spi_int64(0, 1);
		SPI_freetuptable(SPI_tuptable);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		if (error->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(error);
		FreeErrorData(error);
		locked = false;			/* it would have waited: busy */
	}
	PG_END_TRY();
	AtEOXact_GUC(true, guc_level);
	return locked;
}

/*
 * Locks a stock row for the pass: waits for it if it is above every row the
 * transaction holds (rule 2), else takes it only if it is free or ours.
 * A missing row is not created: nothing is free there.
 */
static void
lock_pass_row(PassRow *row)
{
	static SPIPlanPtr wait_plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];

	stock_key_values(&row->key, values);
	row->available = 0;
	if (stock_key_above_locked(&row->key))
	{
		run_plan(&wait_plan,
				 "SELECT on_hand - allocated FROM backorder.stock"
				 " WHERE client_id = $1 AND sku = $2 AND location_id = $3 FOR UPDATE",
				 3, types, values, NULL, 1);
		row->locked = SPI_processed == 1;
		if (row->locked)
			row->available = spi_int64(0, 1);
	}
	else
		row->locked = try_lock_below(values, &row->available);
	if (row->locked)
		note_stock_locked(&row->key);
}

/* Appends `key` to the growing array *keys (n used, cap allocated). */
static void
append_key(StockKey **keys, int *n, int *cap, StockKey key)
{
	if (*n == *cap)
	{
		*cap *= 2;
		*keys = repalloc(*keys, sizeof(StockKey) * *cap);
	}
	(*keys)[(*n)++] = key;
}

/*
 * The other stock rows the orders waiting at `key` could be completed from:
 * those of the orders whose need here fits `available`.  Appended to *keys.
 */
static void
collect_other_keys(const StockKey *key, int64 available, StockKey **keys, int *n, int *cap)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		values[4];
	uint64		r;

	stock_key_values(key, values);
	values[3] = Int64GetDatum(available);
	run_plan(&plan,
			 "SELECT DISTINCT o.sku, o.location_id"
			 "  FROM (SELECT order_id FROM backorder.order_line"
			 "         WHERE client_id = $1 AND sku = $2 AND location_id = $3 AND waiting"
			 "         GROUP BY order_id HAVING sum(qty - allocated) <= $4) w"
			 "  JOIN backorder.order_line o ON o.client_id = $1 AND o.order_id = w.order_id"
			 " WHERE o.allocated < o.qty AND o.sku IS NOT NULL AND o.location_id IS NOT NULL"
			 "   AND (o.sku <> $2 OR o.location_id <> $3)",
			 4, types, values, NULL, 0);
	for (r = 0; r < SPI_processed; r++)
	{
		StockKey	other;

		other.client_id = key->client_id;
		other.sku = spi_text(r, 1);
		other.location_id = spi_text(r, 2);
		append_key(keys, n, cap, other);
	}
}

/*
 * The pass's walk of one pending row's queue: in release order, an order is
 * completed if its need here fits and every other short line's row is
 * locked with enough left.
 */
static void
pass_walk(PassRow *rows, int n_rows, PassRow *here)
{
	SPITupleTable *queue;
	uint64		queue_len,
				r,
				o;
	int			i;

	queue_by_order(&here->key);
	queue = SPI_tuptable;
	queue_len = SPI_processed;

	for (r = 0; r < queue_len && here->available > 0; r++)
	{
		char	   *order_id = SPI_getvalue(queue->vals[r], queue->tupdesc, 1);
		int64		need = queue_row_need(queue, r);
		bool		completes = true,
					isnull;
		SPITupleTable *others;
		uint64		n_others,
					n_taken = 0;
		PassRow   **take_row;
		int32	   *take;

		if (need > here->available)
			continue;
		other_short_lines(&here->key, order_id);
		others = SPI_tuptable;
		n_others = SPI_processed;
		take_row = palloc(sizeof(PassRow *) * (n_others + 1));
		take = palloc(sizeof(int32) * (n_others + 1));
		for (o = 0; o < n_others && completes; o++)
		{
			if (!DatumGetBool(SPI_getbinval(others->vals[o], others->tupdesc, 5, &isnull)))
			{
				completes = false;	/* a line with no place or an unknown SKU */
				break;
			}
			take_row[o] = find_pass_row(rows, n_rows, here->key.client_id,
										SPI_getvalue(others->vals[o], others->tupdesc, 2),
										SPI_getvalue(others->vals[o], others->tupdesc, 3));
			if (take_row[o] == NULL || !take_row[o]->locked)
			{
				completes = false;
				break;
			}
			take[o] = DatumGetInt32(SPI_getbinval(others->vals[o], others->tupdesc, 4, &isnull));
			take_row[o]->available -= take[o];	/* tentatively */
			n_taken++;
			if (take_row[o]->available < 0)
				completes = false;
		}
		if (!completes)
		{
			for (o = 0; o < n_taken; o++)
				take_row[o]->available += take[o];
			continue;
		}
		for (o = 0; o < n_others; o++)
			add_grant(&take_row[o]->grants, &take_row[o]->n_grants, order_id,
					  DatumGetInt32(SPI_getbinval(others->vals[o], others->tupdesc, 1, &isnull)),
					  take[o]);
		grant_queue_row(queue, r, order_id, &here->grants, &here->n_grants);
		here->available -= need;
	}

	for (i = 0; i < n_rows; i++)
		if (rows[i].n_grants > 0)
		{
			apply_grants(&rows[i].key, rows[i].grants, rows[i].n_grants);
			rows[i].grants = NULL;
			rows[i].n_grants = 0;
		}
}

/*
 * The completion pass (see above).  The caller runs it in the engine context
 * once the transaction's statements and intake are done.
 */
static void
completion_pass_work(void)
{
	List	   *taken = key_queue_take(&pass_keys);
	int			n_pending = list_length(taken),
				n_keys = 0,
				cap = n_pending * 4 + 4,
				n_rows,
				i;
	StockKey   *pending = palloc(sizeof(StockKey) * (n_pending + 1));
	StockKey   *keys = palloc(sizeof(StockKey) * cap);
	PassRow    *first = palloc0(sizeof(PassRow) * (n_pending + 1));
	PassRow    *rows;
	ListCell   *lc;

	i = 0;
	foreach(lc, taken)
		pending[i++] = *(StockKey *) lfirst(lc);
	n_pending = sort_unique_stock_keys(pending, n_pending);

	/*
	 * The pending rows are normally ours already (their receipt locked them):
	 * lock them by the pass's rule, read what is free, and find the other
	 * rows their completable orders need.
	 */
	for (i = 0; i < n_pending; i++)
	{
		first[i].key = pending[i];
		append_key(&keys, &n_keys, &cap, pending[i]);
		if (client_policy(pending[i].client_id) != POLICY_COMPLETE_ONLY)
			continue;			/* switched to reserve meanwhile: its trigger served the rows */
		lock_pass_row(&first[i]);
		if (first[i].locked && first[i].available > 0)
			collect_other_keys(&pending[i], first[i].available, &keys, &n_keys, &cap);
	}

	/* Every row, in key order: the waits happen here, each above the rows held. */
	n_rows = sort_unique_stock_keys(keys, n_keys);
	rows = palloc0(sizeof(PassRow) * (n_rows + 1));
	for (i = 0; i < n_rows; i++)
	{
		PassRow    *done = find_pass_row(first, n_pending, keys[i].client_id,
										 keys[i].sku, keys[i].location_id);

		if (done != NULL)
			rows[i] = *done;
		else
		{
			rows[i].key = keys[i];
			lock_pass_row(&rows[i]);
		}
	}

	for (i = 0; i < n_pending; i++)
	{
		PassRow    *here = find_pass_row(rows, n_rows, pending[i].client_id,
										 pending[i].sku, pending[i].location_id);

		if (here->locked && here->available > 0)
			pass_walk(rows, n_rows, here);
	}
}

int64
serve_queue(const StockKey *key, AllocationPolicy policy, int64 available)
{
	if (available <= 0)
		return 0;
	if (policy == POLICY_COMPLETE_ONLY)
		return serve_complete_only(key, available);
	return serve_reserve(key, available);
}

/*
 * Takes `deficit` units back from the newest unshipped orders at a stock row
 * (reverse release order).
 */
void
take_back(const StockKey *key, int64 deficit)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		values[4];
	Grant	   *grants;
	int			n = 0;
	uint64		rows,
				r;

	if (deficit <= 0)
		return;
	stock_key_values(key, values);
	values[3] = Int64GetDatum(deficit);
	run_plan(&plan,
			 "SELECT order_id, line_no, allocated FROM backorder.order_line"
			 " WHERE client_id = $1 AND sku = $2 AND location_id = $3 AND allocated > 0"
			 " ORDER BY priority, placed_at DESC, order_id DESC, line_no DESC LIMIT $4",
			 4, types, values, NULL, 0);
	rows = SPI_processed;
	grants = palloc(sizeof(Grant) * (rows > 0 ? rows : 1));
	for (r = 0; r < rows && deficit > 0; r++)
	{
		int64		take = Min(spi_int64(r, 3), deficit);

		grants[n].order_id = spi_text(r, 1);
		grants[n].line_no = (int32) spi_int64(r, 2);
		grants[n].units = (int32) -take;
		n++;
		deficit -= take;
	}
	if (deficit > 0)
		elog(ERROR, "pg_backorder: allocations at %s/%s/%s do not add up to stock.allocated",
			 key->client_id, key->sku, key->location_id);

	apply_grants(key, grants, n);
}

/* The pass is running: a settle fired inside it (SET CONSTRAINTS IMMEDIATE) waits for its end. */
static bool pass_running = false;

bool
completion_pass_running(void)
{
	return pass_running;
}

void
completion_pass(void)
{
	bool		saved = pass_running;

	pass_running = true;
	PG_TRY();
	{
		completion_pass_work();
	}
	PG_FINALLY();
	{
		pass_running = saved;
	}
	PG_END_TRY();
}
