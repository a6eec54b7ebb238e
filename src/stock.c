/*
 * stock.c — stock rows: locking in key order, applying deltas, client policy.
 *
 * A stock row is the lock that guards every allocation at its SKU and
 * location (DESIGN.md: every path that changes `allocated` holds it).  A row
 * that does not exist yet is created with zero quantities before it is
 * locked, so "waiting at a location that never had stock" has a lock too.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/memutils.h"

#include "pg_backorder.h"

/*
 * The highest stock key this transaction has locked (TopTransactionContext).
 * Rule 2 seen from one transaction: it may wait only for a row above every
 * row it holds.  complete_only's completion pass (queue.c) asks this to know
 * which rows it may wait for.  A subtransaction abort releases locks but
 * leaves the mark: too high is safe (the pass waits less), never too low.
 */
static StockKey highest_locked;
static bool have_locked = false;

static void
stock_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		have_locked = false;	/* the strings go with TopTransactionContext */
}

void
stock_init(void)
{
	RegisterXactCallback(stock_xact_callback, NULL);
}

/* A copy of `key` that lives until the end of the transaction. */
StockKey *
stock_key_copy_for_transaction(const StockKey *key)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	StockKey   *copy = palloc(sizeof(StockKey));

	copy->client_id = pstrdup(key->client_id);
	copy->sku = pstrdup(key->sku);
	copy->location_id = pstrdup(key->location_id);
	MemoryContextSwitchTo(old);
	return copy;
}

/* Records that this transaction holds the lock of the stock row `key`. */
void
note_stock_locked(const StockKey *key)
{
	MemoryContext old;

	if (have_locked && stock_key_cmp(key, &highest_locked) <= 0)
		return;
	old = MemoryContextSwitchTo(TopTransactionContext);
	highest_locked.client_id = pstrdup(key->client_id);
	highest_locked.sku = pstrdup(key->sku);
	highest_locked.location_id = pstrdup(key->location_id);
	MemoryContextSwitchTo(old);
	have_locked = true;
}

/* May this transaction wait for the lock of `key` without breaking rule 2? */
bool
stock_key_above_locked(const StockKey *key)
{
	return !have_locked || stock_key_cmp(key, &highest_locked) > 0;
}

int
stock_key_cmp(const void *a, const void *b)
{
	const StockKey *x = a;
	const StockKey *y = b;
	int			c;

	if ((c = strcmp(x->client_id, y->client_id)) != 0)
		return c;
	if ((c = strcmp(x->sku, y->sku)) != 0)
		return c;
	return strcmp(x->location_id, y->location_id);
}

/* Sorts keys into lock order and drops duplicates; returns the new count. */
int
sort_unique_stock_keys(StockKey *keys, int n)
{
	int			i,
				out = 0;

	if (n <= 1)
		return n;
	qsort(keys, n, sizeof(StockKey), stock_key_cmp);
	for (i = 0; i < n; i++)
		if (out == 0 || stock_key_cmp(&keys[out - 1], &keys[i]) != 0)
			keys[out++] = keys[i];
	return out;
}

/*
 * Locks the stock rows of `keys` (sorted and unique, see above) and returns
 * their quantities, in one statement, in the keys' order: the byte order of
 * sort_unique_stock_keys(), the same in every path.  Missing rows are
 * created first (with zero quantities), so "waiting at a location that never
 * had stock" has a lock too.
 *
 * Creating comes before locking any row: the INSERT waits for a transaction
 * that is creating one of the rows itself, and a row taken before that wait
 * (one above it in key order) could be the one that transaction waits for
 * next (rule 2).  One key alone is locked first and created only if missing.
 */
/* The keys (those with include[i], or all if include is NULL) as three text arrays. */
static int
stock_key_arrays(const StockKey *keys, int n, const bool *include, Datum *values)
{
	char	  **clients = palloc(sizeof(char *) * n);
	char	  **skus = palloc(sizeof(char *) * n);
	char	  **locations = palloc(sizeof(char *) * n);
	int			i,
				m = 0;

	for (i = 0; i < n; i++)
		if (include == NULL || include[i])
		{
			clients[m] = keys[i].client_id;
			skus[m] = keys[i].sku;
			locations[m++] = keys[i].location_id;
		}
	values[0] = text_array_datum(clients, m);
	values[1] = text_array_datum(skus, m);
	values[2] = text_array_datum(locations, m);
	return m;
}

void
lock_stock_rows(StockKey *keys, int n, int64 *on_hand, int64 *allocated)
{
	static SPIPlanPtr lock_plan = NULL;
	static SPIPlanPtr create_plan = NULL;
	static const Oid types[3] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	/*
	 * One index lookup per key, locked in the order of the keys (rule 2):
	 * the lateral join walks the array in order and locks as it goes.
	 */
	static const char *lock_sql =
		"SELECT s.on_hand, s.allocated"
		"  FROM unnest($1, $2, $3) WITH ORDINALITY AS k(client_id, sku, location_id, i)"
		"  CROSS JOIN LATERAL (SELECT on_hand, allocated FROM backorder.stock"
		"                       WHERE client_id = k.client_id AND sku = k.sku AND location_id = k.location_id"
		"                         FOR UPDATE) s"
		" ORDER BY k.i";
	Datum		values[3];
	Datum		create_values[3];
	bool	   *unknown;
	bool		all_locked = false;
	int			i;

	if (n == 0)
		return;
	stock_key_arrays(keys, n, NULL, values);
	unknown = palloc(sizeof(bool) * n);

	/* rows known to exist (stock_known.c) need no create; one key alone is tried first */
	if (n == 1 || stock_keys_unknown(keys, n, unknown) == 0)
	{
		run_plan(&lock_plan, lock_sql, 3, types, values, NULL, 0);
		all_locked = SPI_processed == (uint64) n;
		/*
		 * Not all there: then the create runs while the rows found are held.
		 * For n > 1 that is a row known to exist that was deleted behind the
		 * engine's back: the one case where the wait above can happen.
		 */
		for (i = 0; i < n; i++)
			unknown[i] = true;
	}
	if (!all_locked)
	{
		/* the unknown keys in key order (the array's); rows that exist are skipped without a lock */
		stock_key_arrays(keys, n, unknown, create_values);
		run_plan(&create_plan,
				 "INSERT INTO backorder.stock (client_id, sku, location_id, updated_at)"
				 " SELECT k.client_id, k.sku, k.location_id, backorder.now()"
				 "   FROM unnest($1, $2, $3) WITH ORDINALITY AS k(client_id, sku, location_id, i)"
				 "  WHERE NOT EXISTS (SELECT 1 FROM backorder.stock s WHERE s.client_id = k.client_id"
				 "                       AND s.sku = k.sku AND s.location_id = k.location_id)"
				 "  ORDER BY k.i ON CONFLICT DO NOTHING",
				 3, types, create_values, NULL, 0);
		run_plan(&lock_plan, lock_sql, 3, types, values, NULL, 0);
		if (SPI_processed != (uint64) n)
			elog(ERROR, "pg_backorder: " UINT64_FORMAT " of %d stock rows locked",
				 SPI_processed, n);
	}
	stock_keys_remember(keys, n);
	for (i = 0; i < n; i++)
	{
		note_stock_locked(&keys[i]);
		if (on_hand)
			on_hand[i] = spi_int64(i, 1);
		if (allocated)
			allocated[i] = spi_int64(i, 2);
	}
}

/* A stock key as the first three parameters ($1 client, $2 SKU, $3 location) of a statement. */
void
stock_key_values(const StockKey *key, Datum *values)
{
	values[0] = text_datum(key->client_id);
	values[1] = text_datum(key->sku);
	values[2] = text_datum(key->location_id);
}

/*
 * Locks the stock row of `key` if it exists and reads its quantities;
 * returns false, locking nothing, if there is none yet.  A movement at an
 * existing stock row needs no catalog lookups: the row references its client,
 * SKU and warehouse.
 */
bool
lock_stock_row_if_exists(const StockKey *key, int64 *on_hand, int64 *allocated)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];

	stock_key_values(key, values);
	run_plan(&plan,
			 "SELECT on_hand, allocated FROM backorder.stock"
			 " WHERE client_id = $1 AND sku = $2 AND location_id = $3 FOR UPDATE",
			 3, types, values, NULL, 1);
	if (SPI_processed == 0)
		return false;
	note_stock_locked(key);
	*on_hand = spi_int64(0, 1);
	*allocated = spi_int64(0, 2);
	return true;
}

/*
 * Moves `allocated` of several stock rows of one client whose locks this
 * transaction holds, in one statement.
 */
void
stock_apply_allocated(const char *client_id, StockKey *keys, const int64 *deltas, int n)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID};
	char	  **skus = palloc(sizeof(char *) * (n + 1));
	char	  **locations = palloc(sizeof(char *) * (n + 1));
	int64	   *d = palloc(sizeof(int64) * (n + 1));
	int			m = 0,
				i;
	Datum		values[4];

	for (i = 0; i < n; i++)
		if (deltas[i] != 0)
		{
			skus[m] = keys[i].sku;
			locations[m] = keys[i].location_id;
			d[m++] = deltas[i];
		}
	if (m == 0)
		return;
	values[0] = text_datum(client_id);
	values[1] = text_array_datum(skus, m);
	values[2] = text_array_datum(locations, m);
	values[3] = int8_array_datum(d, m);
	run_plan(&plan,
			 "UPDATE backorder.stock s SET allocated = s.allocated + d.delta, updated_at = backorder.now()"
			 "  FROM unnest($2, $3, $4) AS d(sku, location_id, delta)"
			 " WHERE s.client_id = $1 AND s.sku = d.sku AND s.location_id = d.location_id",
			 4, types, values, NULL, 0);
}

/* Applies deltas to a stock row whose lock this transaction holds. */
void
stock_apply(const StockKey *key, int64 on_hand_delta, int64 allocated_delta)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[5] = {TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID};
	Datum		values[5];

	if (on_hand_delta == 0 && allocated_delta == 0)
		return;
	stock_key_values(key, values);
	values[3] = Int64GetDatum(on_hand_delta);
	values[4] = Int64GetDatum(allocated_delta);
	run_plan(&plan,
			 "UPDATE backorder.stock SET on_hand = on_hand + $4, allocated = allocated + $5,"
			 " updated_at = backorder.now()"
			 " WHERE client_id = $1 AND sku = $2 AND location_id = $3",
			 5, types, values, NULL, 0);
	if (SPI_processed != 1)
		elog(ERROR, "pg_backorder: stock row for %s/%s/%s not found",
			 key->client_id, key->sku, key->location_id);
}

AllocationPolicy
client_policy(const char *client_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {TEXTOID};
	Datum		values[1];
	char	   *policy;

	values[0] = text_datum(client_id);
	run_plan(&plan, "SELECT allocation_policy FROM backorder.client WHERE client_id = $1",
			 1, types, values, NULL, 1);
	if (SPI_processed == 0)
		require_client(client_id);	/* raises the user-facing error */
	policy = spi_text(0, 1);
	return strcmp(policy, "complete_only") == 0 ? POLICY_COMPLETE_ONLY : POLICY_RESERVE;
}
