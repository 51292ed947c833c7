-- Issue 12: several `beatbot serve` processes (replicas) on one PostgreSQL. On SQLite there is
-- only ever one process; the tables exist so both schemas stay the same.

-- Each replica heartbeats here. The live ones split the chats between them for delivery, so a
-- chat's own sending budget is kept by one process at a time.
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);

-- Work one replica does at a time (serving Matrix): held until expires_at and renewed by its
-- holder; taken over by another replica once it has run out.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Sending budgets shared by every replica of one bot token (Telegram counts per token): the
-- earliest moment, in microseconds of the database's clock, the next send may go.
CREATE TABLE rate_budgets (
    key TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);

-- The replica that claimed an outbox row: when it dies, the others put its claimed rows back at
-- once instead of waiting for their lease to run out.
ALTER TABLE outbox ADD COLUMN leased_by TEXT;
