-- Events and approvals are ordered by when they were written (their
-- sequence), not by their timestamps: replicas' clocks differ, and "the
-- latest event" is the last one stored.
ALTER TABLE approvals ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
DROP INDEX events_request;
DROP INDEX events_service;
DROP INDEX events_channel;
CREATE INDEX events_request ON events (request_id, id);
CREATE INDEX events_service ON events (service_id, id);
CREATE INDEX events_channel ON events (channel, id);
