-- The catalog and inbound tables: validation with SQLSTATEs and hints, and orders kept
-- consistent when a SKU's status changes.
--
-- CHECK and FOREIGN KEY constraints cannot carry a hint, so BEFORE triggers check the same
-- rules first and raise the same SQLSTATE with a hint; the constraints stay as the last word.
-- Existence checks (an unknown client or SKU) run only where row-level security is not
-- active for the session: a tenant-bound session cannot see other clients' rows, and the
-- policy (42501) or the foreign key decides for it, as before.

CREATE FUNCTION backorder.catalog_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_TABLE_NAME = 'client' THEN
        IF NEW.client_id IS NULL OR NEW.client_id = '' OR length(NEW.client_id) > 64 THEN
            RAISE EXCEPTION 'client_id % is not 1 to 64 characters', coalesce(quote_literal(left(NEW.client_id, 80)), 'NULL')
                USING ERRCODE = CASE WHEN NEW.client_id IS NULL THEN 'not_null_violation' ELSE 'check_violation' END,
                      HINT = 'Give each client a key of 1 to 64 characters, such as ''acme''.';
        END IF;
        IF NEW.allocation_policy IS NULL OR NEW.allocation_policy NOT IN ('reserve', 'complete_only') THEN
            RAISE EXCEPTION 'unknown allocation policy %', coalesce(quote_literal(NEW.allocation_policy), 'NULL')
                USING ERRCODE = CASE WHEN NEW.allocation_policy IS NULL THEN 'not_null_violation' ELSE 'check_violation' END,
                      HINT = 'Use reserve (the default: arriving units go to the earliest waiting line) or complete_only (units go only to orders they complete).';
        END IF;
        IF NEW.sla_hours IS NULL OR NEW.sla_hours <= 0 THEN
            RAISE EXCEPTION 'sla_hours % is not a positive number of hours', coalesce(NEW.sla_hours::text, 'NULL')
                USING ERRCODE = CASE WHEN NEW.sla_hours IS NULL THEN 'not_null_violation' ELSE 'check_violation' END,
                      HINT = 'Give the hours from ready to shipped the warehouse promises, such as 24.';
        END IF;
    ELSIF TG_TABLE_NAME = 'location' THEN
        IF NEW.location_id IS NULL OR NEW.location_id = '' OR length(NEW.location_id) > 64 THEN
            RAISE EXCEPTION 'location_id % is not 1 to 64 characters', coalesce(quote_literal(left(NEW.location_id, 80)), 'NULL')
                USING ERRCODE = CASE WHEN NEW.location_id IS NULL THEN 'not_null_violation' ELSE 'check_violation' END,
                      HINT = 'Give each warehouse a key of 1 to 64 characters, such as ''east''.';
        END IF;
        IF NEW.priority IS NULL THEN
            RAISE EXCEPTION 'warehouse priority must not be null'
                USING ERRCODE = 'not_null_violation',
                      HINT = 'Give a number: the lower number is the preferred warehouse (default 100).';
        END IF;
    ELSIF TG_TABLE_NAME = 'sku' THEN
        IF NEW.client_id IS NULL THEN
            RAISE EXCEPTION 'client_id must not be null'
                USING ERRCODE = 'not_null_violation', HINT = 'Name a client from backorder.client.';
        END IF;
        IF NOT pg_catalog.row_security_active('backorder.client')
           AND NOT EXISTS (SELECT 1 FROM backorder.client c WHERE c.client_id = NEW.client_id) THEN
            RAISE EXCEPTION 'client "%" does not exist', left(NEW.client_id, 80)
                USING ERRCODE = 'foreign_key_violation', HINT = 'Insert it into backorder.client first.';
        END IF;
        IF NEW.sku IS NULL OR NEW.sku = '' OR length(NEW.sku) > 128 THEN
            RAISE EXCEPTION 'SKU % is not 1 to 128 characters', coalesce(quote_literal(left(NEW.sku, 80)), 'NULL')
                USING ERRCODE = CASE WHEN NEW.sku IS NULL THEN 'not_null_violation' ELSE 'check_violation' END,
                      HINT = 'Give the client''s SKU code, 1 to 128 characters.';
        END IF;
        IF NEW.status IS NULL OR NEW.status NOT IN ('active', 'discontinued') THEN
            RAISE EXCEPTION 'unknown SKU status %', coalesce(quote_literal(NEW.status), 'NULL')
                USING ERRCODE = CASE WHEN NEW.status IS NULL THEN 'not_null_violation' ELSE 'check_violation' END,
                      HINT = 'Use active or discontinued (set backorderable = false for a SKU that will not be restocked).';
        END IF;
        IF NEW.lead_time_days < 0 OR NEW.safety_stock < 0 OR NEW.unit_price < 0 OR NEW.unit_price = 'NaN' THEN
            RAISE EXCEPTION 'negative (or NaN) lead_time_days, safety_stock or unit_price for SKU "%"', left(NEW.sku, 80)
                USING ERRCODE = 'check_violation',
                      HINT = 'Give lead_time_days, safety_stock and unit_price as 0 or more (lead_time_days NULL when unknown).';
        END IF;
        IF NEW.weight_g <= 0 OR NEW.length_mm <= 0 OR NEW.width_mm <= 0 OR NEW.height_mm <= 0 THEN
            RAISE EXCEPTION 'weight or dimension of SKU "%" is not positive', left(NEW.sku, 80)
                USING ERRCODE = 'check_violation',
                      HINT = 'Give weight_g, length_mm, width_mm and height_mm as positive numbers, or NULL when unknown.';
        END IF;
    ELSIF TG_TABLE_NAME = 'inbound' THEN
        -- A received row is history: reopening it would let it be received twice.  Setting
        -- received_at on an open row by hand closes it without stock (a cancelled PO).
        IF TG_OP = 'UPDATE' AND OLD.received_at IS NOT NULL THEN
            RAISE EXCEPTION 'inbound row % was received at %; it cannot change', OLD.inbound_id, OLD.received_at
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Add a new inbound row for units still expected, or correct stock with backorder.adjust().';
        END IF;
        IF NEW.client_id IS NULL OR NEW.sku IS NULL OR NEW.location_id IS NULL OR NEW.expected_at IS NULL THEN
            RAISE EXCEPTION 'client_id, sku, location_id and expected_at of an inbound row must not be null'
                USING ERRCODE = 'not_null_violation',
                      HINT = 'Name the client, SKU and receiving warehouse, and the expected arrival date.';
        END IF;
        IF NOT isfinite(NEW.expected_at) THEN
            RAISE EXCEPTION 'inbound expected_at must be a date, not %', NEW.expected_at
                USING ERRCODE = 'datetime_field_overflow',
                      HINT = 'Give the day the units are expected; for a purchase order without a date, estimate it from the SKU''s lead time.';
        END IF;
        IF NEW.qty IS NULL OR NEW.qty <= 0 THEN
            RAISE EXCEPTION 'inbound quantity must be positive, not %', coalesce(NEW.qty::text, 'NULL')
                USING ERRCODE = CASE WHEN NEW.qty IS NULL THEN 'not_null_violation' ELSE 'check_violation' END,
                      HINT = 'Give qty as the positive number of units expected.';
        END IF;
        IF NEW.qty > 1000000000 THEN
            RAISE EXCEPTION 'inbound quantity % is out of range', NEW.qty
                USING ERRCODE = 'numeric_value_out_of_range',
                      HINT = 'One inbound row is received as one movement, at most 1000000000 units: split a larger shipment over several rows.';
        END IF;
        IF NOT pg_catalog.row_security_active('backorder.sku')
           AND NOT EXISTS (SELECT 1 FROM backorder.sku s WHERE s.client_id = NEW.client_id AND s.sku = NEW.sku) THEN
            RAISE EXCEPTION 'SKU "%" of client "%" is not in the catalog', left(NEW.sku, 80), left(NEW.client_id, 80)
                USING ERRCODE = 'foreign_key_violation', HINT = 'Insert the SKU into backorder.sku first.';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM backorder.location l WHERE l.location_id = NEW.location_id) THEN
            RAISE EXCEPTION 'location "%" does not exist', left(NEW.location_id, 80)
                USING ERRCODE = 'foreign_key_violation', HINT = 'Insert it into backorder.location first.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION backorder.catalog_validate() IS
    'Trigger on client, location, sku and inbound: refuses what their constraints refuse (23502, 23503, 23514), first, with a hint saying what to give instead; also an inbound row above one movement''s 1000000000 units (22003) and any change to a received one (55000).';

CREATE TRIGGER validate BEFORE INSERT OR UPDATE ON backorder.client
    FOR EACH ROW EXECUTE FUNCTION backorder.catalog_validate();
CREATE TRIGGER validate BEFORE INSERT OR UPDATE ON backorder.location
    FOR EACH ROW EXECUTE FUNCTION backorder.catalog_validate();
CREATE TRIGGER validate BEFORE INSERT OR UPDATE ON backorder.sku
    FOR EACH ROW EXECUTE FUNCTION backorder.catalog_validate();
CREATE TRIGGER validate BEFORE INSERT ON backorder.inbound
    FOR EACH ROW EXECUTE FUNCTION backorder.catalog_validate();
-- An update that only closes an open row (receive_inbound, a cancelled PO) changes nothing the
-- insert checked: the trigger runs when a received row is touched or a checked column changes.
CREATE TRIGGER validate_update BEFORE UPDATE ON backorder.inbound
    FOR EACH ROW WHEN (OLD.received_at IS NOT NULL
                       OR (NEW.client_id, NEW.sku, NEW.location_id, NEW.qty, NEW.expected_at)
                          IS DISTINCT FROM (OLD.client_id, OLD.sku, OLD.location_id, OLD.qty, OLD.expected_at))
    EXECUTE FUNCTION backorder.catalog_validate();

-- Deleting catalog rows that orders, stock or inbound still name, or changing their key: the
-- foreign keys refuse it (23503) without saying what to do instead, so this trigger says it
-- first.  A received inbound row is stock history and stays (55000); an open one may go (a
-- purchase order withdrawn).
CREATE FUNCTION backorder.catalog_validate_removal() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_done text := CASE WHEN TG_OP = 'DELETE' THEN 'deleted' ELSE 'renamed' END;
BEGIN
    IF TG_TABLE_NAME = 'inbound' THEN
        IF OLD.received_at IS NOT NULL THEN
            RAISE EXCEPTION 'inbound row % was received or closed at %; it cannot be deleted', OLD.inbound_id, OLD.received_at
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'A received row is stock history: correct stock with backorder.adjust() or backorder.count_stock().';
        END IF;
    ELSIF TG_TABLE_NAME = 'sku' THEN
        IF EXISTS (SELECT 1 FROM backorder.stock s WHERE s.client_id = OLD.client_id AND s.sku = OLD.sku)
           OR EXISTS (SELECT 1 FROM backorder.order_line l WHERE l.client_id = OLD.client_id AND l.sku = OLD.sku)
           OR EXISTS (SELECT 1 FROM backorder.inbound i WHERE i.client_id = OLD.client_id AND i.sku = OLD.sku) THEN
            RAISE EXCEPTION 'SKU "%" of client "%" has stock, orders or inbound; it cannot be %', left(OLD.sku, 80), left(OLD.client_id, 80), v_done
                USING ERRCODE = 'foreign_key_violation',
                      HINT = CASE WHEN TG_OP = 'DELETE'
                                  THEN 'Set status = ''discontinued'' (and backorderable = false) instead: its history stays and new orders for it are held.'
                                  ELSE 'Insert the new code as a SKU of its own, move stock with adjustments, and discontinue the old one.' END;
        END IF;
    ELSIF TG_TABLE_NAME = 'location' THEN
        IF EXISTS (SELECT 1 FROM backorder.stock s WHERE s.location_id = OLD.location_id)
           OR EXISTS (SELECT 1 FROM backorder.orders o WHERE o.location_id = OLD.location_id)
           OR EXISTS (SELECT 1 FROM backorder.inbound i WHERE i.location_id = OLD.location_id) THEN
            RAISE EXCEPTION 'warehouse "%" has stock, orders or inbound; it cannot be %', left(OLD.location_id, 80), v_done
                USING ERRCODE = 'foreign_key_violation',
                      HINT = CASE WHEN TG_OP = 'DELETE'
                                  THEN 'Give it a high priority number so orders are placed elsewhere, and move its stock with adjustments.'
                                  ELSE 'A warehouse key is history: change its name column instead, or insert the new warehouse and give the old one a high priority number.' END;
        END IF;
    ELSIF TG_TABLE_NAME = 'client' THEN
        IF EXISTS (SELECT 1 FROM backorder.sku s WHERE s.client_id = OLD.client_id)
           OR EXISTS (SELECT 1 FROM backorder.orders o WHERE o.client_id = OLD.client_id) THEN
            RAISE EXCEPTION 'client "%" has SKUs or orders; it cannot be %', left(OLD.client_id, 80), v_done
                USING ERRCODE = 'foreign_key_violation',
                      HINT = CASE WHEN TG_OP = 'DELETE'
                                  THEN 'A client with history stays; cancel its open orders with backorder.cancel_order() instead.'
                                  ELSE 'A client key is history: change its name column instead.' END;
        END IF;
        -- Its settings and the roles bound to it name it without a foreign key: left behind,
        -- they would apply to (and let those roles see) a later client of the same id.
        IF EXISTS (SELECT 1 FROM backorder.client_sla x WHERE x.client_id = OLD.client_id)
           OR EXISTS (SELECT 1 FROM backorder.client_holiday x WHERE x.client_id = OLD.client_id)
           OR EXISTS (SELECT 1 FROM backorder.client_role x WHERE x.client_id = OLD.client_id)
           OR EXISTS (SELECT 1 FROM backorder.client_forecast_setting x WHERE x.client_id = OLD.client_id) THEN
            RAISE EXCEPTION 'client "%" has settings or roles; it cannot be %', left(OLD.client_id, 80), v_done
                USING ERRCODE = 'foreign_key_violation',
                      HINT = 'Delete its rows in backorder.client_sla, client_holiday, client_role and client_forecast_setting first.';
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION backorder.catalog_validate_removal() IS
    'Trigger on client, location, sku and inbound: refuses deleting, or changing the key of, a row that orders, stock or inbound still name (23503), and deleting a received inbound row (55000), with a hint saying what to do instead.';
CREATE TRIGGER validate_delete BEFORE DELETE ON backorder.client
    FOR EACH ROW EXECUTE FUNCTION backorder.catalog_validate_removal();
CREATE TRIGGER validate_delete BEFORE DELETE ON backorder.location
    FOR EACH ROW EXECUTE FUNCTION backorder.catalog_validate_removal();
CREATE TRIGGER validate_delete BEFORE DELETE ON backorder.sku
    FOR EACH ROW EXECUTE FUNCTION backorder.catalog_validate_removal();
CREATE TRIGGER validate_delete BEFORE DELETE ON backorder.inbound
    FOR EACH ROW EXECUTE FUNCTION backorder.catalog_validate_removal();
CREATE TRIGGER validate_key BEFORE UPDATE OF client_id ON backorder.client
    FOR EACH ROW WHEN (OLD.client_id IS DISTINCT FROM NEW.client_id)
    EXECUTE FUNCTION backorder.catalog_validate_removal();
CREATE TRIGGER validate_key BEFORE UPDATE OF location_id ON backorder.location
    FOR EACH ROW WHEN (OLD.location_id IS DISTINCT FROM NEW.location_id)
    EXECUTE FUNCTION backorder.catalog_validate_removal();
CREATE TRIGGER validate_key BEFORE UPDATE OF client_id, sku ON backorder.sku
    FOR EACH ROW WHEN (OLD.client_id IS DISTINCT FROM NEW.client_id OR OLD.sku IS DISTINCT FROM NEW.sku)
    EXECUTE FUNCTION backorder.catalog_validate_removal();

-- A SKU discontinued (or made active again, or its backorderable flag flipped) changes the
-- inventory hold its short lines call for: discontinued instead of out_of_stock, or back.
-- The open orders waiting for it are settled again at commit (src/deferred_settle.c).
CREATE FUNCTION backorder.sku_changed() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_sku_changed';
COMMENT ON FUNCTION backorder.sku_changed() IS
    'Trigger on sku: a new status or backorderable flag settles the open orders waiting for the SKU again at commit, so their holds follow the catalog (invariant 4).';
-- Like an edit of existing orders, a real change takes the edit lock exclusively first (README,
-- Locking): an order evaluated meanwhile by another transaction would miss it.  (Per row, with
-- the same condition: a catalog sync that rewrites unchanged rows takes nothing.)
CREATE TRIGGER edit_lock BEFORE UPDATE OF status, backorderable ON backorder.sku
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.backorderable IS DISTINCT FROM NEW.backorderable)
    EXECUTE FUNCTION backorder.guard_statement();
CREATE TRIGGER sku_changed AFTER UPDATE OF status, backorderable ON backorder.sku
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.backorderable IS DISTINCT FROM NEW.backorderable)
    EXECUTE FUNCTION backorder.sku_changed();

-- A client switched to reserve: free units may no longer wait beside waiting lines
-- (invariant 5), so they are served at once (src/deferred_settle.c).  A switch to
-- complete_only changes nothing that is allocated.
CREATE FUNCTION backorder.policy_changed() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'backorder_policy_changed';
COMMENT ON FUNCTION backorder.policy_changed() IS
    'Trigger on client: a switch to the reserve policy serves the client''s waiting lines from units left free under complete_only (invariant 5).';
CREATE TRIGGER edit_lock BEFORE UPDATE OF allocation_policy ON backorder.client
    FOR EACH ROW
    WHEN (OLD.allocation_policy IS DISTINCT FROM NEW.allocation_policy AND NEW.allocation_policy = 'reserve')
    EXECUTE FUNCTION backorder.guard_statement();
CREATE TRIGGER policy_changed AFTER UPDATE OF allocation_policy ON backorder.client
    FOR EACH ROW
    WHEN (OLD.allocation_policy IS DISTINCT FROM NEW.allocation_policy AND NEW.allocation_policy = 'reserve')
    EXECUTE FUNCTION backorder.policy_changed();
