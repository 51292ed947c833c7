//! Station figures: reports per kind and per hotel, median and 90th-percentile time to
//! acknowledge and to resolve, deadline breaches and the average rating. [`Stats::compute`]
//! is pure (the `/stats` command and `beatbot stats` both render it); percentiles are the
//! nearest-rank kind, a dozen lines not worth a crate.

use std::collections::BTreeMap;

use super::{Ctx, Dispatched, UserError};
use crate::domain::{Lang, ReportKind};
use crate::scripts::Scripts;
use crate::store::tickets::{self, Ticket};

/// Figures over a set of tickets. Times are in milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub total: usize,
    pub per_kind: BTreeMap<&'static str, usize>,
    pub per_hotel: BTreeMap<String, usize>,
    pub ack: Spread,
    pub resolve: Spread,
    /// Tickets acknowledged late, or not at all by their deadline.
    pub ack_breaches: usize,
    /// Tickets resolved late, or not at all by their deadline.
    pub resolve_breaches: usize,
    pub rated: usize,
    pub rating_average: Option<f64>,
    pub open: usize,
}

/// How long something took over many tickets.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spread {
    pub count: usize,
    pub median: Option<i64>,
    pub p90: Option<i64>,
}

impl Spread {
    pub fn of(mut durations: Vec<i64>) -> Spread {
        durations.sort_unstable();
        Spread {
            count: durations.len(),
            median: percentile(&durations, 50),
            p90: percentile(&durations, 90),
        }
    }
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `p` % of the
/// values at or below it.
pub fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

impl Stats {
    /// Figures over `tickets` (each with its hotel's name) as of `now`.
    pub fn compute(tickets: &[(Ticket, Option<String>)], now: i64) -> Stats {
        let mut s = Stats {
            total: tickets.len(),
            ..Stats::default()
        };
        let (mut acks, mut resolves, mut ratings) = (Vec::new(), Vec::new(), Vec::new());
        for (t, hotel) in tickets {
            *s.per_kind.entry(t.kind.as_str()).or_default() += 1;
            if let Some(h) = hotel {
                *s.per_hotel.entry(h.clone()).or_default() += 1;
            }
            if let Some(at) = t.acked_at {
                acks.push(at - t.created_at);
            }
            if let Some(at) = t.resolved_at {
                resolves.push(at - t.created_at);
            }
            if let Some(r) = t.rating {
                ratings.push(r);
            }
            if !t.status.is_finished() {
                s.open += 1;
            }
            // A deadline is kept if the step was taken by then; closing without action ends
            // the clock too.
            let ack_step = t.acked_at.or(t.closed_at).unwrap_or(now);
            if t.ack_due_at.is_some_and(|due| ack_step > due) {
                s.ack_breaches += 1;
            }
            let resolve_step = t.finished_at().unwrap_or(now);
            if t.resolve_due_at.is_some_and(|due| resolve_step > due) {
                s.resolve_breaches += 1;
            }
        }
        s.ack = Spread::of(acks);
        s.resolve = Spread::of(resolves);
        s.rated = ratings.len();
        s.rating_average = (!ratings.is_empty()).then(|| ratings.iter().sum::<i64>() as f64 / ratings.len() as f64);
        s
    }
}

/// A duration for people: `12 min`, `3 h 05 min`, `2 d 4 h` (`12分钟`, `3小时05分`, `2天4小时`).
pub fn duration(ms: i64, lang: Lang) -> String {
    let minutes = (ms.max(0) + 30_000) / 60_000;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match lang {
        Lang::En if d > 0 => format!("{d} d {h} h"),
        Lang::En if h > 0 => format!("{h} h {m:02} min"),
        Lang::En => format!("{m} min"),
        Lang::Zh if d > 0 => format!("{d}天{h}小时"),
        Lang::Zh if h > 0 => format!("{h}小时{m:02}分"),
        Lang::Zh => format!("{m}分钟"),
    }
}

/// `/stats [DAYS]`: the officer's station over the last DAYS days (default 30).
pub async fn command(ctx: &mut Ctx<'_>, rest: &str) -> Result<(), Dispatched> {
    let Some(station) = ctx.me.station_id.clone() else {
        return Err(UserError::new("common.no_station").into());
    };
    let days = match rest.split_whitespace().next() {
        None => 30,
        Some(w) => w
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3660).contains(d))
            .ok_or_else(|| UserError::new("stats.usage"))?,
    };
    let rows = tickets::filed_since(ctx.tx, &station, ctx.now - days * 86_400_000).await?;
    let stats = Stats::compute(&rows, ctx.now);
    let text = render(ctx.scripts, ctx.lang, &stats, days);
    ctx.to_me(text, Vec::new());
    Ok(())
}

/// A station's figures for tickets filed from `since`, and the station's language.
pub async fn for_station(
    store: &crate::store::Store,
    station: &str,
    since: i64,
    now: i64,
) -> anyhow::Result<(Stats, Lang)> {
    let mut tx = store.begin().await?;
    let Some(st) = crate::store::stations::get(&mut tx, station).await? else {
        anyhow::bail!("there is no station `{station}`");
    };
    let rows = tickets::filed_since(&mut tx, station, since).await?;
    tx.commit().await?;
    Ok((Stats::compute(&rows, now), st.lang))
}

/// The figures as a message in `lang` (also what `beatbot stats` prints).
pub fn render(scripts: &Scripts, lang: Lang, s: &Stats, days: i64) -> String {
    let msg = |key: &str, args: &[(&str, &str)]| scripts.templates.render(lang, key, args);
    let mut lines = vec![msg(
        "stats.header",
        &[
            ("days", &days.to_string()),
            ("total", &s.total.to_string()),
            ("open", &s.open.to_string()),
        ],
    )];
    for kind in ReportKind::ALL {
        if let Some(count) = s.per_kind.get(kind.as_str()) {
            let title = scripts.form(kind).title.get(lang);
            lines.push(format!("• {title}: {count}"));
        }
    }
    if !s.per_hotel.is_empty() {
        lines.push(msg("stats.hotels", &[]));
        for (hotel, count) in &s.per_hotel {
            lines.push(format!("• {hotel}: {count}"));
        }
    }
    let none = msg("stats.none", &[]);
    let show = |v: Option<i64>| v.map(|ms| duration(ms, lang)).unwrap_or_else(|| none.clone());
    for (key, spread) in [("stats.ack", s.ack), ("stats.resolve", s.resolve)] {
        lines.push(msg(
            key,
            &[
                ("median", &show(spread.median)),
                ("p90", &show(spread.p90)),
                ("count", &spread.count.to_string()),
            ],
        ));
    }
    lines.push(msg(
        "stats.breaches",
        &[
            ("ack", &s.ack_breaches.to_string()),
            ("resolve", &s.resolve_breaches.to_string()),
        ],
    ));
    let average = s
        .rating_average
        .map(|a| format!("{a:.1}"))
        .unwrap_or_else(|| none.clone());
    lines.push(msg(
        "stats.rating",
        &[("average", &average), ("count", &s.rated.to_string())],
    ));
    lines.join("\n")
}

/// The figures as CSV rows `metric,group,value` (minutes for times), for spreadsheets.
pub fn write_csv(s: &Stats, out: impl std::io::Write) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(["metric", "group", "value"])?;
    let mut row = |metric: &str, group: &str, value: String| csv.write_record([metric, group, value.as_str()]);
    row("tickets", "all", s.total.to_string())?;
    row("tickets", "open", s.open.to_string())?;
    for (kind, n) in &s.per_kind {
        row("tickets_by_kind", kind, n.to_string())?;
    }
    for (hotel, n) in &s.per_hotel {
        row("tickets_by_hotel", hotel, n.to_string())?;
    }
    let minutes = |v: Option<i64>| v.map(|ms| format!("{:.1}", ms as f64 / 60_000.0)).unwrap_or_default();
    for (name, spread) in [("acknowledge_minutes", s.ack), ("resolve_minutes", s.resolve)] {
        row(name, "median", minutes(spread.median))?;
        row(name, "p90", minutes(spread.p90))?;
        row(name, "count", spread.count.to_string())?;
    }
    row("deadline_missed", "acknowledge", s.ack_breaches.to_string())?;
    row("deadline_missed", "resolve", s.resolve_breaches.to_string())?;
    row(
        "rating",
        "average",
        s.rating_average.map(|a| format!("{a:.2}")).unwrap_or_default(),
    )?;
    row("rating", "count", s.rated.to_string())?;
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[1, 2, 3], 90), Some(3));
    }

    const MIN: i64 = 60_000;

    fn ticket(kind: ReportKind, acked: Option<i64>, resolved: Option<i64>, rating: Option<i64>) -> Ticket {
        Ticket {
            id: 1,
            station_id: "s".into(),
            kind,
            hotel_id: None,
            reporter_id: 1,
            assignee_id: None,
            status: if resolved.is_some() {
                crate::domain::TicketStatus::Resolved
            } else {
                crate::domain::TicketStatus::Open
            },
            fields: BTreeMap::new(),
            origin_group_id: None,
            created_at: 0,
            acked_at: acked,
            resolved_at: resolved,
            resolution: None,
            rating,
            ack_due_at: Some(15 * MIN),
            resolve_due_at: Some(240 * MIN),
            escalation: crate::domain::Escalation::None,
            resolve_notice: crate::domain::ResolveNotice::None,
            closed_at: None,
            close_reason: None,
            rating_comment: None,
            purged_at: None,
        }
    }

    #[test]
    fn figures_count_kinds_hotels_breaches_and_ratings() {
        let rows = vec![
            (
                ticket(ReportKind::Noid, Some(5 * MIN), Some(60 * MIN), Some(5)),
                Some("Inn".to_owned()),
            ),
            (
                ticket(ReportKind::Noid, Some(20 * MIN), Some(300 * MIN), Some(2)),
                Some("Inn".to_owned()),
            ),
            (ticket(ReportKind::Item, None, None, None), None),
        ];
        let s = Stats::compute(&rows, 30 * MIN);
        assert_eq!(s.total, 3);
        assert_eq!(s.per_kind.get("noid"), Some(&2));
        assert_eq!(s.per_hotel.get("Inn"), Some(&2));
        assert_eq!(s.open, 1);
        assert_eq!(
            (s.ack.median, s.ack.p90, s.ack.count),
            (Some(5 * MIN), Some(20 * MIN), 2)
        );
        // Late by 5 min, and the open item is past its 15-minute deadline at minute 30.
        assert_eq!(s.ack_breaches, 2);
        // Resolved after 300 min against 240; the open one is not late yet.
        assert_eq!(s.resolve_breaches, 1);
        assert_eq!(s.rating_average, Some(3.5));
    }

    #[test]
    fn durations_read_naturally_in_both_languages() {
        assert_eq!(duration(12 * 60_000, Lang::En), "12 min");
        assert_eq!(duration(185 * 60_000, Lang::En), "3 h 05 min");
        assert_eq!(duration((2 * 1440 + 4 * 60) * 60_000, Lang::Zh), "2天4小时");
        assert_eq!(duration(59_000, Lang::Zh), "1分钟");
    }
}
