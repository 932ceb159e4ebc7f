-- One payment per service and expiry: a payment renews a service from the
-- expiry read when its request was proposed or chosen, and a second one
-- from the same expiry renews it twice. A claim (the approval that moves
-- a request to paying) takes its rows; a row whose request no longer may
-- have paid (payment failed, expired) is taken over. expires_on is the
-- expiry's date as OVHcloud wrote it.
CREATE TABLE renewals (
    service_id BIGINT NOT NULL,
    expires_on TEXT   NOT NULL,
    request_id TEXT   NOT NULL REFERENCES requests (id),
    PRIMARY KEY (service_id, expires_on)
);
CREATE INDEX renewals_request ON renewals (request_id);

-- Payments made before this migration renew their own service; the
-- services of a multi-service strategy are left out.
INSERT INTO renewals (service_id, expires_on, request_id)
    SELECT DISTINCT ON (service_id, substr(service::json->>'expiration', 1, 10))
        service_id, substr(service::json->>'expiration', 1, 10), id FROM requests
    WHERE state IN ('paying', 'unknown', 'paid', 'delivered', 'paid_unconfirmed')
      AND service::json->>'expiration' IS NOT NULL
      AND service::json->>'expiration' NOT LIKE '0001-%'
    ORDER BY service_id, substr(service::json->>'expiration', 1, 10), created_at
ON CONFLICT DO NOTHING;
