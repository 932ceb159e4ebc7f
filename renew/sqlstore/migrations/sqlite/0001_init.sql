-- Tables are STRICT so a value of the wrong type is refused, not coerced.
-- Times are INTEGER nanoseconds since the Unix epoch (UTC), NULL when unset:
-- Go times round-trip exactly and compare the same way on both databases.
-- JSON columns hold sqlstore's own documents (see encode.go), never Go's
-- default encoding of domain types.

CREATE TABLE requests (
    id            TEXT    PRIMARY KEY,
    version       INTEGER NOT NULL,
    state         TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    message_ts    TEXT    NOT NULL,
    initiated_by  TEXT    NOT NULL,
    requested_by  TEXT    NOT NULL,
    service_id    INTEGER NOT NULL,
    service_name  TEXT    NOT NULL,
    service       TEXT    NOT NULL,
    options       TEXT    NOT NULL,
    chosen        TEXT,
    order_id      INTEGER,
    order_json    TEXT,
    order_status  TEXT    NOT NULL,
    paid_by       TEXT    NOT NULL,
    paid_at       INTEGER,
    cancelled_by  TEXT    NOT NULL,
    cancel_reason TEXT    NOT NULL,
    error         TEXT    NOT NULL,
    dry_run       INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    expires_at    INTEGER
) STRICT;
CREATE INDEX requests_channel_created ON requests (channel, created_at);
CREATE INDEX requests_state_expires ON requests (state, expires_at);
CREATE INDEX requests_created ON requests (created_at);
CREATE INDEX requests_order ON requests (order_id);

CREATE TABLE approvals (
    request_id TEXT    NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (request_id, user_id)
) STRICT;

-- The audit trail. channel and service_id are copied from the request at the
-- time of the event so history queries need no join.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT    NOT NULL REFERENCES requests (id),
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    service_id INTEGER NOT NULL
) STRICT;
CREATE INDEX events_request ON events (request_id, at);
CREATE INDEX events_service ON events (service_id, at);
CREATE INDEX events_channel ON events (channel, at);
CREATE INDEX events_at ON events (at);

CREATE TABLE leases (
    name   TEXT    PRIMARY KEY,
    holder TEXT    NOT NULL,
    until  INTEGER NOT NULL
) STRICT;

CREATE TABLE reminders (
    key TEXT    PRIMARY KEY,
    at  INTEGER NOT NULL
) STRICT;
