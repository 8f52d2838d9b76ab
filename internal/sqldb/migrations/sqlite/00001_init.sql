-- MagFlow schema for SQLite. Amounts are kept twice: the exact 4-decimal text
-- (what the ERP reads) and *_units, the amount times 10^4 as an INTEGER, which
-- sorts and compares numerically. Times are UTC DATETIME text. JSON is TEXT.

-- +goose Up
CREATE TABLE emag_products (
    account                 TEXT    NOT NULL,
    id                      INTEGER NOT NULL,
    part_number             TEXT    NOT NULL DEFAULT '',
    part_number_key         TEXT    NOT NULL DEFAULT '',
    name                    TEXT    NOT NULL DEFAULT '',
    brand                   TEXT    NOT NULL DEFAULT '',
    category_id             INTEGER NOT NULL DEFAULT 0,
    ean                     TEXT    NOT NULL DEFAULT '[]',
    status                  INTEGER NOT NULL DEFAULT 0,
    validation_status       INTEGER NOT NULL DEFAULT 0,
    offer_validation_status INTEGER NOT NULL DEFAULT 0,
    ownership               BOOLEAN NOT NULL DEFAULT 0,
    green_tax               TEXT    NOT NULL DEFAULT '0.0000',
    green_tax_units         INTEGER NOT NULL DEFAULT 0,
    supply_lead_time        INTEGER NOT NULL DEFAULT 0,
    safety_information      TEXT    NOT NULL DEFAULT '',
    search_terms            TEXT    NOT NULL DEFAULT '',
    raw                     TEXT,
    content_hash            TEXT    NOT NULL,
    first_seen_at           DATETIME NOT NULL,
    last_seen_at            DATETIME NOT NULL,
    gone_at                 DATETIME,
    updated_at              DATETIME NOT NULL,
    PRIMARY KEY (account, id)
);
-- Only what search and the canonical view need: every further index costs
-- each page write. Part number and part number key are searched by prefix,
-- case-insensitively (ASCII).
CREATE INDEX emag_products_pn ON emag_products (lower(part_number));
CREATE INDEX emag_products_pnk ON emag_products (lower(part_number_key));

-- Word-prefix search over the name, brand and EANs: search_terms holds their
-- words, normalised by the store (lower case, no diacritics). No positions
-- are kept (detail=none): queries are ANDs of word prefixes. The prefix
-- indexes answer 2- and 3-letter prefixes without merging every term.
-- The store keeps the index in step itself, once per page (no triggers): an
-- FTS5 table flushes its pending terms at every statement that writes it,
-- so a trigger firing per row upserted would write one segment per row.
CREATE VIRTUAL TABLE emag_products_fts USING fts5(
    search_terms, content='emag_products', content_rowid='rowid',
    tokenize="unicode61 remove_diacritics 0 tokenchars '%'", prefix='2 3', detail=none
);

CREATE TABLE emag_product_offers (
    account                  TEXT    NOT NULL,
    product_id               INTEGER NOT NULL,
    part_number              TEXT    NOT NULL DEFAULT '',
    offer_id                 INTEGER NOT NULL DEFAULT 0,
    sale_price               TEXT    NOT NULL DEFAULT '0.0000',
    sale_price_units         INTEGER NOT NULL DEFAULT 0,
    recommended_price        TEXT    NOT NULL DEFAULT '0.0000',
    recommended_price_units  INTEGER NOT NULL DEFAULT 0,
    min_sale_price           TEXT    NOT NULL DEFAULT '0.0000',
    min_sale_price_units     INTEGER NOT NULL DEFAULT 0,
    max_sale_price           TEXT    NOT NULL DEFAULT '0.0000',
    max_sale_price_units     INTEGER NOT NULL DEFAULT 0,
    best_offer_price         TEXT    NOT NULL DEFAULT '0.0000',
    best_offer_price_units   INTEGER NOT NULL DEFAULT 0,
    currency                 TEXT    NOT NULL DEFAULT '',
    vat_id                   INTEGER NOT NULL DEFAULT 0,
    status                   INTEGER NOT NULL DEFAULT 0,
    general_stock            INTEGER NOT NULL DEFAULT 0,
    estimated_stock          INTEGER NOT NULL DEFAULT 0,
    stock                    TEXT    NOT NULL DEFAULT '[]',
    handling_time            TEXT    NOT NULL DEFAULT '[]',
    availability             TEXT    NOT NULL DEFAULT '[]',
    buy_button_rank          INTEGER NOT NULL DEFAULT 0,
    number_of_offers         INTEGER NOT NULL DEFAULT 0,
    content_hash             TEXT    NOT NULL,
    first_seen_at            DATETIME NOT NULL,
    last_seen_at             DATETIME NOT NULL,
    gone_at                  DATETIME,
    updated_at               DATETIME NOT NULL,
    PRIMARY KEY (account, product_id)
) WITHOUT ROWID;
-- Every account's offer of a SKU (product detail).
CREATE INDEX emag_product_offers_part_number ON emag_product_offers (part_number);

CREATE TABLE emag_orders (
    account          TEXT    NOT NULL,
    id               INTEGER NOT NULL,
    type             INTEGER NOT NULL DEFAULT 0,
    status           INTEGER NOT NULL DEFAULT 0,
    payment_mode_id  INTEGER NOT NULL DEFAULT 0,
    payment_mode     TEXT    NOT NULL DEFAULT '',
    payment_status   INTEGER NOT NULL DEFAULT 0,
    delivery_mode    TEXT    NOT NULL DEFAULT '',
    date             DATETIME,
    modified         DATETIME,
    customer_name    TEXT    NOT NULL DEFAULT '',
    customer_email   TEXT    NOT NULL DEFAULT '',
    customer_phone   TEXT    NOT NULL DEFAULT '',
    shipping_city    TEXT    NOT NULL DEFAULT '',
    shipping_tax     TEXT    NOT NULL DEFAULT '0.0000',
    shipping_tax_units INTEGER NOT NULL DEFAULT 0,
    total            TEXT    NOT NULL DEFAULT '0.0000',
    total_units      INTEGER NOT NULL DEFAULT 0,
    currency         TEXT    NOT NULL DEFAULT '',
    raw              TEXT,
    content_hash     TEXT    NOT NULL,
    first_seen_at    DATETIME NOT NULL,
    last_seen_at     DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE INDEX emag_orders_date ON emag_orders (date);
CREATE INDEX emag_orders_modified ON emag_orders (modified);
CREATE INDEX emag_orders_status ON emag_orders (status);

CREATE TABLE emag_order_lines (
    account          TEXT    NOT NULL,
    order_id         INTEGER NOT NULL,
    id               INTEGER NOT NULL,
    product_id       INTEGER NOT NULL DEFAULT 0,
    part_number      TEXT    NOT NULL DEFAULT '',
    part_number_key  TEXT    NOT NULL DEFAULT '',
    name             TEXT    NOT NULL DEFAULT '',
    quantity         INTEGER NOT NULL DEFAULT 0,
    sale_price       TEXT    NOT NULL DEFAULT '0.0000',
    sale_price_units INTEGER NOT NULL DEFAULT 0,
    vat              TEXT    NOT NULL DEFAULT '0.0000',
    currency         TEXT    NOT NULL DEFAULT '',
    status           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, order_id, id),
    FOREIGN KEY (account, order_id) REFERENCES emag_orders (account, id) ON DELETE CASCADE
);

CREATE TABLE emag_sync_logs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT    NOT NULL,
    stream        TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    trigger       TEXT    NOT NULL DEFAULT '',
    scan_id       INTEGER NOT NULL DEFAULT 0,
    resumed_from  INTEGER NOT NULL DEFAULT 0,
    capped        BOOLEAN NOT NULL DEFAULT 0,
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
    started_at    DATETIME NOT NULL,
    heartbeat_at  DATETIME NOT NULL,
    finished_at   DATETIME
);
-- Single flight: at most one running run per account and stream.
CREATE UNIQUE INDEX emag_sync_logs_running ON emag_sync_logs (account, stream) WHERE status = 'running';
CREATE INDEX emag_sync_logs_account ON emag_sync_logs (account, stream, id);

CREATE TABLE emag_sync_progress (
    run_id       INTEGER PRIMARY KEY REFERENCES emag_sync_logs (id) ON DELETE CASCADE,
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
    rate         REAL    NOT NULL DEFAULT 0,
    eta_seconds  REAL    NOT NULL DEFAULT 0,
    updated_at   DATETIME NOT NULL
);

CREATE TABLE emag_sync_checkpoints (
    account          TEXT    NOT NULL,
    stream           TEXT    NOT NULL,
    run_id           INTEGER NOT NULL DEFAULT 0,
    scan_id          INTEGER NOT NULL DEFAULT 0,
    scan_open        BOOLEAN NOT NULL DEFAULT 0,
    next_page        INTEGER NOT NULL DEFAULT 0,
    total_pages      INTEGER NOT NULL DEFAULT 0,
    order_cursor     DATETIME,
    last_complete_at DATETIME,
    updated_at       DATETIME NOT NULL,
    PRIMARY KEY (account, stream)
);

-- The ids each committed page of an open scan carried (one row per page, the
-- ids comma-separated); compared at the end of a complete scan to mark what
-- eMAG no longer lists.
CREATE TABLE emag_scan_seen (
    account  TEXT    NOT NULL,
    stream   TEXT    NOT NULL,
    scan_id  INTEGER NOT NULL,
    page     INTEGER NOT NULL,
    ids      TEXT    NOT NULL
);
CREATE INDEX emag_scan_seen_scan ON emag_scan_seen (account, stream, scan_id);

CREATE TABLE emag_sync_holes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account         TEXT    NOT NULL,
    stream          TEXT    NOT NULL,
    page            INTEGER NOT NULL,
    run_id          INTEGER NOT NULL,
    error           TEXT    NOT NULL DEFAULT '',
    tries           INTEGER NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    resolved_at     DATETIME,
    resolved_run_id INTEGER
);
CREATE UNIQUE INDEX emag_sync_holes_open ON emag_sync_holes (account, stream, page) WHERE resolved_at IS NULL;
CREATE INDEX emag_sync_holes_run ON emag_sync_holes (run_id);

CREATE TABLE emag_canonical_products (
    sku             TEXT    NOT NULL PRIMARY KEY,
    part_number     TEXT    NOT NULL,
    source_account  TEXT    NOT NULL,
    product_id      INTEGER NOT NULL,
    accounts        INTEGER NOT NULL,
    listings        TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX emag_canonical_products_source ON emag_canonical_products (source_account, product_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT 0,
    created_at    DATETIME NOT NULL
);

CREATE TABLE settings (
    key        TEXT NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at DATETIME NOT NULL
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
DROP TABLE emag_products_fts;
DROP TABLE emag_products;
