//! The outbox end to end: dedupe of re-delivered events, retries with backoff, dead letters
//! that the alerting officer sees in the summary, and a dialogue that survives a restart.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use beatbot::app::{App, Handled};
use beatbot::clock::FakeClock;
use beatbot::core::{Content, Inbound};
use beatbot::domain::{GroupKind, Platform};
use beatbot::store::outbox::Message;
use beatbot::store::{Store, outbox};
use beatbot::workers::delivery::{self, Deliverer, DeliveryError, MAX_ATTEMPTS};

use super::harness;

/// Fails the first `failures` attempts for chats in `failing`, then succeeds; records sends.
#[derive(Default)]
pub(crate) struct Flaky {
    pub(crate) failing: Vec<String>,
    pub(crate) failures: usize,
    pub(crate) attempts: AtomicUsize,
    pub(crate) sent: Mutex<Vec<(String, String)>>,
}

impl Deliverer for Flaky {
    async fn deliver(&self, m: &Message, _edit: Option<&str>) -> Result<String, DeliveryError> {
        if self.failing.contains(&m.chat_id) && self.attempts.fetch_add(1, Ordering::SeqCst) < self.failures {
            return Err(DeliveryError::Retry {
                after_ms: None,
                reason: "HTTP 502".into(),
            });
        }
        self.sent.lock().unwrap().push((m.chat_id.clone(), m.text.clone()));
        Ok(format!("p{}", m.id))
    }
}

pub(crate) async fn app(store: Store, clock: Arc<FakeClock>) -> App {
    let (scripts, faq) = harness::scripts();
    let app = App::from_parts(store, scripts, faq, clock);
    let dm = |n: &str| vec![(Platform::Console, n.to_owned(), Some(format!("dm:{n}")))];
    if harness::xinhua(&app, dm).await {
        app.link_group(Platform::Console, "hotels", GroupKind::Liaison, "xinhua")
            .await
            .unwrap();
        app.link_group(Platform::Console, "residents", GroupKind::Community, "xinhua")
            .await
            .unwrap();
    }
    app
}

pub(crate) fn say(id: &str, chat: Option<&str>, user: &str, text: &str) -> Inbound {
    beatbot::platforms::console::Console::inbound(id.into(), chat, user, Content::Text(text.into()))
}

pub(crate) async fn pending(app: &App) -> i64 {
    let mut tx = app.store.begin().await.unwrap();
    let n = outbox::pending_count(&mut tx, Platform::Console).await.unwrap();
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn a_redelivered_event_has_no_second_effect() {
    let (store, _dir) = harness::sqlite().await;
    let app = app(store, Arc::new(FakeClock::new(0))).await;
    let event = say(
        "u-1",
        Some("hotels"),
        "li",
        "/report item location=lobby description=\"black bag\"",
    );
    assert_eq!(app.handle(&event).await.unwrap(), Handled::Done);
    let after_first = pending(&app).await;
    assert_eq!(app.handle(&event).await.unwrap(), Handled::Duplicate);
    assert_eq!(pending(&app).await, after_first, "no second outbox row");
    let sink = Flaky::default();
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    let tickets = sink
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(c, t)| c == "hotels" && t.contains("Ticket #"))
        .count();
    assert_eq!(tickets, 1);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_and_then_dead_lettered_into_the_summary() {
    let (store, _dir) = harness::sqlite().await;
    let clock = Arc::new(FakeClock::new(0));
    let app = app(store, clock.clone()).await;
    confirmed_alert(&app, 1, "/alert warning Flooding on Xinhua Road").await;

    // "residents" always fails; "hotels" gets through.
    let flaky = Flaky {
        failing: vec!["residents".into()],
        failures: usize::MAX,
        ..Flaky::default()
    };
    delivery::drain(&app, Platform::Console, &flaky).await.unwrap();
    assert_eq!(
        flaky.attempts.load(Ordering::SeqCst),
        1,
        "one attempt, then wait for the backoff"
    );
    assert!(flaky.sent.lock().unwrap().iter().any(|(c, _)| c == "hotels"));
    clock.advance(500);
    delivery::drain(&app, Platform::Console, &flaky).await.unwrap();
    assert_eq!(
        flaky.attempts.load(Ordering::SeqCst),
        1,
        "not retried before the backoff"
    );
    for _ in 0..MAX_ATTEMPTS {
        clock.advance(delivery::backoff_ms(MAX_ATTEMPTS));
        delivery::drain(&app, Platform::Console, &flaky).await.unwrap();
    }
    assert_eq!(
        flaky.attempts.load(Ordering::SeqCst) as i64,
        MAX_ATTEMPTS,
        "bounded attempts"
    );
    assert_eq!(pending(&app).await, 0, "dead-lettered, not pending forever");
    let sent = flaky.sent.lock().unwrap();
    let summary = sent
        .iter()
        .find(|(c, t)| c == "dm:wang" && t.contains("Alert #1:"))
        .expect("summary to the officer");
    assert!(
        summary.1.contains("1/2") && summary.1.contains("1 failed"),
        "{}",
        summary.1
    );
}

#[tokio::test]
async fn a_transient_failure_is_retried_until_delivered() {
    let (store, _dir) = harness::sqlite().await;
    let clock = Arc::new(FakeClock::new(0));
    let app = app(store, clock.clone()).await;
    app.handle(&say("t1", Some("residents"), "zhang", "/tip"))
        .await
        .unwrap();
    let flaky = Flaky {
        failing: vec!["residents".into()],
        failures: 2,
        ..Flaky::default()
    };
    for _ in 0..3 {
        delivery::drain(&app, Platform::Console, &flaky).await.unwrap();
        clock.advance(60_000);
    }
    assert_eq!(flaky.attempts.load(Ordering::SeqCst), 3);
    assert_eq!(flaky.sent.lock().unwrap().len(), 1, "delivered exactly once");
}

#[tokio::test]
async fn a_half_filled_report_survives_a_restart() {
    let (store, dir) = harness::sqlite().await;
    let clock = Arc::new(FakeClock::new(1_795_395_600_000));
    let first = app(store, clock.clone()).await;
    first
        .handle(&say("d1", Some("hotels"), "li", "/report noid room=305"))
        .await
        .unwrap();
    first.store.close().await;
    drop(first);

    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let second = app(Store::open(&url).await.unwrap(), clock).await;
    second.handle(&say("d2", None, "li", "Zhao Liu")).await.unwrap();
    let sink = Flaky::default();
    delivery::drain(&second, Platform::Console, &sink).await.unwrap();
    let sent = sink.sent.lock().unwrap();
    assert!(
        sent.iter().any(|(c, t)| c == "hotels" && t.contains("Ticket #1")),
        "{sent:?}"
    );
    assert!(
        sent.iter().any(|(c, t)| c == "dm:wang" && t.contains("Zhao Liu")),
        "{sent:?}"
    );
}

/// Counts deliveries per outbox row.
#[derive(Default)]
struct Counting {
    per_row: Mutex<std::collections::HashMap<i64, usize>>,
}

impl Deliverer for Counting {
    async fn deliver(&self, m: &Message, _edit: Option<&str>) -> Result<String, DeliveryError> {
        tokio::task::yield_now().await;
        *self.per_row.lock().unwrap().entry(m.id).or_default() += 1;
        Ok(m.id.to_string())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_workers_on_postgres_deliver_every_message_exactly_once() {
    let Some((store, name)) = harness::postgres().await else {
        return;
    };
    let clock = Arc::new(FakeClock::new(0));
    let app = app(store.clone(), clock).await;
    // An alert to 300 linked groups gives 300 rows to share out.
    for i in 0..298 {
        app.link_group(Platform::Console, &format!("g{i}"), GroupKind::Community, "xinhua")
            .await
            .unwrap();
    }
    app.handle(&say("p1", None, "wang", "/alert urgent Road closed"))
        .await
        .unwrap();
    let confirm = Content::Press {
        data: "alert:send:1".into(),
        message: None,
    };
    app.handle(&beatbot::platforms::console::Console::inbound(
        "p2".into(),
        None,
        "wang",
        confirm,
    ))
    .await
    .unwrap();

    let counting = Arc::new(Counting::default());
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (app, counting) = (app.clone(), counting.clone());
            tokio::spawn(async move {
                delivery::drain(&app, Platform::Console, counting.as_ref())
                    .await
                    .unwrap()
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let per_row = counting.per_row.lock().unwrap().clone();
    assert!(
        per_row.len() >= 302,
        "preview, 300 groups, summary: {} rows",
        per_row.len()
    );
    assert!(
        per_row.values().all(|&n| n == 1),
        "a row was delivered twice: {per_row:?}"
    );
    assert_eq!(pending(&app).await, 0);
    harness::drop_postgres(store, &name).await;
}

/// What each handled event left: every message queued, by chat, in order of queueing.
async fn queued(app: &App) -> Vec<(String, String)> {
    let sink = Flaky::default();
    delivery::drain(app, Platform::Console, &sink).await.unwrap();
    let mut sent = sink.sent.lock().unwrap().clone();
    sent.sort();
    sent
}

#[tokio::test]
async fn a_batch_handled_in_one_transaction_does_what_one_at_a_time_does() {
    let events = [
        say(
            "b1",
            Some("hotels"),
            "li",
            "/report item location=lobby description=\"black bag\"",
        ),
        say("b2", None, "wang", "/ack 99999"),
        say(
            "b1",
            Some("hotels"),
            "li",
            "/report item location=lobby description=\"black bag\"",
        ),
        say("b3", None, "resident7", "How do I replace a lost ID card?"),
        say(
            "b4",
            Some("hotels"),
            "li",
            "/report item location=garage description=\"grey case\"",
        ),
    ];
    let (one_store, _one_dir) = harness::sqlite().await;
    let one = app(one_store, Arc::new(FakeClock::new(0))).await;
    let mut one_by_one = Vec::new();
    for event in &events {
        one_by_one.push(one.handle(event).await.unwrap());
    }
    let (batch_store, _batch_dir) = harness::sqlite().await;
    let batch = app(batch_store, Arc::new(FakeClock::new(0))).await;
    let together = batch.handle_batch(&events).await.unwrap().expect("no update failed");
    assert_eq!(together, one_by_one);
    assert_eq!(
        together,
        [
            Handled::Done,
            Handled::Done,
            Handled::Duplicate,
            Handled::Done,
            Handled::Done
        ]
    );
    // The refusal (no ticket 99999) is undone alone; the reports on either side of it stand.
    let sent = queued(&batch).await;
    assert_eq!(sent, queued(&one).await);
    assert!(sent.iter().any(|(_, t)| t.contains("99999")), "{sent:?}");
    assert_eq!(
        sent.iter()
            .filter(|(c, t)| c == "hotels" && t.contains("Ticket #"))
            .count(),
        2,
        "{sent:?}"
    );
    // Handled again, the whole batch is duplicates and changes nothing.
    assert_eq!(
        batch.handle_batch(&events).await.unwrap().unwrap(),
        [Handled::Duplicate; 5]
    );
    assert!(queued(&batch).await.is_empty());
}

/// Runs `command` (as officer wang) while the first alert copy is on its way to "residents":
/// the race of an officer's correction with a send already in flight.
struct Interrupting {
    app: App,
    command: Mutex<Option<Inbound>>,
    /// (chat, text, the platform id it edits, if an edit).
    seen: Mutex<Vec<(String, String, Option<String>)>>,
}

impl Deliverer for Interrupting {
    async fn deliver(&self, m: &Message, edit: Option<&str>) -> Result<String, DeliveryError> {
        let command = (m.chat_id == "residents" && m.alert_id.is_some())
            .then(|| self.command.lock().unwrap().take())
            .flatten();
        if let Some(command) = command {
            self.app.handle(&command).await.unwrap();
        }
        self.seen
            .lock()
            .unwrap()
            .push((m.chat_id.clone(), m.text.clone(), edit.map(str::to_owned)));
        Ok(edit.map_or_else(|| format!("p{}", m.id), str::to_owned))
    }
}

/// Alert #`n` (`command`) confirmed by wang, its copies queued for every linked group.
pub(crate) async fn confirmed_alert(app: &App, n: i64, command: &str) {
    app.handle(&say(&format!("alert{n}"), None, "wang", command))
        .await
        .unwrap();
    // The confirmation message must be delivered before its button can be pressed.
    delivery::drain(app, Platform::Console, &Flaky::default())
        .await
        .unwrap();
    let confirm = Content::Press {
        data: format!("alert:send:{n}"),
        message: None,
    };
    app.handle(&beatbot::platforms::console::Console::inbound(
        format!("alert{n}-confirm"),
        None,
        "wang",
        confirm,
    ))
    .await
    .unwrap();
}

/// What each group shows in the end: the text of its alert copy after the last edit of it.
async fn shown_after_race(command: &str) -> Vec<(String, String)> {
    let (store, _dir) = harness::sqlite().await;
    let app = app(store, Arc::new(FakeClock::new(0))).await;
    confirmed_alert(&app, 1, "/alert warning Flooding on Xinhua Road").await;
    let racer = Interrupting {
        app: app.clone(),
        command: Mutex::new(Some(say("r3", None, "wang", command))),
        seen: Mutex::default(),
    };
    delivery::drain(&app, Platform::Console, &racer).await.unwrap();
    assert!(racer.command.lock().unwrap().is_none(), "the command ran mid-send");
    let seen = racer.seen.lock().unwrap().clone();
    ["hotels", "residents"]
        .into_iter()
        .map(|chat| {
            let last = seen
                .iter()
                .rfind(|(c, t, _)| c == chat && (t.contains("Flooding") || t.contains("Water")))
                .unwrap_or_else(|| panic!("nothing of the alert in {chat}: {seen:?}"));
            (chat.to_owned(), last.1.clone())
        })
        .collect()
}

#[tokio::test]
async fn a_copy_in_flight_when_the_alert_is_cancelled_is_edited_to_say_so() {
    for (chat, text) in shown_after_race("/alert cancel 1").await {
        assert!(text.contains('❌'), "{chat} still shows the alert as live: {text}");
    }
}

#[tokio::test]
async fn a_copy_in_flight_when_the_alert_is_corrected_is_edited_to_the_correction() {
    for (chat, text) in shown_after_race("/alert update 1 Water on Xinhua Road has gone down").await {
        assert!(text.contains("gone down"), "{chat} still shows the old text: {text}");
    }
}

/// Holds the alert's send to chat "g0" for `hold` (a request that hangs before Telegram's 5xx);
/// records the order in which chats got their messages.
struct OneHangs {
    hold: std::time::Duration,
    order: Arc<Mutex<Vec<String>>>,
}

impl Deliverer for OneHangs {
    async fn deliver(&self, m: &Message, _edit: Option<&str>) -> Result<String, DeliveryError> {
        if m.chat_id == "g0" && m.alert_id.is_some() {
            tokio::time::sleep(self.hold).await;
        }
        self.order.lock().unwrap().push(m.chat_id.clone());
        Ok(format!("p{}", m.id))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_hangs_does_not_hold_up_the_other_chats() {
    let (store, _dir) = harness::sqlite().await;
    let app = app(store, Arc::new(FakeClock::new(0))).await;
    for g in 0..30 {
        app.link_group(Platform::Console, &format!("g{g}"), GroupKind::Community, "xinhua")
            .await
            .unwrap();
    }
    confirmed_alert(&app, 1, "/alert warning Flooding on Xinhua Road").await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let hangs = OneHangs {
        hold: delivery::STRAGGLER_WAIT * 4,
        order: order.clone(),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(delivery::run(app.clone(), Platform::Console, hangs, stopped));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !order.lock().unwrap().iter().any(|c| c == "g0") {
        assert!(std::time::Instant::now() < deadline, "g0 never got the alert");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let order = order.lock().unwrap().clone();
    let hung = order.iter().position(|c| c == "g0").unwrap();
    for g in 1..30 {
        let chat = format!("g{g}");
        let at = order.iter().position(|c| *c == chat);
        assert!(
            at.is_some_and(|at| at < hung),
            "{chat} waited for g0's hanging send: {order:?}"
        );
    }
    stop.send(true).unwrap();
    worker.await.unwrap().unwrap();
    for g in 0..30 {
        let chat = format!("g{g}");
        assert_eq!(order.iter().filter(|c| **c == chat).count(), 1, "{chat} once");
    }
}
