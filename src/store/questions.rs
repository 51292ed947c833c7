//! Questions the FAQ could not answer, queued for the station's officers.

use anyhow::{Context, Result};

use super::{Conn, col, query};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: i64,
    pub station_id: String,
    pub asker_id: i64,
    pub text: String,
    pub answered: bool,
    /// Set for feedback (its category), `None` for a question.
    pub category: Option<String>,
    pub status: Status,
    pub answer: Option<String>,
}

crate::domain::text_enum! {
    /// What became of a question.
    pub enum Status {
        /// Waiting for an officer.
        Queued = "queued",
        /// "Did you mean" offered; the asker has not chosen yet.
        Suggested = "suggested",
        /// The asker chose an offered FAQ entry.
        SelfServed = "self_served",
        /// Danger now: the asker was told to call 110, the duty officers were told.
        Emergency = "emergency",
    }
}

/// Records a question in a given state (queued for officers, a "Did you mean" not yet chosen,
/// an emergency), or feedback when `category` (and its reply deadline `due_at`) is set.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut Conn,
    station: &str,
    asker: i64,
    text: &str,
    category: Option<&str>,
    due_at: Option<i64>,
    status: Status,
    now: i64,
) -> Result<i64> {
    let row = query(
        "INSERT INTO questions (station_id, asker_id, text, asked_at, category, due_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(station)
    .bind(asker)
    .bind(text)
    .bind(now)
    .bind(category)
    .bind(due_at)
    .bind(status.as_str())
    .fetch_one(conn)
        .await
        .context("queueing question")?;
    col(&row, "id")
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Question>> {
    let row = query(
        "SELECT id, station_id, asker_id, text, answer, answered_at, category, status FROM questions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .context("loading question")?;
    row.map(|r| {
        Ok(Question {
            id: col(&r, "id")?,
            station_id: col(&r, "station_id")?,
            asker_id: col(&r, "asker_id")?,
            text: col(&r, "text")?,
            answered: col::<Option<i64>>(&r, "answered_at")?.is_some(),
            category: col(&r, "category")?,
            status: super::col_enum(&r, "status", Status::from_db)?,
            answer: col(&r, "answer")?,
        })
    })
    .transpose()
}

/// Stores the answer once; `false` if someone answered first.
pub async fn answer(conn: &mut Conn, id: i64, officer: i64, text: &str, now: i64) -> Result<bool> {
    let done = query(
        "UPDATE questions SET answer = $3, answered_by = $2, answered_at = $4 WHERE id = $1 AND answered_at IS NULL",
    )
    .bind(id)
    .bind(officer)
    .bind(text)
    .bind(now)
    .execute(conn)
    .await
    .context("answering question")?;
    Ok(done.rows_affected() == 1)
}

/// Moves a question from one state to another; `false` if it was no longer in `from`.
pub async fn set_status(conn: &mut Conn, id: i64, from: Status, to: Status) -> Result<bool> {
    let done = query("UPDATE questions SET status = $3 WHERE id = $1 AND status = $2")
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .execute(conn)
        .await
        .context("updating question status")?;
    Ok(done.rows_affected() == 1)
}
