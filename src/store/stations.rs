//! Stations, their beats and their hotels.

use anyhow::{Context, Result};

use super::{Conn, Row, col, query};
use crate::domain::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Station {
    pub id: String,
    pub name: String,
    pub lang: Lang,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hotel {
    pub id: i64,
    pub station_id: String,
    pub name: String,
    pub beat: Option<String>,
}

/// Adds a station; `Ok(false)` when the id is taken.
pub async fn add(conn: &mut Conn, id: &str, name: &str, lang: Lang, now: i64) -> Result<bool> {
    let done =
        query("INSERT INTO stations (id, name, lang, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(name)
            .bind(lang.code())
            .bind(now)
            .execute(conn)
            .await
            .context("inserting station")?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<Station>> {
    let row = query("SELECT id, name, lang FROM stations WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
        .context("loading station")?;
    row.map(|r| {
        Ok(Station {
            id: col(&r, "id")?,
            name: col(&r, "name")?,
            lang: Lang::parse(&col::<String>(&r, "lang")?).unwrap_or_default(),
        })
    })
    .transpose()
}

/// All station ids, in order.
pub async fn list(conn: &mut Conn) -> Result<Vec<String>> {
    let rows = query("SELECT id FROM stations ORDER BY id")
        .fetch_all(conn)
        .await
        .context("listing stations")?;
    rows.iter().map(|r| col(r, "id")).collect()
}

/// Records a beat the first time it is named.
pub async fn ensure_beat(conn: &mut Conn, station: &str, beat: &str) -> Result<()> {
    query("INSERT INTO beats (station_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(station)
        .bind(beat)
        .execute(conn)
        .await
        .context("inserting beat")?;
    Ok(())
}

/// The hotel of that name in the station, created (or moved to `beat`) as needed.
pub async fn ensure_hotel(conn: &mut Conn, station: &str, name: &str, beat: Option<&str>) -> Result<i64> {
    if let Some(beat) = beat {
        ensure_beat(&mut *conn, station, beat).await?;
    }
    query("INSERT INTO hotels (station_id, name, beat) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(station)
        .bind(name)
        .bind(beat)
        .execute(&mut *conn)
        .await
        .context("inserting hotel")?;
    if let Some(beat) = beat {
        query("UPDATE hotels SET beat = $3 WHERE station_id = $1 AND name = $2")
            .bind(station)
            .bind(name)
            .bind(beat)
            .execute(&mut *conn)
            .await
            .context("moving hotel to beat")?;
    }
    let row = query("SELECT id FROM hotels WHERE station_id = $1 AND name = $2")
        .bind(station)
        .bind(name)
        .fetch_one(conn)
        .await
        .context("loading hotel id")?;
    col(&row, "id")
}

fn hotel_from_row(r: &Row) -> Result<Hotel> {
    Ok(Hotel {
        id: col(r, "id")?,
        station_id: col(r, "station_id")?,
        name: col(r, "name")?,
        beat: col(r, "beat")?,
    })
}

pub async fn hotel(conn: &mut Conn, id: i64) -> Result<Option<Hotel>> {
    let row = query("SELECT id, station_id, name, beat FROM hotels WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
        .context("loading hotel")?;
    row.as_ref().map(hotel_from_row).transpose()
}

/// The name of a ticket's or person's hotel; empty when there is none.
pub async fn hotel_name(conn: &mut Conn, id: Option<i64>) -> Result<String> {
    match id {
        Some(id) => Ok(hotel(conn, id).await?.map(|h| h.name).unwrap_or_default()),
        None => Ok(String::new()),
    }
}

/// The station's hotel of that name, ignoring case.
pub async fn find_hotel(conn: &mut Conn, station: &str, name: &str) -> Result<Option<Hotel>> {
    let row = query("SELECT id, station_id, name, beat FROM hotels WHERE station_id = $1 AND LOWER(name) = LOWER($2)")
        .bind(station)
        .bind(name)
        .fetch_optional(conn)
        .await
        .context("finding hotel")?;
    row.as_ref().map(hotel_from_row).transpose()
}

/// How finely a hotel's last activity is kept: the watch counts days.
pub const HOTEL_ACTIVITY_RESOLUTION_MS: i64 = 3_600_000;

/// Notes that a front desk of the hotel was heard from (written at most once an hour).
pub async fn touch_hotel(conn: &mut Conn, hotel_id: i64, now: i64) -> Result<()> {
    query(
        "UPDATE hotels SET last_activity_at = $2 WHERE id = $1 AND (last_activity_at IS NULL OR last_activity_at < $3)",
    )
    .bind(hotel_id)
    .bind(now)
    .bind(now - HOTEL_ACTIVITY_RESOLUTION_MS)
    .execute(conn)
    .await
    .context("noting hotel activity")?;
    Ok(())
}

/// Hotels with enrolled front desks that have been silent since before `before` and whose
/// silence has not been flagged yet. A hotel never heard from starts its clock now.
pub async fn silent_hotels(conn: &mut Conn, before: i64, now: i64) -> Result<Vec<(Hotel, i64)>> {
    query("UPDATE hotels SET last_activity_at = $1 WHERE last_activity_at IS NULL")
        .bind(now)
        .execute(&mut *conn)
        .await
        .context("starting hotel activity clocks")?;
    let rows = query(
        "SELECT h.id, h.station_id, h.name, h.beat, h.last_activity_at FROM hotels h \
         WHERE h.last_activity_at < $1 AND (h.silence_flagged_at IS NULL OR h.silence_flagged_at < h.last_activity_at) \
         AND EXISTS (SELECT 1 FROM people p WHERE p.hotel_id = h.id AND p.role = 'liaison') ORDER BY h.id",
    )
    .bind(before)
    .fetch_all(conn)
    .await
    .context("finding silent hotels")?;
    rows.iter()
        .map(|r| Ok((hotel_from_row(r)?, col(r, "last_activity_at")?)))
        .collect()
}

/// Records that the hotel's silence was flagged; `false` if it already was.
pub async fn flag_silence(conn: &mut Conn, hotel_id: i64, now: i64) -> Result<bool> {
    let done = query(
        "UPDATE hotels SET silence_flagged_at = $2 WHERE id = $1 \
         AND (silence_flagged_at IS NULL OR silence_flagged_at < last_activity_at)",
    )
    .bind(hotel_id)
    .bind(now)
    .execute(conn)
    .await
    .context("flagging a silent hotel")?;
    Ok(done.rows_affected() == 1)
}

/// The station's retention period in days.
pub async fn retention_days(conn: &mut Conn, station: &str) -> Result<Option<i64>> {
    let row = query("SELECT retention_days FROM stations WHERE id = $1")
        .bind(station)
        .fetch_optional(conn)
        .await
        .context("loading retention period")?;
    row.as_ref().map(|r| col(r, "retention_days")).transpose()
}
