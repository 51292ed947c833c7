//! Who people are to the bot (roles), where they talk (platforms) and what a group is for.

use std::fmt;

/// The chat platform an identity, a group or an outbox row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Console,
    Telegram,
    Matrix,
}

impl Platform {
    pub fn parse(s: &str) -> Option<Platform> {
        match s {
            "console" => Some(Platform::Console),
            "telegram" => Some(Platform::Telegram),
            "matrix" => Some(Platform::Matrix),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Console => "console",
            Platform::Telegram => "telegram",
            Platform::Matrix => "matrix",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person's role. The order matters: a higher role may do what a lower staff role may
/// (a station admin can work tickets like an officer); residents and liaisons are not ordered
/// against each other, see [`Role::is_staff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Resident,
    Liaison,
    Officer,
    StationAdmin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "resident" => Some(Role::Resident),
            "liaison" => Some(Role::Liaison),
            "officer" => Some(Role::Officer),
            "admin" => Some(Role::StationAdmin),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Liaison => "liaison",
            Role::Officer => "officer",
            Role::StationAdmin => "admin",
        }
    }
    /// Officers and station admins: the people who work tickets and broadcast alerts.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Officer | Role::StationAdmin)
    }
}

/// What a linked group is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKind {
    /// Residents of the station's area.
    Community,
    /// Hotel front desks and their beat officer.
    Liaison,
}

impl GroupKind {
    pub fn parse(s: &str) -> Option<GroupKind> {
        match s {
            "community" | "社区" => Some(GroupKind::Community),
            "liaison" | "旅馆" | "联络" => Some(GroupKind::Liaison),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Community => "community",
            GroupKind::Liaison => "liaison",
        }
    }
}
