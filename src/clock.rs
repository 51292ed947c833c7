//! Time as the bot sees it: the system clock in production, a settable one in transcripts.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, UTC.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that only moves when told (`@clock`, `@advance`).
pub struct FakeClock(AtomicI64);

impl FakeClock {
    pub fn new(ms: i64) -> FakeClock {
        FakeClock(AtomicI64::new(ms))
    }
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The real clock shifted by a settable offset: time still runs (rate budgets and retries work
/// as in production), but a transcript can start it at a given moment and jump ahead.
pub struct OffsetClock(AtomicI64);

impl OffsetClock {
    pub fn new() -> OffsetClock {
        OffsetClock(AtomicI64::new(0))
    }
    pub fn set(&self, ms: i64) {
        self.0.store(ms - SystemClock.now_ms(), Ordering::SeqCst);
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Default for OffsetClock {
    fn default() -> Self {
        OffsetClock::new()
    }
}

impl Clock for OffsetClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.0.load(Ordering::SeqCst)
    }
}
