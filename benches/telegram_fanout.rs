//! Telegram delivery at the platform's limits, against the fake Bot API server over HTTP.
//!
//! 1. One alert fanned out to 1,000 linked groups: time to the last delivery as a ratio to the
//!    minimum the global limit allows (30 messages/s, scaled), 429s received, messages lost.
//! 2. An `urgent` alert queued behind 5,000 pending tips: time until it reaches its first group.
//! 3. Paid broadcast (`telegram.paid_broadcast = true`): an `urgent` alert to 1,000 groups at
//!    Telegram's real speed (the fake server allows paid broadcasts 1,000 a second), time to the
//!    last delivery, how many went as paid broadcasts, 429s, messages lost.
//!
//! Run: `cargo bench --bench telegram_fanout` (add `-- SCALE`, default 10: every Telegram limit
//! ten times faster on both the fake server and the worker, so the run takes seconds; the ratio
//! to the minimum is what carries over to real time).

#[path = "../tests/it/support/fake_telegram.rs"]
mod fake_telegram;

use std::time::{Duration, Instant};

use beatbot::app::App;
use beatbot::config::{self, Config};
use beatbot::core::{Content, Inbound};
use beatbot::domain::{GroupKind, Platform, Role};
use beatbot::startup::{Bot, Running};
use beatbot::store::outbox::{self, NewMessage, Target};
use fake_telegram::FakeTelegram;

const OFFICER: i64 = 501;

/// The bot as `serve` assembles it, against `fake` with every limit `scale`× faster, on a
/// fresh database with station xinhua, officer wang and `groups` community groups.
async fn setup(fake: &FakeTelegram, scale: f64, groups: usize) -> anyhow::Result<(Bot, tempfile::TempDir)> {
    setup_paid(fake, scale, groups, false).await
}

/// [`setup`], with paid broadcasting on or off.
async fn setup_paid(
    fake: &FakeTelegram,
    scale: f64,
    groups: usize,
    paid_broadcast: bool,
) -> anyhow::Result<(Bot, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let telegram = config::Telegram {
        poll_timeout: Duration::from_secs(1),
        limits_speedup: scale,
        paid_broadcast,
        ..config::Telegram::polling(&fake.token, &fake.url())?
    };
    let config = Config {
        telegram: Some(telegram),
        ..Config::local(concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts"), dir.path())
    };
    let bot = Bot::assemble(&config).await?.without_scheduler();
    let app = bot.app();
    app.add_station("xinhua", "Xinhua Road Station", Some(beatbot::domain::Lang::En))
        .await?;
    let ids = vec![(Platform::Telegram, OFFICER.to_string(), Some(OFFICER.to_string()))];
    app.add_person("wang", Role::Officer, Some("xinhua"), None, None, false, None, &ids)
        .await?;
    for g in 0..groups {
        app.link_group(
            Platform::Telegram,
            &(-1_000_000 - g as i64).to_string(),
            GroupKind::Community,
            "xinhua",
        )
        .await?;
    }
    Ok((bot, dir))
}

async fn start(bot: Bot) -> anyhow::Result<(App, Running)> {
    let app = bot.app().clone();
    Ok((app, bot.start().await?))
}

fn dm(event: &str, content: Content) -> Inbound {
    Inbound {
        platform: Platform::Telegram,
        event_id: event.into(),
        chat_id: OFFICER.to_string(),
        is_direct: true,
        sender: OFFICER.to_string(),
        content,
        addressed: true,
        sender_private_chat: None,
    }
}

async fn send_alert(app: &App, n: i64, level: &str) -> anyhow::Result<()> {
    app.handle(&dm(
        &format!("a{n}"),
        Content::Text(format!("/alert {level} Road closed on Jianshe Road")),
    ))
    .await?;
    app.handle(&dm(
        &format!("c{n}"),
        Content::Press {
            data: format!("alert:send:{n}"),
            message: None,
        },
    ))
    .await?;
    Ok(())
}

fn group_messages(fake: &FakeTelegram) -> Vec<fake_telegram::Sent> {
    fake.sent().into_iter().filter(|s| s.chat_id < 0).collect()
}

async fn fan_out(scale: f64) -> anyhow::Result<()> {
    const GROUPS: usize = 1000;
    let fake = FakeTelegram::start(scale).await;
    fake.start_chat(OFFICER);
    let (bot, _dir) = setup(&fake, scale, GROUPS).await?;
    send_alert(bot.app(), 1, "warning").await?;
    // The clock starts when the delivery worker does (after getMe and the command menus).
    let (_, running) = start(bot).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(GROUPS as f64 / 30.0 / scale * 3.0 + 10.0);
    while group_messages(&fake).len() < GROUPS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    running.stop().await;
    let delivered: std::collections::HashSet<i64> = group_messages(&fake).iter().map(|s| s.chat_id).collect();
    // Every message to the groups goes through the 30/s global budget; the minimum time is
    // the spacing between the first and the last of them.
    let minimum = Duration::from_secs_f64((GROUPS - 1) as f64 / (30.0 * scale));
    println!(
        "| alert to {GROUPS} groups (limits ×{scale}) | {:.2} s | {:.2} s | {:.3} | {} | {} |",
        elapsed.as_secs_f64(),
        minimum.as_secs_f64(),
        elapsed.as_secs_f64() / minimum.as_secs_f64(),
        fake.too_many_requests(),
        GROUPS - delivered.len()
    );
    Ok(())
}

async fn urgent_behind_tips(scale: f64) -> anyhow::Result<()> {
    const TIPS: usize = 5000;
    let fake = FakeTelegram::start(scale).await;
    fake.start_chat(OFFICER);
    let (bot, _dir) = setup(&fake, scale, 20).await?;
    let app = bot.app().clone();
    // 5,000 tips waiting for 5,000 subscribers' private chats (who have all started the bot).
    for i in 0..TIPS {
        fake.start_chat(10_000 + i as i64);
    }
    let keys: Vec<String> = (0..TIPS).map(|i| format!("tip-{i}")).collect();
    let chats: Vec<String> = (0..TIPS).map(|i| (10_000 + i).to_string()).collect();
    let tips: Vec<NewMessage<'_>> = keys
        .iter()
        .zip(&chats)
        .map(|(key, chat)| NewMessage {
            target: Target::Chat(Platform::Telegram, chat),
            text: "🃏 Anti-fraud: police never ask you to move money to a 'safe account'.",
            buttons: &[],
            edit_of: None,
            priority: 0,
            idem_key: key,
            alert_id: None,
            fallback_chat: None,
            photo: None,
            reply_to: None,
        })
        .collect();
    let mut tx = app.store.begin().await?;
    outbox::enqueue_many(&mut tx, &tips, app.now()).await?;
    tx.commit().await?;
    let (app, running) = start(bot).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tips_before = fake.sent().len();
    // The officer drafts and confirms; the clock starts at the confirmation.
    app.handle(&dm(
        "u1",
        Content::Text("/alert urgent Gas leak near Jianshe Road: keep away".into()),
    ))
    .await?;
    let confirmed = Instant::now();
    app.handle(&dm(
        "u2",
        Content::Press {
            data: "alert:send:1".into(),
            message: None,
        },
    ))
    .await?;
    let mut first = None;
    while confirmed.elapsed() < Duration::from_secs(30) {
        if !group_messages(&fake).is_empty() {
            first = Some(confirmed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    running.stop().await;
    match first {
        Some(t) => println!(
            "| urgent alert behind {TIPS} tips (limits ×{scale}) | first group after {:.0} ms | {} tips sent before it |",
            t.as_secs_f64() * 1e3,
            tips_before
        ),
        None => println!("| urgent alert behind {TIPS} tips (limits ×{scale}) | not delivered within 30 s | |"),
    }
    Ok(())
}

async fn paid_fan_out() -> anyhow::Result<()> {
    const GROUPS: usize = 1000;
    let fake = FakeTelegram::start(1.0).await;
    fake.start_chat(OFFICER);
    let (bot, _dir) = setup_paid(&fake, 1.0, GROUPS, true).await?;
    let (app, running) = start(bot).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let confirmed = Instant::now();
    send_alert(&app, 1, "urgent").await?;
    while group_messages(&fake).len() < GROUPS && confirmed.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = confirmed.elapsed();
    running.stop().await;
    let sent = group_messages(&fake);
    let delivered: std::collections::HashSet<i64> = sent.iter().map(|s| s.chat_id).collect();
    let minimum = Duration::from_secs_f64((GROUPS - 1) as f64 / 1000.0);
    println!(
        "| urgent alert to {GROUPS} groups, paid broadcast, real speed | {:.2} s | {:.2} s | {:.3} | {} | {} | {} paid |",
        elapsed.as_secs_f64(),
        minimum.as_secs_f64(),
        elapsed.as_secs_f64() / minimum.as_secs_f64(),
        fake.too_many_requests(),
        GROUPS - delivered.len(),
        sent.iter().filter(|s| s.paid).count()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let scale: f64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10.0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        println!("| run | time to last delivery | minimum | ratio | 429s | lost |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        fan_out(scale).await?;
        println!();
        urgent_behind_tips(scale).await?;
        println!();
        paid_fan_out().await?;
        Ok(())
    })
}
