//! `beatbot audit export --station S --since DATE`: the append-only record of every ticket
//! action (who, when, what, from which platform) as CSV, times in the station's time zone.

use std::io::Write;

use anyhow::{Context, Result};
use chrono::{NaiveDate, TimeZone};

use crate::app::App;
use crate::store::tickets;

/// Midnight of `date` (`YYYY-MM-DD`) in `tz`, in epoch milliseconds.
pub fn start_of_day(date: &str, tz: chrono_tz::Tz) -> Result<i64> {
    let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .with_context(|| format!("`{date}` is not a date: write it as 2026-11-01"))?;
    let midnight = day.and_hms_opt(0, 0, 0).context("midnight")?;
    let local = tz
        .from_local_datetime(&midnight)
        .earliest()
        .with_context(|| format!("{date} has no midnight in {tz}"))?;
    Ok(local.timestamp_millis())
}

/// Writes the station's audit log since `since` (epoch ms) as CSV; returns the row count.
pub async fn export(app: &App, station: &str, since: i64, out: impl Write) -> Result<usize> {
    let mut tx = app.store.begin().await?;
    if crate::store::stations::get(&mut tx, station).await?.is_none() {
        anyhow::bail!("there is no station `{station}`");
    }
    let entries = tickets::audit(&mut tx, station, since).await?;
    tx.commit().await?;
    let tz = app.scripts.settings.timezone;
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(["ticket", "at", "actor", "platform", "action", "detail"])?;
    for e in &entries {
        let at = tz
            .timestamp_millis_opt(e.at)
            .single()
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        csv.write_record([
            e.ticket.to_string().as_str(),
            &at,
            e.actor.as_deref().unwrap_or("beatbot"),
            &e.platform,
            &e.action,
            e.detail.as_deref().unwrap_or(""),
        ])?;
    }
    csv.flush()?;
    Ok(entries.len())
}
