//! CAP in and out. Official warnings are read from a feed served over HTTP by a local server
//! (the test files of `tests/data/cap`, written from the CAP 1.2 specification's structure):
//! an Alert goes out to the station it reaches, its Update edits the copies, its Cancel
//! withdraws them; an Exercise, an expired message, a warning for another city and a broken
//! file change nothing; a Moderate one waits for the officer's press; the feed is asked with
//! its ETag and each message is handled once, across restarts too. The station's own alerts
//! come out as CAP that an independent reader (the `oasiscap` crate) reads back field for field.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use beatbot::app::App;
use beatbot::cap::Severity;
use beatbot::cap::area::StationArea;
use beatbot::clock::FakeClock;
use beatbot::domain::{AlertAudience, Platform};
use beatbot::feeds::{Feed, SendMode};
use beatbot::store::cap::FeedState;
use beatbot::store::query;
use beatbot::workers::{delivery, feeds, scheduler};

use super::delivery::{Flaky, app, confirmed_alert, say};
use super::harness;

/// 2026-12-05 09:00 in Beijing: after the test files were sent, long before they expire.
const NOW: i64 = 1_764_896_400_000;

/// A feed server: files by name, an ETag per content, and what it was asked.
#[derive(Clone, Default)]
struct FeedServer {
    files: Arc<Mutex<HashMap<String, (u16, String)>>>,
    requests: Arc<Mutex<Vec<(String, bool)>>>,
}

impl FeedServer {
    async fn start() -> (FeedServer, String) {
        let server = FeedServer::default();
        let router = Router::new()
            .route("/{file}", axum::routing::get(serve))
            .with_state(server.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (server, url)
    }
    fn put(&self, name: &str, status: u16, body: String) {
        self.files.lock().unwrap().insert(name.to_owned(), (status, body));
    }
    /// An Atom feed linking to `entries` (test files), served as `feed.atom`.
    fn feed(&self, entries: &[&str]) {
        for name in entries {
            self.put(name, 200, cap_file(name));
        }
        let items: String = entries
            .iter()
            .map(|n| format!("<entry><id>{n}</id><title>{n}</title><link rel=\"alternate\" type=\"application/cap+xml\" href=\"{n}\"/></entry>"))
            .collect();
        self.put(
            "feed.atom",
            200,
            format!("<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>warnings</title>{items}</feed>"),
        );
    }
    fn asked(&self, name: &str) -> Vec<bool> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, conditional)| *conditional)
            .collect()
    }
}

async fn serve(State(server): State<FeedServer>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let conditional = headers.contains_key(header::IF_NONE_MATCH);
    server.requests.lock().unwrap().push((file.clone(), conditional));
    let Some((status, body)) = server.files.lock().unwrap().get(&file).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!(
        "\"{:x}\"",
        body.len() * 31 + body.bytes().map(usize::from).sum::<usize>()
    );
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (StatusCode::from_u16(status).unwrap(), [(header::ETAG, etag)], body).into_response()
}

fn cap_file(name: &str) -> String {
    std::fs::read_to_string(harness::root().join("tests/data/cap").join(name)).unwrap()
}

/// A feed serving station xinhua, which lies in Chaoyang (inside the flood polygon).
fn feed(url: &str, file: &str) -> Feed {
    Feed {
        name: "bj-weather".into(),
        url: url::Url::parse(&format!("{url}/{file}")).unwrap(),
        interval: std::time::Duration::from_secs(300),
        categories: Vec::new(),
        min_severity: Severity::Minor,
        send: SendMode::Auto,
        audience: AlertAudience::All,
        stations: vec![(
            "xinhua".into(),
            StationArea {
                point: Some((39.92, 116.46)),
                ..StationArea::default()
            },
        )],
    }
}

async fn state(app: &App, feed: &str) -> FeedState {
    let mut tx = app.store.begin().await.unwrap();
    let s = beatbot::store::cap::feed_state(&mut tx, feed).await.unwrap();
    tx.commit().await.unwrap();
    s
}

async fn poll(app: &App, f: &Feed, seen: &mut std::collections::HashSet<String>) {
    let client = reqwest::Client::new();
    let s = state(app, &f.name).await;
    feeds::poll(app, &client, f, s, seen).await;
}

async fn alerts_from(app: &App, source: &str) -> Vec<(i64, String)> {
    let mut tx = app.store.begin().await.unwrap();
    let rows = query("SELECT id, status FROM alerts WHERE source = $1 ORDER BY id")
        .bind(source)
        .fetch_all(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows.iter()
        .map(|r| (r.get("id").unwrap(), r.get("status").unwrap()))
        .collect()
}

/// Officer wang presses a button carrying `data`.
async fn press(app: &App, id: &str, data: String) {
    let press = beatbot::core::Content::Press { data, message: None };
    app.handle(&beatbot::platforms::console::Console::inbound(
        id.into(),
        None,
        "wang",
        press,
    ))
    .await
    .unwrap();
}

fn group_texts(sink: &Flaky) -> Vec<(String, String)> {
    sink.sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(chat, _)| chat == "hotels" || chat == "residents")
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_official_warning_goes_out_is_updated_and_cancelled_and_nothing_else_does() {
    let (store, _dir) = harness::sqlite().await;
    official_warning_flow(store).await;
}

#[tokio::test]
async fn the_same_on_postgresql() {
    let Some((store, name)) = harness::postgres().await else {
        return;
    };
    official_warning_flow(store.clone()).await;
    harness::drop_postgres(store, &name).await;
}

async fn official_warning_flow(store: beatbot::store::Store) {
    let app = app(store.clone(), Arc::new(FakeClock::new(NOW))).await;
    let (server, url) = FeedServer::start().await;
    server.feed(&[
        "flood-alert.xml",
        "exercise.xml",
        "expired.xml",
        "elsewhere.xml",
        "malformed.xml",
    ]);
    let f = feed(&url, "feed.atom");
    let mut seen = Default::default();
    poll(&app, &f, &mut seen).await;
    assert_eq!(
        state(&app, "bj-weather").await.failures,
        0,
        "one broken file does not fail the feed"
    );

    // The Severe flood warning went out at once, in the station's language (English).
    let made = alerts_from(&app, "bj-weather").await;
    assert_eq!(made.len(), 1, "only the flood warning became an alert: {made:?}");
    let sink = Flaky::default();
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    let copies = group_texts(&sink);
    assert_eq!(copies.len(), 2, "{copies:?}");
    for (_, text) in &copies {
        assert!(
            text.contains("Orange rainstorm warning") && text.contains("underpasses"),
            "{text}"
        );
        assert!(!text.contains("暴雨"), "the English block: {text}");
    }
    let told = sink
        .sent
        .lock()
        .unwrap()
        .iter()
        .any(|(chat, t)| chat == "dm:wang" && t.contains("bj-weather"));
    assert!(told, "the officer is told it went out: {:?}", sink.sent.lock().unwrap());

    // Nothing changed: the feed answers 304 to its ETag, nothing is sent again.
    poll(&app, &f, &mut seen).await;
    assert_eq!(server.asked("feed.atom"), vec![false, true]);
    assert_eq!(delivery::drain(&app, Platform::Console, &sink).await.unwrap(), 0);

    // The Update edits both copies in place.
    server.feed(&["flood-alert.xml", "flood-update.xml"]);
    poll(&app, &f, &mut seen).await;
    let before = sink.sent.lock().unwrap().len();
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    let edits: Vec<(String, String)> = sink.sent.lock().unwrap()[before..].to_vec();
    assert_eq!(edits.len(), 2, "{edits:?}");
    assert!(
        edits
            .iter()
            .all(|(_, t)| t.contains("Red rainstorm warning") && t.contains("80 mm")),
        "{edits:?}"
    );
    assert_eq!(
        alerts_from(&app, "bj-weather").await.len(),
        1,
        "an update is not a new alert"
    );

    // The Cancel withdraws them.
    server.feed(&["flood-alert.xml", "flood-update.xml", "flood-cancel.xml"]);
    poll(&app, &f, &mut seen).await;
    let before = sink.sent.lock().unwrap().len();
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    let edits: Vec<(String, String)> = sink.sent.lock().unwrap()[before..].to_vec();
    assert_eq!(edits.len(), 2, "{edits:?}");
    assert!(edits.iter().all(|(_, t)| t.contains("CANCELLED")), "{edits:?}");
    assert_eq!(alerts_from(&app, "bj-weather").await[0].1, "withdrawn");

    // After a restart (nothing remembered in memory), the same feed changes nothing.
    let restarted = App::from_parts(
        app.store.clone(),
        app.scripts.clone(),
        app.faq.clone(),
        Arc::new(FakeClock::new(NOW + 60_000)),
    );
    let mut fresh = Default::default();
    let again = feed(&url, "feed.atom");
    // Its ETag forgotten too, so the feed is read in full again.
    let mut tx = app.store.begin().await.unwrap();
    beatbot::store::cap::set_feed_state(&mut tx, "bj-weather", &FeedState::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let asked = server.asked("feed.atom").len();
    poll(&restarted, &again, &mut fresh).await;
    assert_eq!(server.asked("feed.atom")[asked..], [false], "asked without an ETag");
    assert!(
        server.asked("flood-cancel.xml").len() >= 2,
        "and its messages fetched again"
    );
    assert_eq!(
        delivery::drain(&restarted, Platform::Console, &sink).await.unwrap(),
        0,
        "each message once"
    );
    let outcomes: Vec<String> = {
        let mut tx = store.begin().await.unwrap();
        let rows = query("SELECT identifier, outcome FROM cap_received ORDER BY identifier")
            .fetch_all(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        rows.iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r.get::<String>("identifier").unwrap(),
                    r.get::<String>("outcome").unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        outcomes,
        vec![
            "CN-BJ-MET-2020-0601-007 expired",
            "CN-BJ-MET-2026-1205-001 alerted: 1 sent, 0 waiting",
            "CN-BJ-MET-2026-1205-002 revised 1",
            "CN-BJ-MET-2026-1205-003 revised 1",
            "CN-BJ-MET-2026-1205-EX1 ignored: Exercise",
            "CN-TJ-MET-2026-1205-001 filtered",
        ]
    );
}

#[tokio::test]
async fn a_moderate_warning_waits_for_the_officers_press() {
    let (store, _dir) = harness::sqlite().await;
    let app = app(store, Arc::new(FakeClock::new(NOW))).await;
    let (server, url) = FeedServer::start().await;
    server.put("health.xml", 200, cap_file("health-moderate.xml"));
    let f = feed(&url, "health.xml");
    poll(&app, &f, &mut Default::default()).await;
    let sink = Flaky::default();
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    assert!(group_texts(&sink).is_empty(), "nothing goes out before the press");
    let (id, status) = alerts_from(&app, "bj-weather").await.remove(0);
    assert_eq!(status, "draft");
    let preview = sink
        .sent
        .lock()
        .unwrap()
        .iter()
        .find(|(c, _)| c == "dm:wang")
        .cloned()
        .unwrap();
    assert!(
        preview.1.contains("Influenza season advisory") && preview.1.contains("moderate"),
        "{preview:?}"
    );
    press(&app, "p1", format!("alert:send:{id}")).await;
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    let copies = group_texts(&sink);
    assert_eq!(copies.len(), 2, "{copies:?}");
    assert!(copies.iter().all(|(_, t)| t.contains("Influenza")));
}

#[tokio::test]
async fn a_failing_feed_backs_off_and_is_logged_and_the_others_go_on() {
    let (store, _dir) = harness::sqlite().await;
    let app = app(store, Arc::new(FakeClock::new(NOW))).await;
    let (server, url) = FeedServer::start().await;
    server.put("down.atom", 502, "<html>Bad Gateway</html>".into());
    server.put("html.atom", 200, "<html><body>maintenance</body></html>".into());
    server.put("flood.xml", 200, cap_file("flood-alert.xml"));
    let mut down = feed(&url, "down.atom");
    down.name = "down".into();
    let mut html = feed(&url, "html.atom");
    html.name = "html".into();
    let good = feed(&url, "flood.xml");
    for f in [&down, &html, &good] {
        poll(&app, f, &mut Default::default()).await;
    }
    for name in ["down", "html"] {
        let s = state(&app, name).await;
        assert_eq!(s.failures, 1, "{name}");
        assert_eq!(s.next_poll_at, NOW + 2 * 300_000, "{name}: the interval doubled");
    }
    poll(&app, &down, &mut Default::default()).await;
    assert_eq!(
        state(&app, "down").await.next_poll_at,
        NOW + 4 * 300_000,
        "and doubles again"
    );
    assert_eq!(alerts_from(&app, "bj-weather").await.len(), 1, "the good feed was read");
}

#[tokio::test]
async fn an_alert_past_its_expiry_is_no_longer_sent() {
    let (store, _dir) = harness::sqlite().await;
    let clock = Arc::new(FakeClock::new(NOW));
    let app = app(store.clone(), clock.clone()).await;
    confirmed_alert(&app, 1, "/alert info Water off on Xinhua Road tomorrow").await;
    // Copies still waiting a day later (say, a platform outage) are withdrawn, not sent late.
    clock.advance(24 * 3_600_000 + 1);
    scheduler::tick(&app).await.unwrap();
    let sink = Flaky::default();
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    // (The tick's scheduled tips and safety index may reach the groups; the alert must not.)
    let alert_copies = |sink: &Flaky| {
        group_texts(sink)
            .into_iter()
            .filter(|(_, t)| t.contains("Water off") || t.contains("Road closed"))
            .count()
    };
    assert_eq!(alert_copies(&sink), 0, "{:?}", sink.sent.lock().unwrap());
    let mut tx = store.begin().await.unwrap();
    let withdrawn: i64 = query(
        "SELECT COUNT(*) AS n FROM outbox WHERE alert_id = 1 AND status = 'withdrawn' AND last_error = 'alert expired'",
    )
    .fetch_one(&mut tx)
    .await
    .unwrap()
    .get("n")
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(withdrawn, 2);

    // A draft confirmed after its expiry is refused, and nothing goes out.
    app.handle(&say("a2", None, "wang", "/alert info Road closed"))
        .await
        .unwrap();
    clock.advance(25 * 3_600_000);
    press(&app, "p2", "alert:send:2".into()).await;
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    assert_eq!(alert_copies(&sink), 0);
    let said = sink
        .sent
        .lock()
        .unwrap()
        .iter()
        .any(|(c, t)| c == "dm:wang" && t.contains("expired before it was confirmed"));
    assert!(said, "{:?}", sink.sent.lock().unwrap());
}

async fn get(app: &App, path: &str) -> (StatusCode, String) {
    use tower::ServiceExt;
    let router = beatbot::web::router(beatbot::web::WebState {
        app: app.clone(),
        telegram: None,
        public_url: Some(url::Url::parse("https://alerts.example.org").unwrap()),
    });
    let response = router
        .oneshot(axum::http::Request::get(path).body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_stations_alerts_come_out_as_cap_an_independent_reader_reads_back() {
    let (store, _dir) = harness::sqlite().await;
    let app = app(store, Arc::new(FakeClock::new(NOW))).await;
    confirmed_alert(&app, 1, "/alert urgent Gas leak at 12 Jianshe Road\nKeep windows shut.").await;
    app.handle(&say(
        "u1",
        None,
        "wang",
        "/alert update 1 Gas leak at 12 Jianshe Road: street closed",
    ))
    .await
    .unwrap();
    app.handle(&say("u2", None, "wang", "/alert allclear 1")).await.unwrap();
    confirmed_alert(&app, 2, "/alert info Lost dog").await;
    app.handle(&say("u3", None, "wang", "/alert cancel 2")).await.unwrap();

    let (status, atom) = get(&app, "/cap/xinhua.atom").await;
    assert_eq!(status, StatusCode::OK);
    let links: Vec<String> = atom
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|l| l.contains("/cap/alerts/"))
        .map(str::to_owned)
        .collect();
    assert_eq!(links.len(), 5, "an entry per message, newest first:\n{atom}");
    assert!(
        links
            .iter()
            .all(|l| l.starts_with("https://alerts.example.org/cap/alerts/"))
    );

    let mut read = Vec::new();
    for link in links.iter().rev() {
        let path = link.trim_start_matches("https://alerts.example.org");
        let (status, xml) = get(&app, path).await;
        assert_eq!(status, StatusCode::OK);
        let alert: oasiscap::Alert = xml.parse().unwrap_or_else(|e| panic!("{e}\n{xml}"));
        let oasiscap::Alert::V1dot2(alert) = alert else {
            panic!("not CAP 1.2: {xml}")
        };
        read.push(alert);
    }
    let gas = &read[0];
    assert_eq!(gas.identifier.as_str(), "beatbot-xinhua-1");
    assert_eq!(gas.sender.as_str(), "xinhua@alerts.example.org");
    assert_eq!(gas.message_type, oasiscap::v1dot2::MessageType::Alert);
    let info = &gas.info[0];
    assert_eq!(info.categories, vec![oasiscap::v1dot2::Category::Safety]);
    assert_eq!(info.urgency, oasiscap::v1dot2::Urgency::Immediate);
    assert_eq!(info.severity, oasiscap::v1dot2::Severity::Severe);
    assert_eq!(info.certainty, oasiscap::v1dot2::Certainty::Observed);
    assert_eq!(info.headline.as_deref(), Some("Gas leak at 12 Jianshe Road"));
    assert_eq!(
        info.description.as_deref(),
        Some("Gas leak at 12 Jianshe Road\nKeep windows shut.")
    );
    assert_eq!(info.areas[0].description, "Xinhua Road Station");
    assert!(info.expires.is_some() && info.effective.is_some());

    let update = &read[1];
    assert_eq!(update.message_type, oasiscap::v1dot2::MessageType::Update);
    let refs: Vec<String> = update
        .references
        .iter()
        .flat_map(|r| r.iter().map(|r| r.identifier.to_string()))
        .collect();
    assert_eq!(refs, vec!["beatbot-xinhua-1"]);
    assert_eq!(
        update.info[0].description.as_deref(),
        Some("Gas leak at 12 Jianshe Road: street closed")
    );
    let all_clear = &read[2];
    assert_eq!(all_clear.message_type, oasiscap::v1dot2::MessageType::Update);
    assert_eq!(
        all_clear.info[0].response_type,
        vec![oasiscap::v1dot2::ResponseType::AllClear]
    );
    let cancel = &read[4];
    assert_eq!(cancel.message_type, oasiscap::v1dot2::MessageType::Cancel);
    assert_eq!(cancel.references.iter().flat_map(|r| r.iter()).count(), 1);

    assert_eq!(get(&app, "/cap/nowhere.atom").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, "/cap/alerts/beatbot-xinhua-99.xml").await.0,
        StatusCode::NOT_FOUND
    );
}

/// From the configuration file to the groups: `beatbot serve` (the real binary) with a
/// `[[feeds]]` entry polls the feed server itself, sends the Severe flood warning to every
/// group of the station it lies in over (fake) Telegram, lists it in its own CAP feed, and after
/// a restart sends nothing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_feed_reaches_the_groups_through_the_running_bot() {
    use std::time::Duration;

    use crate::crash::{LIAISON, WANG, community, world};
    use crate::support::fake_telegram::FakeTelegram;
    use crate::support::replica_process::{free_port, healthy, scripts_without_flood_control, spawn, wait_for};

    let (store, dir) = harness::sqlite().await;
    world(&store, 3, 1).await;
    let fake = FakeTelegram::start(5.0).await;
    fake.start_chat(WANG);
    let (server, url) = FeedServer::start().await;
    server.put("flood.xml", 200, cap_file("flood-alert.xml"));
    let port = free_port();
    let config = dir.path().join("bot.toml");
    std::fs::write(
        &config,
        format!(
            "scripts_dir = {scripts:?}\ndata_dir = {data:?}\n[database]\nurl = {db:?}\n\
             [telegram]\ntoken = {token:?}\napi_url = {api:?}\npoll_timeout_secs = 1\nlimits_speedup = 5.0\n\
             [web]\nbind = \"127.0.0.1:{port}\"\npublic_url = \"https://alerts.example.org\"\n\
             [[feeds]]\nname = \"bj-weather\"\nurl = \"{url}/flood.xml\"\ninterval_secs = 1\n\
             [[feeds.stations]]\nstation = \"xinhua\"\ncodes = [\"110105\"]\n",
            scripts = scripts_without_flood_control(dir.path()).display().to_string(),
            data = dir.path().join("bot").display().to_string(),
            db = format!("sqlite://{}", dir.path().join("test.db").display()),
            token = fake.token,
            api = fake.url(),
        ),
    )
    .unwrap();
    let copies = |fake: &FakeTelegram| {
        fake.sent()
            .iter()
            .filter(|s| s.text.contains("Orange rainstorm warning"))
            .map(|s| s.chat_id)
            .collect::<Vec<_>>()
    };
    let bot = spawn(dir.path(), "bot", &config, port);
    wait_for("the warning in every group", Duration::from_secs(60), async || {
        copies(&fake).iter().filter(|c| **c != WANG).count() >= 4
    })
    .await;
    let mut groups: Vec<i64> = copies(&fake).into_iter().filter(|c| *c != WANG).collect();
    groups.sort();
    let mut expected = vec![community(0), community(1), community(2), LIAISON];
    expected.sort();
    assert_eq!(groups, expected, "every group of the station, once");
    wait_for("the officer told", Duration::from_secs(30), async || {
        fake.sent()
            .iter()
            .any(|s| s.chat_id == WANG && s.text.contains("bj-weather"))
    })
    .await;
    let atom = reqwest::get(format!("http://127.0.0.1:{port}/cap/xinhua.atom"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        atom.contains("https://alerts.example.org/cap/alerts/beatbot-xinhua-1.xml"),
        "{atom}"
    );
    wait_for(
        "a second poll at the feed's interval (1 s)",
        Duration::from_secs(10),
        async || server.asked("flood.xml").len() >= 2,
    )
    .await;
    assert!(server.asked("flood.xml")[1], "with the ETag of the first answer");

    // Restarted: the feed still lists the message; nothing is sent again.
    drop(bot);
    let bot = spawn(dir.path(), "bot", &config, port);
    wait_for("the bot to serve again", Duration::from_secs(60), async || {
        healthy(bot.web).await
    })
    .await;
    let asked = server.asked("flood.xml").len();
    wait_for("a poll after the restart", Duration::from_secs(30), async || {
        server.asked("flood.xml").len() > asked
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        copies(&fake).iter().filter(|c| **c != WANG).count(),
        4,
        "each group once"
    );
    drop(bot);
}

/// A message whose blocks cover different places is judged, per station, by the blocks that
/// reach it: a Severe block for Tianjin does not send a Minor Beijing one at once. And only a
/// warning's own sender can cancel it: a Cancel from someone else that names it changes nothing.
#[tokio::test]
async fn each_station_sees_its_own_blocks_and_only_the_sender_cancels() {
    let (store, _dir) = harness::sqlite().await;
    let app = app(store, Arc::new(FakeClock::new(NOW))).await;
    let (server, url) = FeedServer::start().await;
    let flood = cap_file("flood-alert.xml").replace("CN-BJ-MET-2026-1205-001", "CN-BJ-MET-2026-1205-MIX");
    // The Chinese block: Severe, for Tianjin. The English block: Minor, for Chaoyang.
    let (zh, en) = flood.split_at(flood.find("<language>en-US</language>").unwrap());
    let zh = zh
        .replace(
            "39.85,116.40 40.05,116.40 40.05,116.55 39.85,116.55 39.85,116.40",
            "39.05,117.10 39.20,117.10 39.20,117.30 39.05,117.30 39.05,117.10",
        )
        .replace("<value>110105</value>", "<value>120101</value>");
    let en = en.replace("<severity>Severe</severity>", "<severity>Minor</severity>");
    server.put("mixed.xml", 200, format!("{zh}{en}"));
    let f = feed(&url, "mixed.xml");
    poll(&app, &f, &mut Default::default()).await;
    let made = alerts_from(&app, "bj-weather").await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].1, "draft", "Minor here: it waits for the officer");
    let sink = Flaky::default();
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    assert!(group_texts(&sink).is_empty());
    let preview = sink
        .sent
        .lock()
        .unwrap()
        .iter()
        .find(|(c, _)| c == "dm:wang")
        .cloned()
        .unwrap();
    assert!(preview.1.contains("minor"), "{preview:?}");

    // The flood warning itself goes out; a Cancel naming it from another sender does nothing.
    server.put("flood.xml", 200, cap_file("flood-alert.xml"));
    poll(&app, &feed(&url, "flood.xml"), &mut Default::default()).await;
    let forged = cap_file("flood-cancel.xml").replace(
        "<sender>warning@bjmb.example.cn</sender>",
        "<sender>prank@example.org</sender>",
    );
    server.put("forged.xml", 200, forged);
    let mut other = feed(&url, "forged.xml");
    other.name = "other".into();
    poll(&app, &other, &mut Default::default()).await;
    let made = alerts_from(&app, "bj-weather").await;
    assert_eq!(made[1].1, "sent", "still out: {made:?}");
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    assert!(
        !sink.sent.lock().unwrap().iter().any(|(_, t)| t.contains("CANCELLED")),
        "{:?}",
        sink.sent.lock().unwrap()
    );
}
