//! beatbot on a real Synapse: people are matrix-sdk clients in rooms with the bot. Linking a
//! room, a front desk's report becoming a ticket, the officer reached in a direct room the bot
//! opens, options answered by number, an encrypted room, a restart that answers what came in
//! while it was down and nothing twice, invites from other servers refused.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use beatbot::app::App;
use beatbot::clock::SystemClock;
use beatbot::domain::Platform;
use beatbot::platforms::matrix;
use matrix_sdk::Client;

use super::harness;
use crate::support::synapse::{self, Person, RunningBot, exempt, synapse};

async fn start_bot(app: &App, data_dir: &Path, name: &str, allowed: Vec<String>) -> RunningBot {
    RunningBot::start(app, data_dir, name, allowed, Duration::from_millis(500)).await
}

async fn bot_account() -> String {
    synapse::bot_account().await.0
}

/// wang and li on the homeserver, their station in a fresh database, and a bot account.
struct Scene {
    wang: Person,
    li: Person,
    app: App,
    dir: tempfile::TempDir,
    name: String,
}

async fn scene() -> Scene {
    let wang = Person::new("wang").await;
    let li = Person::new("li").await;
    let (app, dir) = world(&wang, &li).await;
    let name = bot_account().await;
    Scene {
        wang,
        li,
        app,
        dir,
        name,
    }
}

/// A room wang makes with the bot, once the bot has joined and greeted it.
async fn greeted_room(wang: &mut Person, bot: &str) -> matrix_sdk::ruma::OwnedRoomId {
    let room = wang.create_room(&[&bot_id(bot)], false).await;
    wang.wait_for(30, |s| s.room == room && s.body.contains("not linked"))
        .await;
    room
}

/// Station xinhua (English), officer wang on beat east and front desk li of the Jinjiang Inn,
/// both on Matrix.
async fn world(wang: &Person, li: &Person) -> (App, tempfile::TempDir) {
    let (store, dir) = harness::sqlite().await;
    let (scripts, faq) = harness::scripts();
    let app = App::from_parts(store, scripts, faq, Arc::new(SystemClock));
    let mx = |p: &Person| vec![(Platform::Matrix, p.user_id.to_string(), Some(p.user_id.to_string()))];
    assert!(harness::xinhua(&app, |handle| mx(if handle == "wang" { wang } else { li })).await);
    (app, dir)
}

fn bot_id(name: &str) -> matrix_sdk::ruma::OwnedUserId {
    format!("@{name}:localhost").try_into().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_room_a_report_a_ticket_and_the_officer_reached_in_a_direct_room() {
    let Scene {
        mut wang,
        mut li,
        app,
        dir,
        name,
    } = scene().await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;

    let room = wang.create_room(&[&bot_id(&name), &li.user_id], false).await;
    wang.wait_for(30, |s| {
        s.room == room && s.body.contains("not linked to a police station")
    })
    .await;
    let link = wang.say(&room, "/link liaison").await;
    let linked = wang
        .wait_for(20, |s| {
            s.room == room && s.body.contains("now linked to Xinhua Road Station")
        })
        .await;
    assert_eq!(linked.in_reply_to, Some(link), "the answer is a reply to the command");

    li.wait_for_member(&room, &li.user_id.clone(), 20).await;
    li.say(&room, r#"/report noid room=305 name="Zhao Liu""#).await;
    li.wait_for(30, |s| s.room == room && s.body.contains("Ticket #1"))
        .await;

    // The officer hears of it in a direct room the bot opens, with the ack as option 1.
    let news = wang
        .wait_for(30, |s| s.room != room && s.body.contains("New ticket #1"))
        .await;
    assert!(
        news.body.contains("Zhao Liu"),
        "the assigned officer sees the details: {}",
        news.body
    );
    assert!(
        news.body.contains("1️⃣"),
        "the ack button is offered as option 1: {}",
        news.body
    );
    wang.say(&news.room, "1").await;
    li.wait_for(30, |s| {
        s.room != room && s.body.contains("acknowledged by officer wang")
    })
    .await;

    let bot_user = bot_id(&name);
    let in_group: Vec<_> = wang
        .seen
        .iter()
        .filter(|s| s.room == room && s.sender == bot_user)
        .map(|s| s.body.clone())
        .collect();
    assert!(
        in_group.iter().all(|b| !b.contains("Zhao") && !b.contains("305")),
        "no personal data in the bot's messages in the room: {in_group:#?}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_reads_and_answers_in_an_encrypted_room() {
    let Scene {
        mut wang,
        li: _,
        app,
        dir,
        name,
    } = scene().await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;

    let room = wang.create_room(&[&bot_id(&name)], true).await;
    let greeting = wang
        .wait_for(30, |s| s.room == room && s.body.contains("not linked"))
        .await;
    assert!(greeting.encrypted, "the bot writes encrypted in an encrypted room");
    let link = wang.say(&room, "/link community").await;
    let linked = wang
        .wait_for(30, |s| s.room == room && s.body.contains("now linked"))
        .await;
    assert!(linked.encrypted, "and it read the encrypted command");

    // An edit of a command is not a second command.
    wang.edit(&room, &link, "/link liaison").await;
    let answers = wang
        .all_within(4, |s| s.room == room && s.body.contains("now linked"))
        .await;
    assert_eq!(answers.len(), 1, "{answers:#?}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_without_a_new_login_and_answers_each_message_once() {
    let Scene {
        mut wang,
        li: _,
        app,
        dir,
        name,
    } = scene().await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;
    let device = bot.client.device_id().map(ToOwned::to_owned);

    let room = greeted_room(&mut wang, &name).await;
    wang.say(&room, "/link community").await;
    wang.wait_for(20, |s| s.room == room && s.body.contains("now linked"))
        .await;
    wang.say(&room, "/tip theft").await;
    wang.wait_for(20, |s| s.room == room && s.body.contains("🃏")).await;
    bot.stop().await;

    // Written while the bot is down.
    wang.say(&room, "/tip fraud").await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;
    assert_eq!(
        bot.client.device_id().map(ToOwned::to_owned),
        device,
        "the saved session is resumed: same device, no new login"
    );
    let tips = wang.all_within(8, |s| s.room == room && s.body.contains("🃏")).await;
    assert_eq!(
        tips.len(),
        2,
        "the tip asked for while down is answered, the first not again: {tips:#?}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invites_from_servers_not_allowed_are_refused() {
    let Scene {
        mut wang,
        li: _,
        app,
        dir,
        name,
    } = scene().await;
    let bot = start_bot(&app, dir.path(), &name, vec!["elsewhere.example".into()]).await;

    let room = wang.create_room(&[&bot_id(&name)], false).await;
    let seen = wang.all_within(5, |s| s.room == room).await;
    assert!(seen.is_empty(), "the bot did not join: {seen:#?}");
    let member = wang
        .client
        .get_room(&room)
        .unwrap()
        .get_member_no_sync(&bot_id(&name))
        .await
        .unwrap()
        .map(|m| m.membership().clone());
    assert_eq!(
        member,
        Some(matrix_sdk::ruma::events::room::member::MembershipState::Leave),
        "the invite was rejected"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_exemption_is_checked_through_the_admin_api() {
    // Only a server admin may read the setting: the admin account stands in for a bot that is one.
    let admin = Client::builder()
        .homeserver_url(&synapse().url)
        .respect_login_well_known(false)
        .build()
        .await
        .unwrap();
    admin
        .matrix_auth()
        .login_username("admin", "admin-password")
        .await
        .unwrap();
    let before = matrix::rate_limit_exempt(&admin).await;
    exempt("@admin:localhost").await;
    assert_eq!(matrix::rate_limit_exempt(&admin).await, Some(true));
    assert!(before.is_some(), "an admin can read it");
    assert!(matrix::exemption_command(&admin).contains("/_synapse/admin/v1/users/@admin:localhost/override_ratelimit"));

    // A bot that is no admin cannot tell, and says so (None) rather than guessing.
    let name = bot_account().await;
    let bot = Client::builder()
        .homeserver_url(&synapse().url)
        .respect_login_well_known(false)
        .build()
        .await
        .unwrap();
    bot.matrix_auth()
        .login_username(&name, &format!("pw-{name}"))
        .await
        .unwrap();
    assert_eq!(matrix::rate_limit_exempt(&bot).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_outbox_row_is_the_same_event_not_a_second_message() {
    use beatbot::workers::delivery::Deliverer;
    let Scene {
        mut wang,
        li: _,
        app,
        dir,
        name,
    } = scene().await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;
    let room = greeted_room(&mut wang, &name).await;

    // As after a crash between the send and recording it: the same row is delivered again.
    let row = beatbot::store::outbox::Message {
        id: 987_654,
        platform: Platform::Matrix,
        chat_id: room.to_string(),
        text: "Road closed on Jianshe Road".into(),
        buttons: Vec::new(),
        edit_of: None,
        priority: 0,
        idem_key: "resend-test".into(),
        alert_id: None,
        fallback_chat: None,
        photo: None,
        reply_to: None,
        attempts: 1,
        created_at: 0,
    };
    let deliverer = matrix::MatrixDeliverer::new(bot.client.clone(), app.clone());
    let first = deliverer.deliver(&row, None).await.expect("sent");
    let again = deliverer.deliver(&row, None).await.expect("sent again");
    assert_eq!(first, again, "the transaction id makes the retry the same event");
    let seen = wang.all_within(3, |s| s.body.contains("Jianshe Road")).await;
    assert_eq!(seen.len(), 1, "{seen:#?}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synapse_rate_limits_are_waited_out_and_nothing_is_lost() {
    let Scene { mut wang, app, dir, .. } = scene().await;
    // A bot account that is NOT exempted: Synapse allows it a burst of 10, then 0.2/s.
    let name = synapse::unique("slowbot");
    synapse::register(&name).await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;
    let room = greeted_room(&mut wang, &name).await;
    wang.say(&room, "/link community").await;
    wang.wait_for(20, |s| s.room == room && s.body.contains("now linked"))
        .await;
    for _ in 0..12 {
        wang.say(&room, "/tip").await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let tips = loop {
        let tips = wang.all_within(1, |s| s.room == room && s.body.contains("🃏")).await;
        if tips.len() >= 12 || std::time::Instant::now() > deadline {
            break tips;
        }
    };
    let mut tx = app.store.begin().await.unwrap();
    let rows: Vec<(i64, String, i64, Option<String>)> = beatbot::store::query(
        "SELECT id, status, attempts, last_error FROM outbox WHERE platform = 'matrix' ORDER BY id",
    )
    .fetch_all(&mut tx)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.at(0).unwrap(), r.at(1).unwrap(), r.at(2).unwrap(), r.at(3).unwrap()))
    .collect();
    assert_eq!(tips.len(), 12, "every tip arrives, once; outbox: {rows:#?}");
    let retried: i64 = beatbot::store::query("SELECT COUNT(*) FROM outbox WHERE platform = 'matrix' AND attempts > 1")
        .fetch_one(&mut tx)
        .await
        .and_then(|r| r.at(0))
        .unwrap();
    tx.commit().await.unwrap();
    assert!(retried > 0, "some sends were refused with M_LIMIT_EXCEEDED and retried");
    bot.stop().await;
}

/// A missing-person notice over Matrix: the officer's image (uploaded to the homeserver) goes
/// out to the group before the notice's text, with "I have information" as option 1; `/notice
/// found` edits the text and redacts the image.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notices_photo_is_taken_down_when_the_person_is_found() {
    use matrix_sdk::ruma::events::room::message::{ImageMessageEventContent, MessageType, RoomMessageEventContent};
    let Scene {
        mut wang,
        mut li,
        app,
        dir,
        name,
    } = scene().await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;
    let room = wang.create_room(&[&bot_id(&name), &li.user_id], false).await;
    wang.wait_for(30, |s| {
        s.room == room && s.body.contains("not linked to a police station")
    })
    .await;
    wang.say(&room, "/link community").await;
    wang.wait_for(20, |s| s.room == room && s.body.contains("now linked"))
        .await;
    li.wait_for_member(&room, &li.user_id.clone(), 20).await;

    let dm = wang
        .client
        .create_dm(&bot_id(&name))
        .await
        .expect("a direct room")
        .room_id()
        .to_owned();
    wang.wait_for_member(&dm, &bot_id(&name), 30).await;
    wang.say(&dm, "/notice missing").await;
    wang.wait_for(30, |s| s.room == dm && s.body.contains("Send a photo"))
        .await;
    // A 1×1 PNG.
    let png: Vec<u8> = vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00,
        0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D,
        0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    let upload = wang
        .client
        .media()
        .upload(&mime::IMAGE_PNG, png, None)
        .await
        .expect("uploading the photo");
    let image = ImageMessageEventContent::plain("boy.png".to_owned(), upload.content_uri);
    wang.client
        .get_room(&dm)
        .unwrap()
        .send(RoomMessageEventContent::new(MessageType::Image(image)))
        .await
        .expect("sending the photo");
    wang.wait_for(30, |s| s.room == dm && s.body.contains("Describe the person"))
        .await;
    for (answer, next) in [
        ("Li Xiaoming, 8, red jacket", "last seen?"),
        ("Xinhua Road park", "When were they"),
        ("today 14:30", "Which groups"),
        ("all", "MISSING PERSON"),
    ] {
        wang.say(&dm, answer).await;
        wang.wait_for(30, |s| s.room == dm && s.body.contains(next)).await;
    }
    wang.say(&dm, "1").await;
    let text = li
        .wait_for(30, |s| s.room == room && s.body.contains("MISSING PERSON"))
        .await;
    assert!(text.body.contains("I have information"), "{}", text.body);
    let photo = li
        .wait_for(10, |s| s.room == room && s.body == "photo" && s.sender == bot_id(&name))
        .await;

    wang.say(&dm, "/notice found 1").await;
    li.wait_for(30, |s| s.room == room && s.body.contains("Found")).await;
    let event_id = matrix_sdk::ruma::OwnedEventId::try_from(photo.event_id.as_str()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = li
            .client
            .get_room(&room)
            .unwrap()
            .event(&event_id, None)
            .await
            .expect("the photo event");
        let raw = event.raw().json().get();
        if raw.contains("redacted_because") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the photo was not redacted: {raw}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    bot.stop().await;
}

/// The safety index's chart goes to the homeserver once: both rooms' images carry the same
/// `mxc://` URI (a second upload would have been given another).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_chart_is_uploaded_once_and_its_mxc_uri_reused() {
    let Scene {
        mut wang,
        li: _li,
        app,
        dir,
        name,
    } = scene().await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;
    let mut urls = Vec::new();
    for _ in 0..2 {
        let room = wang.create_room(&[&bot_id(&name)], false).await;
        wang.wait_for(30, |s| {
            s.room == room && s.body.contains("not linked to a police station")
        })
        .await;
        wang.say(&room, "/link community").await;
        wang.wait_for(20, |s| s.room == room && s.body.contains("now linked"))
            .await;
        wang.say(&room, "/index").await;
        let text = wang
            .wait_for(30, |s| s.room == room && s.body.contains("Safety index"))
            .await;
        assert!(text.body.contains("Xinhua Road Station"), "{}", text.body);
        let image = wang
            .wait_for(10, |s| {
                s.room == room && s.image_url.is_some() && s.sender == bot_id(&name)
            })
            .await;
        urls.push(image.image_url.unwrap());
    }
    assert!(urls[0].starts_with("mxc://"), "{urls:?}");
    assert_eq!(urls[0], urls[1], "one upload, its URI reused");
    bot.stop().await;
}
