//! Named counters (tip rotation, dialogue nonces): the next value, atomically.

use anyhow::{Context, Result};

use super::{Conn, col, query};

/// The next value of a named counter, starting at 0.
pub async fn next_counter(conn: &mut Conn, name: &str) -> Result<i64> {
    let row = query(
        "INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
    )
    .bind(name)
    .fetch_one(conn)
    .await
    .context("advancing counter")?;
    col(&row, "value")
}

/// How many times a named counter was advanced (0 if never).
pub async fn times_advanced(conn: &mut Conn, name: &str) -> Result<i64> {
    let row = query("SELECT value FROM counters WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
        .context("reading counter")?;
    Ok(row.map(|r| col::<i64>(&r, "value")).transpose()?.map_or(0, |v| v + 1))
}
