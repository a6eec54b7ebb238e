/*
 * stock_known.c — the stock rows this backend has seen exist.
 *
 * lock_stock_rows (stock.c) must create missing stock rows before it locks
 * any row, which costs one statement of index probes per call; yet almost
 * every row it is asked for exists (rows are created once and never deleted:
 * apps cannot delete them and the engine does not).  So the keys of rows
 * this backend has locked are remembered, and a call whose keys are all
 * remembered goes straight to the lock.  If a remembered row is gone after
 * all (TRUNCATE ... CASCADE by an owner, a reinstalled extension, rows
 * deleted with triggers disabled), the lock finds fewer rows than keys and
 * the caller creates them then (stock.c).
 *
 * What is remembered must be committed, or ours and about to be: an abort
 * of the transaction or of any subtransaction may undo rows we created, so
 * it forgets everything (aborts are rare; the set refills at the next
 * locks).  So does a new relation or relfilenode of backorder.stock (DROP
 * and CREATE EXTENSION, TRUNCATE).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "pg_backorder.h"

/* lengths: the tables' CHECKs (in bytes for ASCII; longer keys are not remembered) */
typedef struct KnownKey
{
	char		client_id[64 + 1];
	char		sku[128 + 1];
	char		location_id[64 + 1];
} KnownKey;

/* enough for every SKU and warehouse of a large client; past it, keys are not remembered */
#define KNOWN_MAX 65536

static HTAB *known = NULL;
static Oid	stock_relid = InvalidOid;	/* backorder.stock when the set was begun */
static Oid	stock_relfilenode = InvalidOid;
static bool stock_recheck = false;	/* its relcache entry was invalidated since */

static void
forget_all(void)
{
	if (known != NULL)
		hash_destroy(known);
	known = NULL;
}

/*
 * VACUUM and ANALYZE invalidate the entry too, daily on a busy system: so an
 * invalidation only asks for a look at pg_class before the next use.
 */
static void
known_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == stock_relid)
		stock_recheck = true;
}

/* The current backorder.stock's OID and relfilenode. */
static void
stock_relation(Oid *relid, Oid *relfilenode)
{
	HeapTuple	tuple;

	*relid = get_relname_relid("stock", get_namespace_oid("backorder", false));
	*relfilenode = InvalidOid;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(*relid));
	if (HeapTupleIsValid(tuple))
	{
		*relfilenode = ((Form_pg_class) GETSTRUCT(tuple))->relfilenode;
		ReleaseSysCache(tuple);
	}
}

/* Was backorder.stock dropped, recreated or truncated since the set was begun? */
static bool
stock_relation_changed(void)
{
	Oid			relid,
				relfilenode;

	if (!stock_recheck)
		return false;
	stock_recheck = false;
	stock_relation(&relid, &relfilenode);
	return relid != stock_relid || relfilenode != stock_relfilenode;
}

static void
known_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		forget_all();
}

static void
known_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		forget_all();
}

void
stock_known_init(void)
{
	CacheRegisterRelcacheCallback(known_relcache_callback, (Datum) 0);
	RegisterXactCallback(known_xact_callback, NULL);
	RegisterSubXactCallback(known_subxact_callback, NULL);
}

/* The key of `k`, or false if it does not fit. */
static bool
known_key(const StockKey *k, KnownKey *out)
{
	if (strlen(k->client_id) >= sizeof(out->client_id) || strlen(k->sku) >= sizeof(out->sku) ||
		strlen(k->location_id) >= sizeof(out->location_id))
		return false;
	memset(out, 0, sizeof(*out));	/* hashed and compared as bytes */
	strcpy(out->client_id, k->client_id);
	strcpy(out->sku, k->sku);
	strcpy(out->location_id, k->location_id);
	return true;
}

/*
 * Marks in unknown[] the keys whose stock rows are not known to exist;
 * returns how many.
 */
int
stock_keys_unknown(const StockKey *keys, int n, bool *unknown)
{
	KnownKey	k;
	int			i,
				n_unknown = 0;

	if (known != NULL && stock_relation_changed())
		forget_all();
	for (i = 0; i < n; i++)
	{
		unknown[i] = known == NULL || !known_key(&keys[i], &k) ||
			hash_search(known, &k, HASH_FIND, NULL) == NULL;
		n_unknown += unknown[i];
	}
	return n_unknown;
}

/* Remembers that the stock rows of `keys` exist (this transaction has just locked them). */
void
stock_keys_remember(const StockKey *keys, int n)
{
	KnownKey	k;
	int			i;

	if (known == NULL)
	{
		HASHCTL		ctl;

		/* the relation whose replacement empties the set; looked up while it exists */
		stock_relation(&stock_relid, &stock_relfilenode);
		stock_recheck = false;
		ctl.keysize = sizeof(KnownKey);
		ctl.entrysize = sizeof(KnownKey);
		known = hash_create("pg_backorder known stock rows", 256, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	for (i = 0; i < n && hash_get_num_entries(known) < KNOWN_MAX; i++)
		if (known_key(&keys[i], &k))
			(void) hash_search(known, &k, HASH_ENTER, NULL);
}
