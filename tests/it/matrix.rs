//! beatbot on a real Synapse: people are matrix-sdk clients in rooms with the bot. Linking a
//! room, a front desk's report becoming a ticket, the officer reached in a direct room the bot
//! opens, options answered by number, an encrypted room, a restart that answers what came in
//! while it was down and nothing twice, invites from other servers refused.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use beatbot::app::App;
use beatbot::clock::SystemClock;
use beatbot::domain::{Lang, Platform, Role};
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

/// Station xinhua (English), officer wang on beat east and front desk li of the Jinjiang Inn,
/// both on Matrix.
async fn world(wang: &Person, li: &Person) -> (App, tempfile::TempDir) {
    let (store, dir) = harness::sqlite().await;
    let (scripts, faq) = harness::scripts();
    let app = App::from_parts(store, scripts, faq, Arc::new(SystemClock));
    app.add_station("xinhua", "Xinhua Road Station", Some(Lang::En))
        .await
        .unwrap();
    let mx = |p: &Person| vec![(Platform::Matrix, p.user_id.to_string(), Some(p.user_id.to_string()))];
    app.add_person(
        "wang",
        Role::Officer,
        Some("xinhua"),
        Some("east"),
        None,
        false,
        None,
        &mx(wang),
    )
    .await
    .unwrap();
    app.add_person(
        "li",
        Role::Liaison,
        Some("xinhua"),
        Some("east"),
        Some("Jinjiang Inn"),
        false,
        None,
        &mx(li),
    )
    .await
    .unwrap();
    (app, dir)
}

fn bot_id(name: &str) -> matrix_sdk::ruma::OwnedUserId {
    format!("@{name}:localhost").try_into().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_room_a_report_a_ticket_and_the_officer_reached_in_a_direct_room() {
    let mut wang = Person::new("wang").await;
    let mut li = Person::new("li").await;
    let (app, dir) = world(&wang, &li).await;
    let name = bot_account().await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;

    let room = wang.create_room(&[&bot_id(&name), &li.user_id], false).await;
    wang.wait_for(30, |s| {
        s.room == room && s.body.contains("not linked to a police station")
    })
    .await;
    wang.say(&room, "/link liaison").await;
    wang.wait_for(20, |s| {
        s.room == room && s.body.contains("now linked to Xinhua Road Station")
    })
    .await;

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
    let mut wang = Person::new("wang").await;
    let li = Person::new("li").await;
    let (app, dir) = world(&wang, &li).await;
    let name = bot_account().await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;

    let room = wang.create_room(&[&bot_id(&name)], true).await;
    let greeting = wang
        .wait_for(30, |s| s.room == room && s.body.contains("not linked"))
        .await;
    assert!(greeting.encrypted, "the bot writes encrypted in an encrypted room");
    wang.say(&room, "/link community").await;
    let linked = wang
        .wait_for(30, |s| s.room == room && s.body.contains("now linked"))
        .await;
    assert!(linked.encrypted, "and it read the encrypted command");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_without_a_new_login_and_answers_each_message_once() {
    let mut wang = Person::new("wang").await;
    let li = Person::new("li").await;
    let (app, dir) = world(&wang, &li).await;
    let name = bot_account().await;
    let bot = start_bot(&app, dir.path(), &name, Vec::new()).await;
    let device = bot.client.device_id().map(ToOwned::to_owned);

    let room = wang.create_room(&[&bot_id(&name)], false).await;
    wang.wait_for(30, |s| s.room == room && s.body.contains("not linked"))
        .await;
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
    let mut wang = Person::new("wang").await;
    let li = Person::new("li").await;
    let (app, dir) = world(&wang, &li).await;
    let name = bot_account().await;
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
