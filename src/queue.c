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
 * grants units only to orders they make complete.
 *
 * Both directions decide in C, then write all lines in one statement.  The
 * orders are settled at commit (deferred_settle.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "pg_backorder.h"

/* Reserve reads the queue head in batches of at most this many lines. */
#define QUEUE_BATCH 10000

typedef struct Grant
{
	char	   *order_id;
	int32		line_no;
	int32		units;			/* positive: allocate; negative: take back */
} Grant;


static void
key_values(const StockKey *key, Datum *values)
{
	values[0] = text_datum(key->client_id);
	values[1] = text_datum(key->sku);
	values[2] = text_datum(key->location_id);
}

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

		key_values(key, values);
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
 * Under complete_only an order gets units only if that makes it complete,
 * and completing it may take units from other stock rows where its other
 * lines wait.  Those rows come after or before ours in key order, so they are
 * taken only if free at once (SKIP LOCKED): waiting for them out of key order
 * could deadlock.  An order whose other row is busy is passed over now; the
 * transaction holding that row serves it.
 */
typedef struct OtherRow
{
	StockKey	key;
	bool		locked;			/* false: busy elsewhere, do not use */
	int64		available;		/* left after the grants made so far */
	Grant	   *grants;
	int			n_grants;
} OtherRow;

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

/*
 * Finds or adds an other stock row, trying its lock without waiting.  Returns
 * its index: adding a row may repalloc the array, so callers keep indexes,
 * never pointers into it.
 */
static int
other_row(OtherRow **rows, int *n, int *cap, const char *client_id, char *sku, char *location_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	SPITupleTable *saved = SPI_tuptable;
	uint64		saved_processed = SPI_processed;
	OtherRow   *row;
	int			i;

	for (i = 0; i < *n; i++)
		if (strcmp((*rows)[i].key.sku, sku) == 0 && strcmp((*rows)[i].key.location_id, location_id) == 0)
			return i;
	if (*n == *cap)
	{
		*cap *= 2;
		*rows = repalloc(*rows, sizeof(OtherRow) * *cap);
	}
	row = &(*rows)[(*n)++];
	memset(row, 0, sizeof(OtherRow));
	row->key.client_id = (char *) client_id;
	row->key.sku = sku;
	row->key.location_id = location_id;
	values[0] = text_datum(client_id);
	values[1] = text_datum(sku);
	values[2] = text_datum(location_id);
	run_plan(&plan,
			 "SELECT on_hand - allocated FROM backorder.stock"
			 " WHERE client_id = $1 AND sku = $2 AND location_id = $3 FOR UPDATE SKIP LOCKED",
			 3, types, values, NULL, 1);
	row->locked = SPI_processed == 1;
	row->available = row->locked ? spi_int64(0, 1) : 0;
	SPI_tuptable = saved;		/* the caller is still reading its own result */
	SPI_processed = saved_processed;
	return *n - 1;
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

static int64
serve_complete_only(const StockKey *key, int64 available)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	Grant	   *grants = NULL;
	int			n = 0;
	int64		given = 0;
	int			cap = 4,
				n_rows = 0,
				i;
	OtherRow   *rows = palloc(sizeof(OtherRow) * cap);
	SPITupleTable *queue;
	uint64		queue_len,
				r;

	key_values(key, values);
	/* One row per waiting order at this stock row, in release order. */
	run_plan(&plan,
			 "SELECT order_id, array_agg(line_no ORDER BY line_no), array_agg(qty - allocated ORDER BY line_no),"
			 "       sum(qty - allocated)"
			 "  FROM backorder.order_line"
			 " WHERE client_id = $1 AND sku = $2 AND location_id = $3 AND waiting"
			 " GROUP BY order_id"
			 " ORDER BY min(priority) DESC, min(placed_at), order_id",
			 3, types, values, NULL, 0);
	queue = SPI_tuptable;
	queue_len = SPI_processed;

	for (r = 0; r < queue_len && available > 0; r++)
	{
		char	   *order_id = SPI_getvalue(queue->vals[r], queue->tupdesc, 1);
		bool		isnull;
		int64		need = DatumGetInt64(SPI_getbinval(queue->vals[r], queue->tupdesc, 4, &isnull));
		bool		completes = need <= available;
		Datum	   *ln_d,
				   *nd_d;
		int			count;
		uint64		o;
		int64	   *take;
		int		   *take_row;		/* indexes into rows */

		if (!completes)
			continue;

		/* Can the order's other short lines be filled from free stock now? */
		other_short_lines(key, order_id);
		take = palloc(sizeof(int64) * (SPI_processed + 1));
		take_row = palloc(sizeof(int) * (SPI_processed + 1));
		{
			SPITupleTable *others = SPI_tuptable;
			uint64		n_others = SPI_processed;

			uint64		n_taken = 0;

			for (o = 0; o < n_others && completes; o++)
			{
				OtherRow   *row;

				if (!DatumGetBool(SPI_getbinval(others->vals[o], others->tupdesc, 5, &isnull)))
				{
					completes = false;	/* a line with no place or an unknown SKU */
					break;
				}
				take_row[o] = other_row(&rows, &n_rows, &cap, key->client_id,
										SPI_getvalue(others->vals[o], others->tupdesc, 2),
										SPI_getvalue(others->vals[o], others->tupdesc, 3));
				row = &rows[take_row[o]];
				take[o] = DatumGetInt32(SPI_getbinval(others->vals[o], others->tupdesc, 4, &isnull));
				row->available -= take[o];	/* tentatively */
				n_taken++;
				if (!row->locked || row->available < 0)
					completes = false;
			}
			if (!completes)
			{
				for (o = 0; o < n_taken; o++)
					rows[take_row[o]].available += take[o];
				continue;
			}
			for (o = 0; o < n_others; o++)
				add_grant(&rows[take_row[o]].grants, &rows[take_row[o]].n_grants, order_id,
						  DatumGetInt32(SPI_getbinval(others->vals[o], others->tupdesc, 1, &isnull)),
						  (int32) take[o]);
		}

		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(queue->vals[r], queue->tupdesc, 2, &isnull)),
						  INT4OID, 4, true, TYPALIGN_INT, &ln_d, NULL, &count);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(queue->vals[r], queue->tupdesc, 3, &isnull)),
						  INT4OID, 4, true, TYPALIGN_INT, &nd_d, NULL, &count);
		for (i = 0; i < count; i++)
			add_grant(&grants, &n, order_id, DatumGetInt32(ln_d[i]), DatumGetInt32(nd_d[i]));
		available -= need;
		given += need;
	}

	apply_grants(key, grants, n);
	for (i = 0; i < n_rows; i++)
		apply_grants(&rows[i].key, rows[i].grants, rows[i].n_grants);
	return given;
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
	key_values(key, values);
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
