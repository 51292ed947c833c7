//! One alert fanned out to 300 Matrix rooms on a real Synapse (the test homeserver, installed
//! and started by `scripts/synapse-test-server.sh`), with the bot's account exempted from
//! Synapse's message rate limit: time from the officer's Confirm to the last delivery, and
//! messages lost (rooms where a member never saw the alert).
//!
//! Run: `cargo bench --profile dev --bench matrix_fanout` (add `-- ROOMS`, default 300).

// Only part of the test support is used here.
#[allow(dead_code)]
#[path = "../tests/it/support/synapse.rs"]
mod synapse;

use std::time::{Duration, Instant};

use beatbot::app::App;
use beatbot::core::{Content, Inbound};
use beatbot::domain::{GroupKind, Lang, Platform, Role};
use synapse::{Person, RunningBot, bot_account};

fn officer(event: &str, content: Content) -> Inbound {
    Inbound {
        platform: Platform::Console,
        event_id: event.into(),
        chat_id: "dm:wang".into(),
        is_direct: true,
        sender: "wang".into(),
        content,
        addressed: true,
        sender_private_chat: Some("dm:wang".into()),
    }
}

async fn count(app: &App, sql: &str) -> anyhow::Result<i64> {
    let mut tx = app.store.begin().await?;
    let n: i64 = beatbot::store::query(sql.to_owned()).fetch_one(&mut tx).await?.at(0)?;
    tx.commit().await?;
    Ok(n)
}

async fn run(rooms: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = beatbot::config::Config::local(concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts"), dir.path());
    let app = beatbot::startup::app(&config).await?;
    app.add_station("xinhua", "Xinhua Road Station", Some(Lang::En)).await?;
    let ids = vec![(Platform::Console, "wang".to_owned(), Some("dm:wang".to_owned()))];
    app.add_person("wang", Role::Officer, Some("xinhua"), None, None, false, None, &ids)
        .await?;

    let (name, bot_user) = bot_account().await;
    // A resident who is in every room and watches for the alert.
    let mut resident = Person::new("resident").await;
    let setup = Instant::now();
    let mut room_ids = Vec::new();
    for _ in 0..rooms {
        let room = resident.create_room(&[&bot_user], false).await;
        app.link_group(Platform::Matrix, room.as_str(), GroupKind::Community, "xinhua")
            .await?;
        room_ids.push(room);
    }
    let bot = RunningBot::start(&app, dir.path(), &name, Vec::new(), Duration::from_secs(1)).await;
    let client = bot.client.clone();
    let deadline = Instant::now() + Duration::from_secs(600);
    while client.joined_rooms().len() < rooms && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "set-up: {rooms} rooms made and joined in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    app.handle(&officer(
        "a1",
        Content::Text("/alert warning Road closed on Jianshe Road to=community".into()),
    ))
    .await?;
    let started = Instant::now();
    let started_ms = app.now();
    app.handle(&officer(
        "c1",
        Content::Press {
            data: "alert:send:1".into(),
            message: None,
        },
    ))
    .await?;
    let deadline = Instant::now() + Duration::from_secs(300);
    let settled = "SELECT COUNT(*) FROM outbox WHERE alert_id = 1 AND platform = 'matrix' AND status <> 'pending'";
    while (count(&app, settled).await? as usize) < rooms && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed();
    let last = count(
        &app,
        "SELECT COALESCE(MAX(delivered_at), 0) FROM outbox WHERE alert_id = 1 AND platform = 'matrix'",
    )
    .await?;
    let delivered = count(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE alert_id = 1 AND platform = 'matrix' AND status = 'delivered'",
    )
    .await?;
    let seen = resident
        .all_within(10, |s| s.sender == bot_user && s.body.contains("Road closed"))
        .await;
    let rooms_seen: std::collections::HashSet<_> = seen.iter().map(|s| s.room.clone()).collect();
    println!(
        "| alert to {rooms} rooms (bot exempted) | {:.2} s | {:.2} s | {} delivered | {} lost |",
        (last - started_ms) as f64 / 1000.0,
        wall.as_secs_f64(),
        delivered,
        rooms - rooms_seen.len()
    );
    bot.stop().await;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let rooms: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(300);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!("| run | confirm → last delivery | wall time until all settled | delivered | lost |");
    println!("| --- | --- | --- | --- | --- |");
    runtime.block_on(run(rooms))
}
