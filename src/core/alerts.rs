//! `/alert LEVEL TEXT [to=station|community|liaison|all]`: an officer drafts, confirms with a
//! button, and the alert fans out through the outbox to the station's groups (and, for `all`,
//! to residents subscribed to alerts); when every copy is delivered or dead the officer gets a
//! summary. `/alert update|cancel|allclear ID` then edits every delivered copy in place.

use anyhow::Result;

use super::{Ctx, Dispatched, Outbound, Recipient, UserError};
use crate::cap::{Area, Category, Certainty, Severity, Urgency};
use crate::domain::{AlertAudience, AlertLevel, AlertStatus, Button, GroupKind, Lang, Press, Topic};
use crate::scripts::Scripts;
use crate::store::alerts::{self, Alert, AlertCap};
use crate::store::{Tx, cap, dead_letters, groups, outbox, people, stations};
use crate::store::{held, subscriptions};

/// CAP's fields for an officer's one-line alert, from its level (docs/decisions.md): info is
/// a Minor safety notice for the future, warning a Moderate one expected soon, urgent a Severe
/// one happening now; the category follows the topic (weather: Met, traffic: Transport, else
/// Safety); the headline is the text's first line, the area the station's.
pub fn officer_cap(
    level: AlertLevel,
    topic: Topic,
    event: &str,
    text: &str,
    station_name: &str,
    now: i64,
    expiry_hours: i64,
) -> AlertCap {
    let (urgency, severity, certainty) = match level {
        AlertLevel::Info => (Urgency::Future, Severity::Minor, Certainty::Likely),
        AlertLevel::Warning => (Urgency::Expected, Severity::Moderate, Certainty::Likely),
        AlertLevel::Urgent => (Urgency::Immediate, Severity::Severe, Certainty::Observed),
    };
    let first_line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    let headline: String = first_line.chars().take(80).collect();
    AlertCap {
        topic,
        category: match topic {
            Topic::Weather => Category::Met,
            Topic::Traffic => Category::Transport,
            _ => Category::Safety,
        },
        event: Some(event.to_owned()),
        urgency,
        severity,
        certainty,
        headline: Some(headline),
        instruction: None,
        area: Area {
            description: station_name.to_owned(),
            ..Area::default()
        },
        effective_at: Some(now),
        expires_at: Some(now + expiry_hours * 3_600_000),
        source: "officer".to_owned(),
        texts: Default::default(),
    }
}

/// The level an official warning is delivered at: Extreme and Severe ones overtake everything,
/// Moderate ones go as warnings, the rest as notices.
pub fn level_of(severity: Severity) -> AlertLevel {
    match severity {
        Severity::Extreme | Severity::Severe => AlertLevel::Urgent,
        Severity::Moderate => AlertLevel::Warning,
        Severity::Minor | Severity::Unknown => AlertLevel::Info,
    }
}

fn level_label(scripts: &Scripts, lang: Lang, level: AlertLevel) -> String {
    let key = match level {
        AlertLevel::Info => "alert.level_info",
        AlertLevel::Warning => "alert.level_warning",
        AlertLevel::Urgent => "alert.level_urgent",
    };
    scripts.templates.render(lang, key, &[])
}

/// `/alert …`: saves a draft and asks the officer to confirm.
pub async fn draft(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    // The text is kept as typed (quotes included); only the level and `to=` are taken out.
    // The level is the first word; `to=…` counts as the audience only as the second or the
    // last word; the text between is kept exactly as typed (line breaks included).
    let rest = rest.trim();
    let (level_word, mut body) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if level_word.is_empty() {
        return super::alert_dialogue::start(ctx).await;
    }
    if let Some(action) = FollowUp::parse(level_word) {
        return follow_up(ctx, action, body.trim()).await;
    }
    let level = AlertLevel::parse(level_word).ok_or_else(|| {
        UserError::new("alert.bad_level").arg("level", level_word.chars().take(20).collect::<String>())
    })?;
    body = body.trim();
    // `to=…` and `about=…` count as options only as the first or last words after the level.
    let mut to = None;
    let mut about = None;
    loop {
        let (first, after) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let (before, last) = body.rsplit_once(char::is_whitespace).unwrap_or(("", body));
        let (word, remaining) = if option_word(first) {
            (first, after)
        } else if option_word(last) {
            (last, before)
        } else {
            break;
        };
        match word.split_once('=') {
            Some(("to", v)) if to.is_none() => to = Some(v),
            Some(("about", v)) if about.is_none() => about = Some(v),
            _ => break,
        }
        body = remaining.trim();
    }
    let audience = match to {
        None => AlertAudience::Station,
        Some(v) => AlertAudience::parse(v)
            .ok_or_else(|| UserError::new("alert.bad_audience").arg("to", v.chars().take(20).collect::<String>()))?,
    };
    let topic = match about {
        None => Topic::Security,
        Some(v) => match Topic::parse(v) {
            Some([one]) if *one != Topic::Tips => *one,
            _ => {
                return Err(UserError::new("alert.bad_topic")
                    .arg("about", v.chars().take(20).collect::<String>())
                    .into());
            }
        },
    };
    let text = body.to_owned();
    if text.is_empty() {
        return Err(UserError::new("alert.usage").into());
    }
    draft_alert(ctx, level, topic, audience, &text, Details::default()).await?;
    Ok(())
}

/// What the guided `/alert` adds to a one-liner.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub instruction: Option<String>,
    pub area: Option<String>,
    /// Instead of bot-scripts' `alert_expiry_hours`.
    pub expires_hours: Option<i64>,
}

/// Saves a draft and asks the officer to confirm it.
pub async fn draft_alert(
    ctx: &mut Ctx<'_>,
    level: AlertLevel,
    topic: Topic,
    audience: AlertAudience,
    text: &str,
    details: Details,
) -> Result<i64, Dispatched> {
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    let station_row = stations::get(ctx.tx, &station).await?;
    let station_lang = station_row
        .as_ref()
        .map(|s| s.lang)
        .unwrap_or(ctx.scripts.settings.default_lang);
    let station_name = station_row.map(|s| s.name).unwrap_or_else(|| station.clone());
    let label = level_label(ctx.scripts, station_lang, level);
    let event = label.trim_start_matches(|c: char| !c.is_alphanumeric());
    let mut cap = officer_cap(
        level,
        topic,
        event,
        text,
        &station_name,
        ctx.now,
        details.expires_hours.unwrap_or(ctx.scripts.settings.alert_expiry_hours),
    );
    cap.instruction = details.instruction.clone();
    if let Some(area) = &details.area {
        cap.area.description = area.clone();
    }
    let id = alerts::insert_draft(ctx.tx, &station, ctx.me.id, level, audience, text, &cap, ctx.now).await?;
    let level_text = level_label(ctx.scripts, ctx.lang, level);
    let mut preview = ctx.msg(
        "alert.preview",
        &[
            ("n", &id.to_string()),
            ("level", &level_text),
            ("to", audience.as_str()),
            ("text", text),
        ],
    );
    if details.instruction.is_some() || details.area.is_some() || details.expires_hours.is_some() {
        let hours = details
            .expires_hours
            .unwrap_or(ctx.scripts.settings.alert_expiry_hours)
            .to_string();
        preview.push('\n');
        preview.push_str(&ctx.msg(
            "alert_dialogue.details",
            &[
                ("topic", &ctx.msg(topic.label_key(), &[])),
                ("instruction", details.instruction.as_deref().unwrap_or("—")),
                ("area", &cap.area.description),
                ("hours", &hours),
            ],
        ));
    }
    let buttons = vec![vec![
        Button::new(ctx.msg("alert.confirm_button", &[]), &Press::AlertSend { alert: id }),
        Button::new(ctx.msg("alert.cancel_button", &[]), &Press::AlertCancel { alert: id }),
    ]];
    ctx.to_me(preview, buttons);
    Ok(id)
}

/// `to=…` or `about=…`.
fn option_word(word: &str) -> bool {
    word.starts_with("to=") || word.starts_with("about=")
}

/// What an officer can do with an alert already sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// New text: copies waiting go out with it, delivered ones are edited.
    Update,
    /// Copies waiting are withdrawn, delivered ones edited to say it is cancelled.
    Cancel,
    /// The danger is over: delivered copies edited to say so.
    AllClear,
}

impl FollowUp {
    fn parse(word: &str) -> Option<FollowUp> {
        match word.to_lowercase().as_str() {
            "update" | "更新" => Some(FollowUp::Update),
            "cancel" | "撤销" | "取消" => Some(FollowUp::Cancel),
            "allclear" | "解除" => Some(FollowUp::AllClear),
            _ => None,
        }
    }
}

/// `/alert update ID TEXT`, `/alert cancel ID`, `/alert allclear ID [TEXT]`: every copy of a
/// sent alert changes where it stands (an edit of the delivered message), not a second message.
async fn follow_up(ctx: &mut Ctx<'_>, action: FollowUp, body: &str) -> Result<(), Dispatched> {
    let (raw_id, text) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let text = text.trim();
    let id: i64 = raw_id
        .trim_start_matches('#')
        .parse()
        .map_err(|_| UserError::new("alert.follow_up_usage"))?;
    if action == FollowUp::Update && text.is_empty() {
        return Err(UserError::new("alert.follow_up_usage").into());
    }
    let alert = alerts::get(ctx.tx, id)
        .await?
        .filter(|a| Some(a.station_id.as_str()) == ctx.me.station_id.as_deref())
        .ok_or_else(|| UserError::new("alert.not_found").arg("n", id.to_string()))?;
    if alert.status != AlertStatus::Sent {
        return Err(UserError::new("alert.not_active").arg("n", id.to_string()).into());
    }
    let (edits, copies) = revise(ctx.tx, ctx.scripts, &alert, action, text, ctx.now).await?;
    for edit in edits {
        ctx.send(edit);
    }
    let n = id.to_string();
    let done_key = match action {
        FollowUp::Update => "alert.updated",
        FollowUp::Cancel => "alert.withdrawn",
        FollowUp::AllClear => "alert.cleared",
    };
    let text = ctx.msg(done_key, &[("n", &n), ("count", &copies.to_string())]);
    ctx.reply(text);
    Ok(())
}

/// Applies a follow-up to a sent alert: copies still waiting get the new text (or are
/// withdrawn), delivered ones are edited, the alert's status and text change and its CAP
/// Update or Cancel is published. Returns the edits to queue and how many copies they edit.
pub async fn revise(
    tx: &mut Tx,
    scripts: &Scripts,
    alert: &Alert,
    action: FollowUp,
    text: &str,
    now: i64,
) -> Result<(Vec<Outbound>, usize)> {
    let id = alert.id;
    let lang = super::context::station_language(tx, scripts, &alert.station_id).await?;
    let level = level_label(scripts, lang, alert.level);
    let n = id.to_string();
    let (key, status, new_text) = match action {
        FollowUp::Update => ("alert.updated_message", AlertStatus::Sent, text.to_owned()),
        FollowUp::Cancel => ("alert.cancelled_message", AlertStatus::Withdrawn, alert.text.clone()),
        FollowUp::AllClear => (
            "alert.allclear_message",
            AlertStatus::Cleared,
            if text.is_empty() {
                alert.text.clone()
            } else {
                text.to_owned()
            },
        ),
    };
    let message = scripts
        .templates
        .render(lang, key, &[("n", &n), ("level", &level), ("text", &new_text)]);
    let copies = outbox::revise_alert(tx, id, &message, action != FollowUp::Update).await?;
    // Copies held for quiet hours follow: corrected, or dropped once the danger is over.
    let held_text = (action == FollowUp::Update).then_some(message.as_str());
    held::revise_alert(tx, id, held_text).await?;
    alerts::follow_up(tx, id, status, &new_text).await?;
    let (msg_type, response) = match action {
        FollowUp::Update => ("Update", None),
        FollowUp::Cancel => ("Cancel", None),
        FollowUp::AllClear => ("Update", Some("AllClear")),
    };
    cap::publish(tx, id, &alert.station_id, msg_type, now, &new_text, response).await?;
    let edits = copies
        .iter()
        .map(|copy| {
            let to = Recipient::Chat {
                platform: copy.platform,
                chat_id: copy.chat_id.clone(),
            };
            let mut edit = Outbound::new(to, message.clone());
            edit.edit_of = Some(copy.id);
            edit.priority = alert.level.priority();
            edit
        })
        .collect();
    Ok((edits, copies.len()))
}

/// The confirmation buttons of a draft: send it (`send`) or drop it.
pub async fn press(ctx: &mut Ctx<'_>, id: i64, send: bool, message: Option<i64>) -> Result<(), Dispatched> {
    let alert = alerts::get(ctx.tx, id)
        .await?
        .filter(|a| Some(a.station_id.as_str()) == ctx.me.station_id.as_deref());
    let Some(alert) = alert.filter(|a| a.status == AlertStatus::Draft) else {
        return Err(UserError::new("alert.already_handled").arg("n", id.to_string()).into());
    };
    let n = id.to_string();
    if send && alert.expired_at(ctx.now) {
        return Err(UserError::new("alert.expired_draft").arg("n", n).into());
    }
    let text = if send {
        let count = fan_out(ctx, &alert).await?;
        if count == 0 {
            return Err(UserError::new("alert.no_targets").into());
        }
        let queued = ctx.out.iter().filter(|o| o.alert_id == Some(id)).count();
        // Claimed before anything is sent: a second confirmation running at the same time
        // finds the draft gone and sends nothing.
        if !alerts::finish_draft(ctx.tx, id, AlertStatus::Sent, queued as i64, ctx.now).await? {
            return Err(UserError::new("alert.already_handled").arg("n", n).into());
        }
        if let Some(message) = message {
            alerts::set_progress_message(ctx.tx, id, message).await?;
        }
        cap::publish(ctx.tx, id, &alert.station_id, "Alert", ctx.now, &alert.text, None).await?;
        if queued == 0 {
            // Every copy was held for quiet hours: no delivery will bring the summary.
            for (summary, _) in after_delivery(ctx.tx, ctx.scripts, id, 0).await? {
                ctx.send(summary);
            }
        }
        ctx.msg("alert.sending", &[("n", &n), ("count", &count.to_string())])
    } else {
        alerts::finish_draft(ctx.tx, id, AlertStatus::Cancelled, 0, ctx.now).await?;
        ctx.msg("alert.cancelled", &[("n", &n)])
    };
    let mut out = Outbound::new(ctx.here(), text);
    // The officer's confirmation goes out ahead of the copies (and of queued tips).
    out.priority = alert.level.priority() + 1;
    out.edit_of = message;
    ctx.send(out);
    Ok(())
}

/// One outbound message per target group (and subscriber for `all`); returns the count
/// (copies held for quiet hours included).
async fn fan_out(ctx: &mut Ctx<'_>, alert: &Alert) -> Result<usize> {
    let fanout = copies(ctx.tx, ctx.scripts, alert, ctx.now).await?;
    let count = fanout.out.len() + fanout.held;
    for o in fanout.out {
        ctx.send(o);
    }
    Ok(count)
}

/// An alert's copies, and what did not become one.
pub struct Fanout {
    /// To send now.
    pub out: Vec<Outbound>,
    /// Copies held for residents' quiet hours (already stored: they come in the morning digest).
    pub held: usize,
    /// Groups that unticked the alert's topic.
    pub unsubscribed: usize,
}

/// Whether an alert goes out even in the middle of someone's night.
fn wakes(alert: &Alert) -> bool {
    alert.level == AlertLevel::Urgent || alert.cap.severity.rank() >= Severity::Severe.rank()
}

/// The copies of `alert`: one per target group that has not unticked its topic (in the
/// station's language) and, for `all`, one per resident subscribed to its topic (in theirs) —
/// held until morning for those in their quiet hours unless it is urgent. Held copies are
/// stored here; the counts are recorded on the alert.
pub async fn copies(tx: &mut Tx, scripts: &Scripts, alert: &Alert, now: i64) -> Result<Fanout> {
    let kind = match alert.audience {
        AlertAudience::Community => Some(GroupKind::Community),
        AlertAudience::Liaison => Some(GroupKind::Liaison),
        AlertAudience::Station | AlertAudience::All => None,
    };
    let station_lang = super::context::station_language(tx, scripts, &alert.station_id).await?;
    let topic = alert.cap.topic;
    let muting = subscriptions::groups_muting(tx, topic.as_str()).await?;
    let mut unsubscribed = 0;
    // Each target with its language and whether it is a hotel group.
    let mut targets: Vec<(Recipient, Lang, bool)> = Vec::new();
    for g in groups::of_station(tx, &alert.station_id, kind).await? {
        if muting.contains(&g.id) {
            unsubscribed += 1;
            continue;
        }
        let to = Recipient::Chat {
            platform: g.platform,
            chat_id: g.chat_id,
        };
        targets.push((to, station_lang, g.kind == GroupKind::Liaison));
    }
    let text_for = |lang: Lang| {
        let level = level_label(scripts, lang, alert.level);
        let mut text = alert.text_in(lang).to_owned();
        if alert.cap.source == "officer"
            && let Some(instruction) = &alert.cap.instruction
        {
            // A feed's text carries its instruction already; an officer's says it apart.
            text.push_str("\n👉 ");
            text.push_str(instruction);
        }
        scripts.templates.render(
            lang,
            "alert.message",
            &[("n", &alert.id.to_string()), ("level", &level), ("text", &text)],
        )
    };
    let mut held = 0;
    if alert.audience == AlertAudience::All {
        let tz = scripts.settings.timezone;
        for person in people::subscribers(tx, &alert.station_id, topic.as_str()).await? {
            let lang = super::context::language_of(scripts, &person);
            let until = super::quiet::window(scripts, &person).and_then(|w| super::quiet::quiet_until(now, tz, w));
            match until {
                Some(release) if !wakes(alert) => {
                    held::hold(tx, person.id, Some(alert.id), &text_for(lang), release, now).await?;
                    held += 1;
                }
                _ => targets.push((Recipient::Person(person.id), lang, false)),
            }
        }
    }
    alerts::set_fanout_counts(tx, alert.id, held as i64, unsubscribed as i64).await?;
    let out = targets
        .into_iter()
        .map(|(to, lang, hotels)| {
            let mut text = text_for(lang);
            if hotels && alert.notice.is_some() {
                // Front desks are asked to look through their guests.
                text.push('\n');
                text.push_str(&scripts.templates.render(lang, "notice.hotels_check", &[]));
            }
            let mut copy = Outbound::new(to.clone(), text);
            copy.priority = alert.level.priority();
            copy.alert_id = Some(alert.id);
            if let Some(notice) = &alert.notice {
                let label = scripts.templates.render(lang, "notice.info_button", &[]);
                copy.buttons = vec![vec![Button::new(label, &Press::NoticeInfo { alert: alert.id })]];
                // A photo is a file id of the platform it came from: other platforms get the text.
                if let (Some((platform, photo)), Recipient::Chat { platform: to, .. }) = (&notice.photo, &to)
                    && platform == to
                {
                    copy.photo = Some(photo.clone());
                }
            }
            copy
        })
        .collect();
    Ok(Fanout {
        out,
        held,
        unsubscribed,
    })
}

/// Sends a drafted alert without an officer's press (an official warning that goes out at
/// once): its copies queued, the draft marked sent, its CAP Alert published. Returns how many
/// copies; 0 (and nothing changed) when it has no one to go to or was no longer a draft.
pub async fn send_drafted(tx: &mut Tx, scripts: &Scripts, alert: &Alert, now: i64) -> Result<usize> {
    let fanout = copies(tx, scripts, alert, now).await?;
    let count = fanout.out.len() + fanout.held;
    if count == 0 || !alerts::finish_draft(tx, alert.id, AlertStatus::Sent, fanout.out.len() as i64, now).await? {
        return Ok(0);
    }
    cap::publish(tx, alert.id, &alert.station_id, "Alert", now, &alert.text, None).await?;
    crate::app::enqueue(tx, &fanout.out, &format!("alert:{}", alert.id), now).await?;
    if fanout.out.is_empty() {
        // Every copy was held for quiet hours: no delivery will bring the summary.
        for (summary, key) in after_delivery(tx, scripts, alert.id, 0).await? {
            crate::app::enqueue(tx, &[summary], &key, now).await?;
        }
    }
    Ok(count)
}

/// Alerts past their expiry: their copies still waiting (held for quiet hours, queued behind
/// a long fan-out, retrying) are withdrawn; delivered copies stay as they are. Returns how many
/// copies were withdrawn.
pub async fn expire(tx: &mut Tx, now: i64) -> Result<u64> {
    let mut withdrawn = 0;
    for id in alerts::take_expired(tx, now).await? {
        withdrawn += outbox::withdraw_alert_copies(tx, id, "alert expired").await?;
    }
    Ok(withdrawn)
}

/// After a delivery attempt of an alert's copy: the officer's progress message edited in place
/// about ten times over the fan-out ("delivered 340/1,000"), and once none is pending the final
/// summary (at most once per alert). Returns each message with its idempotency key.
/// `just_settled`: how many of the alert's copies were settled since the last call (a delivery
/// batch settles several at once), so that no step of the progress is skipped.
pub async fn after_delivery(
    tx: &mut Tx,
    scripts: &Scripts,
    alert_id: i64,
    just_settled: i64,
) -> Result<Vec<(Outbound, String)>> {
    alerts::lock(tx, alert_id).await?;
    let (delivered, dead, pending) = outbox::alert_progress(tx, alert_id).await?;
    let Some(alert) = alerts::get(tx, alert_id).await? else {
        return Ok(Vec::new());
    };
    let Some(officer) = people::by_id(tx, alert.officer_id).await? else {
        return Ok(Vec::new());
    };
    let lang = super::context::language_of(scripts, &officer);
    // Targets that could not even be queued (a subscriber with no private chat) count as failed.
    let total = alert.targets.max(delivered + dead);
    let settled = delivered + dead;
    let n = alert_id.to_string();
    let mut out = Vec::new();
    let step = (total / 10).max(1);
    if let Some(progress) = alert.progress_message_id
        && (pending == 0 || settled / step != (settled - just_settled.max(1)) / step)
    {
        let text = scripts.templates.render(
            lang,
            "alert.progress",
            &[
                ("n", &n),
                ("delivered", &delivered.to_string()),
                ("total", &total.to_string()),
            ],
        );
        let mut edit = Outbound::new(Recipient::Person(officer.id), text);
        edit.edit_of = Some(progress);
        edit.priority = alert.level.priority();
        out.push((edit, format!("alert-progress:{alert_id}:{settled}")));
    }
    if pending == 0 && !alert.summary_sent && alerts::claim_summary(tx, alert_id).await? {
        let failed = total - delivered;
        let mut text = scripts.templates.render(
            lang,
            "alert.summary",
            &[
                ("n", &n),
                ("delivered", &delivered.to_string()),
                ("total", &total.to_string()),
                ("failed", &failed.to_string()),
            ],
        );
        if failed > 0 {
            text.push_str(&failure_reasons(tx, scripts, lang, alert_id, failed - dead).await?);
        }
        if alert.held > 0 {
            text.push('\n');
            text.push_str(
                &scripts
                    .templates
                    .render(lang, "alert.summary_held", &[("count", &alert.held.to_string())]),
            );
        }
        if alert.unsubscribed > 0 {
            let topic = scripts.templates.render(lang, alert.cap.topic.label_key(), &[]);
            text.push('\n');
            text.push_str(&scripts.templates.render(
                lang,
                "alert.summary_unsubscribed",
                &[("count", &alert.unsubscribed.to_string()), ("topic", &topic)],
            ));
        }
        let mut summary = Outbound::new(Recipient::Person(officer.id), text);
        summary.priority = alert.level.priority();
        out.push((summary, format!("alert-summary:{alert_id}")));
    }
    Ok(out)
}

/// What failed and why, a line per reason (the platform's own words for a refusal, cut
/// short), and where to see and retry the failed copies. `unqueued`: targets that could not
/// be queued at all.
async fn failure_reasons(tx: &mut Tx, scripts: &Scripts, lang: Lang, alert_id: i64, unqueued: i64) -> Result<String> {
    let mut lines = String::new();
    let mut line = |key: &str, count: i64, reason: &str| {
        lines.push('\n');
        lines.push_str(
            &scripts
                .templates
                .render(lang, key, &[("count", &count.to_string()), ("reason", reason)]),
        );
    };
    let mut gone = 0;
    for (status, reason, count) in dead_letters::alert_failures(tx, alert_id).await? {
        if status == "gone" {
            gone += count;
        } else {
            let short: String = reason.chars().take(80).collect();
            line("alert.failure_dead", count, &short);
        }
    }
    if gone > 0 {
        line("alert.failure_gone", gone, "");
    }
    if unqueued > 0 {
        line("alert.failure_unreachable", unqueued, "");
    }
    lines.push('\n');
    lines.push_str(&scripts.templates.render(lang, "alert.failures_hint", &[]));
    Ok(lines)
}
