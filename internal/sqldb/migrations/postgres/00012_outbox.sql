-- The outbox of writes to eMAG: offer changes (stock, prices, status) and
-- order acknowledgements. A change is inserted in the transaction of the
-- request that asks for it and drained by the account's drainer, which holds
-- the account's lease (emag_outbox_leases) so that one process at a time
-- sends an account's writes, in order.
--
-- state: pending (not sent yet), sending (handed to eMAG, outcome not
-- recorded: a crash or an ambiguous answer; settled by reading the offer or
-- order back), retrying (sent, certainly not applied, due again at next_at),
-- applied, rejected (eMAG's message in message), superseded (a later change
-- of the same offer set every field it set).

-- +goose Up
CREATE TABLE emag_outbox (
    id            BIGSERIAL PRIMARY KEY,
    account       TEXT     NOT NULL,
    kind          TEXT     NOT NULL,
    target_id     BIGINT   NOT NULL,
    part_number   TEXT     NOT NULL DEFAULT '',
    fields        TEXT     NOT NULL DEFAULT '{}',
    state         TEXT     NOT NULL,
    attempts      INTEGER  NOT NULL DEFAULT 0,
    route         TEXT     NOT NULL DEFAULT '',
    message       TEXT     NOT NULL DEFAULT '',
    source        TEXT     NOT NULL DEFAULT '',
    superseded_by BIGINT   NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    next_at       TIMESTAMPTZ NOT NULL,
    sent_at       TIMESTAMPTZ,
    done_at       TIMESTAMPTZ
);
CREATE INDEX emag_outbox_open ON emag_outbox (account, kind, state, id) WHERE state IN ('pending', 'retrying', 'sending');
CREATE INDEX emag_outbox_target ON emag_outbox (account, kind, target_id, id);
-- One acknowledgement per order, however many callbacks announce it.
CREATE UNIQUE INDEX emag_outbox_ack ON emag_outbox (account, target_id) WHERE kind = 'ack';

CREATE TABLE emag_outbox_leases (
    name       TEXT     NOT NULL PRIMARY KEY,
    owner      TEXT     NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE emag_outbox_leases;
DROP TABLE emag_outbox;
