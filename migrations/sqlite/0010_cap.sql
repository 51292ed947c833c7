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
ALTER TABLE alerts ADD COLUMN effective_at INTEGER;
ALTER TABLE alerts ADD COLUMN expires_at INTEGER;
-- 'officer', or the name of the feed an official warning came from.
ALTER TABLE alerts ADD COLUMN source TEXT NOT NULL DEFAULT 'officer';
-- For a warning from a feed: its text per language, as JSON ({"zh": …, "en": …}).
ALTER TABLE alerts ADD COLUMN texts_json TEXT;
-- Set once the alert has expired and its waiting copies were withdrawn.
ALTER TABLE alerts ADD COLUMN expired INTEGER NOT NULL DEFAULT 0;
-- What it is about, for residents' and groups' choices (weather, fraud, traffic, security,
-- missing); how many copies were held for quiet hours and how many groups had unticked it.
ALTER TABLE alerts ADD COLUMN topic TEXT NOT NULL DEFAULT 'security' CONSTRAINT alerts_topic_check CHECK (topic IN ('weather', 'fraud', 'traffic', 'security', 'missing', 'tips'));
ALTER TABLE alerts ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN unsubscribed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX alerts_live ON alerts (expires_at) WHERE status = 'sent' AND expired = 0;

-- Every CAP message a station published for its alerts: the Alert when it was sent, an Update
-- per correction or all-clear, a Cancel when withdrawn. /cap/{station}.atom lists them.
CREATE TABLE alert_messages (
    identifier TEXT PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    station_id TEXT NOT NULL REFERENCES stations(id),
    msg_type TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    text TEXT NOT NULL,
    response_type TEXT,
    -- The message this one supersedes.
    refers_to TEXT
);
CREATE INDEX alert_messages_station ON alert_messages (station_id, sent_at);

-- Official CAP messages already handled, per feed, by their key (sender, identifier, sent):
-- each is handled once per feed across restarts (a station reached by two feeds carrying the
-- same message gets one alert: cap_alerts says it has it).
CREATE TABLE cap_received (
    sender TEXT NOT NULL,
    identifier TEXT NOT NULL,
    sent TEXT NOT NULL,
    feed TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (feed, sender, identifier, sent)
);

-- Which alert of which station an official message became, so that its Update or Cancel
-- finds the copies to edit.
CREATE TABLE cap_alerts (
    sender TEXT NOT NULL,
    identifier TEXT NOT NULL,
    station_id TEXT NOT NULL REFERENCES stations(id),
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    PRIMARY KEY (sender, identifier, station_id)
);

-- Polite polling: what each feed said last time, and when to ask again.
CREATE TABLE feed_state (
    feed TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    next_poll_at INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0
);

-- Residents choose topics: what was one category `alerts` is every alert topic now.
CREATE TEMP TABLE _old AS SELECT * FROM main.subscriptions;
DROP TABLE main.subscriptions;
CREATE TABLE subscriptions (
    person_id INTEGER NOT NULL REFERENCES people(id),
    category TEXT NOT NULL,
    PRIMARY KEY (person_id, category),
    CONSTRAINT subscriptions_category_check CHECK (category IN ('weather', 'fraud', 'traffic', 'security', 'missing', 'tips'))
);
INSERT INTO subscriptions (person_id, category) SELECT person_id, category FROM temp._old WHERE category <> 'alerts';
INSERT INTO subscriptions (person_id, category)
    SELECT o.person_id, t.topic FROM temp._old o
    CROSS JOIN (SELECT 'weather' AS topic UNION ALL SELECT 'fraud' UNION ALL SELECT 'traffic'
                UNION ALL SELECT 'security' UNION ALL SELECT 'missing') t
    WHERE o.category = 'alerts';
DROP TABLE temp._old;

-- Topics an officer unticked for a group (none: the group gets every topic).
CREATE TABLE group_muted_topics (
    group_id INTEGER NOT NULL REFERENCES groups(id),
    topic TEXT NOT NULL,
    PRIMARY KEY (group_id, topic)
);

-- Quiet hours per person, minutes after midnight in the station's time zone: both NULL, the
-- bot-scripts default; quiet_from = -1, none.
ALTER TABLE people ADD COLUMN quiet_from INTEGER;
ALTER TABLE people ADD COLUMN quiet_to INTEGER;

-- Messages to a person held until their quiet hours end, then sent as one digest.
CREATE TABLE held_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id INTEGER NOT NULL REFERENCES people(id),
    alert_id INTEGER REFERENCES alerts(id),
    text TEXT NOT NULL,
    release_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX held_messages_due ON held_messages (release_at);

-- A missing-person or wanted notice is an alert with a kind and, optionally, a photo (the file
-- id of the platform it was sent from, which only that platform can show).
ALTER TABLE alerts ADD COLUMN notice_kind TEXT CONSTRAINT alerts_notice_kind_check CHECK (notice_kind IN ('missing', 'wanted'));
ALTER TABLE alerts ADD COLUMN photo TEXT;
ALTER TABLE alerts ADD COLUMN photo_platform TEXT;
