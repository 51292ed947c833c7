//! CAP 1.2's message model, as much of it as beatbot reads, keeps and writes: the `<alert>`
//! envelope, its `<info>` blocks (one per language) and their `<area>`s. Times are kept as
//! milliseconds since the epoch (UTC), with the original text of `sent` for references.

use crate::domain::text_enum;

text_enum! {
    /// CAP `status`: only `Actual` is acted on.
    pub enum Status {
        Actual = "Actual",
        Exercise = "Exercise",
        System = "System",
        Test = "Test",
        Draft = "Draft",
    }
}

text_enum! {
    /// CAP `msgType`.
    pub enum MsgType {
        Alert = "Alert",
        Update = "Update",
        Cancel = "Cancel",
        Ack = "Ack",
        Error = "Error",
    }
}

text_enum! {
    /// CAP `category`.
    pub enum Category {
        Geo = "Geo",
        Met = "Met",
        Safety = "Safety",
        Security = "Security",
        Rescue = "Rescue",
        Fire = "Fire",
        Health = "Health",
        Env = "Env",
        Transport = "Transport",
        Infra = "Infra",
        Cbrne = "CBRNE",
        Other = "Other",
    }
}

text_enum! {
    /// CAP `urgency`.
    pub enum Urgency {
        Immediate = "Immediate",
        Expected = "Expected",
        Future = "Future",
        Past = "Past",
        Unknown = "Unknown",
    }
}

text_enum! {
    /// CAP `severity`, most severe first.
    pub enum Severity {
        Extreme = "Extreme",
        Severe = "Severe",
        Moderate = "Moderate",
        Minor = "Minor",
        Unknown = "Unknown",
    }
}

text_enum! {
    /// CAP `certainty`.
    pub enum Certainty {
        Observed = "Observed",
        Likely = "Likely",
        Possible = "Possible",
        Unlikely = "Unlikely",
        Unknown = "Unknown",
    }
}

impl Severity {
    /// 4 for Extreme down to 0 for Unknown: for "at least this severe".
    pub fn rank(self) -> u8 {
        match self {
            Severity::Extreme => 4,
            Severity::Severe => 3,
            Severity::Moderate => 2,
            Severity::Minor => 1,
            Severity::Unknown => 0,
        }
    }
}

/// One earlier message an Update or Cancel refers to: `sender,identifier,sent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub sender: String,
    pub identifier: String,
    pub sent: String,
}

impl Reference {
    pub fn to_cap(&self) -> String {
        format!("{},{},{}", self.sender, self.identifier, self.sent)
    }
}

/// A CAP message.
#[derive(Debug, Clone, PartialEq)]
pub struct CapMessage {
    pub identifier: String,
    pub sender: String,
    /// `sent` as written (part of the message's key and of references to it).
    pub sent: String,
    pub sent_ms: i64,
    pub status: Status,
    pub msg_type: MsgType,
    pub scope: String,
    pub references: Vec<Reference>,
    pub note: Option<String>,
    pub infos: Vec<Info>,
}

/// One `<info>` block: the warning in one language.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// RFC 3066 tag as written (`en-US`, `zh-CN`); `en-US` when absent, as CAP says.
    pub language: String,
    pub categories: Vec<Category>,
    pub event: String,
    pub response_types: Vec<String>,
    pub urgency: Urgency,
    pub severity: Severity,
    pub certainty: Certainty,
    pub effective_ms: Option<i64>,
    pub onset_ms: Option<i64>,
    pub expires_ms: Option<i64>,
    pub sender_name: Option<String>,
    pub headline: Option<String>,
    pub description: Option<String>,
    pub instruction: Option<String>,
    pub web: Option<String>,
    pub areas: Vec<Area>,
}

/// A point as CAP writes it: latitude, longitude (WGS 84).
pub type Point = (f64, f64);

/// An `<area>`: its description and, optionally, shapes and codes.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Area {
    #[serde(skip)]
    pub description: String,
    pub polygons: Vec<Vec<Point>>,
    /// Centre and radius in kilometres.
    pub circles: Vec<(Point, f64)>,
    /// `(valueName, value)` pairs, e.g. `("GB2260", "110105")`.
    pub geocodes: Vec<(String, String)>,
}

impl CapMessage {
    /// The key a message is handled once by: (sender, identifier, sent).
    pub fn key(&self) -> (String, String, String) {
        (self.sender.clone(), self.identifier.clone(), self.sent.clone())
    }

    /// The `<info>` for `lang` (`zh…` or `en…`), else the first.
    pub fn info_for(&self, lang: &str) -> Option<&Info> {
        let prefix = lang.split('-').next().unwrap_or(lang).to_lowercase();
        self.infos
            .iter()
            .find(|i| i.language.to_lowercase().starts_with(&prefix))
            .or_else(|| self.infos.first())
    }

    /// The most severe of its blocks.
    pub fn severity(&self) -> Severity {
        self.infos
            .iter()
            .map(|i| i.severity)
            .max_by_key(|s| s.rank())
            .unwrap_or(Severity::Unknown)
    }

    /// When the message stops applying: the latest `expires` of its blocks, if every block
    /// has one.
    pub fn expires_ms(&self) -> Option<i64> {
        let all: Option<Vec<i64>> = self.infos.iter().map(|i| i.expires_ms).collect();
        all.and_then(|e| e.into_iter().max())
    }
}

/// CAP's date-time (`2026-12-05T10:00:00+08:00`; `Z` is accepted too) in ms since the epoch.
pub fn parse_time(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// A time as CAP writes it, in the time zone `tz` (CAP forbids `Z`: `-00:00` would say "no
/// zone", so a real offset is written).
pub fn format_time(ms: i64, tz: chrono_tz::Tz) -> String {
    use chrono::TimeZone;
    match tz.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => String::new(),
    }
}
