//! The integration tests, one binary: transcripts, the store contract on SQLite and
//! PostgreSQL, the command line, Telegram against a fake Bot API server, Matrix against a real
//! Synapse, and property tests of the parser and the dialogue.

mod abuse;
mod authorization;
mod cap;
mod casework;
mod cli;
mod commands;
mod crash;
mod dead_letters;
mod delivery;
mod faq;
mod faq_cli;
mod faults;
mod fuzz;
mod harness;
mod matrix;
mod matrix_crash;
mod matrix_transcripts;
mod notices;
mod privacy;
mod properties;
mod replicas;
mod schedule;
mod schema;
mod soak;
mod store_contract;
mod telegram;
mod telegram_transcripts;
mod transcripts;

mod support {
    pub mod fake_telegram;
    pub mod private_postgres;
    pub mod replica_process;
    pub mod synapse;
}
