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
 * inside the transaction, so the work commits or rolls back with it.  Before
 * the batch it runs complete_only's completion pass (queue.c), which may
 * complete more orders: they join the batch.
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
PG_FUNCTION_INFO_V1(backorder_sku_changed);
PG_FUNCTION_INFO_V1(backorder_policy_changed);

#define ORDER_KEY_LEN (64 + 1 + 128 + 1)

/*
 * Units that moved on one of an order's lines at one stock row.  Settling
 * reports it in an event; if the subtransaction that settled aborts, the
 * event is gone and the change is reported again by the next settle.
 */
typedef struct TouchedChange
{
	SubTransactionId subid;		/* where it was noted: gone if that aborts */
	SubTransactionId reported_in;	/* where an event named it; Invalid: not yet */
	int64		units;			/* negative: taken back */
	bool		by_edit;		/* units an app's line edit gave back (negative) */
	char	   *sku;
	char	   *location_id;
} TouchedChange;

/*
 * An order the transaction touched.  An entry settled in a subtransaction
 * stays (with marks) until that can no longer abort: if it does, the order
 * must be settled again.  One settled at the top level is dropped.
 */
typedef struct TouchedOrder
{
	char		key[ORDER_KEY_LEN]; /* client_id \x1f order_id */
	SubTransactionId settled_in;	/* Invalid: to be settled */
	int			n_changes;		/* none: only its holds may change */
	int			max_changes;
	TouchedChange *changes;		/* in TopTransactionContext */
} TouchedOrder;

/* Per-transaction state in TopTransactionContext; reset at transaction end. */
static HTAB *touched = NULL;
static bool settle_requested = false;
static bool pass_after_operation = false;	/* see backorder_settle() */

static void
settle_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		touched = NULL;
		settle_requested = false;
		pass_after_operation = false;
	}
}

/*
 * A request row inserted in an aborted subtransaction is gone with its
 * trigger event: ask again next time.  The changes noted in it are gone
 * with the writes they describe (the events must not name them).  What it
 * settled is undone with it: those orders are to be settled again, with the
 * changes its events had named (a request from before it is still there, and
 * PostgreSQL fires again a deferred trigger event that fired in it).
 */
static void
settle_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	HASH_SEQ_STATUS seq;
	TouchedOrder *entry;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	settle_requested = false;
	pass_after_operation = false;
	if (touched == NULL)
		return;
	hash_seq_init(&seq, touched);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		int			kept = 0,
					i;

		for (i = 0; i < entry->n_changes; i++)
			if (entry->changes[i].subid < mySubid)
			{
				if (entry->changes[i].reported_in >= mySubid)
					entry->changes[i].reported_in = InvalidSubTransactionId;
				entry->changes[kept++] = entry->changes[i];
			}
		entry->n_changes = kept;
		if (entry->settled_in >= mySubid)
			entry->settled_in = InvalidSubTransactionId;
	}
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

/* complete_only deferred a queue walk to the completion pass (queue.c). */
void
request_completion_pass(void)
{
	request_settle();
}

/* The order's entry in this transaction's touched set, created if missing. */
static TouchedOrder *
touched_entry(const char *client_id, const char *order_id)
{
	char		hkey[ORDER_KEY_LEN];
	TouchedOrder *entry;
	bool		found;

	if (touched == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = ORDER_KEY_LEN;
		ctl.entrysize = sizeof(TouchedOrder);
		ctl.hcxt = TopTransactionContext;
		touched = hash_create("pg_backorder touched orders", 256, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	snprintf(hkey, ORDER_KEY_LEN, "%s\x1f%s", client_id, order_id);
	entry = hash_search(touched, hkey, HASH_ENTER, &found);
	if (!found)
	{
		entry->n_changes = 0;
		entry->max_changes = 0;
		entry->changes = NULL;
	}
	entry->settled_in = InvalidSubTransactionId;
	return entry;
}

/* The order's entry in this transaction's touched set, or NULL. */
static TouchedOrder *
touched_find(const char *client_id, const char *order_id)
{
	char		hkey[ORDER_KEY_LEN];

	if (touched == NULL)
		return NULL;
	snprintf(hkey, ORDER_KEY_LEN, "%s\x1f%s", client_id, order_id);
	return hash_search(touched, hkey, HASH_FIND, NULL);
}

static void
note_change(TouchedOrder *entry, const StockKey *key, int64 units, bool by_edit)
{
	TouchedChange *change;
	MemoryContext old;

	old = MemoryContextSwitchTo(TopTransactionContext);
	if (entry->n_changes == entry->max_changes)
	{
		entry->max_changes = entry->max_changes ? entry->max_changes * 2 : 4;
		entry->changes = entry->changes
			? repalloc(entry->changes, sizeof(TouchedChange) * entry->max_changes)
			: palloc(sizeof(TouchedChange) * entry->max_changes);
	}
	change = &entry->changes[entry->n_changes++];
	change->subid = GetCurrentSubTransactionId();
	change->reported_in = InvalidSubTransactionId;
	change->units = units;
	change->by_edit = by_edit;
	change->sku = pstrdup(key->sku);
	change->location_id = pstrdup(key->location_id);
	MemoryContextSwitchTo(old);

	request_settle();
}

static bool
same_row(const TouchedChange *c, const char *sku, const char *location_id)
{
	return strcmp(c->sku, sku) == 0 && strcmp(c->location_id, location_id) == 0;
}

void
note_touched(const StockKey *key, const char *order_id, int64 units)
{
	note_change(touched_entry(key->client_id, order_id), key, units, false);
}

/*
 * An app's line edit gave back units of the order at a stock row.  If the
 * order gained units there in this transaction that no event has named yet,
 * its event must not name those it no longer holds (settle_input).
 */
void
note_given_back(const StockKey *key, const char *order_id, int64 units)
{
	TouchedOrder *entry = touched_find(key->client_id, order_id);
	int			i;

	if (entry == NULL)
		return;
	for (i = 0; i < entry->n_changes; i++)
		if (entry->changes[i].reported_in == InvalidSubTransactionId &&
			entry->changes[i].units > 0 && same_row(&entry->changes[i], key->sku, key->location_id))
		{
			note_change(touched_entry(key->client_id, order_id), key, -units, true);
			return;
		}
}

/*
 * The settle input of an entry about to be settled (NULL: not touched): the
 * changes no event has named yet.  Marks the entry settled and those changes
 * reported, in the current subtransaction.
 */
static void
settle_input(SettleInput *in, TouchedOrder *entry)
{
	StringInfoData detail;
	bool		deallocated = false;
	int64	   *shown;
	int			n = 0,
				i,
				j;

	in->cause = SETTLE_HOLD_CHANGE;
	in->detail = NULL;
	if (entry == NULL)
		return;
	entry->settled_in = GetCurrentSubTransactionId();

	/*
	 * What each change shows: units a line edit gave back cancel those the
	 * order gained at that stock row before it, latest first.
	 */
	shown = palloc0(sizeof(int64) * (entry->n_changes + 1));
	for (i = 0; i < entry->n_changes; i++)
	{
		TouchedChange *c = &entry->changes[i];
		int64		give = -c->units;

		if (c->reported_in != InvalidSubTransactionId)
			continue;
		if (!c->by_edit)
		{
			shown[i] = c->units;
			continue;
		}
		for (j = i - 1; j >= 0 && give > 0; j--)
		{
			TouchedChange *gained = &entry->changes[j];
			int64		cancel;

			if (gained->reported_in != InvalidSubTransactionId || gained->by_edit ||
				shown[j] <= 0 || !same_row(gained, c->sku, c->location_id))
				continue;
			cancel = Min(give, shown[j]);
			shown[j] -= cancel;
			give -= cancel;
		}
	}

	initStringInfo(&detail);
	appendStringInfoString(&detail, "\"changes\": [");
	for (i = 0; i < entry->n_changes; i++)
	{
		TouchedChange *c = &entry->changes[i];

		if (c->reported_in != InvalidSubTransactionId)
			continue;
		c->reported_in = entry->settled_in;
		if (shown[i] == 0)
			continue;
		appendStringInfoString(&detail, n++ ? ", {\"sku\": " : "{\"sku\": ");
		escape_json(&detail, c->sku);
		appendStringInfoString(&detail, ", \"location_id\": ");
		escape_json(&detail, c->location_id);
		appendStringInfo(&detail, ", \"units\": " INT64_FORMAT "}", shown[i]);
		deallocated |= shown[i] < 0;
	}
	appendStringInfoChar(&detail, ']');
	/* Where nothing moved, only holds can change: no allocation event. */
	if (n == 0)
		return;
	in->cause = deallocated ? SETTLE_DEALLOCATED : SETTLE_ALLOCATED;
	in->detail = detail.data;
}

/*
 * Drops entries settled at the top level: no abort short of the
 * transaction's can undo that, so they need no marks (and a long transaction
 * settling statement by statement does not rescan them).  One touched again
 * while it was settled (a split rule) is to be settled and stays.
 */
static void
forget_settled(TouchedOrder **entries, int n)
{
	int			i;

	if (GetCurrentSubTransactionId() != TopSubTransactionId)
		return;
	for (i = 0; i < n; i++)
		if (entries[i] != NULL && entries[i]->settled_in != InvalidSubTransactionId)
			hash_search(touched, entries[i]->key, HASH_REMOVE, NULL);
}

/*
 * Settles one order now, for a caller that holds its row lock and all its
 * stock rows (order_ops.c), with what this transaction did to its lines.
 */
void
settle_now(const char *client_id, const char *order_id)
{
	char	   *c = (char *) client_id;
	char	   *o = (char *) order_id;

	settle_now_many(1, &c, &o);
}

/* settle_now() for several orders, in one batch (settle_orders). */
void
settle_now_many(int n, char **client_ids, char **order_ids)
{
	SettleInput *inputs = palloc0(sizeof(SettleInput) * (n + 1));
	TouchedOrder **entries = palloc0(sizeof(TouchedOrder *) * (n + 1));
	int			i;

	for (i = 0; i < n; i++)
	{
		entries[i] = touched_find(client_ids[i], order_ids[i]);
		settle_input(&inputs[i], entries[i]);
	}
	settle_orders(n, client_ids, order_ids, inputs);
	forget_settled(entries, n);
}

/*
 * Settles the touched orders not settled yet as one batch: locked in release
 * order, then settled.  Returns false when there were none.
 */
static bool
settle_batch(void)
{
	static SPIPlanPtr lock_plan[2];
	static const Oid types[2] = {TEXTARRAYOID, TEXTARRAYOID};
	long		max = touched ? hash_get_num_entries(touched) : 0;
	char	  **clients = palloc(sizeof(char *) * (max + 1));
	char	  **orders = palloc(sizeof(char *) * (max + 1));
	TouchedOrder **entries = palloc(sizeof(TouchedOrder *) * (max + 1));
	HASH_SEQ_STATUS seq;
	TouchedOrder *entry;
	Datum		values[2];
	long		n = 0;
	uint64		r;

	if (max == 0)
		return false;
	hash_seq_init(&seq, touched);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		char	   *sep = strchr(entry->key, '\x1f');

		if (entry->settled_in != InvalidSubTransactionId)
			continue;
		/* settled from here on, even if its order row is not found below */
		entry->settled_in = GetCurrentSubTransactionId();
		entries[n] = entry;
		clients[n] = pnstrdup(entry->key, sep - entry->key);
		orders[n++] = pstrdup(sep + 1);
	}
	if (n == 0)
		return false;

	values[0] = text_array_datum(clients, (int) n);
	values[1] = text_array_datum(orders, (int) n);
	/* LockRows sits above the Sort: rows are locked in release order. */
	run_batch_plan(lock_plan, (int) n,
			 "SELECT o.client_id, o.order_id"
			 "  FROM unnest($1, $2) AS t(client_id, order_id)"
			 "  JOIN backorder.orders o ON o.client_id = t.client_id AND o.order_id = t.order_id"
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
			lc[r] = SPI_getvalue(locked->vals[r], locked->tupdesc, 1);
			lo[r] = SPI_getvalue(locked->vals[r], locked->tupdesc, 2);
			settle_input(&inputs[r], touched_find(lc[r], lo[r]));
		}
		/* In release order, all in one batch. */
		settle_orders((int) n_locked, lc, lo, inputs);
	}
	forget_settled(entries, (int) n);
	return true;
}

/*
 * Settles every touched order, batch after batch.  First the completion pass,
 * if complete_only left it work and the transaction's intake is done (the
 * intake asks again when it is): it takes stock rows, so it comes before any
 * order row is locked here (rule 1), and the orders it completes are settled
 * in the same batch.  Settling can touch nothing new, but loop in case a
 * caller (a split rule) adds more while we work.
 */
static void
settle_batches(bool with_pass)
{
	for (;;)
	{
		if (with_pass && completion_pass_pending() && !intake_pending())
			completion_pass();
		if (!settle_batch())
			break;
	}
}

typedef struct SettleCall
{
	ItemPointer request;		/* the request row, or NULL */
	bool		with_pass;
} SettleCall;

static void
settle_touched(void *arg)
{
	static SPIPlanPtr done_plan = NULL;
	static const Oid tid_type[1] = {TIDOID};
	SettleCall *call = arg;
	Datum		request[1];

	/* The request row has done its job. */
	if (call->request != NULL)
	{
		request[0] = PointerGetDatum(call->request);
		run_plan(&done_plan, "DELETE FROM backorder.settle_request WHERE ctid = $1",
				 1, tid_type, request, NULL, 0);
	}
	/* Fired by a grant of the completion pass: settle_batches settles when the pass is done. */
	if (completion_pass_running())
		return;

	/*
	 * At commit (not inside an engine statement) this request may fire before
	 * the intake events of lines written after it: evaluate those orders first,
	 * as their intake would, so that no order is settled with lines not yet
	 * placed (read as unknown SKUs).
	 */
	if (call->with_pass)
		intake_evaluate_pending();
	settle_batches(call->with_pass);
}

/*
 * Called by engine_run() when the outermost engine operation ends.  Under SET
 * CONSTRAINTS ... IMMEDIATE the settle trigger fires inside the engine's own
 * statements, in the middle of an operation that may still be walking a
 * queue or hold order rows: there it settles only, and the completion pass
 * runs here, once the operation is done, like at commit.
 */
void
deferred_settle_after_operation(void)
{
	SettleCall	call = {NULL, true};

	if (!pass_after_operation)
		return;
	pass_after_operation = false;
	engine_run(settle_touched, &call);
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

	{
		SettleCall	call;

		/*
		 * Fired inside an engine statement (SET CONSTRAINTS ... IMMEDIATE):
		 * settle now, the completion pass when the operation is done.
		 */
		call.request = &td->tg_trigtuple->t_self;
		call.with_pass = engine_depth == 0;
		if (!call.with_pass && completion_pass_pending())
			pass_after_operation = true;
		engine_run(settle_touched, &call);
	}
	/* After the work: what it touches is settled by its own loop; later statements ask again. */
	settle_requested = false;
	return PointerGetDatum(NULL);
}

/*
 * backorder.sku_changed() — AFTER UPDATE trigger on backorder.sku, fired when
 * a SKU's status or backorderable flag changes.  Which inventory hold a short
 * line calls for depends on them (out_of_stock for a restockable SKU,
 * discontinued otherwise: invariant 4), so every open order with a waiting
 * line of the SKU is settled again at commit, with the other touched orders,
 * in release order.  Nothing is allocated or taken back: a catalog edit moves
 * no stock.
 */
typedef struct SkuChange
{
	const char *client_id;
	const char *sku;
} SkuChange;

static void
sku_changed_work(void *arg)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {TEXTOID, TEXTOID};
	SkuChange  *c = arg;
	Datum		values[2];
	uint64		r;

	values[0] = text_datum(c->client_id);
	values[1] = text_datum(c->sku);
	/* Waiting lines are exactly the short lines of open orders (invariant 5): the queue index. */
	run_plan(&plan,
			 "SELECT DISTINCT order_id FROM backorder.order_line"
			 " WHERE client_id = $1 AND sku = $2 AND waiting",
			 2, types, values, NULL, 0);
	for (r = 0; r < SPI_processed; r++)
		touched_entry(c->client_id, spi_text(r, 1));
	if (SPI_processed > 0)
		request_settle();
}

Datum
backorder_sku_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	SkuChange	c;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.sku_changed: not called by trigger manager");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		elog(ERROR, "backorder.sku_changed: must be fired AFTER UPDATE ... FOR EACH ROW");

	tupdesc = td->tg_relation->rd_att;
	c.client_id = SPI_getvalue(td->tg_newtuple, tupdesc, SPI_fnumber(tupdesc, "client_id"));
	c.sku = SPI_getvalue(td->tg_newtuple, tupdesc, SPI_fnumber(tupdesc, "sku"));
	engine_run(sku_changed_work, &c);
	return PointerGetDatum(NULL);
}

/*
 * backorder.policy_changed() — AFTER UPDATE trigger on backorder.client, fired
 * when a client's allocation_policy becomes 'reserve'.  Under complete_only
 * units may stay free while lines wait for them; under reserve they may not
 * (invariant 5).  So every stock row of the client where units are free and
 * lines wait is locked, in key order, and served under reserve now; the
 * orders it serves are settled at commit like a receipt's.
 */
static void
policy_changed_work(void *arg)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	const char *client_id = arg;
	Datum		values[1];
	StockKey   *keys;
	int64	   *on_hand,
			   *allocated;
	int			n,
				i;

	values[0] = text_datum(client_id);
	run_plan(&plan,
			 "SELECT s.sku, s.location_id FROM backorder.stock s"
			 " WHERE s.client_id = $1 AND s.on_hand > s.allocated"
			 "   AND EXISTS (SELECT 1 FROM backorder.order_line l"
			 "                WHERE l.client_id = s.client_id AND l.sku = s.sku"
			 "                  AND l.location_id = s.location_id AND l.waiting)"
			 " ORDER BY s.sku, s.location_id",
			 1, types, values, NULL, 0);
	n = (int) SPI_processed;
	if (n == 0)
		return;
	keys = palloc(sizeof(StockKey) * n);
	for (i = 0; i < n; i++)
	{
		keys[i].client_id = (char *) client_id;
		keys[i].sku = spi_text(i, 1);
		keys[i].location_id = spi_text(i, 2);
	}
	on_hand = palloc(sizeof(int64) * n);
	allocated = palloc(sizeof(int64) * n);
	/* Rule 2: the rows in key order; then read under the locks. */
	lock_stock_rows(keys, n, on_hand, allocated);
	for (i = 0; i < n; i++)
		if (on_hand[i] > allocated[i])
			serve_queue(&keys[i], POLICY_RESERVE, on_hand[i] - allocated[i]);
}

Datum
backorder_policy_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "backorder.policy_changed: not called by trigger manager");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		elog(ERROR, "backorder.policy_changed: must be fired AFTER UPDATE ... FOR EACH ROW");

	tupdesc = td->tg_relation->rd_att;
	engine_run(policy_changed_work,
			   SPI_getvalue(td->tg_newtuple, tupdesc, SPI_fnumber(tupdesc, "client_id")));
	return PointerGetDatum(NULL);
}
