/*
 * pg_backorder.c — module entry and the engine context.
 *
 * Every engine entry point (trigger or SQL function that reads or writes
 * through SPI) runs its work through engine_run(), which
 *   - connects SPI,
 *   - pins search_path to pg_catalog, pg_temp for the duration, so a caller's
 *     search_path can neither shadow our objects nor make the cached plans
 *     replan on every call, and turns JIT off (our statements are short),
 *   - raises engine_depth, which the guard triggers read to tell the engine's
 *     own writes from an app's,
 *   - takes the edit lock in shared mode (rule 0 in pg_backorder.h),
 *   - refuses REPEATABLE READ and SERIALIZABLE, whose snapshots would hide
 *     what concurrent transactions committed under the same locks,
 * and undoes all of it on the way out, error or not.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "jit/jit.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "pg_backorder.h"

PG_MODULE_MAGIC;

int			engine_depth = 0;

/*
 * How many engine_run() calls are active, and which outermost one (a
 * counter, engine_operation()).  Inside one, the edit lock is held and the
 * isolation level was checked; a nested call (a row trigger that fires on
 * the engine's own statement, once per row) only needs SPI, unless code in
 * between (a function with SET search_path in an app's trigger, say) changed
 * the settings the outer call pinned: then it pins them again.
 */
static int	engine_run_depth = 0;
static uint64 engine_operation_counter = 0;

#define ENGINE_SEARCH_PATH "pg_catalog, pg_temp"

uint64
engine_operation(void)
{
	return engine_run_depth > 0 ? engine_operation_counter : 0;
}

static char *backorder_now_setting = NULL;
static char *backorder_client_setting = NULL;

void		_PG_init(void);

void
_PG_init(void)
{
	/* a value SET before this library was loaded (see clock_note_placeholder) */
	const char *now_placeholder = GetConfigOption("backorder.now", true, false);

	if (now_placeholder != NULL)
		now_placeholder = pstrdup(now_placeholder);
	DefineCustomStringVariable("backorder.now",
							   "Pins the engine's clock (backorder.now()) to a fixed time.",
							   "Empty means transaction time.  Tests and replays set it so their results are exact.",
							   &backorder_now_setting,
							   "",
							   PGC_USERSET,
							   0,
							   check_backorder_now, assign_backorder_now, NULL);
	clock_note_placeholder(now_placeholder);
	DefineCustomStringVariable("backorder.client_id",
							   "Binds the session to one client (tenant) for row-level security.",
							   "Empty means not bound: the role's own privileges decide.",
							   &backorder_client_setting,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);
	MarkGUCPrefixReserved("backorder");
	stock_init();
	stock_known_init();
	queue_init();
	intake_init();
	demand_summary_init();
	deferred_settle_init();
	split_init();
}

/*
 * The light version for validation in guard triggers, which run once per app
 * row: SPI and the engine flag only.  The statements it runs must qualify
 * their operators (OPERATOR(pg_catalog.=)), since search_path is the caller's.
 */
void
engine_spi(EngineFn fn, void *arg)
{
	int			saved_depth = engine_depth;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_backorder: SPI_connect failed");
	PG_TRY();
	{
		engine_depth++;
		fn(arg);
	}
	PG_FINALLY();
	{
		engine_depth = saved_depth;
	}
	PG_END_TRY();
	SPI_finish();
}

void
engine_run(EngineFn fn, void *arg)
{
	int			saved_depth = engine_depth;
	int			guc_level;

	if (engine_run_depth > 0 && !jit_enabled &&
		strcmp(namespace_search_path, ENGINE_SEARCH_PATH) == 0)
	{
		engine_spi(fn, arg);
		return;
	}

	/*
	 * Settling reads lines other transactions committed a moment ago; a
	 * transaction snapshot would not see them.
	 */
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pg_backorder needs READ COMMITTED isolation"),
				 errdetail("Orders and stock change under row locks and must see what other transactions committed."),
				 errhint("Run this transaction with SET TRANSACTION ISOLATION LEVEL READ COMMITTED.")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_backorder: SPI_connect failed");

	guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", ENGINE_SEARCH_PATH,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	/* Our statements are short; compiling them (JIT) would cost more than running them. */
	(void) set_config_option("jit", "off",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	if (engine_run_depth == 0)
		engine_operation_counter++;
	PG_TRY();
	{
		engine_depth++;
		engine_run_depth++;
		edit_lock_shared();
		fn(arg);
	}
	PG_FINALLY();
	{
		engine_depth = saved_depth;
		engine_run_depth--;
	}
	PG_END_TRY();

	AtEOXact_GUC(true, guc_level);
	SPI_finish();

	/* The outermost operation is done: work it left for its end (SET CONSTRAINTS IMMEDIATE). */
	if (saved_depth == 0)
		deferred_settle_after_operation();
}
