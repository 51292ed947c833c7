//! Crash safety of the real binary: `beatbot serve` (Telegram in webhook mode, against the fake
//! Bot API enforcing Telegram's limits) is killed with SIGKILL at random moments — while
//! serving, and now and then while still starting — at least 20 times while it fans out an
//! alert to 1,000 groups, three front desks keep reporting, a front desk is half-way through a
//! report dialogue and the officer acknowledges a ticket. Updates are delivered as Telegram
//! does: again and again until the bot answers 200 (so some arrive while it is down).
//!
//! After the last restart: every group has the alert, at most one duplicate per group per kill
//! (and no more duplicates in all than a delivery batch per kill), every report is exactly one
//! ticket, the dialogue resumed where it was and filed its ticket, the acknowledgement is in
//! the ticket's history once. On SQLite and on PostgreSQL.
//!
//! `cargo test` runs 20 kills. Longer runs: `CRASH_KILLS=100 CRASH_SEED=7 cargo test --release
//! --test it crash -- --nocapture` (the seed of each run is printed, to replay its kill times);
//! figures in docs/benchmarks.md.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use beatbot::app::App;
use beatbot::clock::SystemClock;
use beatbot::domain::{GroupKind, Platform, Role};
use beatbot::store::{Store, query};
use serde_json::{Value, json};

use super::harness;
use crate::support::fake_telegram::FakeTelegram;
use crate::support::replica_process::{
    Replica, alert_confirmation, free_port, healthy, post, start_replica_on, wait_for,
};

pub(crate) const WANG: i64 = 501;
/// The front desks: handle, Telegram id, hotel.
pub(crate) const DESKS: [(&str, i64, &str); 3] = [
    ("li", 601, "Jinjiang Inn"),
    ("ma", 602, "Home Inn"),
    ("sun", 603, "Hanting Hotel"),
];
pub(crate) const LIAISON: i64 = -100123;
const REPORTS: i64 = 30;
/// Telegram's limits this many times faster: 1,000 groups take ~17 s of sending, longer than
/// the bot is up between 20 kills.
const SCALE: f64 = 2.0;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub(crate) fn community(g: i64) -> i64 {
    -1_000_000 - g
}

/// Station xinhua: officer wang, the first `desks` front desks in one liaison group, `groups`
/// community groups, all on Telegram.
pub(crate) async fn world(store: &Store, groups: i64, desks: usize) {
    let (scripts, faq) = harness::scripts();
    let app = App::from_parts(store.clone(), scripts, faq, std::sync::Arc::new(SystemClock));
    let tg = |id: i64| vec![(Platform::Telegram, id.to_string(), Some(id.to_string()))];
    assert!(harness::xinhua(&app, |handle| tg(if handle == "wang" { WANG } else { DESKS[0].1 })).await);
    for (handle, id, hotel) in &DESKS[1..desks] {
        app.add_person(
            handle,
            Role::Liaison,
            Some("xinhua"),
            Some("east"),
            Some(hotel),
            false,
            None,
            &tg(*id),
        )
        .await
        .unwrap();
    }
    app.link_group(Platform::Telegram, &LIAISON.to_string(), GroupKind::Liaison, "xinhua")
        .await
        .unwrap();
    for g in 0..groups {
        app.link_group(
            Platform::Telegram,
            &community(g).to_string(),
            GroupKind::Community,
            "xinhua",
        )
        .await
        .unwrap();
    }
}

/// A small deterministic generator for the kill times (xorshift64*), seeded per run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Delivers an update as Telegram does: again until the bot answers 200.
async fn deliver(web: SocketAddr, update: &Value) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while post(web, update).await != Some(200) {
        assert!(Instant::now() < deadline, "the bot never accepted update {update}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The copies of the alert each community group got.
fn alert_copies(fake: &FakeTelegram) -> HashMap<i64, usize> {
    let mut copies = HashMap::new();
    for s in fake.sent() {
        if s.chat_id <= community(0) && s.method == "sendMessage" && s.text.contains("Flood warning") {
            *copies.entry(s.chat_id).or_insert(0) += 1;
        }
    }
    copies
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    let mut tx = store.begin_read().await.unwrap();
    let row = query(sql).fetch_one(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    row.get("n").unwrap()
}

/// Kills the bot `kills` times at random moments and restarts it on the same port; returns
/// the last process, running, and how many groups had the alert at the last kill.
async fn kill_repeatedly(
    mut bot: Replica,
    kills: u64,
    dice: &mut Dice,
    start: impl Fn() -> Replica,
    fake: &FakeTelegram,
) -> (Replica, usize) {
    let mut at_last_kill = 0;
    for _ in 0..kills {
        if dice.below(4) == 0 {
            // While still starting (migrations, loading the scripts, setting the webhook).
            tokio::time::sleep(Duration::from_millis(30 + dice.below(300))).await;
        } else {
            wait_for("the bot to serve", Duration::from_secs(60), async || {
                healthy(bot.web).await
            })
            .await;
            tokio::time::sleep(Duration::from_millis(100 + dice.below(600))).await;
        }
        bot.child.kill().expect("SIGKILL the bot");
        bot.child.wait().ok();
        at_last_kill = alert_copies(fake).len();
        bot = start();
    }
    (bot, at_last_kill)
}

async fn crash_run(store: Store, database_url: &str) {
    let kills = setting("CRASH_KILLS", 20);
    let groups = setting("CRASH_GROUPS", 1000) as i64;
    let seed = setting("CRASH_SEED", std::process::id() as u64 | 1);
    eprintln!("crash run: {kills} kills, {groups} groups, CRASH_SEED={seed}");
    world(&store, groups, DESKS.len()).await;
    let fake = FakeTelegram::start(SCALE).await;
    fake.start_chat(WANG);
    for (_, id, _) in DESKS {
        fake.start_chat(id);
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let start = || start_replica_on(dir.path(), "bot", database_url, &fake, SCALE, port);
    let bot = start();
    let web = bot.web;

    let mut update_id = 0;
    let mut update = |chat: i64, user: i64, username: &str, text: &str| {
        update_id += 1;
        let message = fake.message_json(chat, user, username, json!({ "text": text }));
        json!({ "update_id": update_id, "message": message })
    };
    deliver(
        web,
        &update(WANG, WANG, "wang", "/alert urgent Flood warning: stay off Jianshe Road"),
    )
    .await;
    deliver(web, &alert_confirmation(&fake, WANG, "wang", 9_000_000).await).await;
    wait_for("the fan-out to begin", Duration::from_secs(60), async || {
        !alert_copies(&fake).is_empty()
    })
    .await;

    // The kills, side by side with what people send.
    let mut dice = Dice(seed);
    let killer = kill_repeatedly(bot, kills, &mut dice, start, &fake);
    let people = async {
        for r in 1..=REPORTS {
            let (handle, id, _) = DESKS[r as usize % DESKS.len()];
            let text = format!("/report item location=lobby description=\"bag number {r}\"");
            deliver(web, &update(LIAISON, id, handle, &text)).await;
            match r {
                5 => {
                    let start = "/report person room=1208 indicators=cash_only,no_luggage";
                    deliver(web, &update(LIAISON, DESKS[0].1, "li", start)).await;
                }
                10 => deliver(web, &update(WANG, WANG, "wang", "/ack 1")).await,
                20 => {
                    // The dialogue's question reached li before some kills; the answer comes
                    // after them.
                    wait_for("the dialogue's question", Duration::from_secs(60), async || {
                        fake.sent()
                            .iter()
                            .any(|s| s.chat_id == DESKS[0].1 && s.text.contains("Description"))
                    })
                    .await;
                    deliver(web, &update(DESKS[0].1, DESKS[0].1, "li", "Man in a grey hoodie")).await;
                }
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let ((mut bot, at_last_kill), ()) = tokio::join!(killer, people);

    wait_for("every group to get the alert", Duration::from_secs(240), async || {
        alert_copies(&fake).len() == groups as usize
    })
    .await;
    let tickets = async || count(&store, "SELECT COUNT(*) AS n FROM tickets").await;
    wait_for("every report to become a ticket", Duration::from_secs(60), async || {
        tickets().await > REPORTS // the reports and the dialogue's
    })
    .await;
    // The summary counts every chat the alert went to (the liaison group too), none failed.
    let summary = async || {
        fake.sent()
            .into_iter()
            .find(|s| s.chat_id == WANG && s.text.contains("Alert #1: delivered to"))
    };
    wait_for("the officer's summary", Duration::from_secs(60), async || {
        summary().await.is_some()
    })
    .await;
    let summary = summary().await.unwrap().text;
    assert!(summary.contains(" 0 failed"), "{summary}");

    let copies = alert_copies(&fake);
    let duplicates: usize = copies.values().map(|n| n - 1).sum();
    let most = copies.values().copied().max().unwrap_or(0);
    eprintln!(
        "{kills} kills ({at_last_kill} of {groups} groups had the alert at the last one): {duplicates} duplicate(s), \
         at most {most} copies in a group, {} request(s) refused by the fake's limits",
        fake.refusals().len()
    );
    assert!(
        at_last_kill < groups as usize,
        "the kills came while the alert was fanning out"
    );
    assert!(most as u64 <= 1 + kills, "at most one duplicate per group per kill");
    assert!(
        duplicates as u64 <= kills * beatbot::workers::delivery::BATCH as u64,
        "a kill resends at most the batch it interrupted: {duplicates} duplicates"
    );
    assert_eq!(tickets().await, REPORTS + 1, "every report is exactly one ticket");
    let described = count(
        &store,
        "SELECT COUNT(*) AS n FROM tickets WHERE kind = 'person' AND fields LIKE '%grey hoodie%'",
    )
    .await;
    assert_eq!(
        described, 1,
        "the dialogue resumed after the kills and filed its report"
    );
    let acks = count(
        &store,
        "SELECT COUNT(*) AS n FROM ticket_events WHERE ticket_id = 1 AND action = 'acknowledged'",
    )
    .await;
    assert_eq!(acks, 1, "the officer's /ack applied once");
    let acked = count(
        &store,
        "SELECT COUNT(*) AS n FROM tickets WHERE id = 1 AND status = 'acknowledged'",
    )
    .await;
    assert_eq!(acked, 1, "{}", log_tail(dir.path()));

    bot.child.kill().ok();
    bot.child.wait().ok();
}

fn log_tail(dir: &Path) -> String {
    let log = std::fs::read_to_string(dir.join("bot.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twenty_times_mid_alert_on_sqlite_nothing_is_lost_or_done_twice() {
    let (store, dir) = harness::sqlite().await;
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    crash_run(store, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twenty_times_mid_alert_on_postgres_nothing_is_lost_or_done_twice() {
    let Some((store, name)) = harness::postgres().await else {
        return;
    };
    let url = format!(
        "{}/{name}",
        harness::postgres_url().rsplit_once('/').map(|(b, _)| b).unwrap()
    );
    crash_run(store.clone(), &url).await;
    harness::drop_postgres(store, &name).await;
}
