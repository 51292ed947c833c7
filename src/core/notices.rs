//! Missing-person and wanted notices. `/notice missing|wanted` (officers) asks, in the
//! officer's private chat, for a photo, a description, where and when the person was last seen
//! and which groups get it, then shows the draft with Confirm and Cancel as an alert does; a
//! notice is an alert (topic missing persons or public security) whose copies carry the photo
//! (on the platform it was sent from) and an "I have information" button. Pressing it opens a
//! private tip dialogue whose ticket goes to the notice's officer — the tipster is never named
//! in a group. `/notice found N` and `/notice withdrawn N` edit every copy to say so (without the
//! description); notices expire after `notice_expiry_days` unless `/notice renew N [DAYS]`.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::alerts::{self as core_alerts, FollowUp};
use super::dialogue::{Dialogue, ReportDraft};
use super::{Ctx, Dispatched, UserError};
use crate::domain::{AlertAudience, AlertLevel, AlertStatus, DialogueStep, ReportKind, Topic};
use crate::store::{alerts, dialogues, people};

/// Set as the photo of an edit: the photo sent with the edited message is to be taken down
/// (Matrix redacts the image event sent just before it; Telegram cannot and edits the caption).
pub const REMOVE_PHOTO: &str = "remove-photo";

/// What the officer has given so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NoticeDraft {
    /// `missing` or `wanted`.
    pub kind: String,
    /// The photo's file id and platform; `Some(("", ""))`: skipped.
    pub photo: Option<(String, String)>,
    pub description: Option<String>,
    pub place: Option<String>,
    pub time: Option<String>,
    pub audience: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Photo,
    Description,
    Place,
    Time,
    Audience,
}

impl NoticeDraft {
    fn step(&self) -> Option<Step> {
        Some(if self.photo.is_none() {
            Step::Photo
        } else if self.description.is_none() {
            Step::Description
        } else if self.place.is_none() {
            Step::Place
        } else if self.time.is_none() {
            Step::Time
        } else if self.audience.is_none() {
            Step::Audience
        } else {
            return None;
        })
    }
}

/// `/notice missing|wanted`, `/notice found|withdrawn N`, `/notice renew N [DAYS]`.
pub async fn notice(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let mut words = rest.split_whitespace();
    let action = words.next().unwrap_or("").to_lowercase();
    let kind = match action.as_str() {
        "missing" | "寻人" | "失踪" => Some("missing"),
        "wanted" | "通缉" | "协查" => Some("wanted"),
        _ => None,
    };
    if let Some(kind) = kind {
        if ctx.me.station_id.is_none() {
            return Err(UserError::new("common.no_station").into());
        }
        let draft = NoticeDraft {
            kind: kind.to_owned(),
            ..NoticeDraft::default()
        };
        return ask(ctx, draft).await;
    }
    let follow = match action.as_str() {
        "found" | "找到" | "已找到" => Some(FollowUp::AllClear),
        "withdrawn" | "withdraw" | "撤销" | "撤回" => Some(FollowUp::Cancel),
        "renew" | "续期" => None,
        _ => return Err(UserError::new("notice.usage").into()),
    };
    let id: i64 = words
        .next()
        .and_then(|w| w.trim_start_matches('#').parse().ok())
        .ok_or_else(|| UserError::new("notice.usage"))?;
    let alert = alerts::get(ctx.tx, id)
        .await?
        .filter(|a| a.notice.is_some() && Some(a.station_id.as_str()) == ctx.me.station_id.as_deref())
        .ok_or_else(|| UserError::new("notice.not_found").arg("n", id.to_string()))?;
    if alert.status != AlertStatus::Sent {
        return Err(UserError::new("notice.not_active").arg("n", id.to_string()).into());
    }
    let n = id.to_string();
    let Some(action) = follow else {
        let days: i64 = match words.next() {
            None => ctx.scripts.settings.notice_expiry_days,
            Some(d) => d
                .parse()
                .ok()
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| UserError::new("notice.usage"))?,
        };
        alerts::set_expiry(ctx.tx, id, ctx.now + days * 86_400_000).await?;
        let text = ctx.msg("notice.renewed", &[("n", &n), ("days", &days.to_string())]);
        ctx.reply(text);
        return Ok(());
    };
    // The edited copies say what happened, not who the person is.
    let lang = super::context::station_language(ctx.tx, ctx.scripts, &alert.station_id).await?;
    let key = if action == FollowUp::AllClear {
        "notice.found_text"
    } else {
        "notice.withdrawn_text"
    };
    let closing = ctx.scripts.templates.render(lang, key, &[("n", &n)]);
    let (edits, copies) = core_alerts::revise(ctx.tx, ctx.scripts, &alert, action, &closing, ctx.now).await?;
    let had_photo = alert.notice.as_ref().is_some_and(|n| n.photo.is_some());
    for mut edit in edits {
        if had_photo {
            // The photo comes down with the description where the platform can take it off.
            edit.photo = Some(REMOVE_PHOTO.to_owned());
        }
        ctx.send(edit);
    }
    let done = if action == FollowUp::AllClear {
        "notice.found"
    } else {
        "notice.withdrawn"
    };
    let text = ctx.msg(done, &[("n", &n), ("count", &copies.to_string())]);
    ctx.reply(text);
    Ok(())
}

/// Saves the draft under a fresh nonce and asks its next question, or drafts the notice.
async fn ask(ctx: &mut Ctx<'_>, draft: NoticeDraft) -> Result<(), Dispatched> {
    let Some(step) = draft.step() else {
        dialogues::delete(ctx.tx, ctx.me.id).await?;
        return finish(ctx, draft).await;
    };
    let choice = |ctx: &Ctx<'_>, key: &str, label: &str| vec![(key.to_owned(), ctx.msg(label, &[]))];
    let (key, choices) = match step {
        Step::Photo => (
            "notice.ask_photo",
            vec![choice(ctx, "skip", "alert_dialogue.skip_button")],
        ),
        Step::Description => ("notice.ask_description", Vec::new()),
        Step::Place => ("notice.ask_place", Vec::new()),
        Step::Time => ("notice.ask_time", Vec::new()),
        Step::Audience => (
            "notice.ask_audience",
            ["community", "liaison", "all"]
                .iter()
                .map(|a| choice(ctx, a, &format!("alert_dialogue.to_{a}")))
                .collect(),
        ),
    };
    let question = ctx.msg(key, &[]);
    super::dialogue::ask_choices(ctx, &Dialogue::Notice(draft), question, choices).await?;
    Ok(())
}

/// A typed answer.
pub async fn answer_text(ctx: &mut Ctx<'_>, mut draft: NoticeDraft, text: &str) -> Result<(), Dispatched> {
    let text = text.trim();
    if text.is_empty() {
        return Err(UserError::new("notice.use_buttons").into());
    }
    match draft.step() {
        Some(Step::Photo) if matches!(text.to_lowercase().as_str(), "skip" | "-" | "跳过" | "无") => {
            draft.photo = Some((String::new(), String::new()));
        }
        Some(Step::Description) => draft.description = Some(text.to_owned()),
        Some(Step::Place) => draft.place = Some(text.to_owned()),
        Some(Step::Time) => draft.time = Some(text.to_owned()),
        Some(Step::Audience) => match AlertAudience::parse(text) {
            Some(a) if a != AlertAudience::Station => draft.audience = Some(a.as_str().to_owned()),
            _ => return Err(UserError::new("notice.use_buttons").into()),
        },
        _ => return Err(UserError::new("notice.use_buttons").into()),
    }
    ask(ctx, draft).await
}

/// A photo sent while the dialogue asks for one.
pub async fn photo(ctx: &mut Ctx<'_>, mut draft: NoticeDraft, file_id: &str) -> Result<(), Dispatched> {
    if draft.step() != Some(Step::Photo) {
        return Err(UserError::new("notice.use_buttons").into());
    }
    draft.photo = Some((file_id.to_owned(), ctx.inbound.platform.as_str().to_owned()));
    ask(ctx, draft).await
}

/// A button of the current question.
pub async fn press(ctx: &mut Ctx<'_>, mut draft: NoticeDraft, step: DialogueStep) -> Result<(), Dispatched> {
    match (step, draft.step()) {
        (DialogueStep::Cancel, _) => {
            dialogues::delete(ctx.tx, ctx.me.id).await?;
            let text = ctx.msg("notice.cancelled", &[]);
            ctx.to_me(text, Vec::new());
            Ok(())
        }
        (DialogueStep::Choose(key), Some(Step::Photo)) if key == "skip" => {
            draft.photo = Some((String::new(), String::new()));
            ask(ctx, draft).await
        }
        (DialogueStep::Choose(key), Some(Step::Audience))
            if ["community", "liaison", "all"].contains(&key.as_str()) =>
        {
            draft.audience = Some(key);
            ask(ctx, draft).await
        }
        _ => Err(UserError::new("common.expired_button").into()),
    }
}

/// Every answer given: the notice is drafted as an alert and shown for confirmation.
async fn finish(ctx: &mut Ctx<'_>, draft: NoticeDraft) -> Result<(), Dispatched> {
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    let station_lang = super::context::station_language(ctx.tx, ctx.scripts, &station).await?;
    let missing = draft.kind == "missing";
    let (level, topic, key) = if missing {
        (AlertLevel::Urgent, Topic::Missing, "notice.text_missing")
    } else {
        (AlertLevel::Warning, Topic::Security, "notice.text_wanted")
    };
    let text = ctx.scripts.templates.render(
        station_lang,
        key,
        &[
            ("description", draft.description.as_deref().unwrap_or("")),
            ("place", draft.place.as_deref().unwrap_or("")),
            ("time", draft.time.as_deref().unwrap_or("")),
        ],
    );
    let audience = draft
        .audience
        .as_deref()
        .and_then(AlertAudience::parse)
        .unwrap_or(AlertAudience::Community);
    let details = core_alerts::Details {
        instruction: None,
        area: draft.place.clone(),
        expires_hours: Some(ctx.scripts.settings.notice_expiry_days * 24),
    };
    let id = core_alerts::draft_alert(ctx, level, topic, audience, &text, details).await?;
    let photo = draft
        .photo
        .as_ref()
        .filter(|(file, _)| !file.is_empty())
        .and_then(|(file, platform)| crate::domain::Platform::parse(platform).map(|p| (p, file.as_str())));
    alerts::set_notice(ctx.tx, id, &draft.kind, photo).await?;
    Ok(())
}

/// "I have information" under a notice: a private tip dialogue whose ticket goes to the notice's
/// officer. Asked in the private chat; nothing is said in the group.
pub async fn info(ctx: &mut Ctx<'_>, alert_id: i64) -> Result<(), Dispatched> {
    let alert = alerts::get(ctx.tx, alert_id)
        .await?
        .filter(|a| a.notice.is_some() && a.status == AlertStatus::Sent && !a.expired_at(ctx.now))
        .ok_or_else(|| UserError::new("notice.closed"))?;
    super::reports::require_private_chat(ctx).await?;
    if ctx.me.station_id.is_none() {
        people::adopt_station(ctx.tx, ctx.me.id, &alert.station_id).await?;
    }
    let intro = ctx.msg("notice.info_intro", &[("n", &alert_id.to_string())]);
    ctx.to_me(intro, Vec::new());
    let draft = ReportDraft {
        kind: ReportKind::Tip,
        station: alert.station_id.clone(),
        hotel_id: None,
        origin_group: None,
        fields: Default::default(),
        asking: None,
        picked: Vec::new(),
        skipped: Vec::new(),
        notice: Some(alert_id),
    };
    // Asked straight in the private chat: a report started from a group would say in the group
    // that it continues privately, and who pressed must not show there.
    let first = ctx
        .scripts
        .form(ReportKind::Tip)
        .fields
        .iter()
        .find(|f| f.required || f.ask)
        .map(|f| f.key.clone());
    match first {
        Some(key) => super::dialogue::ask_next(ctx, draft, &key).await?,
        None => super::reports::continue_draft(ctx, draft).await?,
    }
    Ok(())
}
