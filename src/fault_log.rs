//! One log line per fault, not one per failed attempt: while the database is locked or full,
//! or a platform is down, every redelivered update and every delivery round fails the same
//! way, and a line for each (ten a second) buries the one that says what is wrong. A
//! [`FaultLog`] logs the first failure with its error, counts the repeats (with a reminder
//! each minute it lasts), and logs once more when the same work succeeds again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a fault that lasts is mentioned again.
const REMINDER: Duration = Duration::from_secs(60);

struct Fault {
    since: Instant,
    failures: u64,
    reminded: Instant,
}

/// The fault state of one kind of work (webhook updates, delivery rounds).
pub struct FaultLog {
    what: &'static str,
    fault: Mutex<Option<Fault>>,
}

impl FaultLog {
    pub const fn new(what: &'static str) -> FaultLog {
        FaultLog {
            what,
            fault: Mutex::new(None),
        }
    }

    /// The work failed with `error`: logged if this starts a fault (or a minute has passed).
    pub fn failed(&self, error: &anyhow::Error) {
        let mut fault = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match fault.as_mut() {
            None => {
                tracing::error!(error = %format!("{error:#}"), "{} failing; retried, and repeats are counted until it works again", self.what);
                *fault = Some(Fault {
                    since: now,
                    failures: 1,
                    reminded: now,
                });
            }
            Some(f) => {
                f.failures += 1;
                if now.duration_since(f.reminded) >= REMINDER {
                    f.reminded = now;
                    tracing::error!(error = %format!("{error:#}"), failures = f.failures, seconds = f.since.elapsed().as_secs(), "{} still failing", self.what);
                }
            }
        }
    }

    /// The work succeeded: if it had been failing, say it recovered.
    pub fn worked(&self) {
        let mut fault = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = fault.take() {
            tracing::warn!(
                failures = f.failures,
                seconds = f.since.elapsed().as_secs(),
                "{} working again",
                self.what
            );
        }
    }

    /// Whether a fault is going on (for tests).
    pub fn failing(&self) -> bool {
        self.fault.lock().map(|f| f.is_some()).unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_is_open_from_the_first_failure_until_the_work_succeeds() {
        let log = FaultLog::new("test work");
        assert!(!log.failing());
        log.failed(&anyhow::anyhow!("disk full"));
        log.failed(&anyhow::anyhow!("disk full"));
        assert!(log.failing());
        assert_eq!(log.fault.lock().unwrap().as_ref().map(|f| f.failures), Some(2));
        log.worked();
        assert!(!log.failing());
        log.worked();
        assert!(!log.failing());
    }
}
