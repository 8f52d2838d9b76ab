-- The raw eMAG payloads (about 2 KB of JSON per product) are compressed with
-- lz4 instead of pglz. A row over about 2 KB is compressed as it is written,
-- and pglz_compress was the largest single cost of a first sync's page
-- writes (a seventh of PostgreSQL's CPU); lz4 compresses as well here (1,340
-- against 1,310 bytes per payload) for a fraction of the CPU. The column
-- stays JSON. Rows already stored keep pglz until they are rewritten; both
-- read alike. A server built without lz4 keeps pglz.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE 'ALTER TABLE emag_products ALTER COLUMN raw SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE emag_orders ALTER COLUMN raw SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 compression unavailable, raw payloads stay pglz: %', SQLERRM;
END
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE emag_products ALTER COLUMN raw SET COMPRESSION default;
ALTER TABLE emag_orders ALTER COLUMN raw SET COMPRESSION default;
