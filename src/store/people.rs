//! People, their roles, and their identities on each platform.

use anyhow::{Context, Result};

use super::{Conn, Row, col, query};
use crate::domain::{Lang, Platform, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    /// A short stable name (`wang`), used by admins, transcripts and `/assign`.
    pub handle: String,
    pub role: Role,
    pub station_id: Option<String>,
    pub beat: Option<String>,
    pub hotel_id: Option<i64>,
    pub duty: bool,
    pub lang: Option<Lang>,
    /// The language of the person's station, if they have one.
    pub station_lang: Option<Lang>,
    /// When a front desk of the person's hotel was last heard from (front desks only).
    pub hotel_active_at: Option<i64>,
    /// Their quiet hours (minutes after midnight, from and to); `None`: bot-scripts' default.
    /// `Some((-1, _))`: none.
    pub quiet: Option<(i64, i64)>,
    /// When the bot first knew them (epoch ms).
    pub created_at: i64,
}

/// Everything needed to create a person.
#[derive(Debug, Clone)]
pub struct NewPerson<'a> {
    pub handle: &'a str,
    pub role: Role,
    pub station_id: Option<&'a str>,
    pub beat: Option<&'a str>,
    pub hotel_id: Option<i64>,
    pub duty: bool,
    pub lang: Option<Lang>,
}

const COLUMNS: &str = "p.id, p.handle, p.role, p.station_id, p.beat, p.hotel_id, p.duty, p.lang, \
                       st.lang AS station_lang, ph.last_activity_at AS hotel_active_at, p.quiet_from, p.quiet_to, p.created_at";
/// Every person query joins the station, so a person's language needs no second query, and a
/// front desk's hotel, so the silent-hotel watch is fed without reading it again.
const FROM: &str = "people p LEFT JOIN stations st ON st.id = p.station_id LEFT JOIN hotels ph ON ph.id = p.hotel_id";

fn from_row(r: &Row) -> Result<Person> {
    let role: String = col(r, "role")?;
    let lang: Option<String> = col(r, "lang")?;
    Ok(Person {
        id: col(r, "id")?,
        handle: col(r, "handle")?,
        role: Role::parse(&role).with_context(|| format!("unknown role {role} in database"))?,
        station_id: col(r, "station_id")?,
        beat: col(r, "beat")?,
        hotel_id: col(r, "hotel_id")?,
        duty: col::<i64>(r, "duty")? != 0,
        lang: lang.as_deref().and_then(Lang::parse),
        station_lang: col::<Option<String>>(r, "station_lang")?
            .as_deref()
            .and_then(Lang::parse),
        hotel_active_at: col(r, "hotel_active_at")?,
        quiet: col::<Option<i64>>(r, "quiet_from")?.zip(col::<Option<i64>>(r, "quiet_to")?),
        created_at: col(r, "created_at")?,
    })
}

/// Sets a person's quiet hours: `Some((from, to))` in minutes after midnight, `Some((-1, -1))`
/// for none, `None` for bot-scripts' default.
pub async fn set_quiet(conn: &mut Conn, person_id: i64, quiet: Option<(i64, i64)>) -> Result<()> {
    query("UPDATE people SET quiet_from = $2, quiet_to = $3 WHERE id = $1")
        .bind(person_id)
        .bind(quiet.map(|q| q.0))
        .bind(quiet.map(|q| q.1))
        .execute(conn)
        .await
        .context("setting quiet hours")?;
    Ok(())
}

/// Creates a person, or updates role, station, beat, hotel, duty and language of the person
/// with that handle. Returns the id.
pub async fn upsert(conn: &mut Conn, p: &NewPerson<'_>, now: i64) -> Result<i64> {
    let row = query(
        "INSERT INTO people (handle, role, station_id, beat, hotel_id, duty, lang, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (handle) DO UPDATE SET role = excluded.role, station_id = excluded.station_id, \
         beat = excluded.beat, hotel_id = excluded.hotel_id, duty = excluded.duty, \
         lang = COALESCE(excluded.lang, people.lang) RETURNING id",
    )
    .bind(p.handle)
    .bind(p.role.as_str())
    .bind(p.station_id)
    .bind(p.beat)
    .bind(p.hotel_id)
    .bind(p.duty as i64)
    .bind(p.lang.map(|l| l.code()))
    .bind(now)
    .fetch_one(conn)
    .await
    .context("upserting person")?;
    col(&row, "id")
}

pub async fn by_id(conn: &mut Conn, id: i64) -> Result<Option<Person>> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE p.id = $1");
    let row = query(sql)
        .bind(id)
        .fetch_optional(conn)
        .await
        .context("loading person")?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_handle(conn: &mut Conn, handle: &str) -> Result<Option<Person>> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE p.handle = $1");
    let row = query(sql)
        .bind(handle)
        .fetch_optional(conn)
        .await
        .context("loading person by handle")?;
    row.as_ref().map(from_row).transpose()
}

/// The person behind a platform identity.
pub async fn by_identity(conn: &mut Conn, platform: Platform, external_id: &str) -> Result<Option<Person>> {
    Ok(seen(conn, platform, external_id).await?.map(|s| s.person))
}

/// What the store knows of the identity an event came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub person: Person,
    pub dm_chat: Option<String>,
    pub last_seen_at: i64,
}

/// The person behind a platform identity, with that identity's private chat and last use.
pub async fn seen(conn: &mut Conn, platform: Platform, external_id: &str) -> Result<Option<Seen>> {
    let sql = format!(
        "SELECT {COLUMNS}, i.dm_chat, i.last_seen_at FROM {FROM} JOIN identities i ON i.person_id = p.id \
         WHERE i.platform = $1 AND i.external_id = $2"
    );
    let row = query(sql)
        .bind(platform.as_str())
        .bind(external_id)
        .fetch_optional(conn)
        .await
        .context("loading identity")?;
    row.map(|r| {
        Ok(Seen {
            person: from_row(&r)?,
            dm_chat: col(&r, "dm_chat")?,
            last_seen_at: col(&r, "last_seen_at")?,
        })
    })
    .transpose()
}

/// Links a platform identity to a person and marks it as used now; `dm_chat` is where the
/// bot writes to them directly.
pub async fn link_identity(
    conn: &mut Conn,
    platform: Platform,
    external_id: &str,
    person_id: i64,
    dm_chat: Option<&str>,
    now: i64,
) -> Result<()> {
    query(
        "INSERT INTO identities (platform, external_id, person_id, dm_chat, last_seen_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (platform, external_id) DO UPDATE SET person_id = excluded.person_id, \
         dm_chat = COALESCE(excluded.dm_chat, identities.dm_chat), last_seen_at = excluded.last_seen_at",
    )
    .bind(platform.as_str())
    .bind(external_id)
    .bind(person_id)
    .bind(dm_chat)
    .bind(now)
    .execute(conn)
    .await
    .context("linking identity")?;
    Ok(())
}

/// Records the private chat of an identity the platform knows without one being opened (a
/// Telegram user's id), unless one is known already. "Used last" is not touched.
pub async fn remember_private_chat(conn: &mut Conn, platform: Platform, external_id: &str, chat: &str) -> Result<()> {
    query("UPDATE identities SET dm_chat = $3 WHERE platform = $1 AND external_id = $2 AND dm_chat IS NULL")
        .bind(platform.as_str())
        .bind(external_id)
        .bind(chat)
        .execute(conn)
        .await
        .context("remembering a private chat")?;
    Ok(())
}

/// Where to write to a person directly: the DM chat of the identity they used last.
pub async fn dm_target(conn: &mut Conn, person_id: i64) -> Result<Option<(Platform, String)>> {
    let row = query(
        "SELECT platform, dm_chat FROM identities WHERE person_id = $1 AND dm_chat IS NOT NULL \
         ORDER BY last_seen_at DESC, platform LIMIT 1",
    )
    .bind(person_id)
    .fetch_optional(conn)
    .await
    .context("loading DM target")?;
    let Some(row) = row else { return Ok(None) };
    let platform: String = col(&row, "platform")?;
    Ok(Platform::parse(&platform).map(|p| {
        (
            p,
            col::<Option<String>>(&row, "dm_chat")
                .ok()
                .flatten()
                .unwrap_or_default(),
        )
    }))
}

pub async fn set_lang(conn: &mut Conn, person_id: i64, lang: Lang) -> Result<()> {
    query("UPDATE people SET lang = $2 WHERE id = $1")
        .bind(person_id)
        .bind(lang.code())
        .execute(conn)
        .await
        .context("setting language")?;
    Ok(())
}

/// Gives a resident a home station the first time they are seen in one of its groups.
pub async fn adopt_station(conn: &mut Conn, person_id: i64, station: &str) -> Result<()> {
    query("UPDATE people SET station_id = $2 WHERE id = $1 AND station_id IS NULL")
        .bind(person_id)
        .bind(station)
        .execute(conn)
        .await
        .context("adopting station")?;
    Ok(())
}

/// Officers (and admins) of a station, optionally only those on `beat` or only duty officers.
pub async fn staff(conn: &mut Conn, station: &str, beat: Option<&str>, duty_only: bool) -> Result<Vec<Person>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE p.station_id = $1 AND p.role IN ('officer', 'admin') \
         AND ($2 IS NULL OR p.beat = $2) AND ($3 = 0 OR p.duty = 1) ORDER BY p.id"
    );
    let rows = query(sql)
        .bind(station)
        .bind(beat)
        .bind(duty_only as i64)
        .fetch_all(conn)
        .await
        .context("listing officers")?;
    rows.iter().map(from_row).collect()
}

/// `first` if anyone is in it; otherwise the station's duty officers; with none on duty, every
/// officer of the station. Every "who hears of this" in the bot falls back the same way.
pub async fn or_station_staff(conn: &mut Conn, station: &str, first: Vec<Person>) -> Result<Vec<Person>> {
    if !first.is_empty() {
        return Ok(first);
    }
    let duty = staff(&mut *conn, station, None, true).await?;
    if !duty.is_empty() {
        return Ok(duty);
    }
    staff(conn, station, None, false).await
}

/// The station admins of a station.
pub async fn admins(conn: &mut Conn, station: &str) -> Result<Vec<Person>> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE p.station_id = $1 AND p.role = 'admin' ORDER BY p.id");
    let rows = query(sql)
        .bind(station)
        .fetch_all(conn)
        .await
        .context("listing station admins")?;
    rows.iter().map(from_row).collect()
}

/// The officers on the beat of a hotel, and the hotel's name, in one query.
pub async fn hotel_beat_staff(conn: &mut Conn, hotel_id: i64) -> Result<Option<(String, Vec<Person>)>> {
    let sql = format!(
        "SELECT h.name AS hotel_name, {COLUMNS} FROM hotels h \
         LEFT JOIN people p ON p.station_id = h.station_id AND p.beat = h.beat AND p.role IN ('officer', 'admin') \
         LEFT JOIN stations st ON st.id = p.station_id LEFT JOIN hotels ph ON ph.id = p.hotel_id \
         WHERE h.id = $1 ORDER BY p.id"
    );
    let rows = query(sql)
        .bind(hotel_id)
        .fetch_all(conn)
        .await
        .context("loading hotel's beat officers")?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let name: String = col(first, "hotel_name")?;
    let mut staff = Vec::new();
    for r in &rows {
        if col::<Option<i64>>(r, "id")?.is_some() {
            staff.push(from_row(r)?);
        }
    }
    Ok(Some((name, staff)))
}

/// The private chats on a platform of every officer and station admin.
pub async fn staff_chats(conn: &mut Conn, platform: Platform) -> Result<Vec<String>> {
    let rows = query(
        "SELECT DISTINCT i.dm_chat FROM identities i JOIN people p ON p.id = i.person_id \
         WHERE i.platform = $1 AND i.dm_chat IS NOT NULL AND p.role IN ('officer', 'admin') ORDER BY i.dm_chat",
    )
    .bind(platform.as_str())
    .fetch_all(conn)
    .await
    .context("listing officers' private chats")?;
    rows.iter().map(|r| col(r, "dm_chat")).collect()
}

/// Residents of a station subscribed to `category`.
pub async fn subscribers(conn: &mut Conn, station: &str, category: &str) -> Result<Vec<Person>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} JOIN subscriptions s ON s.person_id = p.id \
         WHERE p.station_id = $1 AND s.category = $2 ORDER BY p.id"
    );
    let rows = query(sql)
        .bind(station)
        .bind(category)
        .fetch_all(conn)
        .await
        .context("listing subscribers")?;
    rows.iter().map(from_row).collect()
}
