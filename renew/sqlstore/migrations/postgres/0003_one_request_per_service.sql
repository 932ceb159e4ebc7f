-- attempt numbers the rounds of approval (bumped when a payment fails), so
-- an approval click counts once, ever. pay_sent_at is when the pay call was
-- about to be sent: an unknown payment settles from it.
ALTER TABLE requests ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN pay_sent_at BIGINT;

-- One open request per service: a request holds the services it renews
-- from the moment its order is being created until it is paid or ends.
-- The primary key makes a second holder impossible, whichever replica
-- asks.
CREATE TABLE service_locks (
    service_id BIGINT PRIMARY KEY,
    request_id TEXT   NOT NULL REFERENCES requests (id)
);
CREATE INDEX service_locks_request ON service_locks (request_id);

-- Requests open before this migration hold their own service; of two open
-- for one service, the older holds it and the other is refused at its
-- next step.
INSERT INTO service_locks (service_id, request_id)
    SELECT DISTINCT ON (service_id) service_id, id FROM requests
    WHERE state IN ('ordering', 'awaiting_approval', 'paying', 'payment_failed', 'unknown')
    ORDER BY service_id, created_at
ON CONFLICT (service_id) DO NOTHING;

-- A request left waiting for approval again after a failed payment is in
-- its second round: clicks made for the first must not count.
UPDATE requests SET attempt = 1 WHERE state = 'payment_failed';
