//! Groups (Telegram chats, Matrix rooms, console groups) linked to a station.

use anyhow::{Context, Result};

use super::{Conn, Row, col, query};
use crate::domain::{GroupKind, Lang, Platform};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: i64,
    pub platform: Platform,
    pub chat_id: String,
    pub kind: GroupKind,
    pub station_id: String,
    pub active: bool,
    /// The language of the group's station (what the bot writes there).
    pub lang: Lang,
    /// When someone last wrote in it (epoch ms; kept to the day).
    pub last_active_at: i64,
}

fn from_row(r: &Row) -> Result<Group> {
    let platform: String = col(r, "platform")?;
    let kind: String = col(r, "kind")?;
    Ok(Group {
        id: col(r, "id")?,
        platform: Platform::parse(&platform).with_context(|| format!("unknown platform {platform}"))?,
        chat_id: col(r, "chat_id")?,
        kind: GroupKind::parse(&kind).with_context(|| format!("unknown group kind {kind}"))?,
        station_id: col(r, "station_id")?,
        active: col::<i64>(r, "active")? != 0,
        lang: Lang::parse(&col::<String>(r, "lang")?).unwrap_or_default(),
        last_active_at: col(r, "last_active_at")?,
    })
}

/// Links (or re-links) a chat to a station with a kind; returns the group id.
pub async fn link(
    conn: &mut Conn,
    platform: Platform,
    chat_id: &str,
    kind: GroupKind,
    station: &str,
    now: i64,
) -> Result<i64> {
    let row = query(
        "INSERT INTO groups (platform, chat_id, kind, station_id, active, created_at, last_active_at) VALUES ($1, $2, $3, $4, 1, $5, $5) \
         ON CONFLICT (platform, chat_id) DO UPDATE SET kind = excluded.kind, station_id = excluded.station_id, active = 1 \
         RETURNING id",
    )
    .bind(platform.as_str())
    .bind(chat_id)
    .bind(kind.as_str())
    .bind(station)
    .bind(now)
    .fetch_one(conn)
    .await
    .context("linking group")?;
    col(&row, "id")
}

pub async fn find(conn: &mut Conn, platform: Platform, chat_id: &str) -> Result<Option<Group>> {
    let row = query(
        "SELECT g.id, g.platform, g.chat_id, g.kind, g.station_id, g.active, g.last_active_at, s.lang FROM groups g \
         JOIN stations s ON s.id = g.station_id WHERE g.platform = $1 AND g.chat_id = $2",
    )
    .bind(platform.as_str())
    .bind(chat_id)
    .fetch_optional(conn)
    .await
    .context("loading group")?;
    row.as_ref().map(from_row).transpose()
}

/// Active groups of a station, optionally of one kind.
pub async fn of_station(conn: &mut Conn, station: &str, kind: Option<GroupKind>) -> Result<Vec<Group>> {
    let rows = query(
        "SELECT g.id, g.platform, g.chat_id, g.kind, g.station_id, g.active, g.last_active_at, s.lang FROM groups g \
         JOIN stations s ON s.id = g.station_id \
         WHERE g.station_id = $1 AND g.active = 1 AND ($2 IS NULL OR g.kind = $2) ORDER BY g.id",
    )
    .bind(station)
    .bind(kind.map(|k| k.as_str()))
    .fetch_all(conn)
    .await
    .context("listing groups")?;
    rows.iter().map(from_row).collect()
}

/// A chat got a new id on its platform (a Telegram group upgraded to a supergroup).
pub async fn move_chat(conn: &mut Conn, platform: Platform, old: &str, new: &str) -> Result<Option<Group>> {
    query("UPDATE groups SET chat_id = $3 WHERE platform = $1 AND chat_id = $2")
        .bind(platform.as_str())
        .bind(old)
        .bind(new)
        .execute(&mut *conn)
        .await
        .context("moving a group to its new chat id")?;
    find(conn, platform, new).await
}

/// The bot was removed from the chat: it stays linked but gets nothing more.
pub async fn deactivate(conn: &mut Conn, platform: Platform, chat_id: &str) -> Result<Option<Group>> {
    let done = query("UPDATE groups SET active = 0 WHERE platform = $1 AND chat_id = $2 AND active = 1")
        .bind(platform.as_str())
        .bind(chat_id)
        .execute(&mut *conn)
        .await
        .context("deactivating a group")?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    find(conn, platform, chat_id).await
}

pub async fn by_id(conn: &mut Conn, id: i64) -> Result<Option<Group>> {
    let row = query(
        "SELECT g.id, g.platform, g.chat_id, g.kind, g.station_id, g.active, g.last_active_at, s.lang FROM groups g \
         JOIN stations s ON s.id = g.station_id WHERE g.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .context("loading group by id")?;
    row.as_ref().map(from_row).transpose()
}

/// How stale a group's `last_active_at` may be before a message in it writes it again.
pub const ACTIVITY_RESOLUTION_MS: i64 = 86_400_000;

/// Someone wrote in the group at `now`.
pub async fn touch(conn: &mut Conn, id: i64, now: i64) -> Result<()> {
    query("UPDATE groups SET last_active_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await
        .context("noting a group's activity")?;
    Ok(())
}
