//! Playing a transcript against a fresh in-memory bot.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::parse::{Captures, Check, Pattern, Step, parse};
use super::setup::{Naming, set_up};
use crate::app::App;
use crate::clock::FakeClock;
use crate::core::Content;
use crate::core::faq::FaqService;
use crate::domain::Platform;
use crate::platforms::console::{self, Console, Delivered};
use crate::scripts::Scripts;
use crate::store::Store;
use crate::workers::{delivery, scheduler};

/// Console names: a person's id is their name, their private chat `dm:NAME`; a group's id
/// is its name.
struct ConsoleNaming;

impl Naming for ConsoleNaming {
    fn identity(&mut self, person: &str) -> (Platform, String, Option<String>) {
        (Platform::Console, person.to_owned(), Some(console::dm_chat(person)))
    }
    fn group_chat(&mut self, group: &str) -> (Platform, String) {
        (Platform::Console, group.to_owned())
    }
}

/// A failed expectation (or a line that could not be played).
#[derive(Debug, Clone)]
pub struct Failure {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A bot on a fake clock with a console, driven step by step.
pub struct Replayer {
    pub app: App,
    clock: Arc<FakeClock>,
    console: Console,
    members: HashMap<String, Vec<String>>,
    mark: usize,
    seq: u64,
    captures: Captures,
}

const DEFAULT_START: i64 = 1_795_395_600_000; // 2026-11-23T09:00:00+08:00

impl Replayer {
    /// A fresh bot on an in-memory SQLite database.
    pub async fn new(scripts: Arc<Scripts>, faq: Arc<FaqService>) -> Result<Replayer> {
        let store = Store::open("sqlite::memory:").await?;
        Replayer::with_store(store, scripts, faq, Console::default()).await
    }

    /// A bot on `store` whose messages go to `console`.
    pub async fn with_store(
        store: Store,
        scripts: Arc<Scripts>,
        faq: Arc<FaqService>,
        console: Console,
    ) -> Result<Replayer> {
        let clock = Arc::new(FakeClock::new(DEFAULT_START));
        let app = App::from_parts(store, scripts, faq, clock.clone());
        Ok(Replayer {
            app,
            clock,
            console,
            members: HashMap::new(),
            mark: 0,
            seq: 0,
            captures: Captures::default(),
        })
    }

    /// Sets the fake clock (the demo starts it at the real time).
    pub fn set_clock(&self, ms: i64) {
        self.clock.set(ms);
    }

    /// Plays one step; `Err` is a failure to report at the step's line.
    pub async fn step(&mut self, step: &Step) -> Result<(), String> {
        self.play(step).await.map_err(|e| format!("{e:#}"))?
    }

    async fn play(&mut self, step: &Step) -> Result<Result<(), String>> {
        if set_up(&self.app, step, &mut ConsoleNaming).await? {
            if let Step::Group { id, members, .. } = step {
                self.members.insert(id.clone(), members.clone());
            }
            return Ok(Ok(()));
        }
        match step {
            Step::Clock(ms) => self.clock.set(*ms),
            Step::Advance(ms) => {
                self.mark = self.console.len();
                self.clock.advance(*ms);
                scheduler::tick(&self.app).await?;
                self.deliver().await?;
            }
            Step::Say { chat, user, text } => {
                self.mark = self.console.len();
                let text = self.captures.fill(text);
                self.send(chat.as_deref(), user, Content::Text(text)).await?;
            }
            Step::Press { user, label } => {
                let Some((chat, message, data)) = self.find_button(user, label) else {
                    return Ok(Err(format!(
                        "no button matching {} was offered to {user}",
                        label.source()
                    )));
                };
                self.mark = self.console.len();
                let chat = chat.strip_prefix("dm:").is_none().then_some(chat);
                self.send(
                    chat.as_deref(),
                    user,
                    Content::Press {
                        data,
                        message: Some(message),
                    },
                )
                .await?;
            }
            Step::Expect { chat, pattern, negated } => {
                let pattern = self.captures.pattern(pattern);
                return Ok(self.expect(chat, &pattern, *negated));
            }
            // The world-building steps were played by `set_up` above.
            Step::Station { .. }
            | Step::Officer { .. }
            | Step::Liaison { .. }
            | Step::Resident { .. }
            | Step::Group { .. } => {}
        }
        Ok(Ok(()))
    }

    /// One inbound event from the console, then delivery of everything due.
    pub async fn send(&mut self, chat: Option<&str>, user: &str, content: Content) -> Result<()> {
        self.seq += 1;
        if let Some(group) = chat {
            let members = self.members.entry(group.to_owned()).or_default();
            if !members.iter().any(|m| m == user) {
                members.push(user.to_owned());
            }
        }
        let event = Console::inbound(format!("e{}", self.seq), chat, user, content);
        self.app.handle(&event).await?;
        self.deliver().await
    }

    async fn deliver(&self) -> Result<()> {
        delivery::drain(&self.app, Platform::Console, &self.console).await?;
        Ok(())
    }

    /// Messages delivered since the last input, to `chat`.
    fn since_mark(&self, chat_id: &str) -> Vec<Delivered> {
        self.console
            .log()
            .into_iter()
            .skip(self.mark)
            .filter(|d| d.chat_id == chat_id)
            .collect()
    }

    fn expect(&mut self, chat: &Check, pattern: &Pattern, negated: bool) -> Result<(), String> {
        let (chat_id, place) = match chat {
            Check::Group(g) => (g.clone(), g.clone()),
            Check::Dm(u) => (console::dm_chat(u), format!("dm {u}")),
        };
        let seen = self.since_mark(&chat_id);
        let hit = seen.iter().any(|d| pattern.matches(&d.text));
        if hit != negated {
            self.captures.learn(pattern, seen.iter().map(|d| d.text.as_str()));
            return Ok(());
        }
        let what = if negated {
            "expected no message matching"
        } else {
            "expected a message matching"
        };
        let mut msg = format!(
            "{what} {} in {place}; delivered there since the last input:",
            pattern.source()
        );
        if seen.is_empty() {
            msg.push_str("\n    (nothing)");
        }
        for d in &seen {
            msg.push_str(&format!("\n    - {}", d.text.replace('\n', "\n      ")));
        }
        Err(msg)
    }

    /// The newest message with a button labelled like `label` that `user` can see.
    fn find_button(&self, user: &str, label: &Pattern) -> Option<(String, i64, String)> {
        let log = self.console.log();
        let dm = console::dm_chat(user);
        // The buttons each message shows now (an edit replaces them).
        let mut current: Vec<(String, i64, Vec<Vec<crate::domain::Button>>)> = Vec::new();
        for d in &log {
            match d.edit_of {
                Some(original) => {
                    if let Some(entry) = current.iter_mut().find(|(_, id, _)| *id == original) {
                        entry.2 = d.buttons.clone();
                    }
                }
                None => current.push((d.chat_id.clone(), d.outbox_id, d.buttons.clone())),
            }
        }
        let visible = |chat: &str| chat == dm || self.members.get(chat).is_some_and(|m| m.iter().any(|u| u == user));
        current
            .iter()
            .rev()
            .filter(|(chat, _, buttons)| !buttons.is_empty() && visible(chat))
            .find_map(|(chat, id, buttons)| {
                buttons
                    .iter()
                    .flatten()
                    .find(|b| label.matches(&b.label))
                    .map(|b| (chat.clone(), *id, b.data.clone()))
            })
    }
}

/// Runs one transcript file; returns its failures (empty when it passed).
pub async fn run_file(path: &Path, scripts: Arc<Scripts>, faq: Arc<FaqService>) -> Result<Vec<Failure>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let steps = match parse(&text) {
        Ok(s) => s,
        Err((line, message)) => {
            return Ok(vec![Failure {
                file: name,
                line,
                message,
            }]);
        }
    };
    let mut replayer = Replayer::new(scripts, faq).await?;
    for (line, step) in &steps {
        if let Err(message) = replayer.step(step).await {
            return Ok(vec![Failure {
                file: name,
                line: *line,
                message,
            }]);
        }
    }
    replayer.app.store.close().await;
    Ok(Vec::new())
}
