-- Times in SQLite's own text format (internal/sqldb/times.go): every
-- connection now writes "2026-11-29 10:12:23.525665+00:00", which SQLite's
-- date and time functions read, where the driver wrote time.Time.String
-- ("2026-11-29 10:12:23.525665 +0000 UTC", NULL to those functions). The
-- stored times move to the new text, in UTC, so that comparisons and sorts of
-- the text stay right (text with another zone, which a DATABASE_URL could
-- once ask for, moves to UTC too). magflow_sqlite_time and magflow_go_time
-- are Go functions MagFlow registers with the driver (times.go); text
-- without a zone is left as it is. The change-counter triggers fire on the checkpoints' and
-- users' rewritten rows: a read model reloads once.

-- +goose Up
UPDATE emag_products SET first_seen_at = magflow_sqlite_time(first_seen_at), last_seen_at = magflow_sqlite_time(last_seen_at), gone_at = magflow_sqlite_time(gone_at), updated_at = magflow_sqlite_time(updated_at);
UPDATE emag_product_offers SET first_seen_at = magflow_sqlite_time(first_seen_at), last_seen_at = magflow_sqlite_time(last_seen_at), gone_at = magflow_sqlite_time(gone_at), updated_at = magflow_sqlite_time(updated_at);
UPDATE emag_orders SET date = magflow_sqlite_time(date), modified = magflow_sqlite_time(modified), first_seen_at = magflow_sqlite_time(first_seen_at), last_seen_at = magflow_sqlite_time(last_seen_at), updated_at = magflow_sqlite_time(updated_at);
UPDATE emag_sync_logs SET started_at = magflow_sqlite_time(started_at), heartbeat_at = magflow_sqlite_time(heartbeat_at), finished_at = magflow_sqlite_time(finished_at);
UPDATE emag_sync_progress SET updated_at = magflow_sqlite_time(updated_at);
UPDATE emag_sync_checkpoints SET order_cursor = magflow_sqlite_time(order_cursor), last_complete_at = magflow_sqlite_time(last_complete_at), updated_at = magflow_sqlite_time(updated_at);
UPDATE emag_sync_holes SET created_at = magflow_sqlite_time(created_at), updated_at = magflow_sqlite_time(updated_at), resolved_at = magflow_sqlite_time(resolved_at);
UPDATE emag_canonical_products SET updated_at = magflow_sqlite_time(updated_at);
UPDATE users SET created_at = magflow_sqlite_time(created_at);
UPDATE settings SET updated_at = magflow_sqlite_time(updated_at);
UPDATE emag_outbox SET created_at = magflow_sqlite_time(created_at), updated_at = magflow_sqlite_time(updated_at), next_at = magflow_sqlite_time(next_at), sent_at = magflow_sqlite_time(sent_at), done_at = magflow_sqlite_time(done_at);
UPDATE emag_outbox_leases SET expires_at = magflow_sqlite_time(expires_at);

-- +goose Down
UPDATE emag_products SET first_seen_at = magflow_go_time(first_seen_at), last_seen_at = magflow_go_time(last_seen_at), gone_at = magflow_go_time(gone_at), updated_at = magflow_go_time(updated_at);
UPDATE emag_product_offers SET first_seen_at = magflow_go_time(first_seen_at), last_seen_at = magflow_go_time(last_seen_at), gone_at = magflow_go_time(gone_at), updated_at = magflow_go_time(updated_at);
UPDATE emag_orders SET date = magflow_go_time(date), modified = magflow_go_time(modified), first_seen_at = magflow_go_time(first_seen_at), last_seen_at = magflow_go_time(last_seen_at), updated_at = magflow_go_time(updated_at);
UPDATE emag_sync_logs SET started_at = magflow_go_time(started_at), heartbeat_at = magflow_go_time(heartbeat_at), finished_at = magflow_go_time(finished_at);
UPDATE emag_sync_progress SET updated_at = magflow_go_time(updated_at);
UPDATE emag_sync_checkpoints SET order_cursor = magflow_go_time(order_cursor), last_complete_at = magflow_go_time(last_complete_at), updated_at = magflow_go_time(updated_at);
UPDATE emag_sync_holes SET created_at = magflow_go_time(created_at), updated_at = magflow_go_time(updated_at), resolved_at = magflow_go_time(resolved_at);
UPDATE emag_canonical_products SET updated_at = magflow_go_time(updated_at);
UPDATE users SET created_at = magflow_go_time(created_at);
UPDATE settings SET updated_at = magflow_go_time(updated_at);
UPDATE emag_outbox SET created_at = magflow_go_time(created_at), updated_at = magflow_go_time(updated_at), next_at = magflow_go_time(next_at), sent_at = magflow_go_time(sent_at), done_at = magflow_go_time(done_at);
UPDATE emag_outbox_leases SET expires_at = magflow_go_time(expires_at);
