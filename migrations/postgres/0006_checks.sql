-- Every state-like column holds only its documented values: named CHECK constraints, the same
-- names as in migrations/sqlite/0006_checks.sql (`<table>_<column>_check`). A nullable column
-- stays nullable: `NULL IN (...)` is NULL, which a CHECK lets pass. Adding a constraint checks
-- the existing rows: a value outside it fails the migration (rolled back whole), nothing is
-- altered or dropped. questions.status has its CHECK from 0005 already, which PostgreSQL named
-- questions_status_check.

ALTER TABLE stations ADD CONSTRAINT stations_lang_check CHECK (lang IN ('zh', 'en'));

ALTER TABLE people ADD CONSTRAINT people_role_check CHECK (role IN ('resident', 'liaison', 'officer', 'admin'));
ALTER TABLE people ADD CONSTRAINT people_duty_check CHECK (duty IN (0, 1));
ALTER TABLE people ADD CONSTRAINT people_lang_check CHECK (lang IN ('zh', 'en'));

ALTER TABLE identities ADD CONSTRAINT identities_platform_check CHECK (platform IN ('console', 'telegram', 'matrix'));

ALTER TABLE groups ADD CONSTRAINT groups_platform_check CHECK (platform IN ('console', 'telegram', 'matrix'));
ALTER TABLE groups ADD CONSTRAINT groups_kind_check CHECK (kind IN ('community', 'liaison'));
ALTER TABLE groups ADD CONSTRAINT groups_active_check CHECK (active IN (0, 1));

ALTER TABLE inbound_events ADD CONSTRAINT inbound_events_platform_check CHECK (platform IN ('console', 'telegram', 'matrix'));

-- escalation: 0 not yet, 1 duty officers told, 2 station admins told.
-- resolve_notice: 0 nothing sent, 1 reminder sent, 2 breach reported.
ALTER TABLE tickets ADD CONSTRAINT tickets_kind_check CHECK (kind IN ('noid', 'item', 'person', 'fraud', 'tip', 'lost'));
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check CHECK (status IN ('open', 'acknowledged', 'resolved', 'closed'));
ALTER TABLE tickets ADD CONSTRAINT tickets_rating_check CHECK (rating IN (1, 2, 3, 4, 5));
ALTER TABLE tickets ADD CONSTRAINT tickets_escalation_check CHECK (escalation IN (0, 1, 2));
ALTER TABLE tickets ADD CONSTRAINT tickets_resolve_notice_check CHECK (resolve_notice IN (0, 1, 2));

-- The platform of the person who acted, or the scheduler's own steps.
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_platform_check
    CHECK (platform IN ('console', 'telegram', 'matrix', 'scheduler'));

ALTER TABLE alerts ADD CONSTRAINT alerts_level_check CHECK (level IN ('info', 'warning', 'urgent'));
ALTER TABLE alerts ADD CONSTRAINT alerts_audience_check CHECK (audience IN ('station', 'community', 'liaison', 'all'));
ALTER TABLE alerts ADD CONSTRAINT alerts_status_check
    CHECK (status IN ('draft', 'sent', 'cancelled', 'withdrawn', 'cleared'));
ALTER TABLE alerts ADD CONSTRAINT alerts_summary_sent_check CHECK (summary_sent IN (0, 1));

ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_category_check CHECK (category IN ('alerts', 'tips'));

-- last_error is free text (`gone: …` included): not constrained.
ALTER TABLE outbox ADD CONSTRAINT outbox_platform_check CHECK (platform IN ('console', 'telegram', 'matrix'));
-- A row dead because its chat is closed to the bot, marked until now by `last_error LIKE
-- 'gone:%'`, gets its own status `gone`.
UPDATE outbox SET status = 'gone' WHERE status = 'dead' AND last_error LIKE 'gone:%';
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'delivered', 'dead', 'gone', 'withdrawn'));

-- Opened for ratings of 2 or less, but the column holds a rating of the 1–5 scale.
ALTER TABLE reviews ADD CONSTRAINT reviews_rating_check CHECK (rating IN (1, 2, 3, 4, 5));
