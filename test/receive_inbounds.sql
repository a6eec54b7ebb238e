-- receive_inbounds.sql — several inbound rows received in one call (a truck at the dock):
-- exact stock, ledger rows in stock key order, held orders released in release order, one
-- receipt per row; a row that does not exist or was received refuses the whole call; the end
-- state equals receive_inbound's, row by row in key order.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-06-04 06:00+00';
SELECT plan(19);

\ir lib/scenario_helpers.sql

\o /dev/null
INSERT INTO backorder.client (client_id) VALUES ('dock'), ('solo');
INSERT INTO backorder.location (location_id, priority) VALUES ('dock_w1', 1), ('dock_w2', 2);
INSERT INTO backorder.sku (client_id, sku)
VALUES ('dock', 'A'), ('dock', 'B'), ('dock', 'C'), ('solo', 'A'), ('solo', 'B'), ('solo', 'C');
-- held: H1 (A 2, B 1), H2 (A 3), H3 (C 4), all at dock_w1; nothing in stock yet
SELECT pg_temp.place(c, 'H1', '2024-06-03 09:00+00', 'A:2,B:1', 0, 'dock_w1'),
       pg_temp.place(c, 'H2', '2024-06-03 09:05+00', 'A:3', 0, 'dock_w1'),
       pg_temp.place(c, 'H3', '2024-06-03 09:10+00', 'C:4', 0, 'dock_w1')
  FROM unnest(ARRAY['dock', 'solo']) c;
-- the truck: rows inserted out of key order; B twice; C at the other warehouse
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at, reference)
SELECT c, i.sku, i.loc, i.qty, '2024-06-04', i.ref
  FROM unnest(ARRAY['dock', 'solo']) c,
       (VALUES ('C', 'dock_w2', 4, 'ASN-C2'), ('B', 'dock_w1', 1, 'ASN-B1'), ('A', 'dock_w1', 4, 'ASN-A'),
               ('B', 'dock_w1', 2, NULL), ('C', 'dock_w1', 3, 'ASN-C1')) AS i (sku, loc, qty, ref);
\o

SELECT results_eq($$SELECT order_id, status FROM backorder.orders WHERE client_id = 'dock' ORDER BY 1$$,
                  $$VALUES ('H1', 'needs_review'), ('H2', 'needs_review'), ('H3', 'needs_review')$$,
                  'set-up: three held orders');

-- the whole truck, given in any order and with a duplicate
SELECT is(backorder.receive_inbounds(ARRAY(SELECT inbound_id FROM backorder.inbound WHERE client_id = 'dock'
                                             ORDER BY inbound_id DESC)
                                     || (SELECT min(inbound_id) FROM backorder.inbound WHERE client_id = 'dock')),
          5, 'receive_inbounds receives the five rows once each');
SELECT results_eq($$SELECT sku, location_id, qty, delta, reference FROM backorder.stock_movement
                     WHERE client_id = 'dock' ORDER BY movement_id$$,
                  $$VALUES ('A', 'dock_w1', 4::bigint, 4::bigint, 'ASN-A'),
                           ('B', 'dock_w1', 1, 1, 'ASN-B1'),
                           ('B', 'dock_w1', 2, 2, 'inbound ' || (SELECT inbound_id FROM backorder.inbound
                                                                  WHERE client_id = 'dock' AND reference IS NULL)),
                           ('C', 'dock_w1', 3, 3, 'ASN-C1'),
                           ('C', 'dock_w2', 4, 4, 'ASN-C2')$$,
                  'one receipt per row, in stock key order (SKU, warehouse), then inbound id');
SELECT is((SELECT count(*) FROM backorder.inbound WHERE client_id = 'dock' AND received_at = '2024-06-04 06:00+00'),
          5::bigint, 'every row is closed at the engine''s clock');
SELECT results_eq($$SELECT order_id, status FROM backorder.orders WHERE client_id = 'dock' ORDER BY 1$$,
                  $$VALUES ('H1', 'ready'), ('H2', 'needs_review'), ('H3', 'needs_review')$$,
                  'A 4 fills H1 (2) first, H2 gets the other 2 of its 3; C at dock_w1 is 1 short of H3');
SELECT results_eq($$SELECT order_id, line_no, allocated FROM backorder.order_line WHERE client_id = 'dock' ORDER BY 1, 2$$,
                  $$VALUES ('H1', 1, 2), ('H1', 2, 1), ('H2', 1, 2), ('H3', 1, 3)$$,
                  'lines: allocated in release order');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('dock', 'B', 'dock_w1')$$, $$VALUES (3::bigint, 1::bigint)$$,
                  'stock of B: both rows on hand, H1''s 1 allocated');
SELECT results_eq($$SELECT * FROM pg_temp.stock_of('dock', 'C', 'dock_w2')$$, $$VALUES (4::bigint, 0::bigint)$$,
                  'stock of C at dock_w2: on hand, nothing waits there');
SELECT is(pg_temp.events('dock', 'H1', 'released'), 1, 'H1 released once');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold');

-- the same end state as receive_inbound, row by row in key order
\o /dev/null
SELECT backorder.receive_inbound(inbound_id) FROM backorder.inbound
 WHERE client_id = 'solo' ORDER BY sku, location_id, inbound_id;
\o
SELECT results_eq($$SELECT order_id, line_no, allocated FROM backorder.order_line WHERE client_id = 'solo' ORDER BY 1, 2$$,
                  $$SELECT order_id, line_no, allocated FROM backorder.order_line WHERE client_id = 'dock' ORDER BY 1, 2$$,
                  'receive_inbound row by row allocates the same');
SELECT results_eq($$SELECT sku, location_id, on_hand, allocated FROM backorder.stock WHERE client_id = 'solo' ORDER BY 1, 2$$,
                  $$SELECT sku, location_id, on_hand, allocated FROM backorder.stock WHERE client_id = 'dock' ORDER BY 1, 2$$,
                  '... and leaves the same stock');

-- all or nothing
\o /dev/null
INSERT INTO backorder.inbound (client_id, sku, location_id, qty, expected_at, reference)
VALUES ('dock', 'C', 'dock_w1', 1, '2024-06-05', 'ASN-LATE');
\o
SELECT throws_ok($$SELECT backorder.receive_inbounds(ARRAY[(SELECT inbound_id FROM backorder.inbound WHERE reference = 'ASN-LATE'),
                                                           (SELECT min(inbound_id) FROM backorder.inbound WHERE client_id = 'dock')])$$,
                 '55000', format('inbound %s was already received',
                                 (SELECT min(inbound_id) FROM backorder.inbound WHERE client_id = 'dock')),
                 'a received row in the call: 55000');
SELECT is(pg_temp.detail_of($$SELECT backorder.receive_inbounds(ARRAY(SELECT inbound_id FROM backorder.inbound
                                                                        WHERE client_id = 'dock' AND sku = 'B'
                                                                           OR reference = 'ASN-LATE'))$$),
          format('2 of the 3 inbound rows were already received: %s; nothing was received.',
                 (SELECT string_agg(inbound_id::text, ', ' ORDER BY inbound_id) FROM backorder.inbound
                   WHERE client_id = 'dock' AND sku = 'B')),
          'the detail names every row already received');
SELECT is(pg_temp.hint_of($$SELECT backorder.receive_inbounds(ARRAY(SELECT inbound_id FROM backorder.inbound WHERE client_id = 'dock'))$$),
          'Receive the others without them.  Record extra units with backorder.receive().', 'the hint says what to do');
SELECT throws_ok($$SELECT backorder.receive_inbounds(ARRAY[(SELECT inbound_id FROM backorder.inbound WHERE reference = 'ASN-LATE'), -7, -3])$$,
                 'P0002', 'inbound -7 does not exist', 'an unknown row in the call: P0002, naming the first');
SELECT results_eq($$SELECT received_at IS NULL, (SELECT on_hand FROM backorder.stock
                                                  WHERE client_id = 'dock' AND sku = 'C' AND location_id = 'dock_w1'),
                           (SELECT status FROM backorder.orders WHERE client_id = 'dock' AND order_id = 'H3')
                      FROM backorder.inbound WHERE reference = 'ASN-LATE'$$,
                  $$VALUES (true, 3::bigint, 'needs_review')$$,
                  'the refused calls received nothing: ASN-LATE open, C still 3, H3 held');
SELECT is(backorder.receive_inbounds(ARRAY[]::bigint[]), 0, 'an empty call receives nothing');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold at the end (both clients)');

SELECT * FROM finish();
ROLLBACK;
