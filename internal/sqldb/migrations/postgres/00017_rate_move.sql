-- A reserved slot of the shared rate-limit ledger moves to when its request
-- actually left (ratelimit.Store.Move): eMAG counts a request when it
-- arrives, and a request sent late must push the next grants of every
-- process back by as much. See internal/sqldb/ratelimit_store.go.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION magflow_rate_move(p_key TEXT, p_at TIMESTAMPTZ, p_late_us BIGINT) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    g TIMESTAMPTZ[];
    i INT;
BEGIN
    SELECT grants INTO g FROM magflow_rate_grants WHERE key = p_key FOR UPDATE;
    i := array_position(g, p_at);
    IF i IS NULL OR p_late_us <= 0 THEN
        RETURN false; -- no longer kept (past every window), or not late
    END IF;
    g[i] := p_at + p_late_us * interval '1 microsecond';
    SELECT array_agg(t ORDER BY t) INTO g FROM unnest(g) AS u(t);
    UPDATE magflow_rate_grants SET grants = g, updated_at = clock_timestamp() WHERE key = p_key;
    RETURN true;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION magflow_rate_move(TEXT, TIMESTAMPTZ, BIGINT);
