//! Alerts: drafted by an officer, confirmed, fanned out through the outbox.

use anyhow::{Context, Result};

use super::{Conn, col, query};
use crate::domain::{AlertAudience, AlertLevel, AlertStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: i64,
    pub station_id: String,
    pub officer_id: i64,
    pub level: AlertLevel,
    pub audience: AlertAudience,
    pub text: String,
    pub status: AlertStatus,
    pub targets: i64,
    pub summary_sent: bool,
    /// The officer's message edited in place with the delivery progress (an outbox id).
    pub progress_message_id: Option<i64>,
}

pub async fn insert_draft(
    conn: &mut Conn,
    station: &str,
    officer: i64,
    level: AlertLevel,
    audience: AlertAudience,
    text: &str,
    now: i64,
) -> Result<i64> {
    let row = query(
        "INSERT INTO alerts (station_id, officer_id, level, audience, text, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'draft', $6) RETURNING id",
    )
    .bind(station)
    .bind(officer)
    .bind(level.as_str())
    .bind(audience.as_str())
    .bind(text)
    .bind(now)
    .fetch_one(conn)
    .await
    .context("drafting alert")?;
    col(&row, "id")
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Alert>> {
    let row = query(
        "SELECT id, station_id, officer_id, level, audience, text, status, targets, summary_sent, progress_message_id \
         FROM alerts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .context("loading alert")?;
    row.map(|r| {
        let level: String = col(&r, "level")?;
        let audience: String = col(&r, "audience")?;
        Ok(Alert {
            id: col(&r, "id")?,
            station_id: col(&r, "station_id")?,
            officer_id: col(&r, "officer_id")?,
            level: AlertLevel::parse(&level).with_context(|| format!("unknown level {level}"))?,
            audience: AlertAudience::parse(&audience).with_context(|| format!("unknown audience {audience}"))?,
            text: col(&r, "text")?,
            status: super::col_enum(&r, "status", AlertStatus::from_db)?,
            targets: col(&r, "targets")?,
            summary_sent: col::<i64>(&r, "summary_sent")? != 0,
            progress_message_id: col(&r, "progress_message_id")?,
        })
    })
    .transpose()
}

/// Moves a draft on (`sent` with its target count, or `cancelled`); `false` if it was no
/// longer a draft (a second press of the button).
pub async fn finish_draft(conn: &mut Conn, id: i64, status: AlertStatus, targets: i64, now: i64) -> Result<bool> {
    let done = query("UPDATE alerts SET status = $2, targets = $3, sent_at = $4 WHERE id = $1 AND status = 'draft'")
        .bind(id)
        .bind(status.as_str())
        .bind(targets)
        .bind(now)
        .execute(conn)
        .await
        .context("finishing alert draft")?;
    Ok(done.rows_affected() == 1)
}

/// Takes the alert's row lock until the transaction ends, so that workers finishing its last
/// copies at the same time count its progress one after the other (a no-op update locks the
/// row on both backends).
pub async fn lock(conn: &mut Conn, id: i64) -> Result<()> {
    query("UPDATE alerts SET summary_sent = summary_sent WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .context("locking alert")?;
    Ok(())
}

/// Remembers which message shows the officer the delivery progress.
pub async fn set_progress_message(conn: &mut Conn, id: i64, outbox_id: i64) -> Result<()> {
    query("UPDATE alerts SET progress_message_id = $2 WHERE id = $1")
        .bind(id)
        .bind(outbox_id)
        .execute(conn)
        .await
        .context("setting alert progress message")?;
    Ok(())
}

/// Marks the summary as sent; `false` if it already was.
pub async fn claim_summary(conn: &mut Conn, id: i64) -> Result<bool> {
    let done = query("UPDATE alerts SET summary_sent = 1 WHERE id = $1 AND summary_sent = 0")
        .bind(id)
        .execute(conn)
        .await
        .context("claiming alert summary")?;
    Ok(done.rows_affected() == 1)
}

/// After `/alert update|cancel|allclear`: the alert's new status, and its new text.
pub async fn follow_up(conn: &mut Conn, id: i64, status: AlertStatus, text: &str) -> Result<()> {
    query("UPDATE alerts SET status = $2, text = $3 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(text)
        .execute(conn)
        .await
        .context("recording an alert follow-up")?;
    Ok(())
}
