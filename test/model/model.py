"""Reference model of pg_backorder's observable semantics (README.md, DESIGN.md).

Plain Python, no database: the state is dictionaries, every operation is a method that
either changes the state or raises ModelError(sqlstate) and changes nothing (the caller
works on a copy for multi-statement transactions, see Txn).

What it models, per README:
  - intake at commit, the transaction's orders in release order: placement (requested location, else first location by priority that
    fills the whole order, else most units available, else preferred), allocation under
    `reserve` (take what exists) or `complete_only` (all short lines or nothing);
  - the ledger: receipt / return / adjustment / count; a rise of available serves the
    queue, on_hand below allocated takes back newest first;
  - the release queue in (priority desc, placed_at, order_id, line_no);
    complete_only grants only whole orders; an order that needs other SKUs' free stock is
    completed at commit by the completion pass (after intake, before the settle batch);
  - holds as a set: inventory holds derived from the lines, operator holds kept;
  - statuses settle at commit for the orders the transaction touched;
  - ship (ready only), a wave of ships (all ready or shipped, or none), cancel (frees, closes holds, serves the queues in key order),
    hold_order / release_hold (unknown_sku re-evaluates), line edits (a reduction frees
    only allocated units, an sku change frees the line's units, delete, add line),
    priority changes (queue position for later arrivals).
"""

INVENTORY = ('unknown_sku', 'discontinued', 'out_of_stock')
OPEN = ('ready', 'needs_review')
MAX_MOVEMENT = 1_000_000_000


class ModelError(Exception):
    """An operation the engine must refuse; sqlstate is the expected SQLSTATE."""

    def __init__(self, sqlstate, why=''):
        super().__init__(f'{sqlstate} {why}')
        self.sqlstate = sqlstate
        self.why = why


class Line:
    __slots__ = ('sku', 'qty', 'allocated', 'shipped', 'loc', 'waiting')

    def __init__(self, sku, qty):
        self.sku = sku
        self.qty = qty
        self.allocated = 0
        self.shipped = 0
        self.loc = None
        self.waiting = False

    def row(self):
        return (self.sku, self.qty, self.allocated, self.shipped, self.loc, self.waiting)


class Order:
    __slots__ = ('client', 'oid', 'placed_at', 'priority', 'req_loc', 'status', 'lines', 'holds')

    def __init__(self, client, oid, placed_at, priority, req_loc):
        self.client = client
        self.oid = oid
        self.placed_at = placed_at          # comparable (int seconds)
        self.priority = priority
        self.req_loc = req_loc
        self.status = 'new'
        self.lines = {}                     # line_no -> Line
        self.holds = set()                  # open hold reasons

    def copy(self):
        c = Order(self.client, self.oid, self.placed_at, self.priority, self.req_loc)
        c.status = self.status
        c.holds = set(self.holds)
        for ln, l in self.lines.items():
            n = Line(l.sku, l.qty)
            n.allocated, n.shipped, n.loc, n.waiting = l.allocated, l.shipped, l.loc, l.waiting
            c.lines[ln] = n
        return c

    def release_key(self):
        return (-self.priority, self.placed_at, self.oid)


class Coverage(dict):
    """How often each interesting path ran (printed at the end of a run)."""
    def hit(self, name):
        self[name] = self.get(name, 0) + 1


class Model:
    def __init__(self):
        self.cov = Coverage()
        self.clients = {}       # client -> policy
        self.locations = {}     # location -> priority
        self.skus = {}          # (client, sku) -> (status, backorderable)
        self.stock = {}         # (client, sku, loc) -> [on_hand, allocated]
        self.orders = {}        # (client, oid) -> Order
        self.live = {}          # the orders still open (new, ready, needs_review)
        self.inbound = {}       # inbound_id -> [client, sku, loc, qty, received]
        # per transaction
        self.touched = set()    # order keys whose lines got or lost units (settled at commit)
        self.dirty = []         # order keys to evaluate at commit, in first-write order
        self.freed = []         # stock keys freed by line edits, served by the next evaluation
        self.pending = set()    # complete_only stock rows left to the completion pass
        self.changed_orders = set()   # for the driver: orders whose rows may have changed
        self.changed_stock = set()

    # ---------------------------------------------------------------- helpers
    def known(self, client, sku):
        return sku is not None and (client, sku) in self.skus

    def restockable(self, client, sku):
        st, bo = self.skus[(client, sku)]
        return st == 'active' and bo

    def available(self, key):
        s = self.stock.get(key)
        return s[0] - s[1] if s else 0

    def lock(self, key):
        """Locking a stock row creates it (zero quantities) if missing."""
        if key not in self.stock:
            self.stock[key] = [0, 0]
            self.changed_stock.add(key)
        return self.stock[key]

    def order(self, client, oid):
        o = self.orders.get((client, oid))
        if o is None:
            raise ModelError('P0002', f'no order {client}/{oid}')
        return o

    def mark(self, o):
        self.changed_orders.add((o.client, o.oid))

    def set_alloc(self, o, ln, new):
        line = o.lines[ln]
        if line.allocated != new:
            line.allocated = new
        self.mark(o)

    # ---------------------------------------------------------------- queue
    def waiting_lines(self, key):
        client, sku, loc = key
        out = []
        for o in self.live.values():
            if o.client != client:
                continue
            for ln, l in o.lines.items():
                if l.waiting and l.sku == sku and l.loc == loc:
                    out.append((o, ln, l))
        return out

    def grant(self, key, o, ln, units):
        """apply_grants: one line gains (or loses) units; stock.allocated moves with it."""
        l = o.lines[ln]
        l.allocated += units
        l.waiting = l.allocated < l.qty
        self.stock[key][1] += units
        self.changed_stock.add(key)
        self.mark(o)
        self.touched.add((o.client, o.oid))

    def serve(self, key, available):
        if available <= 0:
            return 0
        if self.clients[key[0]] == 'complete_only':
            return self.serve_complete_only(key, available)
        q = self.waiting_lines(key)
        q.sort(key=lambda t: (-t[0].priority, t[0].placed_at, t[0].oid, t[1]))
        given = 0
        for o, ln, l in q:
            if available <= 0:
                break
            take = min(l.qty - l.allocated, available)
            self.cov.hit('reserve: line served' if take == l.qty - l.allocated else 'reserve: line partly served')
            self.grant(key, o, ln, take)
            available -= take
            given += take
        return given

    def serve_complete_only(self, key, available, with_others=False):
        """In a statement (with_others False): whole orders whose short lines all wait here,
        in release order, up to the first order that needs other stock rows too; that stock
        row is then left to the completion pass at commit (with_others True), which walks
        the queue again and may take other rows' free units."""
        client, sku, loc = key
        byorder = {}
        for o, ln, l in self.waiting_lines(key):
            byorder.setdefault((o.client, o.oid), (o, []))[1].append(ln)
        queue = sorted(byorder.values(), key=lambda t: t[0].release_key())
        other_avail = {}        # other stock rows: available left after tentative grants
        grants_here, grants_other = [], []
        given = 0
        for o, lns in queue:
            if available <= 0:
                break
            need = sum(o.lines[ln].qty - o.lines[ln].allocated for ln in lns)
            if need > available:
                self.cov.hit('complete_only: order passed over (too few here)')
                continue
            others = [(ln, l) for ln, l in sorted(o.lines.items())
                      if l.allocated < l.qty and (l.sku != sku or l.loc != loc)]
            ok = True
            for ln, l in others:
                if not self.known(client, l.sku) or l.loc is None:
                    ok = False
                    break
            if not ok:
                continue
            if others and not with_others:
                self.cov.hit('complete_only: walk left to the completion pass')
                self.pending.add(key)
                break
            tentative = {}
            for ln, l in others:
                k = (client, l.sku, l.loc)
                if k not in other_avail:
                    other_avail[k] = self.available(k) if k in self.stock else None
                if other_avail[k] is None:
                    ok = False
                    break
                tentative[k] = tentative.get(k, 0) + (l.qty - l.allocated)
            if ok:
                for k, t in tentative.items():
                    if other_avail[k] - t < 0:
                        ok = False
            if not ok:
                self.cov.hit('complete_only: order passed over (other rows short)')
                continue
            if tentative:
                self.cov.hit('complete_only: completed with other rows\' free stock')
            for k, t in tentative.items():
                other_avail[k] -= t
            for ln, l in others:
                grants_other.append(((client, l.sku, l.loc), o, ln, l.qty - l.allocated))
            for ln in lns:
                grants_here.append((key, o, ln, o.lines[ln].qty - o.lines[ln].allocated))
            available -= need
            given += need
        for k, o, ln, u in grants_here + grants_other:
            self.grant(k, o, ln, u)
        return given

    def take_back(self, key, deficit):
        client, sku, loc = key
        held = []
        for o in self.live.values():
            if o.client != client:
                continue
            for ln, l in o.lines.items():
                if l.allocated > 0 and l.sku == sku and l.loc == loc:
                    held.append((o, ln, l))
        # newest first: reverse release order (priority, placed_at desc, order_id desc, line_no desc)
        held.sort(key=lambda t: (-t[0].priority, t[0].placed_at, t[0].oid, t[1]), reverse=True)
        for o, ln, l in held:
            if deficit <= 0:
                break
            take = min(l.allocated, deficit)
            self.cov.hit('take-back: ' + o.status + ('' if not (o.holds - set(INVENTORY)) else ' operator-held'))
            self.grant(key, o, ln, -take)
            deficit -= take
        assert deficit == 0, 'allocations do not add up'

    # ---------------------------------------------------------------- settle
    def needed_holds(self, o):
        need = set()
        for l in o.lines.values():
            if not self.known(o.client, l.sku) or l.loc is None:
                need.add('unknown_sku')
            elif l.allocated < l.qty:
                need.add('out_of_stock' if self.restockable(o.client, l.sku) else 'discontinued')
        return need

    def settle(self, o):
        if o.status not in OPEN:
            return
        need = self.needed_holds(o)
        o.holds = {h for h in o.holds if h not in INVENTORY} | need
        o.status = 'needs_review' if o.holds else 'ready'
        self.mark(o)

    def settle_touched(self):
        for key in sorted(self.touched, key=lambda k: self.orders[k].release_key() + (k[0],)):
            self.settle(self.orders[key])
        self.touched = set()

    # ---------------------------------------------------------------- intake
    def choose_location(self, o):
        need = {}
        for l in o.lines.values():
            if self.known(o.client, l.sku):
                need[l.sku] = need.get(l.sku, 0) + (l.qty - l.allocated)
        if not self.locations:
            raise ModelError('55000', 'no warehouse')
        best = None
        for loc, prio in self.locations.items():
            fills = all(self.available((o.client, s, loc)) >= n for s, n in need.items())
            units = sum(min(max(self.available((o.client, s, loc)), 0), n) for s, n in need.items())
            k = (0 if fills else 1, prio if fills else 0, -units, prio, loc)
            if best is None or k < best[0]:
                best = (k, loc)
        self.cov.hit('location: ' + ('fills' if best[0][0] == 0 else 'most units' if best[0][2] < 0 else 'preferred'))
        return best[1]

    def evaluate(self, o):
        """evaluate_order: place, allocate by policy, settle.  Idempotent."""
        if o.status in ('shipped', 'cancelled'):
            return
        if not o.lines:
            raise ModelError('23514', f'order {o.oid} has no lines')
        was_new = o.status == 'new'
        freed, self.freed = self.freed, []
        lines = sorted(o.lines.items())
        for _, l in lines:
            if not self.known(o.client, l.sku):
                l.loc = None        # a SKU missing from the catalog: unplaced, waits nowhere
        place = next((l.loc for _, l in lines if l.loc is not None), None)
        if any(self.known(o.client, l.sku) and l.loc is None for _, l in lines):
            if place is None and o.req_loc is not None:
                self.cov.hit('location: requested')
            if place is None:
                place = o.req_loc
            if place is None:
                place = self.choose_location(o)
            for _, l in lines:
                if self.known(o.client, l.sku) and l.loc is None:
                    l.loc = place
        keys = set()
        for _, l in lines:
            if self.known(o.client, l.sku) and l.loc is not None:
                keys.add((o.client, l.sku, l.loc))
        keys.update(freed)
        for k in sorted(keys):
            self.lock(k)
        for k in freed:
            if self.available(k) > 0:
                self.cov.hit('edit: freed units served')
                self.serve(k, self.available(k))
        policy = self.clients[o.client]
        keyed = [(ln, l, (o.client, l.sku, l.loc)) for ln, l in lines
                 if self.known(o.client, l.sku) and l.loc is not None]
        if policy == 'reserve':
            for ln, l, k in keyed:
                take = min(max(self.available(k), 0), l.qty - l.allocated)
                if take:
                    l.allocated += take
                    self.stock[k][1] += take
                    self.changed_stock.add(k)
        else:
            need = {}
            ok = True
            for ln, l in lines:
                if l.allocated >= l.qty:
                    continue
                if not (self.known(o.client, l.sku) and l.loc is not None):
                    ok = False
                    break
                k = (o.client, l.sku, l.loc)
                need[k] = need.get(k, 0) + l.qty - l.allocated
            if ok and all(n <= self.available(k) for k, n in need.items()):
                for ln, l, k in keyed:
                    short = l.qty - l.allocated
                    if short:
                        l.allocated += short
                        self.stock[k][1] += short
                        self.changed_stock.add(k)
        for _, l in lines:
            l.waiting = l.loc is not None and l.allocated < l.qty
        self.mark(o)
        if was_new:
            o.holds = self.needed_holds(o)
            for h in o.holds:
                self.cov.hit('intake: ' + h)
            o.status = 'needs_review' if o.holds else 'ready'
        else:
            self.settle(o)

    def note_dirty(self, o):
        key = (o.client, o.oid)
        if key not in self.dirty:
            self.dirty.append(key)

    # ---------------------------------------------------------------- commit
    def completion_pass(self):
        """complete_only: the stock rows whose queue walk a statement left (an order there
        needs other rows too), in key order, walked again taking other rows' free units."""
        pending, self.pending = sorted(self.pending), set()
        for key in pending:
            if self.clients[key[0]] == 'complete_only' and self.available(key) > 0:
                self.serve_complete_only(key, self.available(key), with_others=True)

    def commit(self):
        """End of transaction: deferred intake of the dirty orders, all of them in release
        order (priority desc, placed_at, order_id, client_id), then complete_only's
        completion pass, then the settle batch."""
        dirty = sorted(self.dirty, key=lambda k: self.orders[k].release_key() + (k[0],))
        self.dirty = []
        for key in dirty:
            self.evaluate(self.orders[key])
        self.completion_pass()
        self.settle_touched()
        for o in self.live.values():
            if o.status == 'new':
                raise ModelError('23514', f'order {o.oid} has no lines')

    # ---------------------------------------------------------------- app writes
    def insert_order(self, client, oid, placed_at, priority=0, loc=None):
        if client not in self.clients:
            raise ModelError('23503', 'unknown client')
        if loc is not None and loc not in self.locations:
            raise ModelError('23503', 'unknown location')
        if (client, oid) in self.orders:
            raise ModelError('23505', 'duplicate order')
        o = Order(client, oid, placed_at, priority, loc)
        self.orders[(client, oid)] = o
        self.live[(client, oid)] = o
        self.mark(o)
        self.note_dirty(o)
        return o

    def insert_line(self, client, oid, ln, sku, qty):
        if qty <= 0:
            raise ModelError('23514', 'qty')
        o = self.orders.get((client, oid))
        if o is None:
            raise ModelError('23503', 'no order')
        if o.status in ('shipped', 'cancelled'):
            raise ModelError('55000', 'closed order')
        if ln in o.lines:
            raise ModelError('23505', 'duplicate line')
        o.lines[ln] = Line(sku, qty)
        self.mark(o)
        self.note_dirty(o)

    def _free(self, o, l, units):
        if units > 0:
            k = (o.client, l.sku, l.loc)
            self.stock[k][1] -= units
            self.changed_stock.add(k)
            self.freed.append(k)

    def update_line_qty(self, client, oid, ln, qty):
        o = self.order(client, oid)
        l = o.lines[ln]
        if qty <= 0:
            raise ModelError('23514', 'qty')
        if qty == l.qty:
            return
        if o.status in ('shipped', 'cancelled'):
            raise ModelError('55000', 'closed order')
        new_alloc = min(l.allocated, qty)
        self._free(o, l, l.allocated - new_alloc)
        l.qty = qty
        l.allocated = new_alloc
        l.waiting = False
        self.mark(o)
        self.note_dirty(o)

    def update_line_sku(self, client, oid, ln, sku):
        o = self.order(client, oid)
        l = o.lines[ln]
        if sku == l.sku:
            return
        if o.status in ('shipped', 'cancelled'):
            raise ModelError('55000', 'closed order')
        self._free(o, l, l.allocated)
        l.sku = sku
        l.allocated = 0
        l.waiting = False
        self.mark(o)
        self.note_dirty(o)

    def delete_line(self, client, oid, ln):
        o = self.order(client, oid)
        l = o.lines[ln]
        if o.status in ('shipped', 'cancelled'):
            raise ModelError('55000', 'closed order')
        self._free(o, l, l.allocated)
        del o.lines[ln]
        self.mark(o)
        self.note_dirty(o)

    def update_priority(self, client, oid, priority):
        o = self.order(client, oid)
        if o.status in ('shipped', 'cancelled') and o.priority != priority:
            raise ModelError('55000', 'closed order: priority is history')
        if (client, oid) not in self.live:      # shared with clones: copy before writing
            o = self.orders[(client, oid)] = o.copy()
        o.priority = priority
        self.mark(o)

    def add_sku(self, client, sku, status='active', backorderable=True):
        if (client, sku) in self.skus:
            raise ModelError('23505', 'duplicate sku')
        self.skus[(client, sku)] = (status, backorderable)

    def set_sku_status(self, client, sku, status):
        """UPDATE sku SET status: the open orders with a short line of it are settled again at
        commit (their inventory holds follow the catalog); nothing moves."""
        old = self.skus[(client, sku)]
        if old[0] == status:
            return
        self.skus[(client, sku)] = (status, old[1])
        for o in self.live.values():
            if o.client == client and o.status in OPEN and any(
                    l.sku == sku and l.loc is not None and l.allocated < l.qty for l in o.lines.values()):
                self.touched.add((client, o.oid))

    def set_policy(self, client, policy):
        """UPDATE client SET allocation_policy: a switch to reserve serves, in key order, every
        stock row of the client where units are free and lines wait (invariant 5)."""
        if self.clients[client] == policy:
            return
        self.clients[client] = policy
        if policy != 'reserve':
            return
        for key in sorted(k for k in self.stock if k[0] == client):
            if self.available(key) > 0 and self.waiting_lines(key):
                self.cov.hit('policy switch to reserve: free units served')
                self.serve(key, self.available(key))

    # ---------------------------------------------------------------- ledger
    def movement(self, client, sku, loc, kind, qty, reason=None):
        if qty is None:
            raise ModelError('23502', 'qty null')
        if kind not in ('receipt', 'return', 'adjustment', 'count', 'shipment'):
            raise ModelError('22023', 'kind')
        if kind == 'shipment':
            raise ModelError('428C9', 'shipment by hand')
        if kind in ('receipt', 'return') and qty <= 0:
            raise ModelError('23514', 'non-positive receipt')
        if kind == 'adjustment' and qty == 0:
            raise ModelError('23514', 'zero adjustment')
        if kind == 'count' and qty < 0:
            raise ModelError('23514', 'negative count')
        if abs(qty) > MAX_MOVEMENT:
            raise ModelError('22003', 'out of range')
        if kind in ('adjustment', 'count') and reason is None:
            raise ModelError('23502', 'reason')
        if client is None:
            raise ModelError('23502', 'client null')
        if loc is None:
            raise ModelError('23502', 'location null')
        if client not in self.clients:
            raise ModelError('23503', 'client')
        if loc not in self.locations:
            raise ModelError('23503', 'location')
        if sku is None:
            raise ModelError('23502', 'sku null')
        if (client, sku) not in self.skus:
            raise ModelError('23503', 'sku')
        key = (client, sku, loc)
        s = self.lock(key)
        delta = qty - s[0] if kind == 'count' else qty
        new_on_hand = s[0] + delta
        if new_on_hand < 0:
            raise ModelError('23514', 'negative on_hand')
        s[0] = new_on_hand
        self.changed_stock.add(key)
        if new_on_hand < s[1]:
            self.cov.hit(f'{kind}: takes back')
            self.take_back(key, s[1] - new_on_hand)
        elif delta > 0:
            self.serve(key, new_on_hand - s[1])
        return delta

    def add_inbound(self, inbound_id, client, sku, loc, qty):
        self.inbound[inbound_id] = [client, sku, loc, qty, False]

    def receive_inbound(self, inbound_id):
        ib = self.inbound.get(inbound_id)
        if ib is None:
            raise ModelError('P0002', 'no inbound')
        if ib[4]:
            raise ModelError('55000', 'already received')
        ib[4] = True
        self.movement(ib[0], ib[1], ib[2], 'receipt', ib[3])

    def receive_inbounds(self, ids):
        """receive_inbounds: each row once; an unknown row, then a received one, refuses the
        whole call; the receipts in stock key order, then by inbound id."""
        ids = sorted(set(ids))
        for i in ids:
            if i not in self.inbound:
                raise ModelError('P0002', 'no inbound')
        for i in ids:
            if self.inbound[i][4]:
                raise ModelError('55000', 'already received')
        for i in sorted(ids, key=lambda i: (*self.inbound[i][:3], i)):
            ib = self.inbound[i]
            ib[4] = True
            self.movement(ib[0], ib[1], ib[2], 'receipt', ib[3])
        return len(ids)

    # ---------------------------------------------------------------- order functions
    def _lock_order(self, client, oid):
        o = self.order(client, oid)
        for l in o.lines.values():
            if l.sku is not None and l.loc is not None:
                self.lock((client, l.sku, l.loc))
        if o.status in OPEN:
            self.touched.discard((client, oid))
            self.settle(o)
        return o

    def ship(self, client, oid):
        o = self._lock_order(client, oid)
        if o.status == 'shipped':
            return False
        if o.status != 'ready':
            raise ModelError('55000', f'ship {o.status}')
        for ln, l in sorted(o.lines.items()):
            k = (client, l.sku, l.loc)
            self.stock[k][0] -= l.allocated
            self.stock[k][1] -= l.allocated
            self.changed_stock.add(k)
        for l in o.lines.values():
            l.shipped = l.allocated
            l.allocated = 0
            l.waiting = False
        o.status = 'shipped'
        o.holds = set()
        del self.live[(client, oid)]
        self.mark(o)
        return True

    def ship_wave(self, client, oids):
        """ship_orders: each order once, all locked and settled first; an order neither ready
        nor shipped refuses the whole wave.  Returns how many shipped."""
        wave = sorted(set(oids))
        for oid in wave:
            o = self._lock_order(client, oid)
            if o.status not in ('ready', 'shipped'):
                raise ModelError('55000', f'ship wave: {oid} {o.status}')
        return sum(1 for oid in wave if self.ship(client, oid))

    def cancel(self, client, oid):
        o = self._lock_order(client, oid)
        if o.status == 'cancelled':
            return False
        if o.status == 'shipped':
            raise ModelError('55000', 'cancel shipped')
        freed = {}
        for l in o.lines.values():
            if l.allocated > 0:
                k = (client, l.sku, l.loc)
                freed[k] = freed.get(k, 0) + l.allocated
            l.allocated = 0
            l.waiting = False
        o.holds = set()
        o.status = 'cancelled'
        del self.live[(client, oid)]
        self.mark(o)
        for k in sorted(freed):
            self.stock[k][1] -= freed[k]
            self.changed_stock.add(k)
            self.serve(k, self.available(k))
        return True

    @staticmethod
    def check_reason(reason):
        import re
        if not re.fullmatch(r'[a-z][a-z_]{0,31}', reason or ''):
            raise ModelError('22023', 'bad reason')

    def hold(self, client, oid, reason='manual'):
        self.check_reason(reason)
        if reason in INVENTORY:
            raise ModelError('22023', 'inventory reason')
        o = self._lock_order(client, oid)
        if o.status not in OPEN:
            raise ModelError('55000', f'hold {o.status}')
        if reason in o.holds:
            return False
        o.holds.add(reason)
        self.settle(o)
        return True

    def release(self, client, oid, reason='manual'):
        self.check_reason(reason)
        if reason in ('out_of_stock', 'discontinued'):
            raise ModelError('55000', 'release inventory hold')
        o = self._lock_order(client, oid)
        if o.status not in OPEN:
            raise ModelError('55000', f'release {o.status}')
        if reason not in o.holds:
            return False
        if reason == 'unknown_sku':
            self.cov.hit('release unknown_sku')
            self.evaluate(o)
            if 'unknown_sku' in o.holds:
                raise ModelError('55000', 'still unknown')
            return True
        o.holds.discard(reason)
        self.settle(o)
        return True

    # ---------------------------------------------------------------- snapshots
    def snapshot_order(self, key):
        o = self.orders.get(key)
        if o is None:
            return None
        return (o.status, tuple(sorted(o.holds)),
                tuple((ln,) + l.row() for ln, l in sorted(o.lines.items())))

    def clone(self):
        """A copy to run one transaction on (discarded if the transaction must fail)."""
        m = Model.__new__(Model)
        m.cov = self.cov
        m.clients = dict(self.clients)
        m.locations = dict(self.locations)
        m.skus = dict(self.skus)
        m.stock = {k: list(v) for k, v in self.stock.items()}
        m.orders = dict(self.orders)
        m.live = {}
        for k, o in self.live.items():
            m.live[k] = m.orders[k] = o.copy()
        m.inbound = {k: list(v) for k, v in self.inbound.items()}
        m.touched = set()
        m.dirty = []
        m.freed = []
        m.pending = set()
        m.changed_orders = set()
        m.changed_stock = set()
        return m
