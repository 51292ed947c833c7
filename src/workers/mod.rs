//! Background work: draining the outbox per platform, and the scheduler's periodic jobs
//! (ticket deadlines, the silent-hotel watch, the retention purge).

pub mod delivery;
pub mod feeds;
pub mod replica;
pub mod scheduler;
pub mod sla;
pub mod watch;
