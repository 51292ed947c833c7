//! The core: takes one [`Inbound`] event and, inside the caller's transaction, makes the
//! state change and produces the [`Outbound`] messages. It knows no platform: adapters turn
//! Telegram updates, Matrix events and console lines into `Inbound`, and deliver what the
//! outbox holds.

mod access;
pub mod alert_dialogue;
pub mod alerts;
pub mod args;
pub mod commands;
mod context;
pub mod dialogue;
pub mod digest;
pub mod enrolment;
pub mod faq;
mod feedback;
pub mod fields;
pub mod help;
pub mod index;
mod language;
mod links;
pub mod notices;
pub mod quiet;
pub mod rating;
pub mod reports;
pub mod reviews;
pub mod schedule_cmd;
pub mod stats;
mod subscriptions;
pub mod tickets;
pub mod tip_schedule;
mod tips;
pub mod warnings;

use anyhow::Result;

pub use context::{Ctx, Outbound, Recipient, UserError, language_of as context_language};

use crate::domain::{InputProblem, Platform, Press, check_input};
use commands::Parsed;

/// An event from a chat, converted by an adapter.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub platform: Platform,
    /// The platform's id of the event (Telegram `update_id`, Matrix `event_id`): the dedupe key.
    pub event_id: String,
    /// The chat it happened in: a group's chat id, or the private chat with the bot.
    pub chat_id: String,
    pub is_direct: bool,
    /// The sender's platform id (`501`, `@li:example.org`, `li` on the console).
    pub sender: String,
    pub content: Content,
    /// The bot was mentioned or replied to (in groups, plain text is only answered then).
    pub addressed: bool,
    /// The sender's private chat with the bot, where the platform knows it without one being
    /// opened (a Telegram private chat has the user's id); `None` elsewhere.
    pub sender_private_chat: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(String),
    /// A button press: its data, and the outbox row of the message that carried the button.
    Press {
        data: String,
        message: Option<i64>,
    },
    Photo {
        file_id: String,
        caption: Option<String>,
    },
    Location {
        lat: f64,
        lon: f64,
    },
    /// The bot was added to this chat.
    Joined,
}

/// Routes one event. User mistakes come back as `Err(UserError)` so the caller can roll back
/// whatever was touched and send only the explanation.
pub async fn dispatch(ctx: &mut Ctx<'_>) -> Result<(), Dispatched> {
    let content = ctx.inbound.content.clone();
    if ctx.group.is_none() && !ctx.inbound.is_direct {
        // An unlinked group: /help explains how to link it, and an officer's /link links it.
        match &content {
            Content::Joined => help::unlinked(ctx),
            Content::Text(text) => match commands::parse(text) {
                Parsed::Command(c, _) if matches!(c.name, "help" | "start") => help::unlinked(ctx),
                Parsed::Command(c, rest) if c.name == "link" => return commands::run(ctx, c, rest).await,
                _ => {}
            },
            _ => {}
        }
        return Ok(());
    }
    match content {
        Content::Press { data, message } => press(ctx, &data, message).await,
        Content::Photo { file_id, caption } => dialogue::photo(ctx, &file_id, caption.as_deref()).await,
        Content::Location { lat, lon } => dialogue::location(ctx, lat, lon).await,
        Content::Joined => Ok(()),
        Content::Text(raw) => {
            let text = match check_input(&raw) {
                Ok(text) => text,
                Err(InputProblem::TooLong { chars }) => {
                    return Err(UserError::new("common.too_long").arg("chars", chars.to_string()).into());
                }
                Err(InputProblem::ControlCharacters) => {
                    return Err(UserError::new("common.control_chars").into());
                }
            };
            text_message(ctx, &text).await
        }
    }
}

async fn text_message(ctx: &mut Ctx<'_>, text: &str) -> Result<(), Dispatched> {
    match commands::parse(text) {
        Parsed::Command(command, rest) => commands::run(ctx, command, rest).await,
        Parsed::Unknown(name) => Err(UserError::new("common.unknown_command").arg("name", name).into()),
        Parsed::Text if ctx.inbound.is_direct => {
            if dialogue::answer_text(ctx, text).await? {
                return Ok(());
            }
            faq::ask(ctx, text).await
        }
        Parsed::Text if ctx.inbound.addressed => faq::ask(ctx, text).await,
        Parsed::Text => Ok(()),
    }
}

/// `/start [PAYLOAD]`: what a Telegram deep link opens with. `join-CODE` enrols a front desk;
/// anything else (the hand-off's `hello`, none) shows the help.
async fn start(ctx: &mut Ctx<'_>, payload: &str) -> Result<(), Dispatched> {
    let payload = payload.trim();
    if payload
        .get(..enrolment::START_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(enrolment::START_PREFIX))
    {
        return enrolment::join(ctx, payload).await;
    }
    help::help(ctx)
}

/// A button press: its data decoded into a [`Press`] (data that does not decode is an
/// expired button), then the feature that made the button.
async fn press(ctx: &mut Ctx<'_>, data: &str, message: Option<i64>) -> Result<(), Dispatched> {
    let staff = ctx.me.role.is_staff();
    match Press::decode(data) {
        Some(Press::Dialogue { nonce, step }) => dialogue::press(ctx, &nonce, step, message).await,
        Some(Press::Ack { ticket }) if staff => tickets::ack(ctx, &ticket.to_string()).await,
        Some(Press::Rate { ticket, stars }) => rating::rate(ctx, ticket, stars, message).await,
        Some(p @ (Press::FaqPick { .. } | Press::FaqNone { .. } | Press::FaqAdd { .. })) => {
            faq::press(ctx, p, message).await
        }
        Some(Press::AlertSend { alert }) if staff => alerts::press(ctx, alert, true, message).await,
        Some(Press::AlertCancel { alert }) if staff => alerts::press(ctx, alert, false, message).await,
        Some(Press::Topic { topic }) => subscriptions::press(ctx, topic, message).await,
        Some(Press::NoticeInfo { alert }) => notices::info(ctx, alert).await,
        _ => Err(UserError::new("common.expired_button").into()),
    }
}

/// How a dispatch ended other than success.
#[derive(Debug, thiserror::Error)]
pub enum Dispatched {
    /// The person did something wrong: explain, change nothing.
    #[error("refused: {}", .0.key)]
    User(UserError),
    /// Something broke inside: roll back, log, let the platform redeliver.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<UserError> for Dispatched {
    fn from(e: UserError) -> Self {
        Dispatched::User(e)
    }
}
