//! Messages to a person held until their quiet hours end, then sent together as one digest.

use anyhow::{Context, Result};

use super::{Conn, col, query};

/// One held message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: i64,
    pub person_id: i64,
    pub alert_id: Option<i64>,
    pub text: String,
}

pub async fn hold(
    conn: &mut Conn,
    person_id: i64,
    alert_id: Option<i64>,
    text: &str,
    release_at: i64,
    now: i64,
) -> Result<()> {
    query("INSERT INTO held_messages (person_id, alert_id, text, release_at, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(person_id)
        .bind(alert_id)
        .bind(text)
        .bind(release_at)
        .bind(now)
        .execute(conn)
        .await
        .context("holding a message for quiet hours")?;
    Ok(())
}

/// Takes (deletes and returns) every held message due by `now`, oldest first.
pub async fn take_due(conn: &mut Conn, now: i64) -> Result<Vec<Held>> {
    let rows = query("DELETE FROM held_messages WHERE release_at <= $1 RETURNING id, person_id, alert_id, text")
        .bind(now)
        .fetch_all(conn)
        .await
        .context("releasing held messages")?;
    let mut held = rows
        .iter()
        .map(|r| {
            Ok(Held {
                id: col(r, "id")?,
                person_id: col(r, "person_id")?,
                alert_id: col(r, "alert_id")?,
                text: col(r, "text")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    held.sort_by_key(|h| (h.person_id, h.id));
    Ok(held)
}

/// Held copies of an alert revised after they were held: corrected to `text`, or (with `None`,
/// the alert withdrawn or cleared) dropped.
pub async fn revise_alert(conn: &mut Conn, alert_id: i64, text: Option<&str>) -> Result<u64> {
    let done = match text {
        Some(text) => {
            query("UPDATE held_messages SET text = $2 WHERE alert_id = $1")
                .bind(alert_id)
                .bind(text)
                .execute(conn)
                .await
        }
        None => {
            query("DELETE FROM held_messages WHERE alert_id = $1")
                .bind(alert_id)
                .execute(conn)
                .await
        }
    }
    .context("revising held copies of an alert")?;
    Ok(done.rows_affected())
}
