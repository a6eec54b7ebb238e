/*
 * pg_backorder.h — declarations shared by the engine's C files.
 *
 * The engine is a set of triggers and functions that keep backorder.orders,
 * order_line, stock, order_hold and order_event consistent.  Every path that
 * changes allocations follows DESIGN.md's locking rule:
 *
 *   0. an engine path takes the edit lock in shared mode (an app statement
 *      that edits existing orders takes it exclusively, before any row lock);
 *   1. stock rows before order rows;
 *   2. several stock rows in key order (client_id, sku, location_id);
 *   3. several order rows in release order (priority desc, placed_at, order_id).
 *
 * Files: clock.c (backorder.now), spi_plans.c (cached SPI plans), guard.c
 * (validation and engine-only columns), stock.c (stock rows), stock_known.c
 * (the stock rows known to exist), queue.c
 * (allocation to waiting lines and take-back), settle.c (holds, status,
 * events), intake.c (deferred order evaluation), ledger.c (stock_movement
 * trigger), order_ops.c (ship, cancel, hold, release).
 */
#ifndef PG_BACKORDER_H
#define PG_BACKORDER_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

/*
 * The most units one stock movement moves, and so the most one order line may
 * ask for: shipping a line is one movement.
 */
#define BACKORDER_MAX_UNITS INT64CONST(1000000000)

/* Allocation policies (backorder.client.allocation_policy). */
typedef enum AllocationPolicy
{
	POLICY_RESERVE,
	POLICY_COMPLETE_ONLY
} AllocationPolicy;

/* A stock row's key and the quantities read under its lock. */
typedef struct StockKey
{
	char	   *client_id;
	char	   *sku;
	char	   *location_id;
} StockKey;

/* ---- pg_backorder.c: engine context ---- */

/*
 * Engine writes to engine-maintained columns are allowed only while
 * engine_depth > 0.  It is a C variable, so no SQL can fake it.
 */
extern int	engine_depth;

/*
 * While ship_orders' statement writes its shipment rows (order_ops.c): the
 * trigger depth at which the ledger trigger sees them (it only records their
 * deltas); -1 otherwise.  A shipment seen at any other depth (written by an
 * app's trigger meanwhile) is refused like any hand-written one.
 */
extern int	shipment_rows_depth;
extern int	trigger_depth(void);

typedef void (*EngineFn) (void *arg);

/*
 * Runs fn with SPI connected, search_path pinned to pg_catalog, the engine
 * flag raised and the edit lock held in shared mode.  Restores all of it on
 * error too.
 */
extern void engine_run(EngineFn fn, void *arg);
extern void engine_spi(EngineFn fn, void *arg);

/* The outermost engine_run in progress (a counter), or 0 outside the engine. */
extern uint64 engine_operation(void);

/* Takes the edit lock: shared for engine paths, exclusive for app edits. */
extern void edit_lock_shared(void);
extern void edit_lock_exclusive(void);

/* ---- clock.c ---- */
extern TimestampTz engine_now(void);
extern bool check_backorder_now(char **newval, void **extra, GucSource source);
extern void assign_backorder_now(const char *newval, void *extra);
extern void clock_note_placeholder(const char *before_define);
extern Datum engine_now_datum(void);

/* ---- spi_plans.c ---- */

/*
 * Executes a statement through a plan prepared once per backend and kept in
 * *slot.  Values are always $n parameters.  Errors out on SPI failure.
 */
extern int	run_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes,
					 Datum *values, const char *nulls, long tcount);
extern int	run_batch_plan(SPIPlanPtr *slots, int n_items, const char *sql, int nargs,
						   const Oid *argtypes, Datum *values, const char *nulls, long tcount);
extern char *spi_text(int row, int col);	/* NULL if SQL NULL */
extern int64 spi_int64(int row, int col);	/* 0 if SQL NULL */
extern bool spi_bool(int row, int col);
extern bool spi_isnull(int row, int col);
extern Datum text_datum(const char *s);
extern Datum text_array_datum(char **items, int n);
extern Datum int8_array_datum(int64 *items, int n);
extern Datum int4_array_datum(int32 *items, int n);
extern int	sort_unique_strings(char **items, int n);	/* byte order, for pg_qsort_strcmp */
extern Datum *array_arg(FunctionCallInfo fcinfo, int argno, Oid elemtype, const char *name,
					   const char *what, const char *example, const char *each, int *n);

/* ---- stock.c ---- */
extern AllocationPolicy client_policy(const char *client_id);
extern void lock_stock_rows(StockKey *keys, int n, int64 *on_hand, int64 *allocated);
extern bool lock_stock_row_if_exists(const StockKey *key, int64 *on_hand, int64 *allocated);
extern void stock_apply(const StockKey *key, int64 on_hand_delta, int64 allocated_delta);
extern void stock_apply_allocated(const char *client_id, StockKey *keys, const int64 *deltas, int n);
extern int	stock_key_cmp(const void *a, const void *b);
extern void stock_key_values(const StockKey *key, Datum *values);
extern StockKey *stock_key_copy_for_transaction(const StockKey *key);
extern int	sort_unique_stock_keys(StockKey *keys, int n);
extern void stock_init(void);
extern void note_stock_locked(const StockKey *key);
extern bool stock_key_above_locked(const StockKey *key);

/* ---- key_queue.c ---- */
typedef struct KeyQueue
{
	List	   *pending;		/* queued items (key_queue.c), in TopTransactionContext */
	List	   *taken;			/* taken in a subtransaction: given back if it aborts */
} KeyQueue;

extern void key_queue_push(KeyQueue *q, void *item);
extern void key_queue_add(KeyQueue *q, const StockKey *key);
extern bool key_queue_contains(const KeyQueue *q, const StockKey *key);
extern List *key_queue_take(KeyQueue *q);
extern void key_queue_subxact_abort(KeyQueue *q, SubTransactionId mySubid);
extern void key_queue_reset(KeyQueue *q);

/* ---- stock_known.c ---- */
extern void stock_known_init(void);
extern int	stock_keys_unknown(const StockKey *keys, int n, bool *unknown);
extern void stock_keys_remember(const StockKey *keys, int n);

/* ---- queue.c ---- */

/* Gives available units at a stock row to waiting lines; returns units given. */
extern int64 serve_queue(const StockKey *key, AllocationPolicy policy, int64 available);

/*
 * complete_only: orders that need other stock rows' free units are completed
 * by this pass, at commit, before the touched orders are settled.
 */
extern void queue_init(void);
extern bool completion_pass_pending(void);
extern void completion_pass(void);
extern bool completion_pass_running(void);

/* Takes `deficit` allocated units back from the newest unshipped orders. */
extern void take_back(const StockKey *key, int64 deficit);

/* ---- settle.c ---- */

typedef enum SettleCause
{
	SETTLE_INTAKE,				/* evaluated at intake or re-evaluated */
	SETTLE_ALLOCATED,			/* a waiting line gained units */
	SETTLE_DEALLOCATED,			/* units were taken back */
	SETTLE_HOLD_CHANGE			/* an operator hold was opened or closed */
} SettleCause;

typedef struct SettleInput
{
	SettleCause cause;
	const char *detail;			/* extra JSON members ("k": v, ...) or NULL */
	const int64 *pre_opened;	/* holds the caller opened just before */
	int			n_pre_opened;
	const int64 *pre_closed;	/* holds the caller closed just before */
	int			n_pre_closed;
} SettleInput;

/*
 * Recomputes an open order's inventory holds and status from its lines and
 * writes one event per transition.  The caller holds the order row's lock.
 */
extern void settle_order(const char *client_id, const char *order_id, const SettleInput *in);
extern void settle_orders(int n, char **clients, char **orders, const SettleInput *inputs);
extern void settle_new_order(const char *client_id, const char *order_id, const bool *needed,
							 const char *placed_detail);
extern bool is_inventory_reason(const char *reason);
extern int64 open_hold(const char *client_id, const char *order_id, const char *reason,
					   const char *note);
extern void close_hold(int64 hold_id);
extern void write_event(const char *client_id, const char *order_id, const char *event,
						const char *status, const char *detail_json);
extern void write_events(const char *client_id, int n, char **order_ids, const char *event,
						 const char *status);

/* ---- deferred_settle.c ---- */
extern void deferred_settle_init(void);

/* Remembers that an order's line at `key` gained (or lost, if negative) units. */
extern void note_touched(const StockKey *key, const char *order_id, int64 units);
extern void note_given_back(const StockKey *key, const char *order_id, int64 units);

/* Settles one order now; the caller holds its row and all its stock rows. */
extern void settle_now(const char *client_id, const char *order_id);
extern void settle_now_many(int n, char **client_ids, char **order_ids);

/* Asks for a settle (and completion pass) at commit, after the current trigger. */
extern void request_completion_pass(void);

/* Called by engine_run() at the end of the outermost engine operation. */
extern void deferred_settle_after_operation(void);

/* ---- intake.c ---- */
extern void intake_init(void);
extern void demand_summary_init(void);
extern void demand_summary_batched(EngineFn fn, void *arg);
extern void demand_summary_flush(void);
/* What an app wrote: the order row, a line, or an edit (UPDATE or DELETE of a line). */
typedef enum DirtyWrite
{
	DIRTY_ORDER_INSERT,
	DIRTY_LINE_INSERT,
	DIRTY_EDIT
} DirtyWrite;
extern void intake_mark_dirty(const char *client_id, const char *order_id, DirtyWrite write);
extern void intake_order_status_seen(const char *client_id, const char *order_id, bool status_new);
extern bool intake_order_is_new(const char *client_id, const char *order_id);
extern void intake_order_closed(const char *client_id, const char *order_id);
extern void intake_note_freed(const StockKey *key);
extern bool intake_pending(void);
extern void intake_evaluate_pending(void);
extern void evaluate_order(const char *client_id, const char *order_id);

/* ---- split.c ---- */
extern void split_init(void);

/*
 * Applies the client's (or order's) split rule to an order that stays held
 * after settling.  The caller holds the order row's lock and has settled it.
 * While postponed, the orders are remembered and their rules run at commit.
 */
extern void split_rules_after_settle(const char *client_id, const char *order_id);
extern void split_rules_postpone(bool on);

/* ---- guard.c: validation shared with the ledger and order functions ---- */
extern void require_client(const char *client_id);
extern void require_location(const char *location_id);
extern char *tuple_text(HeapTuple tuple, TupleDesc tupdesc, const char *column);
extern bool tuple_int64(HeapTuple tuple, TupleDesc tupdesc, const char *column, int64 *value);

#endif							/* PG_BACKORDER_H */
