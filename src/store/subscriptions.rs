//! Who subscribed by private chat to which topic (weather, fraud, traffic, security, missing,
//! tips), and which topics an officer unticked for a group.

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

/// The topics unticked for a group.
pub async fn group_muted(conn: &mut Conn, group_id: i64) -> Result<Vec<String>> {
    let rows = query("SELECT topic FROM group_muted_topics WHERE group_id = $1 ORDER BY topic")
        .bind(group_id)
        .fetch_all(conn)
        .await
        .context("listing a group's unticked topics")?;
    rows.iter().map(|r| col(r, "topic")).collect()
}

/// Unticks (`muted`) or ticks a topic for a group.
pub async fn set_group_muted(conn: &mut Conn, group_id: i64, topic: &str, muted: bool) -> Result<()> {
    let sql = if muted {
        "INSERT INTO group_muted_topics (group_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM group_muted_topics WHERE group_id = $1 AND topic = $2"
    };
    query(sql)
        .bind(group_id)
        .bind(topic)
        .execute(conn)
        .await
        .context("changing a group's topics")?;
    Ok(())
}

/// The groups of a station that unticked `topic`.
pub async fn groups_muting(conn: &mut Conn, topic: &str) -> Result<std::collections::HashSet<i64>> {
    let rows = query("SELECT group_id FROM group_muted_topics WHERE topic = $1")
        .bind(topic)
        .fetch_all(conn)
        .await
        .context("listing groups that unticked a topic")?;
    rows.iter().map(|r| col(r, "group_id")).collect()
}
