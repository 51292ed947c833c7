-- Residents' questions (issue 10): station facts for FAQ answers, each station's own FAQ
-- entries learnt from officers' answers, and what became of a question.

-- Facts an FAQ answer may name ({station.address}, …); NULL is "not set": the line is left out.
ALTER TABLE stations ADD COLUMN address TEXT;
ALTER TABLE stations ADD COLUMN phone TEXT;
ALTER TABLE stations ADD COLUMN hours TEXT;
ALTER TABLE stations ADD COLUMN household_hours TEXT;
-- Bumped on every change of the station's own FAQ, so each replica rebuilds its index of it.
ALTER TABLE stations ADD COLUMN faq_version INTEGER NOT NULL DEFAULT 0;

-- queued: waiting for an officer; suggested: "Did you mean" offered, no choice yet;
-- self_served: the asker chose an offered entry; emergency: danger now, duty officers told.
ALTER TABLE questions ADD COLUMN status TEXT NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'suggested', 'self_served', 'emergency'));

-- A station's own FAQ entry: an officer's answer to a question, matched beside bot-scripts' FAQ
-- for that station only.
CREATE TABLE station_faq (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations(id),
    question TEXT NOT NULL,
    -- More phrasings of the same question, one per line.
    examples TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL,
    created_by INTEGER REFERENCES people(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX station_faq_station ON station_faq (station_id);
