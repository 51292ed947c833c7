-- Issue 14: alerts follow CAP 1.2. An alert keeps CAP's fields beside its text; what an
-- officer's one-liner does not say is filled in from its level (docs/decisions.md).
ALTER TABLE alerts ADD COLUMN category TEXT NOT NULL DEFAULT 'Safety';
ALTER TABLE alerts ADD COLUMN event TEXT;
ALTER TABLE alerts ADD COLUMN urgency TEXT NOT NULL DEFAULT 'Unknown';
ALTER TABLE alerts ADD COLUMN severity TEXT NOT NULL DEFAULT 'Unknown';
ALTER TABLE alerts ADD COLUMN certainty TEXT NOT NULL DEFAULT 'Unknown';
ALTER TABLE alerts ADD COLUMN headline TEXT;
ALTER TABLE alerts ADD COLUMN instruction TEXT;
ALTER TABLE alerts ADD COLUMN area_desc TEXT;
-- Polygons, circles and administrative codes, as JSON.
ALTER TABLE alerts ADD COLUMN area_json TEXT;
ALTER TABLE alerts ADD COLUMN effective_at BIGINT;
ALTER TABLE alerts ADD COLUMN expires_at BIGINT;
-- 'officer', or the name of the feed an official warning came from.
ALTER TABLE alerts ADD COLUMN source TEXT NOT NULL DEFAULT 'officer';
-- For a warning from a feed: its text per language, as JSON ({"zh": …, "en": …}).
ALTER TABLE alerts ADD COLUMN texts_json TEXT;
-- Set once the alert has expired and its waiting copies were withdrawn.
ALTER TABLE alerts ADD COLUMN expired BIGINT NOT NULL DEFAULT 0;
CREATE INDEX alerts_live ON alerts (expires_at) WHERE status = 'sent' AND expired = 0;

-- Every CAP message a station published for its alerts: the Alert when it was sent, an Update
-- per correction or all-clear, a Cancel when withdrawn. /cap/{station}.atom lists them.
CREATE TABLE alert_messages (
    identifier TEXT PRIMARY KEY,
    alert_id BIGINT NOT NULL REFERENCES alerts(id),
    station_id TEXT NOT NULL REFERENCES stations(id),
    msg_type TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    text TEXT NOT NULL,
    response_type TEXT,
    -- The message this one supersedes.
    refers_to TEXT
);
CREATE INDEX alert_messages_station ON alert_messages (station_id, sent_at);

-- Official CAP messages already handled, by their key (sender, identifier, sent): each is
-- handled once across restarts and feeds.
CREATE TABLE cap_received (
    sender TEXT NOT NULL,
    identifier TEXT NOT NULL,
    sent TEXT NOT NULL,
    feed TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (sender, identifier, sent)
);

-- Which alert of which station an official message became, so that its Update or Cancel
-- finds the copies to edit.
CREATE TABLE cap_alerts (
    sender TEXT NOT NULL,
    identifier TEXT NOT NULL,
    station_id TEXT NOT NULL REFERENCES stations(id),
    alert_id BIGINT NOT NULL REFERENCES alerts(id),
    PRIMARY KEY (sender, identifier, station_id)
);

-- Polite polling: what each feed said last time, and when to ask again.
CREATE TABLE feed_state (
    feed TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    next_poll_at BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0
);
