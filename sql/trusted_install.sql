-- pg_backorder is a trusted extension: a role that is not a superuser but may
-- create objects in the database can install it and use it.
DROP EXTENSION pg_backorder;
CREATE ROLE shop_owner LOGIN;
CREATE ROLE shop_c1_app IN ROLE backorder_app;
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO shop_owner', current_database()); END $$;
SET ROLE shop_owner;
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;
CREATE EXTENSION pg_backorder;
SET backorder.now = '2024-01-01 10:00+00';
INSERT INTO backorder.client (client_id) VALUES ('c1');
INSERT INTO backorder.location (location_id) VALUES ('w1');
INSERT INTO backorder.sku (client_id, sku) VALUES ('c1', 'A');
SELECT backorder.receive('c1', 'A', 'w1', 2);
BEGIN;
INSERT INTO backorder.orders (client_id, order_id) VALUES ('c1', 'O1');
INSERT INTO backorder.order_line (client_id, order_id, line_no, sku, qty) VALUES ('c1', 'O1', 1, 'A', 3);
COMMIT;
SELECT order_id, status FROM backorder.orders;
SELECT backorder.receive('c1', 'A', 'w1', 1);
SELECT order_id, status FROM backorder.orders;
-- The installing role binds app roles to clients (row-level security lets it administer them).
INSERT INTO backorder.client_role (client_id, role_name) VALUES ('c1', 'shop_c1_app');
SELECT client_id, role_name FROM backorder.client_role;
-- The guards hold for the installing role too.
UPDATE backorder.stock SET on_hand = 100;
TRUNCATE backorder.stock;
SELECT * FROM backorder.check_invariants();
-- Leave the database as the other tests expect it.
RESET ROLE;
DROP EXTENSION pg_backorder;
DO $$ BEGIN EXECUTE format('REVOKE CREATE ON DATABASE %I FROM shop_owner', current_database()); END $$;
-- CREATE EXTENSION made the schema; it is not a member of the extension.
DROP SCHEMA backorder;
DROP ROLE shop_owner;
DROP ROLE shop_c1_app;
CREATE EXTENSION pg_backorder;
