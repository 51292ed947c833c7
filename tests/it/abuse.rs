//! Abuse: a person sending 100 messages a second, a group flooding the bot, a 10 MB text (in
//! a message, and as a webhook request to the real binary), a forged button for another
//! station's ticket, an enrolment code guessed 10,000 times. Each refusal changes nothing and
//! leaks nothing. (A replayed webhook update and a webhook request without or with a wrong
//! secret: `telegram::the_webhook_needs_the_secret_and_handles_a_resent_update_once`.)

use std::sync::Arc;
use std::time::Duration;

use beatbot::app::App;
use beatbot::clock::{Clock, FakeClock};
use beatbot::core::Content;
use beatbot::domain::{Lang, Platform, Role};
use beatbot::platforms::console::Console;
use beatbot::store::{Store, query};
use beatbot::workers::delivery;
use serde_json::json;

use super::delivery::{Flaky, app, say};
use super::harness;
use crate::support::fake_telegram::FakeTelegram;
use crate::support::replica_process::{healthy, post, start_replica, wait_for};

/// What the bot sent since the last call, as (chat, text).
async fn sent(app: &App) -> Vec<(String, String)> {
    let sink = Flaky::default();
    delivery::drain(app, Platform::Console, &sink).await.unwrap();
    sink.sent.into_inner().unwrap()
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    let mut tx = store.begin_read().await.unwrap();
    let n = query(sql).fetch_one(&mut tx).await.unwrap().get("n").unwrap();
    tx.commit().await.unwrap();
    n
}

/// Whether `text` is the template `key` (without arguments) in either language.
fn is(app: &App, text: &str, key: &str) -> bool {
    [Lang::Zh, Lang::En]
        .into_iter()
        .any(|lang| text == app.scripts.templates.render(lang, key, &[]))
}

#[tokio::test]
async fn a_person_sending_100_messages_a_second_is_told_once_and_ignored_until_the_window_passes() {
    let (store, _dir) = harness::sqlite().await;
    let clock = Arc::new(FakeClock::new(1_764_000_000_000));
    let app = app(store, clock.clone()).await;
    sent(&app).await;
    let question = "How do I renew my ID card?";
    app.handle(&say("f0", None, "zhang", question)).await.unwrap();
    let per_answer = sent(&app).await.len();
    assert!(per_answer >= 1);
    for i in 1..100 {
        clock.advance(10);
        app.handle(&say(&format!("f{i}"), None, "zhang", question))
            .await
            .unwrap();
    }
    let out = sent(&app).await;
    let slow = out.iter().filter(|(_, t)| is(&app, t, "common.slow_down")).count();
    assert_eq!(slow, 1, "told once: {out:?}");
    let limit = app.scripts.settings.flood_per_person as usize;
    assert_eq!(
        out.len(),
        (limit - 1) * per_answer + 1,
        "the first {limit} answered, then one warning, the rest ignored"
    );
    // Ten seconds on, zhang is heard again.
    clock.advance(10_000);
    app.handle(&say("f-after", None, "zhang", "How do I renew my ID card?"))
        .await
        .unwrap();
    let out = sent(&app).await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(!is(&app, &out[0].1, "common.slow_down"));
}

#[tokio::test]
async fn a_group_flooding_the_bot_is_told_once_and_other_chats_are_not_affected() {
    let (store, _dir) = harness::sqlite().await;
    let clock = Arc::new(FakeClock::new(1_764_000_000_000));
    let app = app(store, clock.clone()).await;
    sent(&app).await;
    // 100 residents at once in one group, each once (the per-person limit is not reached).
    for i in 0..100 {
        app.handle(&say(
            &format!("g{i}"),
            Some("residents"),
            &format!("r{i}"),
            "/ask What are the station's opening hours?",
        ))
        .await
        .unwrap();
        clock.advance(5);
    }
    // Meanwhile a front desk files a report in its own group.
    app.handle(&say(
        "desk",
        Some("hotels"),
        "li",
        "/report item location=lobby description=\"black bag\"",
    ))
    .await
    .unwrap();
    let out = sent(&app).await;
    let in_residents: Vec<_> = out.iter().filter(|(c, _)| c == "residents").collect();
    let slow = in_residents
        .iter()
        .filter(|(_, t)| is(&app, t, "common.slow_down"))
        .count();
    assert_eq!(slow, 1, "{in_residents:?}");
    assert!(
        in_residents.len() <= app.scripts.settings.flood_per_group as usize + 1,
        "{} messages in the flooded group",
        in_residents.len()
    );
    assert!(
        out.iter().any(|(c, t)| c == "hotels" && t.contains("Ticket #")),
        "the report in another group went through: {out:?}"
    );
}

#[tokio::test]
async fn a_ten_megabyte_text_is_refused_in_the_senders_language_and_changes_nothing() {
    let (store, _dir) = harness::sqlite().await;
    let app = app(store.clone(), Arc::new(FakeClock::new(1_764_000_000_000))).await;
    sent(&app).await;
    let huge = format!(
        "/report item location=lobby description=\"{}\"",
        "袋".repeat(10_000_000 / 3)
    );
    app.handle(&say("huge", Some("hotels"), "li", &huge)).await.unwrap();
    let out = sent(&app).await;
    assert_eq!(
        out.len(),
        1,
        "one refusal: {:?}",
        out.iter().map(|(c, t)| (c, t.len())).collect::<Vec<_>>()
    );
    assert!(out[0].1.contains("too long"), "{}", out[0].1);
    assert!(out[0].1.len() < 200, "the refusal does not echo the text");
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM tickets").await, 0);
}

#[tokio::test]
async fn a_ten_megabyte_webhook_request_is_refused_and_the_bot_keeps_serving() {
    let (store, dir) = harness::sqlite().await;
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let fake = FakeTelegram::start(1.0).await;
    let bot = start_replica(dir.path(), "bot", &url, &fake, 1.0);
    wait_for("the bot to serve", Duration::from_secs(60), async || {
        healthy(bot.web).await
    })
    .await;
    let message = fake.message_json(601, 601, "li", json!({ "text": "x".repeat(10_000_000) }));
    let status = post(bot.web, &json!({ "update_id": 1, "message": message })).await;
    assert!(
        matches!(status, Some(413) | None),
        "a 10 MB body is refused (413, or the connection closed mid-upload): {status:?}"
    );
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM inbound_events").await, 0);
    let message = fake.message_json(601, 601, "li", json!({ "text": "/help" }));
    assert_eq!(
        post(bot.web, &json!({ "update_id": 2, "message": message })).await,
        Some(200)
    );
    assert!(healthy(bot.web).await);
}

#[tokio::test]
async fn a_forged_button_for_another_stations_ticket_is_refused_and_leaks_nothing() {
    let (store, _dir) = harness::sqlite().await;
    let app = app(store.clone(), Arc::new(FakeClock::new(1_764_000_000_000))).await;
    app.add_station("dongcheng", "Dongcheng Station", None).await.unwrap();
    let dm = vec![(Platform::Console, "chen".to_owned(), Some("dm:chen".to_owned()))];
    app.add_person("chen", Role::Officer, Some("dongcheng"), None, None, false, None, &dm)
        .await
        .unwrap();
    app.handle(&say(
        "r",
        Some("hotels"),
        "li",
        "/report item location=lobby description=\"black bag near room 1208\"",
    ))
    .await
    .unwrap();
    sent(&app).await;
    for data in [
        "ack:1",
        "rate:1:5",
        "faq:add:1",
        "alert:send:1",
        "d:1:done",
        "ack:01",
        "ack:1:extra",
    ] {
        let press = Content::Press {
            data: data.into(),
            message: None,
        };
        app.handle(&Console::inbound(format!("forged-{data}"), None, "chen", press))
            .await
            .unwrap();
    }
    let out = sent(&app).await;
    for (chat, text) in &out {
        assert_eq!(chat, "dm:chen", "only chen hears back: {out:?}");
        assert!(!text.contains("1208") && !text.contains("black bag"), "leaked: {text}");
    }
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) AS n FROM tickets WHERE acked_at IS NULL AND rating IS NULL"
        )
        .await,
        1,
        "the ticket is untouched"
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) AS n FROM ticket_events WHERE action <> 'created'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn an_enrolment_code_guessed_ten_thousand_times_is_locked_out_after_five() {
    let (store, _dir) = harness::sqlite().await;
    let clock = Arc::new(FakeClock::new(1_764_000_000_000 / 3_600_000 * 3_600_000));
    let app = app(store.clone(), clock.clone()).await;
    app.handle(&say("inv", None, "wang", "/invite \"Hanting Hotel\""))
        .await
        .unwrap();
    let code = sent(&app)
        .await
        .iter()
        .find_map(|(_, t)| {
            t.split(|c: char| !c.is_ascii_alphanumeric())
                .find(|w| w.len() == 8 && w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
                .map(str::to_owned)
        })
        .expect("an invitation code");
    // One guess every 600 ms (under the flood limit, so only the lockout stops them): 10,000
    // guesses take 100 minutes, two clock hours of five wrong codes each.
    let mut answers = Vec::new();
    for i in 0..10_000 {
        let guess = format!("{:08}", 22_222_222 + i).replace(['0', '1'], "2");
        app.handle(&say(&format!("guess{i}"), None, "mallory", &format!("/join {guess}")))
            .await
            .unwrap();
        clock.advance(600);
        if i % 500 == 499 {
            answers.extend(sent(&app).await.into_iter().map(|(_, t)| t));
        }
    }
    answers.extend(sent(&app).await.into_iter().map(|(_, t)| t));
    assert_eq!(answers.len(), 10_000);
    let wrong = answers.iter().filter(|t| is(&app, t, "join.unknown")).count();
    let locked = answers.iter().filter(|t| is(&app, t, "join.locked")).count();
    assert_eq!(
        (wrong, locked),
        (8, 9_992),
        "four said wrong, the fifth and the rest locked, per hour"
    );
    assert!(answers[..4].iter().all(|t| is(&app, t, "join.unknown")) && is(&app, &answers[4], "join.locked"));
    assert_eq!(
        count(&store, "SELECT COUNT(*) AS n FROM people WHERE role = 'liaison'").await,
        1,
        "no new front desk: only li"
    );
    // Even the right code waits until the hour is over.
    app.handle(&say("right", None, "mallory", &format!("/join {code}")))
        .await
        .unwrap();
    assert!(is(&app, &sent(&app).await[0].1, "join.locked"));
    clock.advance(3_600_000 - clock.now_ms() % 3_600_000);
    app.handle(&say("right-later", None, "mallory", &format!("/join {code}")))
        .await
        .unwrap();
    let welcome = sent(&app).await;
    assert!(
        welcome
            .iter()
            .any(|(c, t)| c == "dm:mallory" && t.contains("Hanting Hotel")),
        "the code works once the hour is over: {welcome:?}"
    );
}
