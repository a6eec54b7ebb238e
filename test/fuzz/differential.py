#!/usr/bin/python3
"""Differential savepoint/exception-block fuzzer for pg_backorder.

Each seed gives a deterministic schedule of transactions of engine operations.  The schedule
runs twice, each in a fresh database cloned from a template (extension + catalog):
  plain  - the base operations only;
  noise  - the same, with extra segments interleaved that are rolled back
           (SAVEPOINT ... ROLLBACK TO SAVEPOINT, nested savepoints, and PL/pgSQL
           BEGIN ... EXCEPTION WHEN others blocks that raise at their end).
Rolled-back work must leave no trace, so per-operation outputs / SQLSTATEs, a digest of
the state after every commit and the final state must be identical.  check_invariants()
runs after every commit in both variants.  A failing schedule is shrunk to a minimal
script.

    test/fuzz/differential.py --seeds 20 --txns 40            # seeds 1..20
    test/fuzz/differential.py --seed 7 --txns 40 --shrink    # one seed, shrink on failure
    test/fuzz/differential.py --seed 7 --txns 40 --dump DIR  # write both scripts
    bash bench/fuzz_large.sh                                  # 60 seeds, own cluster

Connects with psql like psql does (PGHOST, PGPORT; override: --host --port) as postgres.
Found (each now a regression test): a rolled-back receipt steering the completion pass (B30),
a settle before the intake (B31, B33), a backend crash (pg_regress split_queue_reset), a split
rule's freed units left beside its own remainder (B34).
Known differences that are not bugs (README, Reliability): 'diff-order-E', the same events of one
commit in another order (the settle and the split watch run in another order when a rolled-back
segment asked for a settle too), and, rarely, 'diff-E' where one run's history reads "split into
nothing, released" and the other's "released", same final state.
"""
import argparse
import copy
import os
import random
import re
import subprocess
import sys
import time

HOST = os.environ.get('PGHOST', '/tmp')
PORT = os.environ.get('PGPORT', '5432')
PSQL = '/usr/lib/postgresql/15/bin/psql'
TEMPLATE = 'fz_tmpl'

CLIENTS = {'A': 'reserve', 'B': 'complete_only'}
LOCS = {'W1': 1, 'W2': 2, 'W3': 3}
CATALOG = [('S1', 'active', True), ('S2', 'active', True), ('S3', 'active', True),
           ('S4', 'active', True), ('D1', 'discontinued', True), ('N1', 'active', False)]

SETUP = ["CREATE EXTENSION pg_backorder"]
for _c, _p in CLIENTS.items():
    SETUP.append(f"INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('{_c}', '{_p}')")
for _l, _p in LOCS.items():
    SETUP.append(f"INSERT INTO backorder.location (location_id, priority) VALUES ('{_l}', {_p})")
for _c in CLIENTS:
    for _s, _st, _bo in CATALOG:
        SETUP.append(f"INSERT INTO backorder.sku (client_id, sku, status, backorderable, unit_price) "
                     f"VALUES ('{_c}', '{_s}', '{_st}', {str(_bo).lower()}, {10 + len(_s)})")

# State rendering: everything that must be equal, without sequence-generated ids.
STATE_FN = r"""
CREATE FUNCTION public.fz_state() RETURNS text LANGUAGE sql AS $f$
SELECT concat_ws(E'\n',
 (SELECT string_agg('C ' || t::text, E'\n' ORDER BY t::text) FROM
   (SELECT client_id, allocation_policy, split_rule, split_max_shipments, split_min_fraction, split_after FROM backorder.client) t),
 (SELECT string_agg('K ' || t::text, E'\n' ORDER BY t::text) FROM
   (SELECT client_id, sku, status, backorderable FROM backorder.sku) t),
 (SELECT string_agg('O ' || t::text, E'\n' ORDER BY t::text) FROM
   (SELECT client_id, order_id, status, parent_order_id, priority, placed_at, location_id, held_since, ready_at,
           shipped_at, cancelled_at, split_rule, split_max_shipments, split_min_fraction, split_after, sla_due_at
      FROM backorder.orders) t),
 (SELECT string_agg('L ' || t::text, E'\n' ORDER BY t::text) FROM
   (SELECT client_id, order_id, line_no, sku, qty, unit_price, allocated, shipped, location_id, priority, placed_at, waiting
      FROM backorder.order_line) t),
 (SELECT string_agg('S ' || t::text, E'\n' ORDER BY t::text) FROM
   (SELECT client_id, sku, location_id, on_hand, allocated, updated_at FROM backorder.stock) t),
 (SELECT string_agg('H ' || t::text, E'\n' ORDER BY hold_id) FROM
   (SELECT hold_id, client_id, order_id, reason, note, created_at, released_at FROM backorder.order_hold) t0,
   LATERAL (SELECT t0.client_id, t0.order_id, t0.reason, t0.note, t0.created_at, t0.released_at) t),
 (SELECT string_agg('E ' || t::text, E'\n' ORDER BY event_id) FROM
   (SELECT e.event_id, e.client_id, e.order_id, e.event, e.status, e.created_at,
           e.detail - 'opened' - 'closed'
           || CASE WHEN e.detail ? 'opened' THEN jsonb_build_object('opened', (SELECT jsonb_agg(r.rn ORDER BY r.rn)
                FROM jsonb_array_elements_text(e.detail->'opened') x
                JOIN (SELECT hold_id, row_number() OVER (ORDER BY hold_id) rn FROM backorder.order_hold) r ON r.hold_id = x::bigint)) ELSE '{}' END
           || CASE WHEN e.detail ? 'closed' THEN jsonb_build_object('closed', (SELECT jsonb_agg(r.rn ORDER BY r.rn)
                FROM jsonb_array_elements_text(e.detail->'closed') x
                JOIN (SELECT hold_id, row_number() OVER (ORDER BY hold_id) rn FROM backorder.order_hold) r ON r.hold_id = x::bigint)) ELSE '{}' END
           AS detail
      FROM backorder.order_event e) t0,
   LATERAL (SELECT t0.client_id, t0.order_id, t0.event, t0.status, t0.created_at, t0.detail) t),
 (SELECT string_agg('M ' || t::text, E'\n' ORDER BY movement_id) FROM
   (SELECT movement_id, client_id, sku, location_id, kind, qty, delta, reason, reference, order_id, created_at
      FROM backorder.stock_movement) t0,
   LATERAL (SELECT t0.client_id, t0.sku, t0.location_id, t0.kind, t0.qty, t0.delta, t0.reason, t0.reference,
                   t0.order_id, t0.created_at) t),
 (SELECT string_agg('I ' || t::text, E'\n' ORDER BY t::text) FROM
   (SELECT inbound_id, client_id, sku, location_id, qty, expected_at, received_at FROM backorder.inbound) t),
 (SELECT string_agg('D ' || t::text, E'\n' ORDER BY t::text) FROM
   (SELECT client_id, sku, location_id, block_start, units FROM backorder.demand_summary) t),
 (SELECT 'Q settle=' || count(*) FROM backorder.settle_request),
 (SELECT 'Q split=' || count(*) FROM backorder.split_request))
$f$;
CREATE FUNCTION public.fz_digest() RETURNS text LANGUAGE sql AS $f$ SELECT md5(public.fz_state()) $f$;
"""


def q(s):
    return "'" + s.replace("'", "''") + "'"


class Gen:
    """Random operations.  An operation is a list of SQL statements (top-level form)."""

    def __init__(self, rng):
        self.rng = rng
        self.n_orders = 0
        self.orders = []          # (client, order_id) placed by base ops
        self.maxline = {}
        self.n_inbound = 0
        self.inbound = []
        self.late_added = set()

    def client(self):
        return self.rng.choice(['A', 'A', 'B'])

    def loc(self):
        return self.rng.choices(['W1', 'W2', 'W3'], [5, 3, 1])[0]

    def sku(self):
        r = self.rng.random()
        if r < 0.86:
            return self.rng.choice(['S1', 'S2', 'S3', 'S4'])
        if r < 0.93:
            return self.rng.choice(['D1', 'N1'])
        if r < 0.98:
            return 'L1'            # added to the catalog later (maybe)
        return None

    def order(self, noise_orders=None):
        pool = list(self.orders) + (noise_orders or [])
        if not pool:
            return None
        # prefer recent orders
        i = len(pool) - 1 - min(len(pool) - 1, int(self.rng.expovariate(1 / 6)))
        return pool[i]

    def by_status(self, fn, status, extra=''):
        k = self.rng.randrange(3)
        return (f"SELECT {fn} FROM (SELECT client_id, order_id FROM backorder.orders WHERE status = '{status}'{extra}"
                f" ORDER BY client_id, order_id OFFSET {k} LIMIT 1) s")

    # -- ops; each returns (name, [stmts], tracking_fn)
    def op_place(self, noise=False):
        rng = self.rng
        c = self.client()
        if noise and rng.random() < 0.5:
            oid = f'o{self.n_orders + 1}'    # the id the next base order will take
        elif noise:
            oid = f'z{rng.randrange(1000)}'
        else:
            self.n_orders += 1
            oid = f'o{self.n_orders}'
        placed = rng.choice(['', "'2024-01-01 00:00+00'", "'2023-12-31 12:00+00'", "'2024-01-01 03:00+00'"])
        prio = rng.choices([0, 1, 2], [75, 20, 5])[0]
        loc = self.loc() if rng.random() < 0.12 else None
        sr = None
        if rng.random() < 0.12:
            sr = rng.choice(["'as_available', NULL, NULL, NULL", "'up_to_n', 2, NULL, NULL",
                             "'min_fraction', NULL, 0.5, NULL", "'after_held', NULL, NULL, '0 minutes'",
                             "'never', NULL, NULL, NULL"])
        cols = ['client_id', 'order_id', 'priority']
        vals = [q(c), q(oid), str(prio)]
        if placed:
            cols.append('placed_at'); vals.append(placed)
        if loc:
            cols.append('location_id'); vals.append(q(loc))
        if sr:
            cols += ['split_rule', 'split_max_shipments', 'split_min_fraction', 'split_after']; vals.append(sr)
        stmts = [f"INSERT INTO backorder.orders ({', '.join(cols)}) VALUES ({', '.join(vals)})"]
        n = rng.choices([1, 2, 3, 4], [35, 35, 20, 10])[0]
        lines = []
        for i in range(n):
            s = self.sku()
            lines.append(f"({q(c)}, {q(oid)}, {i + 1}, {q(s) if s else 'NULL'}, {rng.choice([1, 1, 2, 2, 3, 4, 6])}"
                         f", {rng.choice(['NULL', '5.00', '12.50'])})")
        head = 'INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty, unit_price) VALUES '
        if rng.random() < 0.7:
            stmts.append(head + ', '.join(lines))
        else:
            stmts += [head + ln for ln in lines]
        if rng.random() < 0.1:
            stmts[-1] += ' ON CONFLICT DO NOTHING'

        def track():
            self.orders.append((c, oid))
            self.maxline[(c, oid)] = n
        return 'place', stmts, track

    def op_receipt(self, noise=False):
        c, s, l = self.client(), self.rng.choice(['S1', 'S2', 'S3', 'S4', 'S1', 'S2', 'D1', 'N1', 'L1']), self.loc()
        qty = self.rng.choice([1, 1, 2, 3, 4, 6])
        form = self.rng.randrange(3)
        if form == 0:
            st = f"SELECT backorder.receive({q(c)}, {q(s)}, {q(l)}, {qty}, 'PO') IS NOT NULL"
        else:
            kind = 'receipt' if form == 1 else 'return'
            st = (f"INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty) "
                  f"VALUES ({q(c)}, {q(s)}, {q(l)}, '{kind}', {qty})")
        return 'receipt', [st], None

    def op_multi_receipt(self, noise=False):
        c = self.client()
        rows = sorted({(self.rng.choice(['S1', 'S2', 'S3', 'S4']), self.loc()) for _ in range(self.rng.randrange(2, 4))})
        vals = ', '.join(f"({q(c)}, {q(s)}, {q(l)}, 'receipt', {self.rng.choice([1, 2, 3])})" for s, l in rows)
        return 'multi_receipt', [f"INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty) VALUES {vals}"], None

    def op_decrease(self, noise=False):
        c, s, l = self.client(), self.rng.choice(['S1', 'S2', 'S3', 'S4']), self.loc()
        if self.rng.random() < 0.5:
            st = f"SELECT backorder.adjust({q(c)}, {q(s)}, {q(l)}, {-self.rng.choice([1, 1, 2, 3])}, 'damage') IS NOT NULL"
        else:
            st = f"SELECT backorder.count_stock({q(c)}, {q(s)}, {q(l)}, {self.rng.choice([0, 0, 1, 2, 3, 5])}, 'cycle count') IS NOT NULL"
        return 'decrease', [st], None

    def op_adjust_up(self, noise=False):
        c, s, l = self.client(), self.rng.choice(['S1', 'S2', 'S3', 'S4']), self.loc()
        return 'adjust_up', [f"SELECT backorder.adjust({q(c)}, {q(s)}, {q(l)}, {self.rng.choice([1, 2, 4])}, 'found') IS NOT NULL"], None

    def _order_target(self, noise):
        o = self.order()
        if o is None:
            return None
        return o

    def op_edit_qty(self, noise=False):
        o = self._order_target(noise)
        if not o:
            return self.op_receipt(noise)
        ln = self.rng.randrange(1, self.maxline.get(o, 1) + 1)
        return 'edit_qty', [f"UPDATE backorder.order_line SET qty = {self.rng.choice([1, 2, 3, 5])} "
                            f"WHERE client_id = {q(o[0])} AND order_id = {q(o[1])} AND line_no = {ln}"], None

    def op_edit_sku(self, noise=False):
        o = self._order_target(noise)
        if not o:
            return self.op_receipt(noise)
        ln = self.rng.randrange(1, self.maxline.get(o, 1) + 1)
        s = self.sku()
        return 'edit_sku', [f"UPDATE backorder.order_line SET sku = {q(s) if s else 'NULL'} "
                            f"WHERE client_id = {q(o[0])} AND order_id = {q(o[1])} AND line_no = {ln}"], None

    def op_delete_line(self, noise=False):
        o = self._order_target(noise)
        if not o:
            return self.op_receipt(noise)
        ln = self.rng.randrange(1, self.maxline.get(o, 1) + 1)
        return 'delete_line', [f"DELETE FROM backorder.order_line WHERE client_id = {q(o[0])} AND order_id = {q(o[1])} "
                               f"AND line_no = {ln}"], None

    def op_add_line(self, noise=False):
        o = self._order_target(noise)
        if not o:
            return self.op_receipt(noise)
        ln = self.maxline.get(o, 1) + 1
        s = self.sku()

        def track():
            self.maxline[o] = ln
        return 'add_line', [f"INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES "
                            f"({q(o[0])}, {q(o[1])}, {ln}, {q(s) if s else 'NULL'}, {self.rng.choice([1, 2, 3])})"], \
            (None if noise else track)

    def op_priority(self, noise=False):
        o = self._order_target(noise)
        if not o:
            return self.op_receipt(noise)
        col = self.rng.choice(['priority', 'priority', 'placed_at'])
        val = str(self.rng.choice([0, 1, 3])) if col == 'priority' else self.rng.choice(
            ["'2023-12-30 00:00+00'", "'2024-01-02 00:00+00'"])
        return 'priority', [f"UPDATE backorder.orders SET {col} = {val} WHERE client_id = {q(o[0])} AND order_id = {q(o[1])}"], None

    def _fn_on(self, fn, status_choices, extra_args=''):
        rng = self.rng
        if rng.random() < 0.5 or not self.orders:
            st = rng.choice(status_choices)
            return self.by_status(f"backorder.{fn}(client_id, order_id{extra_args})", st)
        o = self.order()
        return f"SELECT backorder.{fn}({q(o[0])}, {q(o[1])}{extra_args})"

    def op_hold(self, noise=False):
        reason = self.rng.choice(['manual', 'manual', 'fraud_review'])
        return 'hold', [self._fn_on('hold_order', ['ready', 'needs_review'], f", '{reason}'")], None

    def op_release(self, noise=False):
        reason = self.rng.choice(['manual', 'manual', 'fraud_review', 'unknown_sku'])
        return 'release', [self._fn_on('release_hold', ['needs_review'], f", '{reason}'")], None

    def op_cancel(self, noise=False):
        return 'cancel', [self._fn_on('cancel_order', ['ready', 'needs_review', 'needs_review'])], None

    def op_ship(self, noise=False):
        return 'ship', [self._fn_on('ship_order', ['ready', 'ready', 'ready', 'needs_review'])], None

    def op_ship_wave(self, noise=False):
        c = self.client()
        return 'ship_wave', [f"SELECT backorder.ship_orders({q(c)}, ARRAY(SELECT order_id FROM backorder.orders WHERE "
                             f"client_id = {q(c)} AND status IN ('ready', 'shipped') ORDER BY order_id LIMIT {self.rng.choice([2, 3, 5])}))"], None

    def op_split(self, noise=False):
        return 'split', [self._fn_on('split_order', ['needs_review'])], None

    def op_compute_split(self, noise=False):
        st = self._fn_on('compute_split', ['needs_review']).replace('SELECT backorder.compute_split', 'SELECT count(*) FROM (SELECT (backorder.compute_split', 1)
        # keep simple: list the plan
        o = self.order()
        if not o:
            return self.op_receipt(noise)
        return 'compute_split', [f"SELECT shipment_no, location_id, line_no, sku, qty, ships_now FROM "
                                 f"backorder.compute_split({q(o[0])}, {q(o[1])})"], None

    def op_policy(self, noise=False):
        c = self.client()
        p = self.rng.choice(['reserve', 'complete_only'])
        return 'policy', [f"UPDATE backorder.client SET allocation_policy = '{p}' WHERE client_id = {q(c)}"], None

    def op_split_rule(self, noise=False):
        c = self.client()
        r = self.rng.choice(["split_rule = 'never', split_max_shipments = NULL",
                             "split_rule = 'as_available'",
                             "split_rule = 'up_to_n', split_max_shipments = 2",
                             "split_rule = 'min_fraction', split_min_fraction = 0.5",
                             "split_rule = 'after_held', split_after = '0 minutes'"])
        if self.rng.random() < 0.25 and self.orders:
            o = self.order()
            r2 = self.rng.choice(["split_rule = 'as_available'", "split_rule = NULL",
                                  "split_rule = 'never'"])
            return 'order_split_rule', [f"UPDATE backorder.orders SET {r2} WHERE client_id = {q(o[0])} AND order_id = {q(o[1])}"], None
        return 'split_rule', [f"UPDATE backorder.client SET {r} WHERE client_id = {q(c)}"], None

    def op_immediate(self, noise=False):
        return 'immediate', ['SET CONSTRAINTS ALL IMMEDIATE'], None

    def op_deferred(self, noise=False):
        return 'deferred', ['SET CONSTRAINTS ALL DEFERRED'], None

    def op_scheduled(self, noise=False):
        return 'scheduled', ['SELECT backorder.run_scheduled()'], None

    def op_sku_status(self, noise=False):
        c = self.client()
        s = self.rng.choice(['S1', 'S2', 'S3', 'S4', 'D1'])
        st = self.rng.choice(["status = 'discontinued'", "status = 'active'", "backorderable = false", "backorderable = true"])
        return 'sku_status', [f"UPDATE backorder.sku SET {st} WHERE client_id = {q(c)} AND sku = {q(s)}"], None

    def op_add_sku(self, noise=False):
        c = self.client()
        return 'add_sku', [f"INSERT INTO backorder.sku (client_id, sku) VALUES ({q(c)}, 'L1') ON CONFLICT DO NOTHING"], None

    def op_inbound(self, noise=False):
        c, s, l = self.client(), self.rng.choice(['S1', 'S2', 'S3', 'S4']), self.loc()
        if noise:
            iid = 1000 + self.rng.randrange(1000)
        else:
            self.n_inbound += 1
            iid = self.n_inbound
        stmts = [f"INSERT INTO backorder.inbound (inbound_id, client_id, sku, location_id, qty, expected_at) OVERRIDING SYSTEM VALUE "
                 f"VALUES ({iid}, {q(c)}, {q(s)}, {q(l)}, {self.rng.choice([1, 2, 4])}, '2024-01-05')"]
        if self.rng.random() < 0.6:
            stmts.append(f"SELECT backorder.receive_inbound({iid}) IS NOT NULL")

        def track():
            self.inbound.append(iid)
        return 'inbound', stmts, (None if noise else track)

    def op_truck(self, noise=False):
        if not self.inbound:
            return self.op_inbound(noise)
        ids = sorted(set(self.rng.choice(self.inbound) for _ in range(self.rng.randrange(1, 3))))
        return 'truck', [f"SELECT backorder.receive_inbounds(ARRAY[{', '.join(map(str, ids))}]::bigint[])"], None

    def op_fail(self, noise=False):
        return 'fail', ['SELECT 1/0'], None

    BASE_OPS = [('place', 20), ('receipt', 14), ('multi_receipt', 2), ('decrease', 6), ('adjust_up', 2),
                ('edit_qty', 5), ('edit_sku', 2), ('delete_line', 2), ('add_line', 3), ('priority', 2),
                ('hold', 4), ('release', 4), ('cancel', 5), ('ship', 6), ('ship_wave', 2), ('split', 4),
                ('compute_split', 1), ('policy', 2), ('split_rule', 3), ('immediate', 3), ('scheduled', 1),
                ('sku_status', 1), ('add_sku', 1), ('inbound', 2), ('truck', 1)]
    NOISE_OPS = BASE_OPS + [('immediate', 4), ('fail', 1)]

    def pick(self, table, noise=False):
        names = [n for n, _ in table]
        w = [x for _, x in table]
        name = self.rng.choices(names, w)[0]
        return getattr(self, 'op_' + name)(noise)


def gen_schedule(seed, ntxns):
    """A schedule: list of transactions; a transaction: list of items.
    item = {'t': 'base', 'stmts': [...], 'guard': bool}
         | {'t': 'noise', 'form': 'sp'|'nested'|'plpgsql'|'sp_release_after', 'stmts': [...], 'stmts2': [...]}"""
    rng = random.Random(seed)
    g = Gen(rng)
    sched = []
    for ti in range(ntxns):
        items = []
        nops = rng.choices([1, 2, 3, 4, 6], [25, 30, 20, 15, 10])[0]
        if rng.random() < 0.6:
            items.append(make_noise(g))
        for _ in range(nops):
            name, stmts, track = g.pick(Gen.BASE_OPS)
            items.append({'t': 'base', 'stmts': stmts, 'guard': rng.random() < 0.85, 'name': name})
            if track:
                track()
            if rng.random() < 0.5:
                items.append(make_noise(g))
        sched.append(items)
    return sched


def make_noise(g):
    rng = g.rng
    form = rng.choices(['sp', 'nested', 'plpgsql', 'plpgsql_in_sp'], [40, 15, 35, 10])[0]
    stmts = []
    for _ in range(rng.choices([1, 2, 3, 4], [30, 35, 20, 15])[0]):
        stmts += g.pick(Gen.NOISE_OPS, noise=True)[1]
    # PostgreSQL 15 itself keeps a SET CONSTRAINTS made in a subtransaction that was released
    # (committed) into a savepoint that is then rolled back (AfterTriggerEndSubXact drops the
    # saved state at the inner commit): not the engine's doing, so by default never SET
    # CONSTRAINTS in a committed nested level (--pg-leak allows it).
    inner_ok = [(n, w) for n, w in Gen.NOISE_OPS if PG_LEAK or n not in ('immediate', 'deferred')]
    if form == 'plpgsql_in_sp':
        stmts = []
        for _ in range(rng.choices([1, 2, 3], [40, 40, 20])[0]):
            stmts += g.pick(inner_ok, noise=True)[1]
    stmts2 = []
    if form in ('nested', 'plpgsql_in_sp'):
        for _ in range(rng.randrange(1, 3)):
            stmts2 += g.pick(Gen.NOISE_OPS if form == 'plpgsql_in_sp' else inner_ok, noise=True)[1]
    return {'t': 'noise', 'form': form, 'stmts': stmts, 'stmts2': stmts2}


PG_LEAK = False


def plpgsql(stmts):
    out = []
    for s in stmts:
        if s.startswith('SELECT '):
            out.append('PERFORM ' + s[len('SELECT '):] + ';')
        else:
            out.append(s + ';')
    return out


def render_noise(item, k):
    sp = f'nz{k}'
    lines = ['\\o /dev/null']
    if item['form'] == 'sp':
        lines += [f'SAVEPOINT {sp};'] + [s + ';' for s in item['stmts']] + [f'ROLLBACK TO SAVEPOINT {sp};', f'RELEASE SAVEPOINT {sp};']
    elif item['form'] == 'nested':
        lines += [f'SAVEPOINT {sp};'] + [s + ';' for s in item['stmts']] + [f'SAVEPOINT {sp}b;'] + \
                 [s + ';' for s in item['stmts2']] + [f'RELEASE SAVEPOINT {sp}b;', f'ROLLBACK TO SAVEPOINT {sp};',
                                                      f'RELEASE SAVEPOINT {sp};']
    elif item['form'] == 'plpgsql':
        body = ' '.join(plpgsql(item['stmts']))
        lines.append("DO $nz$ BEGIN " + body + " RAISE EXCEPTION 'noise' USING ERRCODE = 'P0001'; "
                     "EXCEPTION WHEN others THEN NULL; END $nz$;")
    else:  # plpgsql: an inner block that completes (a released subtransaction), then more; all rolled back
        body = ' '.join(plpgsql(item['stmts']))
        body2 = ' '.join(plpgsql(item['stmts2']))
        lines += [f'SAVEPOINT {sp};',
                  "DO $nz$ BEGIN BEGIN " + body + " EXCEPTION WHEN others THEN NULL; END; " + body2 +
                  " END $nz$;",
                  f'ROLLBACK TO SAVEPOINT {sp};', f'RELEASE SAVEPOINT {sp};']
    lines.append('\\o')
    return lines


def render(sched, noise, invariants=True, digest=True, state=True):
    out = ['\\set ON_ERROR_STOP 0', '\\pset footer off']
    k = 0
    for ti, items in enumerate(sched):
        out.append(f"SET backorder.now = '{time_of(ti)}';")
        out.append(f'\\echo @T {ti}')
        out.append('BEGIN;')
        bi = 0
        for it in items:
            if it['t'] == 'noise':
                if noise:
                    k += 1
                    out += render_noise(it, k)
                continue
            bi += 1
            out.append(f'\\echo @B {ti}.{bi}')
            if it['guard']:
                out.append('SAVEPOINT g;')
            for s in it['stmts']:
                out.append(s + ';')
                out.append('\\if :ERROR')
                out.append('\\echo ERR :SQLSTATE')
                out.append('\\endif')
            if it['guard']:
                out += ['\\if :ERROR', 'ROLLBACK TO SAVEPOINT g;', '\\else', 'RELEASE SAVEPOINT g;', '\\endif']
        out.append('COMMIT;')
        out += ['\\if :ERROR', '\\echo COMMITERR :SQLSTATE', '\\endif']
        if invariants:
            out.append("SELECT 'INV', * FROM backorder.check_invariants();")
        if digest:
            out.append("SELECT 'DIG ' || public.fz_digest();")
    if state:
        out.append('\\echo @STATE')
        out.append('SELECT public.fz_state();')
    return '\n'.join(out) + '\n'


def time_of(ti):
    h, m = divmod(ti * 7, 60)
    return f'2024-01-01 {h % 24:02d}:{m:02d}:00+00'


def psql(db, script=None, cmd=None, timeout=300):
    args = [PSQL, '-X', '-At', '-h', HOST, '-p', PORT, '-U', 'postgres', '-d', db]
    if cmd:
        args += ['-c', cmd]
    r = subprocess.run(args, input=script, capture_output=True, text=True, timeout=timeout)
    return r.stdout, r.stderr, r.returncode


def make_template():
    psql('postgres', cmd=f'DROP DATABASE IF EXISTS {TEMPLATE}')
    psql('postgres', cmd=f'CREATE DATABASE {TEMPLATE}')
    o, e, rc = psql(TEMPLATE, script='\\set ON_ERROR_STOP 1\n' + ';\n'.join(SETUP) + ';\n' + STATE_FN)
    if rc != 0:
        sys.exit('template setup failed: ' + e)


_dbn = [0]


def run_variant(script):
    _dbn[0] += 1
    db = f'fz_run_{os.getpid()}_{_dbn[0]}'
    o, e, rc = psql('postgres', cmd=f'CREATE DATABASE {db} TEMPLATE {TEMPLATE}')
    if rc != 0:
        raise RuntimeError('createdb: ' + e)
    try:
        out, err, rc = psql(db, script=script)
    finally:
        psql('postgres', cmd=f'DROP DATABASE IF EXISTS {db}')
    crash = ('server closed the connection' in err or 'terminated abnormally' in err
             or 'connection to server' in err and 'failed' in err)
    return out, err, crash


def analyze(sched):
    """Run both variants; return (kind, detail) or None when clean.
    kind: 'crash-plain', 'crash-noise', 'inv-plain', 'inv-noise', 'diff'."""
    out1, err1, crash1 = run_variant(render(sched, False))
    if crash1:
        return ('crash-plain', err1[-2000:]), out1, None
    out2, err2, crash2 = run_variant(render(sched, True))
    if crash2:
        return ('crash-noise', err2[-2000:]), out1, out2
    inv1 = [l for l in out1.splitlines() if l.startswith('INV|')]
    if inv1:
        return ('inv-plain', inv1[0].split('|')[1] if '|' in inv1[0] else inv1[0]), out1, out2
    inv2 = [l for l in out2.splitlines() if l.startswith('INV|')]
    if inv2:
        return ('inv-noise', inv2[0].split('|')[1]), out1, out2
    if out1 != out2:
        return (classify(out1, out2), first_diff(out1, out2)), out1, out2
    return None, out1, out2


def classify(a, b):
    """diff-output: an operation's result or SQLSTATE differs; diff-order-X: the final state has
    the same rows of kind X in another order; diff-X: rows of kind X differ (X: O orders, L lines,
    S stock, H holds, E events, M ledger, ...); diff-digest: only intermediate states differ."""
    oa = [l for l in a.split('@STATE')[0].splitlines() if not l.startswith('DIG ')]
    ob = [l for l in b.split('@STATE')[0].splitlines() if not l.startswith('DIG ')]
    if oa != ob:
        return 'diff-output'
    sa = a.split('@STATE')[-1].splitlines()
    sb = b.split('@STATE')[-1].splitlines()
    kinds = []
    for k in 'COLSHEMIDQK':
        xa = [l for l in sa if l.startswith(k + ' ')]
        xb = [l for l in sb if l.startswith(k + ' ')]
        if xa != xb:
            kinds.append(('order-' if sorted(xa) == sorted(xb) else '') + k)
    if not kinds:
        return 'diff-digest'
    return 'diff-' + ','.join(kinds)


def first_diff(a, b):
    la, lb = a.splitlines(), b.splitlines()
    ctx = ''
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else '<EOF>'
        y = lb[i] if i < len(lb) else '<EOF>'
        if x.startswith('@'):
            ctx = x
        if x != y:
            return f'{ctx}: plain={x!r} noise={y!r}'
    return ''


def sig_of(res):
    kind, detail = res
    if kind.startswith('diff'):
        return (kind,)
    if kind.startswith('inv'):
        return (kind, detail.strip())
    return (kind,)


def count_items(sched):
    return sum(len(t) for t in sched)


def shrink(sched, target_sig, log=print, deadline=None):
    def fails(s):
        if deadline and time.time() > deadline:
            return False
        res, _, _ = analyze(s)
        return res is not None and sig_of(res) == target_sig

    cur = copy.deepcopy(sched)
    changed = True
    while changed:
        changed = False
        if deadline and time.time() > deadline:
            break
        # 1. drop chunks of transactions
        n = len(cur)
        chunk = max(1, n // 2)
        while chunk >= 1:
            i = 0
            while i < len(cur):
                cand = cur[:i] + cur[i + chunk:]
                if cand and fails(cand):
                    cur = cand
                    changed = True
                    log(f'  shrink: {len(cur)} txns, {count_items(cur)} items')
                else:
                    i += chunk
            chunk //= 2
        # 2. drop single items
        for ti in range(len(cur)):
            ii = 0
            while ii < len(cur[ti]):
                cand = copy.deepcopy(cur)
                del cand[ti][ii]
                if fails(cand):
                    cur = cand
                    changed = True
                    log(f'  shrink: {len(cur)} txns, {count_items(cur)} items')
                else:
                    ii += 1
        # 3. drop statements inside items; simplify noise forms; unguard
        for ti in range(len(cur)):
            for ii in range(len(cur[ti])):
                it = cur[ti][ii]
                for key in ('stmts', 'stmts2'):
                    si = 0
                    while si < len(it.get(key, [])):
                        if key == 'stmts' and len(it[key]) == 1 and it['t'] == 'base':
                            break
                        cand = copy.deepcopy(cur)
                        del cand[ti][ii][key][si]
                        if fails(cand):
                            cur = cand
                            it = cur[ti][ii]
                            changed = True
                            log(f'  shrink: stmt dropped ({ti}.{ii})')
                        else:
                            si += 1
                if it['t'] == 'base' and it['guard']:
                    cand = copy.deepcopy(cur)
                    cand[ti][ii]['guard'] = False
                    if fails(cand):
                        cur = cand
                        changed = True
                if it['t'] == 'noise' and it['form'] != 'sp' and not it['stmts2']:
                    for f in ('sp',):
                        cand = copy.deepcopy(cur)
                        cand[ti][ii]['form'] = f
                        if fails(cand):
                            cur = cand
                            changed = True
        # 4. merge adjacent transactions
        ti = 0
        while ti + 1 < len(cur):
            cand = copy.deepcopy(cur)
            cand[ti] = cand[ti] + cand[ti + 1]
            del cand[ti + 1]
            if fails(cand):
                cur = cand
                changed = True
                log(f'  shrink: merged -> {len(cur)} txns')
            else:
                ti += 1
    return cur


def repro_script(sched, noise):
    """Self-contained script (fresh database): setup + the schedule, without psql metacommands
    where possible (guards kept as psql \\if)."""
    body = render(sched, noise, invariants=True, digest=False, state=False)
    body = body.replace('\\o /dev/null\n', '').replace('\\o\n', '')
    return ('-- run in a fresh database: psql -X -v ON_ERROR_STOP=0 -f THIS\n' +
            ';\n'.join(SETUP) + ';\n' + body + '\n' +
            'SELECT status, count(*) FROM backorder.orders GROUP BY 1 ORDER BY 1;\n')


def main():
    global HOST, PORT
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, default=10)
    ap.add_argument('--first-seed', type=int, default=1)
    ap.add_argument('--seed', type=int)
    ap.add_argument('--txns', type=int, default=40)
    ap.add_argument('--shrink', action='store_true')
    ap.add_argument('--shrink-seconds', type=int, default=600)
    ap.add_argument('--dump')
    ap.add_argument('--out', default=os.path.join(os.environ.get('TMPDIR', '/tmp'), 'pg_backorder_fuzz'))
    ap.add_argument('--host', default=HOST)
    ap.add_argument('--port', default=PORT)
    ap.add_argument('--no-template', action='store_true')
    ap.add_argument('--pg-leak', action='store_true', help='allow SET CONSTRAINTS in released nested subtransactions')
    a = ap.parse_args()
    global PG_LEAK
    PG_LEAK = a.pg_leak
    HOST, PORT = a.host, a.port
    if not a.no_template:
        make_template()
    seeds = [a.seed] if a.seed is not None else list(range(a.first_seed, a.first_seed + a.seeds))
    os.makedirs(a.out, exist_ok=True)
    passed = failed = 0
    steps = 0
    sigs = {}
    for seed in seeds:
        sched = gen_schedule(seed, a.txns)
        nb = sum(1 for t in sched for it in t if it['t'] == 'base')
        nn = sum(1 for t in sched for it in t if it['t'] == 'noise')
        if a.dump:
            os.makedirs(a.dump, exist_ok=True)
            open(f'{a.dump}/seed{seed}_plain.sql', 'w').write(render(sched, False))
            open(f'{a.dump}/seed{seed}_noise.sql', 'w').write(render(sched, True))
        t0 = time.time()
        res, o1, o2 = analyze(sched)
        steps += nb
        if res is None:
            passed += 1
            print(f'seed {seed}: ok ({len(sched)} txns, {nb} ops, {nn} noise segments, {time.time() - t0:.1f}s)', flush=True)
            continue
        failed += 1
        sg = sig_of(res)
        print(f'seed {seed}: FAIL {res[0]}: {res[1][:600]}', flush=True)
        sigs.setdefault(sg, []).append(seed)
        if a.shrink and len(sigs[sg]) == 1:
            small = shrink(sched, sg, deadline=time.time() + a.shrink_seconds)
            res2, o1, o2 = analyze(small)
            name = f'{a.out}/seed{seed}_{res[0]}'
            open(name + '_plain.sql', 'w').write(repro_script(small, False))
            open(name + '_noise.sql', 'w').write(repro_script(small, True))
            open(name + '_plain.out', 'w').write(o1 or '')
            open(name + '_noise.out', 'w').write(o2 or '')
            print(f'  shrunk to {len(small)} txns / {count_items(small)} items: {res2}; files {name}_*', flush=True)
    print(f'{passed} passed, {failed} failed; {steps} base operations; signatures: '
          + '; '.join(f'{k}: seeds {v}' for k, v in sigs.items()))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
