//! Small values kept in the database so they commit with what they cover: the Matrix sync
//! token, and the time of the last retention purge (so it runs once a day across restarts).

use anyhow::{Context, Result};

use super::{Conn, col, query};

pub async fn get(conn: &mut Conn, key: &str) -> Result<Option<String>> {
    let row = query("SELECT value FROM platform_state WHERE key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
        .context("loading platform state")?;
    row.as_ref().map(|r| col(r, "value")).transpose()
}

pub async fn set(conn: &mut Conn, key: &str, value: &str) -> Result<()> {
    query(
        "INSERT INTO platform_state (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(conn)
    .await
    .context("saving platform state")?;
    Ok(())
}
