//! One-time enrolment codes: an officer's `/invite HOTEL` creates one, a front desk's
//! `/join CODE` uses it up, `/revoke CODE` withdraws it. A code is good once, until it
//! expires.

use anyhow::{Context, Result};

use super::{Conn, Row, col, query};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub code: String,
    pub station_id: String,
    pub hotel_id: i64,
    pub hotel_name: String,
    pub created_by: i64,
    pub expires_at: i64,
}

fn invite_from_row(r: &Row) -> Result<Invite> {
    Ok(Invite {
        code: col(r, "code")?,
        station_id: col(r, "station_id")?,
        hotel_id: col(r, "hotel_id")?,
        hotel_name: col(r, "hotel_name")?,
        created_by: col(r, "created_by")?,
        expires_at: col(r, "expires_at")?,
    })
}

pub async fn create(
    conn: &mut Conn,
    code: &str,
    station: &str,
    hotel_id: i64,
    officer: i64,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    query(
        "INSERT INTO invites (code, station_id, hotel_id, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(code)
    .bind(station)
    .bind(hotel_id)
    .bind(officer)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await
    .context("inserting invite")?;
    Ok(())
}

/// Why a code cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Unknown,
    Used,
    Expired,
    Revoked,
}

/// Uses the code up for `person`: the invite it was, or why it cannot be used. Only one of two
/// people racing for the same code gets it (the update is conditional).
pub async fn redeem(conn: &mut Conn, code: &str, person: i64, now: i64) -> Result<Result<Invite, Unusable>> {
    let row = query(
        "SELECT i.code, i.station_id, i.hotel_id, h.name AS hotel_name, i.created_by, i.expires_at, \
         i.used_at, i.revoked_at FROM invites i JOIN hotels h ON h.id = i.hotel_id WHERE i.code = $1",
    )
    .bind(code)
    .fetch_optional(&mut *conn)
    .await
    .context("loading invite")?;
    let Some(row) = row else {
        return Ok(Err(Unusable::Unknown));
    };
    if col::<Option<i64>>(&row, "revoked_at")?.is_some() {
        return Ok(Err(Unusable::Revoked));
    }
    if col::<Option<i64>>(&row, "used_at")?.is_some() {
        return Ok(Err(Unusable::Used));
    }
    let invite = invite_from_row(&row)?;
    if invite.expires_at <= now {
        return Ok(Err(Unusable::Expired));
    }
    let done = query(
        "UPDATE invites SET used_by = $2, used_at = $3 WHERE code = $1 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(code)
    .bind(person)
    .bind(now)
    .execute(conn)
    .await
    .context("using invite")?;
    if done.rows_affected() == 0 {
        return Ok(Err(Unusable::Used));
    }
    Ok(Ok(invite))
}

/// Withdraws an unused code of the station; `false` when there is none.
pub async fn revoke(conn: &mut Conn, station: &str, code: &str, now: i64) -> Result<bool> {
    let done = query(
        "UPDATE invites SET revoked_at = $3 WHERE code = $1 AND station_id = $2 \
         AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(code)
    .bind(station)
    .bind(now)
    .execute(conn)
    .await
    .context("revoking invite")?;
    Ok(done.rows_affected() == 1)
}

/// The station's codes still waiting to be used, soonest to expire first.
pub async fn pending(conn: &mut Conn, station: &str, now: i64) -> Result<Vec<Invite>> {
    let rows = query(
        "SELECT i.code, i.station_id, i.hotel_id, h.name AS hotel_name, i.created_by, i.expires_at \
         FROM invites i JOIN hotels h ON h.id = i.hotel_id \
         WHERE i.station_id = $1 AND i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2 \
         ORDER BY i.expires_at, i.code",
    )
    .bind(station)
    .bind(now)
    .fetch_all(conn)
    .await
    .context("listing pending invites")?;
    rows.iter().map(invite_from_row).collect()
}

/// A liaison of a station, with their hotel and when they last wrote to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Liaison {
    pub person_id: i64,
    pub handle: String,
    pub hotel_name: String,
    pub last_seen_at: i64,
}

/// The station's liaisons, by hotel.
pub async fn liaisons(conn: &mut Conn, station: &str) -> Result<Vec<Liaison>> {
    let rows = query(
        "SELECT p.id, p.handle, h.name AS hotel_name, \
         COALESCE((SELECT MAX(i.last_seen_at) FROM identities i WHERE i.person_id = p.id), 0) AS last_seen_at \
         FROM people p JOIN hotels h ON h.id = p.hotel_id \
         WHERE p.role = 'liaison' AND p.station_id = $1 ORDER BY h.name, p.handle",
    )
    .bind(station)
    .fetch_all(conn)
    .await
    .context("listing liaisons")?;
    rows.iter()
        .map(|r| {
            Ok(Liaison {
                person_id: col(r, "id")?,
                handle: col(r, "handle")?,
                hotel_name: col(r, "hotel_name")?,
                last_seen_at: col(r, "last_seen_at")?,
            })
        })
        .collect()
}

/// Makes the person a liaison of the hotel (and its station).
pub async fn enrol(conn: &mut Conn, person: i64, station: &str, hotel_id: i64) -> Result<()> {
    query("UPDATE people SET role = 'liaison', station_id = $2, hotel_id = $3, beat = NULL WHERE id = $1")
        .bind(person)
        .bind(station)
        .bind(hotel_id)
        .execute(conn)
        .await
        .context("enrolling liaison")?;
    Ok(())
}

/// Takes a liaison's hotel away: they are a resident again and see none of its tickets.
pub async fn unenrol(conn: &mut Conn, person: i64) -> Result<()> {
    query("UPDATE people SET role = 'resident', hotel_id = NULL WHERE id = $1 AND role = 'liaison'")
        .bind(person)
        .execute(conn)
        .await
        .context("revoking liaison")?;
    Ok(())
}
