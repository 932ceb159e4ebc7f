-- The monthly budget. A payment counts in the month it was claimed (the
-- move to paying, on the store's clock), for its order's price with tax:
-- claimed_at and amount_ucents let one statement add a month up.
ALTER TABLE requests ADD COLUMN claimed_at INTEGER;
ALTER TABLE requests ADD COLUMN amount_ucents INTEGER;
UPDATE requests SET amount_ucents = json_extract(order_json, '$.price_with_tax.ucents')
    WHERE order_json IS NOT NULL;
-- Payments made before this migration count from their pay call (or
-- payment, or last change): the closest to their claim that was kept.
UPDATE requests SET claimed_at = COALESCE(pay_sent_at, paid_at, updated_at)
    WHERE state IN ('paying', 'unknown', 'paid', 'delivered', 'paid_unconfirmed');
CREATE INDEX requests_claimed ON requests (state, claimed_at, amount_ucents);

-- Events API deliveries already handled, by event_id, so an event Slack
-- retries runs once, whichever replica gets it, before or after a restart.
-- Old ids are pruned as new ones come.
CREATE TABLE slack_events (
    event_id TEXT    PRIMARY KEY,
    at       INTEGER NOT NULL
) STRICT;
CREATE INDEX slack_events_at ON slack_events (at);

-- Who opened the Home tab, and when last: their Home is published again
-- when a request that concerns them changes. Old rows are pruned.
CREATE TABLE home_opens (
    user_id TEXT    PRIMARY KEY,
    at      INTEGER NOT NULL
) STRICT;
CREATE INDEX home_opens_at ON home_opens (at);
