//! Pure domain types: no I/O and no platform types. Everything the core reasons about —
//! languages, roles, report kinds, ticket states, alert levels, and the text rules that keep
//! personal data out of group chats — is parsed here once, at the edge, into a type that
//! cannot hold an invalid value.

/// An enum stored as text in the database: one list of `Variant = "text"` gives `ALL`,
/// `as_str` (the one encoding) and `parse` (the one decoding); the migrations' CHECK
/// constraints list the same texts, and the schema test compares them with `ALL`.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value stored as `text`, if it is one.
            pub fn from_db(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

mod alert;
pub mod cadence;
mod lang;
mod message;
mod person;
mod press;
mod report;
mod text;
mod topic;

pub use alert::{AlertAudience, AlertLevel, AlertStatus};
pub use cadence::Cadence;
pub use lang::Lang;
pub use message::Button;
pub use person::{GroupKind, Platform, Role};
pub use press::{DialogueStep, Press};
pub use report::{Escalation, ReportKind, ResolveNotice, TicketNo, TicketStatus};
pub use text::{InputProblem, check_input, mask_tail, redact_numbers};
pub use topic::Topic;
