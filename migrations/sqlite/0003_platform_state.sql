-- Small per-platform values that must move with the database's transactions (the Matrix sync
-- token, stored only after the events it covers are committed).
CREATE TABLE platform_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The platform id of the message an outbox row answers (a Matrix event id): adapters that can
-- show a reply do.
ALTER TABLE outbox ADD COLUMN reply_to TEXT;
