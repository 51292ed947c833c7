//! Dead letters as a station sees them: a group that removed the bot does not hold up the
//! rest of an alert, the officer's summary says what failed and why, and
//! `beatbot outbox dead-letters` (the real binary) lists them and retries or drops them — on
//! SQLite through the command line, on PostgreSQL through the same store functions.

use std::path::Path;
use std::sync::{Arc, Mutex};

use beatbot::app::App;
use beatbot::clock::FakeClock;
use beatbot::domain::{GroupKind, Platform};
use beatbot::store::Store;
use beatbot::store::dead_letters::{self, Which};
use beatbot::store::outbox::Message;
use beatbot::workers::delivery::{self, Deliverer, DeliveryError};

use super::delivery::{Flaky, app, confirmed_alert, pending};
use super::{cli, harness};

const KICKED: &str = "Forbidden: bot was kicked from the group chat";

/// Refuses every message to "residents" for good (the bot was kicked); delivers the rest.
#[derive(Default)]
struct KickedFromResidents {
    sent: Mutex<Vec<(String, String)>>,
}

impl Deliverer for KickedFromResidents {
    async fn deliver(&self, m: &Message, _edit: Option<&str>) -> Result<String, DeliveryError> {
        if m.chat_id == "residents" {
            return Err(DeliveryError::Gone(KICKED.into()));
        }
        self.sent.lock().unwrap().push((m.chat_id.clone(), m.text.clone()));
        Ok(format!("p{}", m.id))
    }
}

/// Alert #`n` sent while the bot is kicked from "residents" (linked again first, as after
/// the bot was added back: a refusal marks the group inactive): what was delivered.
async fn alert_while_kicked(app: &App, n: i64) -> Vec<(String, String)> {
    app.link_group(Platform::Console, "residents", GroupKind::Community, "xinhua")
        .await
        .unwrap();
    confirmed_alert(app, n, "/alert warning Flooding on Xinhua Road").await;
    let sink = KickedFromResidents::default();
    delivery::drain(app, Platform::Console, &sink).await.unwrap();
    sink.sent.into_inner().unwrap()
}

fn summary_of(sent: &[(String, String)], n: i64) -> String {
    sent.iter()
        .find(|(chat, text)| chat == "dm:wang" && text.contains(&format!("#{n}")) && text.contains("failed"))
        .map(|(_, text)| text.clone())
        .unwrap_or_else(|| panic!("no summary of alert #{n} to wang: {sent:?}"))
}

async fn dead_letter_ids(store: &Store, station: Option<&str>) -> Vec<i64> {
    let mut tx = store.begin().await.unwrap();
    let letters = dead_letters::list(&mut tx, station, 100).await.unwrap();
    tx.commit().await.unwrap();
    letters.iter().map(|l| l.id).collect()
}

fn run(dir: &Path, db: &str, args: &[&str]) -> (bool, String) {
    let out = cli::beatbot(dir)
        .env("BEATBOT_DATABASE__URL", db)
        .env("BEATBOT_LOG", "warn")
        .args(["outbox", "dead-letters"])
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn a_kicked_group_is_a_dead_letter_the_summary_explains_and_the_command_line_retries_or_drops() {
    let (store, dir) = harness::sqlite().await;
    let db = format!("sqlite://{}", dir.path().join("test.db").display());
    // The command line queues a retry at its own (real) time.
    let clock = Arc::new(FakeClock::new(chrono::Utc::now().timestamp_millis()));
    let app = app(store.clone(), clock.clone()).await;

    let sent = alert_while_kicked(&app, 1).await;
    assert!(
        sent.iter()
            .any(|(chat, text)| chat == "hotels" && text.contains("Flooding")),
        "the other group got the alert: {sent:?}"
    );
    let summary = summary_of(&sent, 1);
    assert!(summary.contains("1/2") && summary.contains("1 failed"), "{summary}");
    assert!(
        summary.contains("removed from the chat or blocked"),
        "says why: {summary}"
    );
    assert!(
        summary.contains("beatbot outbox dead-letters"),
        "says where to look: {summary}"
    );
    assert_eq!(pending(&app).await, 0, "nothing left waiting behind the dead letter");

    let (ok, listed) = run(dir.path(), &db, &[]);
    assert!(ok, "{listed}");
    let id = dead_letter_ids(&store, None).await[0];
    let line = listed
        .lines()
        .find(|l| l.starts_with(&format!("#{id} ")))
        .unwrap_or_else(|| panic!("dead letter #{id} not listed: {listed}"));
    for part in ["chat residents", "station xinhua", "alert #1", "gone", KICKED] {
        assert!(line.contains(part), "{part:?} missing from {line}");
    }
    assert!(listed.contains("1 dead letter(s)"), "{listed}");
    let (ok, other) = run(dir.path(), &db, &["--station", "nowhere"]);
    assert!(!ok && other.contains("no station `nowhere`"), "{other}");

    // The bot is back in the group: the admin queues the letter again and it goes out.
    let (ok, out) = run(dir.path(), &db, &["retry", &id.to_string()]);
    assert!(ok && out.contains("1 dead letter(s) queued again"), "{out}");
    assert_eq!(pending(&app).await, 1);
    clock.advance(60_000);
    let back = Flaky::default();
    delivery::drain(&app, Platform::Console, &back).await.unwrap();
    assert!(
        back.sent
            .lock()
            .unwrap()
            .iter()
            .any(|(c, t)| c == "residents" && t.contains("Flooding")),
        "the retried copy was delivered"
    );
    assert_eq!(run(dir.path(), &db, &[]).1.trim(), "no dead letters");

    // Kicked again for good: the admin drops it; asking for numbers that are not dead
    // letters fails and changes nothing.
    alert_while_kicked(&app, 2).await;
    let (ok, out) = run(dir.path(), &db, &["retry", "999999"]);
    assert!(!ok && out.contains("0 dead letter(s) queued again"), "{out}");
    assert_eq!(pending(&app).await, 0);
    let (ok, out) = run(dir.path(), &db, &["drop", "--all", "--station", "xinhua"]);
    assert!(ok && out.contains("1 dead letter(s) dropped"), "{out}");
    assert!(dead_letter_ids(&store, None).await.is_empty());
    let (ok, out) = run(dir.path(), &db, &["drop"]);
    assert!(!ok, "drop needs numbers or --all: {out}");
}

#[tokio::test]
async fn dead_letters_are_listed_retried_and_dropped_on_postgres() {
    let Some((store, name)) = harness::postgres().await else {
        return;
    };
    let app = app(store.clone(), Arc::new(FakeClock::new(0))).await;
    let sent = alert_while_kicked(&app, 1).await;
    assert!(summary_of(&sent, 1).contains("removed from the chat or blocked"));
    assert_eq!(dead_letter_ids(&store, Some("xinhua")).await.len(), 1);
    assert!(dead_letter_ids(&store, Some("elsewhere")).await.is_empty());

    let mut tx = store.begin().await.unwrap();
    let failures = dead_letters::alert_failures(&mut tx, 1).await.unwrap();
    assert_eq!(failures, vec![("gone".to_owned(), KICKED.to_owned(), 1)]);
    let all = Which::All {
        station: Some("xinhua"),
    };
    assert_eq!(dead_letters::retry(&mut tx, &all, 0).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert_eq!(pending(&app).await, 1);
    delivery::drain(&app, Platform::Console, &Flaky::default())
        .await
        .unwrap();

    alert_while_kicked(&app, 2).await;
    let ids = dead_letter_ids(&store, None).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(dead_letters::drop(&mut tx, &Which::Ids(&[999_999])).await.unwrap(), 0);
    assert_eq!(dead_letters::drop(&mut tx, &Which::Ids(&ids)).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert!(dead_letter_ids(&store, None).await.is_empty());
    harness::drop_postgres(store, &name).await;
}
