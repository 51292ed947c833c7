-- One-time enrolment codes an officer gives a hotel front desk (`/invite HOTEL`, `/join CODE`).
CREATE TABLE invites (
    code TEXT PRIMARY KEY,
    station_id TEXT NOT NULL REFERENCES stations(id),
    hotel_id BIGINT NOT NULL REFERENCES hotels(id),
    created_by BIGINT NOT NULL REFERENCES people(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_by BIGINT REFERENCES people(id),
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX invites_station ON invites (station_id, expires_at);
