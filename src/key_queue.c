/*
 * key_queue.c — stock rows (or orders) remembered for work later in the
 * transaction (the completion pass, the split watch and the split rules it
 * runs at commit, the units line edits freed), kept right across savepoints.
 *
 * A subtransaction that aborts has its work undone, and so is what it
 * queued: the rows it added are dropped (work on them could still find
 * something to do: under complete_only, a walk over free units reaches other
 * orders first), and the rows it took that were queued before it are given
 * back, so that work is done again at commit (PostgreSQL fires again a
 * deferred trigger event that fired in it).
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "pg_backorder.h"

typedef struct QueuedItem
{
	void	   *item;
	SubTransactionId added_in;
	SubTransactionId taken_in;
} QueuedItem;

/* Adds an item the caller allocated in TopTransactionContext. */
void
key_queue_push(KeyQueue *q, void *item)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	QueuedItem *e = palloc(sizeof(QueuedItem));

	e->item = item;
	e->added_in = GetCurrentSubTransactionId();
	e->taken_in = InvalidSubTransactionId;
	q->pending = lappend(q->pending, e);
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
		if (stock_key_cmp(((QueuedItem *) lfirst(lc))->item, key) == 0)
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
	List	   *items = NIL;
	SubTransactionId here = GetCurrentSubTransactionId();
	ListCell   *lc;

	foreach(lc, q->pending)
	{
		QueuedItem *e = lfirst(lc);

		items = lappend(items, e->item);
		if (here != TopSubTransactionId)
		{
			MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

			e->taken_in = here;
			q->taken = lappend(q->taken, e);
			MemoryContextSwitchTo(old);
		}
	}
	list_free(q->pending);
	q->pending = NIL;
	return items;
}

/*
 * From a subtransaction callback: drops what the aborted one (or one inside
 * it) added, gives back what it took of the rest.
 */
void
key_queue_subxact_abort(KeyQueue *q, SubTransactionId mySubid)
{
	List	   *pending = NIL,
			   *kept = NIL;
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	ListCell   *lc;

	foreach(lc, q->pending)
	{
		QueuedItem *e = lfirst(lc);

		if (e->added_in < mySubid)
			pending = lappend(pending, e);
	}
	foreach(lc, q->taken)
	{
		QueuedItem *e = lfirst(lc);

		if (e->taken_in < mySubid)
			kept = lappend(kept, e);
		else if (e->added_in < mySubid)
			pending = lappend(pending, e);
	}
	q->pending = pending;
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
