//! The safety index as arithmetic on counts (`bot-scripts/index.toml`, explained in
//! `docs/safety-index.md`): a day's (or week's) weighted load of reports, alerts and slow
//! resolutions against the usual load of the same weekday (or of the weeks before). Pure:
//! facts in, numbers out, so golden tests pin it down.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};

use crate::domain::ReportKind;
use crate::domain::cadence::local_date;
use crate::scripts::IndexRules;
use crate::store::index_facts::{AlertFact, TicketFact};

/// Day or week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
}

/// One period's index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexPoint {
    /// The day, or the Monday of the week.
    pub start: NaiveDate,
    pub load: f64,
    pub usual: f64,
    pub value: i64,
    /// The band's key (`excellent`, `good`, …).
    pub band: String,
    /// The kind of report that weighed most, when enough reports stand behind it.
    pub top: Option<ReportKind>,
}

/// Facts grouped by local day: weighted load, and the weighted load and count per kind.
#[derive(Debug, Default, Clone)]
struct DayLoad {
    load: f64,
    kinds: BTreeMap<ReportKind, (f64, i64)>,
}

/// Everything an index is computed from: the facts of a station (or a beat's share of them)
/// by local day.
pub struct Ledger {
    days: BTreeMap<NaiveDate, DayLoad>,
}

impl Ledger {
    /// Sorts facts into local days of `tz`; with `beat`, only tickets of hotels on that beat
    /// count (alerts go to the whole station, so they count for every beat).
    pub fn new(
        rules: &IndexRules,
        tickets: &[TicketFact],
        alerts: &[AlertFact],
        beat: Option<&str>,
        tz: chrono_tz::Tz,
    ) -> Ledger {
        let mut days: BTreeMap<NaiveDate, DayLoad> = BTreeMap::new();
        let slow_ms = (rules.slow_hours * 3_600_000.0) as i64;
        for t in tickets {
            if beat.is_some() && t.beat.as_deref() != beat {
                continue;
            }
            if let Some(day) = local_date(t.created_at, tz) {
                let w = rules.weight(t.kind);
                let d = days.entry(day).or_default();
                d.load += w;
                let k = d.kinds.entry(t.kind).or_default();
                k.0 += w;
                k.1 += 1;
            }
            if let Some(resolved) = t.resolved_at
                && resolved - t.created_at > slow_ms
                && let Some(day) = local_date(resolved, tz)
            {
                days.entry(day).or_default().load += rules.slow;
            }
        }
        for a in alerts {
            if let Some(day) = local_date(a.sent_at, tz) {
                days.entry(day).or_default().load += rules.alert_weights.get(&a.severity).copied().unwrap_or(0.0);
            }
        }
        Ledger { days }
    }

    fn span(&self, start: NaiveDate, days: i64) -> DayLoad {
        let mut out = DayLoad::default();
        for d in self.days.range(start..start + Duration::days(days)) {
            out.load += d.1.load;
            for (kind, (w, n)) in &d.1.kinds {
                let k = out.kinds.entry(*kind).or_default();
                k.0 += w;
                k.1 += n;
            }
        }
        out
    }

    /// The index of the period starting at `start` (a day, or a week's Monday).
    pub fn point(&self, rules: &IndexRules, period: Period, start: NaiveDate) -> IndexPoint {
        let len = match period {
            Period::Day => 1,
            Period::Week => 7,
        };
        let this = self.span(start, len);
        let weeks = rules.trailing_weeks;
        let usual = (1..=weeks)
            .map(|w| self.span(start - Duration::days(7 * w), len).load)
            .sum::<f64>()
            / weeks as f64;
        let s = rules.smoothing;
        let value = ((100.0 * (usual + s) / (this.load + s)).round() as i64).clamp(0, 200);
        let top = this
            .kinds
            .iter()
            .filter(|(_, (_, n))| *n >= rules.min_reports)
            // The heaviest; on a tie the kind listed first.
            .fold(None::<(ReportKind, f64)>, |best, (kind, (w, _))| match best {
                Some((_, bw)) if bw >= *w => best,
                _ => Some((*kind, *w)),
            })
            .map(|(k, _)| k);
        IndexPoint {
            start,
            load: this.load,
            usual,
            value,
            band: rules.band(value).key.clone(),
            top,
        }
    }

    /// The last `n` periods ending with the one that starts at `last`, oldest first.
    pub fn series(&self, rules: &IndexRules, period: Period, last: NaiveDate, n: i64) -> Vec<IndexPoint> {
        let step = match period {
            Period::Day => 1,
            Period::Week => 7,
        };
        (0..n)
            .rev()
            .map(|i| self.point(rules, period, last - Duration::days(step * i)))
            .collect()
    }
}

/// The Monday of the week holding `day`.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// How far back facts are needed for `n` periods of `period` ending at `last` (their usual
/// included).
pub fn first_day_needed(rules: &IndexRules, period: Period, last: NaiveDate, n: i64) -> NaiveDate {
    let step = match period {
        Period::Day => 1,
        Period::Week => 7,
    };
    last - Duration::days(step * (n - 1) + 7 * rules.trailing_weeks)
}

#[cfg(test)]
mod tests;
