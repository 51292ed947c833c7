-- One-time enrolment codes an officer gives a hotel front desk (`/invite HOTEL`, `/join CODE`).
CREATE TABLE invites (
    code TEXT PRIMARY KEY,
    station_id TEXT NOT NULL REFERENCES stations(id),
    hotel_id INTEGER NOT NULL REFERENCES hotels(id),
    created_by INTEGER NOT NULL REFERENCES people(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by INTEGER REFERENCES people(id),
    used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX invites_station ON invites (station_id, expires_at);
