//! The guided dialogue for missing report fields: one open dialogue per person, saved in the
//! store after every step (it survives a restart), asked in the reporter's private chat, with
//! buttons for choices. Buttons carry the dialogue's nonce; a press on a finished or replaced
//! dialogue is answered as expired.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{Ctx, Dispatched, UserError, fields, reports};
use crate::domain::{Button, DialogueStep, Press, ReportKind};
use crate::scripts::FieldType;
use crate::store::{counters, dialogues};

/// A saved conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Dialogue {
    /// A report being filled in.
    Report(ReportDraft),
    /// A rating just given: the reporter's next private message is their comment on it.
    RatingComment { ticket: i64 },
    /// An officer's guided `/alert`.
    Alert(super::alert_dialogue::AlertDraft),
    /// An officer's `/notice missing|wanted`.
    Notice(super::notices::NoticeDraft),
}

/// A choice offered as a button: what its press chooses, and its label.
pub type Choice = (String, String);

/// Saves `dialogue` under a fresh nonce (older buttons expire) and asks `question` in the
/// person's private chat with the `choices` (rows of buttons) and Cancel — the shape of every
/// guided question outside the report forms (the guided `/alert`, `/notice`).
pub async fn ask_choices(
    ctx: &mut Ctx<'_>,
    dialogue: &Dialogue,
    question: String,
    choices: Vec<Vec<Choice>>,
) -> Result<()> {
    let nonce = counters::next_counter(ctx.tx, "dialogue").await? + 1;
    let press = |step| Press::Dialogue {
        nonce: nonce.to_string(),
        step,
    };
    let mut buttons: Vec<Vec<Button>> = choices
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(key, label)| Button::new(label, &press(DialogueStep::Choose(key))))
                .collect()
        })
        .collect();
    buttons.push(vec![Button::new(
        ctx.msg("report.cancel_button", &[]),
        &press(DialogueStep::Cancel),
    )]);
    let state = serde_json::to_string(dialogue)?;
    dialogues::put(ctx.tx, ctx.me.id, nonce, &state, ctx.now).await?;
    ctx.to_me(question, buttons);
    Ok(())
}

/// Saves a dialogue that asks no form field (a new nonce makes older buttons expire).
pub async fn save(ctx: &mut Ctx<'_>, dialogue: &Dialogue) -> Result<()> {
    let nonce = counters::next_counter(ctx.tx, "dialogue").await? + 1;
    let state = serde_json::to_string(dialogue)?;
    dialogues::put(ctx.tx, ctx.me.id, nonce, &state, ctx.now).await
}

/// A report with some fields still missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDraft {
    pub kind: ReportKind,
    pub station: String,
    pub hotel_id: Option<i64>,
    pub origin_group: Option<i64>,
    pub fields: BTreeMap<String, String>,
    /// The field being asked for.
    pub asking: Option<String>,
    /// Options toggled so far for a multi-choice field.
    #[serde(default)]
    pub picked: Vec<String>,
    /// Optional checklists the dialogue asked for and the reporter left empty.
    #[serde(default)]
    pub skipped: Vec<String>,
    /// The notice this report answers ("I have information"): it goes to that notice's officer.
    #[serde(default)]
    pub notice: Option<i64>,
}

/// The sender's saved dialogue, if any.
enum Loaded {
    None,
    Open(i64, Dialogue),
    /// Past its expiry (kept by the scheduler for as long again), or written for a form whose
    /// fields have since changed: a late answer is told so, never treated as a new question.
    Stale,
}

async fn load(ctx: &mut Ctx<'_>) -> Result<Loaded> {
    let Some(stored) = dialogues::get(ctx.tx, ctx.me.id).await? else {
        return Ok(Loaded::None);
    };
    let expiry_ms = ctx.scripts.settings.dialogue_expiry_hours * 3_600_000;
    if ctx.now - stored.updated_at > expiry_ms {
        if let Ok(Dialogue::RatingComment { .. }) = serde_json::from_str::<Dialogue>(&stored.state) {
            // An unused invitation to comment simply lapses.
            dialogues::delete(ctx.tx, ctx.me.id).await?;
            return Ok(Loaded::None);
        }
        return Ok(Loaded::Stale);
    }
    match serde_json::from_str::<Dialogue>(&stored.state) {
        Ok(Dialogue::Report(draft)) if draft_fits(ctx, &draft) => {
            Ok(Loaded::Open(stored.nonce, Dialogue::Report(draft)))
        }
        Ok(Dialogue::RatingComment { ticket }) => Ok(Loaded::Open(stored.nonce, Dialogue::RatingComment { ticket })),
        Ok(Dialogue::Alert(draft)) => Ok(Loaded::Open(stored.nonce, Dialogue::Alert(draft))),
        Ok(Dialogue::Notice(draft)) => Ok(Loaded::Open(stored.nonce, Dialogue::Notice(draft))),
        Ok(_) => Ok(Loaded::Stale),
        Err(e) => {
            tracing::warn!(person = ctx.me.id, error = %e, "unreadable dialogue");
            Ok(Loaded::Stale)
        }
    }
}

/// Whether the draft still matches bot-scripts (its kind exists and asks a field it has).
fn draft_fits(ctx: &Ctx<'_>, draft: &ReportDraft) -> bool {
    let kind = draft.kind;
    draft
        .asking
        .as_deref()
        .is_none_or(|a| ctx.scripts.form(kind).field(a).is_some())
}

/// Ends a stale dialogue and tells the person to start again.
async fn drop_stale(ctx: &mut Ctx<'_>) -> Result<()> {
    dialogues::delete(ctx.tx, ctx.me.id).await?;
    let text = ctx.msg("report.expired", &[]);
    ctx.to_me(text, Vec::new());
    Ok(())
}

/// Saves the draft under a fresh nonce and asks for its next field.
pub async fn ask_next(ctx: &mut Ctx<'_>, mut draft: ReportDraft, field_key: &str) -> Result<()> {
    let nonce = counters::next_counter(ctx.tx, "dialogue").await? + 1;
    let press = |step| Press::Dialogue {
        nonce: nonce.to_string(),
        step,
    };
    draft.asking = Some(field_key.to_owned());
    let kind = draft.kind;
    let form = ctx.scripts.form(kind);
    let field = form.field(field_key).context("asking for a field the form lacks")?;
    let lang = ctx.lang;
    let mut buttons: Vec<Vec<Button>> = Vec::new();
    let key = match field.field_type {
        FieldType::Choice => {
            for o in &field.options {
                buttons.push(vec![Button::new(
                    o.label.get(lang),
                    &press(DialogueStep::Choose(o.key.clone())),
                )]);
            }
            "report.ask_choice"
        }
        FieldType::MultiChoice => {
            for o in &field.options {
                let mark = if draft.picked.contains(&o.key) { "☑ " } else { "☐ " };
                buttons.push(vec![Button::new(
                    format!("{mark}{}", o.label.get(lang)),
                    &press(DialogueStep::Toggle(o.key.clone())),
                )]);
            }
            buttons.push(vec![Button::new(
                ctx.msg("report.done_button", &[]),
                &press(DialogueStep::Done),
            )]);
            "report.ask_multichoice"
        }
        _ => {
            if !field.required {
                // Optional fields are asked only when the form marks them `ask` or the report
                // answers a notice: they can be skipped.
                buttons.push(vec![Button::new(
                    ctx.msg("report.skip_button", &[]),
                    &press(DialogueStep::Done),
                )]);
            }
            "report.ask_field"
        }
    };
    buttons.push(vec![Button::new(
        ctx.msg("report.cancel_button", &[]),
        &press(DialogueStep::Cancel),
    )]);
    let text = ctx.msg(
        key,
        &[
            ("title", form.title.get(lang)),
            ("label", field.label.get(lang)),
            ("prompt", field.prompt.get(lang)),
        ],
    );
    let state = serde_json::to_string(&Dialogue::Report(draft))?;
    dialogues::put(ctx.tx, ctx.me.id, nonce, &state, ctx.now).await?;
    ctx.to_me(text, buttons);
    Ok(())
}

/// A plain text in DM: the answer to the field being asked, if a dialogue is open.
pub async fn answer_text(ctx: &mut Ctx<'_>, text: &str) -> Result<bool, Dispatched> {
    let mut draft = match load(ctx).await? {
        Loaded::Open(_, Dialogue::Report(draft)) => draft,
        Loaded::Open(_, Dialogue::RatingComment { ticket }) => {
            super::rating::comment(ctx, ticket, text).await?;
            return Ok(true);
        }
        Loaded::Open(_, Dialogue::Alert(draft)) => {
            super::alert_dialogue::answer_text(ctx, draft, text).await?;
            return Ok(true);
        }
        Loaded::Open(_, Dialogue::Notice(draft)) => {
            super::notices::answer_text(ctx, draft, text).await?;
            return Ok(true);
        }
        Loaded::Stale => {
            drop_stale(ctx).await?;
            return Ok(true);
        }
        Loaded::None => return Ok(false),
    };
    let Some(asking) = draft.asking.clone() else {
        return Ok(false);
    };
    let form = ctx.scripts.form(draft.kind);
    let field = form.field(&asking).context("dialogue asks for an unknown field")?;
    let value = fields::validate(field, text, ctx.now, ctx.scripts.settings.timezone)?;
    draft.fields.insert(asking, value);
    draft.picked.clear();
    reports::continue_draft(ctx, draft).await?;
    Ok(true)
}

/// A button of the dialogue's current question: choose, toggle, done, cancel.
pub async fn press(ctx: &mut Ctx<'_>, nonce: &str, step: DialogueStep, message: Option<i64>) -> Result<(), Dispatched> {
    let (saved_nonce, mut draft) = match load(ctx).await? {
        Loaded::Open(saved, Dialogue::Report(draft)) => (saved, draft),
        Loaded::Open(saved, Dialogue::Alert(draft)) if saved.to_string() == nonce => {
            return super::alert_dialogue::press(ctx, draft, step).await;
        }
        Loaded::Open(saved, Dialogue::Notice(draft)) if saved.to_string() == nonce => {
            return super::notices::press(ctx, draft, step).await;
        }
        _ => return Err(UserError::new("common.expired_button").into()),
    };
    if saved_nonce.to_string() != nonce {
        return Err(UserError::new("common.expired_button").into());
    }
    let Some(asking) = draft.asking.clone() else {
        return Err(UserError::new("common.expired_button").into());
    };
    let form = ctx.scripts.form(draft.kind);
    let field = form.field(&asking).context("dialogue asks for an unknown field")?;
    match step {
        DialogueStep::Cancel => {
            dialogues::delete(ctx.tx, ctx.me.id).await?;
            let text = ctx.msg("report.cancelled", &[]);
            ctx.to_me(text, Vec::new());
            Ok(())
        }
        DialogueStep::Choose(key) if field.options.iter().any(|o| o.key == key) => {
            draft.fields.insert(asking, key);
            reports::continue_draft(ctx, draft).await?;
            Ok(())
        }
        DialogueStep::Toggle(key) if field.options.iter().any(|o| o.key == key) => {
            if let Some(i) = draft.picked.iter().position(|k| *k == key) {
                draft.picked.remove(i);
            } else {
                draft.picked.push(key);
            }
            let _ = (saved_nonce, message);
            ask_next(ctx, draft, &asking).await?;
            Ok(())
        }
        DialogueStep::Done if field.field_type == FieldType::MultiChoice => {
            if draft.picked.is_empty() && field.required {
                return Err(UserError::new("report.bad_choice")
                    .arg("field", asking)
                    .arg(
                        "options",
                        field
                            .options
                            .iter()
                            .map(|o| o.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    )
                    .into());
            }
            if draft.picked.is_empty() {
                draft.skipped.push(asking);
            } else {
                let value = draft.picked.join(",");
                draft.picked.clear();
                draft.fields.insert(asking, value);
            }
            reports::continue_draft(ctx, draft).await?;
            Ok(())
        }
        DialogueStep::Done if !field.required => {
            // Skip of an optional field.
            draft.skipped.push(asking);
            reports::continue_draft(ctx, draft).await?;
            Ok(())
        }
        _ => Err(UserError::new("common.expired_button").into()),
    }
}

/// `/cancel`: drops the open dialogue.
pub async fn cancel(ctx: &mut Ctx<'_>) -> Result<(), Dispatched> {
    let key = match load(ctx).await? {
        Loaded::Open(_, Dialogue::RatingComment { .. }) => "rating.comment_skipped",
        Loaded::Open(_, Dialogue::Alert(_)) => "alert_dialogue.cancelled",
        Loaded::Open(_, Dialogue::Notice(_)) => "notice.cancelled",
        Loaded::Open(..) => "report.cancelled",
        _ => return Err(UserError::new("report.nothing_to_cancel").into()),
    };
    dialogues::delete(ctx.tx, ctx.me.id).await?;
    let text = ctx.msg(key, &[]);
    ctx.to_me(text, Vec::new());
    Ok(())
}

/// A photo: attached to the open report if its form has a photo field.
pub async fn photo(ctx: &mut Ctx<'_>, file_id: &str, _caption: Option<&str>) -> Result<(), Dispatched> {
    attach(ctx, FieldType::Photo, file_id.to_owned()).await
}

/// A shared location: attached to the open report's location field, if any.
pub async fn location(ctx: &mut Ctx<'_>, lat: f64, lon: f64) -> Result<(), Dispatched> {
    attach(ctx, FieldType::Location, format!("{lat:.6},{lon:.6}")).await
}

async fn attach(ctx: &mut Ctx<'_>, wanted: FieldType, value: String) -> Result<(), Dispatched> {
    if !ctx.inbound.is_direct {
        return Ok(());
    }
    let mut draft = match load(ctx).await? {
        Loaded::Open(_, Dialogue::Report(draft)) => draft,
        Loaded::Open(_, Dialogue::Notice(notice)) if wanted == FieldType::Photo => {
            return super::notices::photo(ctx, notice, &value).await;
        }
        _ => return Err(UserError::new("report.usage").into()),
    };
    let form = ctx.scripts.form(draft.kind);
    let key = form
        .fields
        .iter()
        .find(|f| f.field_type == wanted || (wanted == FieldType::Location && f.key == "location"))
        .map(|f| f.key.clone());
    let Some(key) = key else {
        return Err(UserError::new("report.usage").into());
    };
    draft.fields.insert(key, value);
    reports::continue_draft(ctx, draft).await?;
    Ok(())
}
