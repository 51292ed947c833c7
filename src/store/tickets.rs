//! Tickets and their history (every action, who, when, from which platform).

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use super::{Conn, Row, col, level, query};
use crate::domain::{Escalation, ReportKind, ResolveNotice, TicketStatus};
use crate::scripts::Sla;

#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: i64,
    pub station_id: String,
    pub kind: ReportKind,
    pub hotel_id: Option<i64>,
    pub reporter_id: i64,
    pub assignee_id: Option<i64>,
    pub status: TicketStatus,
    /// Field key → value as the reporter gave it (validated).
    pub fields: BTreeMap<String, String>,
    pub origin_group_id: Option<i64>,
    pub created_at: i64,
    pub acked_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub rating: Option<i64>,
    pub ack_due_at: Option<i64>,
    pub resolve_due_at: Option<i64>,
    pub escalation: Escalation,
    pub resolve_notice: ResolveNotice,
    pub closed_at: Option<i64>,
    pub close_reason: Option<String>,
    pub rating_comment: Option<String>,
    pub purged_at: Option<i64>,
}

impl Ticket {
    /// When the ticket was finished (resolved or closed), if it is.
    pub fn finished_at(&self) -> Option<i64> {
        self.closed_at.or(self.resolved_at)
    }
}

#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub station_id: &'a str,
    pub kind: ReportKind,
    pub hotel_id: Option<i64>,
    pub reporter_id: i64,
    pub assignee_id: Option<i64>,
    pub fields: &'a BTreeMap<String, String>,
    pub origin_group_id: Option<i64>,
}

pub(super) const COLUMNS: &str = "id, station_id, kind, hotel_id, reporter_id, assignee_id, status, fields, origin_group_id, created_at, acked_at, \
     resolved_at, resolution, rating, ack_due_at, resolve_due_at, escalation, resolve_notice, closed_at, close_reason, \
     rating_comment, purged_at";

/// [`COLUMNS`] prefixed with `t.`, for queries that join other tables.
pub(super) fn qualified_columns() -> String {
    COLUMNS
        .split(',')
        .map(|c| format!("t.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn from_row(r: &Row) -> Result<Ticket> {
    let kind: String = col(r, "kind")?;
    let status: String = col(r, "status")?;
    let fields: String = col(r, "fields")?;
    Ok(Ticket {
        id: col(r, "id")?,
        station_id: col(r, "station_id")?,
        kind: ReportKind::parse(&kind).with_context(|| format!("unknown kind {kind}"))?,
        hotel_id: col(r, "hotel_id")?,
        reporter_id: col(r, "reporter_id")?,
        assignee_id: col(r, "assignee_id")?,
        status: TicketStatus::from_db(&status).with_context(|| format!("unknown status {status}"))?,
        fields: serde_json::from_str(&fields).context("decoding ticket fields")?,
        origin_group_id: col(r, "origin_group_id")?,
        created_at: col(r, "created_at")?,
        acked_at: col(r, "acked_at")?,
        resolved_at: col(r, "resolved_at")?,
        resolution: col(r, "resolution")?,
        rating: col(r, "rating")?,
        ack_due_at: col(r, "ack_due_at")?,
        resolve_due_at: col(r, "resolve_due_at")?,
        escalation: level(r, "escalation", Escalation::from_level)?,
        resolve_notice: level(r, "resolve_notice", ResolveNotice::from_level)?,
        closed_at: col(r, "closed_at")?,
        close_reason: col(r, "close_reason")?,
        rating_comment: col(r, "rating_comment")?,
        purged_at: col(r, "purged_at")?,
    })
}

/// Files a ticket with its deadlines fixed from `sla` now.
pub async fn insert(conn: &mut Conn, t: &NewTicket<'_>, sla: &Sla, now: i64) -> Result<i64> {
    let row = query(
        "INSERT INTO tickets (station_id, kind, hotel_id, reporter_id, assignee_id, status, fields, origin_group_id, \
         created_at, ack_due_at, resolve_due_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(t.station_id)
    .bind(t.kind.as_str())
    .bind(t.hotel_id)
    .bind(t.reporter_id)
    .bind(t.assignee_id)
    .bind(serde_json::to_string(t.fields)?)
    .bind(t.origin_group_id)
    .bind(now)
    .bind(now + sla.ack_minutes * 60_000)
    .bind(now + sla.resolve_minutes * 60_000)
    .fetch_one(conn)
    .await
    .context("inserting ticket")?;
    col(&row, "id")
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Ticket>> {
    let sql = format!("SELECT {COLUMNS} FROM tickets WHERE id = $1");
    let row = query(sql)
        .bind(id)
        .fetch_optional(conn)
        .await
        .context("loading ticket")?;
    row.as_ref().map(from_row).transpose()
}

/// Unfinished tickets of a station that are assigned to `officer` or to nobody, oldest first.
pub async fn open_for(conn: &mut Conn, station: &str, officer: i64) -> Result<Vec<Ticket>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets WHERE station_id = $1 AND status IN ('open', 'acknowledged') \
         AND (assignee_id = $2 OR assignee_id IS NULL) ORDER BY id"
    );
    let rows = query(sql)
        .bind(station)
        .bind(officer)
        .fetch_all(conn)
        .await
        .context("listing tickets")?;
    rows.iter().map(from_row).collect()
}

/// Acknowledges an open ticket; `false` if it was no longer open (someone was quicker).
pub async fn acknowledge(conn: &mut Conn, id: i64, officer: i64, now: i64) -> Result<bool> {
    let done = query(
        "UPDATE tickets SET status = 'acknowledged', acked_at = $3, assignee_id = COALESCE(assignee_id, $2) \
         WHERE id = $1 AND status = 'open'",
    )
    .bind(id)
    .bind(officer)
    .bind(now)
    .execute(conn)
    .await
    .context("acknowledging ticket")?;
    Ok(done.rows_affected() == 1)
}

/// Resolves an unfinished ticket; `false` if it was already finished.
pub async fn resolve(conn: &mut Conn, id: i64, officer: i64, text: &str, now: i64) -> Result<bool> {
    let done = query(
        "UPDATE tickets SET status = 'resolved', resolved_at = $4, resolution = $3, acked_at = COALESCE(acked_at, $4), \
         assignee_id = COALESCE(assignee_id, $2) WHERE id = $1 AND status IN ('open', 'acknowledged')",
    )
    .bind(id)
    .bind(officer)
    .bind(text)
    .bind(now)
    .execute(conn)
    .await
    .context("resolving ticket")?;
    Ok(done.rows_affected() == 1)
}

/// Closes an unfinished ticket without action; `false` if it was already finished.
pub async fn close(conn: &mut Conn, id: i64, officer: i64, reason: &str, now: i64) -> Result<bool> {
    let done = query(
        "UPDATE tickets SET status = 'closed', closed_at = $4, close_reason = $3, assignee_id = COALESCE(assignee_id, $2) \
         WHERE id = $1 AND status IN ('open', 'acknowledged')",
    )
    .bind(id)
    .bind(officer)
    .bind(reason)
    .bind(now)
    .execute(conn)
    .await
    .context("closing ticket")?;
    Ok(done.rows_affected() == 1)
}

/// Records the reporter's comment on their rating once; `false` if there is one already.
pub async fn comment(conn: &mut Conn, id: i64, text: &str) -> Result<bool> {
    let done =
        query("UPDATE tickets SET rating_comment = $2 WHERE id = $1 AND rating IS NOT NULL AND rating_comment IS NULL")
            .bind(id)
            .bind(text)
            .execute(conn)
            .await
            .context("saving rating comment")?;
    Ok(done.rows_affected() == 1)
}

pub async fn assign(conn: &mut Conn, id: i64, officer: i64) -> Result<()> {
    query("UPDATE tickets SET assignee_id = $2 WHERE id = $1")
        .bind(id)
        .bind(officer)
        .execute(conn)
        .await
        .context("assigning ticket")?;
    Ok(())
}

/// Records a rating once; `false` if the ticket was already rated.
pub async fn rate(conn: &mut Conn, id: i64, rating: i64) -> Result<bool> {
    let done = query("UPDATE tickets SET rating = $2 WHERE id = $1 AND rating IS NULL")
        .bind(id)
        .bind(rating)
        .execute(conn)
        .await
        .context("rating ticket")?;
    Ok(done.rows_affected() == 1)
}

/// Appends to the ticket's history.
pub async fn log(
    conn: &mut Conn,
    ticket: i64,
    actor: Option<i64>,
    platform: &str,
    action: &str,
    detail: Option<&str>,
    now: i64,
) -> Result<()> {
    query(
        "INSERT INTO ticket_events (ticket_id, at, actor_id, platform, action, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ticket)
    .bind(now)
    .bind(actor)
    .bind(platform)
    .bind(action)
    .bind(detail)
    .execute(conn)
    .await
    .context("logging ticket event")?;
    Ok(())
}

/// Every recorded action on one ticket, oldest first.
pub async fn ticket_history(conn: &mut Conn, ticket: i64) -> Result<Vec<AuditEntry>> {
    let rows = query(
        "SELECT e.ticket_id, e.at, p.handle, e.platform, e.action, e.detail FROM ticket_events e \
         LEFT JOIN people p ON p.id = e.actor_id WHERE e.ticket_id = $1 ORDER BY e.at, e.id",
    )
    .bind(ticket)
    .fetch_all(conn)
    .await
    .context("loading a ticket's history")?;
    rows.iter().map(audit_entry).collect()
}

/// The actions recorded for a ticket, oldest first.
pub async fn history(conn: &mut Conn, ticket: i64) -> Result<Vec<String>> {
    let rows = query("SELECT action FROM ticket_events WHERE ticket_id = $1 ORDER BY id")
        .bind(ticket)
        .fetch_all(conn)
        .await
        .context("loading ticket history")?;
    rows.iter().map(|r| col(r, "action")).collect()
}

/// One recorded ticket action, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub ticket: i64,
    pub at: i64,
    /// The actor's handle (none for actions of the bot itself).
    pub actor: Option<String>,
    pub platform: String,
    pub action: String,
    pub detail: Option<String>,
}

/// Every action on the station's tickets at or after `since`, oldest first.
pub async fn audit(conn: &mut Conn, station: &str, since: i64) -> Result<Vec<AuditEntry>> {
    let rows = query(
        "SELECT e.ticket_id, e.at, p.handle, e.platform, e.action, e.detail FROM ticket_events e \
         JOIN tickets t ON t.id = e.ticket_id LEFT JOIN people p ON p.id = e.actor_id \
         WHERE t.station_id = $1 AND e.at >= $2 ORDER BY e.at, e.id",
    )
    .bind(station)
    .bind(since)
    .fetch_all(conn)
    .await
    .context("loading the audit log")?;
    rows.iter().map(audit_entry).collect()
}

fn audit_entry(r: &Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        ticket: col(r, "ticket_id")?,
        at: col(r, "at")?,
        actor: col(r, "handle")?,
        platform: col(r, "platform")?,
        action: col(r, "action")?,
        detail: col(r, "detail")?,
    })
}

/// Every ticket of a station filed at or after `since`, with its hotel's name, oldest first.
pub async fn filed_since(conn: &mut Conn, station: &str, since: i64) -> Result<Vec<(Ticket, Option<String>)>> {
    let columns = qualified_columns();
    let sql = format!(
        "SELECT {columns}, h.name AS hotel_name FROM tickets t LEFT JOIN hotels h ON h.id = t.hotel_id \
         WHERE t.station_id = $1 AND t.created_at >= $2 ORDER BY t.id"
    );
    let rows = query(sql)
        .bind(station)
        .bind(since)
        .fetch_all(conn)
        .await
        .context("loading tickets for statistics")?;
    rows.iter().map(|r| Ok((from_row(r)?, col(r, "hotel_name")?))).collect()
}
