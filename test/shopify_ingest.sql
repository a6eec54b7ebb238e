-- shopify_ingest.sql — backorder.ingest_shopify_order() on the real Shopify fixtures in
-- ../shared/data/shopify (or $BACKORDER_DATA/shopify): the standard orders/create test webhook
-- and the Admin API order fixtures.  Re-delivery, out-of-order updates, line edits,
-- cancellation, ids above 2^53, unknown SKUs, and malformed payloads (SQLSTATE, nothing written).
--
-- The fixture files are read client-side when the test runs (psql backticks; pg_prove runs from
-- the repository root).  Client shopify_t, warehouse shopify_w1.
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SET backorder.now = '2024-05-01 10:00+00';
SET client_min_messages = warning;

\set shopify_dir `echo "${BACKORDER_DATA:-../shared/data}/shopify"`
\set have_data `test -f "${BACKORDER_DATA:-../shared/data}/shopify/shopify_test_webhook_orders_create/orders_create_sample.json" && test -f "${BACKORDER_DATA:-../shared/data}/shopify/monei_shopify_api_node/res_get.json" && echo 1 || echo 0`
\if :have_data
\else
SELECT plan(1);
SELECT skip('no Shopify fixtures in ' || :'shopify_dir' || ': get ../shared/data (see the README) or set BACKORDER_DATA', 1);
SELECT * FROM finish();
ROLLBACK;
\quit
\endif

\set webhook `cat "${BACKORDER_DATA:-../shared/data}/shopify/shopify_test_webhook_orders_create/orders_create_sample.json"`
\set res_get `cat "${BACKORDER_DATA:-../shared/data}/shopify/monei_shopify_api_node/res_get.json"`
\set res_list `cat "${BACKORDER_DATA:-../shared/data}/shopify/monei_shopify_api_node/res_list.json"`
\set res_close `cat "${BACKORDER_DATA:-../shared/data}/shopify/monei_shopify_api_node/res_close.json"`
\set res_create `cat "${BACKORDER_DATA:-../shared/data}/shopify/monei_shopify_api_node/res_create.json"`
\set res_cancel `cat "${BACKORDER_DATA:-../shared/data}/shopify/monei_shopify_api_node/res_cancel.json"`
\set req_create `cat "${BACKORDER_DATA:-../shared/data}/shopify/monei_shopify_api_node/req_create.json"`

SELECT plan(122);

INSERT INTO backorder.client (client_id, name) VALUES ('shopify_t', 'Shopify test shop');
INSERT INTO backorder.location (location_id, name, priority) VALUES ('shopify_w1', 'Shopify test DC', 1);
INSERT INTO backorder.sku (client_id, sku) VALUES
    ('shopify_t', 'IPOD2008GREEN'), ('shopify_t', 'IPOD2008RED'), ('shopify_t', 'IPOD2008PINK');
INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta, reference)
VALUES ('shopify_t', 'IPOD2008GREEN', 'shopify_w1', 'receipt', 5, 0, 'PO-1'),
       ('shopify_t', 'IPOD2008PINK', 'shopify_w1', 'receipt', 3, 0, 'PO-2');

-- Lines of an order: line_no, sku, qty, allocated, unit_price.
CREATE FUNCTION pg_temp.lines_of(p_order text)
RETURNS TABLE (line_no int, sku text, qty int, allocated int, unit_price numeric) LANGUAGE sql AS $$
    SELECT l.line_no, l.sku, l.qty, l.allocated, l.unit_price FROM backorder.order_line l
     WHERE l.client_id = 'shopify_t' AND l.order_id = p_order ORDER BY l.line_no
$$;
CREATE FUNCTION pg_temp.open_holds(p_order text) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(h.reason ORDER BY h.reason), '{}') FROM backorder.order_hold h
     WHERE h.client_id = 'shopify_t' AND h.order_id = p_order AND h.released_at IS NULL
$$;
CREATE FUNCTION pg_temp.status_of(p_order text) RETURNS text LANGUAGE sql AS $$
    SELECT o.status FROM backorder.orders o WHERE o.client_id = 'shopify_t' AND o.order_id = p_order
$$;
-- Everything the ingest writes, as one comparable row.
CREATE FUNCTION pg_temp.footprint() RETURNS text LANGUAGE sql AS $$
    SELECT format('orders %s, lines %s, shopify %s, items %s, deliveries %s, events %s',
                  (SELECT count(*) FROM backorder.orders WHERE client_id = 'shopify_t'),
                  (SELECT count(*) FROM backorder.order_line WHERE client_id = 'shopify_t'),
                  (SELECT count(*) FROM backorder.shopify_order WHERE client_id = 'shopify_t'),
                  (SELECT count(*) FROM backorder.shopify_order_line WHERE client_id = 'shopify_t'),
                  (SELECT coalesce(sum(deliveries), 0) FROM backorder.shopify_order WHERE client_id = 'shopify_t'),
                  (SELECT count(*) FROM backorder.order_event WHERE client_id = 'shopify_t'))
$$;

-- ---------------------------------------------------------------------------------------------
-- 1. The standard orders/create test webhook: id above 2^53, already cancelled, two items.

SELECT is(backorder.ingest_shopify_order('shopify_t', :'webhook'), 'cancelled',
          'the test webhook (cancelled_at set) is created and cancelled');
SELECT is((SELECT order_id FROM backorder.orders WHERE client_id = 'shopify_t' AND order_id LIKE '8209%'),
          '820982911946154508', 'the order id keeps all 18 digits of the Shopify id (no float on the way)');
SELECT isnt(((:'webhook')::jsonb -> 'id')::text::float8::numeric::text, '820982911946154508',
            'through a float the same id would have lost its last digits');
SELECT is(pg_temp.status_of('820982911946154508'), 'cancelled', 'the engine cancelled it');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('820982911946154508')$$,
                  $$VALUES (1, 'IPOD2008PINK', 1, 0, 199.00), (2, 'IPOD2008PINK', 1, 0, 199.00)$$,
                  'both line items are kept as lines (SKU, quantity, price), nothing allocated');
SELECT results_eq($$SELECT name, created_at, updated_at, cancelled_at, deliveries FROM backorder.shopify_order
                     WHERE client_id = 'shopify_t' AND shopify_id = '820982911946154508'$$,
                  $$VALUES ('#9999'::text, '2019-06-04 17:53:06+00'::timestamptz, '2019-06-04 17:53:06+00'::timestamptz,
                            '2019-06-04 17:53:06+00'::timestamptz, 1)$$,
                  'shopify_order keeps name, created_at, updated_at, cancelled_at (UTC) and one delivery');
SELECT results_eq($$SELECT line_item_id, line_no, removed FROM backorder.shopify_order_line
                     WHERE client_id = 'shopify_t' AND shopify_id = '820982911946154508' ORDER BY line_no$$,
                  $$VALUES ('866550311766439020'::text, 1, false), ('141249953214522974', 2, false)$$,
                  'line item ids are kept exactly, mapped to line numbers');
SELECT is((SELECT placed_at FROM backorder.orders WHERE client_id = 'shopify_t' AND order_id = '820982911946154508'),
          '2019-06-04 17:53:06+00'::timestamptz, 'placed_at is Shopify''s created_at');
SELECT is((SELECT payload -> 'customer' ->> 'id' FROM backorder.shopify_order
            WHERE client_id = 'shopify_t' AND shopify_id = '820982911946154508'),
          '115310627314723954', 'the raw payload is kept, nested ids exact');
SELECT is((SELECT on_hand - allocated FROM backorder.stock
            WHERE client_id = 'shopify_t' AND sku = 'IPOD2008PINK' AND location_id = 'shopify_w1'),
          3::bigint, 'the cancelled order holds no IPOD2008PINK');
SELECT is(backorder.ingest_shopify_order('shopify_t', :'webhook'), 'duplicate', 're-delivery of the webhook: duplicate');
SELECT is((SELECT count(*) FROM backorder.order_line WHERE client_id = 'shopify_t' AND order_id = '820982911946154508'),
          2::bigint, '... and still two lines');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold after the webhook');

-- ---------------------------------------------------------------------------------------------
-- 2. The Admin API order (wrapped in {"order": ...}): an item in stock, one short, one unknown.

SELECT is(backorder.ingest_shopify_order('shopify_t', :'res_get'), 'created', 'res_get.json: created');
SELECT is(pg_temp.status_of('450789469'), 'needs_review', 'held: one SKU is short, one is not in the catalog');
SELECT is(pg_temp.open_holds('450789469'), ARRAY['out_of_stock', 'unknown_sku'], 'holds: out_of_stock and unknown_sku');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('450789469')$$,
                  $$VALUES (1, 'IPOD2008GREEN', 1, 1, 199.00), (2, 'IPOD2008RED', 1, 0, 199.00),
                           (3, 'IPOD2008BLACK', 1, 0, 199.00)$$,
                  'the unknown SKU is kept on its line (held for review), the green one allocated');
SELECT is((SELECT placed_at FROM backorder.orders WHERE client_id = 'shopify_t' AND order_id = '450789469'),
          '2008-01-10 16:00:00+00'::timestamptz, 'placed_at from created_at -05:00');
SELECT is((SELECT short_skus FROM backorder.needs_review WHERE client_id = 'shopify_t' AND order_id = '450789469'),
          '{"IPOD2008RED": 1, "IPOD2008BLACK": 1}'::jsonb, 'needs_review shows what it is short of');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold after a held order');

-- re-deliveries: the same payload, and the same order inside the list fixture
SELECT is(backorder.ingest_shopify_order('shopify_t', :'res_get'), 'duplicate', 'same payload again: duplicate');
SELECT is(backorder.ingest_shopify_order('shopify_t', ((:'res_list')::jsonb -> 'orders' -> 0)), 'duplicate',
          'the same order from res_list.json: duplicate');
SELECT is((SELECT count(*) FROM backorder.orders WHERE client_id = 'shopify_t' AND order_id = '450789469'), 1::bigint,
          'still one order');
SELECT is((SELECT count(*) FROM backorder.order_line WHERE client_id = 'shopify_t' AND order_id = '450789469'), 3::bigint,
          'still three lines');
SELECT is((SELECT deliveries FROM backorder.shopify_order WHERE client_id = 'shopify_t' AND shopify_id = '450789469'), 3,
          'three deliveries counted');
SELECT results_eq($$SELECT event FROM backorder.order_event WHERE client_id = 'shopify_t' AND order_id = '450789469'
                     ORDER BY event_id$$,
                  $$VALUES ('placed'::text), ('held')$$, 'two events (placed, held): re-deliveries changed nothing');

-- a newer version (res_close.json: closed_at set, updated_at 2015) with the same items
SELECT is(backorder.ingest_shopify_order('shopify_t', :'res_close'), 'updated', 'res_close.json (newer): updated');
SELECT is((SELECT updated_at FROM backorder.shopify_order WHERE client_id = 'shopify_t' AND shopify_id = '450789469'),
          '2015-09-02 18:49:32+00'::timestamptz, 'its updated_at is recorded');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('450789469')$$,
                  $$VALUES (1, 'IPOD2008GREEN', 1, 1, 199.00), (2, 'IPOD2008RED', 1, 0, 199.00),
                           (3, 'IPOD2008BLACK', 1, 0, 199.00)$$,
                  'same items: the lines are untouched');
SELECT is(backorder.ingest_shopify_order('shopify_t', :'res_get'), 'stale', 'the 2008 version arriving late: stale');
SELECT is((SELECT updated_at FROM backorder.shopify_order WHERE client_id = 'shopify_t' AND shopify_id = '450789469'),
          '2015-09-02 18:49:32+00'::timestamptz, 'the stale version did not overwrite the newer one');
SELECT is(backorder.ingest_shopify_order('shopify_t', :'res_cancel'), 'stale',
          'res_cancel.json (the 2008 version again, no cancelled_at in this fixture): stale, not cancelled');
SELECT is(pg_temp.status_of('450789469'), 'needs_review', '... the order is still held');

-- ---------------------------------------------------------------------------------------------
-- 3. Out-of-order orders/updated deliveries with line edits (built from res_close.json).
--    v3 (Sep 4): green 1 -> 2, black removed, a new item without SKU.
--    v2 (Sep 3): green 1 -> 3, red 1 -> 4.  v2 arrives after v3 and must be ignored.

SELECT jsonb_set(jsonb_set(jsonb_set(o, '{updated_at}', '"2015-09-03T10:00:00-04:00"'),
                           '{line_items,0,quantity}', '3'),
                 '{line_items,1,quantity}', '4') AS v2
  FROM (SELECT (:'res_close')::jsonb -> 'order' AS o) x \gset
SELECT jsonb_set(jsonb_set(o, '{updated_at}', '"2015-09-04T10:00:00-04:00"'),
                 '{line_items}',
                 jsonb_build_array(jsonb_set(o -> 'line_items' -> 0, '{quantity}', '2'),
                                   o -> 'line_items' -> 1,
                                   jsonb_build_object('id', 1234567890123456789, 'title', 'Gift wrap',
                                                      'quantity', 1, 'sku', NULL, 'price', '5.00'))) AS v3
  FROM (SELECT (:'res_close')::jsonb -> 'order' AS o) x \gset

SELECT is(backorder.ingest_shopify_order('shopify_t', :'v3'), 'updated', 'v3 (newest) first: updated');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('450789469')$$,
                  $$VALUES (1, 'IPOD2008GREEN', 2, 2, 199.00), (2, 'IPOD2008RED', 1, 0, 199.00),
                           (4, NULL::text, 1, 0, 5.00)$$,
                  'green raised to 2 (allocated), black deleted, the new item is line 4 with no SKU');
SELECT results_eq($$SELECT line_item_id, line_no, removed FROM backorder.shopify_order_line
                     WHERE client_id = 'shopify_t' AND shopify_id = '450789469' ORDER BY line_no$$,
                  $$VALUES ('466157049'::text, 1, false), ('518995019', 2, false), ('703073504', 3, true),
                           ('1234567890123456789', 4, false)$$,
                  'the removed item keeps its line number, never reused');
SELECT is(pg_temp.open_holds('450789469'), ARRAY['out_of_stock', 'unknown_sku'],
          'still held: red is short, the new item has no SKU');
SELECT is((SELECT allocated FROM backorder.stock
            WHERE client_id = 'shopify_t' AND sku = 'IPOD2008GREEN' AND location_id = 'shopify_w1'),
          2::bigint, 'stock: 2 green allocated');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold after the line edits');

SELECT is(backorder.ingest_shopify_order('shopify_t', :'v2'), 'stale', 'v2 arriving after v3: stale');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('450789469')$$,
                  $$VALUES (1, 'IPOD2008GREEN', 2, 2, 199.00), (2, 'IPOD2008RED', 1, 0, 199.00),
                           (4, NULL::text, 1, 0, 5.00)$$,
                  'the stale v2 changed no line');
SELECT is(backorder.ingest_shopify_order('shopify_t', :'v3'), 'duplicate', 'v3 again: duplicate');

-- v5: the black item back (its old line number), green down to 1, current_quantity 0 removes red
SELECT jsonb_set(jsonb_set(o, '{updated_at}', '"2015-09-05T10:00:00-04:00"'),
                 '{line_items}',
                 jsonb_build_array(o -> 'line_items' -> 0,
                                   jsonb_set(o -> 'line_items' -> 1, '{current_quantity}', '0'),
                                   o -> 'line_items' -> 2,
                                   jsonb_build_object('id', 1234567890123456789, 'title', 'Gift wrap',
                                                      'quantity', 1, 'sku', 'IPOD2008PINK', 'price', '5.00'))) AS v5
  FROM (SELECT (:'res_close')::jsonb -> 'order' AS o) x \gset
SELECT is(backorder.ingest_shopify_order('shopify_t', :'v5'), 'updated', 'v5: updated');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('450789469')$$,
                  $$VALUES (1, 'IPOD2008GREEN', 1, 1, 199.00), (3, 'IPOD2008BLACK', 1, 0, 199.00),
                           (4, 'IPOD2008PINK', 1, 1, 5.00)$$,
                  'green back to 1, red removed (current_quantity 0), black back as line 3, the gift wrap got a SKU');
SELECT is(pg_temp.open_holds('450789469'), ARRAY['unknown_sku'], 'only the unknown black SKU holds it now');
SELECT is((SELECT allocated FROM backorder.stock
            WHERE client_id = 'shopify_t' AND sku = 'IPOD2008GREEN' AND location_id = 'shopify_w1'),
          1::bigint, 'the reduced green line freed one unit');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold after v5');

-- v6: cancelled in Shopify
SELECT jsonb_set(jsonb_set(o, '{updated_at}', '"2015-09-06T10:00:00-04:00"'),
                 '{cancelled_at}', '"2015-09-06T10:00:00-04:00"') AS v6
  FROM (SELECT (:'v5')::jsonb AS o) x \gset
SELECT is(backorder.ingest_shopify_order('shopify_t', :'v6'), 'cancelled', 'v6 with cancelled_at: cancelled');
SELECT is(pg_temp.status_of('450789469'), 'cancelled', 'the engine cancelled the order');
SELECT is(pg_temp.open_holds('450789469'), '{}'::text[], 'its holds are closed');
SELECT is((SELECT allocated FROM backorder.stock
            WHERE client_id = 'shopify_t' AND sku = 'IPOD2008GREEN' AND location_id = 'shopify_w1'),
          0::bigint, 'its units are back in stock');
SELECT is(backorder.ingest_shopify_order('shopify_t', :'v6'), 'duplicate', 'the cancellation re-delivered: duplicate');
SELECT is(backorder.ingest_shopify_order('shopify_t', jsonb_set((:'v6')::jsonb, '{updated_at}', '"2015-09-07T10:00:00-04:00"')),
          'closed', 'a newer payload for a cancelled order: recorded, order left as it is (closed)');
SELECT is((SELECT updated_at FROM backorder.shopify_order WHERE client_id = 'shopify_t' AND shopify_id = '450789469'),
          '2015-09-07 14:00:00+00'::timestamptz, '... and its version recorded');
SELECT is(pg_temp.status_of('450789469'), 'cancelled', '... still cancelled');
SELECT is((SELECT count(*) FROM backorder.order_event
            WHERE client_id = 'shopify_t' AND order_id = '450789469' AND event = 'cancelled'), 1::bigint,
          'one cancelled event');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold after the cancellation');

-- ---------------------------------------------------------------------------------------------
-- 4. res_create.json: an order for a SKU the catalog lacks; released once the catalog knows it.

SELECT is(backorder.ingest_shopify_order('shopify_t', :'res_create'), 'created', 'res_create.json: created');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('1073459962')$$,
                  $$VALUES (1, 'IPOD2009BLACK', 1, 0, 199.00)$$, 'the unknown SKU is kept on the line');
SELECT is(pg_temp.open_holds('1073459962'), ARRAY['unknown_sku'], 'held as unknown_sku');
INSERT INTO backorder.sku (client_id, sku) VALUES ('shopify_t', 'IPOD2009BLACK');
INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty, delta, reference)
VALUES ('shopify_t', 'IPOD2009BLACK', 'shopify_w1', 'receipt', 1, 0, 'PO-3');
SELECT ok(backorder.release_hold('shopify_t', '1073459962', 'unknown_sku'), 'the operator releases the unknown_sku hold');
SELECT is(pg_temp.status_of('1073459962'), 'ready', 'the order is ready');
SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold after the release');

-- an id at the top of the 20-digit range, and a SKU that is a JSON number
SELECT is(backorder.ingest_shopify_order('shopify_t',
          '{"id": 18446744073709551615, "updated_at": "2024-05-01T09:00:00Z",
            "line_items": [{"id": 18446744073709551614, "sku": 12345, "quantity": 2}]}'), 'created',
          'an order with id 2^64-1 is created');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('18446744073709551615')$$,
                  $$VALUES (1, '12345'::text, 2, 0, NULL::numeric)$$,
                  'its id and its numeric SKU are kept as text, digit for digit');
SELECT is((SELECT line_item_id FROM backorder.shopify_order_line
            WHERE client_id = 'shopify_t' AND shopify_id = '18446744073709551615'),
          '18446744073709551614', 'its line item id too');
SELECT is((SELECT placed_at FROM backorder.orders WHERE client_id = 'shopify_t' AND order_id = '18446744073709551615'),
          '2024-05-01 09:00:00+00'::timestamptz, 'without created_at, placed_at is updated_at');

-- line items without a "sku" key, with an empty SKU, with a SKU the catalog lacks: kept, held
SELECT is(backorder.ingest_shopify_order('shopify_t',
          '{"id": 5001, "updated_at": "2024-05-01T09:00:00Z",
            "line_items": [{"id": 1, "title": "Custom item", "quantity": 1},
                           {"id": 2, "sku": "", "quantity": 2},
                           {"id": 3, "sku": "NOT-IN-CATALOG", "quantity": 3},
                           {"id": 4, "sku": "IPOD2008PINK", "quantity": 1}]}'), 'created',
          'an order with SKU-less and unknown-SKU items is created');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('5001')$$,
                  $$VALUES (1, NULL::text, 1, 0, NULL::numeric), (2, NULL, 2, 0, NULL), (3, 'NOT-IN-CATALOG', 3, 0, NULL),
                           (4, 'IPOD2008PINK', 1, 1, NULL)$$,
                  'every item is kept as a line (no SKU: NULL), the known one allocated');
SELECT is(pg_temp.open_holds('5001'), ARRAY['unknown_sku'], 'held for review as unknown_sku, nothing dropped');

-- ---------------------------------------------------------------------------------------------
-- 5. Malformed payloads: SQLSTATE, a clear message, and nothing written.

SELECT pg_temp.footprint() AS before \gset

SELECT throws_ok(format('SELECT backorder.ingest_shopify_order(%L, %L)', 'shopify_t', :'req_create'),
                 '22023', 'shopify order has no valid id', 'req_create.json (an order without id): 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '[{"id": 1}]')$$,
                 '22023', 'shopify payload is not a JSON object', 'an array: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '"820982911946154508"')$$,
                 '22023', 'shopify payload is not a JSON object', 'a string: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"line_items": [{"id": 1, "sku": "A", "quantity": 1}]}')$$,
                 '22023', 'shopify order has no valid id', 'no id: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 8.5, "line_items": [{"id": 1, "sku": "A", "quantity": 1}]}')$$,
                 '22023', 'shopify order has no valid id', 'a fractional id: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": -7, "line_items": [{"id": 1, "sku": "A", "quantity": 1}]}')$$,
                 '22023', 'shopify order has no valid id', 'a negative id: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z"}')$$,
                 '22023', 'shopify order 7 has no line_items', 'no line_items: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": []}')$$,
                 '22023', 'shopify order 7 has no line_items', 'empty line_items: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": {"id": 1}}')$$,
                 '22023', 'shopify order 7 has no line_items', 'line_items not an array: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "A", "quantity": 0}]}')$$,
                 '22023', 'line item 1 of shopify order 7 has quantity 0, not a positive integer', 'quantity 0: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "A", "quantity": -2}]}')$$,
                 '22023', 'line item 1 of shopify order 7 has quantity -2, not a positive integer', 'negative quantity: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "A", "quantity": 1.5}]}')$$,
                 '22023', 'line item 1 of shopify order 7 has quantity 1.5, not a positive integer', 'fractional quantity: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "A", "quantity": "2"}]}')$$,
                 '22023', 'line item 1 of shopify order 7 has quantity "2", not a positive integer', 'quantity as a string: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "A"}]}')$$,
                 '22023', 'line item 1 of shopify order 7 has quantity missing, not a positive integer', 'no quantity: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "A", "quantity": 3000000000}]}')$$,
                 '22023', 'line item 1 of shopify order 7 has quantity 3000000000, not a positive integer', 'quantity beyond integer: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "IPOD2008GREEN", "quantity": 1}, {"id": 2, "sku": "A", "quantity": 1}, {"id": 3, "sku": "B", "quantity": 0}]}')$$,
                 '22023', 'line item 3 of shopify order 7 has quantity 0, not a positive integer', 'a bad third item rejects the whole order: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [17]}')$$,
                 '22023', 'line item 1 of shopify order 7 is not an object', 'an item that is not an object: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "A", "quantity": 1}, {"id": 1, "sku": "B", "quantity": 1}]}')$$,
                 '22023', 'shopify order 7 lists line item 1 twice', 'one item id twice: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "yesterday-ish", "line_items": [{"id": 1, "sku": "A", "quantity": 1}]}')$$,
                 '22023', 'shopify order field "updated_at" is not a timestamp: "yesterday-ish"', 'updated_at not a timestamp: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "created_at": 1700000000, "line_items": [{"id": 1, "sku": "A", "quantity": 1}]}')$$,
                 '22023', 'shopify order field "created_at" is not a timestamp string', 'created_at a number: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "line_items": [{"id": 1, "sku": "A", "quantity": 1}]}')$$,
                 '22023', 'shopify order 7 has neither updated_at nor created_at', 'no timestamp at all: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "A", "quantity": 1, "current_quantity": 0}]}')$$,
                 '22023', 'shopify order 7 has no line item left to fulfil', 'every item removed, not cancelled: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', NULL)$$,
                 '22004', 'ingest_shopify_order needs a client_id and a payload', 'a NULL payload: 22004');
SELECT throws_ok(format('SELECT backorder.ingest_shopify_order(NULL, %L)', :'res_create'),
                 '22004', 'ingest_shopify_order needs a client_id and a payload', 'a NULL client: 22004');
SELECT throws_ok(format('SELECT backorder.ingest_shopify_order(%L, %L)', 'shopify_nobody', :'res_create'),
                 '23503', 'client "shopify_nobody" does not exist', 'an unknown client: 23503');
SELECT is(pg_temp.footprint(), :'before', 'the rejected payloads wrote nothing');

-- every error carries a hint
CREATE FUNCTION pg_temp.hint_of(p_payload jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    PERFORM backorder.ingest_shopify_order('shopify_t', p_payload);
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END $$;
SELECT is(pg_temp.hint_of('{"id": 7, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "A", "quantity": 0}]}'),
          'A line item''s "quantity" is a JSON number of units, at least 1.', 'the quantity error says what to send');
SELECT is(pg_temp.hint_of('[1]'),
          'Pass the body of an orders/create or orders/updated webhook: one order object.', 'the shape error says what to send');
SELECT is(pg_temp.footprint(), :'before', 'still nothing written');

-- a cancelled order created with every item removed keeps its items as ordered
SELECT is(backorder.ingest_shopify_order('shopify_t',
          '{"id": 9, "updated_at": "2024-05-01T09:00:00Z", "cancelled_at": "2024-05-01T09:00:00Z",
            "line_items": [{"id": 1, "sku": "IPOD2008GREEN", "quantity": 2, "current_quantity": 0}]}'), 'cancelled',
          'created cancelled with every item removed: cancelled');
SELECT results_eq($$SELECT * FROM pg_temp.lines_of('9')$$, $$VALUES (1, 'IPOD2008GREEN', 2, 0, NULL::numeric)$$,
                  '... its item kept as first ordered');
-- a list response is not an order; an id another app already uses; strict ISO 8601 times;
-- prices of 3-decimal currencies rounded to cents (found by a fresh-user trial)
SELECT throws_ok(format('SELECT backorder.ingest_shopify_order(%L, %L)', 'shopify_t', :'res_list'),
                 '22023', 'shopify payload is a list of 1 orders, not one order', 'res_list.json as a whole: 22023');
INSERT INTO backorder.orders (client_id, order_id, location_id) VALUES ('shopify_t', '777', 'shopify_w1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('shopify_t', '777', 1, 'IPOD2008RED', 1);
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 777, "updated_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "IPOD2008RED", "quantity": 1}]}')$$,
                 '23505', 'order "777" of client "shopify_t" exists and did not come from Shopify',
                 'an id taken by another app''s order: 23505');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 778, "created_at": "2020-01-01 BC", "line_items": [{"id": 1, "sku": "IPOD2008RED", "quantity": 1}]}')$$,
                 '22023', 'shopify order field "created_at" is not a timestamp: "2020-01-01 BC"', 'a BC date: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 778, "created_at": "2020-01-01 allballs", "line_items": [{"id": 1, "sku": "IPOD2008RED", "quantity": 1}]}')$$,
                 '22023', 'shopify order field "created_at" is not a timestamp: "2020-01-01 allballs"', 'allballs: 22023');
SELECT is(backorder.ingest_shopify_order('shopify_t', '{"id": 779, "created_at": "2024-05-01T09:00:00.250+02:00", "line_items": [{"id": 1, "sku": "IPOD2008RED", "quantity": 1, "price": "12.345"}]}'),
          'created', 'fractional seconds and an offset are ISO 8601');
SELECT results_eq($$SELECT unit_price FROM pg_temp.lines_of('779')$$, $$VALUES (12.35::numeric)$$,
                  'a 3-decimal price is rounded to cents, not dropped');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 780, "created_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "IPOD2008RED", "quantity": 1, "price": "-5.00"}]}')$$,
                 '22023', 'line item 1 of shopify order 780 has price "-5.00", not a price', 'a negative price: 22023');
SELECT throws_ok($$SELECT backorder.ingest_shopify_order('shopify_t', '{"id": 780, "created_at": "2024-05-01T09:00:00Z", "line_items": [{"id": 1, "sku": "IPOD2008RED", "quantity": 1, "price": "9999999999.999"}]}')$$,
                 '22023', 'line item 1 of shopify order 780 has price "9999999999.999", not a price', 'a price beyond numeric(12,2): 22023');

-- A split order (client rule as_available): 5 X ordered, 3 in stock: 5002-S1 ships 3, 5002 keeps 2.
INSERT INTO backorder.client (client_id, split_rule) VALUES ('shopify_s', 'as_available');
INSERT INTO backorder.sku (client_id, sku) VALUES ('shopify_s', 'X');
SELECT backorder.receive('shopify_s', 'X', 'shopify_w1', 3) \g /dev/null
CREATE FUNCTION pg_temp.family() RETURNS TABLE (order_id text, status text, qty int, holds text) LANGUAGE sql AS $$
    SELECT o.order_id, o.status, l.qty,
           (SELECT string_agg(h.reason, ',' ORDER BY h.reason) FROM backorder.order_hold h
             WHERE h.client_id = o.client_id AND h.order_id = o.order_id AND h.released_at IS NULL)
      FROM backorder.orders o JOIN backorder.order_line l USING (client_id, order_id)
     WHERE o.client_id = 'shopify_s' ORDER BY o.order_id
$$;
SELECT is(backorder.ingest_shopify_order('shopify_s', '{"id": 5002, "created_at": "2024-03-02T10:00:00Z", "line_items": [{"id": 1, "sku": "X", "quantity": 5}]}'),
          'created', 'split family: created');
SELECT results_eq($$SELECT * FROM pg_temp.family()$$,
                  $$VALUES ('5002', 'needs_review', 2, 'out_of_stock'), ('5002-S1', 'ready', 3, NULL)$$,
                  'split family: 5002-S1 ships 3 now, 5002 keeps 2 held');
SELECT is(backorder.ingest_shopify_order('shopify_s', '{"id": 5002, "created_at": "2024-03-02T10:00:00Z", "updated_at": "2024-03-02T10:10:00Z", "line_items": [{"id": 1, "sku": "X", "quantity": 5, "price": "9.50"}]}'),
          'updated', 'split family: an update whose lines add up to the family''s: updated');
SELECT results_eq($$SELECT * FROM pg_temp.family()$$,
                  $$VALUES ('5002', 'needs_review', 2, 'out_of_stock'), ('5002-S1', 'ready', 3, NULL)$$,
                  'split family: ... the lines as they were');
SELECT results_eq($$SELECT order_id, unit_price FROM backorder.order_line WHERE client_id = 'shopify_s' ORDER BY 1$$,
                  $$VALUES ('5002', 9.50), ('5002-S1', 9.50)$$, 'split family: ... the new price on both orders');
SELECT is(backorder.ingest_shopify_order('shopify_s', '{"id": 5002, "created_at": "2024-03-02T10:00:00Z", "updated_at": "2024-03-02T10:30:00Z", "line_items": [{"id": 1, "sku": "X", "quantity": 5, "current_quantity": 4}]}'),
          'held', 'split family: an edit of its lines is not applied: held');
SELECT results_eq($$SELECT * FROM pg_temp.family()$$,
                  $$VALUES ('5002', 'needs_review', 2, 'out_of_stock,shopify_edit'),
                           ('5002-S1', 'needs_review', 3, 'shopify_edit')$$,
                  'split family: both orders held for review (shopify_edit), lines as they were');
SELECT is(backorder.ingest_shopify_order('shopify_s', '{"id": 5002, "created_at": "2024-03-02T10:00:00Z", "updated_at": "2024-03-02T10:30:00Z", "line_items": [{"id": 1, "sku": "X", "quantity": 5, "current_quantity": 4}]}'),
          'duplicate', 'split family: the edit delivered again: duplicate');
SELECT is(backorder.ingest_shopify_order('shopify_s', '{"id": 5002, "created_at": "2024-03-02T10:00:00Z", "updated_at": "2024-03-02T11:00:00Z", "cancelled_at": "2024-03-02T11:00:00Z", "line_items": [{"id": 1, "sku": "X", "quantity": 5, "current_quantity": 0}]}'),
          'cancelled', 'split family: a cancellation cancels every order of it');
SELECT results_eq($$SELECT order_id, status FROM backorder.orders WHERE client_id = 'shopify_s' ORDER BY 1$$,
                  $$VALUES ('5002', 'cancelled'), ('5002-S1', 'cancelled')$$, 'split family: both cancelled');
SELECT results_eq($$SELECT on_hand, allocated FROM backorder.stock WHERE client_id = 'shopify_s'$$,
                  $$VALUES (3::bigint, 0::bigint)$$, 'split family: its units are free again');
SELECT is(backorder.ingest_shopify_order('shopify_s', '{"id": 5002, "created_at": "2024-03-02T10:00:00Z", "updated_at": "2024-03-02T12:00:00Z", "line_items": [{"id": 1, "sku": "X", "quantity": 5}]}'),
          'closed', 'split family: a later payload for the closed family: closed');

SELECT is_empty($$SELECT * FROM backorder.check_invariants()$$, 'invariants hold at the end');

SELECT * FROM finish();
ROLLBACK;
