-- Issue 15: scheduled tips, the safety index, the officers' morning digest.

-- A station's or one group's schedule of a recurring post. scope: 'station:ID' or 'group:ID';
-- what: 'tips' or 'index'; spec: 'daily 09:00', 'weekly mon 19:00' or 'off'.
CREATE TABLE schedules (
    scope TEXT NOT NULL,
    what TEXT NOT NULL CONSTRAINT schedules_what_check CHECK (what IN ('tips', 'index')),
    spec TEXT NOT NULL,
    set_by INTEGER REFERENCES people(id),
    set_at INTEGER NOT NULL,
    PRIMARY KEY (scope, what)
);

-- Each recipient's deck ('group:ID' or 'person:ID'): the cards dealt in this round (JSON list of
-- ids; a card repeats only once every card was dealt), the suit dealt last, the last slot served
-- and when a tip last went out.
CREATE TABLE tip_decks (
    recipient TEXT PRIMARY KEY,
    dealt TEXT NOT NULL DEFAULT '[]',
    last_suit TEXT,
    last_slot INTEGER NOT NULL DEFAULT 0,
    last_sent_at INTEGER NOT NULL DEFAULT 0
);

-- A campaign an officer marks: the suit's cards first in the station's tips from starts_at to ends_at.
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations(id),
    suit TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    officer_id INTEGER REFERENCES people(id)
);
CREATE INDEX campaigns_station ON campaigns (station_id, ends_at);

-- Pictures the bot made (the safety index's charts), PNG as base64, by a key naming what they
-- show; each is uploaded once per platform and the platform's reference (Telegram file_id,
-- Matrix mxc:// URI) reused.
CREATE TABLE media (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    png_base64 TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE media_uploads (
    media_id INTEGER NOT NULL REFERENCES media(id),
    platform TEXT NOT NULL,
    reference TEXT NOT NULL,
    PRIMARY KEY (media_id, platform)
);

-- Jobs of the scheduler done once per station and slot ('index:xinhua:…', 'digest:xinhua:…').
CREATE TABLE schedule_runs (
    job TEXT PRIMARY KEY,
    ran_at INTEGER NOT NULL
);

-- When someone last wrote in the group (a group silent for months gets tips weekly at most).
ALTER TABLE groups ADD COLUMN last_active_at INTEGER NOT NULL DEFAULT 0;
-- Groups linked before: active as of the upgrade (not silent since they were linked).
UPDATE groups SET last_active_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
