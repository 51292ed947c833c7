//! Pure domain types: no I/O and no platform types. Everything the core reasons about —
//! languages, roles, report kinds, ticket states, alert levels, and the text rules that keep
//! personal data out of group chats — is parsed here once, at the edge, into a type that
//! cannot hold an invalid value.

mod alert;
mod lang;
mod message;
mod person;
mod report;
mod text;

pub use alert::{AlertAudience, AlertLevel};
pub use lang::Lang;
pub use message::Button;
pub use person::{GroupKind, Platform, Role};
pub use report::{ReportKind, TicketNo, TicketStatus};
pub use text::{InputProblem, check_input, mask_tail, redact_numbers};
