//! The tickets whose deadlines have come due, for the scheduler: missed acknowledgements by
//! escalation step, and resolution deadlines near or past. Each step is recorded on the ticket,
//! so a step is taken once however often (and on however many replicas) the scheduler runs.

use anyhow::{Context, Result};

use super::Conn;
use super::tickets::{COLUMNS, Ticket, from_row};

/// Open tickets whose acknowledgement is overdue for escalation step `step` (1: duty officers,
/// at the deadline; 2: station admins, one more acknowledgement window later).
pub async fn unacknowledged(conn: &mut Conn, step: i64, now: i64) -> Result<Vec<Ticket>> {
    // Step k is due at created_at + k × (the ack window).
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets WHERE status = 'open' AND escalation = $1 AND ack_due_at IS NOT NULL \
         AND created_at + $2 * (ack_due_at - created_at) <= $3 ORDER BY id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(step - 1)
        .bind(step)
        .bind(now)
        .fetch_all(conn)
        .await
        .context("loading overdue acknowledgements")?;
    rows.iter().map(from_row).collect()
}

/// Unfinished tickets whose resolution deadline is within `horizon_ms` (or past) and that have
/// not had every notice yet.
pub async fn resolution_due(conn: &mut Conn, horizon_ms: i64, now: i64) -> Result<Vec<Ticket>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets WHERE status IN ('open', 'acknowledged') AND resolve_notice < 2 \
         AND resolve_due_at IS NOT NULL AND resolve_due_at <= $1 ORDER BY id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now + horizon_ms)
        .fetch_all(conn)
        .await
        .context("loading resolution deadlines")?;
    rows.iter().map(from_row).collect()
}

/// Moves a ticket to escalation step `step`; `false` if another run took the step first.
pub async fn escalated(conn: &mut Conn, id: i64, step: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE tickets SET escalation = $2 WHERE id = $1 AND escalation = $3")
        .bind(id)
        .bind(step)
        .bind(step - 1)
        .execute(conn)
        .await
        .context("recording an escalation")?;
    Ok(done.rows_affected() == 1)
}

/// Records resolution notice `notice` (1 reminder, 2 breach); `false` if it was recorded already.
pub async fn resolution_noticed(conn: &mut Conn, id: i64, notice: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE tickets SET resolve_notice = $2 WHERE id = $1 AND resolve_notice < $2")
        .bind(id)
        .bind(notice)
        .execute(conn)
        .await
        .context("recording a resolution notice")?;
    Ok(done.rows_affected() == 1)
}
