//! Every transcript of `tests/transcripts/` again, over Matrix: each person is a matrix-sdk
//! client on the test Synapse, each group a room (made by a silent host account, who also
//! watches what the bot writes there), each `dm` a direct room with the bot. A `press` types
//! the number of the option (or reacts with its keycap, for an older message), as a person on
//! Matrix does. A transcript marked `# not on matrix: REASON` is skipped, with the reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use beatbot::app::App;
use beatbot::clock::OffsetClock;
use beatbot::domain::Platform;
use beatbot::platforms::matrix::format::KEYCAPS;
use beatbot::replay::{Captures, Check, Naming, Pattern, Step, parse, set_up};
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId};

use super::harness;
use crate::support::synapse::{Person, RunningBot, bot_account};

struct MatrixReplay {
    app: App,
    clock: Arc<OffsetClock>,
    bot_user: OwnedUserId,
    bot: RunningBot,
    host: Person,
    people: HashMap<String, Person>,
    rooms: HashMap<String, OwnedRoomId>,
    bot_invited: bool,
    /// How many messages each watcher ("" for the host) had seen at the last input.
    marks: HashMap<String, usize>,
    captures: Captures,
    _dir: tempfile::TempDir,
}

impl Naming for MatrixReplay {
    fn identity(&mut self, person: &str) -> (Platform, String, Option<String>) {
        let id = self.people[person].user_id.to_string();
        (Platform::Matrix, id.clone(), Some(id))
    }
    fn group_chat(&mut self, group: &str) -> (Platform, String) {
        (Platform::Matrix, self.rooms[group].to_string())
    }
}

/// Everyone a transcript names, and its groups with their members.
fn cast(steps: &[(usize, Step)]) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let mut people: Vec<String> = Vec::new();
    let mut groups = Vec::new();
    let add = |name: &str, people: &mut Vec<String>| {
        if !people.iter().any(|p| p == name) {
            people.push(name.to_owned());
        }
    };
    for (_, step) in steps {
        match step {
            Step::Officer { name, .. } | Step::Liaison { name, .. } | Step::Resident { name, .. } => {
                add(name, &mut people)
            }
            Step::Group { id, members, .. } => {
                members.iter().for_each(|m| add(m, &mut people));
                groups.push((id.clone(), members.clone()));
            }
            Step::Say { user, .. } | Step::Press { user, .. } => add(user, &mut people),
            _ => {}
        }
    }
    (people, groups)
}

impl MatrixReplay {
    async fn start(steps: &[(usize, Step)]) -> MatrixReplay {
        let (store, dir) = harness::sqlite().await;
        let (scripts, faq) = harness::scripts();
        let clock = Arc::new(OffsetClock::new());
        clock.set(1_795_395_600_000);
        let app = App::from_parts(store, scripts, faq, clock.clone());
        let (name, bot_user) = bot_account().await;
        let bot = RunningBot::start(&app, dir.path(), &name, Vec::new(), Duration::from_millis(300)).await;
        let (names, groups) = cast(steps);
        let mut people = HashMap::new();
        for name in names {
            people.insert(name.clone(), Person::new(&name).await);
        }
        let mut host = Person::new("host").await;
        let mut rooms = HashMap::new();
        for (group, members) in groups {
            let invited: Vec<&OwnedUserId> = members.iter().map(|m| &people[m].user_id).collect();
            rooms.insert(group, host.create_room(&invited, false).await);
        }
        MatrixReplay {
            app,
            clock,
            bot_user,
            bot,
            host,
            people,
            rooms,
            bot_invited: false,
            marks: HashMap::new(),
            captures: Captures::default(),
            _dir: dir,
        }
    }

    /// Before the first message: the bot and every member join the transcript's rooms (after
    /// the `@group` lines linked them, so the bot has nothing to say on joining).
    async fn everyone_in(&mut self) {
        if self.bot_invited {
            return;
        }
        self.bot_invited = true;
        let rooms: Vec<OwnedRoomId> = self.rooms.values().cloned().collect();
        for room in &rooms {
            let r = self.host.client.get_room(room).expect("host's room");
            r.invite_user_by_id(&self.bot_user).await.expect("inviting the bot");
        }
        for room in &rooms {
            let bot = self.bot_user.clone();
            self.host.wait_for_member(room, &bot, 30).await;
        }
        for person in self.people.values_mut() {
            person.sync().await;
        }
    }

    /// A room made on first use for a group no `@group` line declared: the bot joins it (and
    /// says how to link it) before the transcript's message.
    async fn room_for_group(&mut self, group: &str, user: &str) -> OwnedRoomId {
        if let Some(room) = self.rooms.get(group) {
            let room = room.clone();
            let user_id = self.people[user].user_id.clone();
            self.invite_if_needed(&room, &user_id).await;
            return room;
        }
        let user_id = self.people[user].user_id.clone();
        let bot = self.bot_user.clone();
        let room = self.host.create_room(&[&bot, &user_id], false).await;
        self.host.wait_for_member(&room, &bot, 30).await;
        self.people.get_mut(user).unwrap().sync().await;
        self.settle(None).await;
        self.rooms.insert(group.to_owned(), room.clone());
        room
    }

    async fn invite_if_needed(&mut self, room: &OwnedRoomId, user: &OwnedUserId) {
        let r = self.host.client.get_room(room).expect("host's room");
        let joined = matches!(
            r.get_member_no_sync(user).await,
            Ok(Some(m)) if *m.membership() == matrix_sdk::ruma::events::room::member::MembershipState::Join
        );
        if !joined {
            let _ = r.invite_user_by_id(user).await;
            let name = self
                .people
                .iter()
                .find(|(_, p)| &p.user_id == user)
                .map(|(n, _)| n.clone());
            if let Some(name) = name {
                self.people.get_mut(&name).unwrap().sync().await;
            }
            self.host.wait_for_member(room, user, 30).await;
        }
    }

    /// The direct room between `user` and the bot: one the bot opened, else a new one.
    async fn dm_room(&mut self, user: &str) -> OwnedRoomId {
        let bot = self.bot_user.clone();
        let person = self.people.get_mut(user).unwrap();
        person.sync().await;
        if let Some(room) = person.client.get_dm_room(&bot) {
            return room.room_id().to_owned();
        }
        let room = person.client.create_dm(&bot).await.expect("opening a direct room");
        let room_id = room.room_id().to_owned();
        person.wait_for_member(&room_id, &bot, 30).await;
        room_id
    }

    /// Waits until the bot has handled `event` (if given) and delivered everything due, then
    /// lets everyone read.
    async fn settle(&mut self, event: Option<&str>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        if let Some(event) = event {
            // An event the bot ignores leaves no trace: give it a moment, not forever.
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until && !self.handled(event).await {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        loop {
            let mut tx = self.app.store.begin().await.unwrap();
            let pending = beatbot::store::outbox::pending_count(&mut tx, Platform::Matrix)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            if pending == 0 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.host.catch_up().await;
        for person in self.people.values_mut() {
            person.catch_up().await;
        }
    }

    async fn handled(&self, event: &str) -> bool {
        let mut tx = self.app.store.begin().await.unwrap();
        let n: i64 =
            beatbot::store::query("SELECT COUNT(*) FROM inbound_events WHERE platform = 'matrix' AND event_id = $1")
                .bind(event)
                .fetch_one(&mut tx)
                .await
                .and_then(|row| row.at(0))
                .unwrap();
        tx.commit().await.unwrap();
        n > 0
    }

    fn mark(&mut self) {
        self.marks.insert(String::new(), self.host.seen.len());
        for (name, person) in &self.people {
            self.marks.insert(name.clone(), person.seen.len());
        }
    }

    /// The bot's messages in `chat` since the last input.
    fn since_mark(&self, chat: &Check) -> Vec<String> {
        // A group's room, or (for a `dm` check) any room that is no group's.
        let (watcher, mark, group) = match chat {
            Check::Group(g) => (&self.host, self.marks.get("").copied().unwrap_or(0), self.rooms.get(g)),
            Check::Dm(u) => (&self.people[u], self.marks.get(u).copied().unwrap_or(0), None),
        };
        let wanted = |room: &OwnedRoomId| match chat {
            Check::Group(_) => Some(room) == group,
            Check::Dm(_) => !self.rooms.values().any(|r| r == room),
        };
        watcher
            .seen
            .iter()
            .skip(mark)
            .filter(|s| s.sender == self.bot_user && wanted(&s.room))
            .map(|s| s.body.clone())
            .collect()
    }

    async fn step(&mut self, step: &Step) -> Result<(), String> {
        let app = self.app.clone();
        if set_up(&app, step, self).await.map_err(|e| format!("{e:#}"))? {
            return Ok(());
        }
        match step {
            Step::Clock(ms) => self.clock.set(*ms),
            Step::Advance(ms) => {
                self.everyone_in().await;
                self.settle(None).await;
                self.mark();
                self.clock.advance(*ms);
                beatbot::workers::scheduler::tick(&self.app)
                    .await
                    .map_err(|e| e.to_string())?;
                self.settle(None).await;
            }
            Step::Say { chat, user, text } => {
                self.everyone_in().await;
                let room = match chat {
                    Some(g) => self.room_for_group(g, user).await,
                    None => self.dm_room(user).await,
                };
                self.settle(None).await;
                self.mark();
                // `@beatbot` in a transcript mentions the bot: on Matrix, by its user id.
                let text = self.captures.fill(text).replace("@beatbot", self.bot_user.as_str());
                let event = self.people[user].say(&room, &text).await;
                self.settle(Some(&event)).await;
            }
            Step::Press { user, label } => {
                self.everyone_in().await;
                let Some((seen, number)) = self.find_option(user, label) else {
                    return Err(format!("no option matching {} was offered to {user}", label.source()));
                };
                self.settle(None).await;
                self.mark();
                // The newest message in its room is answered by typing the number; an older
                // one by reacting to it with the number's keycap.
                let person = &self.people[user];
                let newest = person
                    .seen
                    .iter()
                    .rev()
                    .find(|s| s.room == seen.room && s.sender == self.bot_user);
                let event = if newest.is_some_and(|n| n.event_id == seen.event_id) {
                    person.say(&seen.room, &number.to_string()).await
                } else {
                    person.react(&seen.room, &seen.event_id, KEYCAPS[number - 1]).await
                };
                self.settle(Some(&event)).await;
            }
            Step::Expect { chat, pattern, negated } => {
                let pattern = self.captures.pattern(pattern);
                let mut seen = self.since_mark(chat);
                let deadline = Instant::now() + Duration::from_secs(5);
                while !*negated && !seen.iter().any(|t| pattern.matches(t)) && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    self.host.catch_up().await;
                    if let Check::Dm(u) = chat {
                        self.people.get_mut(u).unwrap().catch_up().await;
                    }
                    seen = self.since_mark(chat);
                }
                self.captures.learn(&pattern, seen.iter().map(String::as_str));
                if seen.iter().any(|t| pattern.matches(t)) == *negated {
                    let what = if *negated {
                        "expected no message matching"
                    } else {
                        "expected a message matching"
                    };
                    return Err(format!(
                        "{what} {} (over Matrix); the bot wrote there since the last input: {seen:#?}",
                        pattern.source()
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The newest bot message `user` can read that offers an option labelled like `label`:
    /// the message and the option's number.
    fn find_option(&self, user: &str, label: &Pattern) -> Option<(crate::support::synapse::Seen, usize)> {
        let person = &self.people[user];
        person
            .seen
            .iter()
            .rev()
            .filter(|s| s.sender == self.bot_user)
            .find_map(|s| {
                let options = s.body.rsplit("\n\n").next()?;
                KEYCAPS.iter().enumerate().find_map(|(i, key)| {
                    let start = options.find(key)? + key.len();
                    let rest = &options[start..];
                    let end = KEYCAPS.iter().filter_map(|k| rest.find(k)).min().unwrap_or(rest.len());
                    let text = rest[..end].trim();
                    label.matches(text).then(|| (s.clone(), i + 1))
                })
            })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transcript_passes_over_matrix() {
    let files = harness::transcript_files();
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // A transcript whose premise does not hold on Matrix says so, with the reason.
        if let Some(reason) = text.lines().find_map(|l| l.strip_prefix("# not on matrix:")) {
            eprintln!("{}: not run over Matrix:{reason}", file.display());
            continue;
        }
        let steps = parse(&text).expect("transcript parses");
        let mut replay = MatrixReplay::start(&steps).await;
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
        "{} of {} transcripts fail over Matrix:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
