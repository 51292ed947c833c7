//! Alert levels and audiences of an officer's broadcast.

/// How urgent an alert is; `urgent` overtakes tips and digests in delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertLevel {
    Info,
    Warning,
    Urgent,
}

impl AlertLevel {
    pub fn parse(s: &str) -> Option<AlertLevel> {
        match s.to_lowercase().as_str() {
            "info" | "提示" | "一般" => Some(AlertLevel::Info),
            "warning" | "warn" | "警告" | "预警" => Some(AlertLevel::Warning),
            "urgent" | "紧急" => Some(AlertLevel::Urgent),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Info => "info",
            AlertLevel::Warning => "warning",
            AlertLevel::Urgent => "urgent",
        }
    }
    /// Outbox priority: higher is delivered first.
    pub fn priority(self) -> i64 {
        match self {
            AlertLevel::Info => 1,
            AlertLevel::Warning => 2,
            AlertLevel::Urgent => 3,
        }
    }
}

/// Who receives an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertAudience {
    /// Every linked group of the officer's station (the default).
    Station,
    /// The station's community groups only.
    Community,
    /// The station's hotel-liaison groups only.
    Liaison,
    /// Every group of the station and every resident subscribed to alerts by DM.
    All,
}

impl AlertAudience {
    pub fn parse(s: &str) -> Option<AlertAudience> {
        match s.to_lowercase().as_str() {
            "station" | "本所" => Some(AlertAudience::Station),
            "community" | "社区" => Some(AlertAudience::Community),
            "liaison" | "旅馆" => Some(AlertAudience::Liaison),
            "all" | "全部" => Some(AlertAudience::All),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAudience::Station => "station",
            AlertAudience::Community => "community",
            AlertAudience::Liaison => "liaison",
            AlertAudience::All => "all",
        }
    }
}

super::text_enum! {
    /// Where an alert is: drafted, then sent (confirmed; an update keeps it so) or cancelled
    /// (the draft was dropped, nothing sent); after it was sent, withdrawn (`/alert cancel`) or
    /// cleared (`/alert allclear`). Only a sent alert can be followed up.
    pub enum AlertStatus {
        Draft = "draft",
        Sent = "sent",
        Cancelled = "cancelled",
        Withdrawn = "withdrawn",
        Cleared = "cleared",
    }
}
