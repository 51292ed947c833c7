//! The delivery worker of one platform: claims due outbox rows (highest priority first, with
//! a lease so a crashed worker's rows come back), hands each to the platform's [`Deliverer`],
//! and records the outcome — delivered, due again after a backoff (or the platform's own
//! `retry_after`), or dead after [`MAX_ATTEMPTS`]. When the last copy of an alert is settled,
//! the officer's summary is enqueued in the same transaction.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use anyhow::Result;

use crate::app::{App, enqueue};
use crate::core::alerts::after_delivery;
use crate::core::{Outbound, Recipient};
use crate::domain::Platform;
use crate::fault_log::FaultLog;

mod rounds;
use crate::core::index::MEDIA_PREFIX;
use crate::store::outbox::{self, Message};
use crate::store::{groups, people, schedules};
pub use rounds::STRAGGLER_WAIT;

/// Attempts before a message is dead-lettered.
pub const MAX_ATTEMPTS: i64 = 8;
const LEASE_MS: i64 = 60_000;
/// Small batches, so an urgent message claimed next waits for at most a few sends.
pub const BATCH: i64 = 10;

/// Why a delivery attempt failed: the worker matches on it to decide what comes next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth trying again: after the platform's `retry_after`, or after our backoff.
    #[error("will retry: {reason}")]
    Retry { after_ms: Option<i64>, reason: String },
    /// Will never work (a malformed message): dead-letter now.
    #[error("refused for good: {0}")]
    Permanent(String),
    /// The chat has a new id (a group upgraded to a supergroup): move its waiting messages
    /// there and try again at once.
    #[error("the chat moved to {0}")]
    ChatMoved(String),
    /// The bot was removed or blocked: dead-letter, mark a group inactive and tell its
    /// station's officers.
    #[error("the chat is closed to the bot: {0}")]
    Gone(String),
}

/// A platform's way of putting one outbox message into a chat.
pub trait Deliverer: Send + Sync {
    /// Sends `message` (or, with `edit_target`, replaces that earlier platform message) and
    /// returns the platform's id of the message.
    fn deliver(
        &self,
        message: &Message,
        edit_target: Option<&str>,
    ) -> impl Future<Output = Result<String, DeliveryError>> + Send;

    /// Sends `message` with the picture `png` (one the bot made, not yet on this platform) and
    /// returns the platform's id of the message and the platform's reference to the picture
    /// (Telegram's file id, Matrix's `mxc://` URI), which later sends reuse. By default the
    /// message goes as it is and its photo field is the reference (the console shows
    /// "[photo]").
    fn deliver_upload(
        &self,
        message: &Message,
        _png: &[u8],
    ) -> impl Future<Output = Result<(String, String), DeliveryError>> + Send {
        async move {
            let id = self.deliver(message, None).await?;
            Ok((id, message.photo.clone().unwrap_or_default()))
        }
    }

    /// Whether the platform's budget for this message's chat allows a send now; otherwise how
    /// long to wait. A message that must wait is put back without counting an attempt.
    fn admit(&self, _message: &Message) -> Result<(), std::time::Duration> {
        Ok(())
    }

    /// How many messages one claim takes, their chats served side by side: [`BATCH`], unless
    /// the platform's sends are slow and unlimited enough to want more in flight.
    fn batch(&self) -> i64 {
        BATCH
    }

    /// A link that opens a private chat with the bot (Telegram's `https://t.me/<bot>?start=…`),
    /// for telling someone in a group to open one.
    fn private_chat_link(&self) -> Option<String> {
        None
    }
}

/// Exponential backoff: 1 s, 2 s, 4 s … capped at 5 minutes.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = (attempts - 1).clamp(0, 20) as u32;
    (1_000i64 << exp).min(300_000)
}

/// Delivers one batch of due messages; returns how many were attempted. What became of them
/// is written in one transaction after the batch (a claim of ten pays one commit, not ten); a
/// crash in between sends the batch's messages again, at most once more each.
pub async fn deliver_due<D: Deliverer>(app: &App, platform: Platform, deliverer: &D) -> Result<usize> {
    let now = app.now();
    let batch = outbox::claim(&app.store, platform, now, deliverer.batch(), LEASE_MS).await?;
    if batch.is_empty() {
        return Ok(0);
    }
    // Different chats are served side by side (a homeserver answers each send in tens of
    // milliseconds); the messages of one chat keep their order.
    let mut by_chat: Vec<Vec<&Message>> = Vec::new();
    for message in &batch {
        match by_chat.iter_mut().find(|run| run[0].chat_id == message.chat_id) {
            Some(run) => run.push(message),
            None => by_chat.push(vec![message]),
        }
    }
    let runs = by_chat.into_iter().map(|run| async move {
        // An edit can follow its original in the same batch, before the batch is written.
        let mut sent_here = HashMap::new();
        let mut done = Vec::new();
        for message in run {
            match attempt(app, message, deliverer, &sent_here).await {
                Ok(Some(outcome)) => {
                    if let Outcome::Sent(id) = &outcome.result {
                        sent_here.insert(message.id, id.clone());
                    }
                    done.push(outcome);
                }
                Ok(None) => {}
                Err(e) => return (done, Err(e)),
            }
        }
        (done, Ok(()))
    });
    let mut outcomes = Vec::new();
    let mut failure = None;
    for (done, result) in futures::future::join_all(runs).await {
        outcomes.extend(done);
        if let Err(e) = result {
            failure.get_or_insert(e);
        }
    }
    // What was sent is written even when another chat's run failed.
    record(app, outcomes, deliverer.private_chat_link()).await?;
    match failure {
        Some(e) => Err(e),
        None => Ok(batch.len()),
    }
}

/// What one attempt came to, written with the rest of its batch by [`record`].
struct Attempted<'m> {
    message: &'m Message,
    result: Outcome,
    at: i64,
}

#[derive(Clone)]
enum Outcome {
    /// Sent (or edited); the platform's id of the message.
    Sent(String),
    Failed(DeliveryError),
    /// The chat's budget was spent: back in the queue until then, the attempt not counted.
    Deferred(i64),
}

/// Tries one message. `None` when it was settled on its own (an edit superseded by a newer
/// one, or whose original is not delivered yet).
async fn attempt<'m, D: Deliverer>(
    app: &App,
    message: &'m Message,
    deliverer: &D,
    sent_here: &HashMap<i64, String>,
) -> Result<Option<Attempted<'m>>> {
    let metrics = crate::metrics::get();
    if let Err(wait) = deliverer.admit(message) {
        metrics.delivery(message.platform, "deferred");
        let now = app.now();
        return Ok(Some(Attempted {
            message,
            result: Outcome::Deferred(now + wait.as_millis() as i64),
            at: now,
        }));
    }
    let edit_target = match message.edit_of {
        Some(original) => {
            let mut tx = app.store.begin().await?;
            if outbox::withdraw_superseded_edit(&mut tx, message.id, original).await? {
                tx.commit().await?;
                metrics.delivery(message.platform, "superseded");
                return Ok(None);
            }
            let target = match sent_here.get(&original) {
                Some(id) => Some(id.clone()),
                None => outbox::platform_message_id(&mut tx, original).await?,
            };
            tx.commit().await?;
            if target.is_none() {
                let mut tx = app.store.begin().await?;
                settle_failure(
                    app,
                    &mut tx,
                    message,
                    DeliveryError::Retry {
                        after_ms: None,
                        reason: "original not delivered yet".into(),
                    },
                    None,
                )
                .await?;
                tx.commit().await?;
                return Ok(None);
            }
            target
        }
        None => None,
    };
    let outcome = match message.photo.as_deref().and_then(|p| p.strip_prefix(MEDIA_PREFIX)) {
        Some(media) if edit_target.is_none() => deliver_with_picture(app, deliverer, message, media).await?,
        _ => deliverer.deliver(message, edit_target.as_deref()).await,
    };
    let now = app.now();
    let result = match outcome {
        Ok(platform_id) => {
            metrics.delivery(message.platform, "delivered");
            metrics.delivered_after(message.platform, (now - message.created_at) as f64 / 1000.0);
            Outcome::Sent(platform_id)
        }
        Err(e) => {
            metrics.delivery(message.platform, failure_outcome(&e, message.attempts));
            Outcome::Failed(e)
        }
    };
    Ok(Some(Attempted {
        message,
        result,
        at: now,
    }))
}

/// One lock per picture and platform, so the first send uploads it and the others, waiting,
/// reuse what it uploaded.
fn upload_lock(media: i64, platform: Platform) -> Arc<tokio::sync::Mutex<()>> {
    type UploadLocks = std::sync::Mutex<HashMap<(i64, Platform), Arc<tokio::sync::Mutex<()>>>>;
    static LOCKS: OnceLock<UploadLocks> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    locks.entry((media, platform)).or_default().clone()
}

/// Sends a message whose photo is a picture the bot made (`media:ID`): by the platform's
/// reference when it was uploaded there before, else uploading it and keeping the reference.
async fn deliver_with_picture<D: Deliverer>(
    app: &App,
    deliverer: &D,
    message: &Message,
    media: &str,
) -> Result<Result<String, DeliveryError>> {
    let Ok(media) = media.parse::<i64>() else {
        return Ok(Err(DeliveryError::Permanent(format!("bad picture reference {media}"))));
    };
    let platform = message.platform.as_str();
    let lock = upload_lock(media, message.platform);
    let _one_upload = lock.lock().await;
    let mut tx = app.store.begin().await?;
    let reference = schedules::upload_reference(&mut tx, media, platform).await?;
    let png = match reference {
        Some(_) => None,
        None => schedules::media_png(&mut tx, media).await?,
    };
    tx.commit().await?;
    if let Some(reference) = reference {
        // Uploaded already: the sends by reference need not wait for one another.
        drop(_one_upload);
        let mut by_reference = message.clone();
        by_reference.photo = Some(reference);
        return Ok(deliverer.deliver(&by_reference, None).await);
    }
    let Some(png) = png else {
        return Ok(Err(DeliveryError::Permanent(format!("picture {media} is gone"))));
    };
    match deliverer.deliver_upload(message, &png).await {
        Ok((id, reference)) => {
            // Sent: failing to keep the reference costs a second upload later, never a second send.
            let kept = async {
                let mut tx = app.store.begin().await?;
                schedules::remember_upload(&mut tx, media, platform, &reference).await?;
                tx.commit().await
            };
            if let Err(e) = kept.await {
                tracing::warn!(error = %format!("{e:#}"), media, "could not keep an uploaded picture's reference");
            }
            Ok(Ok(id))
        }
        Err(e) => Ok(Err(e)),
    }
}

/// Writes a batch's outcomes in one transaction; an alert whose copies were among them gets
/// its progress (and, once every copy is settled, the officer's summary) once. Should that
/// transaction fail, each outcome is written in its own, so one that cannot be written (or a
/// conflict with another worker) does not send the rest of the batch again.
async fn record(app: &App, outcomes: Vec<Attempted<'_>>, link: Option<String>) -> Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    match write_outcomes(app, &outcomes, link.clone()).await {
        Ok(()) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "writing a delivery batch failed; writing its messages one by one");
            let mut failure = None;
            for outcome in outcomes.chunks(1) {
                if let Err(e) = write_outcomes(app, outcome, link.clone()).await {
                    tracing::error!(error = %format!("{e:#}"), id = outcome[0].message.id, "could not record a delivery");
                    failure.get_or_insert(e);
                }
            }
            failure.map_or(Ok(()), Err)
        }
    }
}

async fn write_outcomes(app: &App, outcomes: &[Attempted<'_>], link: Option<String>) -> Result<()> {
    let mut tx = app.store.begin().await?;
    // Alerts in id order: two workers settling copies of the same alerts lock them alike.
    let mut alerts = std::collections::BTreeMap::new();
    for Attempted { message, result, at } in outcomes {
        match result {
            Outcome::Sent(platform_id) => {
                let now_reads = outbox::mark_delivered(&mut tx, message.id, Some(platform_id), *at).await?;
                if let Some(text) = now_reads.filter(|t| *t != message.text && message.edit_of.is_none()) {
                    // Corrected or cancelled while in flight: the copy is edited to say so.
                    let to = Recipient::Chat {
                        platform: message.platform,
                        chat_id: message.chat_id.clone(),
                    };
                    let mut edit = Outbound::new(to, text);
                    edit.edit_of = Some(message.id);
                    edit.priority = message.priority;
                    enqueue(&mut tx, &[edit], &format!("revised-in-flight:{}", message.id), *at).await?;
                }
            }
            Outcome::Failed(e) => settle_failure(app, &mut tx, message, e.clone(), link.clone()).await?,
            Outcome::Deferred(until) => {
                outbox::defer(&mut tx, message.id, *until).await?;
                continue;
            }
        }
        if let Some(alert_id) = message.alert_id {
            *alerts.entry(alert_id).or_insert(0) += 1;
        }
    }
    let now = app.now();
    for (alert_id, settled) in alerts {
        for (out, key) in after_delivery(&mut tx, &app.scripts, alert_id, settled).await? {
            enqueue(&mut tx, &[out], &key, now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The metrics' name for what a failed attempt leads to.
fn failure_outcome(error: &DeliveryError, attempts: i64) -> &'static str {
    match error {
        DeliveryError::Retry { after_ms: Some(_), .. } if attempts < MAX_ATTEMPTS => "rate_limited",
        DeliveryError::Retry { .. } if attempts < MAX_ATTEMPTS => "retry",
        DeliveryError::ChatMoved(_) => "retry",
        DeliveryError::Gone(_) => "gone",
        _ => "dead",
    }
}

async fn settle_failure(
    app: &App,
    tx: &mut crate::store::Tx,
    message: &Message,
    error: DeliveryError,
    link: Option<String>,
) -> Result<()> {
    let now = app.now();
    match error {
        DeliveryError::ChatMoved(new_chat) => {
            tracing::info!(id = message.id, "chat moved to a new id; following it");
            groups::move_chat(tx, message.platform, &message.chat_id, &new_chat).await?;
            outbox::move_chat(tx, message.platform, &message.chat_id, &new_chat, now).await?;
            Ok(())
        }
        DeliveryError::Gone(reason) => {
            tracing::warn!(id = message.id, %reason, "chat gone; message dead-lettered");
            // `Gone` marks it for revival should the person open their private chat after all.
            outbox::mark_dead(tx, message.id, outbox::Failure::Gone, &reason).await?;
            if let Some(group_chat) = &message.fallback_chat
                && let Some(group) = groups::find(tx, message.platform, group_chat).await?
            {
                // The person has not opened (or has blocked) their private chat: say so in the
                // group where they wrote, with a link, and nothing else.
                let link = link.unwrap_or_default();
                let text =
                    app.scripts
                        .templates
                        .render(group.lang, "common.open_private_chat_link", &[("link", &link)]);
                let notice = Outbound::new(
                    Recipient::Chat {
                        platform: group.platform,
                        chat_id: group.chat_id.clone(),
                    },
                    text,
                );
                enqueue(
                    tx,
                    &[notice],
                    &format!("handoff:{}:{}", message.chat_id, group.chat_id),
                    now,
                )
                .await?;
            }
            if let Some(group) = groups::deactivate(tx, message.platform, &message.chat_id).await? {
                let mut notices = Vec::new();
                for officer in people::staff(tx, &group.station_id, None, false).await? {
                    let lang = crate::core::context_language(&app.scripts, &officer);
                    let text = app.scripts.templates.render(
                        lang,
                        "group.removed",
                        &[
                            ("platform", group.platform.as_str()),
                            ("chat", &group.chat_id),
                            ("kind", group.kind.as_str()),
                        ],
                    );
                    notices.push(Outbound::new(Recipient::Person(officer.id), text));
                }
                enqueue(
                    tx,
                    &notices,
                    &format!("gone:{}:{}:{}", group.platform, group.chat_id, message.id),
                    now,
                )
                .await?;
            }
            Ok(())
        }
        DeliveryError::Permanent(reason) => {
            tracing::warn!(id = message.id, %reason, "message dead-lettered");
            outbox::mark_dead(tx, message.id, outbox::Failure::Dead, &reason).await
        }
        DeliveryError::Retry { reason, .. } if message.attempts >= MAX_ATTEMPTS => {
            tracing::warn!(id = message.id, %reason, attempts = message.attempts, "message dead-lettered after retries");
            outbox::mark_dead(tx, message.id, outbox::Failure::Dead, &reason).await
        }
        DeliveryError::Retry { after_ms, reason } => {
            let wait = after_ms.unwrap_or_else(|| backoff_ms(message.attempts));
            outbox::mark_retry(tx, message.id, &reason, now + wait).await
        }
    }
}

/// Delivers until nothing is due now (for the console, transcripts and tests).
pub async fn drain<D: Deliverer>(app: &App, platform: Platform, deliverer: &D) -> Result<usize> {
    let mut total = 0;
    loop {
        let n = deliver_due(app, platform, deliverer).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}

/// How long an idle worker waits at most before looking at the outbox again: messages queued
/// by another process (a second replica, the command line) are noticed within this.
const IDLE_LOOK: std::time::Duration = std::time::Duration::from_secs(10);

/// The worker loop: deliver while anything is due; when nothing is, sleep until a transaction
/// of this process queues messages, the next waiting message falls due, or [`IDLE_LOOK`] —
/// an idle bot does not poll its database.
pub async fn run<D: Deliverer + 'static>(
    app: App,
    platform: Platform,
    deliverer: D,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    let waker = app.store.outbox_waker();
    let faults = FaultLog::new("delivering messages");
    let deliverer = std::sync::Arc::new(deliverer);
    let stragglers = rounds::Stragglers::default();
    loop {
        let n = match rounds::deliver_round(&app, platform, &deliverer, &stragglers).await {
            Ok(n) => {
                faults.worked();
                n
            }
            Err(e) => {
                faults.failed(&e);
                0
            }
        };
        if n == 0 {
            crate::memory::give_back();
            let wait = match idle_wait(&app, platform).await {
                Ok(wait) => wait,
                Err(e) => {
                    faults.failed(&e);
                    IDLE_LOOK
                }
            };
            tokio::select! {
                _ = waker.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
        if *shutdown.borrow() {
            return Ok(());
        }
    }
}

/// Until the next waiting message of `platform` falls due, at most [`IDLE_LOOK`].
async fn idle_wait(app: &App, platform: Platform) -> Result<std::time::Duration> {
    let mut tx = app.store.begin().await?;
    let due = outbox::next_due(&mut tx, platform, app.store.partition()).await?;
    tx.commit().await?;
    let wait = due.map_or(IDLE_LOOK.as_millis() as i64, |due| due - app.now());
    Ok(std::time::Duration::from_millis(
        wait.clamp(1, IDLE_LOOK.as_millis() as i64) as u64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1), 1_000);
        assert_eq!(backoff_ms(4), 8_000);
        assert_eq!(backoff_ms(30), 300_000);
    }
}
