/*
 * split_apply.c — turning a split plan into orders.
 *
 * The caller holds the stock rows the plan touches and the parent's row.
 * Each ship-now shipment becomes a child order: status ready, one line per
 * parent line it carries (same line_no, sku and unit_price), each allocated
 * exactly at the shipment's location.  The parent keeps the remainder: its
 * lines' quantities fall by what the children took, lines left with nothing
 * are deleted (the parent's "split" event records what went where), and it
 * stays needs_review.
 *
 * When nothing would stay held, the parent itself carries one shipment (the
 * one at its own location if the plan uses it, else the most preferred) and
 * becomes ready; the other shipments become children.  A plan with one
 * shipment elsewhere (SCENARIOS S9) thus moves the order, with no child.
 *
 * Stock: units allocated to the parent that go to a child at the same
 * location move without changing stock.allocated; units taken from
 * available stock raise it; allocated units the plan no longer needs are
 * freed (stock.allocated falls) and returned in the result, for the caller
 * to serve to the queue there.
 *
 * Children are named after the original order: root-S1, root-S2, ... (the
 * next free number; the root's id is clipped if the name would exceed 128
 * characters) and carry parent_order_id = the original order, so a split of
 * a split still names the order the customer placed.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "split.h"

#define ORDER_ID_MAX 128

static const Oid two_text[2] = {TEXTOID, TEXTOID};

/* root-S<n>, clipped to fit. */
static char *
child_id(const char *root, int n)
{
	char	   *suffix = psprintf("-S%d", n);
	int			room = ORDER_ID_MAX - (int) strlen(suffix);
	int			len = (int) strlen(root);

	if (len > room)
		len = pg_mbcliplen(root, len, room);
	return psprintf("%.*s%s", len, root, suffix);
}

static int64
count_children(const char *client_id, const char *root)
{
	static SPIPlanPtr plan = NULL;
	Datum		values[2];

	values[0] = text_datum(client_id);
	values[1] = text_datum(root);
	run_plan(&plan,
			 "SELECT count(*) FROM backorder.orders WHERE client_id = $1 AND parent_order_id = $2",
			 2, two_text, values, NULL, 1);
	return spi_int64(0, 1);
}

/* Inserts one child order row under the next free name; returns the name. */
static char *
insert_child_order(const SplitParent *p, int64 *next_n)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	int			attempts;

	values[0] = text_datum(p->client_id);
	values[1] = text_datum(p->order_id);
	values[3] = text_datum(p->root);
	for (attempts = 0; attempts < 1000; attempts++)
	{
		char	   *id = child_id(p->root, (int) ++(*next_n));

		values[2] = text_datum(id);
		/* An id already taken (by the shop, or a sibling split) is skipped. */
		run_plan(&plan,
				 "INSERT INTO backorder.orders (client_id, order_id, placed_at, priority, location_id,"
				 "       status, ready_at, parent_order_id,"
				 "       split_rule, split_max_shipments, split_min_fraction, split_after)"
				 " SELECT p.client_id, $3, p.placed_at, p.priority, p.location_id,"
				 "        'ready', backorder.now(), $4,"
				 "        p.split_rule, p.split_max_shipments, p.split_min_fraction, p.split_after"
				 "   FROM backorder.orders p WHERE p.client_id = $1 AND p.order_id = $2"
				 " ON CONFLICT DO NOTHING RETURNING order_id",
				 4, types, values, NULL, 0);
		if (SPI_processed == 1)
			return id;
	}
	elog(ERROR, "pg_backorder: no free child order id for %s/%s", p->client_id, p->root);
	return NULL;				/* keep compiler quiet */
}

/* Appends {"sku": .., "location_id": .., "units": n} to a JSON array under construction. */
static void
append_change(StringInfo buf, const char *sku, const char *location_id, int64 units)
{
	if (buf->len > 0 && buf->data[buf->len - 1] != '[')
		appendStringInfoString(buf, ", ");
	appendStringInfoString(buf, "{\"sku\": ");
	escape_json(buf, sku);
	appendStringInfoString(buf, ", \"location_id\": ");
	escape_json(buf, location_id);
	appendStringInfo(buf, ", \"units\": " INT64_FORMAT "}", units);
}

/*
 * Moves stock.allocated of rows the caller holds, in one statement: one
 * index probe per row (a plan may touch a hundred rows; a filter over the
 * arrays would compare each row with all of them).
 */
static void
apply_stock_deltas(const char *client_id, StockKey *keys, int64 *deltas, int n)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[4] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID};
	char	  **skus = palloc(sizeof(char *) * Max(n, 1));
	char	  **locations = palloc(sizeof(char *) * Max(n, 1));
	Datum		values[4];
	int			i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
	{
		skus[i] = keys[i].sku;
		locations[i] = keys[i].location_id;
	}
	values[0] = text_datum(client_id);
	values[1] = text_array_datum(skus, n);
	values[2] = text_array_datum(locations, n);
	values[3] = int8_array_datum(deltas, n);
	run_plan(&plan,
			 "UPDATE backorder.stock s SET allocated = s.allocated + d.delta, updated_at = backorder.now()"
			 "  FROM unnest($2, $3, $4) AS d(sku, location_id, delta)"
			 " WHERE s.client_id = $1 AND s.sku = d.sku AND s.location_id = d.location_id",
			 4, types, values, NULL, 0);
	if (SPI_processed != (uint64) n)
		elog(ERROR, "pg_backorder: %d stock rows to update, " UINT64_FORMAT " updated", n, SPI_processed);
}

void
split_apply_plan(const SplitParent *p, const SplitInput *in, const SplitPlan *plan,
				 SplitResult *result)
{
	static SPIPlanPtr lines_plan = NULL;
	static SPIPlanPtr parent_plan = NULL;
	static SPIPlanPtr delete_plan = NULL;
	static const Oid line_types[6] = {TEXTOID, TEXTOID, TEXTARRAYOID, INT4ARRAYOID, INT4ARRAYOID,
	TEXTARRAYOID};
	static const Oid parent_types[6] = {TEXTOID, TEXTOID, INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID,
	TEXTARRAYOID};
	static const Oid delete_types[3] = {TEXTOID, TEXTOID, INT4ARRAYOID};
	int			n_locs = in->n_locs;
	int			n_cells = Max(in->n_skus * n_locs, 1);
	int			keep = -1;		/* location whose shipment the parent keeps */
	int			shipment,
				i,
				j,
				n;
	int64		next_n;
	int64	   *parent_delta = palloc0(sizeof(int64) * n_cells);
	int64	   *stock_delta = palloc0(sizeof(int64) * n_cells);
	char	  **child_of_loc = palloc0(sizeof(char *) * Max(n_locs, 1));
	int64	   *units_of_loc = palloc0(sizeof(int64) * Max(n_locs, 1));
	int			n_child_lines = 0;
	char	  **cl_order = palloc(sizeof(char *) * Max(in->n_lines * n_locs, 1));
	int32	   *cl_line = palloc(sizeof(int32) * Max(in->n_lines * n_locs, 1));
	int32	   *cl_qty = palloc(sizeof(int32) * Max(in->n_lines * n_locs, 1));
	char	  **cl_loc = palloc(sizeof(char *) * Max(in->n_lines * n_locs, 1));
	int			n_upd = 0,
				n_del = 0;
	int32	   *up_line = palloc(sizeof(int32) * Max(in->n_lines, 1));
	int32	   *up_qty = palloc(sizeof(int32) * Max(in->n_lines, 1));
	int32	   *up_alloc = palloc(sizeof(int32) * Max(in->n_lines, 1));
	char	  **up_loc = palloc(sizeof(char *) * Max(in->n_lines, 1));
	int32	   *del_line = palloc(sizeof(int32) * Max(in->n_lines, 1));
	StockKey   *keys = palloc(sizeof(StockKey) * n_cells);
	int64	   *deltas = palloc(sizeof(int64) * n_cells);
	int			n_keys = 0;
	StringInfoData detail,
				changes;
	Datum		values[6];
	SettleInput settle = {0};

	memset(result, 0, sizeof(SplitResult));

	/* Nothing stays held: the parent carries a shipment itself. */
	if (plan->units_left == 0)
	{
		for (i = 0; i < in->n_lines && keep < 0; i++)
			if (in->lines[i].home >= 0 && (plan->mask & (1U << in->lines[i].home)))
				keep = in->lines[i].home;
		if (keep < 0)
			keep = plan->shipment_loc[0];
	}

	/* Children: one per shipment the parent does not keep, in shipment order. */
	next_n = count_children(p->client_id, p->root);
	result->children = palloc(sizeof(char *) * Max(plan->n_shipments, 1));
	for (shipment = 0; shipment < plan->n_shipments; shipment++)
	{
		j = plan->shipment_loc[shipment];
		if (j == keep)
			continue;
		child_of_loc[j] = insert_child_order(p, &next_n);
		result->children[result->n_children++] = child_of_loc[j];
	}

	/* Where every line's units go, and what that does to allocations. */
	for (i = 0; i < in->n_lines; i++)
	{
		const SplitLine *l = &in->lines[i];
		int64		new_qty,
					new_alloc;
		char	   *new_loc;

		if (!l->shippable)
			continue;			/* stays as it is */
		if (l->allocated > 0)
		{
			parent_delta[l->sku_index * n_locs + l->home] -= l->allocated;
			stock_delta[l->sku_index * n_locs + l->home] -= l->allocated;
		}
		for (j = 0; j < n_locs; j++)
		{
			int64		t = plan->take[i * n_locs + j];

			if (t == 0)
				continue;
			stock_delta[l->sku_index * n_locs + j] += t;
			units_of_loc[j] += t;
			if (j == keep)
				continue;
			cl_order[n_child_lines] = child_of_loc[j];
			cl_line[n_child_lines] = l->line_no;
			cl_qty[n_child_lines] = (int32) t;
			cl_loc[n_child_lines] = in->locs[j].location_id;
			n_child_lines++;
		}
		if (keep >= 0)
		{
			new_qty = plan->take[i * n_locs + keep];
			new_alloc = new_qty;
			new_loc = in->locs[keep].location_id;
		}
		else
		{
			new_qty = plan->left_qty[i];
			new_alloc = plan->left_alloc[i];
			new_loc = l->location_id;
			if (new_alloc > 0)
				stock_delta[l->sku_index * n_locs + l->home] += new_alloc;
		}
		if (new_alloc > 0)
		{
			/* A kept shipment's location is a candidate, as is any line's with units. */
			int			at = keep >= 0 ? keep : l->home;

			parent_delta[l->sku_index * n_locs + at] += new_alloc;
		}
		if (new_qty == 0)
			del_line[n_del++] = l->line_no;
		else if (new_qty != l->qty || new_alloc != l->allocated ||
				 strcmp(new_loc, l->location_id) != 0)
		{
			up_line[n_upd] = l->line_no;
			up_qty[n_upd] = (int32) new_qty;
			up_alloc[n_upd] = (int32) new_alloc;
			up_loc[n_upd] = new_loc;
			n_upd++;
		}
	}

	/* Child lines first: they copy sku, unit_price and queue position from the parent's. */
	if (n_child_lines > 0)
	{
		values[0] = text_datum(p->client_id);
		values[1] = text_datum(p->order_id);
		values[2] = text_array_datum(cl_order, n_child_lines);
		values[3] = int4_array_datum(cl_line, n_child_lines);
		values[4] = int4_array_datum(cl_qty, n_child_lines);
		values[5] = text_array_datum(cl_loc, n_child_lines);
		run_plan(&lines_plan,
				 "INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, unit_price,"
				 "       allocated, location_id, priority, placed_at, waiting)"
				 " SELECT p.client_id, g.order_id, p.line_no, p.sku, g.qty, p.unit_price,"
				 "        g.qty, g.location_id, p.priority, p.placed_at, false"
				 "   FROM unnest($3, $4, $5, $6) AS g(order_id, line_no, qty, location_id)"
				 "   JOIN backorder.order_line p"
				 "     ON p.client_id = $1 AND p.order_id = $2 AND p.line_no = g.line_no",
				 6, line_types, values, NULL, 0);
		if (SPI_processed != (uint64) n_child_lines)
			elog(ERROR, "pg_backorder: %d child lines to insert, " UINT64_FORMAT " inserted",
				 n_child_lines, SPI_processed);
	}

	values[0] = text_datum(p->client_id);
	values[1] = text_datum(p->order_id);
	if (n_upd > 0)
	{
		values[2] = int4_array_datum(up_line, n_upd);
		values[3] = int4_array_datum(up_qty, n_upd);
		values[4] = int4_array_datum(up_alloc, n_upd);
		values[5] = text_array_datum(up_loc, n_upd);
		run_plan(&parent_plan,
				 "UPDATE backorder.order_line l"
				 "   SET qty = g.qty, allocated = g.allocated, location_id = g.location_id,"
				 "       waiting = g.allocated < g.qty"
				 "  FROM unnest($3, $4, $5, $6) AS g(line_no, qty, allocated, location_id)"
				 " WHERE l.client_id = $1 AND l.order_id = $2 AND l.line_no = g.line_no",
				 6, parent_types, values, NULL, 0);
	}
	if (n_del > 0)
	{
		values[2] = int4_array_datum(del_line, n_del);
		run_plan(&delete_plan,
				 "DELETE FROM backorder.order_line"
				 " WHERE client_id = $1 AND order_id = $2 AND line_no = ANY ($3)",
				 3, delete_types, values, NULL, 0);
	}

	/* stock.allocated, in one statement, over rows the caller holds. */
	for (i = 0; i < in->n_skus; i++)
		for (j = 0; j < n_locs; j++)
		{
			int64		d = stock_delta[i * n_locs + j];

			if (d == 0)
				continue;
			keys[n_keys].client_id = p->client_id;
			keys[n_keys].sku = in->skus[i];
			keys[n_keys].location_id = in->locs[j].location_id;
			deltas[n_keys++] = d;
		}
	apply_stock_deltas(p->client_id, keys, deltas, n_keys);
	result->freed_keys = palloc(sizeof(StockKey) * Max(n_keys, 1));
	for (i = 0; i < n_keys; i++)
		if (deltas[i] < 0)
			result->freed_keys[result->n_freed++] = keys[i];

	/* The parent's event: where its units went. */
	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"rule\": ");
	escape_json(&detail, p->rule);
	appendStringInfoString(&detail, ", \"children\": [");
	for (i = 0; i < result->n_children; i++)
	{
		if (i)
			appendStringInfoString(&detail, ", ");
		escape_json(&detail, result->children[i]);
	}
	appendStringInfoString(&detail, "], \"shipments\": [");
	for (shipment = 0; shipment < plan->n_shipments; shipment++)
	{
		j = plan->shipment_loc[shipment];
		if (shipment)
			appendStringInfoString(&detail, ", ");
		appendStringInfoString(&detail, "{\"order_id\": ");
		escape_json(&detail, j == keep ? p->order_id : child_of_loc[j]);
		appendStringInfoString(&detail, ", \"location_id\": ");
		escape_json(&detail, in->locs[j].location_id);
		appendStringInfo(&detail, ", \"units\": " INT64_FORMAT "}", units_of_loc[j]);
	}
	appendStringInfo(&detail, "], \"units_left\": " INT64_FORMAT ", \"changes\": [", plan->units_left);
	for (i = 0; i < in->n_skus; i++)
		for (j = 0; j < n_locs; j++)
			if (parent_delta[i * n_locs + j] != 0)
				append_change(&detail, in->skus[i], in->locs[j].location_id,
							  parent_delta[i * n_locs + j]);
	appendStringInfoString(&detail, "]}");
	write_event(p->client_id, p->order_id, "split", "needs_review", detail.data);

	/* Each child's first event: placed, ready, split from the parent. */
	for (shipment = 0; shipment < plan->n_shipments; shipment++)
	{
		j = plan->shipment_loc[shipment];
		if (j == keep)
			continue;
		initStringInfo(&changes);
		appendStringInfoString(&changes, "{\"split_from\": ");
		escape_json(&changes, p->order_id);
		appendStringInfoString(&changes, ", \"location_id\": ");
		escape_json(&changes, in->locs[j].location_id);
		n = 0;
		for (i = 0; i < in->n_lines; i++)
			if (in->lines[i].shippable && plan->take[i * n_locs + j] > 0)
				n++;
		appendStringInfo(&changes, ", \"lines\": %d, \"changes\": [", n);
		for (i = 0; i < in->n_skus; i++)
		{
			int64		units = 0;
			int			k;

			for (k = 0; k < in->n_lines; k++)
				if (in->lines[k].shippable && in->lines[k].sku_index == i)
					units += plan->take[k * n_locs + j];
			if (units > 0)
				append_change(&changes, in->skus[i], in->locs[j].location_id, units);
		}
		appendStringInfoString(&changes, "]}");
		write_event(p->client_id, child_of_loc[j], "placed", "ready", changes.data);
	}

	/* Holds and status follow the parent's new lines (released if it kept a shipment). */
	settle.cause = SETTLE_HOLD_CHANGE;
	settle_order(p->client_id, p->order_id, &settle);
	result->parent_ready = keep >= 0;
}
