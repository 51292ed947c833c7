//! Flood control: one person — or one group, all senders together — sending far more than
//! people type (a stuck client, a script, a spammer) is told once to slow down and otherwise
//! ignored until the window passes, so one sender can neither bury a chat in answers nor spend
//! the chat's platform budget that alerts need. Limits per [`WINDOW_MS`] come from
//! bot-scripts (`flood_per_person`, `flood_per_group`; 0 turns one off).
//!
//! Counted on the app's clock (transcripts and replays run on simulated time), in fixed
//! windows, in memory: a restart forgets the counts, and each replica counts what reaches it —
//! enough to stop a flood, which is all this is for. A keyed GCRA limiter (`governor`, as the
//! Telegram sender uses) would need a clock adapter for the simulated clock; a windowed count
//! per key is the whole of what is needed here.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::Platform;

/// The length of a counting window.
pub const WINDOW_MS: i64 = 10_000;
/// Keys kept before windows that have passed are swept out.
const SWEEP_AT: usize = 10_000;

/// What to do with one more message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The first message over the limit in this window: say "slow down", do nothing else.
    Warn,
    /// Over the limit and already told: ignore.
    Drop,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

#[derive(Default)]
pub struct Flood {
    windows: Mutex<HashMap<(Platform, bool, String), Window>>,
}

impl Flood {
    /// Counts a message of `sender` in `chat` (`group`: whether the chat is a group) at `now`
    /// against `per_person` and, in a group, `per_group` messages per window.
    pub fn check(
        &self,
        platform: Platform,
        sender: &str,
        chat: Option<&str>,
        now: i64,
        per_person: u32,
        per_group: u32,
    ) -> Verdict {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > SWEEP_AT {
            windows.retain(|_, w| now - w.start < WINDOW_MS);
        }
        let mut count = |group: bool, key: &str, limit: u32| -> Verdict {
            if limit == 0 {
                return Verdict::Pass;
            }
            let w = windows
                .entry((platform, group, key.to_owned()))
                .or_insert(Window { start: now, count: 0 });
            if now - w.start >= WINDOW_MS || now < w.start {
                *w = Window { start: now, count: 0 };
            }
            w.count = w.count.saturating_add(1);
            match w.count.cmp(&(limit + 1)) {
                std::cmp::Ordering::Less => Verdict::Pass,
                std::cmp::Ordering::Equal => Verdict::Warn,
                std::cmp::Ordering::Greater => Verdict::Drop,
            }
        };
        let person = count(false, sender, per_person);
        let group = chat.map_or(Verdict::Pass, |chat| count(true, chat, per_group));
        // The stricter of the two; a warning is given once, for whichever limit was crossed.
        match (person, group) {
            (Verdict::Drop, _) | (_, Verdict::Drop) => Verdict::Drop,
            (Verdict::Warn, _) | (_, Verdict::Warn) => Verdict::Warn,
            _ => Verdict::Pass,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_over_the_limit_is_warned_once_then_ignored_until_the_window_passes() {
        let flood = Flood::default();
        let at = |now| flood.check(Platform::Telegram, "7", None, now, 3, 0);
        assert_eq!([at(0), at(1), at(2)], [Verdict::Pass; 3]);
        assert_eq!(at(3), Verdict::Warn);
        assert_eq!(at(4), Verdict::Drop);
        assert_eq!(at(WINDOW_MS - 1), Verdict::Drop);
        assert_eq!(at(WINDOW_MS), Verdict::Pass, "a new window");
    }

    #[test]
    fn a_group_counts_all_its_senders_and_each_person_is_counted_alone() {
        let flood = Flood::default();
        let say = |who: &str| flood.check(Platform::Telegram, who, Some("-1"), 0, 2, 3);
        assert_eq!([say("a"), say("b"), say("c")], [Verdict::Pass; 3]);
        assert_eq!(say("d"), Verdict::Warn, "the group's fourth message");
        assert_eq!(say("e"), Verdict::Drop);
        assert_eq!(
            flood.check(Platform::Telegram, "a", None, 0, 2, 3),
            Verdict::Pass,
            "a's second message, in a private chat"
        );
        assert_eq!(
            flood.check(Platform::Matrix, "a", Some("-1"), 0, 2, 3),
            Verdict::Pass,
            "another platform"
        );
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let flood = Flood::default();
        for now in 0..100 {
            assert_eq!(flood.check(Platform::Console, "a", Some("g"), now, 0, 0), Verdict::Pass);
        }
    }
}
