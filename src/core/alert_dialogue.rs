//! The guided `/alert` (an officer types `/alert` alone): asks, in the officer's private chat,
//! for what a one-liner leaves out — the level, the topic, the text, what residents should do,
//! the area, who receives it and how long it applies — with buttons where there is a choice,
//! then shows the draft with Confirm and Cancel as a one-liner does. Saved after each step like
//! a report dialogue (it survives a restart, `/cancel` drops it, old buttons expire).

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::dialogue::{self, Choice, Dialogue};
use super::{Ctx, Dispatched, UserError};
use crate::domain::{AlertAudience, AlertLevel, DialogueStep, Topic};
use crate::store::dialogues;

/// Hours an alert may be set to apply, offered as buttons.
const EXPIRY_CHOICES: [i64; 4] = [6, 12, 24, 72];

/// What the officer has said so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AlertDraft {
    pub level: Option<String>,
    pub topic: Option<String>,
    pub text: Option<String>,
    /// `Some("")`: skipped.
    pub instruction: Option<String>,
    pub area: Option<String>,
    pub audience: Option<String>,
    pub expires_hours: Option<i64>,
}

/// The question the draft is at: the first thing not yet said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Level,
    Topic,
    Text,
    Instruction,
    Area,
    Audience,
    Expiry,
}

impl AlertDraft {
    fn step(&self) -> Option<Step> {
        Some(if self.level.is_none() {
            Step::Level
        } else if self.topic.is_none() {
            Step::Topic
        } else if self.text.is_none() {
            Step::Text
        } else if self.instruction.is_none() {
            Step::Instruction
        } else if self.area.is_none() {
            Step::Area
        } else if self.audience.is_none() {
            Step::Audience
        } else if self.expires_hours.is_none() {
            Step::Expiry
        } else {
            return None;
        })
    }
}

/// `/alert` with nothing after it: starts the dialogue (in the private chat).
pub async fn start(ctx: &mut Ctx<'_>) -> Result<(), Dispatched> {
    if ctx.me.station_id.is_none() {
        return Err(UserError::new("common.no_station").into());
    }
    ask(ctx, AlertDraft::default()).await?;
    Ok(())
}

/// Saves the draft under a fresh nonce and asks its next question, or, when complete, drafts
/// the alert and shows it for confirmation.
async fn ask(ctx: &mut Ctx<'_>, draft: AlertDraft) -> Result<(), Dispatched> {
    let Some(step) = draft.step() else {
        dialogues::delete(ctx.tx, ctx.me.id).await?;
        return finish(ctx, draft).await;
    };
    // One button per row, labelled from a template.
    let rows = |ctx: &Ctx<'_>, choices: &[(&str, &str)]| -> Vec<Vec<Choice>> {
        choices
            .iter()
            .map(|(key, label)| vec![(key.to_string(), ctx.msg(label, &[]))])
            .collect()
    };
    let (key, choices) = match step {
        Step::Level => (
            "alert_dialogue.ask_level",
            rows(
                ctx,
                &[
                    ("info", "alert.level_info"),
                    ("warning", "alert.level_warning"),
                    ("urgent", "alert.level_urgent"),
                ],
            ),
        ),
        Step::Topic => {
            let topics: Vec<(&str, &str)> = Topic::ALERTS.iter().map(|t| (t.as_str(), t.label_key())).collect();
            ("alert_dialogue.ask_topic", rows(ctx, &topics))
        }
        Step::Text => ("alert_dialogue.ask_text", Vec::new()),
        Step::Instruction => (
            "alert_dialogue.ask_instruction",
            rows(ctx, &[("skip", "alert_dialogue.skip_button")]),
        ),
        Step::Area => (
            "alert_dialogue.ask_area",
            rows(ctx, &[("skip", "alert_dialogue.skip_button")]),
        ),
        Step::Audience => (
            "alert_dialogue.ask_audience",
            rows(
                ctx,
                &[
                    ("station", "alert_dialogue.to_station"),
                    ("community", "alert_dialogue.to_community"),
                    ("liaison", "alert_dialogue.to_liaison"),
                    ("all", "alert_dialogue.to_all"),
                ],
            ),
        ),
        Step::Expiry => {
            let hours = EXPIRY_CHOICES
                .iter()
                .map(|h| {
                    let h = h.to_string();
                    let label = ctx.msg("alert_dialogue.hours_button", &[("hours", &h)]);
                    (h, label)
                })
                .collect();
            ("alert_dialogue.ask_expiry", vec![hours])
        }
    };
    let question = ctx.msg(key, &[]);
    dialogue::ask_choices(ctx, &Dialogue::Alert(draft), question, choices).await?;
    Ok(())
}

/// A typed answer to the current question.
pub async fn answer_text(ctx: &mut Ctx<'_>, mut draft: AlertDraft, text: &str) -> Result<(), Dispatched> {
    let text = text.trim();
    match draft.step() {
        Some(Step::Text) if !text.is_empty() => draft.text = Some(text.to_owned()),
        Some(Step::Instruction) => draft.instruction = Some(skipped(text)),
        Some(Step::Area) => draft.area = Some(skipped(text)),
        Some(Step::Level | Step::Topic | Step::Audience | Step::Expiry) => {
            // A choice typed instead of pressed counts when it is one of the choices.
            if let Some(chosen) = choose(&draft, text) {
                draft = chosen;
            } else {
                return Err(UserError::new("alert_dialogue.use_buttons").into());
            }
        }
        _ => return Err(UserError::new("alert_dialogue.use_buttons").into()),
    }
    ask(ctx, draft).await
}

/// `-`, `skip`, `跳过` and nothing skip an optional answer.
fn skipped(text: &str) -> String {
    match text.to_lowercase().as_str() {
        "-" | "skip" | "跳过" | "无" | "none" => String::new(),
        _ => text.to_owned(),
    }
}

/// The draft with `key` chosen for the current question, if it is one of its choices.
fn choose(draft: &AlertDraft, key: &str) -> Option<AlertDraft> {
    let mut draft = draft.clone();
    match draft.step()? {
        Step::Level => draft.level = Some(AlertLevel::parse(key)?.as_str().to_owned()),
        Step::Topic => match Topic::parse(key)? {
            [one] if *one != Topic::Tips => draft.topic = Some(one.as_str().to_owned()),
            _ => return None,
        },
        Step::Instruction if key == "skip" => draft.instruction = Some(String::new()),
        Step::Area if key == "skip" => draft.area = Some(String::new()),
        Step::Audience => draft.audience = Some(AlertAudience::parse(key)?.as_str().to_owned()),
        Step::Expiry => {
            let hours: i64 = key.trim_end_matches(['h', 'H']).parse().ok()?;
            if !(1..=24 * 30).contains(&hours) {
                return None;
            }
            draft.expires_hours = Some(hours);
        }
        _ => return None,
    }
    Some(draft)
}

/// A button of the dialogue's current question.
pub async fn press(ctx: &mut Ctx<'_>, draft: AlertDraft, step: DialogueStep) -> Result<(), Dispatched> {
    match step {
        DialogueStep::Cancel => {
            dialogues::delete(ctx.tx, ctx.me.id).await?;
            let text = ctx.msg("alert_dialogue.cancelled", &[]);
            ctx.to_me(text, Vec::new());
            Ok(())
        }
        DialogueStep::Choose(key) => match choose(&draft, &key) {
            Some(next) => ask(ctx, next).await,
            None => Err(UserError::new("common.expired_button").into()),
        },
        _ => Err(UserError::new("common.expired_button").into()),
    }
}

/// Every answer given: the alert is drafted as a one-liner would be, with what was said.
async fn finish(ctx: &mut Ctx<'_>, draft: AlertDraft) -> Result<(), Dispatched> {
    let level = draft
        .level
        .as_deref()
        .and_then(AlertLevel::parse)
        .unwrap_or(AlertLevel::Info);
    let topic = draft
        .topic
        .as_deref()
        .and_then(Topic::parse)
        .and_then(|t| t.first().copied())
        .unwrap_or(Topic::Security);
    let audience = draft
        .audience
        .as_deref()
        .and_then(AlertAudience::parse)
        .unwrap_or(AlertAudience::Station);
    let text = draft.text.clone().unwrap_or_default();
    let details = super::alerts::Details {
        instruction: draft.instruction.clone().filter(|s| !s.is_empty()),
        area: draft.area.clone().filter(|s| !s.is_empty()),
        expires_hours: draft.expires_hours,
    };
    super::alerts::draft_alert(ctx, level, topic, audience, &text, details).await?;
    Ok(())
}
