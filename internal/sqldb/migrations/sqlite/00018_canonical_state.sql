-- What the last canonical rebuild read, so that the next one can tell
-- whether anything changed since (see RebuildCanonical), as on PostgreSQL
-- (its migration 00015): here the canon change counter, which every writer
-- of products and offers (pages, offer changes applied through the outbox,
-- gone-marking) moves once per transaction, and the account order the
-- listings were ranked in. One row.

-- +goose Up
ALTER TABLE magflow_change_counters ADD COLUMN canon INTEGER NOT NULL DEFAULT 0;
CREATE TABLE magflow_canonical_state (
    id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    snapshot      TEXT    NOT NULL,
    account_order TEXT    NOT NULL,
    rebuilt_at    DATETIME NOT NULL
);

-- +goose Down
DROP TABLE magflow_canonical_state;
ALTER TABLE magflow_change_counters DROP COLUMN canon;
