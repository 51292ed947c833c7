//! Periodic jobs run when due: for now, dropping report dialogues left half-filled past the
//! expiry set in bot-scripts, and forgetting inbound event ids older than three days. Later
//! issues add tips, the safety index, SLA escalation and the retention purge here.

use anyhow::Result;

use crate::app::App;
use crate::store::{dialogues, inbound};

/// How long an inbound event id is remembered for dedupe.
const DEDUPE_WINDOW_MS: i64 = 3 * 86_400_000;

/// Ticks once a minute until `shutdown` fires.
pub async fn run(app: App, mut shutdown: tokio::sync::watch::Receiver<bool>) -> Result<()> {
    loop {
        if let Err(e) = tick(&app).await {
            tracing::error!(error = %format!("{e:#}"), "scheduler tick failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// Runs every job that is due at the app's current time.
pub async fn tick(app: &App) -> Result<()> {
    let expiry_ms = app.scripts.settings.dialogue_expiry_hours * 3_600_000;
    let mut tx = app.store.begin().await?;
    // Kept for as long again past their expiry, so a late answer is told it came too late.
    let dropped = dialogues::expire(&mut tx, app.now() - 2 * expiry_ms).await?;
    inbound::forget_before(&mut tx, app.now() - DEDUPE_WINDOW_MS).await?;
    tx.commit().await?;
    if dropped > 0 {
        tracing::info!(dropped, "expired report dialogues");
    }
    Ok(())
}
