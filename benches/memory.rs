//! Memory of the real `beatbot serve` process with a province's worth of data: 10,000 linked
//! community groups and 100,000 people, after a day's traffic replayed through the fake Bot API
//! (long polling, as a station runs it on SQLite).
//!
//! The day: 100,000 residents each ask one FAQ question (80,000 in their private chat, 20,000
//! in one of the community groups: every one becomes a person on first contact), 40 hotel front
//! desks file 2,000 one-line reports in their liaison group, and the officer sends two alerts to
//! every group (20,000 copies). Limits are 1,000× faster on the fake server and in the bot, so
//! the day takes a minute or two instead of hours of waiting on Telegram's 30 a second.
//!
//! Printed: RSS (VmRSS) after start-up on the seeded database, right after the day and its
//! peak (VmHWM), and again once the bot has been idle long enough to give freed heap back
//! (`beatbot::memory`); the open file descriptors; how long the day took. `MEMORY_PROBE=1`
//! also trims the heap through gdb and prints `/proc/PID/smaps_rollup` (file-backed pages,
//! the binary's code, against anonymous memory).
//!
//! Run: `cargo bench --bench memory` (the release binary is built by `cargo bench`); add
//! `-- GROUPS PEOPLE` for another size.

#[path = "../tests/it/support/fake_telegram.rs"]
mod fake_telegram;
#[allow(dead_code)]
#[path = "../tests/it/support/replica_process.rs"]
mod replica_process;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use beatbot::config::Config;
use beatbot::domain::{GroupKind, Lang, Platform, Role};
use beatbot::startup::Bot;
use fake_telegram::FakeTelegram;

const OFFICER: i64 = 501;
const DESKS: i64 = 40;
const REPORTS: i64 = 2_000;
const ALERTS: usize = 2;
const SCALE: f64 = 1000.0;
const QUESTIONS: [&str; 6] = [
    "How do I replace a lost ID card?",
    "身份证丢了怎么补办",
    "where do I apply for a passport",
    "居住证怎么办",
    "I think I was scammed, what now?",
    "邻居太吵了怎么办",
];

fn community(g: i64) -> i64 {
    -1_000_000 - g
}

fn liaison(d: i64) -> i64 {
    -2_000_000 - d
}

/// `(VmRSS, VmHWM)` in MB and the number of open file descriptors of `pid`.
fn memory(pid: u32) -> (f64, f64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (field("VmRSS:"), field("VmHWM:"), fds)
}

/// Station xinhua, officer wang, `DESKS` front desks each with a liaison group, and `groups`
/// community groups, written through the same calls as the command line's.
async fn seed(dir: &Path, groups: i64) -> anyhow::Result<()> {
    let config = Config::local(concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts"), dir);
    let bot = Bot::assemble(&config).await?.without_scheduler();
    let app = bot.app();
    app.add_station("xinhua", "Xinhua Road Station", Some(Lang::En)).await?;
    let ids = vec![(Platform::Telegram, OFFICER.to_string(), Some(OFFICER.to_string()))];
    app.add_person(
        "wang",
        Role::Officer,
        Some("xinhua"),
        Some("east"),
        None,
        false,
        None,
        &ids,
    )
    .await?;
    for d in 0..DESKS {
        let user = 600 + d;
        let ids = vec![(Platform::Telegram, user.to_string(), Some(user.to_string()))];
        let hotel = format!("Hotel {d}");
        app.add_person(
            &format!("desk{d}"),
            Role::Liaison,
            Some("xinhua"),
            Some("east"),
            Some(&hotel),
            false,
            None,
            &ids,
        )
        .await?;
        app.link_group(
            Platform::Telegram,
            &liaison(d).to_string(),
            GroupKind::Liaison,
            "xinhua",
        )
        .await?;
    }
    for g in 0..groups {
        app.link_group(
            Platform::Telegram,
            &community(g).to_string(),
            GroupKind::Community,
            "xinhua",
        )
        .await?;
    }
    Ok(())
}

/// `beatbot serve` on the seeded database, and the address of its web server.
fn serve(dir: &Path, fake: &FakeTelegram) -> (Child, SocketAddr) {
    let port = replica_process::free_port();
    let config = dir.join("beatbot.toml");
    std::fs::write(
        &config,
        format!(
            "scripts_dir = {scripts:?}\ndata_dir = {data:?}\n\
             [database]\nurl = {db:?}\n\
             [telegram]\ntoken = {token:?}\napi_url = {api:?}\npoll_timeout_secs = 1\n\
             limits_speedup = {SCALE:?}\n\
             [web]\nbind = \"127.0.0.1:{port}\"\n",
            scripts = concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts"),
            data = dir.display().to_string(),
            db = format!("sqlite://{}", dir.join("beatbot.db").display()),
            token = fake.token,
            api = fake.url(),
        ),
    )
    .expect("write the configuration");
    let child = Command::new(env!("CARGO_BIN_EXE_beatbot"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("BEATBOT_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start beatbot serve");
    (child, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// Waits until the bot has taken every update and sent nothing new for two seconds; the
/// number of requests it sent.
async fn settle(fake: &FakeTelegram) -> usize {
    let mut last = (usize::MAX, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sent = fake.sent().len();
        if sent != last.0 {
            last = (sent, Instant::now());
        } else if fake.unconfirmed_updates() == 0 && last.1.elapsed() > Duration::from_secs(2) {
            return sent;
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<i64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let groups = args.first().copied().unwrap_or(10_000).max(1);
    let people = args.get(1).copied().unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let seeding = Instant::now();
    seed(dir.path(), groups).await?;
    println!("seeded {groups} groups in {:.1} s", seeding.elapsed().as_secs_f64());

    let fake = FakeTelegram::start(SCALE).await;
    fake.start_chat(OFFICER);
    let (mut bot, web) = serve(dir.path(), &fake);
    let starting = Instant::now();
    while !replica_process::healthy(web).await {
        if starting.elapsed() > Duration::from_secs(60) {
            bot.kill().ok();
            bot.wait().ok();
            anyhow::bail!("beatbot serve did not start");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (rss, _, fds) = memory(bot.id());
    println!("after start-up: RSS {rss:.1} MB, {fds} open files");

    let day = Instant::now();
    // The residents' questions, a few thousand at a time (as a busy day's getUpdates batches).
    for p in 0..people {
        let user = 10_000_000 + p;
        let question = QUESTIONS[p as usize % QUESTIONS.len()];
        let chat = if p % 5 == 0 { community(p % groups) } else { user };
        fake.text(chat, user, &format!("r{p}"), question);
        if p % 5_000 == 4_999 {
            // Keep the queue of unconfirmed updates at a day's, not all at once.
            while fake.unconfirmed_updates() > 5_000 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // The front desks' reports, spread over the day.
        if p % (people / REPORTS).max(1) == 0 && p / (people / REPORTS).max(1) < REPORTS {
            let n = p / (people / REPORTS).max(1);
            let desk = n % DESKS;
            fake.text(
                liaison(desk),
                600 + desk,
                &format!("desk{desk}"),
                &format!("/report item location=lobby description=\"bag number {n}\""),
            );
        }
    }
    for a in 0..ALERTS {
        fake.text(
            OFFICER,
            OFFICER,
            "wang",
            &format!("/alert info Road works on Jianshe Road, day {a}"),
        );
        let asked = Instant::now();
        let prompt = loop {
            if asked.elapsed() > Duration::from_secs(120) {
                bot.kill().ok();
                bot.wait().ok();
                anyhow::bail!("the alert's confirmation prompt never came");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            let sent = fake.sent();
            if let Some(prompt) = sent
                .iter()
                .rev()
                .find(|s| s.chat_id == OFFICER && s.text.contains(&format!("day {a}")) && s.reply_markup.is_some())
            {
                break prompt.clone();
            }
        };
        let data = prompt.reply_markup.as_ref().unwrap()["inline_keyboard"][0][0]["callback_data"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        fake.press(OFFICER, prompt.message_id, OFFICER, "wang", &data);
    }
    let sent = settle(&fake).await;
    let took = day.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss, peak, fds) = memory(bot.id());
    let copies = fake
        .sent()
        .iter()
        .filter(|s| s.chat_id <= community(0) && s.chat_id > liaison(0) && s.text.contains("Road works"))
        .count();
    println!(
        "after the day ({people} people, {REPORTS} reports, {ALERTS} alerts to {groups} groups; \
         {sent} requests, {copies} alert copies, {took:.0} s): RSS {rss:.1} MB, peak {peak:.1} MB, {fds} open files"
    );
    // The workers give freed heap back when the outbox runs empty, at most every 10 s.
    tokio::time::sleep(beatbot::memory::EVERY + Duration::from_secs(5)).await;
    let (idle_rss, _, _) = memory(bot.id());
    println!(
        "after {} s idle: RSS {idle_rss:.1} MB",
        (beatbot::memory::EVERY + Duration::from_secs(7)).as_secs()
    );
    if std::env::var("MEMORY_PROBE").is_ok() {
        // Whatever glibc still holds as free heap, handed back from outside.
        let trimmed = Command::new("gdb")
            .args(["-p", &bot.id().to_string(), "-batch", "-ex", "call (int)malloc_trim(0)"])
            .output();
        if trimmed.is_err() {
            println!("gdb could not be run");
        }
        let (rss, _, _) = memory(bot.id());
        println!("after malloc_trim: RSS {rss:.1} MB");
        let smaps = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", bot.id())).unwrap_or_default();
        println!("{smaps}");
    }
    bot.kill().ok();
    bot.wait().ok();
    Ok(())
}
