-- Times are BIGINT nanoseconds since the Unix epoch (UTC), NULL when unset:
-- Go times round-trip exactly and compare the same way on both databases.
-- JSON columns hold sqlstore's own documents (see encode.go), never Go's
-- default encoding of domain types.

CREATE TABLE requests (
    id            TEXT    PRIMARY KEY,
    version       BIGINT  NOT NULL,
    state         TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    message_ts    TEXT    NOT NULL,
    initiated_by  TEXT    NOT NULL,
    requested_by  TEXT    NOT NULL,
    service_id    BIGINT  NOT NULL,
    service_name  TEXT    NOT NULL,
    service       TEXT    NOT NULL,
    options       TEXT    NOT NULL,
    chosen        TEXT,
    order_id      BIGINT,
    order_json    TEXT,
    order_status  TEXT    NOT NULL,
    paid_by       TEXT    NOT NULL,
    paid_at       BIGINT,
    cancelled_by  TEXT    NOT NULL,
    cancel_reason TEXT    NOT NULL,
    error         TEXT    NOT NULL,
    dry_run       BOOLEAN NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    expires_at    BIGINT
);
CREATE INDEX requests_channel_created ON requests (channel, created_at);
CREATE INDEX requests_state_expires ON requests (state, expires_at);
CREATE INDEX requests_created ON requests (created_at);
CREATE INDEX requests_order ON requests (order_id);

CREATE TABLE approvals (
    request_id TEXT    NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    at         BIGINT  NOT NULL,
    PRIMARY KEY (request_id, user_id)
);

-- The audit trail. channel and service_id are copied from the request at the
-- time of the event so history queries need no join.
CREATE TABLE events (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id TEXT    NOT NULL REFERENCES requests (id),
    at         BIGINT  NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    service_id BIGINT  NOT NULL
);
CREATE INDEX events_request ON events (request_id, at);
CREATE INDEX events_service ON events (service_id, at);
CREATE INDEX events_channel ON events (channel, at);
CREATE INDEX events_at ON events (at);

CREATE TABLE leases (
    name   TEXT    PRIMARY KEY,
    holder TEXT    NOT NULL,
    until  BIGINT  NOT NULL
);

CREATE TABLE reminders (
    key TEXT    PRIMARY KEY,
    at  BIGINT  NOT NULL
);
