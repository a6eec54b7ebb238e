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
