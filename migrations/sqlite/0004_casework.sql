-- Casework (issue 5): deadlines and escalation, closing with a reason, rating comments,
-- reviews of unsatisfied cases, retention purge, silent-hotel watch.

-- Deadlines are fixed when the ticket is filed (from bot-scripts' per-kind SLA), so a change of
-- the scripts or a restart never moves a promise already made.
ALTER TABLE tickets ADD COLUMN ack_due_at INTEGER;
ALTER TABLE tickets ADD COLUMN resolve_due_at INTEGER;
-- How far a missed acknowledgement has climbed: 0 not yet, 1 duty officers told, 2 station admins told.
ALTER TABLE tickets ADD COLUMN escalation INTEGER NOT NULL DEFAULT 0;
-- The resolution deadline: 0 nothing sent, 1 reminder sent, 2 breach reported.
ALTER TABLE tickets ADD COLUMN resolve_notice INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN closed_at INTEGER;
ALTER TABLE tickets ADD COLUMN close_reason TEXT;
ALTER TABLE tickets ADD COLUMN rating_comment TEXT;
-- When the personal fields were purged (the anonymous skeleton stays for statistics).
ALTER TABLE tickets ADD COLUMN purged_at INTEGER;
CREATE INDEX tickets_deadlines ON tickets (status, ack_due_at, resolve_due_at);

-- Days after a ticket is finished before its personal fields are purged.
ALTER TABLE stations ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 90;

-- The last time a front desk of the hotel wrote to the bot (or was enrolled), and when its
-- silence was last flagged to the beat officer.
ALTER TABLE hotels ADD COLUMN last_activity_at INTEGER;
ALTER TABLE hotels ADD COLUMN silence_flagged_at INTEGER;

-- A rating of 2 or less opens a review for the station admin.
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    station_id TEXT NOT NULL REFERENCES stations(id),
    rating INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    closed_by INTEGER REFERENCES people(id),
    finding TEXT
);
CREATE INDEX reviews_station ON reviews (station_id, closed_at);
