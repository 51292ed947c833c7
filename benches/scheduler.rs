//! The scheduler's tick over many open tickets on SQLite: how long a tick takes when nothing is
//! due (it runs every minute, on the database every message also writes to), and the tick in
//! which every open ticket misses its acknowledgement deadline at once and is escalated.
//!
//! Run: `cargo bench --bench scheduler` (add `-- 1000 10000` for other ticket counts). One
//! current-thread runtime; tickets are filed through `App::handle` like real reports.

use std::sync::Arc;
use std::time::Instant;

use beatbot::app::App;
use beatbot::clock::FakeClock;
use beatbot::core::{Content, Inbound};
use beatbot::domain::{GroupKind, Platform, Role};
use beatbot::store::Store;
use beatbot::workers::scheduler;

const START: i64 = 1_795_395_600_000; // 2026-11-23T09:00:00+08:00

async fn world(app: &App) -> anyhow::Result<()> {
    app.add_station("xinhua", "Xinhua Road Station", None).await?;
    let console = |name: &str| vec![(Platform::Console, name.to_owned(), Some(format!("dm:{name}")))];
    for (handle, role, beat, hotel, duty) in [
        ("wang", Role::Officer, Some("east"), None, false),
        ("zhou", Role::Officer, None, None, true),
        ("sun", Role::StationAdmin, None, None, false),
        ("li", Role::Liaison, Some("east"), Some("Jinjiang Inn"), false),
    ] {
        app.add_person(handle, role, Some("xinhua"), beat, hotel, duty, None, &console(handle))
            .await?;
    }
    app.link_group(Platform::Console, "hotels", GroupKind::Liaison, "xinhua")
        .await?;
    Ok(())
}

async fn measure(n: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&format!("sqlite://{}", dir.path().join("bench.db").display())).await?;
    let scripts = beatbot::scripts::load(std::path::Path::new("bot-scripts"))
        .map_err(|e| anyhow::anyhow!("bot-scripts: {} error(s)", e.len()))?;
    let clock = Arc::new(FakeClock::new(START));
    let app = App::new(store, scripts, clock.clone());
    world(&app).await?;
    for i in 0..n {
        let event = Inbound {
            platform: Platform::Console,
            event_id: format!("r{i}"),
            chat_id: "hotels".into(),
            is_direct: false,
            sender: "li".into(),
            content: Content::Text(format!(
                "/report noid room={} name=\"Guest {i}\" action=waiting",
                100 + i % 900
            )),
            addressed: false,
            sender_private_chat: None,
        };
        app.handle(&event).await?;
    }
    // The first tick also runs the daily purge: take it out of the figures.
    clock.advance(60_000);
    scheduler::tick(&app).await?;
    let ticks = 20;
    let start = Instant::now();
    for _ in 0..ticks {
        clock.advance(1_000);
        scheduler::tick(&app).await?;
    }
    let idle = start.elapsed().as_secs_f64() * 1e3 / ticks as f64;
    clock.advance(15 * 60_000);
    let start = Instant::now();
    scheduler::tick(&app).await?;
    let burst = start.elapsed().as_secs_f64() * 1e3;
    let mut tx = app.store.begin().await?;
    let escalated =
        beatbot::store::deadlines::unacknowledged(&mut tx, beatbot::domain::Escalation::Admin, START + 3_600_000)
            .await?
            .len();
    tx.commit().await?;
    println!(
        "| {n} | {idle:.2} | {burst:.0} | {:.0} | {escalated} |",
        n as f64 / (burst / 1e3)
    );
    app.store.close().await;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let counts: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let counts = if counts.is_empty() { vec![1_000, 10_000] } else { counts };
    println!("| open tickets | idle tick ms | escalation tick ms | tickets escalated/s | due for step 2 after |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for n in counts {
        measure(n).await?;
    }
    Ok(())
}
