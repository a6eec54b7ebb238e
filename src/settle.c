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
 * its detail.
 */
#define EVENT_PAYLOAD_LIMIT 8000		/* NOTIFY refuses payloads of this length or more */
#define EVENT_PAYLOAD \
	" RETURNING json_build_object('event', event, 'client_id', client_id, 'order_id', order_id," \
	" 'status', status, 'created_at', created_at, 'event_id', event_id, 'detail', detail)::text," \
	" json_build_object('event', event, 'client_id', client_id, 'order_id', order_id," \
	" 'status', status, 'created_at', created_at, 'event_id', event_id, 'detail_truncated', true)::text"

static void
notify_event(void)
{
	char	   *payload = spi_text(0, 1);

	if (strlen(payload) >= EVENT_PAYLOAD_LIMIT)
		payload = spi_text(0, 2);
	Async_Notify("backorder_events", payload);
}

void
write_event(const char *client_id, const char *order_id, const char *event,
			const char *status, const char *detail_json)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5];

	values[0] = text_datum(client_id);
	values[1] = text_datum(order_id);
	values[2] = text_datum(event);
	values[3] = text_datum(status);
	values[4] = text_datum(detail_json ? detail_json : "{}");
	run_plan(&plan,
			 "INSERT INTO backorder.order_event (client_id, order_id, event, status, created_at, detail)"
			 " VALUES ($1, $2, $3, $4, backorder.now(), $5::jsonb)" EVENT_PAYLOAD,
			 5, types, values, NULL, 1);
	notify_event();
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

/*
 * Which inventory holds the lines call for, in inventory_reasons order.  A
 * line that has no location yet counts as unknown_sku even once its SKU is in
 * the catalog: only evaluate_order() (release_hold) places it in a queue.
 */
static void
needed_inventory_holds(const char *client_id, const char *order_id, bool *needed)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];

	values[0] = text_datum(client_id);
	values[1] = text_datum(order_id);
	run_plan(&plan,
			 "SELECT coalesce(bool_or(s.sku IS NULL OR l.location_id IS NULL), false),"
			 "       coalesce(bool_or(s.sku IS NOT NULL AND l.location_id IS NOT NULL AND l.allocated < l.qty"
			 "                        AND (s.status = 'discontinued' OR NOT s.backorderable)), false),"
			 "       coalesce(bool_or(s.sku IS NOT NULL AND l.location_id IS NOT NULL AND l.allocated < l.qty"
			 "                        AND s.status = 'active' AND s.backorderable), false)"
			 "  FROM backorder.order_line l"
			 "  LEFT JOIN backorder.sku s ON s.client_id = l.client_id AND s.sku = l.sku"
			 " WHERE l.client_id = $1 AND l.order_id = $2",
			 2, types, values, NULL, 1);
	needed[0] = spi_bool(0, 1);
	needed[1] = spi_bool(0, 2);
	needed[2] = spi_bool(0, 3);
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

static void
set_status(const char *client_id, const char *order_id, const char *old_status,
		   const char *new_status)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];

	values[0] = text_datum(client_id);
	values[1] = text_datum(order_id);
	values[2] = text_datum(new_status);
	values[3] = text_datum(old_status);
	/* held_since starts when a hold period starts; ready_at when the order becomes ready. */
	run_plan(&plan,
			 "UPDATE backorder.orders SET status = $3,"
			 "  held_since = CASE WHEN $3 = 'needs_review'"
			 "                    THEN CASE WHEN $4 = 'needs_review' THEN held_since ELSE backorder.now() END END,"
			 "  ready_at = CASE WHEN $3 = 'ready' AND $4 <> 'ready' THEN backorder.now() ELSE ready_at END"
			 " WHERE client_id = $1 AND order_id = $2",
			 4, types, values, NULL, 0);
}

/*
 * The intake of a new order: it has no holds yet and its lines were just read
 * by the caller, who says which inventory holds they need.  Sets the status
 * and writes "placed" in one statement, then "held" if it is held.
 */
void
settle_new_order(const char *client_id, const char *order_id, const bool *needed,
				 const char *placed_detail)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	int64		opened[MAX_REASONS];
	char	   *reasons[MAX_REASONS];
	int			n_opened = 0,
				i;
	const char *status;
	Datum		values[4];

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
	run_plan(&plan,
			 "WITH o AS ("
			 "  UPDATE backorder.orders SET status = $3,"
			 "         held_since = CASE WHEN $3 = 'needs_review' THEN backorder.now() END,"
			 "         ready_at = CASE WHEN $3 = 'ready' THEN backorder.now() END"
			 "   WHERE client_id = $1 AND order_id = $2)"
			 "INSERT INTO backorder.order_event (client_id, order_id, event, status, created_at, detail)"
			 " VALUES ($1, $2, 'placed', $3, backorder.now(), $4::jsonb)" EVENT_PAYLOAD,
			 4, types, values, NULL, 1);
	notify_event();
	if (n_opened > 0)
	{
		SettleInput none = {0};

		write_event(client_id, order_id, "held", status,
					event_detail(&none, opened, n_opened, NULL, 0, reasons, n_opened));
		split_rules_after_settle(client_id, order_id);
	}
}

void
settle_order(const char *client_id, const char *order_id, const SettleInput *in)
{
	static SPIPlanPtr status_plan = NULL;
	static SPIPlanPtr holds_plan = NULL;
	static const Oid types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char	   *old_status;
	const char *new_status;
	bool		needed[MAX_REASONS];
	bool		is_open[MAX_REASONS] = {false, false, false};
	int64		open_id[MAX_REASONS] = {0, 0, 0};
	int64		opened[MAX_REASONS + 1];
	int64		closed[MAX_REASONS + 1];
	char	   *reasons[MAX_REASONS + 1];
	int			n_opened = 0,
				n_closed = 0,
				n_reasons = 0,
				n_open_holds = 0;
	int			i;
	uint64		r;
	char	   *detail;

	values[0] = text_datum(client_id);
	values[1] = text_datum(order_id);
	run_plan(&status_plan,
			 "SELECT status FROM backorder.orders WHERE client_id = $1 AND order_id = $2",
			 2, types, values, NULL, 1);
	if (SPI_processed == 0)
		elog(ERROR, "pg_backorder: order %s/%s vanished", client_id, order_id);
	old_status = spi_text(0, 1);
	/* Closed orders have nothing to settle; new ones are settled by their intake. */
	if (strcmp(old_status, "shipped") == 0 || strcmp(old_status, "cancelled") == 0 ||
		strcmp(old_status, "new") == 0)
		return;

	needed_inventory_holds(client_id, order_id, needed);

	run_plan(&holds_plan,
			 "SELECT hold_id, reason FROM backorder.order_hold"
			 " WHERE client_id = $1 AND order_id = $2 AND released_at IS NULL",
			 2, types, values, NULL, 0);
	n_open_holds = (int) SPI_processed;
	for (r = 0; r < SPI_processed; r++)
	{
		char	   *reason = spi_text(r, 2);

		for (i = 0; i < MAX_REASONS; i++)
			if (strcmp(reason, inventory_reasons[i]) == 0)
			{
				is_open[i] = true;
				open_id[i] = spi_int64(r, 1);
			}
	}

	/* Holds opened or closed by the caller just before (manual holds). */
	for (i = 0; i < in->n_pre_opened; i++)
		opened[n_opened++] = in->pre_opened[i];
	for (i = 0; i < in->n_pre_closed; i++)
		closed[n_closed++] = in->pre_closed[i];

	for (i = 0; i < MAX_REASONS; i++)
	{
		if (needed[i] && !is_open[i])
		{
			opened[n_opened++] = open_hold(client_id, order_id, inventory_reasons[i], NULL);
			n_open_holds++;
		}
		else if (!needed[i] && is_open[i])
		{
			close_hold(open_id[i]);
			closed[n_closed++] = open_id[i];
			n_open_holds--;
		}
		if (needed[i])
			reasons[n_reasons++] = (char *) inventory_reasons[i];
	}

	new_status = n_open_holds > 0 ? "needs_review" : "ready";
	if (strcmp(old_status, new_status) != 0)
		set_status(client_id, order_id, old_status, new_status);

	detail = event_detail(in, opened, n_opened, closed, n_closed, reasons, n_reasons);

	if (in->cause == SETTLE_DEALLOCATED)
		write_event(client_id, order_id, "deallocated", new_status, detail);
	else if (strcmp(old_status, "ready") == 0 && strcmp(new_status, "needs_review") == 0)
		write_event(client_id, order_id, "held", new_status, detail);
	else if (strcmp(old_status, "needs_review") == 0 && strcmp(new_status, "ready") == 0)
		write_event(client_id, order_id, "released", new_status, detail);
	else if (strcmp(new_status, "needs_review") == 0)
	{
		StringInfoData opened_only;

		if (n_opened > 0)
		{
			initStringInfo(&opened_only);
			appendStringInfoChar(&opened_only, '{');
			append_id_list(&opened_only, "opened", opened, n_opened);
			appendStringInfoChar(&opened_only, '}');
			write_event(client_id, order_id, "hold_added", new_status, opened_only.data);
		}
		if (n_closed > 0)
		{
			initStringInfo(&opened_only);
			appendStringInfoChar(&opened_only, '{');
			append_id_list(&opened_only, "closed", closed, n_closed);
			appendStringInfoChar(&opened_only, '}');
			write_event(client_id, order_id, "hold_released", new_status, opened_only.data);
		}
		if (n_opened == 0 && n_closed == 0 && in->cause == SETTLE_ALLOCATED)
			write_event(client_id, order_id, "allocated", new_status, detail);
	}

	/* An order that stays held may be split by its client's rule. */
	if (strcmp(new_status, "needs_review") == 0 && in->cause != SETTLE_HOLD_CHANGE)
		split_rules_after_settle(client_id, order_id);
}
