//! `[[feeds]]`: official warnings from other agencies, as CAP messages in an Atom or RSS feed
//! or at a single URL. Each feed says which stations it serves (and where each station is, to
//! match a warning's area), which categories and how severe a warning must be to pass, and
//! whether a warning goes out at once or waits for the duty officer's press. Read with the
//! rest of the configuration ([`crate::config`]); polled by [`crate::workers::feeds`].

use std::time::Duration;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::cap::area::StationArea;
use crate::cap::{Category, Severity};
use crate::domain::AlertAudience;

/// A feed as written in the configuration file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FeedSettings {
    /// Shown in logs and to officers ("from bj-weather").
    pub name: String,
    /// An Atom or RSS feed of CAP messages, or one CAP message.
    pub url: String,
    /// Seconds between polls (default 300); errors back off from it up to an hour.
    pub interval_secs: u64,
    /// CAP categories that pass (`Met`, `Geo`, …); empty: all.
    pub categories: Vec<String>,
    /// The least severe that passes: Minor (default), Moderate, Severe or Extreme; `Unknown`
    /// lets warnings of unknown severity through too.
    pub min_severity: String,
    /// `auto` (default: Extreme and Severe at once, the rest to the duty officer for one
    /// press), `confirm` (always the officer's press) or `immediate` (always at once).
    pub send: String,
    /// Who gets a warning: `all` (default: every group and residents subscribed by private
    /// chat), `station`, `community` or `liaison`.
    pub to: String,
    /// The stations served; none: every station, wherever the warning is.
    pub stations: Vec<FeedStationSettings>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FeedStationSettings {
    pub station: String,
    /// Administrative code prefixes the station lies in (a warning's `<geocode>` values).
    pub codes: Vec<String>,
    /// The station's location, `[latitude, longitude]`.
    pub point: Option<[f64; 2]>,
    /// The station's beat, `[[lat, lon], …]`.
    pub polygon: Vec<[f64; 2]>,
}

/// When a warning that passed goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    Auto,
    Confirm,
    Immediate,
}

impl SendMode {
    /// Whether a warning of `severity` goes out without an officer's press.
    pub fn at_once(self, severity: Severity) -> bool {
        match self {
            SendMode::Auto => severity.rank() >= Severity::Severe.rank(),
            SendMode::Confirm => false,
            SendMode::Immediate => true,
        }
    }
}

/// A feed, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub name: String,
    pub url: url::Url,
    pub interval: Duration,
    pub categories: Vec<Category>,
    pub min_severity: Severity,
    pub send: SendMode,
    pub audience: AlertAudience,
    /// Empty: every station, without an area.
    pub stations: Vec<(String, StationArea)>,
}

impl Feed {
    /// Whether an `<info>` of these categories and this severity passes the feed's filter.
    pub fn passes(&self, categories: &[Category], severity: Severity) -> bool {
        let category = self.categories.is_empty() || categories.iter().any(|c| self.categories.contains(c));
        category && severity.rank() >= self.min_severity.rank()
    }
}

impl FeedSettings {
    /// Checks a feed (`index`: its place among `[[feeds]]`, for messages).
    pub fn parse(self, index: usize) -> Result<Feed> {
        let key = |field: &str| format!("feeds[{index}].{field}");
        if self.name.trim().is_empty() {
            bail!("bad configuration `{}`: every feed needs a name", key("name"));
        }
        let url = match url::Url::parse(&self.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => bail!(
                "bad configuration `{}`: must be an http(s) URL, got `{}`",
                key("url"),
                self.url
            ),
        };
        let categories = self
            .categories
            .iter()
            .map(|c| {
                Category::ALL
                    .iter()
                    .copied()
                    .find(|k| k.as_str().eq_ignore_ascii_case(c))
                    .ok_or_else(|| anyhow::anyhow!("bad configuration `{}`: `{c}` is not a CAP category (Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other)", key("categories")))
            })
            .collect::<Result<Vec<_>>>()?;
        let min_severity = match self.min_severity.as_str() {
            "" => Severity::Minor,
            s => Severity::ALL
                .iter()
                .copied()
                .find(|k| k.as_str().eq_ignore_ascii_case(s))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "bad configuration `{}`: `{s}` is not Minor, Moderate, Severe or Extreme",
                        key("min_severity")
                    )
                })?,
        };
        let send = match self.send.as_str() {
            "" | "auto" => SendMode::Auto,
            "confirm" => SendMode::Confirm,
            "immediate" => SendMode::Immediate,
            s => bail!(
                "bad configuration `{}`: `{s}` is not auto, confirm or immediate",
                key("send")
            ),
        };
        let audience = match self.to.as_str() {
            "" => AlertAudience::All,
            s => AlertAudience::parse(s).ok_or_else(|| {
                anyhow::anyhow!(
                    "bad configuration `{}`: `{s}` is not all, station, community or liaison",
                    key("to")
                )
            })?,
        };
        let mut stations = Vec::new();
        for (i, s) in self.stations.into_iter().enumerate() {
            if s.station.trim().is_empty() {
                bail!(
                    "bad configuration `{}`: needs the station's id",
                    key(&format!("stations[{i}].station"))
                );
            }
            let on_globe = |[lat, lon]: [f64; 2]| (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
            if !s.point.is_none_or(on_globe) || !s.polygon.iter().copied().all(on_globe) {
                bail!(
                    "bad configuration `{}`: a point is off the globe ([latitude, longitude])",
                    key(&format!("stations[{i}]"))
                );
            }
            if !s.polygon.is_empty() && s.polygon.len() < 3 {
                bail!(
                    "bad configuration `{}`: a polygon needs three points or more",
                    key(&format!("stations[{i}].polygon"))
                );
            }
            let mut polygon: Vec<(f64, f64)> = s.polygon.iter().map(|[a, b]| (*a, *b)).collect();
            if polygon.first() != polygon.last() {
                polygon.push(polygon[0]);
            }
            stations.push((
                s.station,
                StationArea {
                    codes: s.codes,
                    point: s.point.map(|[a, b]| (a, b)),
                    polygon,
                },
            ));
        }
        Ok(Feed {
            name: self.name,
            url,
            interval: Duration::from_secs(if self.interval_secs == 0 {
                300
            } else {
                self.interval_secs
            }),
            categories,
            min_severity,
            send,
            audience,
            stations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(toml_text: &str) -> Result<Feed> {
        let settings: FeedSettings = toml::from_str(toml_text).unwrap();
        settings.parse(0)
    }

    #[test]
    fn a_feed_reads_with_its_defaults() {
        let f = feed("name = \"bj\"\nurl = \"http://example.org/cap.atom\"").unwrap();
        assert_eq!(f.interval, Duration::from_secs(300));
        assert_eq!(f.send, SendMode::Auto);
        assert_eq!(f.min_severity, Severity::Minor);
        assert_eq!(f.audience, AlertAudience::All);
        assert!(f.passes(&[Category::Met], Severity::Minor));
        assert!(SendMode::Auto.at_once(Severity::Severe) && !SendMode::Auto.at_once(Severity::Moderate));
    }

    #[test]
    fn filters_and_areas_are_read() {
        let f = feed(
            "name = \"bj\"\nurl = \"https://example.org/a.xml\"\ncategories = [\"met\", \"Geo\"]\nmin_severity = \"Moderate\"\n\
             [[stations]]\nstation = \"xinhua\"\ncodes = [\"110105\"]\npoint = [39.92, 116.46]\npolygon = [[39.9, 116.4], [40.0, 116.4], [40.0, 116.5]]",
        )
        .unwrap();
        assert_eq!(f.categories, vec![Category::Met, Category::Geo]);
        assert!(f.passes(&[Category::Met], Severity::Severe));
        assert!(!f.passes(&[Category::Health], Severity::Severe));
        assert!(!f.passes(&[Category::Met], Severity::Minor));
        let (id, area) = &f.stations[0];
        assert_eq!(id, "xinhua");
        assert_eq!(area.polygon.len(), 4, "the ring is closed");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("name = \"\"\nurl = \"http://x\"", "feeds[0].name"),
            ("name = \"a\"\nurl = \"ftp://x\"", "feeds[0].url"),
            (
                "name = \"a\"\nurl = \"http://x\"\ncategories = [\"Weather\"]",
                "feeds[0].categories",
            ),
            (
                "name = \"a\"\nurl = \"http://x\"\nmin_severity = \"Big\"",
                "feeds[0].min_severity",
            ),
            ("name = \"a\"\nurl = \"http://x\"\nsend = \"now\"", "feeds[0].send"),
            (
                "name = \"a\"\nurl = \"http://x\"\n[[stations]]\nstation = \"s\"\npoint = [100.0, 1.0]",
                "feeds[0].stations[0]",
            ),
        ] {
            let e = feed(text).unwrap_err().to_string();
            assert!(e.contains(key), "{e}");
        }
    }
}
