//! The Telegram adapter against the fake Bot API server, over real HTTP: long polling,
//! HTML delivery with inline keyboards, button presses, 429 retry_after, 403 and migration.

use std::sync::Arc;
use std::time::Duration;

use beatbot::app::App;
use beatbot::clock::SystemClock;
use beatbot::config::{self, Config};
use beatbot::domain::{GroupKind, Platform};
use beatbot::platforms::telegram;
use beatbot::startup::{self, Bot};
use beatbot::store::Store;
use beatbot::store::outbox::{self, NewMessage, Target};

use super::harness;
use crate::support::fake_telegram::{FakeTelegram, Sent};

const GROUP: i64 = -100123;
const WANG: i64 = 501;
const LI: i64 = 601;

struct Running {
    bot: startup::Running,
    fake: FakeTelegram,
    _dir: tempfile::TempDir,
}

impl Running {
    fn app(&self) -> &App {
        self.bot.app()
    }

    async fn stop(self) {
        self.bot.stop().await;
    }
}

/// The configuration of a bot polling `fake` (one-second long polls) whose worker keeps to
/// `worker_scale`× Telegram's limits.
pub fn telegram_config(fake: &FakeTelegram, worker_scale: f64) -> Config {
    let telegram = config::Telegram {
        poll_timeout: Duration::from_secs(1),
        limits_speedup: worker_scale,
        ..config::Telegram::polling(&fake.token, &fake.url()).unwrap()
    };
    Config {
        telegram: Some(telegram),
        ..Config::default()
    }
}

/// The bot as production starts it, over `app`, without the minute-by-minute scheduler.
pub async fn serve(config: &Config, app: App) -> startup::Running {
    Bot::with_app(config, app)
        .without_scheduler()
        .start()
        .await
        .expect("the bot starts")
}

/// A fresh database with station xinhua, officer wang (beat east), front desk li of the
/// Jinjiang Inn, and their liaison group, all on Telegram.
async fn world() -> (App, tempfile::TempDir) {
    let (store, dir): (Store, _) = harness::sqlite().await;
    let (scripts, faq) = harness::scripts();
    let app = App::from_parts(store, scripts, faq, Arc::new(SystemClock));
    let tg = |id: i64| vec![(Platform::Telegram, id.to_string(), Some(id.to_string()))];
    assert!(harness::xinhua(&app, |handle| tg(if handle == "wang" { WANG } else { LI })).await);
    app.link_group(Platform::Telegram, &GROUP.to_string(), GroupKind::Liaison, "xinhua")
        .await
        .unwrap();
    (app, dir)
}

/// A bot on a fresh database whose worker keeps to `worker_scale`× Telegram's limits, against
/// a fake server enforcing `server_scale`× them.
async fn start_with(server_scale: f64, worker_scale: f64) -> Running {
    let fake = FakeTelegram::start(server_scale).await;
    let (app, dir) = world().await;
    // The officer and the front desk have started the bot before.
    fake.start_chat(WANG);
    fake.start_chat(LI);
    let bot = serve(&telegram_config(&fake, worker_scale), app).await;
    Running { bot, fake, _dir: dir }
}

async fn start(time_scale: f64) -> Running {
    start_with(time_scale, time_scale).await
}

/// Waits (up to 15 s) until the fake server has recorded a message matching `pred`.
async fn sent_where(fake: &FakeTelegram, pred: impl Fn(&Sent) -> bool) -> Sent {
    for _ in 0..300 {
        if let Some(s) = fake.sent().into_iter().find(|s| pred(s)) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no such message; sent so far: {:#?}", fake.sent());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_in_a_telegram_group_becomes_a_ticket_the_officer_acknowledges_with_a_button() {
    let bot = start(10.0).await;
    bot.fake
        .text(GROUP, LI, "li_desk", r#"/report noid room=305 name="<b>Zhao</b> Liu""#);

    let group = sent_where(&bot.fake, |s| s.chat_id == GROUP).await;
    assert!(group.text.contains("Ticket #1"), "{}", group.text);
    assert!(
        !group.text.contains("Zhao") && !group.text.contains("305"),
        "no personal data in the group: {}",
        group.text
    );
    let officer = sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("New ticket #1")).await;
    assert!(
        officer.text.contains("&lt;b&gt;Zhao&lt;/b&gt; Liu"),
        "user text is escaped for HTML: {}",
        officer.text
    );
    let markup = officer.reply_markup.clone().expect("an inline keyboard");
    assert_eq!(markup["inline_keyboard"][0][0]["callback_data"], "ack:1");

    bot.fake.press(WANG, officer.message_id, WANG, "wang", "ack:1");
    sent_where(&bot.fake, |s| {
        s.chat_id == LI && s.text.contains("acknowledged by officer wang")
    })
    .await;
    for _ in 0..100 {
        if !bot.fake.callback_answers().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(bot.fake.callback_answers().len(), 1, "every press is answered");
    for _ in 0..100 {
        if bot.fake.unconfirmed_updates() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(bot.fake.unconfirmed_updates(), 0, "handled updates are confirmed");
    bot.stop().await;
}

async fn three_tips_to(bot: &Running) -> std::time::Duration {
    let started = std::time::Instant::now();
    for _ in 0..3 {
        bot.fake.text(WANG, WANG, "wang", "/tip");
    }
    for _ in 0..300 {
        if bot.fake.sent().iter().filter(|s| s.chat_id == WANG).count() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        bot.fake.sent().iter().filter(|s| s.chat_id == WANG).count(),
        3,
        "every tip arrives"
    );
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_keeps_to_the_limits_without_being_told() {
    let bot = start(10.0).await;
    let took = three_tips_to(&bot).await;
    assert_eq!(
        bot.fake.too_many_requests(),
        0,
        "no 429: one message per (scaled) second to a private chat"
    );
    assert!(
        took >= Duration::from_millis(200),
        "three messages to one chat take two (scaled) seconds: {took:?}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_retry_after_is_honoured_and_nothing_is_lost() {
    // The worker believes in limits far looser than the server's, so the server answers 429.
    let bot = start_with(1.0, 1000.0).await;
    three_tips_to(&bot).await;
    assert!(bot.fake.too_many_requests() >= 1, "the server refused some sends");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_upgraded_to_a_supergroup_keeps_getting_messages_and_a_removed_one_is_reported() {
    let bot = start(10.0).await;
    const NEW: i64 = -1009999;
    bot.fake.migrate(GROUP, NEW);
    bot.fake.text(WANG, WANG, "wang", "/alert info Water cut 14:00-18:00");
    let preview = sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("Alert #1")).await;
    bot.fake.press(WANG, preview.message_id, WANG, "wang", "alert:send:1");
    let moved = sent_where(&bot.fake, |s| s.chat_id == NEW).await;
    assert!(moved.text.contains("Water cut"), "{}", moved.text);
    sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("delivered to 1/1")).await;
    let progress = sent_where(&bot.fake, |s| {
        s.method == "editMessageText" && s.text.contains("delivered 1/1 chats")
    })
    .await;
    assert_eq!(
        progress.message_id, preview.message_id,
        "the progress is the confirmation message, edited in place"
    );

    bot.fake.forbid(NEW);
    bot.fake.text(WANG, WANG, "wang", "/alert info Second notice");
    let preview = sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("Alert #2")).await;
    bot.fake.press(WANG, preview.message_id, WANG, "wang", "alert:send:2");
    sent_where(&bot.fake, |s| {
        s.chat_id == WANG && s.text.contains("was removed from the liaison group -1009999")
    })
    .await;
    sent_where(&bot.fake, |s| {
        s.chat_id == WANG && s.text.contains("Alert #2: delivered to 0/1 chats, 1 failed")
    })
    .await;
    let mut tx = bot.app().store.begin().await.unwrap();
    let group = beatbot::store::groups::find(&mut tx, Platform::Telegram, &NEW.to_string())
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert!(!group.active, "the group is marked inactive");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_the_bot_is_added_to_explains_linking_and_an_officer_links_it() {
    use crate::support::fake_telegram::{BOT_ID, BOT_USERNAME};
    let bot = start(10.0).await;
    const NEW_GROUP: i64 = -100777;
    let added = bot.fake.message_json(
        NEW_GROUP,
        WANG,
        "wang",
        serde_json::json!({ "new_chat_members": [{ "id": BOT_ID, "is_bot": true, "first_name": "beatbot", "username": BOT_USERNAME }] }),
    );
    bot.fake.push_update(serde_json::json!({ "message": added }));
    let hello = sent_where(&bot.fake, |s| s.chat_id == NEW_GROUP).await;
    assert!(hello.text.contains("/link community"), "{}", hello.text);

    bot.fake.text(NEW_GROUP, 9001, "zhao", "/tip");
    bot.fake.text(NEW_GROUP, WANG, "wang", "/link community");
    sent_where(&bot.fake, |s| {
        s.chat_id == NEW_GROUP && s.text.contains("now linked to Xinhua Road Station")
    })
    .await;
    bot.fake.text(NEW_GROUP, 9001, "zhao", "/tip");
    sent_where(&bot.fake, |s| s.chat_id == NEW_GROUP && s.text.contains("🃏")).await;
    let tips = bot
        .fake
        .sent()
        .iter()
        .filter(|s| s.chat_id == NEW_GROUP && s.text.contains("🃏"))
        .count();
    assert_eq!(tips, 1, "before linking, only /help is answered");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_needs_the_secret_and_handles_a_resent_update_once() {
    let fake = FakeTelegram::start(10.0).await;
    let (app, _dir) = world().await;
    let mut config = telegram_config(&fake, 10.0);
    if let Some(t) = config.telegram.as_mut() {
        t.mode = config::TelegramMode::Webhook {
            url: "https://bot.example.org/telegram/webhook".parse().unwrap(),
            secret: "s3cret-Token_1".into(),
        };
    }
    config.web_bind = "127.0.0.1:0".parse().unwrap();
    let bot = serve(&config, app).await;
    assert_eq!(
        fake.webhook().as_deref(),
        Some("https://bot.example.org/telegram/webhook")
    );
    let web = bot.web_addr().expect("the web server listens in webhook mode");

    let message = fake.message_json(
        GROUP,
        LI,
        "li_desk",
        serde_json::json!({ "text": "/report item location=lobby description=\"black bag\"" }),
    );
    let update = serde_json::json!({ "update_id": 9001, "message": message }).to_string();
    let post = |secret: Option<&'static str>| {
        let mut headers = vec![("Content-Type", "application/json")];
        headers.extend(secret.map(|s| ("X-Telegram-Bot-Api-Secret-Token", s)));
        http(web, "POST", "/telegram/webhook", headers, update.clone())
    };
    let delivered = || fake.sent().len();

    assert_eq!(post(None).await, 401);
    assert_eq!(post(Some("wrong")).await, 401);
    assert!(bot.drained(Platform::Telegram, Duration::from_secs(10)).await.unwrap());
    assert_eq!(delivered(), 0, "a refused request changes nothing");

    assert_eq!(post(Some("s3cret-Token_1")).await, 200);
    sent_where(&fake, |s| s.chat_id == GROUP && s.text.contains("Ticket #1")).await;
    assert!(bot.drained(Platform::Telegram, Duration::from_secs(10)).await.unwrap());
    let after_first = delivered();
    assert_eq!(post(Some("s3cret-Token_1")).await, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(bot.drained(Platform::Telegram, Duration::from_secs(10)).await.unwrap());
    assert_eq!(
        delivered(),
        after_first,
        "Telegram resending an update has no second effect"
    );

    assert_eq!(http(web, "GET", "/healthz", Vec::new(), String::new()).await, 200);
    bot.stop().await;
}

/// One HTTP/1.1 request to the bot's web server; the status code of its answer.
async fn http(addr: std::net::SocketAddr, method: &str, path: &str, headers: Vec<(&str, &str)>, body: String) -> u16 {
    let answer = http_answer(addr, method, path, headers, body).await;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

/// The value of the metric sample `name{labels}` in a Prometheus text exposition.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_updates_and_deliveries_in_polling_mode() {
    let fake = FakeTelegram::start(10.0).await;
    let (app, _dir) = world().await;
    fake.start_chat(WANG);
    let mut config = telegram_config(&fake, 10.0);
    config.web_bind = "127.0.0.1:0".parse().unwrap();
    let bot = serve(&config, app.clone()).await;
    let web = bot.web_addr().expect("the web server listens in polling mode too");
    fake.text(WANG, WANG, "wang", "/tip");
    fake.text(WANG, WANG, "wang", "/ack 99999");
    sent_where(&fake, |s| s.chat_id == WANG && s.text.contains("99999")).await;
    assert!(bot.drained(Platform::Telegram, Duration::from_secs(10)).await.unwrap());

    let answer = http_answer(web, "GET", "/metrics", Vec::new(), String::new()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let telegram = |name: &str, outcome: &str| {
        sample(
            &answer,
            &format!("{name}{{platform=\"telegram\",outcome=\"{outcome}\"}}"),
        )
        .unwrap_or(0.0)
    };
    // Other tests in this process count too: at least this test's own.
    assert!(telegram("beatbot_updates_total", "handled") >= 1.0, "{answer}");
    assert!(telegram("beatbot_updates_total", "refused") >= 1.0, "{answer}");
    assert!(telegram("beatbot_deliveries_total", "delivered") >= 2.0, "{answer}");
    for family in [
        "beatbot_update_handling_seconds histogram",
        "beatbot_delivery_latency_seconds histogram",
        "beatbot_replica gauge",
    ] {
        assert!(
            answer.contains(&format!("# TYPE {family}")),
            "{family} missing: {answer}"
        );
    }
    assert!(
        sample(&answer, "beatbot_update_handling_seconds_count{platform=\"telegram\"}").unwrap_or(0.0) >= 2.0,
        "{answer}"
    );
    // The outbox gauges have samples only while something waits or is dead: nothing here.
    assert!(!answer.contains("beatbot_outbox_pending{"), "{answer}");

    // A message to a group that removed the bot becomes a dead letter; one queued for an hour
    // from now waits. The gauges are read from the database at each scrape.
    const GONE: i64 = -4_242;
    fake.forbid(GONE);
    let now = app.now();
    let mut tx = app.store.begin().await.unwrap();
    for (chat, idem_key, at) in [(GONE, "m:gone", now), (WANG, "m:later", now + 3_600_000)] {
        let chat = chat.to_string();
        let message = NewMessage {
            target: Target::Chat(Platform::Telegram, &chat),
            text: "Road works on Jianshe Road",
            buttons: &[],
            edit_of: None,
            priority: 0,
            idem_key,
            alert_id: None,
            fallback_chat: None,
            photo: None,
            reply_to: None,
        };
        outbox::enqueue(&mut tx, &message, at).await.unwrap();
    }
    tx.commit().await.unwrap();
    let gauge = |answer: &str, name: &str| sample(answer, name).unwrap_or(0.0);
    let mut answer = String::new();
    for _ in 0..100 {
        answer = http_answer(web, "GET", "/metrics", Vec::new(), String::new()).await;
        if gauge(&answer, "beatbot_outbox_dead_letters{platform=\"telegram\"}") >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        gauge(&answer, "beatbot_outbox_dead_letters{platform=\"telegram\"}"),
        1.0,
        "{answer}"
    );
    assert_eq!(
        gauge(&answer, "beatbot_outbox_pending{platform=\"telegram\",priority=\"0\"}"),
        1.0,
        "{answer}"
    );
    bot.stop().await;
}

/// One HTTP/1.1 request to the bot's web server; its whole answer, status line first.
async fn http_answer(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: Vec<(&str, &str)>,
    body: String,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_menus_are_set_per_scope_and_language() {
    let bot = start(10.0).await;
    let client = telegram::bot(&bot.fake.token, &bot.fake.url()).unwrap();
    telegram::set_commands(&client, bot.app()).await.unwrap();
    let menus = bot.fake.commands();
    let names = |scope: &serde_json::Value, lang: &str| -> Vec<String> {
        menus
            .iter()
            .find(|m| &m["scope"] == scope && m["language_code"] == lang)
            .map(|m| {
                m["commands"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["command"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let private = names(&serde_json::json!({ "type": "all_private_chats" }), "en");
    assert!(
        private.contains(&"report".to_owned()) && !private.contains(&"tickets".to_owned()),
        "{private:?}"
    );
    let groups = names(&serde_json::json!({ "type": "all_group_chats" }), "zh");
    assert!(
        groups.contains(&"link".to_owned()) && !groups.contains(&"subscribe".to_owned()),
        "{groups:?}"
    );
    let officer = names(&serde_json::json!({ "type": "chat", "chat_id": WANG }), "zh");
    assert!(
        officer.contains(&"tickets".to_owned()) && officer.contains(&"alert".to_owned()),
        "{officer:?}"
    );
    let described = menus
        .iter()
        .flat_map(|m| m["commands"].as_array().unwrap().clone())
        .all(|c| {
            let d = c["description"].as_str().unwrap();
            !d.is_empty() && d.chars().count() <= 256 && !d.starts_with('/')
        });
    assert!(described, "every command has a short description");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_and_a_server_error_are_retried_until_delivered() {
    use crate::support::fake_telegram::Fault;
    let fake = FakeTelegram::start(10.0).await;
    let (app, _dir) = world().await;
    let mut config = telegram_config(&fake, 10.0);
    if let Some(t) = config.telegram.as_mut() {
        t.request_timeout = Duration::from_secs(3);
    }
    let bot = serve(&config, app).await;

    fake.inject(Fault::Drop);
    fake.inject(Fault::Status(502));
    fake.inject(Fault::Slow(Duration::from_millis(300)));
    fake.text(WANG, WANG, "wang", "/tip");
    // A dropped connection (3 s timeout), then a 502 (teloxide waits 10 s on a 5xx), then a slow
    // answer: each retried with backoff, and the tip arrives exactly once.
    for _ in 0..600 {
        if fake.sent().iter().any(|s| s.chat_id == WANG) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.sent().iter().filter(|s| s.chat_id == WANG).count(),
        1,
        "delivered once"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_continues_in_private_after_the_reporter_opens_the_chat_from_the_groups_link() {
    let bot = start(10.0).await;
    // The front desk never started the bot: Telegram refuses to let it write first.
    bot.fake.forbid(LI);
    bot.fake.text(GROUP, LI, "li_desk", "/report noid room=305");
    let notice = sent_where(&bot.fake, |s| s.chat_id == GROUP && s.text.contains("https://t.me/")).await;
    assert!(
        notice.text.contains(&format!(
            "https://t.me/{}?start=",
            crate::support::fake_telegram::BOT_USERNAME
        )),
        "{}",
        notice.text
    );
    assert!(
        bot.fake
            .sent()
            .iter()
            .filter(|s| s.chat_id == GROUP)
            .all(|s| !s.text.contains("305")),
        "no personal data in the group"
    );

    // She opens the private chat from the link: the question that could not be delivered follows.
    bot.fake.allow(LI);
    bot.fake.text(LI, LI, "li_desk", "/start");
    sent_where(&bot.fake, |s| s.chat_id == LI && s.text.contains("Name")).await;
    bot.fake.text(LI, LI, "li_desk", "Zhao Liu");
    sent_where(&bot.fake, |s| s.chat_id == GROUP && s.text.contains("Ticket #1")).await;
    sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("Zhao Liu")).await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_sent_during_a_report_reaches_the_officer_with_the_details_as_caption() {
    let bot = start(10.0).await;
    bot.fake.text(GROUP, LI, "li_desk", "/report item location=lobby");
    sent_where(&bot.fake, |s| s.chat_id == LI && s.text.contains("Description")).await;
    let photo = bot.fake.message_json(
        LI,
        LI,
        "li_desk",
        serde_json::json!({ "photo": [
            { "file_id": "small-id", "file_unique_id": "s", "width": 90, "height": 90 },
            { "file_id": "large-id", "file_unique_id": "l", "width": 1280, "height": 960 } ] }),
    );
    bot.fake.push_update(serde_json::json!({ "message": photo }));
    bot.fake
        .text(LI, LI, "li_desk", "black suitcase left by the lifts <no owner>");
    let to_officer = sent_where(&bot.fake, |s| s.chat_id == WANG && s.method == "sendPhoto").await;
    assert_eq!(
        to_officer.photo.as_deref(),
        Some("large-id"),
        "the largest size is kept"
    );
    assert!(
        to_officer.text.contains("&lt;no owner&gt;"),
        "the caption is escaped: {}",
        to_officer.text
    );
    assert_eq!(
        to_officer.reply_markup.as_ref().unwrap()["inline_keyboard"][0][0]["callback_data"],
        "ack:1"
    );
    sent_where(&bot.fake, |s| s.chat_id == GROUP && s.text.contains("Ticket #1")).await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_telegrams_limit_arrives_in_parts_that_each_fit() {
    let bot = start(10.0).await;
    // A long question and a long answer make a relayed message of over 4,096 characters.
    let question = format!(
        "/ask {}",
        "Is it legal to keep & sell fireworks <near> the market? ".repeat(60)
    );
    bot.fake.text(LI, LI, "li_desk", &question);
    sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("Question Q1")).await;
    let answer = "No. Fireworks need a permit; report sellers to the station. ".repeat(60);
    bot.fake.text(WANG, WANG, "wang", &format!("/answer 1 {answer}"));
    sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("has been sent")).await;
    let mut parts = Vec::new();
    for _ in 0..200 {
        parts = bot
            .fake
            .sent()
            .into_iter()
            .filter(|s| s.chat_id == LI && s.method == "sendMessage")
            .skip(1)
            .collect::<Vec<_>>();
        if parts.len() >= 2 && parts.last().is_some_and(|p| p.text.trim_end().ends_with("station.")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let heads: Vec<String> = parts.iter().map(|p| p.text.chars().take(60).collect()).collect();
    assert!(parts.len() >= 2, "split into parts: {heads:?}");
    assert!(
        parts.iter().all(|p| p.text.encode_utf16().count() <= 4096),
        "every part fits"
    );
    let whole: String = parts.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" ");
    assert_eq!(
        whole.matches("Fireworks need a permit").count(),
        60,
        "nothing is lost: {heads:?}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_front_desk_enrols_by_opening_the_officers_deep_link() {
    let bot = start(10.0).await;
    const DESK: i64 = 777;
    bot.fake.text(WANG, WANG, "wang", r#"/invite "Rujia Hotel""#);
    let invite = sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("start=join-")).await;
    let link = invite
        .text
        .split_whitespace()
        .find(|w| w.starts_with("https://t.me/"))
        .expect("a deep link")
        .to_owned();
    assert!(
        link.starts_with(&format!(
            "https://t.me/{}?start=join-",
            crate::support::fake_telegram::BOT_USERNAME
        )),
        "{link}"
    );
    // Opening the link in Telegram sends `/start PAYLOAD` in the private chat.
    let payload = link.split("start=").nth(1).unwrap();
    bot.fake.text(DESK, DESK, "night_desk", &format!("/start {payload}"));
    let welcome = sent_where(&bot.fake, |s| s.chat_id == DESK).await;
    assert!(welcome.text.contains("front desk of Rujia Hotel"), "{}", welcome.text);
    sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("has joined")).await;
    // The link works once.
    bot.fake.text(LI, LI, "li_desk", &format!("/start {payload}"));
    let refused = sent_where(&bot.fake, |s| s.chat_id == LI).await;
    assert!(refused.text.contains("already been used"), "{}", refused.text);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_paid_broadcast_only_urgent_alert_copies_go_as_paid_broadcasts() {
    let fake = FakeTelegram::start(10.0).await;
    let (app, _dir) = world().await;
    fake.start_chat(WANG);
    let communities = [-2001_i64, -2002, -2003];
    for chat in communities {
        app.link_group(Platform::Telegram, &chat.to_string(), GroupKind::Community, "xinhua")
            .await
            .unwrap();
    }
    let mut config = telegram_config(&fake, 10.0);
    if let Some(t) = config.telegram.as_mut() {
        t.paid_broadcast = true;
    }
    let bot = serve(&config, app).await;
    for (level, text) in [
        ("warning", "Warning: ice on Jianshe Road"),
        ("urgent", "Urgent: gas leak on Jianshe Road"),
    ] {
        fake.text(WANG, WANG, "wang", &format!("/alert {level} {text}"));
        let prompt = sent_where(&fake, |s| {
            s.chat_id == WANG && s.text.contains(text) && s.reply_markup.is_some()
        })
        .await;
        let confirm = prompt.reply_markup.as_ref().unwrap()["inline_keyboard"][0][0]["callback_data"]
            .as_str()
            .unwrap()
            .to_owned();
        fake.press(WANG, prompt.message_id, WANG, "wang", &confirm);
        for chat in communities {
            sent_where(&fake, |s| s.chat_id == chat && s.text.contains(text)).await;
        }
    }
    assert!(bot.drained(Platform::Telegram, Duration::from_secs(10)).await.unwrap());
    let sent = fake.sent();
    let copies = |text: &str| {
        sent.iter()
            .filter(|s| s.chat_id < -2000 && s.text.contains(text))
            .collect::<Vec<_>>()
    };
    assert!(
        copies("gas leak").iter().all(|s| s.paid),
        "urgent copies are paid broadcasts"
    );
    assert!(
        copies("ice on").iter().all(|s| !s.paid),
        "a warning stays within the free limits"
    );
    assert!(
        sent.iter().filter(|s| s.chat_id == WANG).all(|s| !s.paid),
        "the officer's prompts, progress and summary are free"
    );
    assert_eq!(fake.too_many_requests(), 0);
    bot.stop().await;
}

/// A missing-person notice over Telegram: the officer's photo goes out under the notice in the
/// group (sendPhoto, the notice as its caption, an "I have information" button), and `/notice
/// found` edits the caption (Telegram refuses editMessageText on a photo).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_goes_out_with_its_photo_and_found_edits_the_caption() {
    let bot = start(10.0).await;
    bot.fake.text(WANG, WANG, "wang", "/notice missing");
    sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("Send a photo")).await;
    let photo = bot.fake.message_json(
        WANG,
        WANG,
        "wang",
        serde_json::json!({ "photo": [
            { "file_id": "boy-photo", "file_unique_id": "b", "width": 800, "height": 600 } ] }),
    );
    bot.fake.push_update(serde_json::json!({ "message": photo }));
    sent_where(&bot.fake, |s| {
        s.chat_id == WANG && s.text.contains("Describe the person")
    })
    .await;
    for (answer, next) in [
        ("Li Xiaoming, 8, red jacket", "last seen?"),
        ("Xinhua Road park", "When were they"),
        ("today 14:30", "Which groups"),
        ("all", "MISSING PERSON"),
    ] {
        bot.fake.text(WANG, WANG, "wang", answer);
        sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains(next)).await;
    }
    let preview = sent_where(&bot.fake, |s| s.chat_id == WANG && s.text.contains("MISSING PERSON")).await;
    bot.fake.press(WANG, preview.message_id, WANG, "wang", "alert:send:1");
    let copy = sent_where(&bot.fake, |s| s.chat_id == GROUP && s.method == "sendPhoto").await;
    assert_eq!(copy.photo.as_deref(), Some("boy-photo"));
    assert!(copy.text.contains("Li Xiaoming"), "{}", copy.text);
    assert_eq!(
        copy.reply_markup.as_ref().unwrap()["inline_keyboard"][0][0]["callback_data"],
        "info:1"
    );
    bot.fake.text(WANG, WANG, "wang", "/notice found 1");
    let edit = sent_where(&bot.fake, |s| s.chat_id == GROUP && s.method == "editMessageCaption").await;
    assert_eq!(edit.message_id, copy.message_id);
    assert!(
        edit.text.contains("Found") && !edit.text.contains("red jacket"),
        "{}",
        edit.text
    );
    bot.stop().await;
}

/// The safety index's chart goes to Telegram once: the first chat's `sendPhoto` uploads the
/// PNG (checked by the fake server as Telegram checks an upload), the other chats' name the
/// file id it gave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_chart_is_uploaded_once_and_its_file_id_reused() {
    let bot = start(10.0).await;
    let rooms = [-200_001_i64, -200_002, -200_003];
    for room in rooms {
        bot.app()
            .link_group(Platform::Telegram, &room.to_string(), GroupKind::Community, "xinhua")
            .await
            .unwrap();
    }
    bot.fake.text(rooms[0], LI, "li_desk", "/index");
    let first = sent_where(&bot.fake, |s| s.chat_id == rooms[0] && s.method == "sendPhoto").await;
    assert!(first.uploaded, "the first send uploads the chart: {first:?}");
    assert!(first.text.contains("Safety index"), "{}", first.text);
    let file_id = first.photo.clone().expect("the upload's file id");
    let png_bytes = bot.fake.uploaded_photo(&file_id).expect("the uploaded bytes");
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let info = decoder.read_info().expect("the upload is a PNG");
    assert_eq!((info.info().width, info.info().height), (960, 540));
    for room in &rooms[1..] {
        bot.fake.text(*room, LI, "li_desk", "/index");
        let again = sent_where(&bot.fake, |s| s.chat_id == *room && s.method == "sendPhoto").await;
        assert!(!again.uploaded, "later sends reuse the file id");
        assert_eq!(again.photo.as_deref(), Some(file_id.as_str()));
    }
    let uploads = bot.fake.sent().iter().filter(|s| s.uploaded).count();
    assert_eq!(uploads, 1);
    bot.stop().await;
}
