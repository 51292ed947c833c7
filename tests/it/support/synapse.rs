//! A real Synapse homeserver for the Matrix tests: installed from PyPI into a cached virtual
//! environment and started once per test run by `scripts/synapse-test-server.sh` (it stops
//! when the test process ends), and people on it — matrix-sdk clients that register, join,
//! write and read like a resident's app would.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::api::client::account::register::v3::Request as RegisterRequest;
use matrix_sdk::ruma::api::client::uiaa;
use matrix_sdk::ruma::events::room::message::{MessageType, RoomMessageEventContent};
use matrix_sdk::ruma::events::{AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent};
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId, RoomId};
use matrix_sdk::{Client, RoomState};

pub struct Synapse {
    pub url: String,
    pub admin_token: String,
    _dir: tempfile::TempDir,
}

/// The homeserver of this test run, started on first use.
pub fn synapse() -> &'static Synapse {
    static SERVER: OnceLock<Synapse> = OnceLock::new();
    SERVER.get_or_init(Synapse::start)
}

impl Synapse {
    /// A homeserver of its own on a free loopback port (the shared one is [`synapse`]); it
    /// stops when the test process ends.
    pub fn start() -> Synapse {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        run_script(&["start", &dir.path().display().to_string(), &port.to_string()]);
        let url = format!("http://127.0.0.1:{port}");
        let admin_token = login_token(&url, "admin", "admin-password");
        Synapse {
            url,
            admin_token,
            _dir: dir,
        }
    }

    /// Stops the server (its data stays).
    pub fn stop(&self) {
        run_script(&["stop", &self._dir.path().display().to_string()]);
    }

    /// Starts the stopped server again, on the same port with the same data.
    pub fn start_again(&self) {
        let port = self.url.rsplit(':').next().expect("a port").to_owned();
        run_script(&["start", &self._dir.path().display().to_string(), &port]);
    }
}

fn run_script(args: &[&str]) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/synapse-test-server.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .args(args)
        .env("BEATBOT_SYNAPSE_WATCH_PID", std::process::id().to_string())
        .output()
        .expect("running scripts/synapse-test-server.sh");
    assert!(
        out.status.success(),
        "synapse-test-server.sh {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A password login over plain HTTP (blocking: used while starting).
fn login_token(url: &str, user: &str, password: &str) -> String {
    let body = serde_json::json!({
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user},
        "password": password,
    });
    let out = std::process::Command::new("curl")
        .args(["-sS", "-X", "POST", "-H", "Content-Type: application/json", "-d"])
        .arg(body.to_string())
        .arg(format!("{url}/_matrix/client/v3/login"))
        .output()
        .expect("curl");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("login answer");
    v["access_token"].as_str().expect("an access token").to_owned()
}

/// A user name nobody in this test run has taken.
pub fn unique(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{name}{}_{}",
        std::process::id() % 10_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Registers `name` (through the client API, `m.login.dummy`) without logging in; the
/// password is `pw-NAME`.
pub async fn register(name: &str) -> OwnedUserId {
    register_on(synapse(), name).await
}

/// [`register`] on another homeserver.
pub async fn register_on(server: &Synapse, name: &str) -> OwnedUserId {
    let client = Client::builder()
        .homeserver_url(&server.url)
        .build()
        .await
        .expect("client");
    let mut req = RegisterRequest::new();
    req.username = Some(name.to_owned());
    req.password = Some(format!("pw-{name}"));
    req.auth = Some(uiaa::AuthData::Dummy(uiaa::Dummy::new()));
    req.inhibit_login = true;
    client.matrix_auth().register(req).await.expect("registration").user_id
}

/// Lifts Synapse's message rate limit for `user` (the admin API the README tells operators
/// to use for the bot).
pub async fn exempt(user: &str) {
    exempt_on(synapse(), user).await
}

/// [`exempt`] on another homeserver.
pub async fn exempt_on(server: &Synapse, user: &str) {
    let url = format!("{}/_synapse/admin/v1/users/{user}/override_ratelimit", server.url);
    let client = Client::builder()
        .homeserver_url(&server.url)
        .build()
        .await
        .expect("client");
    let resp = client
        .http_client()
        .post(url)
        .bearer_auth(&server.admin_token)
        .header("content-type", "application/json")
        .body(r#"{"messages_per_second":0,"burst_count":0}"#)
        .send()
        .await
        .expect("override_ratelimit");
    assert!(resp.status().is_success(), "override_ratelimit: {}", resp.status());
}

/// A bot account on the homeserver, exempted from the message rate limit: its name (the
/// password is `pw-NAME`) and user id.
pub async fn bot_account() -> (String, OwnedUserId) {
    let name = unique("beatbot");
    let id = register(&name).await;
    exempt(id.as_str()).await;
    (name, id)
}

/// beatbot serving Matrix, started as production starts it (without the scheduler).
pub struct RunningBot {
    pub client: Client,
    bot: beatbot::startup::Running,
}

impl RunningBot {
    /// Connects as `name` (session and keys under `data_dir`) and starts syncing (long polls
    /// of `poll`) and delivering.
    pub async fn start(
        app: &beatbot::app::App,
        data_dir: &std::path::Path,
        name: &str,
        allowed: Vec<String>,
        poll: Duration,
    ) -> RunningBot {
        let matrix = beatbot::config::Matrix {
            homeserver: synapse().url.clone(),
            user: name.to_owned(),
            login: beatbot::config::MatrixLogin::Password(format!("pw-{name}")),
            allowed_servers: allowed,
            sync_timeout: poll,
        };
        let config = beatbot::config::Config {
            data_dir: data_dir.to_owned(),
            matrix: Some(matrix),
            ..beatbot::config::Config::default()
        };
        let bot = beatbot::startup::Bot::with_app(&config, app.clone())
            .without_scheduler()
            .start()
            .await
            .expect("bot connects");
        let client = bot.matrix_client().expect("serving Matrix").clone();
        RunningBot { client, bot }
    }

    pub async fn stop(self) {
        self.bot.stop().await;
    }
}

/// A message someone saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub room: OwnedRoomId,
    pub sender: OwnedUserId,
    pub body: String,
    pub event_id: String,
    /// The event this message replies to, if it is a reply.
    pub in_reply_to: Option<String>,
    pub encrypted: bool,
    /// For an image: its `mxc://` URI.
    pub image_url: Option<String>,
}

/// A person with a Matrix app: registers, accepts every invite, and keeps what they read.
pub struct Person {
    pub client: Client,
    pub user_id: OwnedUserId,
    pub seen: Vec<Seen>,
    joined: HashSet<OwnedRoomId>,
    _store: tempfile::TempDir,
}

impl Person {
    pub async fn new(name: &str) -> Person {
        Person::new_on(synapse(), name).await
    }

    /// [`Person::new`] on another homeserver.
    pub async fn new_on(server: &Synapse, name: &str) -> Person {
        let name = unique(name);
        let id = register_on(server, &name).await;
        // Joining rooms counts against Synapse's message limit too: people in tests are
        // exempted, so only the bot's own limits are under test.
        exempt_on(server, id.as_str()).await;
        let store = tempfile::tempdir().expect("temp dir");
        let client = Client::builder()
            .homeserver_url(&server.url)
            .sqlite_store(store.path(), None)
            .respect_login_well_known(false)
            .build()
            .await
            .expect("client");
        client
            .matrix_auth()
            .login_username(&name, &format!("pw-{name}"))
            .await
            .expect("login");
        let user_id = client.user_id().expect("logged in").to_owned();
        let mut person = Person {
            client,
            user_id,
            seen: Vec::new(),
            joined: HashSet::new(),
            _store: store,
        };
        // The first sync uploads the device's keys, so encrypted rooms can include it.
        person.sync().await;
        person
    }

    /// One short sync: joins rooms they are invited to, records messages from others.
    pub async fn sync(&mut self) {
        self.sync_waiting(Duration::from_millis(300)).await
    }

    /// A sync that returns at once when there is nothing new.
    pub async fn catch_up(&mut self) {
        self.sync_waiting(Duration::ZERO).await
    }

    async fn sync_waiting(&mut self, wait: Duration) {
        let settings = SyncSettings::default()
            .timeout(wait)
            .filter(beatbot::platforms::matrix::sync::long_timeline());
        let Ok(response) = self.client.sync_once(settings).await else {
            return;
        };
        for room_id in response.rooms.invited.keys() {
            if self.joined.insert(room_id.clone()) {
                let _ = self.client.join_room_by_id(room_id).await;
            }
        }
        for (room_id, update) in &response.rooms.joined {
            for event in &update.timeline.events {
                let encrypted = event.encryption_info().is_some();
                let Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
                    SyncMessageLikeEvent::Original(m),
                ))) = event.raw().deserialize()
                else {
                    continue;
                };
                if m.sender == self.user_id {
                    continue;
                }
                // An edit reads as what it now says, as a Matrix app shows it.
                let msgtype = match &m.content.relates_to {
                    Some(matrix_sdk::ruma::events::room::message::Relation::Replacement(r)) => &r.new_content.msgtype,
                    _ => &m.content.msgtype,
                };
                let body = match msgtype {
                    MessageType::Notice(n) => n.body.clone(),
                    MessageType::Text(t) => t.body.clone(),
                    other => other.body().to_owned(),
                };
                let image_url = match msgtype {
                    MessageType::Image(image) => match &image.source {
                        matrix_sdk::ruma::events::room::MediaSource::Plain(uri) => Some(uri.to_string()),
                        matrix_sdk::ruma::events::room::MediaSource::Encrypted(file) => Some(file.url.to_string()),
                    },
                    _ => None,
                };
                self.seen.push(Seen {
                    room: room_id.clone(),
                    sender: m.sender.clone(),
                    image_url,
                    body,
                    event_id: m.event_id.to_string(),
                    in_reply_to: match &m.content.relates_to {
                        Some(matrix_sdk::ruma::events::room::message::Relation::Reply(r)) => {
                            Some(r.in_reply_to.event_id.to_string())
                        }
                        _ => None,
                    },
                    encrypted,
                });
            }
        }
    }

    /// Edits an earlier message of theirs to say `text`.
    pub async fn edit(&self, room: &RoomId, event_id: &str, text: &str) {
        use matrix_sdk::ruma::events::room::message::ReplacementMetadata;
        let room = self.client.get_room(room).expect("a room this person is in");
        let target = matrix_sdk::ruma::OwnedEventId::try_from(event_id).expect("an event id");
        let edit = RoomMessageEventContent::text_plain(text).make_replacement(ReplacementMetadata::new(target, None));
        room.send(edit).await.expect("editing");
    }

    /// Reacts to a message with `key`.
    pub async fn react(&self, room: &RoomId, event_id: &str, key: &str) -> String {
        use matrix_sdk::ruma::events::reaction::ReactionEventContent;
        use matrix_sdk::ruma::events::relation::Annotation;
        let room = self.client.get_room(room).expect("a room this person is in");
        let target = matrix_sdk::ruma::OwnedEventId::try_from(event_id).expect("an event id");
        room.send(ReactionEventContent::new(Annotation::new(target, key.to_owned())))
            .await
            .expect("reacting")
            .response
            .event_id
            .to_string()
    }

    /// Syncs until a message matching `pred` has been seen (up to `secs`), and returns it.
    pub async fn wait_for(&mut self, secs: u64, pred: impl Fn(&Seen) -> bool) -> Seen {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = self.seen.iter().find(|s| pred(s)) {
                return s.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{} saw no such message; seen: {:#?}",
                self.user_id,
                self.seen
            );
            self.sync().await;
        }
    }

    /// Syncs for `secs` and returns every message matching `pred` seen by then.
    pub async fn all_within(&mut self, secs: u64, pred: impl Fn(&Seen) -> bool) -> Vec<Seen> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            self.sync().await;
        }
        self.seen.iter().filter(|s| pred(s)).cloned().collect()
    }

    /// Writes `text` in the room; returns the event id.
    pub async fn say(&self, room: &RoomId, text: &str) -> String {
        let room = self.client.get_room(room).expect("a room this person is in");
        room.send(RoomMessageEventContent::text_plain(text))
            .await
            .expect("sending a message")
            .response
            .event_id
            .to_string()
    }

    /// Creates a room (encrypted if asked) and invites `others`.
    pub async fn create_room(&mut self, others: &[&OwnedUserId], encrypted: bool) -> OwnedRoomId {
        use matrix_sdk::ruma::api::client::room::create_room::v3::{Request, RoomPreset};
        use matrix_sdk::ruma::events::InitialStateEvent;
        use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
        let mut req = Request::new();
        req.preset = Some(RoomPreset::PrivateChat);
        req.invite = others.iter().map(|u| (*u).clone()).collect();
        if encrypted {
            req.initial_state = vec![
                InitialStateEvent::with_empty_state_key(RoomEncryptionEventContent::with_recommended_defaults())
                    .to_raw_any(),
            ];
        }
        let room = self.client.create_room(req).await.expect("creating a room");
        self.joined.insert(room.room_id().to_owned());
        room.room_id().to_owned()
    }

    /// Waits until `user` has joined `room` (seen from this person's side).
    pub async fn wait_for_member(&mut self, room: &RoomId, user: &OwnedUserId, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            self.sync().await;
            if let Some(r) = self.client.get_room(room)
                && r.state() == RoomState::Joined
                && let Ok(Some(member)) = r.get_member_no_sync(user).await
                && *member.membership() == matrix_sdk::ruma::events::room::member::MembershipState::Join
            {
                return;
            }
            assert!(Instant::now() < deadline, "{user} did not join {room}");
        }
    }
}
