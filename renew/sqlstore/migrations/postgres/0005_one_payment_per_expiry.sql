-- One payment per service and expiry: a payment renews a service from the
-- expiry read when its request was proposed or chosen, and a second one
-- from the same expiry renews it twice. A claim (the approval that moves
-- a request to paying) takes its rows; a row whose request no longer may
-- have paid (payment failed, expired) is taken over. expires_at is the
-- expiry as an instant, in Unix seconds: one expiry read with two UTC
-- offsets is one renewal.
CREATE TABLE renewals (
    service_id BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    request_id TEXT   NOT NULL REFERENCES requests (id),
    PRIMARY KEY (service_id, expires_at)
);
CREATE INDEX renewals_request ON renewals (request_id);
-- A claim also looks for payments of its service made without a row (by
-- a replica not upgraded yet).
CREATE INDEX requests_service ON requests (service_id, state);

-- Payments made before this migration renew their own service; the
-- services of a multi-service strategy are left out. Of two payments for
-- one renewal, the row goes to one known paid, then to the oldest.
INSERT INTO renewals (service_id, expires_at, request_id)
    SELECT DISTINCT ON (service_id, expires_at) service_id, expires_at, id FROM (
        SELECT service_id, extract(epoch FROM regexp_replace(service::json ->> 'expiration', '\.[0-9]+', '')::timestamptz)::BIGINT AS expires_at,
               id, state, created_at FROM requests
        WHERE state IN ('paying', 'unknown', 'paid', 'delivered', 'paid_unconfirmed')
          AND service::json ->> 'expiration' IS NOT NULL
          AND service::json ->> 'expiration' NOT LIKE '0001-%'
    ) AS paid
    ORDER BY service_id, expires_at, CASE WHEN state IN ('paid', 'delivered', 'paid_unconfirmed') THEN 0 ELSE 1 END, created_at
ON CONFLICT DO NOTHING;
