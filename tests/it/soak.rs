//! A soak run of the real binary (Telegram long polling against the fake Bot API at 1,000×
//! Telegram's limits, SQLite): mixed updates — residents' questions in private chats, front
//! desks' one-line reports, `/tip` in community groups — fed through `getUpdates` a couple of
//! thousand at a time. After each tenth of the run: RSS, open file descriptors, and the
//! handling and delivery latency percentiles of that tenth (from `/metrics`), once the bot has
//! confirmed every update and the outbox is empty. Every update gets its answer; open files
//! stay flat.
//!
//! `cargo test` runs 4,000 updates. The soak itself (figures in docs/benchmarks.md):
//! `SOAK_UPDATES=200000 cargo test --test it soak -- --nocapture` (the figures there are from
//! the debug build that `cargo test` makes).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::harness;
use crate::crash::{DESKS, LIAISON, WANG, community, world};
use crate::support::fake_telegram::FakeTelegram;
use crate::support::replica_process::{free_port, healthy, scripts_without_flood_control, spawn, wait_for};

const GROUPS: i64 = 200;
const RESIDENTS: i64 = 20_000;
const SCALE: f64 = 1000.0;
const QUESTIONS: [&str; 4] = [
    "身份证丢了怎么补办",
    "How do I register my e-bike?",
    "居住证怎么办理",
    "what are the office hours of the station",
];

/// RSS (MB) and open file descriptors of a process.
fn resources(pid: u32) -> (f64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (rss, fds)
}

/// Messages waiting in the outbox.
async fn waiting(store: &beatbot::store::Store) -> i64 {
    let mut tx = store.begin_read().await.unwrap();
    let row = beatbot::store::query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
        .fetch_one(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    row.get("n").unwrap()
}

async fn metrics(web: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(web).await else {
        return String::new();
    };
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {web}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.ok();
    answer
}

/// A histogram's cumulative counts by upper bound, summed over its label sets.
fn histogram(text: &str, name: &str) -> BTreeMap<u64, f64> {
    let mut buckets = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with(&format!("{name}_bucket{{"))) {
        let Some(le) = line.split("le=\"").nth(1).and_then(|r| r.split('"').next()) else {
            continue;
        };
        let bound = if le == "+Inf" {
            u64::MAX
        } else {
            le.parse::<f64>().map_or(u64::MAX, |s| (s * 1e6) as u64)
        };
        let count: f64 = line.rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0.0);
        *buckets.entry(bound).or_insert(0.0) += count;
    }
    buckets
}

/// The `q` quantile (as a bucket's upper bound, in ms) of what was counted between two scrapes.
fn quantile(before: &BTreeMap<u64, f64>, after: &BTreeMap<u64, f64>, q: f64) -> Option<f64> {
    let total = after.values().copied().fold(0.0, f64::max) - before.values().copied().fold(0.0, f64::max);
    if total <= 0.0 {
        return None;
    }
    after.iter().find_map(|(bound, count)| {
        let within = count - before.get(bound).copied().unwrap_or(0.0);
        (within >= q * total).then(|| {
            if *bound == u64::MAX {
                f64::INFINITY
            } else {
                *bound as f64 / 1000.0
            }
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_mixed_run_keeps_memory_and_open_files_flat_and_answers_everything() {
    let total: i64 = std::env::var("SOAK_UPDATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000);
    let (store, dir) = harness::sqlite().await;
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    world(&store, GROUPS, DESKS.len()).await;
    let fake = FakeTelegram::start(SCALE).await;
    fake.start_chat(WANG);
    for (_, desk, _) in DESKS {
        fake.start_chat(desk);
    }
    let port = free_port();
    let config = dir.path().join("bot.toml");
    std::fs::write(
        &config,
        format!(
            "scripts_dir = {scripts:?}\ndata_dir = {data:?}\n[database]\nurl = {url:?}\n\
             [telegram]\ntoken = {token:?}\napi_url = {api:?}\nmode = \"polling\"\npoll_timeout_secs = 1\n\
             limits_speedup = {SCALE:?}\n[web]\nbind = \"127.0.0.1:{port}\"\n",
            scripts = scripts_without_flood_control(dir.path()).display().to_string(),
            data = dir.path().join("bot").display().to_string(),
            token = fake.token,
            api = fake.url(),
        ),
    )
    .unwrap();
    let bot = spawn(dir.path(), "bot", &config, port);
    wait_for("the bot to serve", Duration::from_secs(60), async || {
        healthy(bot.web).await
    })
    .await;
    let pid = bot.child.id();

    let answered = |fake: &FakeTelegram| fake.sent_count();
    let mut expected = 0usize;
    let mut last = metrics(bot.web).await;
    let started = Instant::now();
    let (start_rss, start_fds) = resources(pid);
    eprintln!("| after updates | RSS MB | open files | handling p50 / p99 ms | delivery p50 / p99 ms | updates/s |");
    eprintln!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    eprintln!("| 0 | {start_rss:.1} | {start_fds} | | | |");
    let mut samples = Vec::new();
    let tenth = (total / 10).max(1);
    let mut window = Instant::now();
    for i in 0..total {
        match i % 20 {
            // A front desk's one-line report (answered in the desks' group).
            0 | 10 => {
                let (handle, id, _) = DESKS[i as usize % DESKS.len()];
                let text = format!("/report item location=lobby description=\"bag number {i}\"");
                fake.text(LIAISON, id, handle, &text);
            }
            // A tip asked for in a community group.
            5 => {
                let user = 10_000 + i % RESIDENTS;
                fake.text(community(i % GROUPS), user, &format!("r{user}"), "/tip");
            }
            // A resident's question in a private chat.
            _ => {
                let user = 10_000 + i % RESIDENTS;
                fake.start_chat(user);
                fake.text(user, user, &format!("r{user}"), QUESTIONS[i as usize % QUESTIONS.len()]);
            }
        }
        expected += 1;
        if i % 2_000 == 1_999 {
            while fake.unconfirmed_updates() > 1_000 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        if (i + 1) % tenth == 0 {
            wait_for("the bot to catch up", Duration::from_secs(600), async || {
                fake.unconfirmed_updates() == 0 && answered(&fake) >= expected && waiting(&store).await == 0
            })
            .await;
            let now = metrics(bot.web).await;
            let handling = |q| {
                quantile(
                    &histogram(&last, "beatbot_update_handling_seconds"),
                    &histogram(&now, "beatbot_update_handling_seconds"),
                    q,
                )
            };
            let delivery = |q| {
                quantile(
                    &histogram(&last, "beatbot_delivery_latency_seconds"),
                    &histogram(&now, "beatbot_delivery_latency_seconds"),
                    q,
                )
            };
            let (rss, fds) = resources(pid);
            let rate = tenth as f64 / window.elapsed().as_secs_f64();
            eprintln!(
                "| {} | {rss:.1} | {fds} | {:.2} / {:.2} | {:.1} / {:.1} | {rate:.0} |",
                i + 1,
                handling(0.5).unwrap_or(f64::NAN),
                handling(0.99).unwrap_or(f64::NAN),
                delivery(0.5).unwrap_or(f64::NAN),
                delivery(0.99).unwrap_or(f64::NAN),
            );
            samples.push((rss, fds));
            last = now;
            window = Instant::now();
        }
    }
    eprintln!("{total} updates in {:.0} s", started.elapsed().as_secs_f64());
    // Each update is answered at least once (a report also tells the officer).
    assert!(answered(&fake) >= expected, "every update answered");
    // Open files: the database, its WAL and shared memory, the log, sockets — not one more per
    // update or per chat.
    let (_, end_fds) = resources(pid);
    assert!(
        end_fds <= start_fds + 16,
        "open files grew from {start_fds} to {end_fds}"
    );
    drop(bot);
}
