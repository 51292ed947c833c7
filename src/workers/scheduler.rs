//! Periodic jobs run when due: ticket deadlines (escalation, reminders, breaches), the
//! silent-hotel watch, the daily retention purge, dropping report dialogues left half-filled
//! past their expiry, withdrawing the waiting copies of alerts past their CAP expiry, sending
//! what was held for people whose quiet hours ended (one digest each), scheduled safety tips,
//! the safety index's posts, the officers' morning digest, and forgetting inbound event ids
//! older than three days. Every job reads
//! the app's clock, so a transcript's `@advance` runs what became due.

use anyhow::Result;

use super::{sla, watch};
use crate::app::App;
use crate::store::{dialogues, inbound, replicas, schedules};

/// Charts are kept this long (`/index` shows at most last week's); job records this long.
const MEDIA_KEPT_MS: i64 = 21 * 86_400_000;
const RUNS_KEPT_MS: i64 = 30 * 86_400_000;

/// How long an inbound event id is remembered for dedupe.
const DEDUPE_WINDOW_MS: i64 = 3 * 86_400_000;

/// Ticks once a minute until `shutdown` fires. With replicas on one PostgreSQL, only the one
/// holding the scheduler's advisory lock ticks; the others try to take it each minute, so when
/// the leader dies another one leads within a minute.
pub async fn run(app: App, mut shutdown: tokio::sync::watch::Receiver<bool>) -> Result<()> {
    let mut leading: Option<replicas::Leadership> = None;
    loop {
        if let Some(lead) = &mut leading
            && !lead.holds().await
        {
            tracing::warn!("lost the scheduler's lock (its database connection failed)");
            leading = None;
        }
        if leading.is_none() {
            match replicas::try_lead(&app.store, "beatbot scheduler").await {
                Ok(Some(lead)) => {
                    tracing::info!("this replica runs the scheduler");
                    leading = Some(lead);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "could not ask for the scheduler's lock"),
            }
        }
        if leading.is_some()
            && let Err(e) = tick(&app).await
        {
            tracing::error!(error = %format!("{e:#}"), "scheduler tick failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// What the bot says on its own schedule: tips, the safety index, the officers' digest; and
/// once a day, forgetting the charts and job records it no longer needs.
async fn speak_up(app: &App, now: i64) -> Result<()> {
    let mut tx = app.store.begin().await?;
    let tips = crate::core::tip_schedule::run(&mut tx, &app.scripts, now).await?;
    let index_posts = crate::core::index::post_due(&mut tx, &app.scripts, now).await?;
    let officer_digests = crate::core::digest::send_due(&mut tx, &app.scripts, now).await?;
    let day = now.div_euclid(86_400_000);
    if schedules::claim_run(&mut tx, &format!("housekeeping:{day}"), now).await? {
        schedules::forget_before(&mut tx, now - MEDIA_KEPT_MS, now - RUNS_KEPT_MS).await?;
    }
    tx.commit().await?;
    if tips.tips > 0 || tips.skipped > 0 {
        tracing::info!(tips = tips.tips, skipped = tips.skipped, "scheduled tips");
    }
    if index_posts > 0 {
        tracing::info!(posts = index_posts, "safety index posted");
    }
    if officer_digests > 0 {
        tracing::info!(officers = officer_digests, "morning digests sent");
    }
    Ok(())
}

/// Runs every job that is due at the app's current time.
pub async fn tick(app: &App) -> Result<()> {
    let now = app.now();
    let expiry_ms = app.scripts.settings.dialogue_expiry_hours * 3_600_000;
    let mut tx = app.store.begin().await?;
    // Kept for as long again past their expiry, so a late answer is told it came too late.
    let dropped = dialogues::expire(&mut tx, now - 2 * expiry_ms).await?;
    inbound::forget_before(&mut tx, now - DEDUPE_WINDOW_MS).await?;
    let steps = sla::run(app, &mut tx, now).await?;
    let silent = watch::silent_hotels(app, &mut tx, now).await?;
    let expired_copies = crate::core::alerts::expire(&mut tx, now).await?;
    let digests = crate::core::quiet::release(&mut tx, &app.scripts, now).await?;
    tx.commit().await?;
    // Its own transaction: a failure there neither undoes nor blocks the deadlines above.
    if let Err(e) = speak_up(app, now).await {
        tracing::error!(error = %format!("{e:#}"), "scheduled tips, safety index or morning digest failed");
    }
    if digests > 0 {
        tracing::info!(digests, "messages held for quiet hours sent");
    }
    if expired_copies > 0 {
        tracing::info!(copies = expired_copies, "alert copies withdrawn: their alert expired");
    }
    if dropped > 0 {
        tracing::info!(dropped, "expired report dialogues");
    }
    if steps > 0 || silent > 0 {
        tracing::info!(deadline_steps = steps, silent_hotels = silent, "scheduler");
    }
    if let Some(purged) = crate::retention::purge_if_due(app, now).await?
        && (purged.ticket_count() > 0 || purged.messages > 0 || purged.notices > 0)
    {
        tracing::info!(
            tickets = purged.ticket_count(),
            messages = purged.messages,
            notices = purged.notices,
            "retention purge"
        );
    }
    Ok(())
}
