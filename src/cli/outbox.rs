//! `beatbot outbox dead-letters`: the messages that can never be delivered, listed for the
//! station admin, queued again (after the bot was re-added to a group, say) or dropped.

use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::TimeZone;

use super::DeadLetterAction;
use crate::config::Config;
use crate::startup::app;
use crate::store::dead_letters::{self, DeadLetter, Which};

/// Lists the dead letters, or retries or drops the selected ones.
pub async fn dead_letters(
    config: &Config,
    station: Option<&str>,
    limit: i64,
    action: Option<DeadLetterAction>,
) -> Result<ExitCode> {
    let app = app(config).await?;
    let mut tx = app.store.begin().await?;
    if let Some(station) = station
        && crate::store::stations::get(&mut tx, station).await?.is_none()
    {
        bail!("there is no station `{station}`");
    }
    let code = match &action {
        None | Some(DeadLetterAction::List) => {
            let letters = dead_letters::list(&mut tx, station, limit).await?;
            let tz = app.scripts.settings.timezone;
            for letter in &letters {
                println!(
                    "{}",
                    describe(letter, |ms| {
                        tz.timestamp_millis_opt(ms)
                            .single()
                            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_default()
                    })
                );
            }
            match letters.len() {
                0 => println!("no dead letters"),
                n => println!("{n} dead letter(s); `beatbot outbox dead-letters retry ID…` or `drop ID…` (or --all)"),
            }
            ExitCode::SUCCESS
        }
        Some(DeadLetterAction::Retry(selection) | DeadLetterAction::Drop(selection)) => {
            let which = if selection.all {
                Which::All { station }
            } else {
                Which::Ids(&selection.ids)
            };
            let retry = matches!(action, Some(DeadLetterAction::Retry(_)));
            let done = if retry {
                dead_letters::retry(&mut tx, &which, app.now()).await?
            } else {
                dead_letters::drop(&mut tx, &which).await?
            };
            println!(
                "{done} dead letter(s) {}",
                if retry { "queued again" } else { "dropped" }
            );
            if !selection.all && done < selection.ids.len() as u64 {
                println!(
                    "{} of the numbers given are not dead letters (see `beatbot outbox dead-letters`)",
                    selection.ids.len() as u64 - done
                );
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    };
    tx.commit().await?;
    Ok(code)
}

/// One dead letter on two lines: what and where, why; then the start of its text.
fn describe(letter: &DeadLetter, time: impl Fn(i64) -> String) -> String {
    let what = letter
        .alert_id
        .map_or_else(|| "message".to_owned(), |n| format!("alert #{n}"));
    let tries = match letter.attempts {
        1 => "1 try".to_owned(),
        n => format!("{n} tries"),
    };
    let mut preview: String = letter.text.chars().take(60).collect();
    if letter.text.chars().count() > 60 {
        preview.push('…');
    }
    format!(
        "#{id} {platform} chat {chat} (station {station}) {what}, queued {queued}, {status} after {tries}: {reason}\n    {preview:?}",
        id = letter.id,
        platform = letter.platform,
        chat = letter.chat_id,
        station = letter.station.as_deref().unwrap_or("?"),
        queued = time(letter.created_at),
        status = letter.status,
        reason = letter.reason,
    )
}
