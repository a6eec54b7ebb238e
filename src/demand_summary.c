/*
 * demand_summary.c — daily demand per SKU and warehouse, kept up to date
 * from order-line changes, so that stockout_risk reads one small row per
 * SKU, warehouse and 32 days instead of every order line.
 *
 * A line is demand (forecasting's definition, 77_forecast.sql) when its
 * order is not cancelled — allocated > 0, shipped > 0 or waiting — counted
 * on the day of its placed_at.  backorder.demand_summary holds, per
 * (client_id, sku, block_start, location_id), the units of the 32 days from
 * block_start (a multiple of 32 days from 2000-01-01) as integer[32]; days
 * are calendar days of the summary's time zone (backorder.demand_time_zone(),
 * default UTC).  A row whose 32 days are all 0 is deleted, so "the SKU had
 * demand before day D" is "a row starts before D".
 *
 * Maintenance is one AFTER ROW trigger on order_line (30_triggers.sql), whose
 * WHEN clauses let through only changes of a line's contribution (qty, sku,
 * location, placed_at, or the demand test flipping: intake placing a line,
 * cancel_order, a qty or placed_at edit, a deleted line, a split).  It
 * subtracts the old contribution and adds the new one, in the statement that
 * changed the line, so the summary commits or rolls back with it and a
 * transaction sees its own changes.
 *
 * Locking.  The summary row of (sku, location) is written only by a
 * transaction that holds the stock row of that SKU and location (every
 * engine path that places, cancels or splits lines holds it: DESIGN.md,
 * "every path that changes allocated holds the stock row") or the edit lock
 * exclusively (app UPDATE/DELETE of orders and lines, which no engine path
 * can run beside).  So nobody ever waits for a summary row: its lock adds no
 * edge to the wait-for graph, and the locking rule stays deadlock-free.  This
 * is why the key has the location although forecasting pools warehouses: a
 * per-SKU row would make two warehouses' intakes of one SKU wait for each
 * other.
 *
 * Batching.  Intake at commit evaluates every order the transaction wrote
 * inside demand_summary_batched(): the contributions of all those orders are
 * summed per (SKU, warehouse, day) in memory and written once at the end,
 * still inside the evaluation (so the transaction sees them, and the stock
 * rows that make the writes safe are still held).  Writing per line instead
 * made a bulk load quadratic: 100,000 orders of one SKU and day in one
 * transaction updated one summary row 100,000 times, and every update had
 * to walk the chain of that row's versions the transaction had made.
 *
 * Rebuilding (backorder.rebuild_demand_summary, set_demand_time_zone) takes
 * the edit lock exclusively and recomputes every row from order lines.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "pgtime.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "pg_backorder.h"

PG_FUNCTION_INFO_V1(backorder_demand_summary);
PG_FUNCTION_INFO_V1(backorder_rebuild_demand_summary);
PG_FUNCTION_INFO_V1(backorder_set_demand_time_zone);

#define BLOCK_DAYS 32

/* One line's contribution to the summary. */
typedef struct Contribution
{
	bool		counts;
	char	   *sku;
	char	   *location_id;
	DateADT		day;
	int32		qty;
} Contribution;

/*
 * The summary's time zone, read once per transaction: it changes only under
 * the edit lock held exclusively, and every transaction that writes the
 * summary holds the edit lock (shared or exclusive) until it ends.
 */
static pg_tz *zone = NULL;
static LocalTransactionId zone_lxid = InvalidLocalTransactionId;
static SubTransactionId zone_subid = InvalidSubTransactionId;	/* where it was read */

/*
 * A subtransaction that read the zone may have changed it first
 * (set_demand_time_zone in a savepoint): rolled back, the row it read is gone.
 */
static void
zone_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && zone != NULL && zone_subid >= mySubid)
		zone = NULL;
}

void
demand_summary_init(void)
{
	RegisterSubXactCallback(zone_subxact_callback, NULL);
}

/* The zone was read in this transaction and is still valid: summary_zone() runs no statement. */
static bool
zone_cached(void)
{
	return zone != NULL && zone_lxid == MyProc->lxid;
}

static pg_tz *
summary_zone(void)
{
	static SPIPlanPtr plan = NULL;
	char	   *name;

	if (zone_cached())
		return zone;
	/* the table itself, not demand_time_zone(): a SQL function is planned at every call */
	run_plan(&plan, "SELECT z.time_zone FROM backorder.demand_summary_zone z", 0, NULL, NULL, NULL, 1);
	name = SPI_processed > 0 ? spi_text(0, 1) : NULL;
	if (name == NULL)
		name = "UTC";			/* no row: the default, as demand_time_zone() says */
	zone = pg_tzset(name);
	if (zone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" of the demand summary is not recognized", name),
				 errhint("Set a known zone with SELECT backorder.set_demand_time_zone('Europe/Berlin'), say.")));
	zone_lxid = MyProc->lxid;
	zone_subid = GetCurrentSubTransactionId();
	return zone;
}

/* The local day of ts in tz. */
static DateADT
local_day(TimestampTz ts, pg_tz *tz)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			offset;

	if (timestamp2tm(ts, &offset, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("placed_at out of range")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
}

static Datum
column(HeapTuple tuple, TupleDesc desc, const char *name, bool *isnull)
{
	return SPI_getbinval(tuple, desc, SPI_fnumber(desc, name), isnull);
}

static void
contribution(HeapTuple tuple, TupleDesc desc, Contribution *c)
{
	bool		isnull;
	Datum		v;
	TimestampTz placed_at;
	bool		demand;

	c->counts = false;
	v = column(tuple, desc, "placed_at", &isnull);
	if (isnull)
		return;
	placed_at = DatumGetTimestampTz(v);
	if (TIMESTAMP_NOT_FINITE(placed_at))
		return;
	c->sku = SPI_getvalue(tuple, desc, SPI_fnumber(desc, "sku"));
	if (c->sku == NULL)
		return;
	demand = DatumGetInt32(column(tuple, desc, "allocated", &isnull)) > 0 ||
		DatumGetInt32(column(tuple, desc, "shipped", &isnull)) > 0 ||
		DatumGetBool(column(tuple, desc, "waiting", &isnull));
	if (!demand)
		return;
	/* a line that is demand is placed at a warehouse; "" keeps the key total if one is not */
	c->location_id = SPI_getvalue(tuple, desc, SPI_fnumber(desc, "location_id"));
	if (c->location_id == NULL)
		c->location_id = "";
	c->qty = DatumGetInt32(column(tuple, desc, "qty", &isnull));
	c->day = local_day(placed_at, summary_zone());
	c->counts = true;
}

/* The position (0 .. 31) of a day in its summary row, whose block starts that many days before. */
static int32
day_in_block(DateADT day)
{
	int32		offset = day % BLOCK_DAYS;

	return offset < 0 ? offset + BLOCK_DAYS : offset;	/* days before 2000-01-01 */
}

/*
 * Runs a statement that adds units to the summary.  A day of one SKU at one
 * warehouse that goes past int4 there (orders of several transactions; one
 * batch's own sum is checked in flush_pending) gets that check's error and
 * hint, not int4pl's.
 */
static void
run_summary_add(SPIPlanPtr *plan, const char *sql, int nargs, const Oid *types, Datum *values)
{
	MemoryContext oldcxt = CurrentMemoryContext;

	PG_TRY();
	{
		run_plan(plan, sql, nargs, types, values, NULL, 0);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("demand of one SKU at one warehouse on one day is out of range"),
				 errdetail("%s", edata->message),
				 errhint("One SKU's orders of one day add up to at most 2147483647 units.")));
	}
	PG_END_TRY();
}

/* Adds units (may be negative) to one day of the summary. */
static void
summary_add(const char *client_id, const Contribution *c, int32 units)
{
	static SPIPlanPtr add_plan = NULL;
	static SPIPlanPtr sub_plan = NULL;
	static SPIPlanPtr drop_plan = NULL;
	static const Oid add_types[7] = {TEXTOID, TEXTOID, TEXTOID, DATEOID, INT4ARRAYOID, INT4OID, INT4OID};
	static const Oid sub_types[6] = {TEXTOID, TEXTOID, TEXTOID, DATEOID, INT4OID, INT4OID};
	int32		offset = day_in_block(c->day);
	DateADT		block_start = c->day - offset;
	int32		index;
	Datum		values[7];

	index = offset + 1;

	values[0] = text_datum(client_id);
	values[1] = text_datum(c->sku);
	values[2] = text_datum(c->location_id);
	values[3] = DateADTGetDatum(block_start);
	if (units > 0)
	{
		int32		days[BLOCK_DAYS] = {0};

		days[offset] = units;
		values[4] = int4_array_datum(days, BLOCK_DAYS);
		values[5] = Int32GetDatum(index);
		values[6] = Int32GetDatum(units);
		run_summary_add(&add_plan,
						"INSERT INTO backorder.demand_summary AS s (client_id, sku, location_id, block_start, units)"
						" VALUES ($1, $2, $3, $4, $5)"
						" ON CONFLICT (client_id, sku, block_start, location_id)"
						" DO UPDATE SET units[$6] = s.units[$6] + $7",
						7, add_types, values);
		return;
	}
	values[4] = Int32GetDatum(index);
	values[5] = Int32GetDatum(units);
	run_plan(&sub_plan,
			 "UPDATE backorder.demand_summary s SET units[$5] = s.units[$5] + $6"
			 " WHERE s.client_id = $1 AND s.sku = $2 AND s.block_start = $4 AND s.location_id = $3"
			 " RETURNING s.units[$5] >= 0, 0 = ALL (s.units)",
			 6, sub_types, values, NULL, 1);
	if (SPI_processed == 0 || !spi_bool(0, 1))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("demand summary of SKU \"%s\" at \"%s\" is missing units of %s",
						c->sku, c->location_id,
						DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(c->day)))),
				 errdetail("backorder.demand_summary no longer matches backorder.order_line."),
				 errhint("Run SELECT backorder.rebuild_demand_summary(); and report how it happened.")));
	if (spi_bool(0, 2))
		run_plan(&drop_plan,
				 "DELETE FROM backorder.demand_summary s"
				 " WHERE s.client_id = $1 AND s.sku = $2 AND s.block_start = $4 AND s.location_id = $3",
				 4, sub_types, values, NULL, 0);
}

/* Units waiting to be written while a batch runs, per client, SKU, warehouse and day. */
typedef struct PendingKey
{
	char		client_id[64 + 1];	/* lengths: the tables' CHECKs */
	char		sku[128 + 1];
	char		location_id[64 + 1];
	DateADT		day;
} PendingKey;

typedef struct PendingUnits
{
	PendingKey	key;
	int64		units;
} PendingUnits;

static HTAB *pending = NULL;
static SubTransactionId pending_subid = InvalidSubTransactionId;	/* the batch's */

/* A batch runs and this is its (sub)transaction. */
static bool
batch_open(void)
{
	return pending != NULL && GetCurrentSubTransactionId() == pending_subid;
}

/* The contribution's key fits a PendingKey (text is checked in characters, the key holds bytes). */
static bool
fits_pending_key(const char *client_id, const Contribution *c)
{
	return strlen(client_id) <= 64 && strlen(c->sku) <= 128 && strlen(c->location_id) <= 64;
}

/* Adds units to the summary now, or to the batch while one runs. */
static void
summary_change(const char *client_id, const Contribution *c, int32 units)
{
	PendingKey	key;
	PendingUnits *entry;
	bool		found;

	/*
	 * Outside a batch, or in a subtransaction inside it (an automatic split
	 * that may be rolled back on its own; the batch was written before it
	 * began): write now, so the write goes or stays with the line change it
	 * follows.  So does a key longer in bytes than the key holds (multibyte text).
	 */
	if (!batch_open() || !fits_pending_key(client_id, c))
	{
		summary_add(client_id, c, units);
		return;
	}
	memset(&key, 0, sizeof(key));	/* the key is hashed and compared as bytes */
	strcpy(key.client_id, client_id);
	strcpy(key.sku, c->sku);
	strcpy(key.location_id, c->location_id);
	key.day = c->day;
	entry = hash_search(pending, &key, HASH_ENTER, &found);
	if (!found)
		entry->units = 0;
	entry->units += units;
}

/* The batch summed per summary row: the 32 days of one (client, SKU, warehouse, block). */
typedef struct PendingBlock
{
	PendingKey	key;			/* day = block_start */
	int32		units[BLOCK_DAYS];
	int			n_days;			/* days with units */
	bool		any_negative;
} PendingBlock;

/*
 * Adds units to blocks that gain units on one day each (an intake's orders
 * are of one day), in one statement: an order of 26 lines is one write, not
 * 26.  Rows that exist gain the day's units; the others are inserted.  No
 * other transaction writes these rows meanwhile: it would need the stock
 * rows of the same SKUs and warehouses, which this one holds.
 */
static void
add_blocks(PendingBlock **blocks, int n)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[7] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, DATEARRAYOID,
	INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID};
	char	  **clients = palloc(sizeof(char *) * n);
	char	  **skus = palloc(sizeof(char *) * n);
	char	  **locations = palloc(sizeof(char *) * n);
	Datum	   *starts = palloc(sizeof(Datum) * n);
	int32	   *day_index = palloc(sizeof(int32) * n);
	int32	   *day_units = palloc(sizeof(int32) * n);
	int32	   *all_days = palloc(sizeof(int32) * n * BLOCK_DAYS);
	Datum		values[7];
	int			i,
				d;

	for (i = 0; i < n; i++)
	{
		clients[i] = blocks[i]->key.client_id;
		skus[i] = blocks[i]->key.sku;
		locations[i] = blocks[i]->key.location_id;
		starts[i] = DateADTGetDatum(blocks[i]->key.day);
		for (d = 0; d < BLOCK_DAYS; d++)
			if (blocks[i]->units[d] != 0)
			{
				day_index[i] = d + 1;
				day_units[i] = blocks[i]->units[d];
			}
		memcpy(&all_days[i * BLOCK_DAYS], blocks[i]->units, sizeof(int32) * BLOCK_DAYS);
	}
	values[0] = text_array_datum(clients, n);
	values[1] = text_array_datum(skus, n);
	values[2] = text_array_datum(locations, n);
	values[3] = PointerGetDatum(construct_array(starts, n, DATEOID, sizeof(DateADT), true, TYPALIGN_INT));
	values[4] = int4_array_datum(day_index, n);
	values[5] = int4_array_datum(day_units, n);
	values[6] = int4_array_datum(all_days, n * BLOCK_DAYS);
	/* a new row's 32 days are the k-th 32 elements of $7 (a slice is numbered from 1) */
	run_summary_add(&plan,
			 "WITH b AS (SELECT * FROM unnest($1, $2, $3, $4, $5, $6)"
			 "                  WITH ORDINALITY AS b(client_id, sku, location_id, block_start, i, units, k)),"
			 " old AS ("
			 "  UPDATE backorder.demand_summary s SET units[b.i] = s.units[b.i] + b.units"
			 "    FROM b WHERE s.client_id = b.client_id AND s.sku = b.sku"
			 "     AND s.block_start = b.block_start AND s.location_id = b.location_id"
			 "  RETURNING b.k)"
			 "INSERT INTO backorder.demand_summary (client_id, sku, location_id, block_start, units)"
			 " SELECT b.client_id, b.sku, b.location_id, b.block_start, $7[(b.k - 1) * 32 + 1 : b.k * 32]"
			 "   FROM b WHERE b.k NOT IN (SELECT old.k FROM old)",
			 7, types, values);
}

/* Writes the batch so far and empties it. */
static void
flush_pending(void)
{
	HASH_SEQ_STATUS seq;
	PendingUnits *entry;
	HTAB	   *blocks;
	HASHCTL		ctl;
	PendingBlock *block;
	PendingBlock **gaining;
	int			n_gaining = 0;

	if (hash_get_num_entries(pending) == 0)
		return;
	ctl.keysize = sizeof(PendingKey);
	ctl.entrysize = sizeof(PendingBlock);
	ctl.hcxt = CurrentMemoryContext;
	blocks = hash_create("pg_backorder pending demand blocks", 64, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	hash_seq_init(&seq, pending);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		PendingKey	block_key = entry->key;
		int32		offset = day_in_block(entry->key.day);
		bool		found;

		if (entry->units < PG_INT32_MIN || entry->units > PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("demand of SKU \"%s\" at \"%s\" on one day is out of range (" INT64_FORMAT " units)",
							entry->key.sku, entry->key.location_id, entry->units),
					 errhint("One SKU's orders of one day add up to at most 2147483647 units.")));
		block_key.day -= offset;
		block = hash_search(blocks, &block_key, HASH_ENTER, &found);
		if (!found)
		{
			memset(block->units, 0, sizeof(block->units));
			block->n_days = 0;
			block->any_negative = false;
		}
		block->units[offset] = (int32) entry->units;
		block->n_days += entry->units != 0;
		block->any_negative |= entry->units < 0;
		(void) hash_search(pending, &entry->key, HASH_REMOVE, NULL);
	}

	/*
	 * A block that loses units (a cancel or edit in the batch) is written day
	 * by day: a subtraction checks the units are there and may delete the
	 * row.  So is one that gains on several days (add_blocks adds one).
	 */
	gaining = palloc(sizeof(PendingBlock *) * hash_get_num_entries(blocks));
	hash_seq_init(&seq, blocks);
	while ((block = hash_seq_search(&seq)) != NULL)
	{
		int			d;

		if (block->n_days == 0)
			continue;
		if (!block->any_negative && block->n_days == 1)
		{
			gaining[n_gaining++] = block;
			continue;
		}
		for (d = 0; d < BLOCK_DAYS; d++)
			if (block->units[d] != 0)
			{
				Contribution c = {0};

				c.sku = block->key.sku;
				c.location_id = block->key.location_id;
				c.day = block->key.day + d;
				c.counts = true;
				summary_add(block->key.client_id, &c, block->units[d]);
			}
	}
	if (n_gaining > 0)
		add_blocks(gaining, n_gaining);
	hash_destroy(blocks);
}

/*
 * Writes what the running batch holds so far (if any) and goes on batching.
 * Called before a subtransaction: its writes go straight to the summary and
 * must find the units the batch has not written yet.
 */
void
demand_summary_flush(void)
{
	if (pending != NULL && GetCurrentSubTransactionId() == pending_subid)
		flush_pending();
}

/*
 * Runs fn (engine work, SPI connected) with the demand summary's writes
 * batched, and writes the batch before returning.  Nested calls join the
 * outer batch.  On error the batch is dropped with the (sub)transaction's
 * writes it described.
 */
void
demand_summary_batched(EngineFn fn, void *arg)
{
	HASHCTL		ctl;

	if (pending != NULL)
	{
		fn(arg);
		return;
	}
	ctl.keysize = sizeof(PendingKey);
	ctl.entrysize = sizeof(PendingUnits);
	ctl.hcxt = TopTransactionContext;
	pending = hash_create("pg_backorder pending demand", 64, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	pending_subid = GetCurrentSubTransactionId();
	PG_TRY();
	{
		fn(arg);
		flush_pending();
	}
	PG_FINALLY();
	{
		hash_destroy(pending);
		pending = NULL;
	}
	PG_END_TRY();
}

static bool
same_key(const Contribution *a, const Contribution *b)
{
	return a->day == b->day && strcmp(a->sku, b->sku) == 0 &&
		strcmp(a->location_id, b->location_id) == 0;
}

/* A line's change: its contribution before and after. */
typedef struct LineChange
{
	char	   *client_id;
	Contribution old_c;
	Contribution new_c;
} LineChange;

static void
read_line_change(TriggerData *td, LineChange *ch)
{
	TupleDesc	desc = td->tg_relation->rd_att;
	HeapTuple	old_tuple = NULL,
				new_tuple = NULL;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		new_tuple = td->tg_trigtuple;
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		old_tuple = td->tg_trigtuple;
	else
	{
		old_tuple = td->tg_trigtuple;
		new_tuple = td->tg_newtuple;
	}
	memset(ch, 0, sizeof(LineChange));
	if (old_tuple)
		contribution(old_tuple, desc, &ch->old_c);
	if (new_tuple)
		contribution(new_tuple, desc, &ch->new_c);
	ch->client_id = SPI_getvalue(new_tuple ? new_tuple : old_tuple, desc, SPI_fnumber(desc, "client_id"));
}

static void
apply_line_change(void *arg)
{
	LineChange *ch = arg;
	const Contribution *old_c = &ch->old_c;
	const Contribution *new_c = &ch->new_c;

	if (old_c->counts && new_c->counts && same_key(old_c, new_c))
	{
		if (new_c->qty != old_c->qty)
			summary_change(ch->client_id, new_c, new_c->qty - old_c->qty);
		return;
	}
	if (old_c->counts)
		summary_change(ch->client_id, old_c, -old_c->qty);
	if (new_c->counts)
		summary_change(ch->client_id, new_c, new_c->qty);
}

static void
line_change_work(void *arg)
{
	LineChange	ch;

	read_line_change(arg, &ch);
	apply_line_change(&ch);
}

/*
 * backorder.demand_summary() — AFTER INSERT/UPDATE/DELETE ... FOR EACH ROW on
 * order_line (the WHEN clauses pass only contribution changes).
 */
Datum
backorder_demand_summary(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	LineChange	ch;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.demand_summary: not called by trigger manager");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "backorder.demand_summary: must be fired AFTER ... FOR EACH ROW");

	/*
	 * Inside a batch of this subtransaction, with the zone read, reading the
	 * change runs no statement, and adding it to the batch needs none unless
	 * a key is too long for it: then no SPI connection is made (one per row
	 * cost more than the rest, and the engine's own UPDATE of an order's
	 * lines fires this once per line).
	 */
	if (!batch_open() || !zone_cached())
	{
		engine_run(line_change_work, td);
		return PointerGetDatum(NULL);
	}
	read_line_change(td, &ch);
	if ((!ch.old_c.counts || fits_pending_key(ch.client_id, &ch.old_c)) &&
		(!ch.new_c.counts || fits_pending_key(ch.client_id, &ch.new_c)))
		apply_line_change(&ch);
	else
		engine_run(apply_line_change, &ch);
	return PointerGetDatum(NULL);
}

/* Recomputes every summary row from order lines, in the summary's zone. */
static void
rebuild_work(void *arg)
{
	static SPIPlanPtr delete_plan = NULL;
	static SPIPlanPtr insert_plan = NULL;

	run_plan(&delete_plan, "DELETE FROM backorder.demand_summary", 0, NULL, NULL, NULL, 0);
	run_plan(&insert_plan,
			 "WITH d AS ("
			 "  SELECT l.client_id, l.sku, coalesce(l.location_id, '') AS location_id,"
			 "         (l.placed_at AT TIME ZONE backorder.demand_time_zone())::date - date '2000-01-01' AS n,"
			 "         sum(l.qty)::integer AS units"
			 "    FROM backorder.order_line l"
			 "   WHERE (l.allocated > 0 OR l.shipped > 0 OR l.waiting)"
			 "     AND l.sku IS NOT NULL AND isfinite(l.placed_at)"
			 "   GROUP BY 1, 2, 3, 4),"
			 " b AS ("
			 "  SELECT d.client_id, d.sku, d.location_id, d.n - (d.n % 32 + 32) % 32 AS block_n,"
			 "         (d.n % 32 + 32) % 32 + 1 AS i, d.units"
			 "    FROM d WHERE d.units > 0)"
			 "INSERT INTO backorder.demand_summary (client_id, sku, location_id, block_start, units)"
			 "SELECT b.client_id, b.sku, b.location_id, date '2000-01-01' + b.block_n,"
			 "       (SELECT array_agg(coalesce(u.units, 0) ORDER BY g.i)"
			 "          FROM generate_series(1, 32) g(i)"
			 "          LEFT JOIN unnest(array_agg(b.i), array_agg(b.units)) u(i, units) ON u.i = g.i)"
			 "  FROM b GROUP BY b.client_id, b.sku, b.location_id, b.block_n",
			 0, NULL, NULL, NULL, 0);
	*(uint64 *) arg = SPI_processed;
}

/*
 * backorder.rebuild_demand_summary() returns bigint: rows written.
 */
Datum
backorder_rebuild_demand_summary(PG_FUNCTION_ARGS)
{
	uint64		rows = 0;

	edit_lock_exclusive();		/* before engine_run's shared one: no engine path beside us */
	engine_run(rebuild_work, &rows);
	PG_RETURN_INT64((int64) rows);
}

typedef struct ZoneChange
{
	char	   *name;
	uint64		rows;
} ZoneChange;

static void
set_zone_work(void *arg)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	static SPIPlanPtr known_plan = NULL;
	ZoneChange *z = arg;
	Datum		values[1];

	if (pg_strcasecmp(z->name, "localtime") == 0 || pg_strcasecmp(z->name, "posixrules") == 0 ||
		pg_strcasecmp(z->name, "Factory") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" is not a place's time zone", z->name),
				 errdetail("localtime follows the server's /etc/localtime; posixrules and Factory are placeholders of the time zone database."),
				 errhint("Give an IANA time zone name such as 'Europe/Berlin'; SELECT name FROM pg_timezone_names lists them.")));
	values[0] = text_datum(z->name);
	/* a POSIX spec such as '+05' is accepted by the parser but inverts the sign */
	run_plan(&known_plan, "SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name OPERATOR(pg_catalog.=) $1",
			 1, types, values, NULL, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" is not a time zone name", z->name),
				 errdetail("POSIX offsets count west of Greenwich: '+05' would mean UTC-5."),
				 errhint("Give an IANA time zone name such as 'Asia/Karachi', or 'Etc/GMT-5' for a fixed UTC+5; SELECT name FROM pg_timezone_names lists them.")));
	run_plan(&plan,
			 "INSERT INTO backorder.demand_summary_zone (time_zone) VALUES ($1)"
			 " ON CONFLICT (one) DO UPDATE SET time_zone = excluded.time_zone",
			 1, types, values, NULL, 0);
	rebuild_work(&z->rows);
}

/*
 * backorder.set_demand_time_zone(time_zone text) returns bigint: the zone
 * whose calendar days the summary counts; rebuilds it.  Rows written.
 */
Datum
backorder_set_demand_time_zone(PG_FUNCTION_ARGS)
{
	ZoneChange	z;
	pg_tz	   *tz;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("time zone must not be null"),
				 errhint("Give an IANA time zone name such as 'Europe/Berlin'.")));
	z.name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	tz = pg_tzset(z.name);
	if (tz == NULL || !pg_tz_acceptable(tz))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" is not recognized", z.name),
				 errhint("Give an IANA time zone name such as 'Europe/Berlin' or 'America/New_York'; SELECT name FROM pg_timezone_names lists them.")));
	/* the spelling sessions report in SHOW TimeZone, so the view can tell it applies */
	z.name = pstrdup(pg_get_timezone_name(tz));
	z.rows = 0;
	edit_lock_exclusive();
	engine_run(set_zone_work, &z);
	zone = NULL;
	PG_RETURN_INT64((int64) z.rows);
}
