-- Issue 12: `outbox_due` (platform, status, next_attempt_at) was written on every enqueue and
-- moved on every delivery, retry and deferral, but no query needs it any more: the claim and
-- the next-due look walk `outbox_claim` (waiting rows only). Dead letters, which the metrics
-- and `beatbot outbox dead-letters` count and list, get a small index of their own.
DROP INDEX outbox_due;
CREATE INDEX outbox_dead ON outbox (platform, id) WHERE status IN ('dead', 'gone');
