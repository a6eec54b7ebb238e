/*
 * inbound.c — receive_inbound and receive_inbounds: purchase orders and ASNs
 * arriving at the dock.
 *
 * Receiving an inbound row is a receipt in the ledger with the inbound's
 * quantity and reference, and the inbound row closed (received_at).  A dock
 * receives a truck's rows at once: receive_inbounds does that in a fixed
 * number of statements for any number of rows.  Their stock rows are locked
 * (key order, rule 2), then the inbound rows (id order), then the receipts
 * are written in key order, so each ledger row serves its queue under a lock
 * the call already holds and no other row is locked before a stock row.
 * All or nothing: a row that does not exist, or was already received,
 * refuses the whole call.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"

#include "pg_backorder.h"

PG_FUNCTION_INFO_V1(backorder_receive_inbound);
PG_FUNCTION_INFO_V1(backorder_receive_inbounds);

/* How many inbound ids an error's detail names. */
#define INBOUND_IDS_LISTED 10

typedef struct ReceiveOp
{
	int64	   *ids;			/* sorted, unique */
	int			n;
	bool		single;			/* receive_inbound: no detail about "the others" */
	int			received;		/* out */
	int64		movement_id;	/* out, single only */
} ReceiveOp;

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * Raises for the rows of op->ids flagged in `bad` (n_bad of them): unknown
 * ones (P0002) or ones already received (55000), naming the first.
 */
static void
refuse(ReceiveOp *op, bool unknown, bool *bad, int n_bad)
{
	StringInfoData list;
	const char *what = unknown ? (n_bad == 1 ? "does not exist" : "do not exist")
		: (n_bad == 1 ? "was already received" : "were already received");
	int			first = -1,
				listed = 0,
				i;

	initStringInfo(&list);
	for (i = 0; i < op->n; i++)
		if (bad[i])
		{
			if (first < 0)
				first = i;
			if (listed++ < INBOUND_IDS_LISTED)
				appendStringInfo(&list, "%s" INT64_FORMAT, listed > 1 ? ", " : "", op->ids[i]);
		}
	ereport(ERROR,
			(errcode(unknown ? ERRCODE_NO_DATA_FOUND : ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("inbound " INT64_FORMAT " %s", op->ids[first],
					unknown ? "does not exist" : "was already received"),
			 op->single ? 0 : errdetail("%d of the %d inbound rows %s: %s%s; nothing was received.",
										n_bad, op->n, what, list.data,
										n_bad > INBOUND_IDS_LISTED ? ", ..." : ""),
			 unknown ? errhint("Check backorder.inbound.")
			 : errhint("%sRecord extra units with backorder.receive().",
					   op->single ? "" : "Receive the others without them.  ")));
}

/*
 * Reads the inbound rows of op->ids (FOR UPDATE when `lock`), refuses the
 * call if one is missing or received, and returns their stock keys, one per
 * row in id order.
 */
static StockKey *
read_inbound_rows(ReceiveOp *op, bool lock)
{
	static SPIPlanPtr read_plan[2];
	static SPIPlanPtr lock_plan[2];
	static const Oid types[1] = {INT8ARRAYOID};
	Datum		values[1];
	bool	   *missing = palloc0(sizeof(bool) * op->n);
	bool	   *received = palloc0(sizeof(bool) * op->n);
	StockKey   *keys = palloc(sizeof(StockKey) * op->n);
	int			n_missing,
				n_received = 0,
				i;
	uint64		r;

	values[0] = int8_array_datum(op->ids, op->n);
	if (lock)
		run_batch_plan(lock_plan, op->n,
					   "SELECT inbound_id, client_id, sku, location_id, received_at IS NOT NULL"
					   "  FROM backorder.inbound WHERE inbound_id = ANY ($1)"
					   " ORDER BY inbound_id FOR UPDATE",
					   1, types, values, NULL, 0);
	else
		run_batch_plan(read_plan, op->n,
					   "SELECT inbound_id, client_id, sku, location_id, received_at IS NOT NULL"
					   "  FROM backorder.inbound WHERE inbound_id = ANY ($1)"
					   " ORDER BY inbound_id",
					   1, types, values, NULL, 0);

	/* Rows come back in id order, like op->ids: walk both. */
	n_missing = op->n - (int) SPI_processed;
	for (i = 0, r = 0; i < op->n; i++)
	{
		if (r < SPI_processed && spi_int64(r, 1) == op->ids[i])
		{
			received[i] = spi_bool(r, 5);
			n_received += received[i];
			keys[i].client_id = spi_text(r, 2);
			keys[i].sku = spi_text(r, 3);
			keys[i].location_id = spi_text(r, 4);
			r++;
		}
		else
			missing[i] = true;
	}
	if (n_missing > 0)
		refuse(op, true, missing, n_missing);
	if (n_received > 0)
		refuse(op, false, received, n_received);
	return keys;
}

/*
 * Stock rows before inbound rows, as every movement locks its stock row
 * first: the rows are read to learn their stock keys, those are locked (key
 * order), then the inbound rows (id order), which are checked again.  An
 * inbound row moved to another SKU or warehouse in between is a race the
 * caller retries.
 */
static void
receive_work(void *arg)
{
	static SPIPlanPtr receive_plan[2];
	static const Oid types[1] = {INT8ARRAYOID};
	ReceiveOp  *op = arg;
	Datum		values[1];
	StockKey   *keys,
			   *locked;
	int			n_keys,
				i;

	if (op->n == 0)
		return;					/* engine_run has checked the isolation level */
	keys = read_inbound_rows(op, false);
	locked = palloc(sizeof(StockKey) * op->n);
	memcpy(locked, keys, sizeof(StockKey) * op->n);
	n_keys = sort_unique_stock_keys(locked, op->n);
	lock_stock_rows(locked, n_keys, NULL, NULL);

	keys = read_inbound_rows(op, true);
	for (i = 0; i < op->n; i++)
		if (!bsearch(&keys[i], locked, n_keys, sizeof(StockKey), stock_key_cmp))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("inbound " INT64_FORMAT " moved to another SKU or warehouse while it was being received",
							op->ids[i]),
					 errhint("Retry the call.")));

	/*
	 * What backorder.receive() inserts, one receipt per row, in the stock
	 * rows' key order (byte order, as locked above), then by inbound id.
	 */
	values[0] = int8_array_datum(op->ids, op->n);
	run_batch_plan(receive_plan, op->n,
				   "WITH i AS (UPDATE backorder.inbound SET received_at = backorder.now()"
				   "            WHERE inbound_id = ANY ($1) RETURNING *)"
				   "INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta, reference)"
				   "SELECT i.client_id, i.sku, i.location_id, 'receipt', i.qty, 0,"
				   "       coalesce(i.reference, 'inbound ' || i.inbound_id) FROM i"
				   " ORDER BY i.client_id COLLATE \"C\", i.sku COLLATE \"C\", i.location_id COLLATE \"C\","
				   "          i.inbound_id"
				   " RETURNING movement_id",
				   1, types, values, NULL, 0);
	if (SPI_processed != (uint64) op->n)
		elog(ERROR, "pg_backorder: %d inbound rows to receive, " UINT64_FORMAT " received",
			 op->n, SPI_processed);
	op->received = op->n;
	if (op->single)
		op->movement_id = spi_int64(0, 1);
}

/*
 * backorder.receive_inbound(inbound_id) returns the ledger row id
 */
Datum
backorder_receive_inbound(PG_FUNCTION_ARGS)
{
	ReceiveOp	op = {0};
	int64		id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("inbound_id must not be null"),
				 errhint("Pass an inbound_id from backorder.inbound.")));
	id = PG_GETARG_INT64(0);
	op.ids = &id;
	op.n = 1;
	op.single = true;
	engine_run(receive_work, &op);
	PG_RETURN_INT64(op.movement_id);
}

/*
 * backorder.receive_inbounds(inbound_ids bigint[]) returns integer: receives
 * several inbound rows in one call (the rows received).
 */
Datum
backorder_receive_inbounds(PG_FUNCTION_ARGS)
{
	ReceiveOp	op = {0};
	Datum	   *elems;
	int			n,
				i;

	elems = array_arg(fcinfo, 0, INT8OID, "inbound_ids", "inbound ids", "ARRAY[17, 18]",
					  "Pass the inbound_id of each row to receive.", &n);
	op.ids = palloc(sizeof(int64) * (n + 1));
	for (i = 0; i < n; i++)
		op.ids[i] = DatumGetInt64(elems[i]);
	/* Each row once; the order of the array does not matter (locks follow the locking rule). */
	if (n > 1)
		qsort(op.ids, n, sizeof(int64), int64_cmp);
	for (i = 0; i < n; i++)
		if (op.n == 0 || op.ids[op.n - 1] != op.ids[i])
			op.ids[op.n++] = op.ids[i];
	engine_run(receive_work, &op);
	PG_RETURN_INT32(op.received);
}
