-- Issue 12: a waiting edit is withdrawn when a later edit of the same message waits too; the
-- delivery worker looks for one before each edit.
CREATE INDEX outbox_pending_edits ON outbox (edit_of, id) WHERE edit_of IS NOT NULL AND status = 'pending';
-- The delivery worker's claim walks waiting messages in priority order and stops at its batch,
-- instead of sorting every due row each time.
CREATE INDEX outbox_claim ON outbox (platform, priority DESC, id) WHERE status = 'pending';
