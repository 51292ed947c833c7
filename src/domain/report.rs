//! Report kinds, ticket numbers and ticket states.

use std::fmt;

/// The six report forms (README.md, "What people type"). Their fields, prompts and labels
/// live in `bot-scripts/forms.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    Noid,
    Item,
    Person,
    Fraud,
    Tip,
    Lost,
}

impl ReportKind {
    pub const ALL: [ReportKind; 6] = [
        ReportKind::Noid,
        ReportKind::Item,
        ReportKind::Person,
        ReportKind::Fraud,
        ReportKind::Tip,
        ReportKind::Lost,
    ];

    /// Accepts the stable key and the Chinese words a front desk types.
    pub fn parse(s: &str) -> Option<ReportKind> {
        match s.to_lowercase().as_str() {
            "noid" | "无证" | "无证入住" => Some(ReportKind::Noid),
            "item" | "物品" | "可疑物品" => Some(ReportKind::Item),
            "person" | "人员" | "可疑人员" => Some(ReportKind::Person),
            "fraud" | "诈骗" => Some(ReportKind::Fraud),
            "tip" | "线索" => Some(ReportKind::Tip),
            "lost" | "失物" | "遗失" => Some(ReportKind::Lost),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Noid => "noid",
            ReportKind::Item => "item",
            ReportKind::Person => "person",
            ReportKind::Fraud => "fraud",
            ReportKind::Tip => "tip",
            ReportKind::Lost => "lost",
        }
    }

    /// Hotel-liaison kinds go to the hotel's beat officer; the others to the station's queue.
    pub fn is_hotel_kind(self) -> bool {
        matches!(self, ReportKind::Noid | ReportKind::Person)
    }
}

/// A ticket number as typed by a person: `12`, `#12` or `＃12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketNo(i64);

impl TicketNo {
    pub fn parse(s: &str) -> Option<TicketNo> {
        let digits = s.trim().trim_start_matches(['#', '＃']);
        if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: i64 = digits.parse().ok()?;
        (n > 0).then_some(TicketNo(n))
    }
    pub fn from_db(n: i64) -> TicketNo {
        TicketNo(n)
    }
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for TicketNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

super::text_enum! {
    /// `open → acknowledged → resolved`, or `closed` without action.
    pub enum TicketStatus {
        Open = "open",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
        Closed = "closed",
    }
}

impl TicketStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_accept_hash_and_reject_garbage() {
        assert_eq!(TicketNo::parse("#12").map(TicketNo::get), Some(12));
        assert_eq!(TicketNo::parse("＃7").map(TicketNo::get), Some(7));
        assert_eq!(TicketNo::parse("0"), None);
        assert_eq!(TicketNo::parse("12a"), None);
        assert_eq!(TicketNo::parse("99999999999999999999"), None);
    }

    #[test]
    fn report_kinds_parse_chinese_aliases() {
        assert_eq!(ReportKind::parse("无证"), Some(ReportKind::Noid));
        assert_eq!(ReportKind::parse("NOID"), Some(ReportKind::Noid));
        assert_eq!(ReportKind::parse("x"), None);
    }
}

/// How far a missed acknowledgement has been escalated; stored as its level 0, 1, 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Escalation {
    None,
    /// The duty officers were told.
    Duty,
    /// The station admins were told.
    Admin,
}

/// Which resolution-deadline notice a ticket has had; stored as its level 0, 1, 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResolveNotice {
    None,
    /// The reminder before the deadline was sent.
    Reminded,
    /// The breach was reported.
    Breached,
}

macro_rules! leveled {
    ($name:ident: $($variant:ident = $level:literal),+) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored level.
            pub fn level(self) -> i64 {
                match self {
                    $($name::$variant => $level,)+
                }
            }

            pub fn from_level(level: i64) -> Option<$name> {
                match level {
                    $($level => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
leveled!(Escalation: None = 0, Duty = 1, Admin = 2);
leveled!(ResolveNotice: None = 0, Reminded = 1, Breached = 2);
