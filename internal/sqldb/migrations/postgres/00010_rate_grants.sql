-- One eMAG rate budget per account and bucket shared by every process
-- (ratelimit.Store): a row per key holds the times of its latest grants,
-- and magflow_rate_take reserves the next slot under the row's lock in one
-- round trip. See internal/sqldb/ratelimit_store.go.

-- +goose Up
CREATE TABLE magflow_rate_grants (
    key        TEXT PRIMARY KEY,
    grants     TIMESTAMPTZ[] NOT NULL DEFAULT '{}',
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose StatementBegin
CREATE FUNCTION magflow_rate_take(p_key TEXT, p_n INT[], p_per_us BIGINT[], OUT grant_at TIMESTAMPTZ, OUT server_now TIMESTAMPTZ)
LANGUAGE plpgsql AS $$
DECLARE
    g    TIMESTAMPTZ[];
    n    INT;
    keep INT := 0;
    i    INT;
BEGIN
    INSERT INTO magflow_rate_grants (key) VALUES (p_key) ON CONFLICT (key) DO NOTHING;
    SELECT grants INTO g FROM magflow_rate_grants WHERE key = p_key FOR UPDATE;
    -- Read the clock once the row is ours, so that grants of one key are
    -- handed out in the order their reservations commit.
    server_now := clock_timestamp();
    grant_at := server_now;
    n := coalesce(array_length(g, 1), 0);
    IF n > 0 AND g[n] > grant_at THEN
        grant_at := g[n];
    END IF;
    FOR i IN 1 .. coalesce(array_length(p_n, 1), 0) LOOP
        keep := greatest(keep, p_n[i]);
        IF n >= p_n[i] THEN
            grant_at := greatest(grant_at, g[n - p_n[i] + 1] + p_per_us[i] * interval '1 microsecond');
        END IF;
    END LOOP;
    g := g || grant_at;
    n := n + 1;
    IF n > keep THEN
        g := g[n - keep + 1 : n];
    END IF;
    UPDATE magflow_rate_grants SET grants = g, updated_at = server_now WHERE key = p_key;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION magflow_rate_take(TEXT, INT[], BIGINT[]);
DROP TABLE magflow_rate_grants;
