/*
 * deferred_settle.c — settling the orders a transaction touched, once, at
 * commit, in release order.
 *
 * Statements that move stock (receipts, counts, cancellations...) change
 * order lines and stock under the stock row's lock only.  The orders whose
 * lines they changed are remembered here, and settled (holds, status,
 * events: settle.c) in one batch when the transaction commits: all of them
 * locked by a single statement in release order.
 *
 * Why not settle each order as its line changes?  A transaction that
 * receives SKU A and then SKU B would lock A's waiting orders, then B's; if
 * one of B's orders comes first in release order, a concurrent receipt that
 * locks both in release order deadlocks with it.  One batch per transaction
 * keeps every transaction's order locks in one global order (DESIGN.md
 * rule 3), whatever its statements did.
 *
 * The batch runs from a deferred constraint trigger on a one-row-per-
 * transaction request table (backorder.settle_request): PostgreSQL fires it at
 * commit, or at the end of the statement under SET CONSTRAINTS ... IMMEDIATE,
 * inside the transaction, so the work commits or rolls back with it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "storage/itemptr.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "pg_backorder.h"

PG_FUNCTION_INFO_V1(backorder_settle);

#define ORDER_KEY_LEN (64 + 1 + 128 + 1)

typedef struct TouchedOrder
{
	char		key[ORDER_KEY_LEN]; /* client_id \x1f order_id */
	bool		deallocated;	/* units were taken back */
	StringInfoData changes;		/* JSON array members: what changed at which stock row */
} TouchedOrder;

/* Per-transaction state in TopTransactionContext; reset at transaction end. */
static HTAB *touched = NULL;
static bool settle_requested = false;

static void
settle_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		touched = NULL;
		settle_requested = false;
	}
}

/*
 * A request row inserted in an aborted subtransaction is gone with its
 * trigger event: ask again next time.  Touched entries stay; settling an
 * order that did not change writes nothing.
 */
static void
settle_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		settle_requested = false;
}

void
deferred_settle_init(void)
{
	RegisterXactCallback(settle_xact_callback, NULL);
	RegisterSubXactCallback(settle_subxact_callback, NULL);
}

static void
request_settle(void)
{
	static SPIPlanPtr plan = NULL;

	if (settle_requested)
		return;
	/* Set first: under SET CONSTRAINTS IMMEDIATE the trigger fires inside the INSERT. */
	settle_requested = true;
	run_plan(&plan, "INSERT INTO backorder.settle_request DEFAULT VALUES", 0, NULL, NULL, NULL, 0);
}

void
note_touched(const StockKey *key, const char *order_id, int64 units)
{
	char		hkey[ORDER_KEY_LEN];
	TouchedOrder *entry;
	bool		found;
	MemoryContext old;

	if (touched == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = ORDER_KEY_LEN;
		ctl.entrysize = sizeof(TouchedOrder);
		ctl.hcxt = TopTransactionContext;
		touched = hash_create("pg_backorder touched orders", 256, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	snprintf(hkey, ORDER_KEY_LEN, "%s\x1f%s", key->client_id, order_id);
	entry = hash_search(touched, hkey, HASH_ENTER, &found);

	old = MemoryContextSwitchTo(TopTransactionContext);
	if (!found)
	{
		entry->deallocated = false;
		initStringInfo(&entry->changes);
	}
	if (units < 0)
		entry->deallocated = true;
	if (entry->changes.len > 0)
		appendStringInfoString(&entry->changes, ", ");
	appendStringInfoString(&entry->changes, "{\"sku\": ");
	escape_json(&entry->changes, key->sku);
	appendStringInfoString(&entry->changes, ", \"location_id\": ");
	escape_json(&entry->changes, key->location_id);
	appendStringInfo(&entry->changes, ", \"units\": " INT64_FORMAT "}", units);
	MemoryContextSwitchTo(old);

	request_settle();
}

static void
settle_input(SettleInput *in, TouchedOrder *entry)
{
	/* Without an entry nothing moved here: only holds can change, no allocation event. */
	in->cause = entry == NULL ? SETTLE_HOLD_CHANGE :
		entry->deallocated ? SETTLE_DEALLOCATED : SETTLE_ALLOCATED;
	in->detail = entry ? psprintf("\"changes\": [%s]", entry->changes.data) : NULL;
}

/*
 * Settles one order now, for a caller that holds its row lock and all its
 * stock rows (order_ops.c), with what this transaction did to its lines.
 */
void
settle_now(const char *client_id, const char *order_id)
{
	char		hkey[ORDER_KEY_LEN];
	TouchedOrder *entry = NULL;
	bool		found;
	SettleInput in = {0};

	snprintf(hkey, ORDER_KEY_LEN, "%s\x1f%s", client_id, order_id);
	if (touched != NULL)
		entry = hash_search(touched, hkey, HASH_FIND, &found);

	settle_input(&in, entry);
	settle_order(client_id, order_id, &in);
	if (entry != NULL)
		hash_search(touched, hkey, HASH_REMOVE, &found);
}

/*
 * Settles every touched order: lock them all in release order with one
 * statement, then settle each.  Settling can touch nothing new, but loop in
 * case a caller adds more while we work.
 */
static void
settle_touched(void *arg)
{
	static SPIPlanPtr lock_plan[2];
	static SPIPlanPtr done_plan = NULL;
	static const Oid types[2] = {TEXTARRAYOID, TEXTARRAYOID};
	static const Oid tid_type[1] = {TIDOID};
	Datum		request[1];

	/* The request row has done its job. */
	request[0] = PointerGetDatum(arg);
	run_plan(&done_plan, "DELETE FROM backorder.settle_request WHERE ctid = $1",
			 1, tid_type, request, NULL, 0);

	while (touched != NULL && hash_get_num_entries(touched) > 0)
	{
		HTAB	   *batch = touched;
		long		n = hash_get_num_entries(batch);
		char	  **clients = palloc(sizeof(char *) * n);
		char	  **orders = palloc(sizeof(char *) * n);
		HASH_SEQ_STATUS seq;
		TouchedOrder *entry;
		Datum		values[2];
		long		i = 0;
		uint64		r;

		touched = NULL;
		hash_seq_init(&seq, batch);
		while ((entry = hash_seq_search(&seq)) != NULL)
		{
			char	   *sep = strchr(entry->key, '\x1f');

			clients[i] = pnstrdup(entry->key, sep - entry->key);
			orders[i] = pstrdup(sep + 1);
			i++;
		}

		values[0] = text_array_datum(clients, (int) n);
		values[1] = text_array_datum(orders, (int) n);
		/* LockRows sits above the Sort: rows are locked in release order. */
		run_batch_plan(lock_plan, (int) n,
				 "SELECT o.client_id, o.order_id FROM backorder.orders o"
				 " WHERE o.client_id = ANY ($1) AND o.order_id = ANY ($2)"
				 "   AND (o.client_id, o.order_id) IN (SELECT * FROM unnest($1, $2))"
				 " ORDER BY o.priority DESC, o.placed_at, o.order_id, o.client_id"
				 "   FOR NO KEY UPDATE OF o",
				 2, types, values, NULL, 0);

		{
			SPITupleTable *locked = SPI_tuptable;
			uint64		n_locked = SPI_processed;
			char	  **lc = palloc(sizeof(char *) * (n_locked + 1));
			char	  **lo = palloc(sizeof(char *) * (n_locked + 1));
			SettleInput *inputs = palloc0(sizeof(SettleInput) * (n_locked + 1));

			for (r = 0; r < n_locked; r++)
			{
				char		hkey[ORDER_KEY_LEN];
				bool		found;

				lc[r] = SPI_getvalue(locked->vals[r], locked->tupdesc, 1);
				lo[r] = SPI_getvalue(locked->vals[r], locked->tupdesc, 2);
				snprintf(hkey, ORDER_KEY_LEN, "%s\x1f%s", lc[r], lo[r]);
				settle_input(&inputs[r], hash_search(batch, hkey, HASH_FIND, &found));
			}
			/* In release order, all in one batch. */
			settle_orders((int) n_locked, lc, lo, inputs);
		}
		hash_destroy(batch);
	}
}

/*
 * backorder.settle() — deferred constraint trigger on backorder.settle_request.
 */
Datum
backorder_settle(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.settle: not called by trigger manager");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "backorder.settle: must be fired AFTER ... FOR EACH ROW");

	settle_requested = false;	/* later statements ask again */
	engine_run(settle_touched, &td->tg_trigtuple->t_self);
	return PointerGetDatum(NULL);
}
