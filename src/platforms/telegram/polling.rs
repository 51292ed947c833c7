//! Long polling: `getUpdates` from the last confirmed offset; a batch of messages is handled
//! in one transaction (a group commit; one at a time when it holds a button press or one of
//! them fails), a single update or a press in its own, and the offset moves past an update
//! only after the transaction holding it commits (an update the bot does not handle is
//! confirmed at once). Every button press is answered with
//! `answerCallbackQuery`, so the user's spinner stops.

use std::time::Duration;

use anyhow::Result;
use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, Update, UpdateKind};

use super::convert;
use super::ingress::{answer_press, handle_update};
use crate::app::App;

/// Attempts at one update before it is skipped (logged) so later updates are not held up.
const MAX_TRIES_PER_UPDATE: u32 = 5;

/// Polls until `shutdown` fires, as the bot `username` (from `getMe`). `timeout` is the
/// long-poll wait in seconds.
pub async fn poll(
    app: App,
    bot: Bot,
    username: String,
    timeout: u32,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    bot.delete_webhook().await?;
    let mut offset: i32 = 0;
    let mut failures: u32 = 0;
    let mut failures_here: u32 = 0;
    loop {
        let request = bot.get_updates().offset(offset).timeout(timeout).allowed_updates(vec![
            AllowedUpdate::Message,
            AllowedUpdate::CallbackQuery,
            AllowedUpdate::MyChatMember,
        ]);
        let updates = tokio::select! {
            result = request.send() => result,
            _ = shutdown.changed() => return Ok(()),
        };
        let updates = match updates {
            Ok(u) => {
                failures = 0;
                u
            }
            Err(e) => {
                failures += 1;
                let wait = Duration::from_millis((500u64 << failures.min(6)).min(30_000));
                tracing::warn!(error = %e, ?wait, "getUpdates failed");
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        if let Some(last) = handled_together(&app, &username, &updates).await {
            offset = last + 1;
            failures_here = 0;
            continue;
        }
        for update in updates {
            if let Err(e) = handle_update(&app, &bot, &username, &update).await {
                failures_here += 1;
                if failures_here < MAX_TRIES_PER_UPDATE {
                    // Not confirmed: asked for again, and dedupe keeps it single.
                    tracing::error!(error = %format!("{e:#}"), update = update.id.0, "update not handled; will retry");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
                // One broken update must not hold up every chat behind it.
                tracing::error!(error = %format!("{e:#}"), update = update.id.0, "update skipped after repeated failures");
                answer_press(&bot, &update).await;
            }
            failures_here = 0;
            offset = update.id.0 as i32 + 1;
        }
    }
}

/// Handles a batch of messages in one transaction ([`App::handle_batch`], a group commit) and
/// returns the last update's id. `None` (nothing committed) when the batch holds a single
/// update or a button press (a press is answered after its own commit), or when one of its
/// updates failed: then they are handled one at a time.
async fn handled_together(app: &App, username: &str, updates: &[Update]) -> Option<i32> {
    if updates.len() < 2 || updates.iter().any(|u| matches!(u.kind, UpdateKind::CallbackQuery(_))) {
        return None;
    }
    let events: Vec<_> = updates
        .iter()
        .filter_map(|update| convert(update, username, None))
        .collect();
    match app.handle_batch(&events).await {
        Ok(Some(_)) => updates.last().map(|u| u.id.0 as i32),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "a batch of updates was not handled together; one by one");
            None
        }
    }
}
