#!/usr/bin/python3
"""Memory check: one backend runs many intake and release operations; its memory must not grow.

Each cycle, in one session, one transaction per step: an order of 2 lines is placed and waits
(intake), a receipt of the first SKU allocates part of it, a receipt of the second releases it
(release), then it ships.  Every 10th cycle the order gets a manual hold and its release, and
every 10th is cancelled instead of shipped, with a cycle count; one cycle in 4 is for the
complete_only client.  The backend's /proc status (VmRSS, RssAnon) and the sum of its memory
contexts (pg_backend_memory_contexts) are sampled after a warm-up and at every tenth of the run.

    /usr/bin/python3 bench/memory/mem.py --cycles 50000     # 100,000 intake + release operations
Exit 1 if the memory contexts grew more than --max-growth-kb (default 1024) after the warm-up.
"""
import argparse
import sys
import time

import psycopg


def sample(conn, pid):
    st = {}
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('VmRSS', 'RssAnon', 'RssShmem', 'VmHWM'):
                st[k] = int(v.split()[0])
    st['ctx'] = conn.execute('SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts').fetchone()[0] // 1024
    st['cache'] = conn.execute("SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'CachedPlan'"
                               " OR name = 'CachedPlanSource' OR name = 'SPI Plan'").fetchone()[0]
    return st


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--db', default='postgres')
    ap.add_argument('--cycles', type=int, default=50000)
    ap.add_argument('--warmup', type=int, default=1000)
    ap.add_argument('--max-growth-kb', type=int, default=1024)
    args = ap.parse_args()

    conn = psycopg.connect(dbname=args.db, autocommit=True)
    conn.add_notice_handler(lambda d: None)
    conn.execute('SET synchronous_commit = off')
    x = conn.execute
    x('CREATE EXTENSION IF NOT EXISTS pg_backorder')
    x("INSERT INTO backorder.client (client_id, allocation_policy) VALUES ('m1', 'reserve'), ('m2', 'complete_only')")
    x("INSERT INTO backorder.location (location_id, priority) VALUES ('w1', 1), ('w2', 2)")
    x("INSERT INTO backorder.sku (client_id, sku) SELECT c, 'K' || s FROM unnest(ARRAY['m1', 'm2']) c, generate_series(1, 8) s")
    pid = x('SELECT pg_backend_pid()').fetchone()[0]

    place = ("WITH o AS (INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES (%s, %s, 'w1')"
             " RETURNING client_id, order_id)"
             " INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty)"
             " SELECT client_id, order_id, n, s, q FROM o, (VALUES (1, %s, 2), (2, %s, 1)) v(n, s, q)")
    samples = []
    t0 = time.time()
    ops = 0
    # Before any engine operation: the backend as the extension was created.
    start = sample(conn, pid)
    print(f"before   (no operation yet): VmRSS {start['VmRSS']} kB, RssAnon {start['RssAnon']} kB, "
          f"memory contexts {start['ctx']} kB", flush=True)
    for i in range(1, args.cycles + 1):
        c = 'm2' if i % 4 == 0 else 'm1'
        a, b = f'K{i % 8 + 1}', f'K{(i + 3) % 8 + 1}'
        oid = f'M{i}'
        x(place, (c, oid, a, b))                                            # intake: waits
        x('SELECT backorder.receive(%s, %s, %s, 1)', (c, a, 'w1'))           # part of it
        x('SELECT backorder.receive(%s, %s, %s, 2)', (c, a, 'w1'))           # line 1 complete
        x('SELECT backorder.receive(%s, %s, %s, 1)', (c, b, 'w1'))           # release
        ops += 2                                                             # intake + release
        if i % 10 == 0:
            x('SELECT backorder.hold_order(%s, %s)', (c, oid))
            x('SELECT backorder.release_hold(%s, %s)', (c, oid))
        if i % 10 == 5:
            x('SELECT backorder.cancel_order(%s, %s)', (c, oid))
            x("SELECT backorder.count_stock(%s, %s, 'w1', 0, 'cycle count')", (c, a))
            x("SELECT backorder.count_stock(%s, %s, 'w1', 0, 'cycle count')", (c, b))
        else:
            x('SELECT backorder.ship_order(%s, %s)', (c, oid))
        if i == args.warmup or (i > args.warmup and i % max(args.cycles // 10, 1) == 0) or i == args.cycles:
            s = sample(conn, pid)
            s['cycle'] = i
            s['ops'] = ops
            s['t'] = time.time() - t0
            samples.append(s)
            print(f"cycle {i:7d} ({ops:7d} intake+release ops, {s['t']:6.0f} s): VmRSS {s['VmRSS']} kB, "
                  f"RssAnon {s['RssAnon']} kB, RssShmem {s['RssShmem']} kB, memory contexts {s['ctx']} kB",
                  flush=True)
    inv = x('SELECT count(*) FROM backorder.check_invariants()').fetchone()[0]
    first, last = samples[0], samples[-1]
    growth = last['ctx'] - first['ctx']
    print(f'after warm-up ({first["cycle"]} cycles) -> end ({last["cycle"]} cycles, {last["ops"]} intake and '
          f'release operations, {last["t"]:.0f} s): memory contexts {first["ctx"]} -> {last["ctx"]} kB '
          f'({growth:+d} kB), RssAnon {first["RssAnon"]} -> {last["RssAnon"]} kB '
          f'({last["RssAnon"] - first["RssAnon"]:+d} kB), VmRSS {first["VmRSS"]} -> {last["VmRSS"]} kB '
          f'(shared buffers touched: RssShmem {first["RssShmem"]} -> {last["RssShmem"]} kB); '
          f'check_invariants: {inv} violations')
    print(f'before the first operation -> end: RssAnon {start["RssAnon"]} -> {last["RssAnon"]} kB, '
          f'memory contexts {start["ctx"]} -> {last["ctx"]} kB (the warm-up fills the plan and '
          f'catalog caches once)')
    ok = growth <= args.max_growth_kb and inv == 0
    print(f'{1 if ok else 0} passed, {0 if ok else 1} failed')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
