//! `/alert LEVEL TEXT [to=station|community|liaison|all]`: an officer drafts, confirms with a
//! button, and the alert fans out through the outbox to the station's groups (and, for `all`,
//! to residents subscribed to alerts); when every copy is delivered or dead the officer gets a
//! summary. `/alert update|cancel|allclear ID` then edits every delivered copy in place.

use anyhow::Result;

use super::{Ctx, Dispatched, Outbound, Recipient, UserError};
use crate::domain::{AlertAudience, AlertLevel, AlertStatus, Button, GroupKind, Lang, Press};
use crate::scripts::Scripts;
use crate::store::alerts::{self, Alert};
use crate::store::{Tx, dead_letters, groups, outbox, people, stations};

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
        return Err(UserError::new("alert.usage").into());
    }
    if let Some(action) = FollowUp::parse(level_word) {
        return follow_up(ctx, action, body.trim()).await;
    }
    let level = AlertLevel::parse(level_word).ok_or_else(|| {
        UserError::new("alert.bad_level").arg("level", level_word.chars().take(20).collect::<String>())
    })?;
    body = body.trim();
    let mut to = None;
    if let Some(after) = body.strip_prefix("to=") {
        let (word, text) = after.split_once(char::is_whitespace).unwrap_or((after, ""));
        to = Some(word);
        body = text.trim();
    } else if let Some((text, last)) = body.rsplit_once(char::is_whitespace)
        && let Some(word) = last.strip_prefix("to=")
    {
        to = Some(word);
        body = text.trim();
    }
    let audience = match to {
        None => AlertAudience::Station,
        Some(v) => AlertAudience::parse(v)
            .ok_or_else(|| UserError::new("alert.bad_audience").arg("to", v.chars().take(20).collect::<String>()))?,
    };
    let text = body.to_owned();
    if text.is_empty() {
        return Err(UserError::new("alert.usage").into());
    }
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    let id = alerts::insert_draft(ctx.tx, &station, ctx.me.id, level, audience, &text, ctx.now).await?;
    let level_text = level_label(ctx.scripts, ctx.lang, level);
    let preview = ctx.msg(
        "alert.preview",
        &[
            ("n", &id.to_string()),
            ("level", &level_text),
            ("to", audience.as_str()),
            ("text", &text),
        ],
    );
    let buttons = vec![vec![
        Button::new(ctx.msg("alert.confirm_button", &[]), &Press::AlertSend { alert: id }),
        Button::new(ctx.msg("alert.cancel_button", &[]), &Press::AlertCancel { alert: id }),
    ]];
    ctx.to_me(preview, buttons);
    Ok(())
}

/// What an officer can do with an alert already sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FollowUp {
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
    let lang = stations::get(ctx.tx, &alert.station_id)
        .await?
        .map(|s| s.lang)
        .unwrap_or(ctx.scripts.settings.default_lang);
    let level = level_label(ctx.scripts, lang, alert.level);
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
    let message = ctx
        .scripts
        .templates
        .render(lang, key, &[("n", &n), ("level", &level), ("text", &new_text)]);
    let copies = outbox::revise_alert(ctx.tx, id, &message, action != FollowUp::Update).await?;
    alerts::follow_up(ctx.tx, id, status, &new_text).await?;
    for copy in &copies {
        let to = Recipient::Chat {
            platform: copy.platform,
            chat_id: copy.chat_id.clone(),
        };
        let mut edit = Outbound::new(to, message.clone());
        edit.edit_of = Some(copy.id);
        edit.priority = alert.level.priority();
        ctx.send(edit);
    }
    let done_key = match action {
        FollowUp::Update => "alert.updated",
        FollowUp::Cancel => "alert.withdrawn",
        FollowUp::AllClear => "alert.cleared",
    };
    let text = ctx.msg(done_key, &[("n", &n), ("count", &copies.len().to_string())]);
    ctx.reply(text);
    Ok(())
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
    let text = if send {
        let count = fan_out(ctx, &alert).await?;
        if count == 0 {
            return Err(UserError::new("alert.no_targets").into());
        }
        // Claimed before anything is sent: a second confirmation running at the same time
        // finds the draft gone and sends nothing.
        if !alerts::finish_draft(ctx.tx, id, AlertStatus::Sent, count as i64, ctx.now).await? {
            return Err(UserError::new("alert.already_handled").arg("n", n).into());
        }
        if let Some(message) = message {
            alerts::set_progress_message(ctx.tx, id, message).await?;
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

/// One outbound message per target group (and subscriber for `all`); returns the count.
async fn fan_out(ctx: &mut Ctx<'_>, alert: &Alert) -> Result<usize> {
    let kind = match alert.audience {
        AlertAudience::Community => Some(GroupKind::Community),
        AlertAudience::Liaison => Some(GroupKind::Liaison),
        AlertAudience::Station | AlertAudience::All => None,
    };
    let station_lang = stations::get(ctx.tx, &alert.station_id)
        .await?
        .map(|s| s.lang)
        .unwrap_or(ctx.scripts.settings.default_lang);
    let mut targets: Vec<(Recipient, Lang)> = groups::of_station(ctx.tx, &alert.station_id, kind)
        .await?
        .into_iter()
        .map(|g| {
            (
                Recipient::Chat {
                    platform: g.platform,
                    chat_id: g.chat_id,
                },
                station_lang,
            )
        })
        .collect();
    if alert.audience == AlertAudience::All {
        for person in people::subscribers(ctx.tx, &alert.station_id, "alerts").await? {
            let lang = ctx.lang_of(&person);
            targets.push((Recipient::Person(person.id), lang));
        }
    }
    for (to, lang) in &targets {
        let level = level_label(ctx.scripts, *lang, alert.level);
        let text = ctx.scripts.templates.render(
            *lang,
            "alert.message",
            &[("n", &alert.id.to_string()), ("level", &level), ("text", &alert.text)],
        );
        let mut out = Outbound::new(to.clone(), text);
        out.priority = alert.level.priority();
        out.alert_id = Some(alert.id);
        ctx.send(out);
    }
    Ok(targets.len())
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
