//! Official warnings from CAP feeds, each message handled once per feed (by sender, identifier
//! and sent) across restarts and replicas, and once per station whichever feed brings it: an
//! Alert becomes an alert of every station it reaches (the feed's filters and the station's
//! area), sent at once or put to the duty officer for one press; an Update from the same sender
//! edits the copies of what it references, a Cancel withdraws them. Messages not `Actual`
//! (exercises, tests) or not `Public`, and messages already expired, are logged and skipped.

use std::collections::BTreeMap;

use anyhow::Result;

use super::alerts::{self as core_alerts, FollowUp};
use super::{Outbound, Recipient};
use crate::app::{App, enqueue};
use crate::cap::{Area, CapMessage, Info, MsgType, Severity, Status};
use crate::domain::{AlertStatus, Button, Lang, Press};
use crate::feeds::Feed;
use crate::scripts::Scripts;
use crate::store::alerts::{self, AlertCap};
use crate::store::{Tx, cap, people, stations};

/// What became of a message, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled before.
    Seen,
    /// Not `Actual` (an exercise or test), or an Ack or Error message.
    Ignored(String),
    Expired,
    /// No block passed the feed's categories and severity, or it reached no station.
    Filtered,
    /// Alerts drafted: sent at once to so many stations, waiting for an officer at so many.
    Alerted {
        sent: usize,
        waiting: usize,
    },
    /// So many alerts updated or withdrawn.
    Revised(usize),
}

impl Outcome {
    fn label(&self) -> String {
        match self {
            Outcome::Seen => "seen".into(),
            Outcome::Ignored(why) => format!("ignored: {why}"),
            Outcome::Expired => "expired".into(),
            Outcome::Filtered => "filtered".into(),
            Outcome::Alerted { sent, waiting } => format!("alerted: {sent} sent, {waiting} waiting"),
            Outcome::Revised(n) => format!("revised {n}"),
        }
    }
}

/// Handles one official message from `feed`, in one transaction.
pub async fn ingest(app: &App, feed: &Feed, m: &CapMessage) -> Result<Outcome> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    // Recorded first: a second replica handling the same message waits here, then finds it.
    if !cap::receive(&mut tx, &m.key(), &feed.name, now, "handling").await? {
        tx.rollback().await.ok();
        return Ok(Outcome::Seen);
    }
    let outcome = handle(&mut tx, &app.scripts, feed, m, now).await?;
    cap::set_outcome(&mut tx, &feed.name, &m.key(), &outcome.label()).await?;
    tx.commit().await?;
    Ok(outcome)
}

async fn handle(tx: &mut Tx, scripts: &Scripts, feed: &Feed, m: &CapMessage, now: i64) -> Result<Outcome> {
    if m.status != Status::Actual {
        return Ok(Outcome::Ignored(m.status.as_str().to_owned()));
    }
    if m.scope != "Public" {
        // Restricted and Private messages are for named recipients, not for groups.
        return Ok(Outcome::Ignored(format!("scope {}", m.scope)));
    }
    match m.msg_type {
        MsgType::Ack | MsgType::Error => Ok(Outcome::Ignored(m.msg_type.as_str().to_owned())),
        MsgType::Cancel => {
            let revised = follow_up(tx, scripts, feed, m, FollowUp::Cancel, now).await?;
            Ok(Outcome::Revised(revised))
        }
        MsgType::Update => {
            let revised = follow_up(tx, scripts, feed, m, FollowUp::Update, now).await?;
            if revised > 0 {
                Ok(Outcome::Revised(revised))
            } else {
                // Updating nothing beatbot sent: it is news here.
                alert(tx, scripts, feed, m, now).await
            }
        }
        MsgType::Alert => alert(tx, scripts, feed, m, now).await,
    }
}

/// A new warning: an alert per station it reaches.
async fn alert(tx: &mut Tx, scripts: &Scripts, feed: &Feed, m: &CapMessage, now: i64) -> Result<Outcome> {
    if m.expires_ms().is_some_and(|at| at <= now) {
        return Ok(Outcome::Expired);
    }
    let passing: Vec<&Info> = m
        .infos
        .iter()
        .filter(|i| feed.passes(&i.categories, i.severity))
        .collect();
    if passing.is_empty() {
        return Ok(Outcome::Filtered);
    }
    let served: Vec<(String, crate::cap::area::StationArea)> = if feed.stations.is_empty() {
        stations::list(tx)
            .await?
            .into_iter()
            .map(|s| (s, Default::default()))
            .collect()
    } else {
        feed.stations.clone()
    };
    let (mut sent, mut waiting) = (0, 0);
    for (station, area) in &served {
        // The station sees the message as the blocks that pass and reach it: their language,
        // their severity (a Severe block for another county does not make it urgent here).
        let relevant: Vec<Info> = passing
            .iter()
            .filter(|i| crate::cap::area::covers(area, &i.areas))
            .map(|i| (*i).clone())
            .collect();
        if relevant.is_empty() {
            continue;
        }
        if cap::linked_alert(tx, &m.sender, &m.identifier, station)
            .await?
            .is_some()
        {
            // Another feed carried it to this station already.
            continue;
        }
        let view = CapMessage {
            infos: relevant,
            ..m.clone()
        };
        match alert_station(tx, scripts, feed, &view, station, now).await? {
            Some(true) => sent += 1,
            Some(false) => waiting += 1,
            None => {}
        }
    }
    if sent + waiting == 0 {
        return Ok(Outcome::Filtered);
    }
    Ok(Outcome::Alerted { sent, waiting })
}

/// The warning's text in one language: headline, description, instruction, who says so.
fn compose(info: &Info) -> String {
    let mut lines: Vec<String> = Vec::new();
    for part in [&info.headline, &info.description, &info.instruction]
        .into_iter()
        .flatten()
    {
        if !part.trim().is_empty() {
            lines.push(part.trim().to_owned());
        }
    }
    if lines.is_empty() {
        lines.push(info.event.clone());
    }
    if let Some(sender) = &info.sender_name {
        lines.push(format!("— {sender}"));
    }
    lines.join("\n")
}

/// The message's CAP fields as an alert keeps them (its texts in both languages), from
/// `info`, its block in the station's language; `source`: the feed's name.
fn alert_cap(source: &str, m: &CapMessage, info: &Info) -> AlertCap {
    let mut texts = BTreeMap::new();
    for lang in [Lang::Zh, Lang::En] {
        if let Some(i) = m.info_for(lang.code()) {
            texts.insert(lang.code().to_owned(), compose(i));
        }
    }
    let mut area = Area {
        description: info
            .areas
            .iter()
            .map(|a| a.description.as_str())
            .filter(|d| !d.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        ..Area::default()
    };
    for a in &info.areas {
        area.polygons.extend(a.polygons.iter().cloned());
        area.circles.extend(a.circles.iter().cloned());
        area.geocodes.extend(a.geocodes.iter().cloned());
    }
    let category = info.categories.first().copied().unwrap_or(crate::cap::Category::Other);
    AlertCap {
        topic: crate::domain::Topic::of_cap(category),
        category,
        event: Some(info.event.clone()),
        urgency: info.urgency,
        severity: m.severity(),
        certainty: info.certainty,
        headline: info.headline.clone(),
        instruction: info.instruction.clone(),
        area,
        effective_at: info.effective_ms.or(Some(m.sent_ms)),
        expires_at: m.expires_ms(),
        source: source.to_owned(),
        texts,
    }
}

/// Drafts the warning for `station`, then sends it or asks its duty officer. `Some(true)`:
/// sent; `Some(false)`: waiting for the officer; `None`: nobody to send it to or ask.
async fn alert_station(
    tx: &mut Tx,
    scripts: &Scripts,
    feed: &Feed,
    m: &CapMessage,
    station: &str,
    now: i64,
) -> Result<Option<bool>> {
    let Some(row) = stations::get(tx, station).await? else {
        tracing::warn!(feed = %feed.name, station, "a feed serves a station that does not exist");
        return Ok(None);
    };
    let Some(officer) = people::or_station_staff(tx, station, Vec::new())
        .await?
        .into_iter()
        .next()
    else {
        tracing::warn!(feed = %feed.name, station, "an official warning for a station without officers was not sent");
        return Ok(None);
    };
    let Some(info) = m.info_for(row.lang.code()) else {
        return Ok(None);
    };
    let cap = alert_cap(&feed.name, m, info);
    let text = cap.texts.get(row.lang.code()).cloned().unwrap_or_else(|| compose(info));
    let level = core_alerts::level_of(m.severity());
    let id = alerts::insert_draft(tx, station, officer.id, level, feed.audience, &text, &cap, now).await?;
    cap::link_alert(tx, &m.sender, &m.identifier, station, id).await?;
    let Some(drafted) = alerts::get(tx, id).await? else {
        return Ok(None);
    };
    let cause = format!("cap:{}:{}:{}:{station}", feed.name, m.sender, m.identifier);
    offer(tx, scripts, feed, &drafted, &officer, &cause, now).await
}

/// Sends a drafted warning at once (telling its officer) or asks its officer to send it, as the
/// feed says for its severity. `Some(true)`: sent; `Some(false)`: waiting; `None`: nobody to
/// send it to.
async fn offer(
    tx: &mut Tx,
    scripts: &Scripts,
    feed: &Feed,
    drafted: &alerts::Alert,
    officer: &people::Person,
    cause: &str,
    now: i64,
) -> Result<Option<bool>> {
    let lang = super::context::language_of(scripts, officer);
    let n = drafted.id.to_string();
    let severity = severity_label(scripts, lang, drafted.cap.severity);
    let priority = drafted.level.priority() + 1;
    if feed.send.at_once(drafted.cap.severity) {
        let count = core_alerts::send_drafted(tx, scripts, drafted, now).await?;
        if count == 0 {
            return Ok(None);
        }
        let note = scripts.templates.render(
            lang,
            "warning.sent",
            &[
                ("n", &n),
                ("feed", &feed.name),
                ("severity", &severity),
                ("count", &count.to_string()),
                ("text", drafted.text_in(lang)),
            ],
        );
        let mut out = Outbound::new(Recipient::Person(officer.id), note);
        out.priority = priority;
        enqueue(tx, &[out], cause, now).await?;
        Ok(Some(true))
    } else {
        let preview = scripts.templates.render(
            lang,
            "warning.preview",
            &[
                ("n", &n),
                ("feed", &feed.name),
                ("severity", &severity),
                ("to", feed.audience.as_str()),
                ("text", drafted.text_in(lang)),
            ],
        );
        let buttons = vec![vec![
            Button::new(
                scripts.templates.render(lang, "alert.confirm_button", &[]),
                &Press::AlertSend { alert: drafted.id },
            ),
            Button::new(
                scripts.templates.render(lang, "alert.cancel_button", &[]),
                &Press::AlertCancel { alert: drafted.id },
            ),
        ]];
        let mut out = Outbound::new(Recipient::Person(officer.id), preview).buttons(buttons);
        out.priority = priority;
        enqueue(tx, &[out], cause, now).await?;
        Ok(Some(false))
    }
}

fn severity_label(scripts: &Scripts, lang: Lang, severity: Severity) -> String {
    let key = match severity {
        Severity::Extreme => "warning.severity_extreme",
        Severity::Severe => "warning.severity_severe",
        Severity::Moderate => "warning.severity_moderate",
        Severity::Minor => "warning.severity_minor",
        Severity::Unknown => "warning.severity_unknown",
    };
    scripts.templates.render(lang, key, &[])
}

/// An Update or Cancel: every alert made from a message it references, at every station, is
/// revised (sent ones edited, drafts replaced or dropped). Returns how many.
async fn follow_up(
    tx: &mut Tx,
    scripts: &Scripts,
    feed: &Feed,
    m: &CapMessage,
    action: FollowUp,
    now: i64,
) -> Result<usize> {
    let mut revised = 0;
    for station in stations::list(tx).await? {
        let mut done = std::collections::HashSet::new();
        for reference in &m.references {
            // Only the sender of a warning updates or cancels it: another sender's message that
            // names it is not that sender's word.
            if reference.sender != m.sender {
                continue;
            }
            let Some(id) = cap::linked_alert(tx, &reference.sender, &reference.identifier, &station).await? else {
                continue;
            };
            if !done.insert(id) {
                continue;
            }
            if cap::linked_alert(tx, &m.sender, &m.identifier, &station).await? == Some(id) {
                // The same Update or Cancel through a second feed: applied already.
                revised += 1;
                continue;
            }
            let Some(alert) = alerts::get(tx, id).await? else {
                continue;
            };
            // The message now stands for the alert: a later Update or Cancel may name only it.
            cap::link_alert(tx, &m.sender, &m.identifier, &station, id).await?;
            let lang = super::context::station_language(tx, scripts, &station).await?;
            let updated = m
                .info_for(lang.code())
                .map(|info| alert_cap(&alert.cap.source, m, info));
            match (alert.status, action) {
                (AlertStatus::Draft, FollowUp::Cancel) => {
                    alerts::finish_draft(tx, id, AlertStatus::Cancelled, 0, now).await?;
                }
                (AlertStatus::Draft, _) => {
                    // Still waiting for the officer: they are shown the new text (and a warning
                    // now severe enough goes out at once, as it would have at first).
                    if let Some(cap_fields) = &updated {
                        let text = cap_fields.texts.get(lang.code()).cloned().unwrap_or_default();
                        alerts::replace_content(tx, id, &text, cap_fields).await?;
                        if let (Some(replaced), Some(officer)) =
                            (alerts::get(tx, id).await?, people::by_id(tx, alert.officer_id).await?)
                        {
                            let cause = format!("cap:{}:{}:{station}:{id}", m.sender, m.identifier);
                            offer(tx, scripts, feed, &replaced, &officer, &cause, now).await?;
                        }
                    }
                }
                (AlertStatus::Sent, FollowUp::Cancel) => {
                    let (edits, _) = core_alerts::revise(tx, scripts, &alert, FollowUp::Cancel, "", now).await?;
                    enqueue(
                        tx,
                        &edits,
                        &format!("cap:{}:{}:{station}:{id}", m.sender, m.identifier),
                        now,
                    )
                    .await?;
                }
                (AlertStatus::Sent, _) => {
                    let Some(cap_fields) = updated else { continue };
                    let text = cap_fields.texts.get(lang.code()).cloned().unwrap_or_default();
                    alerts::replace_content(tx, id, &alert.text, &cap_fields).await?;
                    let (edits, _) = core_alerts::revise(tx, scripts, &alert, FollowUp::Update, &text, now).await?;
                    enqueue(
                        tx,
                        &edits,
                        &format!("cap:{}:{}:{station}:{id}", m.sender, m.identifier),
                        now,
                    )
                    .await?;
                }
                // Withdrawn, cleared or dropped here already: the message is handled, not news.
                _ => {}
            }
            revised += 1;
        }
    }
    Ok(revised)
}
