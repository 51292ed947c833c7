//! bot-scripts: what a station changes without recompiling — report forms, FAQ entries, the
//! tip library, message templates, FAQ matching and settings — loaded from TOML and checked as a whole.
//! [`Scripts::load`] returns every problem with its file and line, so `beatbot scripts check`
//! and start-up refuse invalid scripts with the same messages.

mod check;
mod faq_check;
mod model;
mod schedule_check;
mod templates;

pub use check::{ScriptError, load};
pub use faq_check::STATION_FACTS;
pub use model::{Faq, Field, FieldOption, FieldType, Form, Matching, OutOfScope, Scripts, Settings, Sla, Text, Tip};
pub use schedule_check::{Band, IndexRules, Schedules, Season};
pub use templates::Templates;
pub use templates::{placeholders, substitute};

/// The template keys the code uses (the checker requires each in both languages).
pub fn templates_required_keys() -> &'static [&'static str] {
    templates::REQUIRED_KEYS
}
