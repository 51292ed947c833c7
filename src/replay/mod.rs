//! Transcripts (format version 1, described in docs/transcripts.md): a readable script of a
//! conversation with expectations on what the bot sends, run through the outbox and the
//! console adapter exactly as in production. `parse` reads a file into steps; `setup` plays
//! the world-building `@` lines; `run` plays the rest.

mod parse;
mod run;
mod setup;

pub use parse::{Captures, Check, Pattern, Step, parse};
pub use run::{Failure, Replayer, run_file};
pub use setup::{Naming, set_up};
