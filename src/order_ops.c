/*
 * order_ops.c — ship_order and ship_orders, cancel_order, hold_order, release_hold.
 *
 * Each operation reads the order's lines without locks to learn which stock
 * rows it touches, locks those stock rows in key order, then the order row,
 * and only then re-reads the status it decides on (rules 1 to 3).
 * Repeating a finished operation is a no-op that returns false, so a retried
 * request (or two sessions doing the same thing) cannot ship or cancel twice.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "pg_backorder.h"

PG_FUNCTION_INFO_V1(backorder_ship_order);
PG_FUNCTION_INFO_V1(backorder_ship_orders);
PG_FUNCTION_INFO_V1(backorder_cancel_order);
PG_FUNCTION_INFO_V1(backorder_hold_order);
PG_FUNCTION_INFO_V1(backorder_release_hold);

typedef struct OrderOp
{
	char	   *client_id;
	char	   *order_id;
	char	   *reason;
	char	   *note;
	bool		result;
} OrderOp;

static const Oid order_types[2] = {TEXTOID, TEXTOID};

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

/*
 * The hold reason.  Leaving it out gives 'manual' (the SQL default); an
 * explicit NULL is refused like every other NULL argument.
 */
static char *
arg_reason(FunctionCallInfo fcinfo, int n)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("hold reason must not be null"),
				 errhint("Leave the reason out for a manual hold, or name one such as fraud_review.")));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static void
order_values(OrderOp *op, Datum *values)
{
	values[0] = text_datum(op->client_id);
	values[1] = text_datum(op->order_id);
}

static void
no_such_order(OrderOp *op)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("order \"%s\" of client \"%s\" does not exist", op->order_id, op->client_id),
			 errhint("Check the client_id and order_id in backorder.orders.")));
}

/*
 * Locks the stock rows of the placed lines of n orders of one client, in key
 * order (rules 1 and 2), and returns them.
 */
static StockKey *
lock_stock_of_orders(const char *client_id, char **order_ids, int n, int *n_keys)
{
	static SPIPlanPtr plan[2];
	static const Oid types[2] = {TEXTOID, TEXTARRAYOID};
	Datum		values[2];
	StockKey   *keys;
	int			k,
				i;

	values[0] = text_datum(client_id);
	values[1] = text_array_datum(order_ids, n);
	run_batch_plan(plan, n,
				   "SELECT DISTINCT sku, location_id FROM backorder.order_line"
				   " WHERE client_id = $1 AND order_id = ANY ($2) AND location_id IS NOT NULL AND sku IS NOT NULL",
				   2, types, values, NULL, 0);
	k = (int) SPI_processed;
	keys = palloc(sizeof(StockKey) * (k + 1));
	for (i = 0; i < k; i++)
	{
		keys[i].client_id = (char *) client_id;
		keys[i].sku = spi_text(i, 1);
		keys[i].location_id = spi_text(i, 2);
	}
	k = sort_unique_stock_keys(keys, k);
	lock_stock_rows(keys, k, NULL, NULL);
	*n_keys = k;
	return keys;
}

/*
 * Locks the stock rows of the order's placed lines (key order), then the
 * order row, and settles it; returns its status.  Every operation on one
 * order holds all of that order's stock rows, so no transaction that touched
 * the order's lines can be waiting to settle it meanwhile.
 */
static char *
lock_order_and_stock(OrderOp *op, StockKey **keys_out, int *n_out)
{
	static SPIPlanPtr lock_plan = NULL;
	static const char *lock_sql =
		"SELECT status FROM backorder.orders WHERE client_id = $1 AND order_id = $2 FOR NO KEY UPDATE";
	Datum		values[2];
	StockKey   *keys;
	int			n;

	keys = lock_stock_of_orders(op->client_id, &op->order_id, 1, &n);
	order_values(op, values);
	run_plan(&lock_plan, lock_sql, 2, order_types, values, NULL, 1);
	if (SPI_processed == 0)
		no_such_order(op);
	if (strcmp(spi_text(0, 1), "ready") == 0 || strcmp(spi_text(0, 1), "needs_review") == 0)
	{
		/* Stock may have moved earlier in this transaction: decide on the settled state. */
		settle_now(op->client_id, op->order_id);
		run_plan(&lock_plan, lock_sql, 2, order_types, values, NULL, 1);
	}
	if (keys_out)
	{
		*keys_out = keys;
		*n_out = n;
	}
	return spi_text(0, 1);
}

/* ---- ship_order, ship_orders ---- */

/* How many order ids a wave's NOTICE or error names. */
#define WAVE_NAMES_LISTED 10

typedef struct ShipOp
{
	char	   *client_id;
	char	  **order_ids;		/* sorted, unique */
	int			n;
	bool		single;			/* ship_order: its own NOTICE and error, no wave detail */
	int			shipped;		/* out */
} ShipOp;

/*
 * Locks the stock rows of the orders' placed lines (key order), then the
 * order rows (release order), settles the open ones, and returns each
 * order's status, in op->order_ids order.  The batch form of
 * lock_order_and_stock: a fixed number of statements for any number of
 * orders.
 */
static char **
lock_orders_for_shipping(ShipOp *op)
{
	static SPIPlanPtr lock_plan[2];
	static const Oid types[2] = {TEXTOID, TEXTARRAYOID};
	static const char *lock_sql =
		"SELECT order_id, status FROM backorder.orders WHERE client_id = $1 AND order_id = ANY ($2)"
		" ORDER BY priority DESC, placed_at, order_id FOR NO KEY UPDATE";
	char	  **statuses = palloc0(sizeof(char *) * op->n);
	char	  **open_clients = palloc(sizeof(char *) * op->n);
	char	  **open_orders = palloc(sizeof(char *) * op->n);
	int			n_open = 0;
	Datum		values[2];
	uint64		r;
	int			n_keys,
				pass,
				i;

	(void) lock_stock_of_orders(op->client_id, op->order_ids, op->n, &n_keys);
	values[0] = text_datum(op->client_id);
	values[1] = text_array_datum(op->order_ids, op->n);

	/* Lock; settle those that may have changed in this transaction; read the settled status. */
	for (pass = 0; pass < 2; pass++)
	{
		run_batch_plan(lock_plan, op->n, lock_sql, 2, types, values, NULL, 0);
		for (r = 0; r < SPI_processed; r++)
		{
			char	   *order_id = spi_text(r, 1);
			char	  **found = bsearch(&order_id, op->order_ids, op->n, sizeof(char *), pg_qsort_strcmp);

			statuses[found - op->order_ids] = spi_text(r, 2);
		}
		for (i = 0; i < op->n; i++)
			if (statuses[i] == NULL)
			{
				OrderOp		missing = {0};

				missing.client_id = op->client_id;
				missing.order_id = op->order_ids[i];
				no_such_order(&missing);
			}
		if (pass == 1)
			break;
		for (i = 0; i < op->n; i++)
			if (strcmp(statuses[i], "ready") == 0 || strcmp(statuses[i], "needs_review") == 0)
			{
				open_clients[n_open] = op->client_id;
				open_orders[n_open++] = op->order_ids[i];
			}
		if (n_open == 0)
			break;
		/* Stock may have moved earlier in this transaction: decide on the settled state. */
		settle_now_many(n_open, open_clients, open_orders);
	}
	return statuses;
}

/*
 * Ships the ready orders among op's: one shipment row per line (by order,
 * then line), their deltas applied to the locked stock rows once per row,
 * lines and orders marked shipped, one event per order.  An order already
 * shipped is skipped; any other order that is not ready refuses the whole
 * call, so it ships all or nothing.
 */
static void
ship_work(void *arg)
{
	static SPIPlanPtr move_plan[2];
	static SPIPlanPtr done_plan[2];
	static const Oid types[2] = {TEXTOID, TEXTARRAYOID};
	ShipOp	   *op = arg;
	char	  **statuses;
	char	  **ready;
	int			n_ready = 0,
				n_shipped = 0,
				n_refused = 0,
				first_refused = -1,
				saved_depth,
				i;
	StringInfoData shipped_list,
				refused_list;
	Datum		values[2];

	if (op->n == 0)
		return;					/* engine_run has checked the isolation level */
	intake_evaluate_pending();
	statuses = lock_orders_for_shipping(op);
	ready = palloc(sizeof(char *) * op->n);
	initStringInfo(&shipped_list);
	initStringInfo(&refused_list);
	for (i = 0; i < op->n; i++)
	{
		if (strcmp(statuses[i], "ready") == 0)
			ready[n_ready++] = op->order_ids[i];
		else if (strcmp(statuses[i], "shipped") == 0)
		{
			if (n_shipped++ < WAVE_NAMES_LISTED)
				appendStringInfo(&shipped_list, "%s%s", n_shipped > 1 ? ", " : "", op->order_ids[i]);
		}
		else
		{
			if (first_refused < 0)
				first_refused = i;
			if (n_refused++ < WAVE_NAMES_LISTED)
				appendStringInfo(&refused_list, "%s%s (%s)", n_refused > 1 ? ", " : "",
								 op->order_ids[i], statuses[i]);
		}
	}
	if (first_refused >= 0)
	{
		const char *status = statuses[first_refused];

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("order \"%s\" is %s, not ready, and cannot ship", op->order_ids[first_refused], status),
				 op->single ? 0 : errdetail("%d order%s of the wave cannot ship: %s%s; nothing was shipped.",
											n_refused, n_refused == 1 ? "" : "s", refused_list.data,
											n_refused > WAVE_NAMES_LISTED ? ", ..." : ""),
				 errhint("%s%s", strcmp(status, "needs_review") == 0
						 ? "Wait for its holds to clear (see backorder.needs_review), or split it."
						 : strcmp(status, "new") == 0
						 ? "Insert its lines first: an order without lines is not evaluated."
						 : "Only ready orders ship.",
						 op->single ? "" : "  Ship the rest as a wave without it.")));
	}
	if (n_shipped > 0)
	{
		if (op->single)
			ereport(NOTICE,
					(errmsg("order \"%s\" is already shipped", op->order_ids[0])));
		else
			ereport(NOTICE,
					(errmsg("%d order%s of the wave %s already shipped and skipped: %s%s",
							n_shipped, n_shipped == 1 ? "" : "s", n_shipped == 1 ? "was" : "were",
							shipped_list.data, n_shipped > WAVE_NAMES_LISTED ? ", ..." : "")));
	}
	op->shipped = n_ready;
	if (n_ready == 0)
		return;

	/*
	 * The stock rows (locked above) fall by the shipped units in the same
	 * statement: on_hand and allocated together, once per stock row.  The
	 * ledger trigger only records each shipment's delta (ledger.c).
	 */
	values[0] = text_datum(op->client_id);
	values[1] = text_array_datum(ready, n_ready);
	saved_depth = shipment_rows_depth;
	shipment_rows_depth = trigger_depth() + 1;
	PG_TRY();
	{
		run_batch_plan(move_plan, n_ready,
					   "WITH m AS ("
					   "  INSERT INTO backorder.stock_movement"
					   "   (client_id, sku, location_id, kind, qty, delta, reference, order_id)"
					   "  SELECT l.client_id, l.sku, l.location_id, 'shipment', -l.allocated, 0, l.order_id, l.order_id"
					   "    FROM unnest($2) WITH ORDINALITY AS r(order_id, i)"
					   "    JOIN backorder.order_line l ON l.client_id = $1 AND l.order_id = r.order_id"
					   "   ORDER BY r.i, l.line_no"
					   "  RETURNING sku, location_id, delta)"
					   "UPDATE backorder.stock s SET on_hand = s.on_hand + d.delta, allocated = s.allocated + d.delta,"
					   "       updated_at = backorder.now()"
					   "  FROM (SELECT sku, location_id, sum(delta) AS delta FROM m GROUP BY sku, location_id) d"
					   " WHERE s.client_id = $1 AND s.sku = d.sku AND s.location_id = d.location_id",
					   2, types, values, NULL, 0);
	}
	PG_FINALLY();
	{
		shipment_rows_depth = saved_depth;
	}
	PG_END_TRY();
	run_batch_plan(done_plan, n_ready,
				   "WITH l AS (UPDATE backorder.order_line SET shipped = allocated, allocated = 0, waiting = false"
				   "            WHERE client_id = $1 AND order_id = ANY ($2))"
				   "UPDATE backorder.orders SET status = 'shipped', shipped_at = backorder.now()"
				   " WHERE client_id = $1 AND order_id = ANY ($2)",
				   2, types, values, NULL, 0);
	write_events(op->client_id, n_ready, ready, "shipped", "shipped");
	for (i = 0; i < n_ready; i++)
		intake_order_closed(op->client_id, ready[i]);
}

/*
 * backorder.ship_order(client_id, order_id) returns boolean
 */
Datum
backorder_ship_order(PG_FUNCTION_ARGS)
{
	ShipOp		op = {0};
	char	   *order_id;

	op.client_id = arg_text(fcinfo, 0, "client_id");
	order_id = arg_text(fcinfo, 1, "order_id");
	op.order_ids = &order_id;
	op.n = 1;
	op.single = true;
	engine_run(ship_work, &op);
	PG_RETURN_BOOL(op.shipped > 0);
}

/*
 * backorder.ship_orders(client_id, order_ids text[]) returns integer: ships
 * a wave of ready orders in one call (the orders shipped; already shipped
 * ones are skipped).
 */
Datum
backorder_ship_orders(PG_FUNCTION_ARGS)
{
	ShipOp		op = {0};
	Datum	   *elems;
	int			n,
				i;

	op.client_id = arg_text(fcinfo, 0, "client_id");
	elems = array_arg(fcinfo, 1, TEXTOID, "order_ids", "order ids", "ARRAY['1001', '1002']",
					  "Pass the order_id of each order to ship.", &n);
	op.order_ids = palloc(sizeof(char *) * (n + 1));
	for (i = 0; i < n; i++)
		op.order_ids[i] = TextDatumGetCString(elems[i]);
	/* Each order once; the order of the array does not matter (locks follow the locking rule). */
	op.n = sort_unique_strings(op.order_ids, n);
	engine_run(ship_work, &op);
	PG_RETURN_INT32(op.shipped);
}

/* ---- cancel_order ---- */

/*
 * Runs fn with the split rules postponed to commit: a hold or cancel decides
 * whether a rule may split the order, so settling before it must not.
 */
static void
with_rules_postponed(EngineFn fn, void *arg)
{
	split_rules_postpone(true);
	PG_TRY();
	{
		fn(arg);
	}
	PG_FINALLY();
	{
		split_rules_postpone(false);
	}
	PG_END_TRY();
}

static void
cancel_work(void *arg)
{
	static SPIPlanPtr freed_plan = NULL;
	static SPIPlanPtr holds_plan = NULL;
	static SPIPlanPtr done_plan = NULL;
	OrderOp    *op = arg;
	Datum		values[2];
	StockKey   *keys;
	int			n_keys,
				i;
	int64	   *freed;
	int64	   *closed;
	int			n_closed;
	char	   *status;
	uint64		r;
	StringInfoData detail;

	intake_evaluate_pending();
	status = lock_order_and_stock(op, &keys, &n_keys);

	if (strcmp(status, "cancelled") == 0)
	{
		ereport(NOTICE, (errmsg("order \"%s\" is already cancelled", op->order_id)));
		op->result = false;
		return;
	}
	if (strcmp(status, "shipped") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("order \"%s\" is shipped and cannot be cancelled", op->order_id),
				 errhint("Record returned units with a return movement (backorder.stock_movement kind 'return').")));

	/* Free what the lines hold, per stock row. */
	order_values(op, values);
	run_plan(&freed_plan,
			 "WITH old AS (SELECT line_no, sku, location_id, allocated FROM backorder.order_line"
			 "              WHERE client_id = $1 AND order_id = $2 AND allocated > 0),"
			 "     upd AS (UPDATE backorder.order_line l SET allocated = 0, waiting = false"
			 "              WHERE l.client_id = $1 AND l.order_id = $2)"
			 "SELECT sku, location_id, sum(allocated) FROM old GROUP BY sku, location_id",
			 2, order_types, values, NULL, 0);
	freed = palloc0(sizeof(int64) * (n_keys + 1));
	for (r = 0; r < SPI_processed; r++)
	{
		char	   *sku = spi_text(r, 1);
		char	   *loc = spi_text(r, 2);

		for (i = 0; i < n_keys; i++)
			if (strcmp(keys[i].sku, sku) == 0 && strcmp(keys[i].location_id, loc) == 0)
				freed[i] = spi_int64(r, 3);
	}

	run_plan(&holds_plan,
			 "UPDATE backorder.order_hold SET released_at = backorder.now()"
			 " WHERE client_id = $1 AND order_id = $2 AND released_at IS NULL RETURNING hold_id",
			 2, order_types, values, NULL, 0);
	n_closed = (int) SPI_processed;
	closed = palloc(sizeof(int64) * (n_closed + 1));
	for (i = 0; i < n_closed; i++)
		closed[i] = spi_int64(i, 1);

	run_plan(&done_plan,
			 "UPDATE backorder.orders SET status = 'cancelled', cancelled_at = backorder.now(), held_since = NULL"
			 " WHERE client_id = $1 AND order_id = $2",
			 2, order_types, values, NULL, 0);

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"closed\": [");
	for (i = 0; i < n_closed; i++)
		appendStringInfo(&detail, "%s" INT64_FORMAT, i ? ", " : "", closed[i]);
	appendStringInfoString(&detail, "]}");
	write_event(op->client_id, op->order_id, "cancelled", "cancelled", detail.data);
	intake_order_closed(op->client_id, op->order_id);

	/* Freed units are a real increase of supply: serve the queues now. */
	for (i = 0; i < n_keys; i++)
	{
		int64		on_hand,
					allocated;

		if (freed[i] == 0)
			continue;
		stock_apply(&keys[i], 0, -freed[i]);
		lock_stock_rows(&keys[i], 1, &on_hand, &allocated);	/* already ours: re-reads */
		serve_queue(&keys[i], client_policy(op->client_id), on_hand - allocated);
	}
	op->result = true;
}

static void
cancel_postponing_rules(void *arg)
{
	with_rules_postponed(cancel_work, arg);
}

/*
 * backorder.cancel_order(client_id, order_id) returns boolean
 */
Datum
backorder_cancel_order(PG_FUNCTION_ARGS)
{
	OrderOp		op = {0};

	op.client_id = arg_text(fcinfo, 0, "client_id");
	op.order_id = arg_text(fcinfo, 1, "order_id");
	engine_run(cancel_postponing_rules, &op);
	PG_RETURN_BOOL(op.result);
}

/* ---- hold_order / release_hold ---- */

static void
check_reason(const char *reason)
{
	const char *p;
	bool		valid = reason[0] != '\0' && strlen(reason) <= 32;

	for (p = reason; valid && *p; p++)
		valid = (*p >= 'a' && *p <= 'z') || (*p == '_' && p != reason);
	/* The echo is cut at 40 bytes: a reason that long is refused anyway. */
	if (!valid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hold reason \"%s\" is not valid",
						pnstrdup(reason, pg_mbcliplen(reason, strlen(reason), 40))),
				 errhint("Use a lower-case word of at most 32 characters, such as manual or fraud_review.")));
}

static int64
find_open_hold(OrderOp *op)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];

	order_values(op, values);
	values[2] = text_datum(op->reason);
	run_plan(&plan,
			 "SELECT hold_id FROM backorder.order_hold"
			 " WHERE client_id = $1 AND order_id = $2 AND reason = $3 AND released_at IS NULL",
			 3, types, values, NULL, 1);
	return SPI_processed > 0 ? spi_int64(0, 1) : 0;
}

static void
require_open_order(OrderOp *op, const char *status, const char *action)
{
	if (strcmp(status, "ready") != 0 && strcmp(status, "needs_review") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("order \"%s\" is %s and cannot be %s", op->order_id, status, action),
				 strcmp(status, "new") == 0
				 ? errhint("Insert its lines first: an order without lines is not evaluated.")
				 : errhint("Only ready and needs_review orders can be held or released.")));
}

static void
hold_work(void *arg)
{
	OrderOp    *op = arg;
	char	   *status;
	int64		hold_id;
	SettleInput in = {0};

	intake_evaluate_pending();
	status = lock_order_and_stock(op, NULL, NULL);
	require_open_order(op, status, "held");
	if (find_open_hold(op) != 0)
	{
		ereport(NOTICE, (errmsg("order \"%s\" already has an open %s hold", op->order_id, op->reason)));
		op->result = false;
		return;
	}
	hold_id = open_hold(op->client_id, op->order_id, op->reason, op->note);
	in.cause = SETTLE_HOLD_CHANGE;
	in.pre_opened = &hold_id;
	in.n_pre_opened = 1;
	settle_order(op->client_id, op->order_id, &in);
	op->result = true;
}

static void
hold_postponing_rules(void *arg)
{
	with_rules_postponed(hold_work, arg);
}

/*
 * backorder.hold_order(client_id, order_id, reason default 'manual', note default null)
 */
Datum
backorder_hold_order(PG_FUNCTION_ARGS)
{
	OrderOp		op = {0};

	op.client_id = arg_text(fcinfo, 0, "client_id");
	op.order_id = arg_text(fcinfo, 1, "order_id");
	op.reason = arg_reason(fcinfo, 2);
	op.note = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	check_reason(op.reason);
	if (is_inventory_reason(op.reason))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hold reason \"%s\" is set by the engine only", op.reason),
				 errhint("Use manual, or another reason of your own such as fraud_review.")));
	engine_run(hold_postponing_rules, &op);
	PG_RETURN_BOOL(op.result);
}

static void
release_work(void *arg)
{
	OrderOp    *op = arg;
	char	   *status;
	int64		hold_id;
	SettleInput in = {0};

	intake_evaluate_pending();
	if (strcmp(op->reason, "unknown_sku") == 0)
	{
		/* Re-evaluate against the catalog: lines whose SKU now exists get placed and allocated. */
		status = lock_order_and_stock(op, NULL, NULL);
		require_open_order(op, status, "released");
		if (find_open_hold(op) == 0)
		{
			op->result = false;
			return;
		}
		evaluate_order(op->client_id, op->order_id);
		op->result = find_open_hold(op) == 0;
		if (!op->result)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("order \"%s\" still has lines whose SKU is not in the catalog", op->order_id),
					 errhint("Insert the SKUs into backorder.sku, or correct the lines' sku, then release again.")));
		return;
	}

	status = lock_order_and_stock(op, NULL, NULL);
	require_open_order(op, status, "released");
	hold_id = find_open_hold(op);
	if (hold_id == 0)
	{
		ereport(NOTICE, (errmsg("order \"%s\" has no open %s hold", op->order_id, op->reason)));
		op->result = false;
		return;
	}
	close_hold(hold_id);
	in.cause = SETTLE_HOLD_CHANGE;
	in.pre_closed = &hold_id;
	in.n_pre_closed = 1;
	settle_order(op->client_id, op->order_id, &in);
	op->result = true;
}

/*
 * backorder.release_hold(client_id, order_id, reason default 'manual')
 */
Datum
backorder_release_hold(PG_FUNCTION_ARGS)
{
	OrderOp		op = {0};

	op.client_id = arg_text(fcinfo, 0, "client_id");
	op.order_id = arg_text(fcinfo, 1, "order_id");
	op.reason = arg_reason(fcinfo, 2);
	check_reason(op.reason);
	if (strcmp(op.reason, "out_of_stock") == 0 || strcmp(op.reason, "discontinued") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the %s hold closes only when stock arrives", op.reason),
				 errhint("Receive stock, split the order, or cancel it.")));
	engine_run(release_work, &op);
	PG_RETURN_BOOL(op.result);
}
