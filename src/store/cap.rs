//! CAP bookkeeping: the messages a station published for its alerts (its CAP feed), the
//! official messages already handled (each once, by sender, identifier and sent), which alert
//! each official message became per station, and each feed's polling state.

use anyhow::{Context, Result};

use super::{Conn, col, query};

/// One CAP message a station published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub identifier: String,
    pub alert_id: i64,
    pub station_id: String,
    /// `Alert`, `Update` or `Cancel`.
    pub msg_type: String,
    pub sent_at: i64,
    pub text: String,
    pub response_type: Option<String>,
    pub refers_to: Option<String>,
    /// The alert's headline (read with the message, for feed titles).
    pub headline: Option<String>,
}

fn published_from_row(r: &super::Row) -> Result<Published> {
    Ok(Published {
        identifier: col(r, "identifier")?,
        alert_id: col(r, "alert_id")?,
        station_id: col(r, "station_id")?,
        msg_type: col(r, "msg_type")?,
        sent_at: col(r, "sent_at")?,
        text: col(r, "text")?,
        response_type: col(r, "response_type")?,
        refers_to: col(r, "refers_to")?,
        headline: col(r, "headline")?,
    })
}

/// A published message with its alert's headline.
const PUBLISHED_SELECT: &str = "SELECT m.identifier, m.alert_id, m.station_id, m.msg_type, m.sent_at, m.text, \
     m.response_type, m.refers_to, a.headline FROM alert_messages m JOIN alerts a ON a.id = m.alert_id";

/// Records a message the station published for alert `alert_id`: the first is its Alert, each
/// later one an Update or Cancel superseding the one before. Returns its identifier.
pub async fn publish(
    conn: &mut Conn,
    alert_id: i64,
    station: &str,
    msg_type: &str,
    sent_at: i64,
    text: &str,
    response_type: Option<&str>,
) -> Result<String> {
    let earlier =
        query("SELECT identifier FROM alert_messages WHERE alert_id = $1 ORDER BY sent_at DESC, identifier DESC")
            .bind(alert_id)
            .fetch_all(&mut *conn)
            .await
            .context("listing an alert's CAP messages")?;
    let identifier = if earlier.is_empty() {
        format!("beatbot-{station}-{alert_id}")
    } else {
        format!("beatbot-{station}-{alert_id}-{}", earlier.len())
    };
    let refers_to: Option<String> = earlier.first().map(|r| col(r, "identifier")).transpose()?;
    query(
        "INSERT INTO alert_messages (identifier, alert_id, station_id, msg_type, sent_at, text, response_type, refers_to) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(identifier.as_str())
    .bind(alert_id)
    .bind(station)
    .bind(msg_type)
    .bind(sent_at)
    .bind(text)
    .bind(response_type)
    .bind(refers_to)
    .execute(conn)
    .await
    .context("recording a CAP message")?;
    Ok(identifier)
}

/// A station's published messages, newest first, but for alerts to hotel front desks only.
pub async fn published_of_station(conn: &mut Conn, station: &str, limit: i64) -> Result<Vec<Published>> {
    let rows = query(format!(
        "{PUBLISHED_SELECT} WHERE m.station_id = $1 AND a.audience <> 'liaison' \
         ORDER BY m.sent_at DESC, m.identifier DESC LIMIT $2"
    ))
    .bind(station)
    .bind(limit)
    .fetch_all(conn)
    .await
    .context("listing a station's CAP messages")?;
    rows.iter().map(published_from_row).collect()
}

/// An alert's published messages, oldest first.
pub async fn published_of_alert(conn: &mut Conn, alert_id: i64) -> Result<Vec<Published>> {
    let rows = query(format!(
        "{PUBLISHED_SELECT} WHERE m.alert_id = $1 ORDER BY m.sent_at, m.identifier"
    ))
    .bind(alert_id)
    .fetch_all(conn)
    .await
    .context("listing an alert's CAP messages")?;
    rows.iter().map(published_from_row).collect()
}

pub async fn published(conn: &mut Conn, identifier: &str) -> Result<Option<Published>> {
    let row = query(format!("{PUBLISHED_SELECT} WHERE m.identifier = $1"))
        .bind(identifier)
        .fetch_optional(conn)
        .await
        .context("loading a CAP message")?;
    row.as_ref().map(published_from_row).transpose()
}

/// Records an official message as handled by `feed`; `false` when it already was.
pub async fn receive(
    conn: &mut Conn,
    key: &(String, String, String),
    feed: &str,
    now: i64,
    outcome: &str,
) -> Result<bool> {
    let done = query(
        "INSERT INTO cap_received (sender, identifier, sent, feed, received_at, outcome) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT DO NOTHING",
    )
    .bind(key.0.as_str())
    .bind(key.1.as_str())
    .bind(key.2.as_str())
    .bind(feed)
    .bind(now)
    .bind(outcome)
    .execute(conn)
    .await
    .context("recording a received CAP message")?;
    Ok(done.rows_affected() == 1)
}

/// What became of a received message, once handled.
pub async fn set_outcome(conn: &mut Conn, feed: &str, key: &(String, String, String), outcome: &str) -> Result<()> {
    query("UPDATE cap_received SET outcome = $5 WHERE feed = $1 AND sender = $2 AND identifier = $3 AND sent = $4")
        .bind(feed)
        .bind(key.0.as_str())
        .bind(key.1.as_str())
        .bind(key.2.as_str())
        .bind(outcome)
        .execute(conn)
        .await
        .context("recording what became of a CAP message")?;
    Ok(())
}

/// Remembers that official message (sender, identifier) became `alert_id` at `station`.
pub async fn link_alert(conn: &mut Conn, sender: &str, identifier: &str, station: &str, alert_id: i64) -> Result<()> {
    query(
        "INSERT INTO cap_alerts (sender, identifier, station_id, alert_id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (sender, identifier, station_id) DO UPDATE SET alert_id = excluded.alert_id",
    )
    .bind(sender)
    .bind(identifier)
    .bind(station)
    .bind(alert_id)
    .execute(conn)
    .await
    .context("linking a CAP message to its alert")?;
    Ok(())
}

/// The alert official message (sender, identifier) became at `station`.
pub async fn linked_alert(conn: &mut Conn, sender: &str, identifier: &str, station: &str) -> Result<Option<i64>> {
    let row = query("SELECT alert_id FROM cap_alerts WHERE sender = $1 AND identifier = $2 AND station_id = $3")
        .bind(sender)
        .bind(identifier)
        .bind(station)
        .fetch_optional(conn)
        .await
        .context("finding a CAP message's alert")?;
    row.map(|r| col(&r, "alert_id")).transpose()
}

/// A feed's polling state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_poll_at: i64,
    pub failures: i64,
}

pub async fn feed_state(conn: &mut Conn, feed: &str) -> Result<FeedState> {
    let row = query("SELECT etag, last_modified, next_poll_at, failures FROM feed_state WHERE feed = $1")
        .bind(feed)
        .fetch_optional(conn)
        .await
        .context("loading a feed's state")?;
    match row {
        Some(r) => Ok(FeedState {
            etag: col(&r, "etag")?,
            last_modified: col(&r, "last_modified")?,
            next_poll_at: col(&r, "next_poll_at")?,
            failures: col(&r, "failures")?,
        }),
        None => Ok(FeedState::default()),
    }
}

pub async fn set_feed_state(conn: &mut Conn, feed: &str, state: &FeedState) -> Result<()> {
    query(
        "INSERT INTO feed_state (feed, etag, last_modified, next_poll_at, failures) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (feed) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, \
         next_poll_at = excluded.next_poll_at, failures = excluded.failures",
    )
    .bind(feed)
    .bind(state.etag.as_deref())
    .bind(state.last_modified.as_deref())
    .bind(state.next_poll_at)
    .bind(state.failures)
    .execute(conn)
    .await
    .context("saving a feed's state")?;
    Ok(())
}
