//! What the safety index and the officers' morning digest read: tickets (kind, beat, when
//! filed and resolved) and alerts (severity, when sent) of a station, as counts' raw material
//! — never a ticket's fields — and what an officer has open.

use anyhow::{Context, Result};

use super::{Conn, col, query};
use crate::domain::ReportKind;

/// A ticket as the index counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFact {
    pub kind: ReportKind,
    /// The beat of its hotel; `None` for a resident's report.
    pub beat: Option<String>,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
}

/// An alert as the index counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFact {
    /// CAP severity: `Extreme`, `Severe`, `Moderate`, `Minor` or `Unknown`.
    pub severity: String,
    pub sent_at: i64,
}

/// A station's tickets filed or resolved since `since`.
pub async fn tickets(conn: &mut Conn, station: &str, since: i64) -> Result<Vec<TicketFact>> {
    let rows = query(
        "SELECT t.kind, h.beat, t.created_at, t.resolved_at FROM tickets t LEFT JOIN hotels h ON h.id = t.hotel_id \
         WHERE t.station_id = $1 AND (t.created_at >= $2 OR t.resolved_at >= $2)",
    )
    .bind(station)
    .bind(since)
    .fetch_all(conn)
    .await
    .context("reading tickets for the safety index")?;
    let mut out = Vec::new();
    for r in &rows {
        let kind: String = col(r, "kind")?;
        let Some(kind) = ReportKind::parse(&kind) else { continue };
        out.push(TicketFact {
            kind,
            beat: col(r, "beat")?,
            created_at: col(r, "created_at")?,
            resolved_at: col(r, "resolved_at")?,
        });
    }
    Ok(out)
}

/// A station's alerts sent since `since`.
pub async fn alerts(conn: &mut Conn, station: &str, since: i64) -> Result<Vec<AlertFact>> {
    let rows =
        query("SELECT severity, sent_at FROM alerts WHERE station_id = $1 AND sent_at IS NOT NULL AND sent_at >= $2")
            .bind(station)
            .bind(since)
            .fetch_all(conn)
            .await
            .context("reading alerts for the safety index")?;
    rows.iter()
        .map(|r| {
            Ok(AlertFact {
                severity: col(r, "severity")?,
                sent_at: col(r, "sent_at")?,
            })
        })
        .collect()
}

/// A ticket still being worked, as the morning digest lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenTicket {
    pub id: i64,
    pub kind: ReportKind,
    pub hotel: Option<String>,
    pub created_at: i64,
    /// Its acknowledgement or resolution deadline has passed.
    pub overdue: bool,
}

/// Open and acknowledged tickets of a station: on `beat` or assigned to `officer` when a beat
/// is given, else all of them; oldest first.
pub async fn open_tickets(
    conn: &mut Conn,
    station: &str,
    beat: Option<&str>,
    officer: i64,
    now: i64,
) -> Result<Vec<OpenTicket>> {
    let rows = query(
        "SELECT t.id, t.kind, h.name AS hotel, t.created_at, \
         CASE WHEN (t.status = 'open' AND t.ack_due_at < $4) OR t.resolve_due_at < $4 THEN 1 ELSE 0 END AS overdue \
         FROM tickets t LEFT JOIN hotels h ON h.id = t.hotel_id \
         WHERE t.station_id = $1 AND t.status IN ('open', 'acknowledged') \
         AND ($2 IS NULL OR h.beat = $2 OR t.assignee_id = $3) ORDER BY t.created_at, t.id",
    )
    .bind(station)
    .bind(beat)
    .bind(officer)
    .bind(now)
    .fetch_all(conn)
    .await
    .context("listing open tickets for the digest")?;
    let mut out = Vec::new();
    for r in &rows {
        let kind: String = col(r, "kind")?;
        let Some(kind) = ReportKind::parse(&kind) else { continue };
        out.push(OpenTicket {
            id: col(r, "id")?,
            kind,
            hotel: col(r, "hotel")?,
            created_at: col(r, "created_at")?,
            overdue: col::<i64>(r, "overdue")? != 0,
        });
    }
    Ok(out)
}

/// Questions and feedback of a station queued for an officer's answer and not answered yet, and
/// when the oldest came (those the FAQ answered or offered, and emergencies, wait for no one).
pub async fn unanswered_questions(conn: &mut Conn, station: &str) -> Result<(i64, Option<i64>)> {
    let row = query(
        "SELECT COUNT(*) AS n, MIN(asked_at) AS oldest FROM questions \
         WHERE station_id = $1 AND status = 'queued' AND answer IS NULL AND answered_at IS NULL",
    )
    .bind(station)
    .fetch_one(conn)
    .await
    .context("counting unanswered questions")?;
    Ok((col(&row, "n")?, col(&row, "oldest")?))
}
