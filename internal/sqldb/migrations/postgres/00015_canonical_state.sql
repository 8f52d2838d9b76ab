-- What the last canonical rebuild read, so that the next one can tell
-- whether anything changed since (see RebuildCanonical): the snapshot taken
-- before it read the listings (pg_current_snapshot() as text) and the
-- account order it ranked them in. One row.

-- +goose Up
CREATE TABLE magflow_canonical_state (
    id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    snapshot      TEXT    NOT NULL,
    account_order TEXT    NOT NULL,
    rebuilt_at    TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE magflow_canonical_state;
