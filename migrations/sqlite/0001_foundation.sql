-- beatbot foundation schema (SQLite). Timestamps are UTC epoch milliseconds; flags are 0/1.
CREATE TABLE stations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'zh',
    created_at INTEGER NOT NULL
);

CREATE TABLE beats (
    station_id TEXT NOT NULL REFERENCES stations(id),
    name TEXT NOT NULL,
    PRIMARY KEY (station_id, name)
);

CREATE TABLE hotels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations(id),
    name TEXT NOT NULL,
    beat TEXT,
    UNIQUE (station_id, name)
);

CREATE TABLE people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    handle TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    station_id TEXT REFERENCES stations(id),
    beat TEXT,
    hotel_id INTEGER REFERENCES hotels(id),
    duty INTEGER NOT NULL DEFAULT 0,
    lang TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE identities (
    platform TEXT NOT NULL,
    external_id TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people(id),
    dm_chat TEXT,
    last_seen_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (platform, external_id)
);
CREATE INDEX identities_person ON identities (person_id);

CREATE TABLE groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    station_id TEXT NOT NULL REFERENCES stations(id),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    UNIQUE (platform, chat_id)
);

CREATE TABLE inbound_events (
    platform TEXT NOT NULL,
    event_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (platform, event_id)
) WITHOUT ROWID;

CREATE TABLE dialogues (
    person_id INTEGER PRIMARY KEY REFERENCES people(id),
    nonce INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations(id),
    kind TEXT NOT NULL,
    hotel_id INTEGER REFERENCES hotels(id),
    reporter_id INTEGER NOT NULL REFERENCES people(id),
    assignee_id INTEGER REFERENCES people(id),
    status TEXT NOT NULL,
    fields TEXT NOT NULL,
    origin_group_id INTEGER REFERENCES groups(id),
    created_at INTEGER NOT NULL,
    acked_at INTEGER,
    resolved_at INTEGER,
    resolution TEXT,
    rating INTEGER,
    rating_message_id INTEGER
);
CREATE INDEX tickets_station_status ON tickets (station_id, status);

CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    at INTEGER NOT NULL,
    actor_id INTEGER REFERENCES people(id),
    platform TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id);

CREATE TABLE questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations(id),
    asker_id INTEGER NOT NULL REFERENCES people(id),
    text TEXT NOT NULL,
    asked_at INTEGER NOT NULL,
    answer TEXT,
    answered_by INTEGER REFERENCES people(id),
    answered_at INTEGER,
    category TEXT,
    due_at INTEGER
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL REFERENCES stations(id),
    officer_id INTEGER NOT NULL REFERENCES people(id),
    level TEXT NOT NULL,
    audience TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    targets INTEGER NOT NULL DEFAULT 0,
    summary_sent INTEGER NOT NULL DEFAULT 0,
    progress_message_id INTEGER
);

CREATE TABLE subscriptions (
    person_id INTEGER NOT NULL REFERENCES people(id),
    category TEXT NOT NULL,
    PRIMARY KEY (person_id, category)
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    text TEXT NOT NULL,
    buttons TEXT,
    edit_of INTEGER REFERENCES outbox(id),
    priority INTEGER NOT NULL DEFAULT 0,
    idem_key TEXT NOT NULL UNIQUE,
    alert_id INTEGER REFERENCES alerts(id),
    -- For a message to a person caused in a group: where to say, without personal data, that
    -- they must open a private chat when the platform refuses to deliver it.
    fallback_chat TEXT,
    -- A photo (the platform's file id) sent with the text as its caption.
    photo TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0,
    platform_message_id TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (platform, status, next_attempt_at);
CREATE INDEX outbox_platform_message ON outbox (platform, chat_id, platform_message_id) WHERE platform_message_id IS NOT NULL;
CREATE INDEX outbox_alert ON outbox (alert_id) WHERE alert_id IS NOT NULL;
