-- The process that owns a running run, "host:pid": a run left running by a
-- process that died on this host is taken over at once instead of after the
-- heartbeat lease.

-- +goose Up
ALTER TABLE emag_sync_logs ADD COLUMN owner TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE emag_sync_logs DROP COLUMN owner;
