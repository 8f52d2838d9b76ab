-- Change counters for the in-memory read models of magflow serve
-- (internal/catalog): catalog moves whenever a product, an offer, a
-- canonical row or an account's last complete scan (which the product list
-- shows as last_seen_at) changes; users whenever a user row does. A model
-- reads them in the snapshot it loads from and, per request, compares (one
-- single-row read).
--
-- Products, offers and canonical rows: the store's writers (ApplyProductPage,
-- RebuildCanonical, the outbox's applied offer changes) move the counter
-- once per transaction (sqldb catalogChanged), so writers in any process
-- count. SQLite has no statement-level triggers, and a row trigger's UPDATE
-- for every product and offer row cost a first sync's page writes 10-30%
-- (BenchmarkStoreWrites, 2 x 50,000 products: 18.4-18.7 s with them,
-- 12.9-16.3 s without). The last complete scan (a few rows per sync) and
-- users keep triggers.

-- +goose Up
CREATE TABLE magflow_change_counters (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    catalog INTEGER NOT NULL DEFAULT 0,
    users   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO magflow_change_counters (id, catalog, users) VALUES (1, 0, 0);

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
DROP TRIGGER magflow_cc_scans_ins;
DROP TRIGGER magflow_cc_scans_upd;
DROP TRIGGER magflow_cc_scans_del;
DROP TRIGGER magflow_cc_users_ins;
DROP TRIGGER magflow_cc_users_upd;
DROP TRIGGER magflow_cc_users_del;
DROP TABLE magflow_change_counters;
