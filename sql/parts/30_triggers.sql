-- Triggers.  Order of firing within a table is alphabetical by name.

-- Guards: validation with errhints, engine-maintained columns, the ledger is insert-only.
CREATE TRIGGER guard BEFORE INSERT OR UPDATE OR DELETE ON backorder.orders
    FOR EACH ROW EXECUTE FUNCTION backorder.guard_row();
CREATE TRIGGER guard BEFORE INSERT OR UPDATE OR DELETE ON backorder.order_line
    FOR EACH ROW EXECUTE FUNCTION backorder.guard_row();
CREATE TRIGGER guard BEFORE INSERT OR UPDATE OR DELETE ON backorder.stock
    FOR EACH ROW EXECUTE FUNCTION backorder.guard_row();
CREATE TRIGGER guard BEFORE INSERT OR UPDATE OR DELETE ON backorder.order_hold
    FOR EACH ROW EXECUTE FUNCTION backorder.guard_row();
CREATE TRIGGER guard BEFORE INSERT OR UPDATE OR DELETE ON backorder.order_event
    FOR EACH ROW EXECUTE FUNCTION backorder.guard_row();
CREATE TRIGGER guard BEFORE UPDATE OR DELETE ON backorder.stock_movement
    FOR EACH ROW EXECUTE FUNCTION backorder.guard_row();
CREATE TRIGGER guard_truncate BEFORE TRUNCATE ON backorder.stock_movement
    FOR EACH STATEMENT EXECUTE FUNCTION backorder.guard_statement();
-- Stock rows and orders are never removed: every ledger row has its stock row, every line its
-- order (10_tables.sql: no foreign keys say so).
CREATE TRIGGER guard_truncate BEFORE TRUNCATE ON backorder.stock
    FOR EACH STATEMENT EXECUTE FUNCTION backorder.guard_statement();
CREATE TRIGGER guard_truncate BEFORE TRUNCATE ON backorder.orders
    FOR EACH STATEMENT EXECUTE FUNCTION backorder.guard_statement();

-- A new priority or placed_at moves the order's waiting lines in the queue.
CREATE TRIGGER queue_position AFTER UPDATE OF priority, placed_at ON backorder.orders
    FOR EACH ROW EXECUTE FUNCTION backorder.guard_row();

-- Statements that edit existing orders take the edit lock before any row lock.
CREATE TRIGGER edit_lock BEFORE UPDATE OR DELETE ON backorder.orders
    FOR EACH STATEMENT EXECUTE FUNCTION backorder.guard_statement();
CREATE TRIGGER edit_lock BEFORE UPDATE OR DELETE ON backorder.order_line
    FOR EACH STATEMENT EXECUTE FUNCTION backorder.guard_statement();

-- Intake: each touched order is evaluated once, at commit.
CREATE CONSTRAINT TRIGGER intake AFTER INSERT ON backorder.orders
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION backorder.intake();
CREATE CONSTRAINT TRIGGER intake AFTER INSERT OR UPDATE OF qty, sku OR DELETE ON backorder.order_line
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION backorder.intake();

-- The ledger.
CREATE TRIGGER ledger BEFORE INSERT ON backorder.stock_movement
    FOR EACH ROW EXECUTE FUNCTION backorder.ledger();

-- Settling touched orders, once per transaction, at commit.
CREATE CONSTRAINT TRIGGER settle AFTER INSERT ON backorder.settle_request
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION backorder.settle();

-- Daily demand for forecasting: only changes of a line's contribution reach the trigger
-- (a line is demand while allocated > 0, shipped > 0 or waiting; src/demand_summary.c).
CREATE TRIGGER demand_summary AFTER INSERT ON backorder.order_line
    FOR EACH ROW WHEN (NEW.placed_at IS NOT NULL AND (NEW.allocated > 0 OR NEW.shipped > 0 OR NEW.waiting))
    EXECUTE FUNCTION backorder.demand_summary();
CREATE TRIGGER demand_summary_delete AFTER DELETE ON backorder.order_line
    FOR EACH ROW WHEN (OLD.placed_at IS NOT NULL AND (OLD.allocated > 0 OR OLD.shipped > 0 OR OLD.waiting))
    EXECUTE FUNCTION backorder.demand_summary();
CREATE TRIGGER demand_summary_update AFTER UPDATE ON backorder.order_line
    FOR EACH ROW WHEN ((OLD.sku, OLD.qty, OLD.location_id, OLD.placed_at,
                        OLD.allocated > 0 OR OLD.shipped > 0 OR OLD.waiting)
                       IS DISTINCT FROM
                       (NEW.sku, NEW.qty, NEW.location_id, NEW.placed_at,
                        NEW.allocated > 0 OR NEW.shipped > 0 OR NEW.waiting))
    EXECUTE FUNCTION backorder.demand_summary();
CREATE TRIGGER guard BEFORE INSERT OR UPDATE OR DELETE ON backorder.demand_summary
    FOR EACH ROW EXECUTE FUNCTION backorder.guard_row();
CREATE TRIGGER guard BEFORE INSERT OR UPDATE OR DELETE ON backorder.demand_summary_zone
    FOR EACH ROW EXECUTE FUNCTION backorder.guard_row();
