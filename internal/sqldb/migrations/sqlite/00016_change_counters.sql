-- Change counters for the in-memory read models of magflow serve
-- (internal/catalog): catalog moves whenever a product, an offer, a
-- canonical row or an account's last complete scan (which the product list
-- shows as last_seen_at) changes; users whenever a user row does. Triggers
-- keep them, so writers in any process (a CLI sync beside magflow serve)
-- move them too; a model reads them in the snapshot it loads from and, per
-- request, compares (one single-row read).

-- +goose Up
CREATE TABLE magflow_change_counters (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    catalog INTEGER NOT NULL DEFAULT 0,
    users   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO magflow_change_counters (id, catalog, users) VALUES (1, 0, 0);

-- +goose StatementBegin
CREATE TRIGGER magflow_cc_products_ins AFTER INSERT ON emag_products
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_products_upd AFTER UPDATE ON emag_products
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_products_del AFTER DELETE ON emag_products
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_offers_ins AFTER INSERT ON emag_product_offers
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_offers_upd AFTER UPDATE ON emag_product_offers
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_offers_del AFTER DELETE ON emag_product_offers
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_canonical_ins AFTER INSERT ON emag_canonical_products
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_canonical_upd AFTER UPDATE ON emag_canonical_products
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_canonical_del AFTER DELETE ON emag_canonical_products
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_scans_ins AFTER INSERT ON emag_sync_checkpoints WHEN NEW.last_complete_at IS NOT NULL
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_scans_upd AFTER UPDATE ON emag_sync_checkpoints WHEN OLD.last_complete_at IS NOT NEW.last_complete_at
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_scans_del AFTER DELETE ON emag_sync_checkpoints WHEN OLD.last_complete_at IS NOT NULL
BEGIN UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_users_ins AFTER INSERT ON users
BEGIN UPDATE magflow_change_counters SET users = users + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_users_upd AFTER UPDATE ON users
BEGIN UPDATE magflow_change_counters SET users = users + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER magflow_cc_users_del AFTER DELETE ON users
BEGIN UPDATE magflow_change_counters SET users = users + 1 WHERE id = 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER magflow_cc_products_ins;
DROP TRIGGER magflow_cc_products_upd;
DROP TRIGGER magflow_cc_products_del;
DROP TRIGGER magflow_cc_offers_ins;
DROP TRIGGER magflow_cc_offers_upd;
DROP TRIGGER magflow_cc_offers_del;
DROP TRIGGER magflow_cc_canonical_ins;
DROP TRIGGER magflow_cc_canonical_upd;
DROP TRIGGER magflow_cc_canonical_del;
DROP TRIGGER magflow_cc_scans_ins;
DROP TRIGGER magflow_cc_scans_upd;
DROP TRIGGER magflow_cc_scans_del;
DROP TRIGGER magflow_cc_users_ins;
DROP TRIGGER magflow_cc_users_upd;
DROP TRIGGER magflow_cc_users_del;
DROP TABLE magflow_change_counters;
