//! Crash safety over Matrix, against the real Synapse: `beatbot serve` (the real binary,
//! serving Matrix only) is killed with SIGKILL five times, each time while copies of an alert
//! to 40 rooms are claimed and on their way to Synapse. Every room gets every alert exactly once — no duplicates at all, unlike Telegram: each
//! outbox row is sent with a transaction id of its own, and the restarted bot resumes the same
//! Matrix session (device and access token), so Synapse answers a resent row with the event it
//! already has. `MATRIX_CRASH_KILLS` (default 5) for a longer run. The bot joining 40 fresh
//! rooms also shows that no sync of theirs was said to leave events out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use beatbot::app::App;
use beatbot::clock::SystemClock;
use beatbot::domain::{GroupKind, Platform};
use beatbot::store::query;

use super::delivery::confirmed_alert;
use super::harness;
use crate::support::replica_process::{Replica, free_port, healthy, scripts_without_flood_control, spawn, wait_for};
use crate::support::synapse::{Person, bot_account, synapse};

const ROOMS: usize = 40;
/// How long the homeserver stays down in the restart test.
const HOMESERVER_DOWN: Duration = Duration::from_secs(5);

/// The configuration of a bot serving Matrix only (as `name` on `homeserver`) on the SQLite
/// database `dir/test.db`: its file and web port.
fn matrix_config(dir: &std::path::Path, homeserver: &str, name: &str) -> (std::path::PathBuf, u16) {
    let port = free_port();
    let config = dir.join("bot.toml");
    std::fs::write(
        &config,
        format!(
            "scripts_dir = {scripts:?}\ndata_dir = {data:?}\n[database]\nurl = {db:?}\n\
             [matrix]\nhomeserver = {homeserver:?}\nuser = {name:?}\npassword = \"pw-{name}\"\n\
             [web]\nbind = \"127.0.0.1:{port}\"\n",
            scripts = scripts_without_flood_control(dir).display().to_string(),
            data = dir.join("bot").display().to_string(),
            db = format!("sqlite://{}", dir.join("test.db").display()),
        ),
    )
    .unwrap();
    (config, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_alert_on_matrix_every_room_gets_it_exactly_once() {
    let kills: u64 = std::env::var("MATRIX_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let (store, dir) = harness::sqlite().await;
    let (scripts, faq) = harness::scripts();
    let app = App::from_parts(store.clone(), scripts, faq, Arc::new(SystemClock));
    let console = |n: &str| vec![(Platform::Console, n.to_owned(), Some(format!("dm:{n}")))];
    assert!(harness::xinhua(&app, console).await);

    let (name, bot_id) = bot_account().await;
    let (config, port) = matrix_config(dir.path(), &synapse().url, &name);
    let start = || spawn(dir.path(), "bot", &config, port);
    let mut bot = start();
    wait_for("the bot to serve", Duration::from_secs(120), async || {
        healthy(bot.web).await
    })
    .await;

    // A resident's app makes the rooms and invites the bot; the station links them.
    let mut resident = Person::new("resident").await;
    let mut rooms = Vec::new();
    for _ in 0..ROOMS {
        rooms.push(resident.create_room(&[&bot_id], false).await);
    }
    for room in &rooms {
        resident.wait_for_member(room, &bot_id, 120).await;
        app.link_group(Platform::Matrix, room.as_str(), GroupKind::Community, "xinhua")
            .await
            .unwrap();
    }

    // Each round: the officer (on the console, in this process) confirms an alert to every
    // room; the bot is killed while copies of it are claimed and on their way to Synapse
    // (the test watches the outbox for claimed rows), then restarted.
    let mut in_flight_at_kill = Vec::new();
    let mut dice = std::process::id() as u64 | 1;
    for n in 1..=kills as i64 {
        confirmed_alert(&app, n, &format!("/alert urgent Flood warning {n}: Matrix rooms")).await;
        let claimed = |n: i64| {
            let store = store.clone();
            async move {
                let mut tx = store.begin_read().await.unwrap();
                let row = query(
                    "SELECT COUNT(*) AS n FROM outbox WHERE alert_id = $1 AND status = 'pending' AND lease_until > 0",
                )
                .bind(n)
                .fetch_one(&mut tx)
                .await
                .unwrap();
                tx.commit().await.unwrap();
                row.get::<i64>("n").unwrap()
            }
        };
        // The delivery worker looks at the outbox at least every 10 s.
        let deadline = Instant::now() + Duration::from_secs(60);
        while claimed(n).await == 0 {
            assert!(Instant::now() < deadline, "alert {n} was never claimed");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        dice = dice.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        tokio::time::sleep(Duration::from_millis((dice >> 33) % 60)).await;
        bot.child.kill().expect("SIGKILL the bot");
        bot.child.wait().ok();
        in_flight_at_kill.push(claimed(n).await);
        bot = start();
        wait_for("the bot to serve again", Duration::from_secs(120), async || {
            healthy(bot.web).await
        })
        .await;
    }

    let is_alert = |body: &str| body.contains(": Matrix rooms") && body.contains("Flood warning");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        resident.sync().await;
        let got = resident.seen.iter().filter(|s| is_alert(&s.body)).count();
        if got >= ROOMS * kills as usize {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{got} of {} copies arrived",
            ROOMS * kills as usize
        );
    }
    // Anything resent late would show up now.
    resident.all_within(3, |_| false).await;

    let mut copies: HashMap<(String, String), usize> = HashMap::new();
    for seen in resident.seen.iter().filter(|s| is_alert(&s.body)) {
        *copies.entry((seen.room.to_string(), seen.body.clone())).or_default() += 1;
    }
    eprintln!(
        "{kills} kills, each with copies claimed and on their way ({in_flight_at_kill:?} rows claimed at each): {} copies of {kills} alerts in {ROOMS} rooms",
        copies.values().sum::<usize>(),
    );
    assert_eq!(copies.len(), ROOMS * kills as usize, "every room got every alert");
    assert!(
        copies.values().all(|&n| n == 1),
        "no room got an alert twice: {copies:?}"
    );
    drop::<Replica>(bot);
    // The bot joined 40 fresh rooms holding a handful of events each: no sync left anything
    // out, and none is said to have (Synapse marks a just-joined room's first timeline
    // "limited"; the warning used to take that for lost events).
    let log = std::fs::read_to_string(dir.path().join("bot.log")).unwrap_or_default();
    assert!(
        !log.contains("a sync left events out"),
        "{}",
        log.lines()
            .filter(|l| l.contains("left events out"))
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synapse_stopped_and_started_again_loses_nothing_and_answers_once() {
    use crate::support::synapse::{Synapse, exempt_on, register_on, unique};
    // A homeserver of this test's own: stopping the shared one would fail the other tests.
    let server = tokio::task::spawn_blocking(Synapse::start).await.unwrap();
    let (store, dir) = harness::sqlite().await;
    let (scripts, faq) = harness::scripts();
    let app = App::from_parts(store.clone(), scripts, faq, Arc::new(SystemClock));
    let console = |n: &str| vec![(Platform::Console, n.to_owned(), Some(format!("dm:{n}")))];
    assert!(harness::xinhua(&app, console).await);
    let name = unique("beatbot");
    let bot_id = register_on(&server, &name).await;
    exempt_on(&server, bot_id.as_str()).await;
    let (config, port) = matrix_config(dir.path(), &server.url, &name);
    let bot = spawn(dir.path(), "bot", &config, port);
    wait_for("the bot to serve", Duration::from_secs(120), async || {
        healthy(bot.web).await
    })
    .await;
    let mut resident = Person::new_on(&server, "resident").await;
    let room = resident.create_room(&[&bot_id], false).await;
    resident.wait_for_member(&room, &bot_id, 120).await;
    app.link_group(Platform::Matrix, room.as_str(), GroupKind::Community, "xinhua")
        .await
        .unwrap();
    resident.say(&room, "/tip").await;
    resident.wait_for(60, |s| s.room == room && s.body.contains("🃏")).await;

    // The homeserver goes down; meanwhile the officer sends an alert.
    server.stop();
    confirmed_alert(&app, 1, "/alert urgent Flood warning: homeserver test").await;
    // The fault itself: how long the homeserver stays down while the alert waits.
    tokio::time::sleep(HOMESERVER_DOWN).await;
    server.start_again();
    resident.say(&room, "/tip").await;

    let is_alert =
        |s: &crate::support::synapse::Seen| s.room == room && s.body.contains("Flood warning: homeserver test");
    let tips_seen = |resident: &Person| {
        resident
            .seen
            .iter()
            .filter(|s| s.room == room && s.body.contains("🃏"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !(resident.seen.iter().any(is_alert) && tips_seen(&resident) >= 2) {
        assert!(Instant::now() < deadline, "after the restart: {:#?}", resident.seen);
        resident.sync().await;
    }
    // A resend would show up now.
    let alert = resident.all_within(5, is_alert).await;
    let tips = tips_seen(&resident);
    eprintln!(
        "after the homeserver came back: {} copies of the alert, {tips} tips",
        alert.len()
    );
    assert_eq!(
        alert.len(),
        1,
        "the alert queued while the homeserver was down arrived once"
    );
    assert_eq!(
        tips, 2,
        "the tip asked for after the restart was answered, the first not again"
    );
    drop(bot);
}

/// The homeserver refuses the sync token the bot saved (expired, from a server whose database
/// was restored, or damaged): the bot says so in one log line, syncs afresh, answers what came
/// while it was away, and answers nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_token_the_homeserver_refuses_is_replaced_and_nothing_is_missed() {
    let (store, dir) = harness::sqlite().await;
    let (scripts, faq) = harness::scripts();
    let app = App::from_parts(store.clone(), scripts, faq, Arc::new(SystemClock));
    let console = |n: &str| vec![(Platform::Console, n.to_owned(), Some(format!("dm:{n}")))];
    assert!(harness::xinhua(&app, console).await);
    let (name, bot_id) = bot_account().await;
    let (config, port) = matrix_config(dir.path(), &synapse().url, &name);
    let start = || spawn(dir.path(), "bot", &config, port);
    let bot = start();
    wait_for("the bot to serve", Duration::from_secs(120), async || {
        healthy(bot.web).await
    })
    .await;
    let mut resident = Person::new("resident").await;
    let room = resident.create_room(&[&bot_id], false).await;
    resident.wait_for_member(&room, &bot_id, 120).await;
    app.link_group(Platform::Matrix, room.as_str(), GroupKind::Community, "xinhua")
        .await
        .unwrap();
    let tips = |resident: &Person| {
        resident
            .seen
            .iter()
            .filter(|s| s.room == room && s.body.contains("🃏"))
            .count()
    };
    resident.say(&room, "/tip").await;
    resident.wait_for(60, |s| s.room == room && s.body.contains("🃏")).await;

    // The bot stops; its saved token goes bad; a resident asks meanwhile.
    drop(bot);
    let mut tx = store.begin().await.unwrap();
    let saved = beatbot::store::platform_state::get(&mut tx, "matrix.sync_token")
        .await
        .unwrap();
    assert!(saved.is_some(), "the bot saved a sync token");
    beatbot::store::platform_state::set(&mut tx, "matrix.sync_token", "s0_expired_token")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    resident.say(&room, "/tip").await;

    let bot = start();
    let deadline = Instant::now() + Duration::from_secs(180);
    while tips(&resident) < 2 {
        assert!(
            Instant::now() < deadline,
            "no answer after the token was refused: {:#?}\n{}",
            resident.seen,
            std::fs::read_to_string(dir.path().join("bot.log")).unwrap_or_default()
        );
        resident.sync().await;
    }
    // A third question is answered too (the fresh token works), and nothing twice.
    resident.say(&room, "/tip").await;
    while tips(&resident) < 3 {
        assert!(
            Instant::now() < deadline,
            "no answer with the fresh token: {:#?}",
            resident.seen
        );
        resident.sync().await;
    }
    let _ = resident.all_within(5, |_| false).await;
    assert_eq!(tips(&resident), 3, "each /tip answered once: {:#?}", resident.seen);
    let log = std::fs::read_to_string(dir.path().join("bot.log")).unwrap();
    assert_eq!(
        log.matches("refused the saved sync token").count(),
        1,
        "one clear line for the fault:\n{log}"
    );
    drop(bot);
}
