//! Inbound deduplication: an event id is recorded in the same transaction as its effects.

use anyhow::{Context, Result};

use super::{Conn, query};
use crate::domain::Platform;

/// Records an inbound event; `false` when it was seen before (a re-delivery to ignore).
pub async fn record(conn: &mut Conn, platform: Platform, event_id: &str, now: i64) -> Result<bool> {
    let done = query(
        "INSERT INTO inbound_events (platform, event_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(platform.as_str())
    .bind(event_id)
    .bind(now)
    .execute(conn)
    .await
    .context("recording inbound event")?;
    Ok(done.rows_affected() == 1)
}

/// Forgets events received before `before`: redeliveries come within minutes or hours, and
/// Telegram may reuse update ids after a week without updates.
pub async fn forget_before(conn: &mut Conn, before: i64) -> Result<u64> {
    let done = query("DELETE FROM inbound_events WHERE received_at < $1")
        .bind(before)
        .execute(conn)
        .await
        .context("forgetting old inbound events")?;
    Ok(done.rows_affected())
}
