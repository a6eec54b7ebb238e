/*
 * settle.c — an order's holds, status and events, derived from its lines.
 *
 * Every path that changes an open order's lines or holds ends in
 * settle_order(): it works out which inventory holds the lines call for
 * (unknown_sku, discontinued, out_of_stock), opens and closes holds to match,
 * derives the status (needs_review iff a hold is open, else ready) and writes
 * exactly one event per transition.  Keeping this in one place is what makes
 * invariants 4 and 7 hold on every path.
 *
 * Events name the holds they open ("opened") and close ("closed"), so
 * check_invariants() can prove each hold has one opening and at most one
 * closing event.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "pg_backorder.h"

#define MAX_REASONS 3

static const char *inventory_reasons[MAX_REASONS] = {"unknown_sku", "discontinued", "out_of_stock"};

bool
is_inventory_reason(const char *reason)
{
	int			i;

	for (i = 0; i < MAX_REASONS; i++)
		if (strcmp(reason, inventory_reasons[i]) == 0)
			return true;
	return false;
}

/*
 * Every event is also sent with NOTIFY on channel backorder_events, as JSON.
 * NOTIFY is transactional: listeners hear only about committed work.  The
 * INSERT returns the payload (JSON formats the timestamp the same way for
 * every DateStyle); a payload too large for NOTIFY (8000 bytes) goes without
 * its detail, flagged detail_truncated.
 */
#define EVENT_PAYLOAD_LIMIT 8000		/* NOTIFY refuses payloads of this length or more */
#define EVENT_PAYLOAD \
	" RETURNING json_build_object('event', event, 'client_id', client_id, 'order_id', order_id," \
	" 'status', status, 'created_at', created_at, 'event_id', event_id, 'detail', detail)::text"

static void
notify_payload(const char *payload)
{
	if (strlen(payload) >= EVENT_PAYLOAD_LIMIT)
	{
		/* Rare: a huge detail.  Send the event without it. */
		static SPIPlanPtr plan = NULL;
		static const Oid types[1] = {TEXTOID};
		Datum		v[1];
		SPITupleTable *saved = SPI_tuptable;
		uint64		saved_processed = SPI_processed;

		v[0] = text_datum(payload);
		run_plan(&plan, "SELECT (($1::jsonb - 'detail') || '{\"detail_truncated\": true}')::text",
				 1, types, v, NULL, 1);
		payload = spi_text(0, 1);
		SPI_tuptable = saved;
		SPI_processed = saved_processed;
	}
	Async_Notify("backorder_events", payload);
}

/* Sends the events the last statement wrote, in the order it returned their payloads. */
static void
notify_returned_events(void)
{
	SPITupleTable *payloads = SPI_tuptable;
	uint64		n = SPI_processed,
				r;

	for (r = 0; r < n; r++)
		notify_payload(SPI_getvalue(payloads->vals[r], payloads->tupdesc, 1));
}

/* Appends `"key": [ids]` to a JSON object under construction. */
static void
append_id_list(StringInfo buf, const char *key, const int64 *ids, int n)
{
	int			i;

	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": [");
	for (i = 0; i < n; i++)
		appendStringInfo(buf, "%s" INT64_FORMAT, i ? ", " : "", ids[i]);
	appendStringInfoChar(buf, ']');
}

static char *
event_detail(const SettleInput *in, const int64 *opened, int n_opened,
			 const int64 *closed, int n_closed, char **reasons, int n_reasons)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	if (n_opened > 0)
		append_id_list(&buf, "opened", opened, n_opened);
	if (n_closed > 0)
		append_id_list(&buf, "closed", closed, n_closed);
	if (n_reasons > 0)
	{
		if (buf.len > 1)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "\"reasons\": [");
		for (i = 0; i < n_reasons; i++)
		{
			if (i)
				appendStringInfoString(&buf, ", ");
			escape_json(&buf, reasons[i]);
		}
		appendStringInfoChar(&buf, ']');
	}
	if (in->detail && in->detail[0])
	{
		if (buf.len > 1)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, in->detail);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

int64
open_hold(const char *client_id, const char *order_id, const char *reason, const char *note)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', note ? ' ' : 'n'};

	values[0] = text_datum(client_id);
	values[1] = text_datum(order_id);
	values[2] = text_datum(reason);
	values[3] = note ? text_datum(note) : (Datum) 0;
	run_plan(&plan,
			 "INSERT INTO backorder.order_hold (client_id, order_id, reason, note, created_at)"
			 " VALUES ($1, $2, $3, $4, backorder.now()) RETURNING hold_id",
			 4, types, values, nulls, 1);
	return spi_int64(0, 1);
}

void
close_hold(int64 hold_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {INT8OID};
	Datum		values[1];

	values[0] = Int64GetDatum(hold_id);
	run_plan(&plan,
			 "UPDATE backorder.order_hold SET released_at = backorder.now() WHERE hold_id = $1",
			 1, types, values, NULL, 0);
}

/*
 * The intake of a new order: it has no holds yet and its lines were just read
 * by the caller, who says which inventory holds they need.  Opens them, then
 * sets the status and writes "placed" (and "held", naming the holds) in one
 * statement.
 */
void
settle_new_order(const char *client_id, const char *order_id, const bool *needed,
				 const char *placed_detail)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	int64		opened[MAX_REASONS];
	char	   *reasons[MAX_REASONS];
	int			n_opened = 0,
				i;
	const char *status;
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', 'n'};

	for (i = 0; i < MAX_REASONS; i++)
		if (needed[i])
		{
			reasons[n_opened] = (char *) inventory_reasons[i];
			opened[n_opened++] = open_hold(client_id, order_id, inventory_reasons[i], NULL);
		}
	status = n_opened > 0 ? "needs_review" : "ready";

	values[0] = text_datum(client_id);
	values[1] = text_datum(order_id);
	values[2] = text_datum(status);
	values[3] = text_datum(psprintf("{%s}", placed_detail));
	if (n_opened > 0)
	{
		SettleInput none = {0};

		values[4] = text_datum(event_detail(&none, opened, n_opened, NULL, 0, reasons, n_opened));
		nulls[4] = ' ';
	}
	run_plan(&plan,
			 "WITH o AS ("
			 "  UPDATE backorder.orders SET status = $3,"
			 "         held_since = CASE WHEN $3 = 'needs_review' THEN backorder.now() END,"
			 "         ready_at = CASE WHEN $3 = 'ready' THEN backorder.now() END"
			 "   WHERE client_id = $1 AND order_id = $2)"
			 "INSERT INTO backorder.order_event (client_id, order_id, event, status, created_at, detail)"
			 " SELECT $1, $2, e.event, $3, backorder.now(), e.detail::jsonb"
			 "   FROM (VALUES (1, 'placed', $4), (2, 'held', $5)) AS e(n, event, detail)"
			 "  WHERE e.detail IS NOT NULL ORDER BY e.n" EVENT_PAYLOAD,
			 5, types, values, nulls, 0);
	notify_returned_events();
	if (n_opened > 0)
		split_rules_after_settle(client_id, order_id);
}

/* One event to write: settle_orders() collects them and inserts them in one statement. */
typedef struct EventBatch
{
	int			n,
				cap;
	char	  **clients,
			  **orders,
			  **events,
			  **statuses,
			  **details;
} EventBatch;

static void
batch_event(EventBatch *b, const char *client_id, const char *order_id, const char *event,
			const char *status, const char *detail)
{
	if (b->n == b->cap)
	{
		b->cap = b->cap ? b->cap * 2 : 16;
		b->clients = b->clients ? repalloc(b->clients, sizeof(char *) * b->cap) : palloc(sizeof(char *) * b->cap);
		b->orders = b->orders ? repalloc(b->orders, sizeof(char *) * b->cap) : palloc(sizeof(char *) * b->cap);
		b->events = b->events ? repalloc(b->events, sizeof(char *) * b->cap) : palloc(sizeof(char *) * b->cap);
		b->statuses = b->statuses ? repalloc(b->statuses, sizeof(char *) * b->cap) : palloc(sizeof(char *) * b->cap);
		b->details = b->details ? repalloc(b->details, sizeof(char *) * b->cap) : palloc(sizeof(char *) * b->cap);
	}
	b->clients[b->n] = (char *) client_id;
	b->orders[b->n] = (char *) order_id;
	b->events[b->n] = (char *) event;
	b->statuses[b->n] = (char *) status;
	b->details[b->n] = (char *) (detail ? detail : "{}");
	b->n++;
}

/* Writes the batch's events in one statement, in batch order, and sends them. */
static void
insert_events(EventBatch *ev)
{
	static SPIPlanPtr plan[2];
	static const Oid types[5] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		v[5];

	if (ev->n == 0)
		return;
	v[0] = text_array_datum(ev->clients, ev->n);
	v[1] = text_array_datum(ev->orders, ev->n);
	v[2] = text_array_datum(ev->events, ev->n);
	v[3] = text_array_datum(ev->statuses, ev->n);
	v[4] = text_array_datum(ev->details, ev->n);
	run_batch_plan(plan, ev->n,
				   "INSERT INTO backorder.order_event (client_id, order_id, event, status, created_at, detail)"
				   " SELECT client_id, order_id, event, status, backorder.now(), detail::jsonb"
				   "   FROM unnest($1, $2, $3, $4, $5) WITH ORDINALITY AS e(client_id, order_id, event, status, detail, i)"
				   "  ORDER BY i" EVENT_PAYLOAD,
				   5, types, v, NULL, 0);
	notify_returned_events();
}

/* One event of an order, written and sent like a batch's. */
void
write_event(const char *client_id, const char *order_id, const char *event,
			const char *status, const char *detail_json)
{
	EventBatch	ev = {0};

	batch_event(&ev, client_id, order_id, event, status, detail_json);
	insert_events(&ev);
}

/* One event without detail for each of n orders of one client, in one statement. */
void
write_events(const char *client_id, int n, char **order_ids, const char *event, const char *status)
{
	EventBatch	ev = {0};
	int			i;

	for (i = 0; i < n; i++)
		batch_event(&ev, client_id, order_ids[i], event, status, NULL);
	insert_events(&ev);
}

/* What settle_orders() reads about one order. */
typedef struct OrderFacts
{
	char	   *status;
	bool		needed[MAX_REASONS];
	bool		is_open[MAX_REASONS];
	int64		open_id[MAX_REASONS];
	int			n_open_holds;	/* inventory and operator holds */
	const char *new_status;
	int64		opened[MAX_REASONS + 1];
	int64		closed[MAX_REASONS + 1];
	int			n_opened,
				n_closed;
} OrderFacts;

/*
 * Settles n orders whose rows the caller holds locked, in a fixed number of
 * statements however many there are (a receipt may release thousands):
 * read their lines' needs and open holds, decide in C, then open holds,
 * close holds, set statuses and write events, each in one statement.
 */
void
settle_orders(int n, char **clients, char **orders, const SettleInput *inputs)
{
	static SPIPlanPtr facts_plan[2];
	static SPIPlanPtr holds_plan[2];
	static SPIPlanPtr open_plan[2];
	static SPIPlanPtr close_plan[2];
	static SPIPlanPtr status_plan[2];
	static const Oid pair_types[2] = {TEXTARRAYOID, TEXTARRAYOID};
	static const Oid open_types[4] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID};
	static const Oid close_types[1] = {INT8ARRAYOID};
	static const Oid status_types[3] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	OrderFacts *f = palloc0(sizeof(OrderFacts) * n);
	Datum		pair[2];
	char	  **open_clients = palloc(sizeof(char *) * n * MAX_REASONS);
	char	  **open_orders = palloc(sizeof(char *) * n * MAX_REASONS);
	char	  **open_reasons = palloc(sizeof(char *) * n * MAX_REASONS);
	int32	   *open_owner = palloc(sizeof(int32) * n * MAX_REASONS);
	int64	   *close_ids = palloc(sizeof(int64) * n * MAX_REASONS);
	char	  **st_clients = palloc(sizeof(char *) * n);
	char	  **st_orders = palloc(sizeof(char *) * n);
	char	  **st_status = palloc(sizeof(char *) * n);
	int			n_open = 0,
				n_close = 0,
				n_status = 0,
				i,
				k;
	uint64		r;
	EventBatch	ev = {0};

	if (n == 0)
		return;
	pair[0] = text_array_datum(clients, n);
	pair[1] = text_array_datum(orders, n);

	/*
	 * Status and the inventory holds the lines call for (see invariant 4).
	 * Only short lines can call for one, so only their SKUs are looked up (a
	 * line allocated in full is placed at a warehouse, and its SKU is in the
	 * catalog: a SKU with stock rows cannot be deleted).  Each order's lines
	 * are summed on their own (no sort of all the orders' lines), and the
	 * LIMIT keeps the catalog lookup one probe per short line.
	 */
	run_batch_plan(facts_plan, n,
			 "SELECT t.i::int, o.status, coalesce(f.unplaced, false),"
			 "       coalesce(f.not_restockable, false), coalesce(f.restockable, false)"
			 "  FROM unnest($1, $2) WITH ORDINALITY AS t(client_id, order_id, i)"
			 "  JOIN backorder.orders o ON o.client_id = t.client_id AND o.order_id = t.order_id"
			 "  CROSS JOIN LATERAL ("
			 "    SELECT bool_or(s.known IS NULL OR l.location_id IS NULL) AS unplaced,"
			 "           bool_or(s.known AND l.location_id IS NOT NULL AND NOT s.restockable) AS not_restockable,"
			 "           bool_or(s.known AND l.location_id IS NOT NULL AND s.restockable) AS restockable"
			 "      FROM backorder.order_line l"
			 "      LEFT JOIN LATERAL (SELECT true AS known, k.status = 'active' AND k.backorderable AS restockable"
			 "                           FROM backorder.sku k WHERE k.client_id = l.client_id AND k.sku = l.sku"
			 "                          LIMIT 1) s ON true"
			 "     WHERE l.client_id = t.client_id AND l.order_id = t.order_id AND l.allocated < l.qty) f",
			 2, pair_types, pair, NULL, 0);
	for (r = 0; r < SPI_processed; r++)
	{
		OrderFacts *o = &f[spi_int64(r, 1) - 1];

		o->status = spi_text(r, 2);
		for (k = 0; k < MAX_REASONS; k++)
			o->needed[k] = spi_bool(r, 3 + k);
	}

	run_batch_plan(holds_plan, n,
			 "SELECT t.i::int, h.hold_id, h.reason"
			 "  FROM unnest($1, $2) WITH ORDINALITY AS t(client_id, order_id, i)"
			 "  JOIN backorder.order_hold h ON h.client_id = t.client_id AND h.order_id = t.order_id"
			 " WHERE h.released_at IS NULL",
			 2, pair_types, pair, NULL, 0);
	for (r = 0; r < SPI_processed; r++)
	{
		OrderFacts *o = &f[spi_int64(r, 1) - 1];
		char	   *reason = spi_text(r, 3);

		o->n_open_holds++;
		for (k = 0; k < MAX_REASONS; k++)
			if (strcmp(reason, inventory_reasons[k]) == 0)
			{
				o->is_open[k] = true;
				o->open_id[k] = spi_int64(r, 2);
			}
	}

	/* Decide: which holds to open and close, and the new status. */
	for (i = 0; i < n; i++)
	{
		OrderFacts *o = &f[i];

		/* Closed orders have nothing to settle; new ones are settled by their intake. */
		if (o->status == NULL || (strcmp(o->status, "ready") != 0 && strcmp(o->status, "needs_review") != 0))
			continue;
		for (k = 0; k < MAX_REASONS; k++)
		{
			if (o->needed[k] && !o->is_open[k])
			{
				open_clients[n_open] = clients[i];
				open_orders[n_open] = orders[i];
				open_reasons[n_open] = (char *) inventory_reasons[k];
				open_owner[n_open++] = i;
				o->n_open_holds++;
			}
			else if (!o->needed[k] && o->is_open[k])
			{
				close_ids[n_close++] = o->open_id[k];
				o->closed[o->n_closed++] = o->open_id[k];
				o->n_open_holds--;
			}
		}
		o->new_status = o->n_open_holds > 0 ? "needs_review" : "ready";
		if (strcmp(o->status, o->new_status) != 0)
		{
			st_clients[n_status] = clients[i];
			st_orders[n_status] = orders[i];
			st_status[n_status++] = (char *) o->new_status;
		}
	}

	if (n_open > 0)
	{
		Datum		v[4];

		v[0] = text_array_datum(open_clients, n_open);
		v[1] = text_array_datum(open_orders, n_open);
		v[2] = text_array_datum(open_reasons, n_open);
		v[3] = int4_array_datum(open_owner, n_open);
		run_batch_plan(open_plan, n_open,
				 "WITH h AS (SELECT * FROM unnest($1, $2, $3, $4) WITH ORDINALITY AS h(client_id, order_id, reason, owner, i))"
				 " INSERT INTO backorder.order_hold (client_id, order_id, reason, created_at)"
				 " SELECT client_id, order_id, reason, backorder.now() FROM h ORDER BY i"
				 " RETURNING hold_id",
				 4, open_types, v, NULL, 0);
		/* RETURNING follows insertion order, which follows ORDER BY i. */
		for (r = 0; r < SPI_processed; r++)
		{
			OrderFacts *o = &f[open_owner[r]];

			o->opened[o->n_opened++] = spi_int64(r, 1);
		}
	}
	if (n_close > 0)
	{
		Datum		v[1];

		v[0] = int8_array_datum(close_ids, n_close);
		run_batch_plan(close_plan, n_close,
				 "UPDATE backorder.order_hold SET released_at = backorder.now() WHERE hold_id = ANY ($1)",
				 1, close_types, v, NULL, 0);
	}
	if (n_status > 0)
	{
		Datum		v[3];

		v[0] = text_array_datum(st_clients, n_status);
		v[1] = text_array_datum(st_orders, n_status);
		v[2] = text_array_datum(st_status, n_status);
		/* held_since starts when a hold period starts; ready_at when the order becomes ready. */
		run_batch_plan(status_plan, n_status,
				 "UPDATE backorder.orders o SET status = t.status,"
				 "       held_since = CASE WHEN t.status = 'needs_review' THEN backorder.now() END,"
				 "       ready_at = CASE WHEN t.status = 'ready' THEN backorder.now() ELSE o.ready_at END"
				 "  FROM unnest($1, $2, $3) AS t(client_id, order_id, status)"
				 " WHERE o.client_id = t.client_id AND o.order_id = t.order_id",
				 3, status_types, v, NULL, 0);
	}

	/* One event per transition. */
	for (i = 0; i < n; i++)
	{
		OrderFacts *o = &f[i];
		const SettleInput *in = &inputs[i];
		int64		opened[MAX_REASONS + 2];
		int64		closed[MAX_REASONS + 2];
		char	   *reasons[MAX_REASONS];
		int			n_opened = 0,
					n_closed = 0,
					n_reasons = 0;
		char	   *detail;

		if (o->new_status == NULL)
			continue;
		for (k = 0; k < in->n_pre_opened; k++)
			opened[n_opened++] = in->pre_opened[k];
		for (k = 0; k < o->n_opened; k++)
			opened[n_opened++] = o->opened[k];
		for (k = 0; k < in->n_pre_closed; k++)
			closed[n_closed++] = in->pre_closed[k];
		for (k = 0; k < o->n_closed; k++)
			closed[n_closed++] = o->closed[k];
		for (k = 0; k < MAX_REASONS; k++)
			if (o->needed[k])
				reasons[n_reasons++] = (char *) inventory_reasons[k];
		detail = event_detail(in, opened, n_opened, closed, n_closed, reasons, n_reasons);

		if (in->cause == SETTLE_DEALLOCATED)
			batch_event(&ev, clients[i], orders[i], "deallocated", o->new_status, detail);
		else if (strcmp(o->status, "ready") == 0 && strcmp(o->new_status, "needs_review") == 0)
			batch_event(&ev, clients[i], orders[i], "held", o->new_status, detail);
		else if (strcmp(o->status, "needs_review") == 0 && strcmp(o->new_status, "ready") == 0)
			batch_event(&ev, clients[i], orders[i], "released", o->new_status, detail);
		else if (strcmp(o->new_status, "needs_review") == 0)
		{
			SettleInput none = {0};

			/* like held's detail: the holds opened or closed, and the open inventory reasons */
			if (n_opened > 0)
				batch_event(&ev, clients[i], orders[i], "hold_added", o->new_status,
							event_detail(&none, opened, n_opened, NULL, 0, reasons, n_reasons));
			/* Units allocated to an order that stays held: one event, with the holds they closed. */
			if (in->cause == SETTLE_ALLOCATED)
				batch_event(&ev, clients[i], orders[i], "allocated", o->new_status,
							event_detail(in, NULL, 0, closed, n_closed, reasons, n_reasons));
			else if (n_closed > 0)
				batch_event(&ev, clients[i], orders[i], "hold_released", o->new_status,
							event_detail(&none, NULL, 0, closed, n_closed, reasons, n_reasons));
		}
	}
	insert_events(&ev);

	/* An order that stays held may be split by its client's rule. */
	for (i = 0; i < n; i++)
		if (f[i].new_status != NULL && strcmp(f[i].new_status, "needs_review") == 0 &&
			inputs[i].cause != SETTLE_HOLD_CHANGE)
			split_rules_after_settle(clients[i], orders[i]);
}

void
settle_order(const char *client_id, const char *order_id, const SettleInput *in)
{
	char	   *c = (char *) client_id;
	char	   *o = (char *) order_id;

	settle_orders(1, &c, &o, in);
}
