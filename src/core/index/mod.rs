//! The safety index of a station (or a beat): computed from what beatbot knows
//! ([`compute`]), drawn as a chart ([`chart`]), captioned in the chat's language with the
//! trend, the kind of report that weighed most and a tip that fits it, posted to community
//! groups on their schedule (daily; on Mondays the weekly summary too), shown by `/index` in
//! any chat and by `beatbot index` on the command line. It shows counts' outcome only — never
//! a report, and a category is named only with `min_reports` reports behind it.

pub mod chart;
pub mod compute;

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result};
use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::{Ctx, Dispatched, Outbound, Recipient, UserError};
use crate::app::enqueue_keyed;
use crate::domain::cadence::{MISSED_AFTER_MS, local_date};
use crate::domain::{Cadence, Lang, ReportKind};
use crate::scripts::Scripts;
use crate::store::{Tx, index_facts, schedules, stations};
pub use compute::{IndexPoint, Period};

const DAY_MS: i64 = 86_400_000;
/// The photo field of an outbox row that carries a picture the bot made: `media:ID`.
pub const MEDIA_PREFIX: &str = "media:";

/// A station's (or beat's) index over the chart's span.
#[derive(Debug, Clone)]
pub struct IndexReport {
    pub station: String,
    pub station_name: String,
    pub beat: Option<String>,
    pub period: Period,
    /// Oldest first; the last is the one reported.
    pub points: Vec<IndexPoint>,
}

impl IndexReport {
    pub fn latest(&self) -> &IndexPoint {
        self.points.last().expect("a report has points")
    }
    fn previous(&self) -> Option<&IndexPoint> {
        self.points.len().checked_sub(2).and_then(|i| self.points.get(i))
    }
}

/// The last finished period at `now`: yesterday, or the week before this one.
pub fn last_finished(now: i64, tz: chrono_tz::Tz, period: Period) -> NaiveDate {
    let today = local_date(now, tz).unwrap_or_default();
    match period {
        Period::Day => today - Duration::days(1),
        Period::Week => compute::monday_of(today) - Duration::days(7),
    }
}

/// Computes the index of `station` (and `beat`) for the period starting `last` and the ones
/// before it on the chart (14 days or 8 weeks).
pub async fn build(
    tx: &mut Tx,
    scripts: &Scripts,
    station: &str,
    beat: Option<&str>,
    period: Period,
    last: NaiveDate,
) -> Result<IndexReport> {
    let tz = scripts.settings.timezone;
    let rules = &scripts.index;
    let n = match period {
        Period::Day => 14,
        Period::Week => 8,
    };
    let from = compute::first_day_needed(rules, period, last, n);
    let since = crate::domain::cadence::local_ms(from, 0, tz).unwrap_or(0);
    let tickets = index_facts::tickets(tx, station, since).await?;
    let alerts = index_facts::alerts(tx, station, since).await?;
    let ledger = compute::Ledger::new(rules, &tickets, &alerts, beat, tz);
    let station_name = stations::get(tx, station)
        .await?
        .map(|s| s.name)
        .unwrap_or_else(|| station.to_owned());
    Ok(IndexReport {
        station: station.to_owned(),
        station_name,
        beat: beat.map(str::to_owned),
        period,
        points: ledger.series(rules, period, last, n),
    })
}

fn bar_label(period: Period, start: NaiveDate) -> String {
    match period {
        Period::Day => start.format("%m-%d").to_string(),
        Period::Week => format!("W{}", start.iso_week().week()),
    }
}

/// The chart as PNG.
pub fn render(scripts: &Scripts, report: &IndexReport) -> Result<Vec<u8>> {
    let bars: Vec<chart::Bar> = report
        .points
        .iter()
        .map(|p| chart::Bar {
            label: bar_label(report.period, p.start),
            value: p.value,
            color: scripts.index.band(p.value).color,
        })
        .collect();
    let mut title = format!("安全指数 Safety index · {}", report.station_name);
    if let Some(beat) = &report.beat {
        title.push_str(&format!(" · {beat}"));
    }
    let first = report.points.first().map(|p| p.start).unwrap_or_default();
    let last = report.latest().start;
    let subtitle = match report.period {
        Period::Day => format!("每日 daily · {first} – {last}"),
        Period::Week => format!("每周 weekly · {first} – {}", last + Duration::days(6)),
    };
    chart::render(&title, &subtitle, &bars, &scripts.index.bands)
}

/// Date, index, band, load, usual and top kind per period, as CSV.
pub fn csv(report: &IndexReport) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["period_start", "index", "band", "load", "usual", "top_kind"])?;
    for p in &report.points {
        w.write_record([
            p.start.to_string(),
            p.value.to_string(),
            p.band.clone(),
            format!("{:.2}", p.load),
            format!("{:.2}", p.usual),
            p.top.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// A card of the suit that answers `top` (any suit without one), the same all day.
fn fitting_tip(scripts: &Scripts, top: Option<ReportKind>, day: NaiveDate, lang: Lang) -> Option<String> {
    let suit = top.and_then(|k| scripts.index.suits.get(&k));
    let cards: Vec<_> = scripts
        .tips
        .iter()
        .filter(|t| suit.is_none_or(|s| &t.suit == s))
        .collect();
    let card = cards.get(day.num_days_from_ce() as usize % cards.len().max(1))?;
    Some(card.text.get(lang).to_owned())
}

/// The text beside the chart (and what `/index` and the digest say).
pub fn caption(scripts: &Scripts, report: &IndexReport, lang: Lang) -> String {
    let t = &scripts.templates;
    let p = report.latest();
    let band = scripts.index.band(p.value);
    let when = match report.period {
        Period::Day => p.start.to_string(),
        Period::Week => t.render(lang, "index.when_week", &[("date", &p.start.to_string())]),
    };
    let title_key = match report.period {
        Period::Day => "index.title_day",
        Period::Week => "index.title_week",
    };
    let mut place = report.station_name.clone();
    if let Some(beat) = &report.beat {
        place.push_str(&format!(" · {beat}"));
    }
    let trend = match report.previous() {
        Some(prev) => {
            let key = match p.value - prev.value {
                d if d >= 5 => "index.trend_up",
                d if d <= -5 => "index.trend_down",
                _ => "index.trend_steady",
            };
            let before = match report.period {
                Period::Day => "index.day_before",
                Period::Week => "index.week_before",
            };
            let before = t.render(lang, before, &[]);
            t.render(lang, key, &[("previous", &prev.value.to_string()), ("before", &before)])
        }
        None => String::new(),
    };
    let top = match p.top {
        Some(kind) => t.render(lang, "index.top", &[("kind", scripts.form(kind).title.get(lang))]),
        None => t.render(lang, "index.top_none", &[]),
    };
    let tip = fitting_tip(scripts, p.top, p.start, lang).unwrap_or_default();
    t.render(
        lang,
        "index.caption",
        &[
            ("title", &t.render(lang, title_key, &[])),
            ("station", &place),
            ("when", &when),
            ("value", &p.value.to_string()),
            ("band", band.label.get(lang)),
            ("trend", &trend),
            ("top", &top),
            ("tip", &tip),
        ],
    )
}

/// The chart of `report` kept as a picture (made once per station, beat, period and date;
/// the same picture serves every chat and language); returns the photo field for the outbox.
pub async fn chart_photo(tx: &mut Tx, scripts: &Scripts, report: &IndexReport, now: i64) -> Result<String> {
    let key = format!(
        "index:{}:{}:{}:{}",
        report.station,
        report.beat.as_deref().unwrap_or("-"),
        match report.period {
            Period::Day => "day",
            Period::Week => "week",
        },
        report.latest().start
    );
    let id = match schedules::media_id(tx, &key).await? {
        Some(id) => id,
        None => {
            let png = render(scripts, report).context("rendering the safety index chart")?;
            schedules::put_media(tx, &key, &png, now).await?
        }
    };
    Ok(format!("{MEDIA_PREFIX}{id}"))
}

/// `/index [week] [beat=B]`: the latest index of the chat's station (a group's, else the
/// person's), chart and text.
pub async fn command(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let station = ctx
        .group
        .as_ref()
        .map(|g| g.station_id.clone())
        .or_else(|| ctx.me.station_id.clone())
        .ok_or_else(|| Dispatched::from(UserError::new("index.no_station")))?;
    let mut period = Period::Day;
    let mut beat = None;
    for word in rest.split_whitespace() {
        match word.to_lowercase().as_str() {
            "week" | "weekly" | "周" | "本周" | "每周" => period = Period::Week,
            "day" | "daily" | "日" | "每日" => period = Period::Day,
            w if w.starts_with("beat=") && ctx.me.role.is_staff() => beat = Some(word[5..].to_owned()),
            _ => return Err(UserError::new("index.usage").into()),
        }
    }
    let last = last_finished(ctx.now, ctx.scripts.settings.timezone, period);
    let report = build(ctx.tx, ctx.scripts, &station, beat.as_deref(), period, last).await?;
    let photo = chart_photo(ctx.tx, ctx.scripts, &report, ctx.now).await?;
    let text = caption(ctx.scripts, &report, ctx.lang);
    let mut out = Outbound::new(ctx.here(), text);
    out.photo = Some(photo);
    out.reply_to = Some(ctx.inbound.event_id.clone());
    ctx.out.push(out);
    Ok(())
}

/// The scheduler's job: community groups whose index slot came get the chart and its text —
/// yesterday's, and on Mondays (with a daily schedule) last week's summary after it. Each station's
/// chart is made once per slot and reused for every group.
pub async fn post_due(tx: &mut Tx, scripts: &Scripts, now: i64) -> Result<u64> {
    let tz = scripts.settings.timezone;
    let overrides = schedules::all(tx, "index").await?;
    let groups: Vec<_> = schedules::tip_groups(tx, None, None)
        .await?
        .into_iter()
        .filter(|g| g.kind == "community")
        .collect();
    // (station, local day of the slot, weekly) → the groups due; in that order, so on Mondays
    // yesterday's index comes before last week's summary.
    let mut due: BTreeMap<(String, NaiveDate, bool), Vec<&schedules::TipGroup>> = BTreeMap::new();
    for g in &groups {
        let (cadence, _) = schedules::in_force(&overrides, &g.station_id, Some(g.id), scripts.schedules.index);
        let Some(slot) = cadence.last_slot(now, tz) else {
            continue;
        };
        let at = super::tip_schedule::due_at(slot, scripts.settings.quiet_hours, tz);
        if slot <= g.created_at || now < at || now - at > MISSED_AFTER_MS {
            continue;
        }
        let Some(day) = local_date(slot, tz) else { continue };
        // Daily: yesterday's, and on Mondays last week's summary too; weekly: the summary only.
        let periods: &[Period] = match cadence {
            Cadence::Weekly(..) => &[Period::Week],
            _ if day.weekday() == Weekday::Mon => &[Period::Day, Period::Week],
            _ => &[Period::Day],
        };
        for period in periods {
            due.entry((g.station_id.clone(), day, *period == Period::Week))
                .or_default()
                .push(g);
        }
    }
    let mut out = Vec::new();
    for ((station, day, weekly), groups) in due {
        // Once per station, day and period (a schedule moved later the same day posts nothing
        // more): the outbox keys stop a second post to a group anyway, this saves computing
        // the index every minute.
        let which = if weekly { "week" } else { "day" };
        if !schedules::claim_run(tx, &format!("index:{station}:{day}:{which}"), now).await? {
            continue;
        }
        let period = if weekly { Period::Week } else { Period::Day };
        let slot = crate::domain::cadence::local_ms(day, 12 * 60, tz).unwrap_or(now);
        let last = last_finished(slot, tz, period);
        let report = build(tx, scripts, &station, None, period, last).await?;
        let photo = chart_photo(tx, scripts, &report, now).await?;
        let mut captions: HashMap<Lang, String> = HashMap::new();
        for g in groups {
            let text = captions
                .entry(g.lang)
                .or_insert_with(|| caption(scripts, &report, g.lang))
                .clone();
            let mut message = Outbound::new(
                Recipient::Chat {
                    platform: g.platform,
                    chat_id: g.chat_id.clone(),
                },
                text,
            );
            message.photo = Some(photo.clone());
            message.priority = super::tip_schedule::TIP_PRIORITY;
            out.push((message, format!("index:{}:{day}:{which}", schedules::group_key(g.id))));
        }
    }
    enqueue_keyed(tx, &out, now).await
}

/// How long ago, in whole days, for the digest.
pub fn days_ago(now: i64, then: i64) -> i64 {
    ((now - then) / DAY_MS).max(0)
}
