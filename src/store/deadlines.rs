//! The tickets whose deadlines have come due, for the scheduler: missed acknowledgements by
//! escalation step, and resolution deadlines near or past. Each step is recorded on the ticket,
//! so a step is taken once however often (and on however many replicas) the scheduler runs.

use anyhow::{Context, Result};

use super::tickets::{COLUMNS, Ticket, from_row};
use super::{Conn, query};
use crate::domain::{Escalation, ReportKind, ResolveNotice};

/// Open tickets whose acknowledgement is overdue for escalation step `step` (duty officers at
/// the deadline; station admins one more acknowledgement window later).
pub async fn unacknowledged(conn: &mut Conn, step: Escalation, now: i64) -> Result<Vec<Ticket>> {
    let step = step.level();
    // Step k is due at created_at + k × (the ack window).
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets WHERE status = 'open' AND escalation = $1 AND ack_due_at IS NOT NULL \
         AND created_at + $2 * (ack_due_at - created_at) <= $3 ORDER BY id"
    );
    let rows = query(sql)
        .bind(step - 1)
        .bind(step)
        .bind(now)
        .fetch_all(conn)
        .await
        .context("loading overdue acknowledgements")?;
    rows.iter().map(from_row).collect()
}

/// Unfinished tickets due a resolution notice: past their deadline without the breach
/// reported, or within their kind's reminder time of it without a reminder. `remind_ms` gives
/// each kind's reminder time (from bot-scripts: numbers, not text from people).
pub async fn resolution_due(conn: &mut Conn, remind_ms: &[(ReportKind, i64)], now: i64) -> Result<Vec<Ticket>> {
    let arms: String = remind_ms
        .iter()
        .map(|(kind, ms)| format!(" WHEN '{}' THEN {}", kind.as_str(), ms))
        .collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets WHERE status IN ('open', 'acknowledged') AND resolve_due_at IS NOT NULL \
         AND ((resolve_notice < 2 AND resolve_due_at <= $1) \
           OR (resolve_notice = 0 AND resolve_due_at - (CASE kind{arms} ELSE 0 END) <= $1)) ORDER BY id"
    );
    let rows = query(sql)
        .bind(now)
        .fetch_all(conn)
        .await
        .context("loading resolution deadlines")?;
    rows.iter().map(from_row).collect()
}

/// Moves a ticket to escalation step `step`; `false` if another run took the step first.
pub async fn escalated(conn: &mut Conn, id: i64, step: Escalation) -> Result<bool> {
    let step = step.level();
    let done = query("UPDATE tickets SET escalation = $2 WHERE id = $1 AND escalation = $3")
        .bind(id)
        .bind(step)
        .bind(step - 1)
        .execute(conn)
        .await
        .context("recording an escalation")?;
    Ok(done.rows_affected() == 1)
}

/// Records resolution notice `notice`; `false` if it (or a later one) was recorded already.
pub async fn resolution_noticed(conn: &mut Conn, id: i64, notice: ResolveNotice) -> Result<bool> {
    let notice = notice.level();
    let done = query("UPDATE tickets SET resolve_notice = $2 WHERE id = $1 AND resolve_notice < $2")
        .bind(id)
        .bind(notice)
        .execute(conn)
        .await
        .context("recording a resolution notice")?;
    Ok(done.rows_affected() == 1)
}
