//! What FAQ answers need from the store: a station's facts (address, phone, hours) and its own
//! FAQ entries, learnt from officers' answers, with a version that tells each replica when to
//! rebuild its index of them.

use anyhow::{Context, Result};

use super::{Conn, Row, col, query};

/// The facts an FAQ answer may name as `{station.KEY}`; `None` is not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub name: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub hours: Option<String>,
    pub household_hours: Option<String>,
    /// Bumped on every change of the station's own FAQ.
    pub faq_version: i64,
}

impl Facts {
    /// The value of `{station.KEY}`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        match key {
            "name" => Some(self.name.as_str()),
            "address" => self.address.as_deref(),
            "phone" => self.phone.as_deref(),
            "hours" => self.hours.as_deref(),
            "household_hours" => self.household_hours.as_deref(),
            _ => None,
        }
        .filter(|v| !v.trim().is_empty())
    }
}

pub async fn facts(conn: &mut Conn, station: &str) -> Result<Option<Facts>> {
    let row = query("SELECT name, address, phone, hours, household_hours, faq_version FROM stations WHERE id = $1")
        .bind(station)
        .fetch_optional(conn)
        .await
        .context("loading station facts")?;
    row.map(|r| {
        Ok(Facts {
            name: col(&r, "name")?,
            address: col(&r, "address")?,
            phone: col(&r, "phone")?,
            hours: col(&r, "hours")?,
            household_hours: col(&r, "household_hours")?,
            faq_version: col(&r, "faq_version")?,
        })
    })
    .transpose()
}

/// Sets one fact (`address`, `phone`, `hours`, `household_hours`); `None` clears it.
/// `Ok(false)` when there is no such station.
pub async fn set_fact(conn: &mut Conn, station: &str, key: &str, value: Option<&str>) -> Result<bool> {
    let column = match key {
        "address" => "address",
        "phone" => "phone",
        "hours" => "hours",
        "household_hours" => "household_hours",
        other => anyhow::bail!("no station fact `{other}`"),
    };
    let sql = format!("UPDATE stations SET {column} = $2 WHERE id = $1");
    let done = query(sql)
        .bind(station)
        .bind(value)
        .execute(conn)
        .await
        .context("setting station fact")?;
    Ok(done.rows_affected() == 1)
}

/// A station's own FAQ entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationEntry {
    pub id: i64,
    pub station_id: String,
    pub question: String,
    pub examples: Vec<String>,
    pub answer: String,
}

fn entry(r: &Row) -> Result<StationEntry> {
    let examples: String = col(r, "examples")?;
    Ok(StationEntry {
        id: col(r, "id")?,
        station_id: col(r, "station_id")?,
        question: col(r, "question")?,
        examples: examples
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        answer: col(r, "answer")?,
    })
}

pub async fn list(conn: &mut Conn, station: &str) -> Result<Vec<StationEntry>> {
    let rows =
        query("SELECT id, station_id, question, examples, answer FROM station_faq WHERE station_id = $1 ORDER BY id")
            .bind(station)
            .fetch_all(conn)
            .await
            .context("listing station FAQ")?;
    rows.iter().map(entry).collect()
}

pub async fn get(conn: &mut Conn, station: &str, id: i64) -> Result<Option<StationEntry>> {
    let row =
        query("SELECT id, station_id, question, examples, answer FROM station_faq WHERE id = $1 AND station_id = $2")
            .bind(id)
            .bind(station)
            .fetch_optional(conn)
            .await
            .context("loading station FAQ entry")?;
    row.as_ref().map(entry).transpose()
}

async fn bump(conn: &mut Conn, station: &str) -> Result<()> {
    query("UPDATE stations SET faq_version = faq_version + 1 WHERE id = $1")
        .bind(station)
        .execute(conn)
        .await
        .context("bumping station FAQ version")?;
    Ok(())
}

pub async fn insert(conn: &mut Conn, station: &str, question: &str, answer: &str, by: i64, now: i64) -> Result<i64> {
    let row = query(
        "INSERT INTO station_faq (station_id, question, answer, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(station)
    .bind(question)
    .bind(answer)
    .bind(by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .context("adding station FAQ entry")?;
    bump(conn, station).await?;
    col(&row, "id")
}

/// Which text of an entry to replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// What residents are told.
    Answer,
    /// The phrasing residents' questions are matched against (and `/faq` lists).
    Question,
}

/// Replaces the answer or the phrasing; `Ok(false)` when the station has no such entry.
pub async fn set_text(conn: &mut Conn, station: &str, id: i64, part: Part, text: &str, now: i64) -> Result<bool> {
    let sql = match part {
        Part::Answer => "UPDATE station_faq SET answer = $3, updated_at = $4 WHERE id = $1 AND station_id = $2",
        Part::Question => "UPDATE station_faq SET question = $3, updated_at = $4 WHERE id = $1 AND station_id = $2",
    };
    let done = query(sql)
        .bind(id)
        .bind(station)
        .bind(text)
        .bind(now)
        .execute(&mut *conn)
        .await
        .context("editing station FAQ entry")?;
    bump(conn, station).await?;
    Ok(done.rows_affected() == 1)
}

/// Adds another phrasing, appended in one statement (two officers adding at once both keep
/// theirs); `Ok(false)` when the station has no such entry.
pub async fn add_example(conn: &mut Conn, station: &str, id: i64, example: &str, now: i64) -> Result<bool> {
    let done = query(
        "UPDATE station_faq SET examples = CASE WHEN examples = '' THEN $3 ELSE examples || $5 || $3 END, \
         updated_at = $4 WHERE id = $1 AND station_id = $2",
    )
    .bind(id)
    .bind(station)
    .bind(example.replace('\n', " "))
    .bind(now)
    .bind("\n")
    .execute(&mut *conn)
    .await
    .context("adding an example to a station FAQ entry")?;
    bump(conn, station).await?;
    Ok(done.rows_affected() == 1)
}

/// `Ok(false)` when the station has no such entry.
pub async fn remove(conn: &mut Conn, station: &str, id: i64) -> Result<bool> {
    let done = query("DELETE FROM station_faq WHERE id = $1 AND station_id = $2")
        .bind(id)
        .bind(station)
        .execute(&mut *conn)
        .await
        .context("removing station FAQ entry")?;
    bump(conn, station).await?;
    Ok(done.rows_affected() == 1)
}
