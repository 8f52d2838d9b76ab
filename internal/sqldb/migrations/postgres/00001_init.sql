-- MagFlow schema for PostgreSQL. Amounts are exact NUMERIC(19,4); times are
-- TIMESTAMPTZ; structured fields are JSONB and the raw eMAG payload is JSON
-- (kept byte for byte).

-- +goose Up
CREATE TABLE emag_products (
    account                 TEXT     NOT NULL,
    id                      BIGINT   NOT NULL,
    part_number             TEXT     NOT NULL DEFAULT '',
    part_number_key         TEXT     NOT NULL DEFAULT '',
    name                    TEXT     NOT NULL DEFAULT '',
    brand                   TEXT     NOT NULL DEFAULT '',
    category_id             BIGINT   NOT NULL DEFAULT 0,
    ean                     JSONB    NOT NULL DEFAULT '[]',
    status                  INTEGER  NOT NULL DEFAULT 0,
    validation_status       INTEGER  NOT NULL DEFAULT 0,
    offer_validation_status INTEGER  NOT NULL DEFAULT 0,
    ownership               BOOLEAN  NOT NULL DEFAULT false,
    green_tax               NUMERIC(19,4) NOT NULL DEFAULT 0,
    supply_lead_time        INTEGER  NOT NULL DEFAULT 0,
    safety_information      TEXT     NOT NULL DEFAULT '',
    search_terms            TEXT     NOT NULL DEFAULT '',
    raw                     JSON,
    content_hash            TEXT     NOT NULL,
    first_seen_at           TIMESTAMPTZ NOT NULL,
    last_seen_at            TIMESTAMPTZ NOT NULL,
    gone_at                 TIMESTAMPTZ,
    updated_at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, id)
);
-- Only what search and the canonical view need: every further index costs
-- each page write. Part number and part number key are searched by prefix,
-- case-insensitively.
CREATE INDEX emag_products_pn ON emag_products (lower(part_number) text_pattern_ops);
CREATE INDEX emag_products_pnk ON emag_products (lower(part_number_key) text_pattern_ops);
-- Word-prefix search over the name, brand and EANs: search_terms holds their
-- words, normalised by the store (lower case, no diacritics), taken as
-- lexemes verbatim (no parser, no stemming) so both engines match alike.
CREATE INDEX emag_products_terms ON emag_products USING gin (array_to_tsvector(string_to_array(search_terms, ' ')));

CREATE TABLE emag_product_offers (
    account                  TEXT    NOT NULL,
    product_id               BIGINT  NOT NULL,
    part_number              TEXT    NOT NULL DEFAULT '',
    offer_id                 BIGINT  NOT NULL DEFAULT 0,
    sale_price               NUMERIC(19,4) NOT NULL DEFAULT 0,
    recommended_price        NUMERIC(19,4) NOT NULL DEFAULT 0,
    min_sale_price           NUMERIC(19,4) NOT NULL DEFAULT 0,
    max_sale_price           NUMERIC(19,4) NOT NULL DEFAULT 0,
    best_offer_price         NUMERIC(19,4) NOT NULL DEFAULT 0,
    currency                 TEXT    NOT NULL DEFAULT '',
    vat_id                   INTEGER NOT NULL DEFAULT 0,
    status                   INTEGER NOT NULL DEFAULT 0,
    general_stock            INTEGER NOT NULL DEFAULT 0,
    estimated_stock          INTEGER NOT NULL DEFAULT 0,
    stock                    JSONB   NOT NULL DEFAULT '[]',
    handling_time            JSONB   NOT NULL DEFAULT '[]',
    availability             JSONB   NOT NULL DEFAULT '[]',
    buy_button_rank          INTEGER NOT NULL DEFAULT 0,
    number_of_offers         INTEGER NOT NULL DEFAULT 0,
    content_hash             TEXT    NOT NULL,
    first_seen_at            TIMESTAMPTZ NOT NULL,
    last_seen_at             TIMESTAMPTZ NOT NULL,
    gone_at                  TIMESTAMPTZ,
    updated_at               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, product_id)
);
-- Every account's offer of a SKU (product detail).
CREATE INDEX emag_product_offers_part_number ON emag_product_offers (part_number);

CREATE TABLE emag_orders (
    account          TEXT    NOT NULL,
    id               BIGINT  NOT NULL,
    type             INTEGER NOT NULL DEFAULT 0,
    status           INTEGER NOT NULL DEFAULT 0,
    payment_mode_id  INTEGER NOT NULL DEFAULT 0,
    payment_mode     TEXT    NOT NULL DEFAULT '',
    payment_status   INTEGER NOT NULL DEFAULT 0,
    delivery_mode    TEXT    NOT NULL DEFAULT '',
    date             TIMESTAMPTZ,
    modified         TIMESTAMPTZ,
    customer_name    TEXT    NOT NULL DEFAULT '',
    customer_email   TEXT    NOT NULL DEFAULT '',
    customer_phone   TEXT    NOT NULL DEFAULT '',
    shipping_city    TEXT    NOT NULL DEFAULT '',
    shipping_tax     NUMERIC(19,4) NOT NULL DEFAULT 0,
    total            NUMERIC(19,4) NOT NULL DEFAULT 0,
    currency         TEXT    NOT NULL DEFAULT '',
    raw              JSON,
    content_hash     TEXT    NOT NULL,
    first_seen_at    TIMESTAMPTZ NOT NULL,
    last_seen_at     TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE INDEX emag_orders_date ON emag_orders (date);
CREATE INDEX emag_orders_modified ON emag_orders (modified);
CREATE INDEX emag_orders_status ON emag_orders (status);

CREATE TABLE emag_order_lines (
    account          TEXT    NOT NULL,
    order_id         BIGINT  NOT NULL,
    id               BIGINT  NOT NULL,
    product_id       BIGINT  NOT NULL DEFAULT 0,
    part_number      TEXT    NOT NULL DEFAULT '',
    part_number_key  TEXT    NOT NULL DEFAULT '',
    name             TEXT    NOT NULL DEFAULT '',
    quantity         INTEGER NOT NULL DEFAULT 0,
    sale_price       NUMERIC(19,4) NOT NULL DEFAULT 0,
    vat              NUMERIC(19,4) NOT NULL DEFAULT 0,
    currency         TEXT    NOT NULL DEFAULT '',
    status           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, order_id, id),
    FOREIGN KEY (account, order_id) REFERENCES emag_orders (account, id) ON DELETE CASCADE
);

CREATE TABLE emag_sync_logs (
    id            BIGSERIAL PRIMARY KEY,
    account       TEXT    NOT NULL,
    stream        TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    trigger       TEXT    NOT NULL DEFAULT '',
    scan_id       BIGINT  NOT NULL DEFAULT 0,
    resumed_from  BIGINT  NOT NULL DEFAULT 0,
    capped        BOOLEAN NOT NULL DEFAULT false,
    reason        TEXT    NOT NULL DEFAULT '',
    pages         INTEGER NOT NULL DEFAULT 0,
    total_pages   INTEGER NOT NULL DEFAULT 0,
    items         INTEGER NOT NULL DEFAULT 0,
    inserted      INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    gone          INTEGER NOT NULL DEFAULT 0,
    duplicates    INTEGER NOT NULL DEFAULT 0,
    requests      INTEGER NOT NULL DEFAULT 0,
    retries       INTEGER NOT NULL DEFAULT 0,
    throttled     INTEGER NOT NULL DEFAULT 0,
    holes         INTEGER NOT NULL DEFAULT 0,
    started_at    TIMESTAMPTZ NOT NULL,
    heartbeat_at  TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ
);
-- Single flight: at most one running run per account and stream.
CREATE UNIQUE INDEX emag_sync_logs_running ON emag_sync_logs (account, stream) WHERE status = 'running';
CREATE INDEX emag_sync_logs_account ON emag_sync_logs (account, stream, id);

CREATE TABLE emag_sync_progress (
    run_id       BIGINT  PRIMARY KEY REFERENCES emag_sync_logs (id) ON DELETE CASCADE,
    account      TEXT    NOT NULL,
    stream       TEXT    NOT NULL,
    page         INTEGER NOT NULL DEFAULT 0,
    total_pages  INTEGER NOT NULL DEFAULT 0,
    items        INTEGER NOT NULL DEFAULT 0,
    inserted     INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    unchanged    INTEGER NOT NULL DEFAULT 0,
    requests     INTEGER NOT NULL DEFAULT 0,
    retries      INTEGER NOT NULL DEFAULT 0,
    throttled    INTEGER NOT NULL DEFAULT 0,
    holes        INTEGER NOT NULL DEFAULT 0,
    rate         DOUBLE PRECISION NOT NULL DEFAULT 0,
    eta_seconds  DOUBLE PRECISION NOT NULL DEFAULT 0,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE emag_sync_checkpoints (
    account          TEXT    NOT NULL,
    stream           TEXT    NOT NULL,
    run_id           BIGINT  NOT NULL DEFAULT 0,
    scan_id          BIGINT  NOT NULL DEFAULT 0,
    scan_open        BOOLEAN NOT NULL DEFAULT false,
    next_page        INTEGER NOT NULL DEFAULT 0,
    total_pages      INTEGER NOT NULL DEFAULT 0,
    order_cursor     TIMESTAMPTZ,
    last_complete_at TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, stream)
);

CREATE TABLE emag_scan_seen (
    account  TEXT    NOT NULL,
    stream   TEXT    NOT NULL,
    scan_id  BIGINT  NOT NULL,
    page     INTEGER NOT NULL,
    ids      TEXT    NOT NULL
);
CREATE INDEX emag_scan_seen_scan ON emag_scan_seen (account, stream, scan_id);

CREATE TABLE emag_sync_holes (
    id              BIGSERIAL PRIMARY KEY,
    account         TEXT    NOT NULL,
    stream          TEXT    NOT NULL,
    page            INTEGER NOT NULL,
    run_id          BIGINT  NOT NULL,
    error           TEXT    NOT NULL DEFAULT '',
    tries           INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    resolved_at     TIMESTAMPTZ,
    resolved_run_id BIGINT
);
CREATE UNIQUE INDEX emag_sync_holes_open ON emag_sync_holes (account, stream, page) WHERE resolved_at IS NULL;
CREATE INDEX emag_sync_holes_run ON emag_sync_holes (run_id);

CREATE TABLE emag_canonical_products (
    sku             TEXT    NOT NULL PRIMARY KEY,
    part_number     TEXT    NOT NULL,
    source_account  TEXT    NOT NULL,
    product_id      BIGINT  NOT NULL,
    accounts        INTEGER NOT NULL,
    listings        JSONB   NOT NULL,
    content_hash    TEXT    NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX emag_canonical_products_source ON emag_canonical_products (source_account, product_id);

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE settings (
    key        TEXT NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE users;
DROP TABLE emag_canonical_products;
DROP TABLE emag_sync_holes;
DROP TABLE emag_scan_seen;
DROP TABLE emag_sync_checkpoints;
DROP TABLE emag_sync_progress;
DROP TABLE emag_sync_logs;
DROP TABLE emag_order_lines;
DROP TABLE emag_orders;
DROP TABLE emag_product_offers;
DROP TABLE emag_products;
