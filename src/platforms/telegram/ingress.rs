//! One Telegram update, whichever way it arrived (long polling or the webhook): a press is
//! matched to the outbox row of its message, the update converted and handled in its own
//! transaction, and the press answered so the user's spinner stops.

use anyhow::Result;
use teloxide::prelude::*;
use teloxide::types::{Update, UpdateKind};

use super::convert;
use crate::app::App;
use crate::domain::Platform;
use crate::store::outbox;

/// Handles `update`. `Err` means it was not handled (nothing committed, the press not
/// answered): the caller must not confirm it, so Telegram delivers it again.
pub async fn handle_update(app: &App, bot: &Bot, username: &str, update: &Update) -> Result<()> {
    let message_of_press = match &update.kind {
        UpdateKind::CallbackQuery(q) => match &q.message {
            Some(m) => pressed_row(app, &m.chat().id.0.to_string(), m.id().0).await,
            None => None,
        },
        _ => None,
    };
    if let Some(inbound) = convert(update, username, message_of_press) {
        app.handle(&inbound).await?;
    }
    answer_press(bot, update).await;
    Ok(())
}

/// `answerCallbackQuery` for a button press (a failure is only logged).
pub async fn answer_press(bot: &Bot, update: &Update) {
    if let UpdateKind::CallbackQuery(q) = &update.kind
        && let Err(e) = bot.answer_callback_query(q.id.clone()).await
    {
        tracing::warn!(error = %e, "answerCallbackQuery failed");
    }
}

/// The outbox row of the pressed message (a failed lookup is logged: the press still counts,
/// it just cannot edit its message).
async fn pressed_row(app: &App, chat_id: &str, message_id: i32) -> Option<i64> {
    let result = async {
        let mut tx = app.store.begin().await?;
        let row = outbox::by_platform_message(&mut tx, Platform::Telegram, chat_id, &message_id.to_string()).await?;
        tx.commit().await?;
        anyhow::Ok(row)
    };
    result.await.unwrap_or_else(|e| {
        tracing::warn!(error = %format!("{e:#}"), "could not look up a pressed message");
        None
    })
}
