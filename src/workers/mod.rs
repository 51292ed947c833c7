//! Background work: draining the outbox per platform, and the scheduler's periodic jobs.

pub mod delivery;
pub mod scheduler;
