-- One payment per service and expiry: a payment renews a service from the
-- expiry read when its request was proposed or chosen, and a second one
-- from the same expiry renews it twice. A claim (the approval that moves
-- a request to paying) takes its rows; a row whose request no longer may
-- have paid (payment failed, expired) is taken over. expires_at is the
-- expiry as an instant, in Unix seconds: one expiry read with two UTC
-- offsets is one renewal.
CREATE TABLE renewals (
    service_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    request_id TEXT    NOT NULL REFERENCES requests (id),
    PRIMARY KEY (service_id, expires_at)
) STRICT;
CREATE INDEX renewals_request ON renewals (request_id);
-- A claim also looks for payments of its service made without a row (by
-- a replica not upgraded yet).
CREATE INDEX requests_service ON requests (service_id, state);

-- Payments made before this migration renew their own service; the
-- services of a multi-service strategy are left out. Of two payments for
-- one renewal, the row goes to one known paid, then to the oldest.
INSERT OR IGNORE INTO renewals (service_id, expires_at, request_id)
    SELECT service_id, CAST(strftime('%s', json_extract(service, '$.expiration')) AS INTEGER), id FROM requests
    WHERE state IN ('paying', 'unknown', 'paid', 'delivered', 'paid_unconfirmed')
      AND json_extract(service, '$.expiration') IS NOT NULL
      AND json_extract(service, '$.expiration') NOT LIKE '0001-%'
    ORDER BY CASE WHEN state IN ('paid', 'delivered', 'paid_unconfirmed') THEN 0 ELSE 1 END, created_at;
