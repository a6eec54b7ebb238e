-- Data set of the mixed-concurrency bench (bench/mixed/run.sh): two clients (one per
-- allocation policy), two warehouses, a hot set of 6 SKUs per client so that sessions
-- collide all the time, some stock to start with.
SET backorder.now = '2024-03-01 09:00+00';
INSERT INTO backorder.client (client_id, name, allocation_policy) VALUES
    ('b1', 'Bench reserve', 'reserve'), ('b2', 'Bench complete_only', 'complete_only');
INSERT INTO backorder.location (location_id, name, priority) VALUES ('e1', 'East', 1), ('e2', 'West', 2);
INSERT INTO backorder.sku (client_id, sku)
SELECT c, 'H' || s FROM unnest(ARRAY['b1', 'b2']) c, generate_series(1, 6) s;
INSERT INTO backorder.stock_movement (client_id, sku, location_id, kind, qty)
SELECT c, 'H' || s, l, 'receipt', 20
  FROM unnest(ARRAY['b1', 'b2']) c, generate_series(1, 6) s, unnest(ARRAY['e1', 'e2']) l
 ORDER BY 1, 2, 3;

-- The bench's own helpers (schema bench, not part of the extension).
CREATE SCHEMA bench;
CREATE SEQUENCE bench.order_seq;
-- Outcomes the app expects under concurrency and handles (no engine error): one row each.
CREATE UNLOGGED TABLE bench.outcome (op text NOT NULL, outcome text NOT NULL);

-- Ship / cancel an order another session may have shipped, cancelled or (by a count's
-- take-back) sent back to needs_review since we picked it: the engine answers 55000
-- (object_not_in_prerequisite_state) with a hint; an app treats it as "someone else got
-- there first".  Every other error propagates and aborts the pgbench client.
CREATE FUNCTION bench.try_ship(p_client text, p_order text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT backorder.ship_order(p_client, p_order) THEN
        INSERT INTO bench.outcome VALUES ('ship', 'already shipped');
    END IF;
EXCEPTION WHEN object_not_in_prerequisite_state THEN
    INSERT INTO bench.outcome VALUES ('ship', 'not ready any more');
END $$;
CREATE FUNCTION bench.try_cancel(p_client text, p_order text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT backorder.cancel_order(p_client, p_order) THEN
        INSERT INTO bench.outcome VALUES ('cancel', 'already cancelled');
    END IF;
EXCEPTION WHEN object_not_in_prerequisite_state THEN
    INSERT INTO bench.outcome VALUES ('cancel', 'shipped meanwhile');
END $$;
