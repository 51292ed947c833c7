//! Scheduled tips, the safety index and the morning digest through the store on SQLite and
//! PostgreSQL: removed groups are skipped, tips queue below alerts, a slot runs once, a group
//! silent for months gets them weekly at most; the chart reaches Telegram (uploaded once, its
//! file id reused) and Matrix (uploaded once, its `mxc://` URI reused); the command line's
//! `tips preview` and `index`.

use std::sync::Arc;

use beatbot::app::{App, enqueue};
use beatbot::clock::FakeClock;
use beatbot::core::{Outbound, Recipient};
use beatbot::domain::{AlertLevel, GroupKind, Platform};
use beatbot::store::{Store, groups, outbox, query};
use beatbot::workers::scheduler;

use super::cli::beatbot;
use super::delivery::app;
use super::harness;

/// 2026-12-07 08:00 in Shanghai, a Monday.
const MONDAY_8AM: i64 = 1_796_601_600_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

async fn tips_by_chat(app: &App) -> Vec<(String, i64)> {
    let mut tx = app.store.begin().await.unwrap();
    let rows = query("SELECT chat_id, priority FROM outbox WHERE idem_key LIKE 'tip:%' ORDER BY id")
        .fetch_all(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows.iter()
        .map(|r| (r.get::<String>("chat_id").unwrap(), r.get::<i64>("priority").unwrap()))
        .collect()
}

async fn removed_groups_and_priorities(store: Store) {
    let clock = Arc::new(FakeClock::new(MONDAY_8AM));
    let app = app(store, clock.clone()).await;
    app.link_group(Platform::Console, "gone", GroupKind::Community, "xinhua")
        .await
        .unwrap();
    let mut tx = app.store.begin().await.unwrap();
    groups::deactivate(&mut tx, Platform::Console, "gone").await.unwrap();
    tx.commit().await.unwrap();

    clock.set(MONDAY_8AM + HOUR);
    scheduler::tick(&app).await.unwrap();
    let tips = tips_by_chat(&app).await;
    let chats: Vec<&str> = tips.iter().map(|(c, _)| c.as_str()).collect();
    assert!(chats.contains(&"hotels") && chats.contains(&"residents"), "{tips:?}");
    assert!(
        !chats.contains(&"gone"),
        "a group the bot was removed from gets no tip: {tips:?}"
    );
    assert!(
        tips.iter().all(|(_, p)| *p < 0),
        "tips go at the lowest priority: {tips:?}"
    );

    // The same slot again (the next minute's tick): nothing more.
    clock.set(MONDAY_8AM + HOUR + 60_000);
    scheduler::tick(&app).await.unwrap();
    assert_eq!(tips_by_chat(&app).await.len(), tips.len());

    // An alert queued after them is claimed before them.
    let mut tx = app.store.begin().await.unwrap();
    let mut alert = Outbound::new(
        Recipient::Chat {
            platform: Platform::Console,
            chat_id: "residents".into(),
        },
        "⚠️ Info — water off".into(),
    );
    alert.priority = AlertLevel::Info.priority();
    enqueue(&mut tx, &[alert], "test-alert", app.now()).await.unwrap();
    tx.commit().await.unwrap();
    let first = outbox::claim(&app.store, Platform::Console, app.now(), 1, 60_000)
        .await
        .unwrap();
    assert_eq!(first[0].text, "⚠️ Info — water off");
}

#[tokio::test]
async fn tips_skip_removed_groups_run_once_per_slot_and_queue_below_alerts_sqlite() {
    let (store, _dir) = harness::sqlite().await;
    removed_groups_and_priorities(store).await;
}

#[tokio::test]
async fn tips_skip_removed_groups_run_once_per_slot_and_queue_below_alerts_postgres() {
    let Some((store, name)) = harness::postgres().await else {
        return;
    };
    removed_groups_and_priorities(store.clone()).await;
    harness::drop_postgres(store, &name).await;
}

#[tokio::test]
async fn a_group_silent_for_months_gets_tips_weekly_at_most() {
    let (store, _dir) = harness::sqlite().await;
    let clock = Arc::new(FakeClock::new(MONDAY_8AM));
    let app = app(store, clock.clone()).await;
    // The hotels group last heard from 100 days ago; the residents group today.
    let mut tx = app.store.begin().await.unwrap();
    query("UPDATE groups SET last_active_at = $1 WHERE chat_id = 'hotels'")
        .bind(MONDAY_8AM - 100 * DAY)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for day in 0..8 {
        clock.set(MONDAY_8AM + HOUR + day * DAY);
        scheduler::tick(&app).await.unwrap();
    }
    let tips = tips_by_chat(&app).await;
    let count = |chat: &str| tips.iter().filter(|(c, _)| c == chat).count();
    assert_eq!(count("residents"), 8, "{tips:?}");
    assert_eq!(count("hotels"), 2, "the silent group: day 0 and day 7 only: {tips:?}");
    // Someone writes there: daily again from the next slot.
    app.handle(&super::delivery::say("wake", Some("hotels"), "li", "/help"))
        .await
        .unwrap();
    clock.set(MONDAY_8AM + HOUR + 8 * DAY);
    scheduler::tick(&app).await.unwrap();
    assert_eq!(
        tips_by_chat(&app).await.iter().filter(|(c, _)| c == "hotels").count(),
        3
    );
}

#[test]
fn tips_preview_and_index_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = beatbot(dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["migrate"]);
    run(&["station", "add", "xinhua", "Xinhua Road Station", "--lang", "en"]);
    run(&[
        "group",
        "link",
        "--station",
        "xinhua",
        "--kind",
        "community",
        "--telegram",
        "-1001234",
    ]);
    let preview = run(&["tips", "preview", "--station", "xinhua", "--days", "3"]);
    let lines: Vec<&str> = preview.lines().collect();
    assert_eq!(lines.len(), 3, "{preview}");
    for line in &lines {
        assert!(
            line.contains("09:00") && line.contains("group telegram:-1001234"),
            "{line}"
        );
    }
    // The suits take turns, unless a season of schedule.toml (around 20 Jan - 20 Feb, July and
    // August) puts one first.
    let month = chrono::Utc::now().format("%m").to_string();
    if !matches!(month.as_str(), "01" | "02" | "07" | "08") {
        for (line, card) in lines.iter().zip(["theft-01", "fraud-01", "accident-01"]) {
            assert!(line.contains(card), "{line}");
        }
    }
    let out = beatbot(dir.path())
        .args(["tips", "preview", "--station", "nowhere"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no station nowhere"));

    let chart = dir.path().join("index.png");
    let csv = run(&[
        "index",
        "--station",
        "xinhua",
        "--csv",
        "--png",
        chart.to_str().unwrap(),
    ]);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "period_start,index,band,load,usual,top_kind");
    assert_eq!(rows.len(), 15, "{csv}");
    assert!(rows[1..].iter().all(|r| r.contains(",100,good,0.00,0.00,")), "{csv}");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&chart).unwrap()));
    let info = decoder.read_info().unwrap();
    assert_eq!((info.info().width, info.info().height), (960, 540));
    let weekly = run(&["index", "--station", "xinhua", "--week", "--csv"]);
    assert_eq!(weekly.lines().count(), 9, "{weekly}");
    let text = run(&["index", "--station", "xinhua"]);
    assert!(
        text.contains("📊 Safety index · Xinhua Road Station") && text.contains("100 — Good"),
        "{text}"
    );
}

#[tokio::test]
async fn a_group_that_unticked_safety_tips_gets_none_and_a_moved_time_sends_no_second() {
    let (store, _dir) = harness::sqlite().await;
    let clock = Arc::new(FakeClock::new(MONDAY_8AM));
    let app = app(store, clock.clone()).await;
    let mut tx = app.store.begin().await.unwrap();
    let hotels = groups::find(&mut tx, Platform::Console, "hotels")
        .await
        .unwrap()
        .unwrap();
    beatbot::store::subscriptions::set_group_muted(&mut tx, hotels.id, "tips", true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    clock.set(MONDAY_8AM + HOUR);
    scheduler::tick(&app).await.unwrap();
    let chats: Vec<String> = tips_by_chat(&app).await.into_iter().map(|(c, _)| c).collect();
    assert_eq!(chats, ["residents"]);
    // The station's time moves to 11:00 after the 09:00 tip: nothing more that day.
    app.handle(&super::delivery::say("m1", None, "wang", "/schedule tips daily 11:00"))
        .await
        .unwrap();
    clock.set(MONDAY_8AM + 3 * HOUR);
    scheduler::tick(&app).await.unwrap();
    assert_eq!(tips_by_chat(&app).await.len(), 1);
    clock.set(MONDAY_8AM + 3 * HOUR + DAY);
    scheduler::tick(&app).await.unwrap();
    assert_eq!(tips_by_chat(&app).await.len(), 2, "the next day at 11:00");
}
