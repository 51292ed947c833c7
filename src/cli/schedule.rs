//! `beatbot tips preview` (what the next days' scheduled tips would bring, where and when,
//! nothing sent) and `beatbot index` (a station's or beat's safety index as text, CSV or a PNG
//! chart).

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::config::Config;
use crate::core::index::{self, Period};
use crate::core::tip_schedule;
use crate::startup::app;
use crate::store::stations;

fn local_time(ms: i64, tz: chrono_tz::Tz) -> String {
    use chrono::TimeZone;
    tz.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %a %H:%M").to_string())
        .unwrap_or_default()
}

/// `tips preview --station S --days N`.
pub async fn tips_preview(config: &Config, station: &str, days: i64) -> Result<()> {
    let app = app(config).await?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    if stations::get(&mut tx, station).await?.is_none() {
        bail!("no station {station}");
    }
    let lines = tip_schedule::preview(&mut tx, &app.scripts, station, days, now).await?;
    tx.commit().await?;
    let tz = app.scripts.settings.timezone;
    if lines.is_empty() {
        println!("no tips in the next {days} days: no linked group or subscriber, or every schedule is off");
    }
    for line in lines {
        let what = match &line.card {
            Ok((id, text)) => format!("{id}  {}", text.replace('\n', " ")),
            Err(why) => format!("— ({why})"),
        };
        println!(
            "{}  {}  [{}]  {what}",
            local_time(line.at, tz),
            line.target,
            line.lang.code()
        );
    }
    Ok(())
}

/// `index --station S [--beat B] [--week] [--png FILE] [--csv]`.
pub async fn index(
    config: &Config,
    station: &str,
    beat: Option<&str>,
    week: bool,
    png: Option<&Path>,
    csv: bool,
) -> Result<()> {
    let app = app(config).await?;
    let now = app.now();
    let period = if week { Period::Week } else { Period::Day };
    let last = index::last_finished(now, app.scripts.settings.timezone, period);
    let mut tx = app.store.begin().await?;
    let Some(st) = stations::get(&mut tx, station).await? else {
        bail!("no station {station}");
    };
    let report = index::build(&mut tx, &app.scripts, station, beat, period, last).await?;
    tx.commit().await?;
    if let Some(path) = png {
        let bytes = index::render(&app.scripts, &report)?;
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    if csv {
        print!("{}", index::csv(&report)?);
    } else {
        println!("{}", index::caption(&app.scripts, &report, st.lang));
    }
    Ok(())
}
