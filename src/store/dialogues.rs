//! Persisted conversations: one open dialogue per person, as JSON, with a nonce that buttons
//! carry so a press on an old question is recognised as expired.

use anyhow::{Context, Result};

use super::{Conn, col, query};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDialogue {
    pub nonce: i64,
    pub state: String,
    pub updated_at: i64,
}

pub async fn get(conn: &mut Conn, person_id: i64) -> Result<Option<StoredDialogue>> {
    let row = query("SELECT nonce, state, updated_at FROM dialogues WHERE person_id = $1")
        .bind(person_id)
        .fetch_optional(conn)
        .await
        .context("loading dialogue")?;
    row.map(|r| {
        Ok(StoredDialogue {
            nonce: col(&r, "nonce")?,
            state: col(&r, "state")?,
            updated_at: col(&r, "updated_at")?,
        })
    })
    .transpose()
}

pub async fn put(conn: &mut Conn, person_id: i64, nonce: i64, state: &str, now: i64) -> Result<()> {
    query(
        "INSERT INTO dialogues (person_id, nonce, state, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (person_id) DO UPDATE SET nonce = excluded.nonce, state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(person_id)
    .bind(nonce)
    .bind(state)
    .bind(now)
    .execute(conn)
    .await
    .context("saving dialogue")?;
    Ok(())
}

pub async fn delete(conn: &mut Conn, person_id: i64) -> Result<()> {
    query("DELETE FROM dialogues WHERE person_id = $1")
        .bind(person_id)
        .execute(conn)
        .await
        .context("ending dialogue")?;
    Ok(())
}

/// Drops dialogues untouched since `before`; returns how many.
pub async fn expire(conn: &mut Conn, before: i64) -> Result<u64> {
    let done = query("DELETE FROM dialogues WHERE updated_at < $1")
        .bind(before)
        .execute(conn)
        .await
        .context("expiring dialogues")?;
    Ok(done.rows_affected())
}
