-- Small per-platform values that must move with the database's transactions (the Matrix sync
-- token, stored only after the events it covers are committed).
CREATE TABLE platform_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
