-- The shared rate-limit ledger of PostgreSQL (magflow_rate_grants). SQLite
-- serves one process, whose in-process limiter is exact, so the table stays
-- empty here; it exists to keep both schemas alike.

-- +goose Up
CREATE TABLE magflow_rate_grants (
    key        TEXT PRIMARY KEY,
    grants     TEXT NOT NULL DEFAULT '[]',
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- +goose Down
DROP TABLE magflow_rate_grants;
