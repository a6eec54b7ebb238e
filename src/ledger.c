/*
 * ledger.c — the stock ledger trigger.
 *
 * Every change of on_hand is a row in backorder.stock_movement.  The trigger
 * is BEFORE INSERT because a count is absolute: the delta it applies depends
 * on on_hand at that moment, under the stock row's lock, and is written into
 * the row itself (invariant 6: on_hand = sum of deltas).
 *
 * After applying the delta:
 *   - on_hand below allocated: take units back from the newest unshipped
 *     orders (queue.c: take_back);
 *   - available rose (receipt, return, positive adjustment or count): hand
 *     the units to waiting lines (queue.c: serve_queue).  A count or
 *     adjustment that changes nothing releases nothing.
 * A shipment (written only by ship_order, which holds the stock rows' locks
 * and lowers on_hand and allocated together for the whole order) is only
 * recorded here.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "pg_backorder.h"

PG_FUNCTION_INFO_V1(backorder_ledger);

int			shipment_rows_depth = -1;

/* pg_trigger_depth(): how many triggers are running, this one included. */
int
trigger_depth(void)
{
	LOCAL_FCINFO(fcinfo, 0);

	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	return DatumGetInt32(pg_trigger_depth(fcinfo));
}

/* Largest quantity one movement may carry: far above any real shipment, far below overflow. */

typedef struct Movement
{
	StockKey	key;
	char	   *kind;
	int64		qty;
	char	   *reason;
	char	   *order_id;		/* the order a shipment or return belongs to, if named */
	int64		movement_id;	/* the row's id (the identity's, unless the app gave one) */
	bool		from_engine;	/* written by ship_orders' own statement, not by an app */
	int64		delta;			/* out: applied to on_hand */
} Movement;

/* Whether the row of (client_id, key) that sql selects exists; sql takes them as $1, $2. */
static bool
client_row_exists(SPIPlanPtr *plan, const char *sql, const char *client_id, const char *key)
{
	static const Oid types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];

	values[0] = text_datum(client_id);
	values[1] = text_datum(key);
	run_plan(plan, sql, 2, types, values, NULL, 1);
	return SPI_processed > 0;
}

static void
require_sku(const char *client_id, const char *sku)
{
	static SPIPlanPtr plan = NULL;

	if (sku == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("sku must not be null"),
				 errhint("Name a SKU from backorder.sku.")));
	if (!client_row_exists(&plan, "SELECT 1 FROM backorder.sku WHERE client_id = $1 AND sku = $2",
						   client_id, sku))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("SKU \"%s\" of client \"%s\" is not in the catalog", sku, client_id),
				 errhint("Insert it into backorder.sku before moving stock of it.")));
}

/* A movement that names an order (a return, say) must name one of its client's. */
static void
require_order(const char *client_id, const char *order_id)
{
	static SPIPlanPtr plan = NULL;

	if (!client_row_exists(&plan, "SELECT 1 FROM backorder.orders WHERE client_id = $1 AND order_id = $2",
						   client_id, order_id))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("order \"%s\" of client \"%s\" does not exist", order_id, client_id),
				 errhint("Name the order the units came back from, or leave order_id out.")));
}

/*
 * A row whose id is taken would still be applied here (this trigger runs
 * before the insert) and then be skipped by ON CONFLICT DO NOTHING, or fail:
 * units from nothing.  Only an app that gives movement_id (OVERRIDING
 * SYSTEM VALUE) can name a taken one; the identity never repeats.
 */
static void
require_free_movement_id(int64 movement_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {INT8OID};
	Datum		values[1];

	values[0] = Int64GetDatum(movement_id);
	run_plan(&plan, "SELECT 1 FROM backorder.stock_movement WHERE movement_id = $1",
			 1, types, values, NULL, 1);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("stock movement " INT64_FORMAT " already exists", movement_id),
				 errdetail("The ledger applies a movement before PostgreSQL inserts it, so a row that ON CONFLICT would skip cannot be applied."),
				 errhint("Leave movement_id out: the ledger numbers its rows.  To retry a receipt safely, look for its reference first.")));
}

static void
validate_movement(Movement *m)
{
	const char *k = m->kind;

	if (k == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("movement kind must not be null"),
				 errhint("Use receipt, return, adjustment or count.")));
	if (strcmp(k, "receipt") != 0 && strcmp(k, "return") != 0 && strcmp(k, "adjustment") != 0 &&
		strcmp(k, "count") != 0 && strcmp(k, "shipment") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown stock movement kind \"%s\"", k),
				 errhint("Use receipt, return, adjustment or count.")));
	if (strcmp(k, "shipment") == 0 && !m->from_engine)
		ereport(ERROR,
				(errcode(ERRCODE_GENERATED_ALWAYS),
				 errmsg("shipment movements are written by backorder.ship_order()"),
				 errhint("Ship the order with backorder.ship_order(client_id, order_id); record other losses as an adjustment.")));
	if ((strcmp(k, "receipt") == 0 || strcmp(k, "return") == 0) && m->qty <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("a %s must bring a positive quantity, not " INT64_FORMAT, k, m->qty),
				 errhint("Record a loss as an adjustment with a negative delta.")));
	if (strcmp(k, "adjustment") == 0 && m->qty == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("an adjustment must change stock"),
				 errhint("Give a non-zero signed delta.")));
	if (strcmp(k, "count") == 0 && m->qty < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("a counted quantity cannot be negative (" INT64_FORMAT ")", m->qty),
				 errhint("Count the units on the shelf: zero or more.")));
	if (m->qty > BACKORDER_MAX_UNITS || m->qty < -BACKORDER_MAX_UNITS)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("movement quantity " INT64_FORMAT " is out of range", m->qty),
				 errhint("One movement moves at most 1000000000 units.")));
	if ((strcmp(k, "adjustment") == 0 || strcmp(k, "count") == 0) &&
		(m->reason == NULL || m->reason[strspn(m->reason, " \t\r\n")] == '\0'))
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("%s needs a reason", strcmp(k, "count") == 0 ? "a count" : "an adjustment"),
				 errhint("Say why: damage, cycle count, sync error, found stock...")));
}

static void
apply_movement(void *arg)
{
	Movement   *m = arg;
	int64		on_hand,
				allocated,
				new_on_hand;

	if (m->key.sku == NULL)
		require_sku(m->key.client_id, NULL);	/* raises: a movement names its SKU */
	require_free_movement_id(m->movement_id);
	/* The catalog is looked up (for errors that say what is missing) only for a new stock row. */
	if (!lock_stock_row_if_exists(&m->key, &on_hand, &allocated))
	{
		require_client(m->key.client_id);
		require_location(m->key.location_id);
		require_sku(m->key.client_id, m->key.sku);
		lock_stock_rows(&m->key, 1, &on_hand, &allocated);
	}
	if (m->order_id != NULL)
		require_order(m->key.client_id, m->order_id);

	m->delta = strcmp(m->kind, "count") == 0 ? m->qty - on_hand : m->qty;
	new_on_hand = on_hand + m->delta;
	if (new_on_hand < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("%s of " INT64_FORMAT " would leave on_hand of %s at %s negative (" INT64_FORMAT ")",
						m->kind, m->qty, m->key.sku, m->key.location_id, new_on_hand),
				 errhint("Record a count of what is on the shelf instead.")));

	stock_apply(&m->key, m->delta, 0);
	if (new_on_hand < allocated)
		take_back(&m->key, allocated - new_on_hand);
	else if (m->delta > 0)
		serve_queue(&m->key, client_policy(m->key.client_id), new_on_hand - allocated);
}

/*
 * The ledger's time is the engine's clock (forecasting's in-stock days read
 * on_hand history from the ledger by time): a row may not be dated by its
 * writer.  The column's default is backorder.now(), so leaving it out is
 * the only way, and a replay pins the clock instead.
 */
static void
check_created_at(HeapTuple tuple, TupleDesc tupdesc)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, tupdesc, SPI_fnumber(tupdesc, "created_at"), &isnull);

	if (isnull || DatumGetTimestampTz(value) != engine_now())
		ereport(ERROR,
				(errcode(ERRCODE_GENERATED_ALWAYS),
				 errmsg("created_at of a stock movement is set by the engine"),
				 errdetail("Every ledger row is dated by backorder.now()."),
				 errhint("Leave created_at out of the INSERT; to record movements at another time, pin the clock with SET backorder.now = '...'.")));
}

/* The row to write: the movement with the delta it applied. */
static HeapTuple
with_delta(HeapTuple tuple, TupleDesc tupdesc, int64 delta)
{
	int			col = SPI_fnumber(tupdesc, "delta");
	Datum		value = Int64GetDatum(delta);
	bool		isnull = false;

	return heap_modify_tuple_by_cols(tuple, tupdesc, 1, &col, &value, &isnull);
}

/*
 * backorder.ledger() — BEFORE INSERT FOR EACH ROW on backorder.stock_movement.
 */
Datum
backorder_ledger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	Movement	m = {0};

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.ledger: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "backorder.ledger: must be fired BEFORE INSERT FOR EACH ROW");

	tupdesc = td->tg_relation->rd_att;
	tuple = td->tg_trigtuple;
	m.kind = tuple_text(tuple, tupdesc, "kind");
	m.from_engine = shipment_rows_depth >= 0 && trigger_depth() == shipment_rows_depth;

	/*
	 * Only ship_order writes shipments (validate_movement): one per line of a
	 * ready order whose stock rows it holds locked, at the SKU and location
	 * the line is allocated at, and on_hand >= allocated >= the line's units
	 * (invariants 1 and 2).  It applies them to stock itself, for all the
	 * order's lines in one statement; here the row only records its delta,
	 * without reading the rest of it (a day's wave writes thousands).  Rows
	 * written by anything else on the way (an app's trigger) are checked.
	 */
	if (m.from_engine && m.kind != NULL && strcmp(m.kind, "shipment") == 0 &&
		tuple_int64(tuple, tupdesc, "qty", &m.qty))
		return PointerGetDatum(with_delta(tuple, tupdesc, m.qty));

	m.key.client_id = tuple_text(tuple, tupdesc, "client_id");
	m.key.sku = tuple_text(tuple, tupdesc, "sku");
	m.key.location_id = tuple_text(tuple, tupdesc, "location_id");
	m.reason = tuple_text(tuple, tupdesc, "reason");
	m.order_id = tuple_text(tuple, tupdesc, "order_id");
	tuple_int64(tuple, tupdesc, "movement_id", &m.movement_id);
	if (!tuple_int64(tuple, tupdesc, "qty", &m.qty))
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("movement quantity must not be null"),
				 errhint("Give qty: units received or returned, the signed adjustment, or the counted quantity.")));
	validate_movement(&m);
	check_created_at(tuple, tupdesc);
	if (m.key.client_id == NULL)
		require_client(NULL);
	if (m.key.location_id == NULL)
		require_location(NULL);

	engine_run(apply_movement, &m);
	return PointerGetDatum(with_delta(tuple, tupdesc, m.delta));
}
