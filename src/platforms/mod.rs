//! Platform adapters: they convert platform events into `core::Inbound` and deliver outbox
//! rows, nothing more. Telegram and Matrix come in their own issues; the console serves
//! `beatbot demo` and transcripts.

pub mod console;
pub mod telegram;
