/*
 * key_queue.c — stock rows (or orders) remembered for work later in the
 * transaction (the completion pass, the split watch and the split rules it
 * runs at commit, the units line edits freed), kept right across savepoints.
 *
 * A subtransaction that takes the rows and then aborts has its work undone:
 * the rows are given back, so the work is done again at commit (PostgreSQL
 * fires again a deferred trigger event that fired in it).  Rows added in it
 * stay: work on a row whose movement was undone finds nothing to do.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "pg_backorder.h"

typedef struct TakenKey
{
	void	   *key;
	SubTransactionId taken_in;
} TakenKey;

/* Adds an item the caller allocated in TopTransactionContext. */
void
key_queue_push(KeyQueue *q, void *item)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

	q->pending = lappend(q->pending, item);
	MemoryContextSwitchTo(old);
}

void
key_queue_add(KeyQueue *q, const StockKey *key)
{
	key_queue_push(q, stock_key_copy_for_transaction(key));
}

bool
key_queue_contains(const KeyQueue *q, const StockKey *key)
{
	ListCell   *lc;

	foreach(lc, q->pending)
		if (stock_key_cmp(lfirst(lc), key) == 0)
			return true;
	return false;
}

/*
 * Takes every pending item (StockKey * unless pushed otherwise, in the order added).  Taken
 * at the top level, they are gone; in a subtransaction, kept until it ends.
 */
List *
key_queue_take(KeyQueue *q)
{
	List	   *taken = q->pending;
	SubTransactionId here = GetCurrentSubTransactionId();
	MemoryContext old;
	ListCell   *lc;

	q->pending = NIL;
	if (here == TopSubTransactionId)
		return taken;
	old = MemoryContextSwitchTo(TopTransactionContext);
	foreach(lc, taken)
	{
		TakenKey   *t = palloc(sizeof(TakenKey));

		t->key = lfirst(lc);
		t->taken_in = here;
		q->taken = lappend(q->taken, t);
	}
	MemoryContextSwitchTo(old);
	return taken;
}

/* From a subtransaction callback: gives back what the aborted one took. */
void
key_queue_subxact_abort(KeyQueue *q, SubTransactionId mySubid)
{
	List	   *kept = NIL;
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	ListCell   *lc;

	foreach(lc, q->taken)
	{
		TakenKey   *t = lfirst(lc);

		if (t->taken_in >= mySubid)
			q->pending = lappend(q->pending, t->key);
		else
			kept = lappend(kept, t);
	}
	q->taken = kept;
	MemoryContextSwitchTo(old);
}

/* From a transaction callback: the memory goes with TopTransactionContext. */
void
key_queue_reset(KeyQueue *q)
{
	q->pending = NIL;
	q->taken = NIL;
}
