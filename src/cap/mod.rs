//! The Common Alerting Protocol (CAP 1.2): the model beatbot's alerts follow, reading official
//! warnings from feeds, writing the station's own alerts for other systems to relay, and
//! matching a warning's areas against a station's.

pub mod area;
pub mod model;
pub mod read;
mod tree;
pub mod write;

pub use model::{Area, CapMessage, Category, Certainty, Info, MsgType, Reference, Severity, Status, Urgency};

#[cfg(test)]
mod tests;
