//! Inbound messages through dispatch → store → outbox on SQLite: messages per second and
//! latency percentiles, for FAQ questions and for one-line hotel reports.
//!
//! Run: `cargo bench --bench dispatch` (add `-- 20000` for another message count; set
//! `DISPATCH_DATABASE_URL=postgres://…` to an empty database to measure PostgreSQL). One
//! current-thread runtime, so the figures are for one core. Each message is one
//! `App::handle`: dedupe record, person and group lookup, dispatch, ticket and outbox rows,
//! commit (SQLite WAL, synchronous=NORMAL, on a file in a temporary directory).

use std::time::{Duration, Instant};

use beatbot::app::App;
use beatbot::config::Config;
use beatbot::core::{Content, Inbound};
use beatbot::domain::{GroupKind, Platform, Role};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn world(app: &App) -> anyhow::Result<()> {
    app.add_station("xinhua", "Xinhua Road Station", None).await?;
    let console = |name: &str| vec![(Platform::Console, name.to_owned(), Some(format!("dm:{name}")))];
    app.add_person(
        "wang",
        Role::Officer,
        Some("xinhua"),
        Some("east"),
        None,
        false,
        None,
        &console("wang"),
    )
    .await?;
    app.add_person(
        "zhou",
        Role::Officer,
        Some("xinhua"),
        None,
        None,
        true,
        None,
        &console("zhou"),
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
        &console("li"),
    )
    .await?;
    app.link_group(Platform::Console, "hotels", GroupKind::Liaison, "xinhua")
        .await?;
    app.link_group(Platform::Console, "residents", GroupKind::Community, "xinhua")
        .await?;
    Ok(())
}

/// A console text message: in a private chat (`chat` `dm:…`) or a group, addressing the bot or not.
fn text(event_id: String, chat: String, sender: String, text: &str, addressed: bool) -> Inbound {
    Inbound {
        platform: Platform::Console,
        event_id,
        is_direct: chat.starts_with("dm:"),
        chat_id: chat,
        sender,
        content: Content::Text(text.into()),
        addressed,
        sender_private_chat: None,
    }
}

async fn run(app: &App, label: &str, n: usize, make: impl Fn(usize) -> Inbound) -> anyhow::Result<()> {
    let mut latencies = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let event = make(i);
        let t = Instant::now();
        app.handle(&event).await?;
        latencies.push(t.elapsed());
    }
    let total = start.elapsed();
    latencies.sort();
    println!(
        "| {label} | {n} | {:.0} | {:.3} | {:.3} | {:.3} |",
        n as f64 / total.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0),
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let mut config = Config::local(concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts"), dir.path());
        if let Ok(url) = std::env::var("DISPATCH_DATABASE_URL") {
            config.database_url = url;
        }
        let mut app = beatbot::startup::app(&config).await?;
        // Far faster than people type, from a few hundred senders: flood control would ignore
        // most of it (see `beatbot::flood`); this measures handling.
        let mut scripts = (*app.scripts).clone();
        scripts.settings.flood_per_person = 0;
        scripts.settings.flood_per_group = 0;
        app.scripts = std::sync::Arc::new(scripts);
        world(&app).await?;
        // Warm up (statement cache, jieba dictionary).
        for i in 0..200 {
            let e = text(
                format!("w{i}"),
                "dm:warm".into(),
                "warm".into(),
                "/ask 身份证丢了怎么补办",
                false,
            );
            app.handle(&e).await?;
        }
        println!("| workload | messages | messages/s | p50 ms | p99 ms | max ms |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        let questions = [
            "/ask 身份证丢了怎么补办？",
            "How do I register my e-bike?",
            "居住证怎么办理",
            "what are the office hours of the station",
        ];
        run(&app, "FAQ question (DM)", n, |i| {
            let who = format!("r{}", i % 500);
            text(
                format!("q{i}"),
                format!("dm:{who}"),
                who,
                questions[i % questions.len()],
                false,
            )
        })
        .await?;
        // Residents of the station asking in its group, mentioning the bot: the station's facts
        // and own-FAQ version are read as well; paraphrases, a typo and a "Did you mean" are
        // among them.
        let group_questions = [
            "@beatbot 没有身份证怎么开房",
            "@beatbot When should I call 110 instead of messaging here?",
            "@beatbot 房子租出去要去派出所登记吗",
            "@beatbot pasport renewal how long",
            "@beatbot what time does the police station open",
            "@beatbot id card",
        ];
        run(&app, "FAQ question (group, mentioning the bot)", n, |i| {
            let question = group_questions[i % group_questions.len()];
            text(
                format!("g{i}"),
                "residents".into(),
                format!("g{}", i % 500),
                question,
                true,
            )
        })
        .await?;
        run(&app, "one-line noid report (group)", n, |i| {
            let report = format!("/report noid room={} name=\"Zhao Liu\" action=waiting", 100 + i % 900);
            text(format!("r{i}"), "hotels".into(), "li".into(), &report, false)
        })
        .await?;
        Ok(())
    })
}
