/*
 * guard.c — what apps may write, with errors that say what to do instead.
 *
 * Apps write orders, order lines and ledger rows with plain SQL; the engine
 * owns stock, allocations, statuses, holds and events.  BEFORE triggers on
 * every table tell the two apart by engine_depth (raised only by C code in
 * engine_run), validate app writes with specific SQLSTATEs and errhints, and
 * reject direct writes to engine-maintained columns with 428C9, the SQLSTATE
 * PostgreSQL itself uses for writing a generated column.
 *
 * A line edit that frees allocated units (qty below allocated, another SKU,
 * a deleted line) returns them to stock here, at once, and leaves the stock
 * row for the order's evaluation to serve at commit.
 *
 * Statements that update or delete existing orders or lines first take the
 * edit lock exclusively (guard_statement), and so does a line inserted into an
 * order another transaction placed, and a catalog change the engine follows
 * (a SKU's status or backorderable flag, a client's switch to reserve): the
 * engine paths of other transactions then see all of it or none of it.  Row
 * locks on lines are taken by the UPDATE itself before any row trigger runs,
 * so without this an app edit would lock order rows before stock rows,
 * against rule 1.  Engine paths hold the edit lock shared, so they wait for
 * the editing transaction rather than deadlock with it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/rel.h"

#include "pg_backorder.h"

PG_FUNCTION_INFO_V1(backorder_guard_row);
PG_FUNCTION_INFO_V1(backorder_guard_statement);

/* Columns of each table that only the engine writes. */
static const char *const order_engine_columns[] =
{"status", "held_since", "ready_at", "shipped_at", "cancelled_at", "parent_order_id", "sla_due_at", NULL};
static const char *const line_engine_columns[] =
{"allocated", "shipped", "location_id", "priority", "placed_at", "waiting", NULL};

char *
tuple_text(HeapTuple tuple, TupleDesc tupdesc, const char *column)
{
	int			attnum = SPI_fnumber(tupdesc, column);

	if (attnum <= 0)
		elog(ERROR, "pg_backorder: column \"%s\" not found", column);
	return SPI_getvalue(tuple, tupdesc, attnum);
}

/* Returns false when the column is NULL. */
bool
tuple_int64(HeapTuple tuple, TupleDesc tupdesc, const char *column, int64 *value)
{
	int			attnum = SPI_fnumber(tupdesc, column);
	bool		isnull;
	Datum		d;

	if (attnum <= 0)
		elog(ERROR, "pg_backorder: column \"%s\" not found", column);
	d = SPI_getbinval(tuple, tupdesc, attnum, &isnull);
	if (isnull)
		return false;
	*value = SPI_gettypeid(tupdesc, attnum) == INT8OID ? DatumGetInt64(d) : DatumGetInt32(d);
	return true;
}

static bool
text_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
column_changed(HeapTuple oldtup, HeapTuple newtup, TupleDesc tupdesc, const char *column)
{
	return !text_equal(tuple_text(oldtup, tupdesc, column), tuple_text(newtup, tupdesc, column));
}

static void
reject_engine_column(const char *table, const char *column)
{
	ereport(ERROR,
			(errcode(ERRCODE_GENERATED_ALWAYS),
			 errmsg("column \"%s\" of backorder.%s is maintained by the engine", column, table),
			 errhint("Leave it out of INSERT and UPDATE; change stock through backorder.stock_movement and orders through the backorder functions.")));
}

void
require_client(const char *client_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	Datum		values[1];

	if (client_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("client_id must not be null"),
				 errhint("Name a client from backorder.client.")));
	values[0] = text_datum(client_id);
	run_plan(&plan, "SELECT 1 FROM backorder.client WHERE client_id OPERATOR(pg_catalog.=) $1", 1, types, values, NULL, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("client \"%s\" does not exist", client_id),
				 errhint("Insert it into backorder.client first.")));
}

void
require_location(const char *location_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	Datum		values[1];

	if (location_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("location_id must not be null"),
				 errhint("Name a warehouse from backorder.location.")));
	values[0] = text_datum(location_id);
	run_plan(&plan, "SELECT 1 FROM backorder.location WHERE location_id OPERATOR(pg_catalog.=) $1", 1, types, values, NULL, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("location \"%s\" does not exist", location_id),
				 errhint("Insert it into backorder.location first.")));
}

/* The shop's order id: what the table's CHECK allows, refused first with a hint. */
static void
check_order_id(const char *order_id)
{
	if (order_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("order_id must not be null"),
				 errhint("Give the shop's own order id, 1 to 128 characters.")));
	if (order_id[0] == '\0' || pg_mbstrlen(order_id) > 128)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("order_id \"%s\" is not 1 to 128 characters",
						pnstrdup(order_id, pg_mbcliplen(order_id, strlen(order_id), 80))),
				 errhint("Give the shop's own order id, 1 to 128 characters.")));
}

static void
check_line_qty(HeapTuple tuple, TupleDesc tupdesc)
{
	int64		qty;

	if (!tuple_int64(tuple, tupdesc, "qty", &qty))
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("order line quantity must not be null"),
				 errhint("Give qty as a positive number of units.")));
	if (qty <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("order line quantity must be positive, not " INT64_FORMAT, qty),
				 errhint("Give qty as a positive number of units; delete the line to drop it.")));
	/* Shipping the line is one movement, which moves at most that many. */
	if (qty > BACKORDER_MAX_UNITS)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("order line quantity " INT64_FORMAT " is out of range", qty),
				 errhint("One line orders at most 1000000000 units; split a larger quantity over several lines.")));
}

/* The CHECK on unit_price, first, with a hint. */
static void
check_line_price(HeapTuple tuple, TupleDesc tupdesc)
{
	bool		isnull;
	Datum		price = SPI_getbinval(tuple, tupdesc, SPI_fnumber(tupdesc, "unit_price"), &isnull);

	/* NaN passes the CHECK (it sorts above every number) and would poison value-based rules */
	if (!isnull && (numeric_is_nan(DatumGetNumeric(price)) ||
					DatumGetBool(DirectFunctionCall2(numeric_lt, price,
													 NumericGetDatum(int64_to_numeric(0))))))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("order line unit_price must be a price of 0 or more, not %s",
						DatumGetCString(DirectFunctionCall1(numeric_out, price))),
				 errhint("Give the price of one unit, 0 or more, or NULL when unknown.")));
}

static void
check_line_no(HeapTuple tuple, TupleDesc tupdesc)
{
	int64		line_no = 0;
	bool		present = tuple_int64(tuple, tupdesc, "line_no", &line_no);

	if (!present || line_no < 1)
		ereport(ERROR,
				(errcode(present ? ERRCODE_CHECK_VIOLATION : ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("order line number must be 1 or more"),
				 errhint("Number an order's lines 1, 2, 3...")));
}

/*
 * An order's place in the release queue: priority and placed_at.  Both are
 * NOT NULL in the table; placed_at must also be finite, or ages, SLA and
 * forecasts over it cannot be computed.
 */
static void
check_queue_position(HeapTuple tuple, TupleDesc tupdesc)
{
	bool		isnull;
	Datum		placed_at;
	int64		priority;

	if (!tuple_int64(tuple, tupdesc, "priority", &priority))
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("order priority must not be null"),
				 errhint("Leave priority out for the default 0; higher numbers are served first.")));
	placed_at = SPI_getbinval(tuple, tupdesc, SPI_fnumber(tupdesc, "placed_at"), &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("order placed_at must not be null"),
				 errhint("Leave placed_at out for the current time, or give when the shop took the order.")));
	if (TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(placed_at)))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("order placed_at must be a finite time"),
				 errhint("Give when the shop took the order, not infinity.")));
}

/*
 * ---- work that needs SPI ----
 * Validation of inserts runs through engine_spi() (no search_path pinning:
 * its statements qualify their operators); freeing units uses the engine's
 * shared plans and so runs through engine_run().
 */

typedef struct GuardWork
{
	const char *client_id;
	const char *order_id;
	const char *location_id;	/* orders INSERT: requested location */
	bool		line_write;		/* order_line write: the order must be open */
	bool		order_status_new;	/* out, line_write: the order's status is 'new' */
	bool		order_placed_here;	/* out, line_write: this transaction placed it */
	StockKey	freed_key;		/* order_line edit: units to give back */
	int64		freed;
	bool		copy_queue_position;	/* orders UPDATE: copy priority, placed_at to lines */
} GuardWork;

static void
guard_work(void *arg)
{
	GuardWork  *w = arg;

	if (w->copy_queue_position)
	{
		static SPIPlanPtr plan = NULL;
		static const Oid types[2] = {TEXTOID, TEXTOID};
		Datum		values[2];

		values[0] = text_datum(w->client_id);
		values[1] = text_datum(w->order_id);
		run_plan(&plan,
				 "UPDATE backorder.order_line l SET priority = o.priority, placed_at = o.placed_at"
				 "  FROM backorder.orders o"
				 " WHERE o.client_id = $1 AND o.order_id = $2"
				 "   AND l.client_id = $1 AND l.order_id = $2 AND l.location_id IS NOT NULL",
				 2, types, values, NULL, 0);
		return;
	}

	if (!w->line_write)
	{
		require_client(w->client_id);
		if (w->location_id)
			require_location(w->location_id);
	}
	else
	{
		static SPIPlanPtr plan = NULL;
		static const Oid types[2] = {TEXTOID, TEXTOID};
		Datum		values[2];
		char	   *status;
		bool		isnull;

		values[0] = text_datum(w->client_id ? w->client_id : "");
		values[1] = text_datum(w->order_id ? w->order_id : "");
		/* An order is placed by the transaction that writes its 'placed' event. */
		run_plan(&plan, "SELECT o.status,"
				 "       CASE WHEN o.status OPERATOR(pg_catalog.<>) 'new' THEN"
				 "         (SELECT e.xmin FROM backorder.order_event e"
				 "           WHERE e.client_id OPERATOR(pg_catalog.=) $1 AND e.order_id OPERATOR(pg_catalog.=) $2"
				 "             AND e.event OPERATOR(pg_catalog.=) 'placed' LIMIT 1) END"
				 "  FROM backorder.orders o"
				 " WHERE o.client_id OPERATOR(pg_catalog.=) $1 AND o.order_id OPERATOR(pg_catalog.=) $2",
				 2, types, values, NULL, 1);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("order \"%s\" of client \"%s\" does not exist",
							w->order_id ? w->order_id : "", w->client_id ? w->client_id : ""),
					 errhint("Insert the order into backorder.orders before its lines.")));
		status = spi_text(0, 1);
		w->order_status_new = strcmp(status, "new") == 0;
		w->order_placed_here = w->order_status_new;
		if (!w->order_status_new)
		{
			Datum		placed_xmin = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

			w->order_placed_here = !isnull &&
				TransactionIdIsCurrentTransactionId(DatumGetTransactionId(placed_xmin));
		}
		if (strcmp(status, "shipped") == 0 || strcmp(status, "cancelled") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("order \"%s\" is %s; its lines cannot change", w->order_id, status),
					 errhint("Place a new order instead.")));
	}

	if (w->freed > 0)
	{
		lock_stock_rows(&w->freed_key, 1, NULL, NULL);
		stock_apply(&w->freed_key, 0, -w->freed);
		intake_note_freed(&w->freed_key);
		note_given_back(&w->freed_key, w->order_id, w->freed);
	}
}

static HeapTuple
guard_orders(TriggerData *td)
{
	TupleDesc	tupdesc = td->tg_relation->rd_att;
	HeapTuple	oldtup = td->tg_trigtuple;
	HeapTuple	newtup = td->tg_newtuple;
	GuardWork	w = {0};
	int			i;

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("orders cannot be deleted"),
				 errhint("Cancel the order with backorder.cancel_order(client_id, order_id); its history stays.")));

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		char	   *status = tuple_text(oldtup, tupdesc, "status");

		if (!text_equal(status, "new"))
			reject_engine_column("orders", "status");
		for (i = 1; order_engine_columns[i]; i++)
			if (tuple_text(oldtup, tupdesc, order_engine_columns[i]) != NULL)
				reject_engine_column("orders", order_engine_columns[i]);
		w.client_id = tuple_text(oldtup, tupdesc, "client_id");
		w.order_id = tuple_text(oldtup, tupdesc, "order_id");
		w.location_id = tuple_text(oldtup, tupdesc, "location_id");
		check_order_id(w.order_id);
		check_queue_position(oldtup, tupdesc);
		engine_spi(guard_work, &w);
		intake_mark_dirty(w.client_id, w.order_id, DIRTY_ORDER_INSERT);
		return oldtup;
	}

	/* UPDATE */
	for (i = 0; order_engine_columns[i]; i++)
		if (column_changed(oldtup, newtup, tupdesc, order_engine_columns[i]))
			reject_engine_column("orders", order_engine_columns[i]);
	if (column_changed(oldtup, newtup, tupdesc, "client_id") ||
		column_changed(oldtup, newtup, tupdesc, "order_id"))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("an order's client_id and order_id cannot change"),
				 errhint("Cancel the order and place it again under the new key.")));
	if (column_changed(oldtup, newtup, tupdesc, "location_id") &&
		!text_equal(tuple_text(oldtup, tupdesc, "status"), "new"))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the location of an order that has been evaluated cannot change"),
				 errhint("Cancel the order and place it again at the new location.")));
	if ((column_changed(oldtup, newtup, tupdesc, "priority") ||
		 column_changed(oldtup, newtup, tupdesc, "placed_at")) &&
		(text_equal(tuple_text(oldtup, tupdesc, "status"), "shipped") ||
		 text_equal(tuple_text(oldtup, tupdesc, "status"), "cancelled")))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("order \"%s\" is %s; its priority and placed_at are history",
						tuple_text(oldtup, tupdesc, "order_id"), tuple_text(oldtup, tupdesc, "status")),
				 errhint("Only an open order's place in the queue can change; demand and SLA reports read these values.")));
	check_queue_position(newtup, tupdesc);
	return newtup;
}

/*
 * AFTER UPDATE on orders: a new priority or placed_at moves the order's
 * waiting lines in the queue (they carry copies for the queue index).  It
 * takes effect for units that arrive from now on.
 */
static void
guard_orders_after(TriggerData *td)
{
	TupleDesc	tupdesc = td->tg_relation->rd_att;
	GuardWork	w = {0};

	if (!column_changed(td->tg_trigtuple, td->tg_newtuple, tupdesc, "priority") &&
		!column_changed(td->tg_trigtuple, td->tg_newtuple, tupdesc, "placed_at"))
		return;
	w.client_id = tuple_text(td->tg_newtuple, tupdesc, "client_id");
	w.order_id = tuple_text(td->tg_newtuple, tupdesc, "order_id");
	w.copy_queue_position = true;
	engine_run(guard_work, &w);
}

static HeapTuple
guard_order_line(TriggerData *td)
{
	TupleDesc	tupdesc = td->tg_relation->rd_att;
	HeapTuple	oldtup = td->tg_trigtuple;
	HeapTuple	newtup = td->tg_newtuple;
	GuardWork	w = {0};
	int			i;

	w.line_write = true;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		int64		v;

		check_line_qty(oldtup, tupdesc);
		check_line_price(oldtup, tupdesc);
		check_line_no(oldtup, tupdesc);
		if (tuple_int64(oldtup, tupdesc, "allocated", &v) && v != 0)
			reject_engine_column("order_line", "allocated");
		if (tuple_int64(oldtup, tupdesc, "shipped", &v) && v != 0)
			reject_engine_column("order_line", "shipped");
		for (i = 2; i < 5; i++)
			if (tuple_text(oldtup, tupdesc, line_engine_columns[i]) != NULL)
				reject_engine_column("order_line", line_engine_columns[i]);
		if (text_equal(tuple_text(oldtup, tupdesc, "waiting"), "t"))
			reject_engine_column("order_line", "waiting");
		w.client_id = tuple_text(oldtup, tupdesc, "client_id");
		w.order_id = tuple_text(oldtup, tupdesc, "order_id");
		/* An order this transaction inserted (and read back) exists and is open: no lookup needed. */
		if (w.client_id == NULL || w.order_id == NULL ||
			!intake_order_is_new(w.client_id, w.order_id))
		{
			engine_spi(guard_work, &w);
			if (!w.order_placed_here)
			{
				/*
				 * A line for an order placed before this transaction edits
				 * it while others may ship, cancel or split it: take the
				 * edit lock exclusively like UPDATE and DELETE do, then read
				 * its status again (it may have closed while we waited).
				 * Also for a line number the order has (a re-delivery that
				 * ON CONFLICT will skip): that line may be being deleted.
				 */
				edit_lock_exclusive();
				engine_spi(guard_work, &w);
			}
			intake_order_status_seen(w.client_id, w.order_id, w.order_status_new);
		}
		intake_mark_dirty(w.client_id, w.order_id, DIRTY_LINE_INSERT);
		return oldtup;
	}

	w.client_id = tuple_text(oldtup, tupdesc, "client_id");
	w.order_id = tuple_text(oldtup, tupdesc, "order_id");

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		if (tuple_int64(oldtup, tupdesc, "allocated", &w.freed) && w.freed > 0)
		{
			w.freed_key.client_id = (char *) w.client_id;
			w.freed_key.sku = tuple_text(oldtup, tupdesc, "sku");
			w.freed_key.location_id = tuple_text(oldtup, tupdesc, "location_id");
		}
		engine_run(guard_work, &w);
		intake_mark_dirty(w.client_id, w.order_id, DIRTY_EDIT);
		return oldtup;
	}

	/* UPDATE */
	for (i = 0; line_engine_columns[i]; i++)
		if (column_changed(oldtup, newtup, tupdesc, line_engine_columns[i]))
			reject_engine_column("order_line", line_engine_columns[i]);
	if (column_changed(oldtup, newtup, tupdesc, "client_id") ||
		column_changed(oldtup, newtup, tupdesc, "order_id") ||
		column_changed(oldtup, newtup, tupdesc, "line_no"))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("an order line's client_id, order_id and line_no cannot change"),
				 errhint("Delete the line and insert a new one.")));
	check_line_qty(newtup, tupdesc);
	check_line_price(newtup, tupdesc);

	if (column_changed(oldtup, newtup, tupdesc, "qty") ||
		column_changed(oldtup, newtup, tupdesc, "sku"))
	{
		int64		old_alloc = 0,
					new_qty = 0,
					new_alloc;
		bool		sku_changed = column_changed(oldtup, newtup, tupdesc, "sku");
		int			cols[2];
		Datum		vals[2];
		bool		nulls[2] = {false, false};

		tuple_int64(oldtup, tupdesc, "allocated", &old_alloc);
		tuple_int64(newtup, tupdesc, "qty", &new_qty);
		new_alloc = sku_changed ? 0 : Min(old_alloc, new_qty);
		w.freed = old_alloc - new_alloc;
		if (w.freed > 0)
		{
			w.freed_key.client_id = (char *) w.client_id;
			w.freed_key.sku = tuple_text(oldtup, tupdesc, "sku");
			w.freed_key.location_id = tuple_text(oldtup, tupdesc, "location_id");
		}
		engine_run(guard_work, &w);
		intake_mark_dirty(w.client_id, w.order_id, DIRTY_EDIT);

		/* The evaluation at commit sets waiting again. */
		cols[0] = SPI_fnumber(tupdesc, "allocated");
		vals[0] = Int32GetDatum((int32) new_alloc);
		cols[1] = SPI_fnumber(tupdesc, "waiting");
		vals[1] = BoolGetDatum(false);
		return heap_modify_tuple_by_cols(newtup, tupdesc, 2, cols, vals, nulls);
	}
	return newtup;
}

/*
 * backorder.guard_row() — BEFORE INSERT/UPDATE/DELETE on the engine's tables,
 * and AFTER UPDATE on orders (queue position copies).
 */
Datum
backorder_guard_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *table;
	HeapTuple	result;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.guard_row: not called by trigger manager");
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "backorder.guard_row: must be fired FOR EACH ROW");

	table = RelationGetRelationName(td->tg_relation);
	result = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;

	if (strcmp(table, "stock_movement") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the stock ledger is insert-only"),
				 errhint("Insert a correcting movement (kind adjustment or count) instead.")));

	if (engine_depth > 0)
		return PointerGetDatum(result);

	if (TRIGGER_FIRED_AFTER(td->tg_event))
	{
		if (strcmp(table, "orders") == 0 && TRIGGER_FIRED_BY_UPDATE(td->tg_event))
			guard_orders_after(td);
		return PointerGetDatum(NULL);
	}

	if (strcmp(table, "orders") == 0)
		return PointerGetDatum(guard_orders(td));
	if (strcmp(table, "order_line") == 0)
		return PointerGetDatum(guard_order_line(td));

	if (strncmp(table, "demand_summary", strlen("demand_summary")) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_GENERATED_ALWAYS),
				 errmsg("backorder.%s is maintained by the engine", table),
				 errhint("It follows backorder.order_line by itself; backorder.rebuild_demand_summary() recomputes it and backorder.set_demand_time_zone() changes its zone.")));

	/* stock, order_hold, order_event: engine only */
	ereport(ERROR,
			(errcode(ERRCODE_GENERATED_ALWAYS),
			 errmsg("backorder.%s is maintained by the engine", table),
			 errhint("Change stock by inserting into backorder.stock_movement (or backorder.receive, adjust, count_stock); change holds with backorder.hold_order and release_hold.")));
	return PointerGetDatum(NULL);	/* keep compiler quiet */
}

/*
 * backorder.guard_statement() — BEFORE statement triggers: takes the edit lock
 * for app statements that edit existing orders or the catalog settings the
 * engine follows; refuses TRUNCATE of the ledger, stock and orders.
 */
Datum
backorder_guard_statement(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.guard_statement: not called by trigger manager");
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		const char *table = RelationGetRelationName(td->tg_relation);
		const char *why = strcmp(table, "stock") == 0 ?
			"Stock rows are the sums of the ledger, which is insert-only" :
			strcmp(table, "orders") == 0 ? "Orders are cancelled, never removed" :
			"The ledger is insert-only";

		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("backorder.%s cannot be truncated", table),
				 errhint("%s; DROP EXTENSION removes all of pg_backorder's data.", why)));
	}
	if (engine_depth == 0)
		edit_lock_exclusive();
	/* Also a BEFORE UPDATE row trigger (catalog changes the engine follows): the row goes on. */
	if (TRIGGER_FIRED_FOR_ROW(td->tg_event))
		return PointerGetDatum(td->tg_newtuple);
	return PointerGetDatum(NULL);
}
