//! Handling throughput of one replica against two, on one PostgreSQL: one-line hotel reports
//! posted to the replicas' Telegram webhooks (round robin, as a load balancer would) by 32
//! concurrent senders; reports a second until every one was answered 200 (the webhook answers
//! after the report's ticket and messages are committed), per-request p50/p99, tickets made.
//!
//! Run: `cargo bench --bench replicas` (add `-- 3000` for another report count). Needs the
//! PostgreSQL at `BEATBOT_TEST_POSTGRES_URL` (default postgres://postgres@127.0.0.1:5432/test);
//! each run makes and drops its own database. On a 2-core machine the replicas, PostgreSQL and
//! this load generator share the cores: compare the two rows of one run.

#[path = "../tests/it/support/fake_telegram.rs"]
mod fake_telegram;
// Shared with the tests, which use all of it.
#[allow(dead_code)]
#[path = "../tests/it/support/replica_process.rs"]
mod replica_process;

use std::time::{Duration, Instant};

use beatbot::config::Config;
use beatbot::domain::{GroupKind, Lang, Platform, Role};
use beatbot::store::{query, replicas};
use fake_telegram::FakeTelegram;
use serde_json::json;
use sqlx::Connection;

const WANG: i64 = 501;
const LI: i64 = 601;
const LIAISON: i64 = -100123;
const SENDERS: usize = 32;

fn admin_url() -> String {
    std::env::var("BEATBOT_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn fresh_database(name: &str) -> anyhow::Result<String> {
    let mut admin = sqlx::postgres::PgConnection::connect(&admin_url()).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    let base = admin_url()
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or_default();
    Ok(format!("{base}/{name}"))
}

async fn drop_database(name: &str) -> anyhow::Result<()> {
    let mut admin = sqlx::postgres::PgConnection::connect(&admin_url()).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(n_replicas: usize, reports: usize) -> anyhow::Result<()> {
    let name = format!("beatbot_bench_replicas_{}", std::process::id());
    let url = fresh_database(&name).await?;
    let dir = tempfile::tempdir()?;
    let config = Config {
        database_url: url.clone(),
        ..Config::local(concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts"), dir.path())
    };
    let app = beatbot::startup::app(&config).await?;
    app.add_station("xinhua", "Xinhua Road Station", Some(Lang::En)).await?;
    let tg = |id: i64| vec![(Platform::Telegram, id.to_string(), Some(id.to_string()))];
    app.add_person(
        "wang",
        Role::Officer,
        Some("xinhua"),
        Some("east"),
        None,
        false,
        None,
        &tg(WANG),
    )
    .await?;
    app.add_person(
        "li",
        Role::Liaison,
        Some("xinhua"),
        Some("east"),
        Some("Jinjiang Inn"),
        false,
        None,
        &tg(LI),
    )
    .await?;
    app.link_group(Platform::Telegram, &LIAISON.to_string(), GroupKind::Liaison, "xinhua")
        .await?;

    let fake = FakeTelegram::start(1.0).await;
    fake.start_chat(WANG);
    fake.start_chat(LI);
    let mut running: Vec<replica_process::Replica> = (0..n_replicas)
        .map(|i| replica_process::start_replica(dir.path(), &format!("r{i}"), &url, &fake, 1.0))
        .collect();
    let webs: Vec<_> = running.iter().map(|r| r.web).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    for web in &webs {
        while !replica_process::healthy(*web).await {
            anyhow::ensure!(Instant::now() < deadline, "a replica did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    while replicas::live(&app.store).await?.len() < n_replicas {
        anyhow::ensure!(Instant::now() < deadline, "the replicas did not see each other");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(replicas::HEARTBEAT + Duration::from_millis(500)).await;

    let updates: Vec<serde_json::Value> = (0..reports)
        .map(|i| {
            let text = format!("/report item location=lobby description=\"bag number {i}\"");
            let message = fake.message_json(LIAISON, LI, "li_desk", json!({ "text": text }));
            json!({ "update_id": 1000 + i, "message": message })
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    let senders = (0..SENDERS).map(|_| async {
        let mut latencies = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(update) = updates.get(i) else { break };
            let sent = Instant::now();
            let status = replica_process::post(webs[i % webs.len()], update).await;
            anyhow::ensure!(status == Some(200), "report {i}: {status:?}");
            latencies.push(sent.elapsed());
        }
        anyhow::Ok(latencies)
    });
    let mut latencies = Vec::new();
    for result in futures::future::join_all(senders).await {
        latencies.extend(result?);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let mut tx = app.store.begin_read().await?;
    let tickets: i64 = query("SELECT COUNT(*) AS n FROM tickets")
        .fetch_one(&mut tx)
        .await?
        .get("n")?;
    tx.commit().await?;
    println!(
        "| {n_replicas} | {reports} | {:.0}/s | {:.1} ms | {:.1} ms | {tickets} |",
        reports as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    for replica in &mut running {
        replica.child.kill().ok();
        replica.child.wait().ok();
    }
    app.store.close().await;
    drop_database(&name).await
}

fn main() -> anyhow::Result<()> {
    let reports: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(3000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        println!("| replicas | reports | reports/s | p50 | p99 | tickets |");
        println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
        run(1, reports).await?;
        run(2, reports).await?;
        Ok(())
    })
}
