//! beatbot: a community-policing group-chat bot. See `docs/` and the README for the picture;
//! this list is the map of the code.

pub mod app;
pub mod audit;
pub mod cap;
pub mod cli;
pub mod clock;
pub mod config;
pub mod core;
pub mod demo;
pub mod domain;
pub mod faq_cli;
pub mod fault_log;
pub mod feeds;
pub mod flood;
pub mod matching;
pub mod memory;
pub mod metrics;
pub mod platforms;
pub mod replay;
pub mod retention;
pub mod scripts;
pub mod startup;
pub mod store;
pub mod web;
pub mod workers;
