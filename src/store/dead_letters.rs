//! Dead letters: outbox rows that can never be delivered (`dead`: refused for good or out of
//! attempts; `gone`: the bot was removed or blocked). They never block the queue — a claim
//! only takes waiting rows — and the station sees them in the officer's delivery summary
//! ([`alert_failures`]) and with `beatbot outbox dead-letters`, which can put them back in
//! the queue or drop them.

use anyhow::{Context, Result};

use super::{Conn, col, query};
use crate::domain::Platform;

/// One dead letter as the command line lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: i64,
    pub platform: Platform,
    pub chat_id: String,
    /// The station of the chat (a linked group's, or the person's for a private chat), or of
    /// the alert the message is a copy of.
    pub station: Option<String>,
    pub alert_id: Option<i64>,
    /// `dead` or `gone`.
    pub status: String,
    pub attempts: i64,
    pub created_at: i64,
    pub reason: String,
    pub text: String,
}

/// The station a row belongs to, as SQL over the outbox row `o`.
const STATION: &str = "COALESCE(\
    (SELECT a.station_id FROM alerts a WHERE a.id = o.alert_id), \
    (SELECT g.station_id FROM groups g WHERE g.platform = o.platform AND g.chat_id = o.chat_id), \
    (SELECT p.station_id FROM identities i JOIN people p ON p.id = i.person_id \
     WHERE i.platform = o.platform AND i.dm_chat = o.chat_id ORDER BY i.last_seen_at DESC LIMIT 1))";

/// Dead letters, oldest first, of one station or all; at most `limit`.
pub async fn list(conn: &mut Conn, station: Option<&str>, limit: i64) -> Result<Vec<DeadLetter>> {
    let sql = format!(
        "SELECT * FROM (SELECT o.id, o.platform, o.chat_id, {STATION} AS station, o.alert_id, o.status, o.attempts, \
         o.created_at, COALESCE(o.last_error, '') AS reason, o.text \
         FROM outbox o WHERE o.status IN ('dead', 'gone')) d \
         WHERE $1 IS NULL OR d.station = $1 ORDER BY d.id LIMIT $2"
    );
    let rows = query(sql)
        .bind(station)
        .bind(limit)
        .fetch_all(conn)
        .await
        .context("listing dead letters")?;
    rows.iter()
        .map(|r| {
            let platform: String = col(r, "platform")?;
            Ok(DeadLetter {
                id: col(r, "id")?,
                platform: Platform::parse(&platform).with_context(|| format!("unknown platform {platform}"))?,
                chat_id: col(r, "chat_id")?,
                station: col(r, "station")?,
                alert_id: col(r, "alert_id")?,
                status: col(r, "status")?,
                attempts: col(r, "attempts")?,
                created_at: col(r, "created_at")?,
                reason: col(r, "reason")?,
                text: col(r, "text")?,
            })
        })
        .collect()
}

/// Which dead letters a retry or drop applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which<'a> {
    /// These rows (others, and rows that are not dead letters, are left alone).
    Ids(&'a [i64]),
    /// Every dead letter of a station, or of all stations.
    All { station: Option<&'a str> },
}

impl Which<'_> {
    /// The condition on an outbox row `o`, with the station as `$1`.
    fn sql(&self) -> String {
        match self {
            Which::Ids(ids) => {
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                // `$1` is bound either way; here it is always NULL.
                format!(
                    "o.id IN ({}) AND $1 IS NULL",
                    if ids.is_empty() { "NULL".into() } else { ids.join(", ") }
                )
            }
            Which::All { .. } => format!("($1 IS NULL OR {STATION} = $1)"),
        }
    }

    fn station(&self) -> Option<&str> {
        match self {
            Which::Ids(_) => None,
            Which::All { station } => *station,
        }
    }
}

/// Puts dead letters back in the queue as if new (attempts from zero, due now). Returns how
/// many.
pub async fn retry(conn: &mut Conn, which: &Which<'_>, now: i64) -> Result<u64> {
    conn.queued_messages();
    let sql = format!(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, lease_until = 0 \
         WHERE id IN (SELECT o.id FROM outbox o WHERE o.status IN ('dead', 'gone') AND {})",
        which.sql()
    );
    let done = query(sql)
        .bind(which.station())
        .bind(now)
        .execute(conn)
        .await
        .context("retrying dead letters")?;
    Ok(done.rows_affected())
}

/// Drops dead letters: they stay in the outbox as `withdrawn` (with who dropped them in
/// `last_error`) and no longer count as failed anywhere. Returns how many.
pub async fn drop(conn: &mut Conn, which: &Which<'_>) -> Result<u64> {
    let sql = format!(
        "UPDATE outbox SET status = 'withdrawn', last_error = 'dropped from the command line: ' || COALESCE(last_error, '') \
         WHERE id IN (SELECT o.id FROM outbox o WHERE o.status IN ('dead', 'gone') AND {})",
        which.sql()
    );
    let done = query(sql)
        .bind(which.station())
        .execute(conn)
        .await
        .context("dropping dead letters")?;
    Ok(done.rows_affected())
}

/// Why the copies of an alert failed: (status, reason, how many), most frequent first.
pub async fn alert_failures(conn: &mut Conn, alert_id: i64) -> Result<Vec<(String, String, i64)>> {
    let rows = query(
        "SELECT status, COALESCE(last_error, '') AS reason, COUNT(*) AS n FROM outbox \
         WHERE alert_id = $1 AND status IN ('dead', 'gone') GROUP BY status, last_error ORDER BY n DESC, reason",
    )
    .bind(alert_id)
    .fetch_all(conn)
    .await
    .context("grouping an alert's failures")?;
    rows.iter()
        .map(|r| Ok((col(r, "status")?, col(r, "reason")?, col(r, "n")?)))
        .collect()
}
