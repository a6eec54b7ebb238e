#!/usr/bin/python3
"""Crash-safety driver for pg_backorder (used by test/crash/run.sh).

  crash.py setup  --db DB                 create the data set (clients, warehouses, hot SKUs)
  crash.py load   --db DB --log FILE --clients N --seconds S
        N threads run a mixed load (intake, receipts, ships, cancels, counts), one
        transaction per operation, until S seconds pass or the server goes away.  Every
        operation whose COMMIT returned is appended to FILE (JSON lines): that is what the
        clients saw committed.  An operation whose COMMIT raised is in doubt and not logged.
  crash.py verify --db DB --log FILE
        after a restart: check_invariants() is empty, no order is left 'new', every
        committed order is present with exactly its lines and a consistent status, every
        acknowledged shipment is shipped, every acknowledged cancellation cancelled, every
        acknowledged ledger row present.  Exit 1 on any problem.

Connects like psql (PGHOST, PGPORT, PGUSER).
"""

import argparse
import json
import os
import random
import sys
import threading
import time

try:
    import psycopg
except ImportError:
    sys.exit('python3-psycopg is missing (apt-get install python3-psycopg; run with /usr/bin/python3)')

CLIENTS = ['k1', 'k2']                 # k1 reserve, k2 complete_only
SKUS = ['H1', 'H2', 'H3', 'H4', 'H5']
LOCS = ['e1', 'e2']


def connect(db, autocommit=False):
    c = psycopg.connect(dbname=db, autocommit=autocommit, connect_timeout=5)
    c.add_notice_handler(lambda d: None)
    return c


def setup(args):
    with connect(args.db, autocommit=True) as c:
        c.execute('CREATE EXTENSION IF NOT EXISTS pg_backorder')
        c.execute("INSERT INTO backorder.client (client_id, allocation_policy) VALUES"
                  " ('k1', 'reserve'), ('k2', 'complete_only')")
        c.execute("INSERT INTO backorder.location (location_id, priority) VALUES ('e1', 1), ('e2', 2)")
        for cl in CLIENTS:
            for s in SKUS:
                c.execute('INSERT INTO backorder.sku (client_id, sku) VALUES (%s, %s)', (cl, s))
        c.execute("INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty)"
                  " SELECT c, s, l, 'receipt', 10 FROM unnest(%s::text[]) c, unnest(%s::text[]) s,"
                  " unnest(%s::text[]) l ORDER BY 1, 2, 3", (CLIENTS, SKUS, LOCS))


class Loader(threading.Thread):
    def __init__(self, args, n, out, lock, deadline):
        super().__init__(daemon=True)
        self.args, self.n, self.out, self.lock, self.deadline = args, n, out, lock, deadline
        self.rng = random.Random(args.seed * 1000 + n)
        self.done = 0
        self.stopped_by = None

    def log(self, rec):
        with self.lock:
            self.out.write(json.dumps(rec) + '\n')
            self.out.flush()

    def run(self):
        try:
            conn = connect(self.args.db)
        except psycopg.Error as e:
            self.stopped_by = f'connect: {e}'
            return
        seq = 0
        rng = self.rng
        while time.time() < self.deadline:
            seq += 1
            op = rng.choices(['intake', 'receipt', 'ship', 'cancel', 'count'], [45, 20, 15, 10, 10])[0]
            c = rng.choice(CLIENTS)
            rec = None
            try:
                with conn.transaction():
                    cur = conn.cursor()
                    if op == 'intake':
                        oid = f'r{self.args.round}t{self.n}n{seq}'
                        lines = [(i + 1, rng.choice(SKUS), rng.randint(1, 3)) for i in range(rng.randint(1, 3))]
                        cur.execute('INSERT INTO backorder.orders (client_id, order_id) VALUES (%s, %s)', (c, oid))
                        cur.executemany('INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)'
                                        ' VALUES (%s, %s, %s, %s, %s)', [(c, oid) + l for l in lines])
                        rec = {'op': 'intake', 'client': c, 'order': oid, 'lines': lines}
                    elif op == 'receipt':
                        s, l, q = rng.choice(SKUS), rng.choice(LOCS), rng.randint(1, 5)
                        mid = cur.execute('SELECT backorder.receive(%s, %s, %s, %s)', (c, s, l, q)).fetchone()[0]
                        rec = {'op': 'receipt', 'movement': mid, 'client': c, 'sku': s, 'loc': l, 'qty': q}
                    elif op in ('ship', 'cancel'):
                        want = "('ready')" if op == 'ship' else "('ready', 'needs_review')"
                        row = cur.execute(f'SELECT order_id FROM backorder.orders WHERE client_id = %s'
                                          f' AND status IN {want} AND order_id >= %s ORDER BY order_id LIMIT 1',
                                          (c, f'r{self.args.round}t{rng.randrange(self.args.clients)}n'
                                              f'{rng.randint(1, max(seq, 1))}')).fetchone()
                        if row:
                            fn = 'ship_order' if op == 'ship' else 'cancel_order'
                            cur.execute('SAVEPOINT op')
                            try:
                                ok = cur.execute(f'SELECT backorder.{fn}(%s, %s)', (c, row[0])).fetchone()[0]
                                if ok:
                                    rec = {'op': op, 'client': c, 'order': row[0]}
                            except psycopg.errors.ObjectNotInPrerequisiteState:
                                cur.execute('ROLLBACK TO SAVEPOINT op')   # someone else got there first
                    else:
                        s, l = rng.choice(SKUS), rng.choice(LOCS)
                        cur.execute("SELECT backorder.count_stock(client_id, sku, location_id,"
                                    " greatest(on_hand + %s, 0), 'cycle count') FROM backorder.stock"
                                    " WHERE client_id = %s AND sku = %s AND location_id = %s",
                                    (rng.randint(-2, 2), c, s, l))
                # COMMIT returned: the client saw it committed
                if rec:
                    self.log(rec)
                self.done += 1
            except psycopg.Error as e:
                lost = (conn.broken or conn.closed or e.sqlstate is None or e.sqlstate.startswith('08')
                        or e.sqlstate in ('57P01', '57P02', '57P03'))
                if lost:            # the server went away: this client stops
                    self.stopped_by = f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'
                    break
                self.log({'op': 'error', 'sqlstate': e.sqlstate, 'what': op, 'msg': str(e).splitlines()[0]})
        try:
            conn.close()
        except Exception:
            pass


def load(args):
    lock = threading.Lock()
    deadline = time.time() + args.seconds
    with open(args.log, 'a') as out:
        threads = [Loader(args, n, out, lock, deadline) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    done = sum(t.done for t in threads)
    stops = [t.stopped_by for t in threads if t.stopped_by]
    print(f'load round {args.round}: {done} transactions committed by {args.clients} clients; '
          f'{len(stops)} stopped by connection loss' + (f' (e.g. {stops[0]})' if stops else ''))


def verify(args):
    problems = []
    orders, ships, cancels, receipts, errors = {}, set(), set(), {}, []
    with open(args.log) as f:
        for line in f:
            r = json.loads(line)
            if r['op'] == 'intake':
                orders[(r['client'], r['order'])] = [tuple(x) for x in r['lines']]
            elif r['op'] == 'ship':
                ships.add((r['client'], r['order']))
            elif r['op'] == 'cancel':
                cancels.add((r['client'], r['order']))
            elif r['op'] == 'receipt':
                receipts[r['movement']] = r
            else:
                errors.append(r)
    for e in errors:
        problems.append(f'unexpected error during the load: {e}')
    with connect(args.db, autocommit=True) as c:
        inv = c.execute('SELECT * FROM backorder.check_invariants()').fetchall()
        problems += [f'check_invariants: {r}' for r in inv]
        new = c.execute("SELECT count(*) FROM backorder.orders WHERE status = 'new'").fetchone()[0]
        if new:
            problems.append(f'{new} order(s) left in status new')
        db_orders = {(a, b): s for a, b, s in c.execute('SELECT client_id, order_id, status FROM backorder.orders')}
        db_lines = {}
        for a, b, ln, sku, qty in c.execute('SELECT client_id, order_id, line_no, sku, qty FROM backorder.order_line'):
            db_lines.setdefault((a, b), []).append((ln, sku, qty))
        for k, lines in orders.items():
            if k not in db_orders:
                problems.append(f'committed order {k} is missing')
            elif sorted(db_lines.get(k, [])) != sorted(lines):
                problems.append(f'committed order {k}: lines {sorted(db_lines.get(k, []))}, committed {sorted(lines)}')
            elif db_orders[k] not in ('ready', 'needs_review', 'shipped', 'cancelled'):
                problems.append(f'committed order {k} has status {db_orders[k]}')
        for k in ships:
            if db_orders.get(k) != 'shipped':
                problems.append(f'acknowledged shipment of {k}: status {db_orders.get(k)}')
        for k in cancels:
            if db_orders.get(k) != 'cancelled':
                problems.append(f'acknowledged cancellation of {k}: status {db_orders.get(k)}')
        mv = {m: (a, s, l, k, q) for m, a, s, l, k, q in c.execute(
            'SELECT movement_id, client_id, sku, location_id, kind, qty FROM backorder.stock_movement')}
        for m, r in receipts.items():
            if mv.get(m) != (r['client'], r['sku'], r['loc'], 'receipt', r['qty']):
                problems.append(f'acknowledged receipt {m} {r}: ledger has {mv.get(m)}')
        in_doubt = len(db_orders) - len(orders)
    print(f'verify: {len(orders)} committed orders, {len(ships)} shipments, {len(cancels)} cancellations, '
          f'{len(receipts)} receipts acknowledged; {in_doubt} more orders in the database (in doubt or '
          f'set-up); {len(inv)} invariant violations')
    for p in problems[:30]:
        print('  PROBLEM ' + p)
    if len(problems) > 30:
        print(f'  ... {len(problems) - 30} more')
    return not problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['setup', 'load', 'verify'])
    ap.add_argument('--db', default='crash')
    ap.add_argument('--log')
    ap.add_argument('--clients', type=int, default=8)
    ap.add_argument('--seconds', type=float, default=30)
    ap.add_argument('--round', type=int, default=0)
    ap.add_argument('--seed', type=int, default=int(os.environ.get('CRASH_SEED', '1')))
    args = ap.parse_args()
    if args.mode == 'setup':
        setup(args)
    elif args.mode == 'load':
        load(args)
    else:
        sys.exit(0 if verify(args) else 1)


if __name__ == '__main__':
    main()
