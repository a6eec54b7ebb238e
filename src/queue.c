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
	static SPIPlanPtr plan = NULL;
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
	run_plan(&plan,
			 "UPDATE backorder.order_line l"
			 "   SET allocated = l.allocated + g.units, waiting = l.allocated + g.units < l.qty"
			 "  FROM unnest($2, $3, $4) AS g(order_id, line_no, units)"
			 " WHERE l.client_id = $1 AND l.order_id = g.order_id AND l.line_no = g.line_no",
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
 * Under complete_only: walk the queue in release order and grant an order
 * its units here only if that makes the whole order allocated.
 */
static int64
serve_complete_only(const StockKey *key, int64 available)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	Grant	   *grants;
	int			n = 0;
	int64		given = 0;
	uint64		rows,
				r;

	key_values(key, values);
	/*
	 * One row per waiting order at this stock row: its lines here, the units
	 * they need, and whether everything else in the order is allocated.
	 */
	run_plan(&plan,
			 "SELECT w.order_id, w.line_nos, w.needs, w.need,"
			 "       NOT EXISTS (SELECT 1 FROM backorder.order_line o"
			 "                    LEFT JOIN backorder.sku s ON s.client_id = o.client_id AND s.sku = o.sku"
			 "                   WHERE o.client_id = $1 AND o.order_id = w.order_id"
			 "                     AND (s.sku IS NULL OR o.location_id IS NULL"
			 "                          OR (o.allocated < o.qty"
			 "                              AND NOT (o.sku = $2 AND o.location_id = $3))))"
			 "  FROM (SELECT order_id, min(priority) AS priority, min(placed_at) AS placed_at,"
			 "               array_agg(line_no ORDER BY line_no) AS line_nos,"
			 "               array_agg(qty - allocated ORDER BY line_no) AS needs,"
			 "               sum(qty - allocated) AS need"
			 "          FROM backorder.order_line"
			 "         WHERE client_id = $1 AND sku = $2 AND location_id = $3 AND waiting"
			 "         GROUP BY order_id) w"
			 " ORDER BY w.priority DESC, w.placed_at, w.order_id",
			 3, types, values, NULL, 0);
	rows = SPI_processed;
	grants = palloc(sizeof(Grant) * (rows > 0 ? rows * 4 : 1));
	for (r = 0; r < rows && available > 0; r++)
	{
		int64		need = spi_int64(r, 4);
		bool		rest_complete = spi_bool(r, 5);
		bool		isnull;
		ArrayType  *line_nos;
		ArrayType  *needs;
		Datum	   *ln_d,
				   *nd_d;
		int			count,
					i;

		if (!rest_complete || need > available)
			continue;
		line_nos = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));
		needs = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3, &isnull));
		deconstruct_array(line_nos, INT4OID, 4, true, TYPALIGN_INT, &ln_d, NULL, &count);
		deconstruct_array(needs, INT4OID, 4, true, TYPALIGN_INT, &nd_d, NULL, &count);
		if (n + count > (int) rows * 4)
			grants = repalloc(grants, sizeof(Grant) * (n + count) * 2);
		for (i = 0; i < count; i++)
		{
			grants[n].order_id = spi_text(r, 1);
			grants[n].line_no = DatumGetInt32(ln_d[i]);
			grants[n].units = DatumGetInt32(nd_d[i]);
			n++;
		}
		available -= need;
		given += need;
	}
	apply_grants(key, grants, n);
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
