//! Reviews: a rating of 2 or less opens one for the station admin, who traces the case back
//! and closes the review with a finding.

use anyhow::{Context, Result};

use super::{Conn, Row, col, query};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub id: i64,
    pub ticket_id: i64,
    pub station_id: String,
    pub rating: i64,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub finding: Option<String>,
}

const COLUMNS: &str = "id, ticket_id, station_id, rating, opened_at, closed_at, finding";

fn from_row(r: &Row) -> Result<Review> {
    Ok(Review {
        id: col(r, "id")?,
        ticket_id: col(r, "ticket_id")?,
        station_id: col(r, "station_id")?,
        rating: col(r, "rating")?,
        opened_at: col(r, "opened_at")?,
        closed_at: col(r, "closed_at")?,
        finding: col(r, "finding")?,
    })
}

pub async fn open(conn: &mut Conn, ticket: i64, station: &str, rating: i64, now: i64) -> Result<i64> {
    let row =
        query("INSERT INTO reviews (ticket_id, station_id, rating, opened_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(ticket)
            .bind(station)
            .bind(rating)
            .bind(now)
            .fetch_one(conn)
            .await
            .context("opening a review")?;
    col(&row, "id")
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Review>> {
    let sql = format!("SELECT {COLUMNS} FROM reviews WHERE id = $1");
    let row = query(sql)
        .bind(id)
        .fetch_optional(conn)
        .await
        .context("loading a review")?;
    row.as_ref().map(from_row).transpose()
}

/// The review opened for a ticket, if any.
pub async fn of_ticket(conn: &mut Conn, ticket: i64) -> Result<Option<Review>> {
    let sql = format!("SELECT {COLUMNS} FROM reviews WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1");
    let row = query(sql)
        .bind(ticket)
        .fetch_optional(conn)
        .await
        .context("loading a ticket's review")?;
    row.as_ref().map(from_row).transpose()
}

/// A station's reviews still open, oldest first.
pub async fn open_of_station(conn: &mut Conn, station: &str) -> Result<Vec<Review>> {
    let sql = format!("SELECT {COLUMNS} FROM reviews WHERE station_id = $1 AND closed_at IS NULL ORDER BY id");
    let rows = query(sql)
        .bind(station)
        .fetch_all(conn)
        .await
        .context("listing open reviews")?;
    rows.iter().map(from_row).collect()
}

/// Closes an open review with the admin's finding; `false` if it was closed already.
pub async fn close(conn: &mut Conn, id: i64, by: i64, finding: &str, now: i64) -> Result<bool> {
    let done =
        query("UPDATE reviews SET closed_at = $4, closed_by = $2, finding = $3 WHERE id = $1 AND closed_at IS NULL")
            .bind(id)
            .bind(by)
            .bind(finding)
            .bind(now)
            .execute(conn)
            .await
            .context("closing a review")?;
    Ok(done.rows_affected() == 1)
}
