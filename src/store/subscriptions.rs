//! Who subscribed by private chat to which category (alerts, tips).

use anyhow::{Context, Result};

use super::{Conn, col, query};

pub async fn subscribe(conn: &mut Conn, person_id: i64, category: &str) -> Result<()> {
    query("INSERT INTO subscriptions (person_id, category) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(person_id)
        .bind(category)
        .execute(conn)
        .await
        .context("subscribing")?;
    Ok(())
}

/// Removes one category, or all with `None`.
pub async fn unsubscribe(conn: &mut Conn, person_id: i64, category: Option<&str>) -> Result<()> {
    query("DELETE FROM subscriptions WHERE person_id = $1 AND ($2 IS NULL OR category = $2)")
        .bind(person_id)
        .bind(category)
        .execute(conn)
        .await
        .context("unsubscribing")?;
    Ok(())
}

pub async fn subscriptions(conn: &mut Conn, person_id: i64) -> Result<Vec<String>> {
    let rows = query("SELECT category FROM subscriptions WHERE person_id = $1 ORDER BY category")
        .bind(person_id)
        .fetch_all(conn)
        .await
        .context("listing subscriptions")?;
    rows.iter().map(|r| col(r, "category")).collect()
}
