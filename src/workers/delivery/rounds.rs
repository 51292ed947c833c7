//! The worker's delivery rounds, which a send that hangs cannot hold up. A round claims a
//! batch and sends its chats side by side, each chat's messages in order, as
//! [`super::deliver_due`] does; but it waits for the batch only [`STRAGGLER_WAIT`]. A chat
//! whose send is still going then (a request that hangs, a 5xx answered after seconds, a long
//! message waiting out a group's budget) is left to finish on its own and recorded when it
//! does, and that chat's later messages are held back meanwhile (their order); every other
//! chat's messages go on in the next round. Without this, one hanging request delayed every
//! chat for up to the request timeout.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;

use super::{Attempted, Deliverer, LEASE_MS, Outcome, attempt, record};
use crate::app::App;
use crate::domain::Platform;
use crate::store::outbox::{self, Message};

/// How long a round waits for its slowest chat before going on without it.
pub const STRAGGLER_WAIT: Duration = Duration::from_secs(2);
/// How long a message for a chat with a send still going waits before it is looked at again.
const HELD_BACK_MS: i64 = 500;

/// Chats whose send outlived its round, still going.
pub type Stragglers = Arc<Mutex<HashSet<String>>>;

/// What one chat's run came to: each message with its outcome and when, and the error that
/// stopped the run early, if one did.
type RunResult = (Vec<(Message, Outcome, i64)>, Result<()>);

/// Sends `run` (one chat's messages, in order) and returns what became of each.
async fn send_run<D: Deliverer>(app: App, deliverer: Arc<D>, run: Vec<Message>) -> RunResult {
    let mut sent_here = std::collections::HashMap::new();
    let mut done = Vec::new();
    for message in run {
        match attempt(&app, &message, &*deliverer, &sent_here).await {
            Ok(Some(Attempted { result, at, .. })) => {
                if let Outcome::Sent(id) = &result {
                    sent_here.insert(message.id, id.clone());
                }
                done.push((message, result, at));
            }
            Ok(None) => {}
            Err(e) => return (done, Err(e)),
        }
    }
    (done, Ok(()))
}

/// Writes what runs came to, in one transaction.
async fn write(app: &App, done: Vec<(Message, Outcome, i64)>, link: Option<String>) -> Result<()> {
    let attempted: Vec<Attempted<'_>> = done
        .iter()
        .map(|(message, result, at)| Attempted {
            message,
            result: result.clone(),
            at: *at,
        })
        .collect();
    record(app, attempted, link).await
}

/// One round of the worker: claims due messages and delivers them; returns how many it claimed.
pub async fn deliver_round<D: Deliverer + 'static>(
    app: &App,
    platform: Platform,
    deliverer: &Arc<D>,
    stragglers: &Stragglers,
) -> Result<usize> {
    let now = app.now();
    let batch = outbox::claim(&app.store, platform, now, deliverer.batch(), LEASE_MS).await?;
    if batch.is_empty() {
        return Ok(0);
    }
    let claimed = batch.len();
    let held: HashSet<String> = stragglers.lock().map(|s| s.clone()).unwrap_or_default();
    let mut done = Vec::new();
    let mut by_chat: Vec<Vec<Message>> = Vec::new();
    for message in batch {
        if held.contains(&message.chat_id) {
            // After the straggler, in order: back in the queue, the attempt not counted.
            done.push((message, Outcome::Deferred(now + HELD_BACK_MS), now));
            continue;
        }
        match by_chat.iter_mut().find(|run| run[0].chat_id == message.chat_id) {
            Some(run) => run.push(message),
            None => by_chat.push(vec![message]),
        }
    }
    let runs: Vec<(String, tokio::task::JoinHandle<RunResult>)> = by_chat
        .into_iter()
        .map(|run| {
            let chat = run[0].chat_id.clone();
            (chat, tokio::spawn(send_run(app.clone(), deliverer.clone(), run)))
        })
        .collect();
    let deadline = tokio::time::Instant::now() + STRAGGLER_WAIT;
    let mut failure = None;
    for (chat, mut run) in runs {
        match tokio::time::timeout_at(deadline, &mut run).await {
            Ok(Ok((sent, result))) => {
                done.extend(sent);
                if let Err(e) = result {
                    failure.get_or_insert(e);
                }
            }
            Ok(Err(panicked)) => {
                failure.get_or_insert(anyhow::anyhow!("a delivery task failed: {panicked}"));
            }
            Err(_) => {
                tracing::warn!(%platform, "a send is taking long; the other chats go on without it");
                if let Ok(mut s) = stragglers.lock() {
                    s.insert(chat.clone());
                }
                let (app, stragglers, link) = (app.clone(), stragglers.clone(), deliverer.private_chat_link());
                tokio::spawn(async move {
                    if let Ok((sent, _)) = run.await
                        && let Err(e) = write(&app, sent, link).await
                    {
                        tracing::error!(error = %format!("{e:#}"), "could not record a slow delivery");
                    }
                    if let Ok(mut s) = stragglers.lock() {
                        s.remove(&chat);
                    }
                });
            }
        }
    }
    // What was sent is written even when another chat's run failed.
    write(app, done, deliverer.private_chat_link()).await?;
    match failure {
        Some(e) => Err(e),
        None => Ok(claimed),
    }
}
