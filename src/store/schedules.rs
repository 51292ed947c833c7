//! What the scheduler's recurring posts keep: stations' and groups' schedules, each
//! recipient's deck of tips, campaigns, the pictures the bot made (and their uploads per
//! platform), and which once-per-slot jobs already ran.

use std::collections::HashMap;

use anyhow::{Context, Result};

use super::{Conn, col, query};
use crate::domain::Cadence;

/// A station's scope key in `schedules`.
pub fn station_scope(station: &str) -> String {
    format!("station:{station}")
}

/// A group's scope key in `schedules` and recipient key in `tip_decks`.
pub fn group_key(group_id: i64) -> String {
    format!("group:{group_id}")
}

/// A person's recipient key in `tip_decks`.
pub fn person_key(person_id: i64) -> String {
    format!("person:{person_id}")
}

pub async fn set(conn: &mut Conn, scope: &str, what: &str, spec: &str, by: Option<i64>, now: i64) -> Result<()> {
    query(
        "INSERT INTO schedules (scope, what, spec, set_by, set_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (scope, what) DO UPDATE SET spec = excluded.spec, set_by = excluded.set_by, set_at = excluded.set_at",
    )
    .bind(scope)
    .bind(what)
    .bind(spec)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await
    .context("setting a schedule")?;
    Ok(())
}

/// Forgets a scope's own schedule (it follows its station's, or bot-scripts', again).
pub async fn clear(conn: &mut Conn, scope: &str, what: &str) -> Result<()> {
    query("DELETE FROM schedules WHERE scope = $1 AND what = $2")
        .bind(scope)
        .bind(what)
        .execute(conn)
        .await
        .context("clearing a schedule")?;
    Ok(())
}

/// Where the schedule in force is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetBy {
    Group,
    Station,
    Default,
}

/// The schedule in force for a station's group (or, with `None`, the station) among the
/// `overrides` of [`all`]: the group's own, else the station's, else `default` (bot-scripts').
pub fn in_force(
    overrides: &HashMap<String, String>,
    station: &str,
    group: Option<i64>,
    default: Cadence,
) -> (Cadence, SetBy) {
    let parsed = |key: String| overrides.get(&key).and_then(|spec| Cadence::parse(spec));
    if let Some(c) = group.and_then(|g| parsed(group_key(g))) {
        return (c, SetBy::Group);
    }
    match parsed(station_scope(station)) {
        Some(c) => (c, SetBy::Station),
        None => (default, SetBy::Default),
    }
}

/// Every scope's own schedule of `what`: scope → spec.
pub async fn all(conn: &mut Conn, what: &str) -> Result<HashMap<String, String>> {
    let rows = query("SELECT scope, spec FROM schedules WHERE what = $1")
        .bind(what)
        .fetch_all(conn)
        .await
        .context("loading schedules")?;
    rows.iter().map(|r| Ok((col(r, "scope")?, col(r, "spec")?))).collect()
}

/// One recipient's deck: the cards of this round dealt so far, the suit dealt last, the
/// last slot served and when a tip last went out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deck {
    pub dealt: Vec<String>,
    pub last_suit: Option<String>,
    pub last_slot: i64,
    pub last_sent_at: i64,
}

/// Every deck whose recipient key starts with `prefix` (`group:` or `person:`).
pub async fn decks(conn: &mut Conn, prefix: &str) -> Result<HashMap<String, Deck>> {
    let rows =
        query("SELECT recipient, dealt, last_suit, last_slot, last_sent_at FROM tip_decks WHERE recipient LIKE $1")
            .bind(format!("{prefix}%"))
            .fetch_all(conn)
            .await
            .context("loading tip decks")?;
    rows.iter()
        .map(|r| {
            let dealt: String = col(r, "dealt")?;
            Ok((
                col(r, "recipient")?,
                Deck {
                    dealt: serde_json::from_str(&dealt).unwrap_or_default(),
                    last_suit: col(r, "last_suit")?,
                    last_slot: col(r, "last_slot")?,
                    last_sent_at: col(r, "last_sent_at")?,
                },
            ))
        })
        .collect()
}

/// Rows per statement when saving decks.
const DECKS_PER_STATEMENT: usize = 200;

/// Writes decks (inserting or replacing), 200 to a statement.
pub async fn save_decks(conn: &mut Conn, decks: &[(String, Deck)]) -> Result<()> {
    for chunk in decks.chunks(DECKS_PER_STATEMENT) {
        let mut sql =
            String::from("INSERT INTO tip_decks (recipient, dealt, last_suit, last_slot, last_sent_at) VALUES ");
        for i in 0..chunk.len() {
            let n = i * 5;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5));
        }
        sql.push_str(
            " ON CONFLICT (recipient) DO UPDATE SET dealt = excluded.dealt, last_suit = excluded.last_suit, \
             last_slot = excluded.last_slot, last_sent_at = excluded.last_sent_at",
        );
        let mut q = query(sql);
        for (key, deck) in chunk {
            q = q
                .bind(key.as_str())
                .bind(serde_json::to_string(&deck.dealt)?)
                .bind(deck.last_suit.clone())
                .bind(deck.last_slot)
                .bind(deck.last_sent_at);
        }
        q.execute(&mut *conn).await.context("saving tip decks")?;
    }
    Ok(())
}

/// A campaign: a suit first in a station's tips until `ends_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub suit: String,
    pub starts_at: i64,
    pub ends_at: i64,
}

pub async fn add_campaign(conn: &mut Conn, station: &str, c: &Campaign, officer: Option<i64>) -> Result<()> {
    query("INSERT INTO campaigns (station_id, suit, starts_at, ends_at, officer_id) VALUES ($1, $2, $3, $4, $5)")
        .bind(station)
        .bind(c.suit.as_str())
        .bind(c.starts_at)
        .bind(c.ends_at)
        .bind(officer)
        .execute(conn)
        .await
        .context("adding a campaign")?;
    Ok(())
}

/// Ends a station's campaigns running at `now`; returns how many.
pub async fn end_campaigns(conn: &mut Conn, station: &str, now: i64) -> Result<u64> {
    let done = query("UPDATE campaigns SET ends_at = $2 WHERE station_id = $1 AND starts_at <= $2 AND ends_at > $2")
        .bind(station)
        .bind(now)
        .execute(conn)
        .await
        .context("ending campaigns")?;
    Ok(done.rows_affected())
}

/// Campaigns still running at or after `from`, by station.
pub async fn campaigns_from(conn: &mut Conn, from: i64) -> Result<HashMap<String, Vec<Campaign>>> {
    let rows = query("SELECT station_id, suit, starts_at, ends_at FROM campaigns WHERE ends_at > $1 ORDER BY id")
        .bind(from)
        .fetch_all(conn)
        .await
        .context("loading campaigns")?;
    let mut out: HashMap<String, Vec<Campaign>> = HashMap::new();
    for r in &rows {
        out.entry(col(r, "station_id")?).or_default().push(Campaign {
            suit: col(r, "suit")?,
            starts_at: col(r, "starts_at")?,
            ends_at: col(r, "ends_at")?,
        });
    }
    Ok(out)
}

/// Runs `job` once: true if this call claimed it, false if it ran before.
pub async fn claim_run(conn: &mut Conn, job: &str, now: i64) -> Result<bool> {
    let done = query("INSERT INTO schedule_runs (job, ran_at) VALUES ($1, $2) ON CONFLICT (job) DO NOTHING")
        .bind(job)
        .bind(now)
        .execute(conn)
        .await
        .context("claiming a scheduled job")?;
    Ok(done.rows_affected() == 1)
}

/// Keeps a picture (PNG) under `key`, or finds the one kept there; returns its id.
pub async fn put_media(conn: &mut Conn, key: &str, png: &[u8], now: i64) -> Result<i64> {
    use base64::Engine as _;
    if let Some(id) = media_id(conn, key).await? {
        return Ok(id);
    }
    query("INSERT INTO media (key, png_base64, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(base64::engine::general_purpose::STANDARD.encode(png))
        .bind(now)
        .execute(&mut *conn)
        .await
        .context("keeping a picture")?;
    media_id(conn, key).await?.context("a picture just kept")
}

pub async fn media_id(conn: &mut Conn, key: &str) -> Result<Option<i64>> {
    let row = query("SELECT id FROM media WHERE key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
        .context("finding a picture")?;
    row.map(|r| col(&r, "id")).transpose()
}

/// A kept picture's PNG bytes.
pub async fn media_png(conn: &mut Conn, id: i64) -> Result<Option<Vec<u8>>> {
    use base64::Engine as _;
    let row = query("SELECT png_base64 FROM media WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
        .context("loading a picture")?;
    let Some(row) = row else { return Ok(None) };
    let text: String = col(&row, "png_base64")?;
    Ok(Some(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .context("a kept picture is not base64")?,
    ))
}

/// The platform's reference to a picture uploaded there before.
pub async fn upload_reference(conn: &mut Conn, media: i64, platform: &str) -> Result<Option<String>> {
    let row = query("SELECT reference FROM media_uploads WHERE media_id = $1 AND platform = $2")
        .bind(media)
        .bind(platform)
        .fetch_optional(conn)
        .await
        .context("finding a picture's upload")?;
    row.map(|r| col(&r, "reference")).transpose()
}

pub async fn remember_upload(conn: &mut Conn, media: i64, platform: &str, reference: &str) -> Result<()> {
    query("INSERT INTO media_uploads (media_id, platform, reference) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(media)
        .bind(platform)
        .bind(reference)
        .execute(conn)
        .await
        .context("remembering a picture's upload")?;
    Ok(())
}

/// A linked group as the tip schedule sees it.
#[derive(Debug, Clone)]
pub struct TipGroup {
    pub id: i64,
    pub platform: crate::domain::Platform,
    pub chat_id: String,
    pub station_id: String,
    pub lang: crate::domain::Lang,
    pub kind: String,
    pub created_at: i64,
    pub last_active_at: i64,
}

/// Every active group (a group the bot was removed from is inactive), of one station or all,
/// leaving out those whose officer unticked `topic` (`/subscribe` in the group).
pub async fn tip_groups(conn: &mut Conn, station: Option<&str>, topic: Option<&str>) -> Result<Vec<TipGroup>> {
    let rows = query(
        "SELECT g.id, g.platform, g.chat_id, g.station_id, g.kind, g.created_at, g.last_active_at, s.lang \
         FROM groups g JOIN stations s ON s.id = g.station_id \
         WHERE g.active = 1 AND ($1 IS NULL OR g.station_id = $1) \
         AND ($2 IS NULL OR NOT EXISTS (SELECT 1 FROM group_muted_topics m WHERE m.group_id = g.id AND m.topic = $2)) \
         ORDER BY g.id",
    )
    .bind(station)
    .bind(topic)
    .fetch_all(conn)
    .await
    .context("listing groups for tips")?;
    rows.iter()
        .map(|r| {
            let platform: String = col(r, "platform")?;
            Ok(TipGroup {
                id: col(r, "id")?,
                platform: crate::domain::Platform::parse(&platform)
                    .with_context(|| format!("unknown platform {platform}"))?,
                chat_id: col(r, "chat_id")?,
                station_id: col(r, "station_id")?,
                lang: crate::domain::Lang::parse(&col::<String>(r, "lang")?).unwrap_or_default(),
                kind: col(r, "kind")?,
                created_at: col(r, "created_at")?,
                last_active_at: col(r, "last_active_at")?,
            })
        })
        .collect()
}

/// When each station last sent an alert about `topic` (its sent time), for those that did
/// since `since`.
pub async fn last_alert_about(conn: &mut Conn, topic: &str, since: i64) -> Result<HashMap<String, i64>> {
    let rows = query(
        "SELECT station_id, MAX(sent_at) AS at FROM alerts WHERE topic = $1 AND sent_at IS NOT NULL AND sent_at > $2 \
         GROUP BY station_id",
    )
    .bind(topic)
    .bind(since)
    .fetch_all(conn)
    .await
    .context("finding recent alerts by topic")?;
    rows.iter()
        .map(|r| Ok((col(r, "station_id")?, col(r, "at")?)))
        .collect()
}

/// Forgets charts made before `media_before` (and their uploads; a chart asked for again is
/// drawn again) and job records older than `runs_before`.
pub async fn forget_before(conn: &mut Conn, media_before: i64, runs_before: i64) -> Result<()> {
    query("DELETE FROM media_uploads WHERE media_id IN (SELECT id FROM media WHERE created_at < $1)")
        .bind(media_before)
        .execute(&mut *conn)
        .await
        .context("forgetting old uploads")?;
    query("DELETE FROM media WHERE created_at < $1")
        .bind(media_before)
        .execute(&mut *conn)
        .await
        .context("forgetting old charts")?;
    query("DELETE FROM schedule_runs WHERE ran_at < $1")
        .bind(runs_before)
        .execute(&mut *conn)
        .await
        .context("forgetting old job records")?;
    Ok(())
}
