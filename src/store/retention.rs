//! What the retention purge reads and writes: finished tickets past their station's retention
//! period, reduced to an anonymous skeleton; old delivered messages emptied of their text.

use anyhow::{Context, Result};

use super::tickets::{Ticket, from_row};
use super::{Conn, col, query};

const DAY_MS: i64 = 86_400_000;

/// Finished, not yet purged tickets whose station's retention period has passed.
pub async fn due(conn: &mut Conn, now: i64) -> Result<Vec<Ticket>> {
    let columns = super::tickets::qualified_columns();
    let sql = format!(
        "SELECT {columns} FROM tickets t JOIN stations s ON s.id = t.station_id \
         WHERE t.status IN ('resolved', 'closed') AND t.purged_at IS NULL \
         AND COALESCE(t.closed_at, t.resolved_at) + s.retention_days * {DAY_MS} <= $1 ORDER BY t.id"
    );
    let rows = query(sql)
        .bind(now)
        .fetch_all(conn)
        .await
        .context("loading tickets due for purging")?;
    rows.iter().map(from_row).collect()
}

/// Replaces a ticket's fields by `skeleton` (JSON), drops its free texts and the free-text
/// details of its history; who did what and when stays.
pub async fn purge_ticket(conn: &mut Conn, id: i64, skeleton: &str, now: i64) -> Result<()> {
    query(
        "UPDATE tickets SET fields = $2, resolution = NULL, close_reason = NULL, rating_comment = NULL, purged_at = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(skeleton)
    .bind(now)
    .execute(&mut *conn)
    .await
    .context("purging a ticket")?;
    query(
        "UPDATE ticket_events SET detail = NULL WHERE ticket_id = $1 \
         AND action NOT IN ('assigned', 'rated', 'escalated_duty', 'escalated_admin')",
    )
    .bind(id)
    .execute(&mut *conn)
    .await
    .context("purging a ticket's history details")?;
    query("UPDATE reviews SET finding = NULL WHERE ticket_id = $1")
        .bind(id)
        .execute(conn)
        .await
        .context("purging a ticket's review finding")?;
    Ok(())
}

/// The shortest retention period of any station, in days (messages are not per station).
pub async fn shortest_retention_days(conn: &mut Conn) -> Result<Option<i64>> {
    let row = query("SELECT MIN(retention_days) AS days FROM stations")
        .fetch_one(conn)
        .await
        .context("loading retention periods")?;
    col(&row, "days")
}

/// Finished outbox rows created before `before` that still hold text. With `apply`, their
/// text, buttons and photo are emptied (the platform message id stays, for later edits).
pub async fn old_messages(conn: &mut Conn, before: i64, apply: bool) -> Result<u64> {
    const WHERE: &str = "status IN ('delivered', 'dead', 'gone', 'withdrawn') AND created_at < $1 AND text <> ''";
    if apply {
        let sql = format!("UPDATE outbox SET text = '', buttons = NULL, photo = NULL WHERE {WHERE}");
        let done = query(sql)
            .bind(before)
            .execute(conn)
            .await
            .context("emptying old messages")?;
        return Ok(done.rows_affected());
    }
    let sql = format!("SELECT COUNT(*) AS n FROM outbox WHERE {WHERE}");
    let row = query(sql)
        .bind(before)
        .fetch_one(conn)
        .await
        .context("counting old messages")?;
    Ok(col::<i64>(&row, "n")? as u64)
}

/// Sets a station's retention period.
pub async fn set_days(conn: &mut Conn, station: &str, days: i64) -> Result<bool> {
    let done = query("UPDATE stations SET retention_days = $2 WHERE id = $1")
        .bind(station)
        .bind(days)
        .execute(conn)
        .await
        .context("setting the retention period")?;
    Ok(done.rows_affected() == 1)
}

/// Notices over (found, withdrawn or expired) for longer than their station's retention period
/// by `now`: with `apply`, the person's description and photo are removed from the notice, its
/// published CAP messages and the copies held for quiet hours (the notice's number, kind and
/// dates stay). Returns how many notices.
pub async fn old_notices(conn: &mut Conn, now: i64, apply: bool) -> Result<u64> {
    const DUE: &str = "SELECT a.id FROM alerts a JOIN stations s ON s.id = a.station_id \
         WHERE a.notice_kind IS NOT NULL AND a.text <> '' \
         AND (a.status IN ('withdrawn', 'cleared', 'cancelled') OR a.expires_at <= $1) \
         AND COALESCE(a.expires_at, a.created_at) < $1 - s.retention_days * 86400000";
    let rows = query(DUE)
        .bind(now)
        .fetch_all(&mut *conn)
        .await
        .context("finding old notices")?;
    let ids: Vec<i64> = rows.iter().map(|r| col(r, "id")).collect::<Result<_>>()?;
    if apply {
        for id in &ids {
            for sql in [
                "UPDATE alerts SET text = '', texts_json = NULL, headline = NULL, area_desc = NULL, area_json = NULL, photo = NULL WHERE id = $1",
                "UPDATE alert_messages SET text = '' WHERE alert_id = $1",
                "DELETE FROM held_messages WHERE alert_id = $1",
                "UPDATE outbox SET text = '', buttons = NULL, photo = NULL WHERE alert_id = $1 AND status <> 'pending'",
            ] {
                query(sql)
                    .bind(*id)
                    .execute(&mut *conn)
                    .await
                    .context("purging a notice")?;
            }
        }
    }
    Ok(ids.len() as u64)
}
