//! The retention purge: a set time after a ticket is finished (per station, 90 days unless
//! changed) its personal data goes — every field but the non-identifying choices, the outcome
//! texts, the free text of its history — leaving an anonymous skeleton (kind, hotel, times,
//! status, officer, rating) for statistics. Old delivered messages lose their text the same
//! way. `beatbot purge [--dry-run]` runs it; the scheduler runs it once a day.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::app::App;
use crate::scripts::{FieldType, Form};
use crate::store::{platform_state, retention};

/// What a purge did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Tickets per station.
    pub tickets: BTreeMap<String, usize>,
    /// Delivered messages emptied.
    pub messages: u64,
    /// Notices over whose description and photo were removed.
    pub notices: u64,
}

impl Purged {
    pub fn ticket_count(&self) -> usize {
        self.tickets.values().sum()
    }
}

/// The fields that survive a purge: choices, yes/no, amounts and times — values that say what
/// happened without saying who.
pub fn skeleton(form: &Form, fields: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter(|(key, _)| {
            form.field(key).is_some_and(|f| {
                !f.personal
                    && matches!(
                        f.field_type,
                        FieldType::Choice
                            | FieldType::MultiChoice
                            | FieldType::YesNo
                            | FieldType::Amount
                            | FieldType::Time
                    )
            })
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Purges everything past its retention period at `now`; with `dry_run`, only counts it.
pub async fn purge(app: &App, now: i64, dry_run: bool) -> Result<Purged> {
    let mut tx = app.store.begin().await?;
    let mut purged = Purged::default();
    for t in retention::due(&mut tx, now).await? {
        *purged.tickets.entry(t.station_id.clone()).or_default() += 1;
        if !dry_run {
            let kept = skeleton(app.scripts.form(t.kind), &t.fields);
            retention::purge_ticket(&mut tx, t.id, &serde_json::to_string(&kept)?, now).await?;
        }
    }
    if let Some(days) = retention::shortest_retention_days(&mut tx).await? {
        purged.messages = retention::old_messages(&mut tx, now - days * 86_400_000, !dry_run).await?;
    }
    purged.notices = retention::old_notices(&mut tx, now, !dry_run).await?;
    if dry_run {
        tx.rollback().await?;
    } else {
        platform_state::set(&mut tx, LAST_RUN_KEY, &now.to_string()).await?;
        tx.commit().await?;
    }
    Ok(purged)
}

const LAST_RUN_KEY: &str = "retention:last_run";

/// The daily purge of the scheduler: runs when a day has passed since the last one.
pub async fn purge_if_due(app: &App, now: i64) -> Result<Option<Purged>> {
    let mut tx = app.store.begin().await?;
    let last = platform_state::get(&mut tx, LAST_RUN_KEY)
        .await?
        .and_then(|v| v.parse::<i64>().ok());
    tx.commit().await?;
    if last.is_some_and(|at| now - at < 86_400_000) {
        return Ok(None);
    }
    purge(app, now, false).await.map(Some)
}
