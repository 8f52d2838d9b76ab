-- Change notifications for the in-memory read models of magflow serve
-- (internal/catalog). Statement-level triggers send pg_notify on channel
-- magflow_changes, delivered when the writing transaction commits (and not
-- at all when it rolls back), from any process: payload 'catalog:<schema>'
-- when products, offers, canonical rows or an account's last complete scan
-- (shown as last_seen_at) changed, 'users:<schema>' when a user row did.
-- No counter row is updated: concurrent page transactions would queue on
-- its lock.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION magflow_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('magflow_changes', TG_ARGV[0] || ':' || current_schema());
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER magflow_cc_products AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON emag_products
    FOR EACH STATEMENT EXECUTE FUNCTION magflow_notify_change('catalog');
CREATE TRIGGER magflow_cc_offers AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON emag_product_offers
    FOR EACH STATEMENT EXECUTE FUNCTION magflow_notify_change('catalog');
CREATE TRIGGER magflow_cc_canonical AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON emag_canonical_products
    FOR EACH STATEMENT EXECUTE FUNCTION magflow_notify_change('catalog');
-- Checkpoints are written with every page: only a change of the last
-- complete scan notifies (row level, one row per page).
CREATE TRIGGER magflow_cc_scans_ins AFTER INSERT ON emag_sync_checkpoints
    FOR EACH ROW WHEN (NEW.last_complete_at IS NOT NULL) EXECUTE FUNCTION magflow_notify_change('catalog');
CREATE TRIGGER magflow_cc_scans_upd AFTER UPDATE ON emag_sync_checkpoints
    FOR EACH ROW WHEN (OLD.last_complete_at IS DISTINCT FROM NEW.last_complete_at) EXECUTE FUNCTION magflow_notify_change('catalog');
CREATE TRIGGER magflow_cc_scans_del AFTER DELETE ON emag_sync_checkpoints
    FOR EACH ROW WHEN (OLD.last_complete_at IS NOT NULL) EXECUTE FUNCTION magflow_notify_change('catalog');
CREATE TRIGGER magflow_cc_users AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION magflow_notify_change('users');

-- +goose Down
DROP TRIGGER magflow_cc_products ON emag_products;
DROP TRIGGER magflow_cc_offers ON emag_product_offers;
DROP TRIGGER magflow_cc_canonical ON emag_canonical_products;
DROP TRIGGER magflow_cc_scans_ins ON emag_sync_checkpoints;
DROP TRIGGER magflow_cc_scans_upd ON emag_sync_checkpoints;
DROP TRIGGER magflow_cc_scans_del ON emag_sync_checkpoints;
DROP TRIGGER magflow_cc_users ON users;
DROP FUNCTION magflow_notify_change();
