#!/usr/bin/python3
"""Randomized model check of pg_backorder.

Runs random sequences of operations (orders of 1-5 lines, receipts, returns, adjustments,
counts, inbound receipts, cancels, ships, holds and releases, line edits, priority changes,
catalog additions, refused inputs; single statements and multi-statement transactions)
through several sessions against the extension AND against the reference model in
model.py, and after every step compares every order's status, open holds and lines
(allocated, shipped, location, waiting) and every stock row.

Comparison after each step is exact and incremental: the rows either side changed in the
step (the database's by xmin, the model's by its own bookkeeping) are compared, plus row
counts; by induction every row equals its model.  A full comparison of everything runs
every --full-every steps and at the end, check_invariants() every --invariants-every
steps and at the end.

Every seed is printed and replayable: the same --seed and --steps give the same
operations.  --sql-log FILE writes the run as a psql script.

    /usr/bin/python3 test/model/run.py --seeds 3 --steps 300          # CI size
    /usr/bin/python3 test/model/run.py --seeds 10 --steps 10000 --jobs 2
    /usr/bin/python3 test/model/run.py --seed 1234 --steps 800 --sql-log /tmp/s.sql

Connects like psql (PGHOST, PGPORT, PGUSER); creates one database per seed
(bo_model_<seed>), dropped when the seed passes.  Exit status 0 only if every seed
passed; the last line is 'N passed, N failed'.
"""

import argparse
import datetime
import json
import os
import random
import sys
import time
import traceback

sys.dont_write_bytecode = True        # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import psycopg
except ImportError:
    sys.exit('python3-psycopg is missing: apt-get install python3-psycopg '
             '(and run with /usr/bin/python3)')

from model import Model, ModelError  # noqa: E402

BASE = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)

CLIENTS = {'R1': 'reserve', 'R2': 'reserve', 'C1': 'complete_only'}
LOCATIONS = {'L1': 1, 'L2': 2, 'L3': 2}
HOT = ['S1', 'S2', 'S3', 'S4']
CATALOG = [('S1', 'active', True), ('S2', 'active', True), ('S3', 'active', True),
           ('S4', 'active', True), ('S5', 'discontinued', True), ('S6', 'active', False)]
LATE = ['N1', 'N2']          # not in the catalog at first; an operator adds them later
NEVER = ['X1']               # never in the catalog


def ts(minutes):
    return (BASE + datetime.timedelta(minutes=minutes)).isoformat()


class Mismatch(Exception):
    pass


# ---------------------------------------------------------------------------------------
# Operations.  Each generator returns (description, statements, model_fn) where
# statements is a list of (sql, params, compare_result) run in ONE transaction, and
# model_fn(model) applies the same transaction to the model (ending with commit) and
# returns the expected results of the statements marked compare_result, in order.
# ---------------------------------------------------------------------------------------

class Gen:
    def __init__(self, rng, model, avoid_known_bugs=False):
        self.rng = rng
        self.m = model
        self.avoid = avoid_known_bugs
        self.n_orders = 0
        self.n_inbound = 0

    # ---- picking
    def client(self):
        return self.rng.choice(['R1', 'R1', 'R2', 'C1', 'C1'])

    def location(self):
        return self.rng.choices(['L1', 'L2', 'L3'], [5, 3, 2])[0]

    def line_sku(self, client):
        if self.avoid and self.m.clients[client] == 'complete_only':
            # engine bug B3: complete_only loses grants once one serve sees more than four
            # other stock rows; four SKUs per complete_only order keep it at three
            return self.rng.choice(HOT)
        r = self.rng.random()
        if r < 0.85:
            return self.rng.choice(HOT)
        if r < 0.90:
            return self.rng.choice(['S5', 'S6'])
        if r < 0.95:
            return self.rng.choice(LATE)
        if r < 0.98:
            return NEVER[0]
        return None

    def live(self, pred=None):
        keys = [k for k, o in self.m.live.items() if o.status != 'new' and (pred is None or pred(o))]
        return self.rng.choice(sorted(keys)) if keys else None

    def any_order(self):
        if not self.m.orders:
            return None
        keys = list(self.m.orders)
        return keys[self.rng.randrange(len(keys))]

    def closed_order(self):
        keys = [k for k, o in self.m.orders.items() if o.status in ('shipped', 'cancelled')]
        return keys[self.rng.randrange(len(keys))] if keys else None

    def new_oid(self):
        self.n_orders += 1
        return f'{self.rng.choice("ABCDEF")}{self.n_orders:05d}'

    # ---- orders
    def order_stmts(self, now):
        rng = self.rng
        c = self.client()
        oid = self.new_oid()
        placed = now - rng.choice([0, 0, 1, 2, 5, 30, 90, 180])
        prio = rng.choices([0, 1, 2], [80, 15, 5])[0]
        loc = self.location() if rng.random() < 0.15 else None
        n = rng.choices([1, 2, 3, 4, 5], [35, 30, 18, 10, 7])[0]
        lines = [(i + 1, self.line_sku(c), rng.choices([1, 2, 3, 4, 6], [35, 30, 15, 12, 8])[0])
                 for i in range(n)]
        default_placed = rng.random() < 0.1
        if default_placed:
            placed = now
            stmts = [('INSERT INTO backorder.orders (client_id, order_id, priority, location_id)'
                      ' VALUES (%s, %s, %s, %s)', (c, oid, prio, loc), False)]
        else:
            stmts = [('INSERT INTO backorder.orders (client_id, order_id, placed_at, priority, location_id)'
                      ' VALUES (%s, %s, %s, %s, %s)', (c, oid, ts(placed), prio, loc), False)]
        values = ', '.join(['(%s, %s, %s, %s, %s)'] * n)
        params = tuple(x for ln, sku, q in lines for x in (c, oid, ln, sku, q))
        stmts.append((f'INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES {values}',
                      params, False))

        def fn(m):
            m.insert_order(c, oid, placed, prio, loc)
            for ln, sku, q in lines:
                m.insert_line(c, oid, ln, sku, q)
        return f'place {c}/{oid} {lines} prio={prio} loc={loc}', stmts, fn

    def op_place(self, now):
        d, stmts, fn = self.order_stmts(now)
        return d, stmts, lambda m: (fn(m), m.commit(), [])[-1]

    def op_place2(self, now):
        d1, s1, f1 = self.order_stmts(now)
        d2, s2, f2 = self.order_stmts(now)
        return f'txn[{d1}; {d2}]', s1 + s2, lambda m: (f1(m), f2(m), m.commit(), [])[-1]

    # ---- stock
    def movement_stmt(self, c, sku, loc, kind, qty, reason=None, form=None):
        form = form or self.rng.choice(['fn', 'fn', 'insert'])
        if form == 'fn' and kind in ('receipt', 'adjustment', 'count'):
            if kind == 'receipt':
                return ('SELECT backorder.receive(%s, %s, %s, %s, %s) IS NOT NULL',
                        (c, sku, loc, qty, 'PO'), True)
            if kind == 'adjustment':
                return ('SELECT backorder.adjust(%s, %s, %s, %s, %s) IS NOT NULL',
                        (c, sku, loc, qty, reason), True)
            return ('SELECT backorder.count_stock(%s, %s, %s, %s, %s) IS NOT NULL',
                    (c, sku, loc, qty, reason), True)
        return ('INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, reason)'
                ' VALUES (%s, %s, %s, %s, %s, %s)', (c, sku, loc, kind, qty, reason), False)

    def stock_sku(self, c):
        skus = [s for (cc, s) in self.m.skus if cc == c]
        r = self.rng.random()
        if r < 0.85:
            return self.rng.choice(HOT)
        return self.rng.choice(sorted(skus))

    def op_receipt(self, now, kind='receipt'):
        c, loc = self.client(), self.location()
        sku = self.stock_sku(c)
        qty = self.rng.choices([1, 2, 3, 4, 6, 9], [20, 25, 20, 15, 12, 8])[0]
        st = self.movement_stmt(c, sku, loc, kind, qty)

        def fn(m):
            m.movement(c, sku, loc, kind, qty)
            m.commit()
            return [True] if st[2] else []
        return f'{kind} {c}/{sku}@{loc} {qty}', [st], fn

    def op_return(self, now):
        return self.op_receipt(now, 'return')

    def op_adjust(self, now):
        c, loc = self.client(), self.location()
        sku = self.stock_sku(c)
        delta = self.rng.choice([-3, -2, -1, -1, 1, 2, 3])
        st = self.movement_stmt(c, sku, loc, 'adjustment', delta, 'damage' if delta < 0 else 'found')

        def fn(m):
            m.movement(c, sku, loc, 'adjustment', delta, 'x')
            m.commit()
            return [True] if st[2] else []
        return f'adjust {c}/{sku}@{loc} {delta}', [st], fn

    def op_count(self, now):
        c, loc = self.client(), self.location()
        sku = self.stock_sku(c)
        s = self.m.stock.get((c, sku, loc), [0, 0])
        counted = max(0, s[0] + self.rng.choice([-3, -2, -1, 0, 0, 1, 2, 4]))
        st = self.movement_stmt(c, sku, loc, 'count', counted, 'cycle count')

        def fn(m):
            m.movement(c, sku, loc, 'count', counted, 'x')
            m.commit()
            return [True] if st[2] else []
        return f'count {c}/{sku}@{loc} {counted}', [st], fn

    def op_inbound(self, now):
        rng = self.rng
        if self.m.inbound and rng.random() < 0.2:       # receive one again: refused
            iid = rng.choice(sorted(self.m.inbound))
            stmts = [('SELECT backorder.receive_inbound(%s) IS NOT NULL', (iid,), True)]

            def fn(m):
                m.receive_inbound(iid)
                m.commit()
                return [True]
            return f'receive_inbound again {iid}', stmts, fn
        c, loc = self.client(), self.location()
        sku = rng.choice(HOT)
        qty = rng.choice([1, 2, 3, 5])
        self.n_inbound += 1
        iid = self.n_inbound
        # inbound_id is an identity column: OVERRIDING SYSTEM VALUE keeps it predictable
        stmts = [('INSERT INTO backorder.inbound (inbound_id, client_id, sku, location_id, qty, expected_at)'
                  ' OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, %s, %s)',
                  (iid, c, sku, loc, qty, '2024-02-01'), False),
                 ('SELECT backorder.receive_inbound(%s) IS NOT NULL', (iid,), True)]

        def fn(m):
            m.add_inbound(iid, c, sku, loc, qty)
            m.receive_inbound(iid)
            m.commit()
            return [True]
        return f'inbound {iid} {c}/{sku}@{loc} {qty}', stmts, fn

    def op_truck(self, now):
        """receive_inbounds: 1-4 new inbound rows of one client (SKUs and warehouses mixed),
        given in any order, sometimes one twice, sometimes with a received row (refused)."""
        rng = self.rng
        c = self.client()
        stmts, rows = [], []
        for _ in range(rng.randint(1, 4)):
            self.n_inbound += 1
            row = (self.n_inbound, c, rng.choice(HOT), self.location(), rng.choice([1, 2, 3, 5]))
            rows.append(row)
            stmts.append(('INSERT INTO backorder.inbound (inbound_id, client_id, sku, location_id, qty, expected_at)'
                          ' OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, %s, %s)', row + ('2024-02-01',), False))
        truck = [r[0] for r in rows]
        rng.shuffle(truck)
        if rng.random() < 0.2:
            truck.append(truck[0])
        received = sorted(i for i, ib in self.m.inbound.items() if ib[4])
        if received and rng.random() < 0.15:
            truck.append(rng.choice(received))
        stmts.append(('SELECT backorder.receive_inbounds(%s::bigint[])', (truck,), True))

        def fn(m):
            for r in rows:
                m.add_inbound(*r)
            n = m.receive_inbounds(truck)
            m.commit()
            return [n]
        return f'truck {c} {truck} of {rows}', stmts, fn

    def op_multi_receipt(self, now):
        """Several SKUs in one transaction, in key order (README: the app's side)."""
        rng = self.rng
        c = self.client()
        loc = self.location()
        skus = sorted(rng.sample(HOT, rng.choice([2, 3])))
        qtys = [rng.choice([1, 2, 3, 5]) for _ in skus]
        if rng.random() < 0.5:
            stmts = [self.movement_stmt(c, s, loc, 'receipt', q, form='fn') for s, q in zip(skus, qtys)]
            expect = [True] * len(skus)
        else:
            values = ', '.join(['(%s, %s, %s, %s::bigint)'] * len(skus))
            params = tuple(x for s, q in zip(skus, qtys) for x in (c, s, loc, q))
            stmts = [('INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty)'
                      f' SELECT c, s, l, \'receipt\', q FROM (VALUES {values}) v(c, s, l, q)'
                      ' ORDER BY c, s, l', params, False)]
            expect = []

        def fn(m):
            for s, q in zip(skus, qtys):
                m.movement(c, s, loc, 'receipt', q)
            m.commit()
            return expect
        return f'txn receipts {c}@{loc} {list(zip(skus, qtys))}', stmts, fn

    def op_receipt_then_place(self, now):
        """A receipt, then a new order, in one transaction: the order's intake runs at
        commit, after the receipt has served the orders already waiting."""
        c, loc = self.client(), self.location()
        sku = self.rng.choice(HOT)
        qty = self.rng.choice([1, 2, 3, 5])
        d2, s2, f2 = self.order_stmts(now)

        def fn(m):
            m.movement(c, sku, loc, 'receipt', qty)
            f2(m)
            m.commit()
            return [True]
        return (f'txn[receipt {c}/{sku}@{loc} {qty}; {d2}]',
                [('SELECT backorder.receive(%s, %s, %s, %s) IS NOT NULL', (c, sku, loc, qty), True)] + s2, fn)

    def op_cancel_and_receive(self, now):
        k = self.live()
        if k is None:
            return self.op_receipt(now)
        c, oid = k
        sku = self.rng.choice(HOT)
        loc = self.location()
        q = self.rng.choice([1, 2, 3])
        stmts = [('SELECT backorder.cancel_order(%s, %s)', (c, oid), True),
                 ('SELECT backorder.receive(%s, %s, %s, %s) IS NOT NULL', (c, sku, loc, q), True)]

        def fn(m):
            r = m.cancel(c, oid)
            m.movement(c, sku, loc, 'receipt', q)
            m.commit()
            return [r, True]
        return f'txn[cancel {c}/{oid}; receipt {sku}@{loc} {q}]', stmts, fn

    def op_rolled_back(self, now):
        """Engine calls in a subtransaction that is rolled back (a PL/pgSQL EXCEPTION block,
        sometimes with SET CONSTRAINTS ALL IMMEDIATE in it), after a receipt that stays and
        maybe before another: only the receipts count (B22: an order settled in the rolled-back
        part stayed held with all its units)."""
        rng = self.rng
        c, loc = self.client(), self.location()
        receipts = [(rng.choice(HOT), rng.choice([1, 2, 3])) for _ in range(rng.choice([1, 2]))]
        calls = []
        for _ in range(rng.randrange(1, 4)):
            k = self.live()
            kind = rng.choice(['hold', 'cancel', 'ship', 'receipt', 'immediate'])
            if kind == 'immediate':
                calls.append('SET CONSTRAINTS ALL IMMEDIATE;')
            elif kind == 'receipt' or k is None:
                calls.append(f"PERFORM backorder.receive('{c}', '{rng.choice(HOT)}', '{loc}', {rng.choice([1, 2, 4])});")
            elif kind == 'hold':
                calls.append(f"PERFORM backorder.hold_order('{k[0]}', '{k[1]}', 'manual');")
            elif kind == 'cancel':
                calls.append(f"PERFORM backorder.cancel_order('{k[0]}', '{k[1]}');")
            else:
                calls.append(f"PERFORM backorder.ship_order('{k[0]}', '{k[1]}');")
        block = ('DO $$ BEGIN ' + ' '.join(calls) +
                 " RAISE EXCEPTION 'rolled back' USING ERRCODE = 'P0001';"
                 ' EXCEPTION WHEN OTHERS THEN NULL; END $$')
        receive = 'SELECT backorder.receive(%s, %s, %s, %s) IS NOT NULL'
        stmts = [(receive, (c, receipts[0][0], loc, receipts[0][1]), True), (block, None, False)]
        stmts += [(receive, (c, sku, loc, q), True) for sku, q in receipts[1:]]

        def fn(m):
            for sku, q in receipts:
                m.movement(c, sku, loc, 'receipt', q)
            m.commit()
            return [True] * len(receipts)
        return f'txn[receipt {receipts[0]}; rolled back: {" ".join(calls)}; {receipts[1:]}] {c}@{loc}', stmts, fn

    # ---- order functions
    def op_cancel(self, now):
        k = self.live() if self.rng.random() < 0.85 else self.any_order()
        if k is None:
            return self.op_place(now)
        c, oid = k
        return (f'cancel {c}/{oid}', [('SELECT backorder.cancel_order(%s, %s)', (c, oid), True)],
                lambda m: [(m.cancel(c, oid), m.commit())[0]])

    def op_ship(self, now):
        k = (self.live(lambda o: o.status == 'ready') if self.rng.random() < 0.85 else None) \
            or self.any_order()
        if k is None:
            return self.op_place(now)
        c, oid = k
        return (f'ship {c}/{oid}', [('SELECT backorder.ship_order(%s, %s)', (c, oid), True)],
                lambda m: [(m.ship(c, oid), m.commit())[0]])

    def op_ship_wave(self, now):
        """ship_orders over 1-4 orders of one client: mostly ready ones, now and then any
        (a held or cancelled one refuses the wave), sometimes one twice."""
        first = self.live(lambda o: o.status == 'ready') or self.any_order()
        if first is None:
            return self.op_place(now)
        c = first[0]
        mine = sorted(k[1] for k, o in self.m.orders.items() if k[0] == c)
        ready = sorted(k[1] for k, o in self.m.live.items() if k[0] == c and o.status == 'ready')
        wave = [first[1]]
        for _ in range(self.rng.randrange(4)):
            pool = ready if ready and self.rng.random() < 0.8 else mine
            wave.append(self.rng.choice(pool))
        return (f'ship wave {c}/{",".join(wave)}',
                [('SELECT backorder.ship_orders(%s, %s)', (c, wave), True)],
                lambda m: [(m.ship_wave(c, wave), m.commit())[0]])

    def op_hold(self, now):
        k = self.live() if self.rng.random() < 0.9 else self.any_order()
        if k is None:
            return self.op_place(now)
        c, oid = k
        reason = self.rng.choice(['manual', 'manual', 'fraud_review'])
        return (f'hold {c}/{oid} {reason}',
                [('SELECT backorder.hold_order(%s, %s, %s)', (c, oid, reason), True)],
                lambda m: [(m.hold(c, oid, reason), m.commit())[0]])

    def op_release(self, now):
        rng = self.rng
        r = rng.random()
        if r < 0.55:
            reason = rng.choice(['manual', 'fraud_review'])
            k = self.live(lambda o: reason in o.holds) or self.live()
        elif r < 0.9:
            reason = 'unknown_sku'
            k = self.live(lambda o: 'unknown_sku' in o.holds) or self.live()
        else:
            reason = 'out_of_stock'
            k = self.live()
        if k is None:
            return self.op_place(now)
        c, oid = k
        return (f'release {c}/{oid} {reason}',
                [('SELECT backorder.release_hold(%s, %s, %s)', (c, oid, reason), True)],
                lambda m: [(m.release(c, oid, reason), m.commit())[0]])

    # ---- line edits
    def editable(self, o):
        # engine bug B4: the evaluation after a line edit serves freed units from stale stock
        # figures when a complete_only grant reaches other stock rows
        return bool(o.lines) and not (self.avoid and self.m.clients[o.client] == 'complete_only')

    def pick_line(self, open_only=True):
        k = self.live(self.editable) if (open_only or self.rng.random() < 0.9) else self.closed_order()
        if k is None:
            return None
        o = self.m.orders[k]
        if not o.lines:
            return None
        return k, self.rng.choice(sorted(o.lines))

    def op_edit_qty(self, now):
        p = self.pick_line(open_only=False)
        if p is None:
            return self.op_place(now)
        (c, oid), ln = p
        old = self.m.orders[(c, oid)].lines[ln].qty
        qty = max(1, old + self.rng.choice([-3, -2, -1, -1, 1, 2]))
        if qty == old:
            qty = old + 1
        return (f'edit qty {c}/{oid}#{ln} {old}->{qty}',
                [('UPDATE backorder.order_line SET qty = %s WHERE client_id = %s AND order_id = %s AND line_no = %s',
                  (qty, c, oid, ln), False)],
                lambda m: (m.update_line_qty(c, oid, ln, qty), m.commit(), [])[-1])

    def known_skus(self, c):
        return sorted(s for (cc, s) in self.m.skus if cc == c)

    def op_edit_sku(self, now):
        p = self.pick_line()
        if p is None:
            return self.op_place(now)
        (c, oid), ln = p
        # Mostly SKUs in the catalog; sometimes NULL or a SKU missing from it (unplaced, B2).
        r = self.rng.random()
        sku = (None if r < 0.10 else self.rng.choice(LATE + NEVER) if r < 0.18
               else self.rng.choice(self.known_skus(c)))
        if self.avoid and self.m.clients[c] == 'complete_only':
            sku = self.rng.choice(HOT)
        old = self.m.orders[(c, oid)].lines[ln].sku
        if sku == old:
            sku = None if old is not None else 'S1'
        return (f'edit sku {c}/{oid}#{ln} {old}->{sku}',
                [('UPDATE backorder.order_line SET sku = %s WHERE client_id = %s AND order_id = %s AND line_no = %s',
                  (sku, c, oid, ln), False)],
                lambda m: (m.update_line_sku(c, oid, ln, sku), m.commit(), [])[-1])

    def op_edit_txn(self, now):
        """qty and sku of two lines of one order in one transaction: one evaluation at commit."""
        k = self.live(lambda o: len(o.lines) >= 2 and self.editable(o))
        if k is None:
            return self.op_edit_qty(now)
        c, oid = k
        o = self.m.orders[k]
        l1, l2 = self.rng.sample(sorted(o.lines), 2)
        q = max(1, o.lines[l1].qty - 1) if o.lines[l1].qty > 1 else 2
        sku = self.rng.choice(HOT)
        if sku == o.lines[l2].sku:
            sku = 'S1' if sku != 'S1' else 'S2'
        stmts = [('UPDATE backorder.order_line SET qty = %s WHERE client_id = %s AND order_id = %s AND line_no = %s',
                  (q, c, oid, l1), False),
                 ('UPDATE backorder.order_line SET sku = %s WHERE client_id = %s AND order_id = %s AND line_no = %s',
                  (sku, c, oid, l2), False)]

        def fn(m):
            m.update_line_qty(c, oid, l1, q)
            m.update_line_sku(c, oid, l2, sku)
            m.commit()
            return []
        return f'txn[edit qty {c}/{oid}#{l1} ->{q}; sku #{l2} ->{sku}]', stmts, fn

    def op_delete_line(self, now):
        p = self.pick_line()
        if p is None:
            return self.op_place(now)
        (c, oid), ln = p
        return (f'delete line {c}/{oid}#{ln}',
                [('DELETE FROM backorder.order_line WHERE client_id = %s AND order_id = %s AND line_no = %s',
                  (c, oid, ln), False)],
                lambda m: (m.delete_line(c, oid, ln), m.commit(), [])[-1])

    def op_add_line(self, now):
        k = self.live() if self.rng.random() < 0.9 else self.any_order()
        if k is None:
            return self.op_place(now)
        c, oid = k
        o = self.m.orders[k]
        ln = max(o.lines, default=0) + 1
        sku = self.rng.choice(HOT) if self.rng.random() < 0.9 else self.line_sku(c)
        q = self.rng.choice([1, 2, 3])
        return (f'add line {c}/{oid}#{ln} {sku} {q}',
                [('INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES (%s, %s, %s, %s, %s)',
                  (c, oid, ln, sku, q), False)],
                lambda m: (m.insert_line(c, oid, ln, sku, q), m.commit(), [])[-1])

    def op_priority(self, now):
        k = self.live() or self.any_order()
        if k is None:
            return self.op_place(now)
        c, oid = k
        p = self.rng.choice([0, 1, 2, 3])
        return (f'priority {c}/{oid} {p}',
                [('UPDATE backorder.orders SET priority = %s WHERE client_id = %s AND order_id = %s', (p, c, oid), False)],
                lambda m: (m.update_priority(c, oid, p), m.commit(), [])[-1])

    def op_add_sku(self, now):
        missing = [(c, s) for c in CLIENTS for s in LATE if (c, s) not in self.m.skus]
        if not missing:
            return self.op_receipt(now)
        c, s = self.rng.choice(missing)
        return (f'catalog add {c}/{s}',
                [('INSERT INTO backorder.sku (client_id, sku) VALUES (%s, %s)', (c, s), False)],
                lambda m: (m.add_sku(c, s), m.commit(), [])[-1])

    def op_sku_status(self, now):
        """A catalog edit: a hot SKU discontinued, or active again (B1)."""
        c, s = self.client(), self.rng.choice(HOT)
        status = 'active' if self.m.skus[(c, s)][0] == 'discontinued' else 'discontinued'
        return (f'catalog {c}/{s} {status}',
                [('UPDATE backorder.sku SET status = %s WHERE client_id = %s AND sku = %s', (status, c, s), False)],
                lambda m: (m.set_sku_status(c, s, status), m.commit(), [])[-1])

    def op_policy(self, now):
        """An allocation policy switch (B10): complete_only <-> reserve."""
        c = self.client()
        policy = 'reserve' if self.m.clients[c] == 'complete_only' else 'complete_only'
        return (f'policy {c} {policy}',
                [('UPDATE backorder.client SET allocation_policy = %s WHERE client_id = %s', (policy, c), False)],
                lambda m: (m.set_policy(c, policy), m.commit(), [])[-1])

    def op_bad(self, now):
        """Refused movements: the model names the SQLSTATE, nothing may change."""
        rng = self.rng
        c, loc = self.client(), self.location()
        sku = rng.choice(HOT)
        case = rng.randrange(8)
        if case == 0:
            kind, qty, reason = 'receipt', rng.choice([0, -1, -5]), None
        elif case == 1:
            kind, qty, reason = 'count', -1, 'x'
        elif case == 2:
            kind, qty, reason = 'adjustment', 0, 'x'
        elif case == 3:
            kind, qty, reason = 'adjustment', -1000, 'x'
        elif case == 4:
            kind, qty, reason = 'receipt', 2_000_000_000, None
        elif case == 5:
            kind, qty, reason = 'count', 3, None
        elif case == 6:
            kind, qty, reason, sku = 'receipt', 1, None, 'X1'
        else:
            kind, qty, reason = 'return', 0, None
        st = ('INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, reason)'
              ' VALUES (%s, %s, %s, %s, %s, %s)', (c, sku, loc, kind, qty, reason), False)
        return (f'bad {kind} {c}/{sku}@{loc} {qty} reason={reason}', [st],
                lambda m: (m.movement(c, sku, loc, kind, qty, reason), m.commit(), [])[-1])

    OPS = [('place', 18), ('place2', 3), ('receipt', 16), ('return', 3), ('adjust', 5), ('count', 4),
           ('inbound', 2), ('truck', 3), ('multi_receipt', 3), ('receipt_then_place', 2), ('cancel_and_receive', 1),
           ('cancel', 10), ('ship', 12), ('ship_wave', 4), ('hold', 4), ('release', 5), ('edit_qty', 5), ('edit_sku', 3),
           ('edit_txn', 1), ('delete_line', 2), ('add_line', 2), ('priority', 2), ('add_sku', 1),
           ('sku_status', 1), ('policy', 1), ('bad', 2), ('rolled_back', 3)]

    def next(self, now):
        names = [n for n, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        name = self.rng.choices(names, weights)[0]
        return name, getattr(self, 'op_' + name)(now)


# ---------------------------------------------------------------------------------------
# Comparing the database with the model.
# ---------------------------------------------------------------------------------------

CHANGED_SQL = """
WITH ch AS (
    SELECT client_id, order_id FROM backorder.orders WHERE xmin::text::bigint >= %(x)s
    UNION SELECT client_id, order_id FROM backorder.order_line WHERE xmin::text::bigint >= %(x)s
    UNION SELECT client_id, order_id FROM backorder.order_hold WHERE xmin::text::bigint >= %(x)s
    UNION SELECT * FROM unnest(%(mc)s::text[], %(mo)s::text[])
)
SELECT
  (SELECT json_agg(json_build_array(o.client_id, o.order_id, o.status))
     FROM backorder.orders o JOIN ch USING (client_id, order_id)),
  (SELECT json_agg(json_build_array(l.client_id, l.order_id, l.line_no, l.sku, l.qty, l.allocated,
                                    l.shipped, l.location_id, l.waiting))
     FROM backorder.order_line l JOIN ch USING (client_id, order_id)),
  (SELECT json_agg(json_build_array(h.client_id, h.order_id, h.reason))
     FROM backorder.order_hold h JOIN ch USING (client_id, order_id) WHERE h.released_at IS NULL),
  (SELECT json_agg(json_build_array(s.client_id, s.sku, s.location_id, s.on_hand, s.allocated))
     FROM backorder.stock s
    WHERE s.xmin::text::bigint >= %(x)s
       OR (s.client_id, s.sku, s.location_id) IN (SELECT * FROM unnest(%(sc)s::text[], %(ss)s::text[], %(sl)s::text[]))),
  (SELECT json_agg(json_build_array(client_id, order_id)) FROM ch),
  (SELECT count(*) FROM backorder.orders),
  (SELECT count(*) FROM backorder.order_line),
  (SELECT count(*) FROM backorder.stock),
  (SELECT count(*) FROM backorder.order_hold WHERE released_at IS NULL)
"""

FULL_SQL = """
SELECT
  (SELECT json_agg(json_build_array(client_id, order_id, status)) FROM backorder.orders),
  (SELECT json_agg(json_build_array(client_id, order_id, line_no, sku, qty, allocated, shipped,
                                    location_id, waiting)) FROM backorder.order_line),
  (SELECT json_agg(json_build_array(client_id, order_id, reason)) FROM backorder.order_hold
    WHERE released_at IS NULL),
  (SELECT json_agg(json_build_array(client_id, sku, location_id, on_hand, allocated)) FROM backorder.stock),
  (SELECT json_agg(json_build_array(client_id, order_id)) FROM backorder.orders)
"""


def db_orders(orders, lines, holds, keys):
    out = {tuple(k): [None, [], []] for k in (keys or [])}
    for c, oid, st in orders or []:
        out.setdefault((c, oid), [None, [], []])[0] = st
    for c, oid, ln, sku, qty, al, sh, loc, w in lines or []:
        out.setdefault((c, oid), [None, [], []])[1].append((ln, sku, qty, al, sh, loc, w))
    for c, oid, r in holds or []:
        out.setdefault((c, oid), [None, [], []])[2].append(r)
    res = {}
    for k, (st, ls, hs) in out.items():
        res[k] = None if st is None and not ls else (st, tuple(sorted(hs)), tuple(sorted(ls)))
    return res


def compare(model, row):
    orders, lines, holds, stock, keys = row[:5]
    problems = []
    dbo = db_orders(orders, lines, holds, keys)
    for k in sorted(set(dbo) | model.changed_orders):
        want = model.snapshot_order(k)
        got = dbo.get(k)
        if want != got:
            problems.append(f'order {k[0]}/{k[1]}:\n    model {want}\n    db    {got}')
    dbs = {(c, s, l): (oh, al) for c, s, l, oh, al in (stock or [])}
    for k in sorted(set(dbs) | model.changed_stock):
        want = tuple(model.stock[k]) if k in model.stock else None
        got = dbs.get(k)
        if want != got:
            problems.append(f'stock {k}: model {want}  db {got}')
    return problems


def counts_problems(model, n_orders, n_lines, n_stock, n_holds):
    want = (len(model.orders), sum(len(o.lines) for o in model.orders.values()), len(model.stock),
            sum(len(o.holds) for o in model.orders.values()))
    got = (n_orders, n_lines, n_stock, n_holds)
    return [] if want == got else [f'row counts (orders, lines, stock, open holds): model {want} db {got}']


# ---------------------------------------------------------------------------------------
# One seed.
# ---------------------------------------------------------------------------------------

class Runner:
    def __init__(self, args, seed, out):
        self.args = args
        self.seed = seed
        self.out = out
        self.db = f'bo_model_{seed}'
        self.log = open(args.sql_log, 'w') if args.sql_log else None

    def say(self, msg):
        print(msg, file=self.out, flush=True)

    def sql_log(self, text):
        if self.log:
            self.log.write(text + '\n')

    def connect(self, db):
        c = psycopg.connect(dbname=db, autocommit=True, cursor_factory=psycopg.ClientCursor)
        c.add_notice_handler(lambda d: None)
        c.execute('SET synchronous_commit = off')     # a model check needs no durability
        return c

    def setup(self):
        with self.connect(self.args.maintenance_db) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS {self.db}')
            admin.execute(f'CREATE DATABASE {self.db}')
        self.conns = [self.connect(self.db) for _ in range(self.args.sessions)]
        m = Model()
        stmts = ['CREATE EXTENSION pg_backorder']
        for c, p in CLIENTS.items():
            stmts.append(f"INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('{c}', '{p}')")
            m.clients[c] = p
        for loc, p in LOCATIONS.items():
            stmts.append(f"INSERT INTO backorder.location (location_id, priority) VALUES ('{loc}', {p})")
            m.locations[loc] = p
        for c in CLIENTS:
            for s, st, bo in CATALOG:
                stmts.append(f"INSERT INTO backorder.sku (client_id, sku, status, backorderable)"
                             f" VALUES ('{c}', '{s}', '{st}', {str(bo).lower()})")
                m.add_sku(c, s, st, bo)
        self.sql_log(f'-- pg_backorder model check, seed {self.seed}\n\\set ON_ERROR_STOP 0')
        for s in stmts:
            for attempt in range(20):
                try:
                    self.conns[0].execute(s)
                    break
                except psycopg.errors.UniqueViolation:
                    # two seeds (--jobs) installing at once race to create the cluster-wide
                    # group roles (IF NOT EXISTS is not atomic): the loser tries again
                    if not s.startswith('CREATE EXTENSION') or attempt == 19:
                        raise
                    time.sleep(0.2)
            self.sql_log(s + ';')
        self.model = m

    def teardown(self, keep):
        for c in self.conns:
            c.close()
        if not keep:
            with self.connect(self.args.maintenance_db) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS {self.db}')
        if self.log:
            self.log.close()

    def next_xid(self, conn):
        return conn.execute('SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint').fetchone()[0]

    def execute(self, conn, now, stmts):
        """Runs the statements in one transaction; returns (results, sqlstate, message)."""
        results = []
        cur = conn.cursor()
        texts = [f"BEGIN;\nSET LOCAL backorder.now = '{ts(now)}';"]
        try:
            with conn.transaction():
                cur.execute('SET LOCAL backorder.now = %s', (ts(now),))
                for sql, params, want in stmts:
                    texts.append(cur.mogrify(sql, params) + ';')
                    cur.execute(sql, params)
                    if want:
                        results.append(cur.fetchone()[0])
            texts.append('COMMIT;')
            return results, None, None, texts
        except psycopg.Error as e:
            texts.append('COMMIT;  -- fails: the transaction rolls back')
            return results, e.sqlstate, str(e).splitlines()[0] if str(e) else '', texts

    def full_compare(self, conn):
        row = conn.execute(FULL_SQL).fetchone()
        m = self.model
        saved_o, saved_s = m.changed_orders, m.changed_stock
        m.changed_orders = set(m.orders)
        m.changed_stock = set(m.stock)
        try:
            probs = compare(m, row)
        finally:
            m.changed_orders, m.changed_stock = saved_o, saved_s
        n = conn.execute('SELECT (SELECT count(*) FROM backorder.orders), (SELECT count(*) FROM backorder.order_line),'
                         ' (SELECT count(*) FROM backorder.stock),'
                         ' (SELECT count(*) FROM backorder.order_hold WHERE released_at IS NULL)').fetchone()
        return probs + counts_problems(m, *n)

    def invariants(self, conn):
        rows = conn.execute('SELECT invariant, client_id, object, detail FROM backorder.check_invariants()').fetchall()
        return [f'check_invariants: {r}' for r in rows]

    def run(self):
        args = self.args
        rng = random.Random(self.seed)
        t0 = time.time()
        self.setup()
        gen = Gen(rng, self.model, args.avoid_known_bugs)
        stats = {}
        expected_errors = 0
        failure = None
        step = 0
        try:
            for step in range(1, args.steps + 1):
                now = 10_000 + step
                gen.m = self.model
                name, (desc, stmts, fn) = gen.next(now)
                ci = rng.randrange(len(self.conns))
                conn = self.conns[ci]
                m2 = self.model.clone()
                try:
                    want = fn(m2)
                    want_err = None
                except ModelError as e:
                    want, want_err = None, e.sqlstate
                x = self.next_xid(conn)
                got, err, msg, texts = self.execute(conn, now, stmts)
                self.sql_log(f'-- step {step} (session {ci}): {desc}' +
                             (f'  [expect {want_err}]' if want_err else ''))
                for t in texts:
                    self.sql_log(t)
                stats[name] = stats.get(name, 0) + 1
                problems = []
                if err != want_err:
                    problems.append(f'outcome: model {want_err or "success"}, db {err or "success"} {msg or ""}')
                elif err is None and got != want:
                    problems.append(f'results: model {want}, db {got}')
                if want_err:
                    expected_errors += 1
                if err is None and want_err is None:
                    self.model = m2
                elif err is not None and want_err is not None:
                    self.model.changed_orders, self.model.changed_stock = set(), set()
                else:
                    # disagreement: compare against the model as it would be had the db's outcome
                    # been predicted, only to report; the run stops anyway
                    if err is None:
                        self.model.changed_orders, self.model.changed_stock = set(), set()
                m = self.model
                if not problems:
                    mc = sorted(m.changed_orders)
                    sk = sorted(m.changed_stock)
                    row = conn.execute(CHANGED_SQL, {
                        'x': x, 'mc': [k[0] for k in mc], 'mo': [k[1] for k in mc],
                        'sc': [k[0] for k in sk], 'ss': [k[1] for k in sk], 'sl': [k[2] for k in sk]}).fetchone()
                    problems += compare(m, row)
                    problems += counts_problems(m, *row[5:9])
                m.changed_orders, m.changed_stock = set(), set()
                if not problems and (step % args.full_every == 0 or step == args.steps):
                    problems += self.full_compare(conn)
                if not problems and (step % args.invariants_every == 0 or step == args.steps):
                    problems += self.invariants(conn)
                if problems:
                    failure = (step, desc, texts, problems)
                    break
                if args.verbose:
                    self.say(f'  {step}: {desc}' + (f' -> {err}' if err else ''))
        except Exception:
            failure = (step, 'driver exception', [], [traceback.format_exc()])
        dt = time.time() - t0
        live = {}
        for o in self.model.orders.values():
            live[o.status] = live.get(o.status, 0) + 1
        if failure:
            step, desc, texts, problems = failure
            self.say(f'seed {self.seed}: FAILED at step {step} of {args.steps} ({dt:.1f} s)')
            self.say(f'  step {step}: {desc}')
            for t in texts:
                self.say('    ' + t.replace('\n', '\n    '))
            for p in problems[:20]:
                self.say('  ' + p)
            if len(problems) > 20:
                self.say(f'  ... {len(problems) - 20} more')
            self.say(f'  database kept: {self.db}.  Replay: /usr/bin/python3 {sys.argv[0]} --seed {self.seed}'
                     f' --steps {step}{" --avoid-known-bugs" if args.avoid_known_bugs else ""}'
                     f' --sql-log /tmp/bo_model_{self.seed}.sql')
            self.teardown(keep=True)
            return False
        self.say(f'seed {self.seed}: ok, {args.steps} steps in {dt:.1f} s '
                 f'({expected_errors} refused as predicted; orders {dict(sorted(live.items()))})')
        if args.coverage:
            for k in sorted(self.model.cov):
                self.say(f'    {self.model.cov[k]:7d}  {k}')
            self.say('    ' + ', '.join(f'{k} {v}' for k, v in sorted(stats.items())))
        self.teardown(keep=args.keep)
        return True


def run_seed(argv_seed):
    args, seed = argv_seed
    import io
    buf = io.StringIO()
    ok = Runner(args, seed, buf).run()
    return ok, buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seeds', type=int, default=3, help='number of seeds (default 3)')
    ap.add_argument('--seed', type=int, help='run exactly this seed')
    ap.add_argument('--first-seed', type=int, help='first seed of --seeds (default: random, printed)')
    ap.add_argument('--steps', type=int, default=300)
    ap.add_argument('--sessions', type=int, default=3, help='database sessions the steps rotate over')
    ap.add_argument('--full-every', type=int, default=500)
    ap.add_argument('--invariants-every', type=int, default=100)
    ap.add_argument('--jobs', type=int, default=1, help='seeds run in parallel')
    ap.add_argument('--sql-log', help='write the run as a psql script (one seed)')
    ap.add_argument('--keep', action='store_true', help='keep the databases of passing seeds')
    ap.add_argument('--maintenance-db', default=os.environ.get('PGDATABASE', 'postgres'))
    ap.add_argument('--avoid-known-bugs', action='store_true',
                    help='steer clear of the paths of engine bugs B3 and B4 (fixed; test/consistency_regressions.sql), to bisect')
    ap.add_argument('--coverage', action='store_true', help='print how often each path and operation ran')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()

    if args.seed is not None:
        seeds = [args.seed]
    else:
        first = args.first_seed if args.first_seed is not None else random.SystemRandom().randrange(1, 10**6)
        seeds = list(range(first, first + args.seeds))
    print(f'model check: seeds {seeds}, {args.steps} steps each, {args.sessions} sessions', flush=True)
    passed = failed = 0
    if args.jobs > 1 and len(seeds) > 1:
        import multiprocessing
        with multiprocessing.Pool(args.jobs) as pool:
            for ok, text in pool.imap(run_seed, [(args, s) for s in seeds]):
                sys.stdout.write(text)
                sys.stdout.flush()
                passed += ok
                failed += not ok
    else:
        for s in seeds:
            ok = Runner(args, s, sys.stdout).run()
            passed += ok
            failed += not ok
    # The seeds again on the last line, so a CI log's tail is enough to replay a run.
    print(f'{passed} passed, {failed} failed (seeds {seeds[0]}-{seeds[-1]}, {args.steps} steps;'
          f' replay one: test/model/run --seed N --steps {args.steps})')
    sys.exit(0 if failed == 0 else 1)


if __name__ == '__main__':
    main()
