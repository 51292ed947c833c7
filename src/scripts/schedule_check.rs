//! `schedule.toml` (when tips, the safety index and the officers' digest go out; seasons that
//! put a suit first) and `index.toml` (the safety index's weights and bands), loaded and
//! checked with every problem located. A directory without them gets the shipped ones.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::check::{RawText, ScriptError, Source, open};
use super::model::Text;
use crate::domain::{Cadence, ReportKind};

/// `schedule.toml`.
#[derive(Debug, Clone)]
pub struct Schedules {
    pub tips: Cadence,
    pub index: Cadence,
    /// Minute after midnight of the officers' morning digest; `None`: none.
    pub digest: Option<u32>,
    pub dormant_days: i64,
    pub campaign_after_alert_days: i64,
    pub seasons: Vec<Season>,
}

/// A suit put first every year from one day to another (month, day; inclusive; may wrap
/// over the new year).
#[derive(Debug, Clone)]
pub struct Season {
    pub suit: String,
    pub from: (u32, u32),
    pub to: (u32, u32),
    pub name: Text,
}

impl Season {
    pub fn contains(&self, month: u32, day: u32) -> bool {
        let at = (month, day);
        if self.from <= self.to {
            self.from <= at && at <= self.to
        } else {
            at >= self.from || at <= self.to
        }
    }
}

/// `index.toml`.
#[derive(Debug, Clone)]
pub struct IndexRules {
    pub trailing_weeks: i64,
    pub smoothing: f64,
    pub slow: f64,
    pub slow_hours: f64,
    pub min_reports: i64,
    /// Weight per report kind; a kind not listed weighs 1.
    pub weights: BTreeMap<ReportKind, f64>,
    /// Weight per CAP severity (`Extreme`, `Severe`, …); one not listed weighs 0.
    pub alert_weights: BTreeMap<String, f64>,
    /// The tip suit that answers a top category.
    pub suits: BTreeMap<ReportKind, String>,
    /// Highest first.
    pub bands: Vec<Band>,
}

#[derive(Debug, Clone)]
pub struct Band {
    pub min: i64,
    pub key: String,
    pub label: Text,
    pub color: (u8, u8, u8),
}

impl IndexRules {
    pub fn weight(&self, kind: ReportKind) -> f64 {
        self.weights.get(&kind).copied().unwrap_or(1.0)
    }
    /// The band an index value falls in (the last band catches everything).
    pub fn band(&self, value: i64) -> &Band {
        self.bands
            .iter()
            .find(|b| value >= b.min)
            .unwrap_or_else(|| self.bands.last().expect("the checker requires a band"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedules {
    tips: Option<Spanned<String>>,
    index: Option<Spanned<String>>,
    digest: Option<Spanned<String>>,
    dormant_days: Option<u32>,
    campaign_after_alert_days: Option<u32>,
    #[serde(default)]
    season: Vec<RawSeason>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeason {
    suit: Spanned<String>,
    from: Spanned<String>,
    to: Spanned<String>,
    name: Spanned<RawText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndex {
    trailing: Option<u32>,
    smoothing: Option<f64>,
    slow: Option<f64>,
    slow_hours: Option<f64>,
    min_reports: Option<u32>,
    #[serde(default)]
    weights: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    alert_weights: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    suits: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    band: Vec<RawBand>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    min: Spanned<i64>,
    key: String,
    label: Spanned<RawText>,
    color: Spanned<String>,
}

const SHIPPED_SCHEDULE: &str = include_str!("../../bot-scripts/schedule.toml");
const SHIPPED_INDEX: &str = include_str!("../../bot-scripts/index.toml");
const SEVERITIES: [&str; 5] = ["Extreme", "Severe", "Moderate", "Minor", "Unknown"];

/// The file, or the shipped one when the directory has none.
fn open_or_shipped<'a>(dir: &Path, name: &str, shipped: &str, errors: &'a mut Vec<ScriptError>) -> Option<Source<'a>> {
    if dir.join(name).exists() {
        open(dir, name, errors)
    } else {
        Some(Source::new(dir.join(name), shipped.to_owned(), errors))
    }
}

fn cadence(src: &mut Source<'_>, raw: &Option<Spanned<String>>, what: &str, default: Cadence) -> Cadence {
    let Some(raw) = raw else { return default };
    match Cadence::parse(raw.get_ref()) {
        Some(c) => c,
        None => {
            src.error(
                raw.span().start,
                format!(
                    "{what} `{}` is not `daily HH:MM`, `weekly mon HH:MM` or `off`",
                    raw.get_ref()
                ),
            );
            default
        }
    }
}

fn month_day(text: &str) -> Option<(u32, u32)> {
    let (m, d) = text.split_once('-')?;
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    chrono::NaiveDate::from_ymd_opt(2028, m, d).map(|_| (m, d))
}

pub fn load_schedules(dir: &Path, suits: &BTreeMap<String, Text>, errors: &mut Vec<ScriptError>) -> Option<Schedules> {
    let mut src = open_or_shipped(dir, "schedule.toml", SHIPPED_SCHEDULE, errors)?;
    let raw: RawSchedules = src.parse()?;
    let tips = cadence(&mut src, &raw.tips, "tips", Cadence::Daily(9 * 60));
    let index = cadence(&mut src, &raw.index, "index", Cadence::Daily(8 * 60 + 30));
    let digest = match &raw.digest {
        None => Some(7 * 60 + 30),
        Some(d) if d.get_ref().trim() == "off" => None,
        Some(d) => match crate::domain::cadence::parse_minute(d.get_ref()) {
            Some(m) => Some(m),
            None => {
                src.error(
                    d.span().start,
                    format!("digest `{}` is not HH:MM (or off)", d.get_ref()),
                );
                None
            }
        },
    };
    let mut seasons = Vec::new();
    for s in &raw.season {
        if !suits.is_empty() && !suits.contains_key(s.suit.get_ref()) {
            src.error(
                s.suit.span().start,
                format!("unknown suit `{}` in a season", s.suit.get_ref()),
            );
        }
        let mut date = |raw: &Spanned<String>| {
            month_day(raw.get_ref()).unwrap_or_else(|| {
                src.error(raw.span().start, format!("`{}` is not a date MM-DD", raw.get_ref()));
                (1, 1)
            })
        };
        let (from, to) = (date(&s.from), date(&s.to));
        let name = src.text(&s.name, "season name");
        seasons.push(Season {
            suit: s.suit.get_ref().clone(),
            from,
            to,
            name,
        });
    }
    Some(Schedules {
        tips,
        index,
        digest,
        dormant_days: raw.dormant_days.unwrap_or(90).into(),
        campaign_after_alert_days: raw.campaign_after_alert_days.unwrap_or(7).into(),
        seasons,
    })
}

fn color(text: &str) -> Option<(u8, u8, u8)> {
    let hex = text.strip_prefix('#').filter(|h| h.len() == 6)?;
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

pub fn load_index(dir: &Path, suits: &BTreeMap<String, Text>, errors: &mut Vec<ScriptError>) -> Option<IndexRules> {
    let mut src = open_or_shipped(dir, "index.toml", SHIPPED_INDEX, errors)?;
    let raw: RawIndex = src.parse()?;
    let kinds = |src: &mut Source<'_>, map: &BTreeMap<String, Spanned<f64>>| {
        let mut out = BTreeMap::new();
        for (key, w) in map {
            match ReportKind::parse(key) {
                Some(kind) if *w.get_ref() >= 0.0 => {
                    out.insert(kind, *w.get_ref());
                }
                Some(_) => src.error(w.span().start, format!("the weight of `{key}` is negative")),
                None => src.error(w.span().start, format!("unknown report kind `{key}`")),
            }
        }
        out
    };
    let weights = kinds(&mut src, &raw.weights);
    let mut alert_weights = BTreeMap::new();
    for (key, w) in &raw.alert_weights {
        if !SEVERITIES.contains(&key.as_str()) {
            src.error(
                w.span().start,
                format!("unknown severity `{key}` (Extreme, Severe, Moderate, Minor, Unknown)"),
            );
        }
        alert_weights.insert(key.clone(), *w.get_ref());
    }
    let mut kind_suits = BTreeMap::new();
    for (key, suit) in &raw.suits {
        match ReportKind::parse(key) {
            Some(kind) => {
                if !suits.is_empty() && !suits.contains_key(suit.get_ref()) {
                    src.error(suit.span().start, format!("unknown suit `{}`", suit.get_ref()));
                }
                kind_suits.insert(kind, suit.get_ref().clone());
            }
            None => src.error(suit.span().start, format!("unknown report kind `{key}`")),
        }
    }
    let mut bands = Vec::new();
    for b in &raw.band {
        let label = src.text(&b.label, &format!("band `{}`", b.key));
        let rgb = color(b.color.get_ref()).unwrap_or_else(|| {
            src.error(
                b.color.span().start,
                format!("color `{}` is not #rrggbb", b.color.get_ref()),
            );
            (0, 0, 0)
        });
        bands.push(Band {
            min: *b.min.get_ref(),
            key: b.key.clone(),
            label,
            color: rgb,
        });
    }
    bands.sort_by_key(|b| -b.min);
    if bands.is_empty() {
        src.error(0, "the index needs at least one [[band]]");
    } else if bands.last().is_some_and(|b| b.min > 0) {
        let at = raw.band.iter().map(|b| b.min.span().start).max().unwrap_or(0);
        src.error(at, "the lowest band must start at 0, so every index has a band");
    }
    Some(IndexRules {
        trailing_weeks: raw.trailing.unwrap_or(4).max(1).into(),
        smoothing: raw.smoothing.unwrap_or(2.0).max(0.1),
        slow: raw.slow.unwrap_or(1.0),
        slow_hours: raw.slow_hours.unwrap_or(72.0),
        min_reports: raw.min_reports.unwrap_or(3).into(),
        weights,
        alert_weights,
        suits: kind_suits,
        bands,
    })
}
