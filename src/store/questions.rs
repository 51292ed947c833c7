//! Questions the FAQ could not answer, queued for the station's officers.

use anyhow::{Context, Result};

use super::{Conn, col};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: i64,
    pub station_id: String,
    pub asker_id: i64,
    pub text: String,
    pub answered: bool,
    /// Set for feedback (its category), `None` for a question.
    pub category: Option<String>,
}

/// Queues a question, or feedback when `category` (and its reply deadline `due_at`) is set.
pub async fn insert(
    conn: &mut Conn,
    station: &str,
    asker: i64,
    text: &str,
    category: Option<&str>,
    due_at: Option<i64>,
    now: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO questions (station_id, asker_id, text, asked_at, category, due_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(station)
    .bind(asker)
    .bind(text)
    .bind(now)
    .bind(category)
    .bind(due_at)
        .fetch_one(conn)
        .await
        .context("queueing question")?;
    col(&row, "id")
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Question>> {
    let row = sqlx::query("SELECT id, station_id, asker_id, text, answered_at, category FROM questions WHERE id = $1")
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
        })
    })
    .transpose()
}

/// Stores the answer once; `false` if someone answered first.
pub async fn answer(conn: &mut Conn, id: i64, officer: i64, text: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
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
