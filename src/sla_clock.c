/*
 * sla_clock.c — the SLA clock trigger on backorder.orders (74_sla.sql).
 *
 * orders.sla_due_at is fixed when an order becomes ready (from ready_at),
 * cleared while it is held, and never written by apps.  The trigger fires
 * once per order the engine releases, so a release of 10,000 orders runs it
 * 10,000 times: it is C, and the usual promise (client.sla_hours elapsed
 * hours) is computed here from one cached lookup.  Calendar promises
 * (client_sla: cutoff, business days, holidays) are rarer and call
 * backorder.sla_due_at(), the one implementation of the calendar walk.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "access/xact.h"
#include "storage/proc.h"

#include "pg_backorder.h"

PG_FUNCTION_INFO_V1(backorder_sla_clock);

/*
 * The last client's settings, for the rest of the engine operation that
 * read them (engine_operation(): one outermost engine_run, such as one
 * commit-time settle): a release sets 10,000 orders ready in one UPDATE, and
 * a lookup per row would cost more than the rest of the trigger.  The engine
 * never writes client or client_sla, so they cannot change within an
 * operation; the next operation (after the app's UPDATE of them, say) reads
 * them again, and so does a rolled-back subtransaction's successor.  Outside
 * an engine operation nothing is kept.
 */
typedef struct SlaSettings
{
	uint64		operation;		/* 0: nothing kept */
	LocalTransactionId lxid;
	SubTransactionId subid;
	char		client_id[4 * 64 + 1];	/* client_id: at most 64 characters of up to 4 bytes */
	bool		known;			/* the client exists */
	bool		hours;			/* promise: sla_hours elapsed hours */
	int64		sla_hours;
} SlaSettings;

static SlaSettings cached = {0};

static void
refuse_sla_write(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_GENERATED_ALWAYS),
			 errmsg("column \"sla_due_at\" of backorder.orders is maintained by the engine"),
			 errhint("Leave it out of INSERT and UPDATE; change stock through backorder.stock_movement and orders through the backorder functions.")));
}

typedef struct DueAt
{
	const char *client_id;
	TimestampTz ready_at;
	bool		isnull;			/* out: no due time (unknown client) */
	TimestampTz due;			/* out */
} DueAt;

/*
 * The statements run with the caller's search_path (an app's INSERT may
 * fire the trigger), so they qualify their operators.
 */
static void
due_at_work(void *arg)
{
	static SPIPlanPtr settings_plan = NULL;
	static SPIPlanPtr calendar_plan = NULL;
	static const Oid settings_types[1] = {TEXTOID};
	static const Oid calendar_types[2] = {TEXTOID, TIMESTAMPTZOID};
	DueAt	   *d = arg;
	Datum		values[2];
	char	   *promise;
	bool		isnull;

	values[0] = text_datum(d->client_id);
	run_plan(&settings_plan,
			 "SELECT c.sla_hours, cs.promise FROM backorder.client c"
			 "  LEFT JOIN backorder.client_sla cs ON cs.client_id OPERATOR(pg_catalog.=) c.client_id"
			 " WHERE c.client_id OPERATOR(pg_catalog.=) $1",
			 1, settings_types, values, NULL, 1);
	cached.known = SPI_processed > 0;
	if (cached.known)
	{
		promise = spi_text(0, 2);
		cached.hours = promise == NULL || strcmp(promise, "hours") == 0;
		cached.sla_hours = spi_int64(0, 1);
	}
	/* kept for the operation, unless the key does not fit (then never matched) */
	cached.operation = strlen(d->client_id) < sizeof(cached.client_id) ? engine_operation() : 0;
	strlcpy(cached.client_id, d->client_id, sizeof(cached.client_id));
	cached.lxid = MyProc->lxid;
	cached.subid = GetCurrentSubTransactionId();
	if (!cached.known || cached.hours)
		return;					/* the caller computes hours */

	/* a calendar promise: the one implementation of the walk */
	values[1] = TimestampTzGetDatum(d->ready_at);
	run_plan(&calendar_plan, "SELECT backorder.sla_due_at($1, $2)",
			 2, calendar_types, values, NULL, 1);
	d->due = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
											   &isnull));
	d->isnull = isnull;
}

static bool
settings_cached(const char *client_id)
{
	return cached.operation != 0 && cached.operation == engine_operation() &&
		cached.lxid == MyProc->lxid && cached.subid == GetCurrentSubTransactionId() &&
		strcmp(cached.client_id, client_id) == 0;
}

/* hours are elapsed time: no calendar, no time zone */
static void
due_in_hours(DueAt *d, int64 sla_hours)
{
	Interval	hours = {0};

	hours.time = sla_hours * USECS_PER_HOUR;
	d->due = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													 TimestampTzGetDatum(d->ready_at),
													 IntervalPGetDatum(&hours)));
	d->isnull = false;
}

/*
 * backorder.sla_clock() — BEFORE INSERT OR UPDATE FOR EACH ROW on orders; the
 * triggers' WHEN clauses (74_sla.sql) let through only the rows it changes
 * or refuses.
 */
Datum
backorder_sla_clock(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	new_tuple;
	int			status_col,
				ready_col,
				due_col;
	bool		new_due_null,
				isnull;
	Datum		new_due;
	char	   *status;
	bool		compute = false;
	Datum		value = (Datum) 0;
	bool		value_null = true;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.sla_clock: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "backorder.sla_clock: must be fired BEFORE ... FOR EACH ROW");

	desc = td->tg_relation->rd_att;
	new_tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	status_col = SPI_fnumber(desc, "status");
	ready_col = SPI_fnumber(desc, "ready_at");
	due_col = SPI_fnumber(desc, "sla_due_at");
	new_due = heap_getattr(new_tuple, due_col, desc, &new_due_null);
	status = SPI_getvalue(new_tuple, desc, status_col);

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		/* an order the engine inserts ready (a split's child order): its clock starts now */
		if (!new_due_null)
			refuse_sla_write();
		compute = true;
	}
	else
	{
		HeapTuple	old_tuple = td->tg_trigtuple;
		bool		old_due_null,
					old_ready_null,
					new_ready_null;
		Datum		old_due = heap_getattr(old_tuple, due_col, desc, &old_due_null);
		Datum		old_ready = heap_getattr(old_tuple, ready_col, desc, &old_ready_null);
		Datum		new_ready = heap_getattr(new_tuple, ready_col, desc, &new_ready_null);
		char	   *old_status = SPI_getvalue(old_tuple, desc, status_col);
		bool		ready_changed = old_ready_null != new_ready_null ||
			(!new_ready_null && DatumGetTimestampTz(old_ready) != DatumGetTimestampTz(new_ready));
		bool		due_changed = old_due_null != new_due_null ||
			(!new_due_null && DatumGetTimestampTz(old_due) != DatumGetTimestampTz(new_due));

		if (status != NULL && strcmp(status, "ready") == 0 &&
			(old_status == NULL || strcmp(old_status, "ready") != 0 || ready_changed))
			compute = true;
		else if (status != NULL && strcmp(status, "needs_review") == 0 && !due_changed)
			value_null = true;	/* held: excluded from the SLA */
		else if (due_changed)
			refuse_sla_write();
		else
			return PointerGetDatum(new_tuple);
	}

	if (compute)
	{
		DueAt		d = {0};
		Datum		ready = heap_getattr(new_tuple, ready_col, desc, &isnull);
		char	   *client_id = SPI_getvalue(new_tuple, desc, SPI_fnumber(desc, "client_id"));

		if (!isnull && client_id != NULL)
		{
			d.client_id = client_id;
			d.ready_at = DatumGetTimestampTz(ready);
			/* a calendar promise is walked for each order (due_at_work) */
			if (!settings_cached(client_id) || (cached.known && !cached.hours))
				engine_spi(due_at_work, &d);
			if (!cached.known)
				d.isnull = true;
			else if (cached.hours)
				due_in_hours(&d, cached.sla_hours);
			value_null = d.isnull;
			value = TimestampTzGetDatum(d.due);
		}
	}
	return PointerGetDatum(heap_modify_tuple_by_cols(new_tuple, desc, 1, &due_col, &value, &value_null));
}
