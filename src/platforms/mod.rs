//! Platform adapters: they convert platform events into `core::Inbound` and deliver outbox
//! rows, nothing more: Telegram (teloxide), Matrix (matrix-sdk), and the console that serves
//! `beatbot demo` and transcripts.

pub mod console;
pub mod matrix;
pub mod telegram;
