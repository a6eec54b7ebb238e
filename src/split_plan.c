/*
 * split_plan.c — which units of a held order can ship now, from where, in
 * how many shipments.  Pure computation: no SPI, no locks.
 *
 * A plan is a set of candidate locations that ship now.  Given the set, each
 * SKU is filled greedily:
 *
 *   1. a line whose own location (where it is allocated) is in the set ships
 *      its allocated units from there;
 *   2. what its lines still need is taken from the units available at the
 *      set's locations, most preferred location first, lines in line order;
 *   3. what is left stays in the parent (the held remainder).  A line whose
 *      location is not in the set keeps as much of its allocation there as it
 *      still needs; allocated units it no longer needs are freed ("moved").
 *
 * Plans are compared by, in order: most units shipping now; fewest
 * shipments; location preference (the set whose most preferred location has
 * the lower priority number, then the next, ...); fewest units moved away
 * from where they were allocated; and last the location ids, so the choice
 * never depends on the order rows were read in.
 *
 * Locations are few, so subsets of the candidates are tried, smallest first
 * (at most 2^SPLIT_MAX_LOCATIONS - 1).  Units shipping now only grow with
 * the subset, so the search stops after the first size that ships as many
 * as all candidates together: with 5 locations and a plan of 3 shipments,
 * 25 greedy fills of 50 lines, a few microseconds.
 *
 * Constraints a plan must meet:
 *   - at least one unit ships now;
 *   - with a budget, shipments (plus one for a held remainder) fit in it;
 *   - allocated units may be freed only where keep_allocated is false (the
 *     automatic rules may not free units that someone else waits for: the
 *     queue there could not be served without taking locks out of order).
 *
 * An order with nothing short ships as it stands: its plan is its current
 * allocation, whatever other locations hold.
 */
#include "postgres.h"

#include "port/pg_bitutils.h"

#include "split.h"

typedef struct Score
{
	bool		valid;
	int64		units_now;
	int64		units_left;
	int64		moved;
	int			n_shipments;
	uint32		used;
} Score;

/* Scratch arrays for one evaluation. */
typedef struct Scratch
{
	int64	   *take;			/* [line * n_locs + loc] */
	int64	   *left_qty;		/* [line] */
	int64	   *left_alloc;		/* [line] */
	int64	   *need;			/* [line] still to fill */
	int64	   *avail;			/* [sku * n_locs + loc] */
	int64	   *pool;			/* [sku * n_locs + loc] allocation of lines whose location ships nothing */
} Scratch;

static void
scratch_init(Scratch *s, const SplitInput *in)
{
	int			nl = Max(in->n_lines, 1);
	int			nk = Max(in->n_skus * in->n_locs, 1);

	s->take = palloc(sizeof(int64) * nl * Max(in->n_locs, 1));
	s->left_qty = palloc(sizeof(int64) * nl);
	s->left_alloc = palloc(sizeof(int64) * nl);
	s->need = palloc(sizeof(int64) * nl);
	s->avail = palloc(sizeof(int64) * nk);
	s->pool = palloc(sizeof(int64) * nk);
}

/*
 * Fills the lines from the locations in `mask` and scores the result.
 * record: also keep what each line takes from each location (for the
 * chosen plan; scoring alone does not need it).
 */
static void
evaluate(const SplitInput *in, uint32 mask, Scratch *s, Score *score, bool record)
{
	int			n_locs = in->n_locs;
	int			i,
				j,
				k;

	memset(score, 0, sizeof(Score));
	if (record)
		memset(s->take, 0, sizeof(int64) * Max(in->n_lines, 1) * Max(n_locs, 1));
	if (in->n_skus * n_locs > 0)
	{
		memcpy(s->avail, in->available, sizeof(int64) * in->n_skus * n_locs);
		memset(s->pool, 0, sizeof(int64) * in->n_skus * n_locs);
	}

	/* 1. Lines at a shipping location ship their allocated units from there. */
	for (i = 0; i < in->n_lines; i++)
	{
		const SplitLine *l = &in->lines[i];

		s->left_alloc[i] = 0;
		if (!l->shippable)
		{
			s->need[i] = 0;
			continue;
		}
		if (l->home >= 0 && (mask & (1U << l->home)))
		{
			if (record)
				s->take[i * n_locs + l->home] = l->allocated;
			score->units_now += l->allocated;
			if (l->allocated > 0)
				score->used |= 1U << l->home;
			s->need[i] = l->qty - l->allocated;
		}
		else
		{
			s->need[i] = l->qty;
			if (l->allocated > 0)
				s->pool[l->sku_index * n_locs + l->home] += l->allocated;
		}
	}

	/* 2. Available units at the shipping locations, most preferred first. */
	for (j = 0; j < n_locs; j++)
	{
		if (!(mask & (1U << j)))
			continue;
		for (i = 0; i < in->n_lines; i++)
		{
			const SplitLine *l = &in->lines[i];
			int64	   *avail;
			int64		t;

			if (!l->shippable || s->need[i] == 0)
				continue;
			avail = &s->avail[l->sku_index * n_locs + j];
			if (*avail <= 0)
				continue;
			t = Min(s->need[i], *avail);
			if (record)
				s->take[i * n_locs + j] += t;
			s->need[i] -= t;
			*avail -= t;
			score->units_now += t;
			score->used |= 1U << j;
		}
	}

	/* 3. The remainder keeps what it can of the allocation it had. */
	for (i = 0; i < in->n_lines; i++)
	{
		const SplitLine *l = &in->lines[i];

		if (!l->shippable)
		{
			s->left_qty[i] = l->qty;
			s->left_alloc[i] = l->allocated;	/* untouched */
			score->units_left += l->qty;
			continue;
		}
		s->left_qty[i] = s->need[i];
		score->units_left += s->need[i];
		if (l->allocated > 0 && !(mask & (1U << l->home)))
		{
			int64	   *pool = &s->pool[l->sku_index * n_locs + l->home];

			s->left_alloc[i] = Min(s->need[i], *pool);
			*pool -= s->left_alloc[i];
		}
	}
	score->valid = score->units_now > 0;
	for (k = 0; k < in->n_skus * n_locs; k++)
		if (s->pool[k] > 0)
		{
			score->moved += s->pool[k];
			if (in->keep_allocated && in->keep_allocated[k])
				score->valid = false;
		}

	score->n_shipments = pg_popcount32(score->used);
	if (in->budget > 0 &&
		score->n_shipments + (score->units_left > 0 ? 1 : 0) > in->budget)
		score->valid = false;
}

/*
 * Location preference between two sets of the same size: walk both from the
 * most preferred location; the first difference decides.  by_priority
 * compares priority numbers only (equal numbers tie); otherwise the full
 * preference order (priority, then location_id) decides.
 */
static int
preference_cmp(const SplitInput *in, uint32 a, uint32 b, bool by_priority)
{
	while (a != 0 && b != 0)
	{
		int			ia = pg_rightmost_one_pos32(a);
		int			ib = pg_rightmost_one_pos32(b);

		if (by_priority && in->locs[ia].priority != in->locs[ib].priority)
			return in->locs[ia].priority < in->locs[ib].priority ? -1 : 1;
		if (!by_priority && ia != ib)
			return ia < ib ? -1 : 1;
		a &= a - 1;
		b &= b - 1;
	}
	return 0;
}

/*
 * true if `a` is a better plan than `b`: more units now, fewer shipments,
 * preferred locations (by priority number), fewer units moved, and last the
 * location ids, so that the choice is always the same.
 */
static bool
better(const SplitInput *in, const Score *a, const Score *b)
{
	int			c;

	if (!a->valid)
		return false;
	if (!b->valid)
		return true;
	if (a->units_now != b->units_now)
		return a->units_now > b->units_now;
	if (a->n_shipments != b->n_shipments)
		return a->n_shipments < b->n_shipments;
	c = preference_cmp(in, a->used, b->used, true);
	if (c != 0)
		return c < 0;
	if (a->moved != b->moved)
		return a->moved < b->moved;
	return preference_cmp(in, a->used, b->used, false) < 0;
}

void
split_compute_plan(const SplitInput *in, SplitPlan *plan)
{
	Scratch		s;
	Score		best = {0},
				score;
	uint32		best_mask = 0,
				mask,
				homes = 0;
	bool		complete = true;
	int			i,
				j;

	Assert(in->n_locs <= SPLIT_MAX_LOCATIONS);
	memset(plan, 0, sizeof(SplitPlan));
	scratch_init(&s, in);

	for (i = 0; i < in->n_lines; i++)
	{
		const SplitLine *l = &in->lines[i];

		if (!l->shippable || l->allocated < l->qty || l->home < 0)
			complete = false;
		else
			homes |= 1U << l->home;
	}

	if (complete)
	{
		/* Nothing is short: the order ships as it is allocated. */
		best_mask = homes;
	}
	else
	{
		/*
		 * Subsets by size, smallest first.  Units shipping now only grow with
		 * the subset, so the whole candidate set gives the most units there
		 * can be: once a subset of some size reaches them, no larger one can
		 * do better (it would need more shipments), and the search stops
		 * after that size.  A subset larger than the locations it uses plans
		 * the same as the subset of those it uses.
		 */
		uint32		all = (1U << in->n_locs) - 1;
		int64		most;
		int			size,
					max_size = in->n_locs;

		if (in->n_locs == 0)
			return;
		evaluate(in, all, &s, &score, false);
		most = score.units_now;
		if (in->budget > 0)
			max_size = Min(max_size, in->budget);
		for (size = 1; size <= max_size; size++)
		{
			/* Every mask of `size` bits, in increasing order (Gosper's hack). */
			mask = (1U << size) - 1;
			while (mask <= all)
			{
				uint32		low,
							ripple;

				evaluate(in, mask, &s, &score, false);
				if (better(in, &score, &best))
				{
					best = score;
					best_mask = mask;
				}
				low = mask & -mask;
				ripple = mask + low;
				mask = (((ripple ^ mask) >> 2) / low) | ripple;
			}
			if (best.valid && best.units_now == most)
				break;
		}
		if (!best.valid)
			return;
	}
	evaluate(in, best_mask, &s, &best, true);
	if (!best.valid)
		return;

	plan->found = true;
	plan->mask = best.used;
	plan->units_now = best.units_now;
	plan->units_left = best.units_left;
	plan->moved = best.moved;
	plan->take = s.take;
	plan->left_qty = s.left_qty;
	plan->left_alloc = s.left_alloc;
	plan->freed = s.pool;
	for (j = 0; j < in->n_locs; j++)
		if (best.used & (1U << j))
			plan->shipment_loc[plan->n_shipments++] = j;

	/* Value, for min_fraction: only when every line has a price. */
	plan->priced = in->n_lines > 0;
	for (i = 0; i < in->n_lines; i++)
	{
		const SplitLine *l = &in->lines[i];

		if (l->price < 0)
		{
			plan->priced = false;
			break;
		}
		plan->value_total += l->price * (double) l->qty;
		for (j = 0; j < in->n_locs; j++)
			plan->value_now += l->price * (double) s.take[i * in->n_locs + j];
	}
	if (plan->value_total <= 0)
		plan->priced = false;
}
