//! The transcripts of tests/transcripts/, played over Telegram: every `>` line becomes an
//! update on the fake Bot API server, read by the real long-polling adapter; every check looks
//! at what the real delivery worker sent to that server over HTTP. People and groups get
//! Telegram ids (users 1001…, groups -1000001…).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use beatbot::app::App;
use beatbot::clock::OffsetClock;
use beatbot::domain::Platform;
use beatbot::replay::{Captures, Check, Naming, Pattern, Step, parse, set_up};
use beatbot::startup::Running;

use super::harness;
use crate::support::fake_telegram::{FakeTelegram, Sent};

/// Telegram's limits, and the fake server's, run this many times faster.
const SPEED: f64 = 1000.0;

struct TelegramReplay {
    app: App,
    clock: Arc<OffsetClock>,
    fake: FakeTelegram,
    users: HashMap<String, i64>,
    groups: HashMap<String, i64>,
    members: HashMap<String, Vec<String>>,
    mark: usize,
    captures: Captures,
    bot: Running,
    _dir: tempfile::TempDir,
}

/// A message's (chat, message id, [(label, data)]).
type OfferedButtons = (i64, i64, Vec<(String, String)>);

fn unescape(html: &str) -> String {
    html.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn mention_bot(text: &str) -> String {
    let re = regex::Regex::new(r"@beatbot\b(?:[^_]|$)").expect("valid regex");
    if !re.is_match(text) {
        return text.to_owned();
    }
    text.replace("@beatbot", &format!("@{}", crate::support::fake_telegram::BOT_USERNAME))
}

/// Telegram names: users 1001…, whose private chat is their id and who have started the bot
/// (as declared people have a private chat on the console); groups -1000001….
impl Naming for TelegramReplay {
    fn identity(&mut self, person: &str) -> (Platform, String, Option<String>) {
        let id = self.user(person);
        self.fake.start_chat(id);
        (Platform::Telegram, id.to_string(), Some(id.to_string()))
    }
    fn group_chat(&mut self, group: &str) -> (Platform, String) {
        (Platform::Telegram, self.group(group).to_string())
    }
}

impl TelegramReplay {
    async fn start() -> TelegramReplay {
        let fake = FakeTelegram::start(SPEED).await;
        let (store, dir) = harness::sqlite().await;
        let (scripts, faq) = harness::scripts();
        let clock = Arc::new(OffsetClock::new());
        clock.set(1_795_395_600_000);
        let app = App::from_parts(store, scripts, faq, clock.clone());
        let bot = super::telegram::serve(&super::telegram::telegram_config(&fake, SPEED), app.clone()).await;
        TelegramReplay {
            app,
            clock,
            fake,
            users: HashMap::new(),
            groups: HashMap::new(),
            members: HashMap::new(),
            mark: 0,
            captures: Captures::default(),
            bot,
            _dir: dir,
        }
    }

    fn user(&mut self, name: &str) -> i64 {
        let next = 1001 + self.users.len() as i64;
        *self.users.entry(name.to_owned()).or_insert(next)
    }

    fn group(&mut self, name: &str) -> i64 {
        let next = -1_000_001 - self.groups.len() as i64;
        *self.groups.entry(name.to_owned()).or_insert(next)
    }

    /// Waits until the update is confirmed and nothing is left to deliver.
    async fn settle(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut tx = self.app.store.begin().await.unwrap();
            let pending = beatbot::store::outbox::pending_count(&mut tx, Platform::Telegram)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            if self.fake.unconfirmed_updates() == 0 && pending == 0 {
                // One more beat for a delivery whose outcome is being recorded.
                tokio::time::sleep(Duration::from_millis(5)).await;
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "not settled after 60 s: {pending} message(s) pending, {} update(s) unconfirmed",
                    self.fake.unconfirmed_updates()
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The newest message with a matching button that `user` can see: (chat, message id, data).
    fn find_button(&self, user: &str, label: &Pattern) -> Option<(i64, i64, String)> {
        let dm = *self.users.get(user)?;
        let visible = |chat: i64| {
            chat == dm
                || self.groups.iter().any(|(name, id)| {
                    *id == chat && self.members.get(name).is_some_and(|m| m.iter().any(|u| u == user))
                })
        };
        // Buttons each message shows now (an edit replaces them).
        let mut current: Vec<OfferedButtons> = Vec::new();
        for s in self.fake.sent() {
            let buttons: Vec<(String, String)> = s
                .reply_markup
                .as_ref()
                .and_then(|m| m["inline_keyboard"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .flat_map(|row| row.as_array().cloned().unwrap_or_default())
                .map(|b| {
                    (
                        b["text"].as_str().unwrap_or_default().to_owned(),
                        b["callback_data"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            match current
                .iter_mut()
                .find(|(c, m, _)| *c == s.chat_id && *m == s.message_id)
            {
                Some(entry) => entry.2 = buttons,
                None => current.push((s.chat_id, s.message_id, buttons)),
            }
        }
        current
            .iter()
            .rev()
            .filter(|(chat, _, b)| !b.is_empty() && visible(*chat))
            .find_map(|(chat, id, buttons)| {
                buttons
                    .iter()
                    .find(|(text, _)| label.matches(text))
                    .map(|(_, data)| (*chat, *id, data.clone()))
            })
    }

    fn since_mark(&self, chat: i64) -> Vec<Sent> {
        self.fake
            .sent()
            .into_iter()
            .skip(self.mark)
            .filter(|s| s.chat_id == chat)
            .collect()
    }

    async fn step(&mut self, step: &Step) -> Result<(), String> {
        let app = self.app.clone();
        if set_up(&app, step, self).await.map_err(|e| format!("{e:#}"))? {
            if let Step::Group { id, members, .. } = step {
                self.members.insert(id.clone(), members.clone());
            }
            return Ok(());
        }
        match step {
            Step::Clock(ms) => self.clock.set(*ms),
            Step::Advance(ms) => {
                self.mark = self.fake.sent().len();
                self.clock.advance(*ms);
                beatbot::workers::scheduler::tick(&self.app)
                    .await
                    .map_err(|e| e.to_string())?;
                self.settle().await?;
            }
            Step::Say { chat, user, text } => {
                self.mark = self.fake.sent().len();
                let uid = self.user(user);
                let chat_id = match chat {
                    Some(g) => {
                        let members = self.members.entry(g.clone()).or_default();
                        if !members.iter().any(|m| m == user) {
                            members.push(user.clone());
                        }
                        self.group(g)
                    }
                    None => uid,
                };
                // `@beatbot` in a transcript mentions the bot: on Telegram, by its username.
                let text = mention_bot(&self.captures.fill(text));
                self.fake.text(chat_id, uid, user, &text);
                self.settle().await?;
            }
            Step::Press { user, label } => {
                let Some((chat, message_id, data)) = self.find_button(user, label) else {
                    return Err(format!("no button matching {} was offered to {user}", label.source()));
                };
                self.mark = self.fake.sent().len();
                let uid = self.user(user);
                self.fake.press(chat, message_id, uid, user, &data);
                self.settle().await?;
            }
            Step::Station { .. }
            | Step::Officer { .. }
            | Step::Liaison { .. }
            | Step::Resident { .. }
            | Step::Group { .. } => {}
            Step::Expect { chat, pattern, negated } => {
                let pattern = &self.captures.pattern(pattern);
                let (chat_id, place) = match chat {
                    Check::Group(g) => (self.group(g), g.clone()),
                    Check::Dm(u) => (self.user(u), format!("dm {u}")),
                };
                let seen_now =
                    |r: &Self| -> Vec<String> { r.since_mark(chat_id).iter().map(|s| unescape(&s.text)).collect() };
                let mut seen = seen_now(self);
                // Over HTTP a reply can land a moment after the outbox looked empty: give an
                // expected message up to two seconds (a refused one is checked as it stands).
                for _ in 0..100 {
                    if *negated || seen.iter().any(|t| pattern.matches(t)) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    seen = seen_now(self);
                }
                self.captures.learn(pattern, seen.iter().map(String::as_str));
                if seen.iter().any(|t| pattern.matches(t)) == *negated {
                    let what = if *negated {
                        "expected no message matching"
                    } else {
                        "expected a message matching"
                    };
                    return Err(format!(
                        "{what} {} in {place} (over Telegram); sent there since the last input: {seen:#?}",
                        pattern.source()
                    ));
                }
            }
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transcript_passes_over_telegram() {
    let files = harness::transcript_files();
    let mut failures = Vec::new();
    for file in &files {
        let steps = parse(&std::fs::read_to_string(file).unwrap()).expect("transcript parses");
        let mut replay = TelegramReplay::start().await;
        for (line, step) in &steps {
            if let Err(e) = replay.step(step).await {
                failures.push(format!("{}:{line}: {e}", file.display()));
                break;
            }
        }
        replay.bot.stop().await;
    }
    assert!(
        failures.is_empty(),
        "{} of {} transcripts fail over Telegram:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
