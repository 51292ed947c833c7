//! Alerts: drafted by an officer, confirmed, fanned out through the outbox.

use anyhow::{Context, Result};

use super::sql::Query;
use super::{Conn, col, col_enum, query};
use crate::cap::{Area, Category, Certainty, Severity, Urgency};
use crate::domain::{AlertAudience, AlertLevel, AlertStatus};

/// An alert's CAP fields beyond its text (the description).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertCap {
    /// What it is about, for residents' and groups' choices.
    pub topic: crate::domain::Topic,
    pub category: Category,
    pub event: Option<String>,
    pub urgency: Urgency,
    pub severity: Severity,
    pub certainty: Certainty,
    pub headline: Option<String>,
    pub instruction: Option<String>,
    /// The area's description, shapes and codes.
    pub area: Area,
    pub effective_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// `officer`, or the feed an official warning came from.
    pub source: String,
    /// A warning from a feed: its text per language (`zh`, `en`).
    pub texts: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: i64,
    pub station_id: String,
    pub officer_id: i64,
    pub level: AlertLevel,
    pub audience: AlertAudience,
    pub text: String,
    pub status: AlertStatus,
    pub targets: i64,
    pub summary_sent: bool,
    /// The officer's message edited in place with the delivery progress (an outbox id).
    pub progress_message_id: Option<i64>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// Copies held for residents' quiet hours, and groups that unticked its topic.
    pub held: i64,
    pub unsubscribed: i64,
    pub cap: AlertCap,
    /// A missing-person or wanted notice: its kind, and its photo with the platform it is on.
    pub notice: Option<Notice>,
}

/// What makes an alert a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `missing` or `wanted`.
    pub kind: String,
    pub photo: Option<(crate::domain::Platform, String)>,
}

impl Alert {
    /// Its text in `lang`: a warning from a feed has one per language, an officer's one.
    pub fn text_in(&self, lang: crate::domain::Lang) -> &str {
        self.cap
            .texts
            .get(lang.code())
            .map(String::as_str)
            .unwrap_or(&self.text)
    }
    /// Whether it has expired by `now`.
    pub fn expired_at(&self, now: i64) -> bool {
        self.cap.expires_at.is_some_and(|at| at <= now)
    }
}

/// Binds an alert's CAP fields, in the order of [`CAP_COLUMNS`], after what `q` has bound.
fn bind_cap(q: Query, cap: &AlertCap) -> Result<Query> {
    let area = serde_json::to_string(&cap.area).context("writing an alert's area")?;
    let texts = (!cap.texts.is_empty())
        .then(|| serde_json::to_string(&cap.texts))
        .transpose()
        .context("writing an alert's texts")?;
    Ok(q.bind(cap.category.as_str())
        .bind(cap.event.as_deref())
        .bind(cap.urgency.as_str())
        .bind(cap.severity.as_str())
        .bind(cap.certainty.as_str())
        .bind(cap.headline.as_deref())
        .bind(cap.instruction.as_deref())
        .bind(cap.area.description.as_str())
        .bind(area)
        .bind(cap.effective_at)
        .bind(cap.expires_at)
        .bind(texts)
        .bind(cap.topic.as_str()))
}

/// The columns [`bind_cap`] binds, in its order.
const CAP_COLUMNS: [&str; 13] = [
    "category",
    "event",
    "urgency",
    "severity",
    "certainty",
    "headline",
    "instruction",
    "area_desc",
    "area_json",
    "effective_at",
    "expires_at",
    "texts_json",
    "topic",
];

#[allow(clippy::too_many_arguments)]
pub async fn insert_draft(
    conn: &mut Conn,
    station: &str,
    officer: i64,
    level: AlertLevel,
    audience: AlertAudience,
    text: &str,
    cap: &AlertCap,
    now: i64,
) -> Result<i64> {
    let placeholders: Vec<String> = (8..8 + CAP_COLUMNS.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO alerts (station_id, officer_id, level, audience, text, source, created_at, status, {}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', {}) RETURNING id",
        CAP_COLUMNS.join(", "),
        placeholders.join(", ")
    );
    let q = query(sql)
        .bind(station)
        .bind(officer)
        .bind(level.as_str())
        .bind(audience.as_str())
        .bind(text)
        .bind(cap.source.as_str())
        .bind(now);
    let row = bind_cap(q, cap)?.fetch_one(conn).await.context("drafting alert")?;
    col(&row, "id")
}

const ALERT_COLUMNS: &str = "id, station_id, officer_id, level, audience, text, status, targets, summary_sent, \
     progress_message_id, created_at, sent_at, category, event, urgency, severity, certainty, headline, \
     instruction, area_desc, area_json, effective_at, expires_at, source, texts_json, topic, held, unsubscribed, notice_kind, photo, photo_platform";

fn alert_from_row(r: &super::Row) -> Result<Alert> {
    let level: String = col(r, "level")?;
    let audience: String = col(r, "audience")?;
    let mut area: Area = match col::<Option<String>>(r, "area_json")? {
        Some(json) => serde_json::from_str(&json).context("reading an alert's area")?,
        None => Area::default(),
    };
    area.description = col::<Option<String>>(r, "area_desc")?.unwrap_or_default();
    let texts = match col::<Option<String>>(r, "texts_json")? {
        Some(json) => serde_json::from_str(&json).context("reading an alert's texts")?,
        None => Default::default(),
    };
    Ok(Alert {
        id: col(r, "id")?,
        station_id: col(r, "station_id")?,
        officer_id: col(r, "officer_id")?,
        level: AlertLevel::parse(&level).with_context(|| format!("unknown level {level}"))?,
        audience: AlertAudience::parse(&audience).with_context(|| format!("unknown audience {audience}"))?,
        text: col(r, "text")?,
        status: col_enum(r, "status", AlertStatus::from_db)?,
        targets: col(r, "targets")?,
        summary_sent: col::<i64>(r, "summary_sent")? != 0,
        progress_message_id: col(r, "progress_message_id")?,
        created_at: col(r, "created_at")?,
        sent_at: col(r, "sent_at")?,
        held: col(r, "held")?,
        unsubscribed: col(r, "unsubscribed")?,
        notice: match col::<Option<String>>(r, "notice_kind")? {
            Some(kind) => {
                let photo: Option<String> = col(r, "photo")?;
                let platform: Option<String> = col(r, "photo_platform")?;
                Some(Notice {
                    kind,
                    photo: platform.as_deref().and_then(crate::domain::Platform::parse).zip(photo),
                })
            }
            None => None,
        },
        cap: AlertCap {
            topic: col_enum(r, "topic", crate::domain::Topic::from_db)?,
            category: col_enum(r, "category", Category::from_db)?,
            event: col(r, "event")?,
            urgency: col_enum(r, "urgency", Urgency::from_db)?,
            severity: col_enum(r, "severity", Severity::from_db)?,
            certainty: col_enum(r, "certainty", Certainty::from_db)?,
            headline: col(r, "headline")?,
            instruction: col(r, "instruction")?,
            area,
            effective_at: col(r, "effective_at")?,
            expires_at: col(r, "expires_at")?,
            source: col(r, "source")?,
            texts,
        },
    })
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Alert>> {
    let row = query(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
        .context("loading alert")?;
    row.as_ref().map(alert_from_row).transpose()
}

/// Replaces an alert's text and CAP fields (an official Update of a warning).
pub async fn replace_content(conn: &mut Conn, id: i64, text: &str, cap: &AlertCap) -> Result<()> {
    let sets: Vec<String> = CAP_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 3))
        .collect();
    let sql = format!(
        "UPDATE alerts SET text = $2, expired = 0, {} WHERE id = $1",
        sets.join(", ")
    );
    bind_cap(query(sql).bind(id).bind(text), cap)?
        .execute(conn)
        .await
        .context("replacing an alert's content")?;
    Ok(())
}

/// Makes a drafted alert a notice of `kind`, with its photo if there is one.
pub async fn set_notice(
    conn: &mut Conn,
    id: i64,
    kind: &str,
    photo: Option<(crate::domain::Platform, &str)>,
) -> Result<()> {
    query("UPDATE alerts SET notice_kind = $2, photo = $3, photo_platform = $4 WHERE id = $1")
        .bind(id)
        .bind(kind)
        .bind(photo.map(|p| p.1))
        .bind(photo.map(|p| p.0.as_str()))
        .execute(conn)
        .await
        .context("making an alert a notice")?;
    Ok(())
}

/// Moves an alert's expiry (a renewed notice).
pub async fn set_expiry(conn: &mut Conn, id: i64, expires_at: i64) -> Result<()> {
    query("UPDATE alerts SET expires_at = $2, expired = 0 WHERE id = $1")
        .bind(id)
        .bind(expires_at)
        .execute(conn)
        .await
        .context("renewing an alert")?;
    Ok(())
}

/// Records how many copies of an alert were held for quiet hours and how many groups had
/// unticked its topic.
pub async fn set_fanout_counts(conn: &mut Conn, id: i64, held: i64, unsubscribed: i64) -> Result<()> {
    query("UPDATE alerts SET held = $2, unsubscribed = $3 WHERE id = $1")
        .bind(id)
        .bind(held)
        .bind(unsubscribed)
        .execute(conn)
        .await
        .context("recording an alert's fan-out")?;
    Ok(())
}

/// Sent alerts whose expiry has passed by `now` and whose waiting copies are not yet
/// withdrawn; each is marked expired as it is returned.
pub async fn take_expired(conn: &mut Conn, now: i64) -> Result<Vec<i64>> {
    let rows =
        query("UPDATE alerts SET expired = 1 WHERE status = 'sent' AND expired = 0 AND expires_at <= $1 RETURNING id")
            .bind(now)
            .fetch_all(conn)
            .await
            .context("finding expired alerts")?;
    rows.iter().map(|r| col(r, "id")).collect()
}

/// A station's alerts that were sent (whatever became of them since), newest first.
pub async fn sent_of_station(conn: &mut Conn, station: &str, limit: i64) -> Result<Vec<Alert>> {
    let rows = query(format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE station_id = $1 AND sent_at IS NOT NULL \
         AND status IN ('sent', 'withdrawn', 'cleared') ORDER BY id DESC LIMIT $2"
    ))
    .bind(station)
    .bind(limit)
    .fetch_all(conn)
    .await
    .context("listing a station's alerts")?;
    rows.iter().map(alert_from_row).collect()
}

/// Moves a draft on (`sent` with its target count, or `cancelled`); `false` if it was no
/// longer a draft (a second press of the button).
pub async fn finish_draft(conn: &mut Conn, id: i64, status: AlertStatus, targets: i64, now: i64) -> Result<bool> {
    let done = query("UPDATE alerts SET status = $2, targets = $3, sent_at = $4 WHERE id = $1 AND status = 'draft'")
        .bind(id)
        .bind(status.as_str())
        .bind(targets)
        .bind(now)
        .execute(conn)
        .await
        .context("finishing alert draft")?;
    Ok(done.rows_affected() == 1)
}

/// Takes the alert's row lock until the transaction ends, so that workers finishing its last
/// copies at the same time count its progress one after the other (a no-op update locks the
/// row on both backends).
pub async fn lock(conn: &mut Conn, id: i64) -> Result<()> {
    query("UPDATE alerts SET summary_sent = summary_sent WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .context("locking alert")?;
    Ok(())
}

/// Remembers which message shows the officer the delivery progress.
pub async fn set_progress_message(conn: &mut Conn, id: i64, outbox_id: i64) -> Result<()> {
    query("UPDATE alerts SET progress_message_id = $2 WHERE id = $1")
        .bind(id)
        .bind(outbox_id)
        .execute(conn)
        .await
        .context("setting alert progress message")?;
    Ok(())
}

/// Marks the summary as sent; `false` if it already was.
pub async fn claim_summary(conn: &mut Conn, id: i64) -> Result<bool> {
    let done = query("UPDATE alerts SET summary_sent = 1 WHERE id = $1 AND summary_sent = 0")
        .bind(id)
        .execute(conn)
        .await
        .context("claiming alert summary")?;
    Ok(done.rows_affected() == 1)
}

/// After `/alert update|cancel|allclear`: the alert's new status, and its new text.
pub async fn follow_up(conn: &mut Conn, id: i64, status: AlertStatus, text: &str) -> Result<()> {
    query("UPDATE alerts SET status = $2, text = $3 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(text)
        .execute(conn)
        .await
        .context("recording an alert follow-up")?;
    Ok(())
}
