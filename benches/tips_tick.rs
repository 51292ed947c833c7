//! The scheduler's tick that posts to 10,000 linked groups: the 09:00 tick dealing every
//! group the next card of its deck (10,000 decks read and written, 10,000 outbox rows), the
//! idle ticks after it (every group's schedule looked at, nothing due), and the 08:30 tick
//! posting the safety index (one chart drawn, 10,000 rows naming it).
//!
//! Run: `cargo bench --bench tips_tick` (add `-- 1000 10000` for other group counts; set
//! `TIPS_DATABASE_URL=postgres://…` to an empty database to measure PostgreSQL instead of a
//! SQLite file). One current-thread runtime; delivery is not included
//! (`benches/telegram_fanout.rs` measures that).

use std::sync::Arc;
use std::time::Instant;

use beatbot::app::App;
use beatbot::clock::FakeClock;
use beatbot::store::{Store, query};
use beatbot::workers::scheduler;

/// 2026-12-07 08:00 in Shanghai, a Monday.
const MONDAY_8AM: i64 = 1_796_601_600_000;
const MINUTE: i64 = 60_000;

async fn link_groups(app: &App, n: usize) -> anyhow::Result<()> {
    app.add_station("xinhua", "Xinhua Road Station", None).await?;
    let mut tx = app.store.begin().await?;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut sql = String::from(
            "INSERT INTO groups (platform, chat_id, kind, station_id, active, created_at, last_active_at) VALUES ",
        );
        for (k, i) in chunk.iter().enumerate() {
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "('telegram', '-100{i}', 'community', 'xinhua', 1, {}, {})",
                MONDAY_8AM - 86_400_000,
                MONDAY_8AM - 86_400_000
            ));
        }
        query(sql).execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn outbox_rows(app: &App, like: &str) -> anyhow::Result<i64> {
    let mut tx = app.store.begin().await?;
    let row = query("SELECT COUNT(*) AS n FROM outbox WHERE idem_key LIKE $1")
        .bind(like)
        .fetch_one(&mut tx)
        .await?;
    tx.commit().await?;
    row.get("n")
}

async fn measure(label: &str, store: Store, n: usize) -> anyhow::Result<()> {
    let scripts = beatbot::scripts::load(std::path::Path::new("bot-scripts"))
        .map_err(|e| anyhow::anyhow!("bot-scripts: {} error(s)", e.len()))?;
    let clock = Arc::new(FakeClock::new(MONDAY_8AM));
    let app = App::new(store, scripts, clock.clone());
    link_groups(&app, n).await?;
    // The first tick of a day also runs the daily purge and the morning digest: out of the figures.
    clock.set(MONDAY_8AM + 20 * MINUTE);
    scheduler::tick(&app).await?;

    clock.set(MONDAY_8AM + 30 * MINUTE);
    let start = Instant::now();
    scheduler::tick(&app).await?;
    let index_ms = start.elapsed().as_secs_f64() * 1e3;
    let index_rows = outbox_rows(&app, "index:%").await?;

    clock.set(MONDAY_8AM + 60 * MINUTE);
    let start = Instant::now();
    scheduler::tick(&app).await?;
    let tips_ms = start.elapsed().as_secs_f64() * 1e3;
    let tip_rows = outbox_rows(&app, "tip:%").await?;

    let ticks = 10;
    let start = Instant::now();
    for k in 1..=ticks {
        clock.set(MONDAY_8AM + (60 + k) * MINUTE);
        scheduler::tick(&app).await?;
    }
    let idle_ms = start.elapsed().as_secs_f64() * 1e3 / ticks as f64;
    assert_eq!(outbox_rows(&app, "tip:%").await?, tip_rows, "idle ticks add nothing");
    println!(
        "{label}: {n} groups — tips tick {tips_ms:.0} ms ({tip_rows} tips queued, {:.1} µs/group); \
         index tick {index_ms:.0} ms ({index_rows} posts: a Monday, so the daily and the weekly chart, each drawn once); idle tick {idle_ms:.0} ms",
        tips_ms * 1e3 / n as f64
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect::<Vec<_>>();
    let sizes = if sizes.is_empty() { vec![10_000] } else { sizes };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        for &n in &sizes {
            let dir = tempfile::tempdir()?;
            match std::env::var("TIPS_DATABASE_URL") {
                Ok(url) => measure("PostgreSQL", Store::open(&url).await?, n).await?,
                Err(_) => {
                    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                    measure("SQLite", Store::open(&url).await?, n).await?;
                }
            }
        }
        Ok(())
    })
}
