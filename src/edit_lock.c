/*
 * edit_lock.c — the edit lock (rule 0 in pg_backorder.h): engine paths hold
 * it shared; app statements that edit existing orders (and the catalog
 * settings the engine follows) take it exclusively before any row lock.
 *
 * A transaction that did engine work holds it shared already, and stock or
 * order rows with it; its edit then upgrades the lock and waits for every
 * other engine path.  If one of those waits in turn for a row this
 * transaction holds, that is a deadlock, and PostgreSQL's detector cancels
 * whichever waited first: the other transaction, which followed every rule
 * (an autocommit receive(), say).  So before waiting, the upgrade looks for
 * such a holder and, finding one, cancels itself: the transaction that broke
 * the order of locks is the one to retry.  (One that starts waiting for it
 * later, after deadlock_timeout, is left to PostgreSQL's detector.)
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/sinvaladt.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "pg_backorder.h"

/* An advisory lock in a key space of our own ("BAKO"; key 2 is the forecast refresh's). */
#define EDIT_LOCK_KEY1	0x42414b4f
#define EDIT_LOCK_KEY2	1

static void
edit_lock_tag(LOCKTAG *tag)
{
	/* as pg_advisory_xact_lock(int4, int4) names it */
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, EDIT_LOCK_KEY1, EDIT_LOCK_KEY2, 2);
}

void
edit_lock_shared(void)
{
	LOCKTAG		tag;

	edit_lock_tag(&tag);
	(void) LockAcquire(&tag, ShareLock, false, false);
}

/* Does backend pid wait for a lock this backend holds? */
static bool
waits_for_me(int pid)
{
	ArrayType  *blockers = DatumGetArrayTypeP(DirectFunctionCall1(pg_blocking_pids, Int32GetDatum(pid)));
	Datum	   *pids;
	int			n,
				i;

	deconstruct_array(blockers, INT4OID, sizeof(int32), true, TYPALIGN_INT, &pids, NULL, &n);
	for (i = 0; i < n; i++)
		if (DatumGetInt32(pids[i]) == MyProcPid)
			return true;
	return false;
}

void
edit_lock_exclusive(void)
{
	LOCKTAG		tag;
	VirtualTransactionId *holders;

	edit_lock_tag(&tag);
	if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;
	/* Whether or not it holds the lock shared: rows locked by SELECT ... FOR UPDATE count too. */
	for (holders = GetLockConflicts(&tag, ExclusiveLock, NULL);
		 VirtualTransactionIdIsValid(*holders); holders++)
	{
		PGPROC	   *proc = BackendIdGetProc(holders->backendId);

		if (proc != NULL && waits_for_me(proc->pid))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_DEADLOCK_DETECTED),
					 errmsg("deadlock: this transaction edits existing orders while another transaction's engine work waits for it"),
					 errdetail("Process %d waits for a row this transaction locked (by engine work or SELECT ... FOR UPDATE), and this edit would wait for that process.", proc->pid),
					 errhint("Edit existing orders first in the transaction, or in a transaction of their own; retry this transaction.")));
	}
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * backorder.lock_for_edit() — the edit lock, exclusively, for SQL code that
 * changes several existing orders through the order functions one by one
 * (ingest_shopify_order's split families): their stock rows, locked order by
 * order, are not in key order, so nothing else may run beside them.
 */
PG_FUNCTION_INFO_V1(backorder_lock_for_edit);

Datum
backorder_lock_for_edit(PG_FUNCTION_ARGS)
{
	edit_lock_exclusive();
	PG_RETURN_VOID();
}
