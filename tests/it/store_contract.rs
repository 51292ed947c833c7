//! The store contract: the same assertions on SQLite and on PostgreSQL.

use std::collections::BTreeMap;

use beatbot::domain::{Button, GroupKind, Lang, Platform, ReportKind, Role, TicketStatus};
use beatbot::store::invites::{self, Unusable};
use beatbot::store::outbox::{NewMessage, Target};
use beatbot::store::people::NewPerson;
use beatbot::store::tickets::NewTicket;
use beatbot::store::{Store, counters, dialogues, groups, inbound, outbox, people, stations, subscriptions, tickets};

use super::harness;

async fn contract(store: &Store) {
    // Migrating again is a no-op.
    store.migrate().await.expect("second migrate");
    let mut tx = store.begin().await.unwrap();

    // Stations, hotels, people, identities.
    assert!(
        stations::add(&mut tx, "xinhua", "Xinhua Road", Lang::En, 1)
            .await
            .unwrap()
    );
    assert!(
        !stations::add(&mut tx, "xinhua", "again", Lang::En, 1).await.unwrap(),
        "a taken station id is refused"
    );
    let hotel = stations::ensure_hotel(&mut tx, "xinhua", "Jinjiang Inn", Some("east"))
        .await
        .unwrap();
    assert_eq!(
        stations::ensure_hotel(&mut tx, "xinhua", "Jinjiang Inn", None)
            .await
            .unwrap(),
        hotel
    );
    assert_eq!(
        stations::hotel(&mut tx, hotel).await.unwrap().unwrap().beat.as_deref(),
        Some("east")
    );
    let officer = NewPerson {
        handle: "wang",
        role: Role::Officer,
        station_id: Some("xinhua"),
        beat: Some("east"),
        hotel_id: None,
        duty: false,
        lang: None,
    };
    let wang = people::upsert(&mut tx, &officer, 1).await.unwrap();
    let liaison = NewPerson {
        handle: "li",
        role: Role::Liaison,
        station_id: Some("xinhua"),
        beat: None,
        hotel_id: Some(hotel),
        duty: false,
        lang: Some(Lang::Zh),
    };
    let li = people::upsert(&mut tx, &liaison, 1).await.unwrap();
    people::link_identity(&mut tx, Platform::Telegram, "601", li, Some("601"), 5)
        .await
        .unwrap();
    people::link_identity(
        &mut tx,
        Platform::Matrix,
        "@li:example.org",
        li,
        Some("!dm:example.org"),
        3,
    )
    .await
    .unwrap();
    assert_eq!(
        people::by_identity(&mut tx, Platform::Telegram, "601")
            .await
            .unwrap()
            .unwrap()
            .handle,
        "li"
    );
    assert_eq!(
        people::dm_target(&mut tx, li).await.unwrap(),
        Some((Platform::Telegram, "601".into())),
        "the identity used last wins"
    );
    people::link_identity(&mut tx, Platform::Matrix, "@li:example.org", li, None, 9)
        .await
        .unwrap();
    assert_eq!(
        people::dm_target(&mut tx, li).await.unwrap(),
        Some((Platform::Matrix, "!dm:example.org".into()))
    );
    let seen = people::seen(&mut tx, Platform::Matrix, "@li:example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (seen.person.id, seen.dm_chat.as_deref(), seen.last_seen_at),
        (li, Some("!dm:example.org"), 9)
    );
    assert_eq!(
        seen.person.station_lang,
        Some(Lang::En),
        "the station's language comes with the person"
    );
    let on_beat = people::staff(&mut tx, "xinhua", Some("east"), false).await.unwrap();
    assert_eq!(on_beat.iter().map(|p| p.id).collect::<Vec<_>>(), vec![wang]);
    assert!(
        people::staff(&mut tx, "xinhua", None, true).await.unwrap().is_empty(),
        "nobody is on duty"
    );

    // Groups.
    let g = groups::link(&mut tx, Platform::Telegram, "-100", GroupKind::Liaison, "xinhua", 1)
        .await
        .unwrap();
    assert_eq!(
        groups::link(&mut tx, Platform::Telegram, "-100", GroupKind::Community, "xinhua", 2)
            .await
            .unwrap(),
        g,
        "relinking keeps the id"
    );
    assert_eq!(
        groups::find(&mut tx, Platform::Telegram, "-100")
            .await
            .unwrap()
            .unwrap()
            .kind,
        GroupKind::Community
    );
    assert_eq!(
        groups::of_station(&mut tx, "xinhua", Some(GroupKind::Liaison))
            .await
            .unwrap()
            .len(),
        0
    );

    // Inbound dedupe.
    assert!(inbound::record(&mut tx, Platform::Telegram, "u1", 1).await.unwrap());
    assert!(
        !inbound::record(&mut tx, Platform::Telegram, "u1", 2).await.unwrap(),
        "a re-delivered update is recognised"
    );
    assert!(
        inbound::record(&mut tx, Platform::Matrix, "u1", 2).await.unwrap(),
        "ids are per platform"
    );
    assert_eq!(
        inbound::forget_before(&mut tx, 2).await.unwrap(),
        1,
        "only events before the cut are forgotten"
    );
    assert!(
        inbound::record(&mut tx, Platform::Telegram, "u1", 3).await.unwrap(),
        "a forgotten id counts as new"
    );

    // Tickets.
    let fields = BTreeMap::from([("room".to_owned(), "305".to_owned())]);
    let t = NewTicket {
        station_id: "xinhua",
        kind: ReportKind::Noid,
        hotel_id: Some(hotel),
        reporter_id: li,
        assignee_id: None,
        fields: &fields,
        origin_group_id: Some(g),
    };
    let id = tickets::insert(&mut tx, &t, &beatbot::scripts::Sla::default_for(ReportKind::Noid), 10)
        .await
        .unwrap();
    assert_eq!(
        tickets::open_for(&mut tx, "xinhua", wang).await.unwrap().len(),
        1,
        "unassigned tickets are in every officer's list"
    );
    assert!(tickets::acknowledge(&mut tx, id, wang, 20).await.unwrap());
    assert!(
        !tickets::acknowledge(&mut tx, id, wang, 21).await.unwrap(),
        "acknowledged once"
    );
    assert!(tickets::resolve(&mut tx, id, wang, "done", 30).await.unwrap());
    assert!(
        !tickets::resolve(&mut tx, id, wang, "again", 31).await.unwrap(),
        "resolved once"
    );
    let got = tickets::get(&mut tx, id).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.assignee_id, got.acked_at, got.fields),
        (TicketStatus::Resolved, Some(wang), Some(20), fields)
    );
    assert!(tickets::rate(&mut tx, id, 4).await.unwrap());
    assert!(!tickets::rate(&mut tx, id, 5).await.unwrap(), "a ticket is rated once");
    tickets::log(&mut tx, id, Some(wang), "telegram", "resolved", Some("done"), 30)
        .await
        .unwrap();
    assert_eq!(tickets::history(&mut tx, id).await.unwrap(), vec!["resolved"]);

    // Dialogues, counters, subscriptions.
    dialogues::put(&mut tx, li, 7, "{}", 100).await.unwrap();
    dialogues::put(&mut tx, li, 8, "{\"a\":1}", 200).await.unwrap();
    assert_eq!(dialogues::get(&mut tx, li).await.unwrap().unwrap().nonce, 8);
    assert_eq!(dialogues::expire(&mut tx, 150).await.unwrap(), 0);
    assert_eq!(dialogues::expire(&mut tx, 250).await.unwrap(), 1);
    assert_eq!(counters::next_counter(&mut tx, "tip").await.unwrap(), 0);
    assert_eq!(counters::next_counter(&mut tx, "tip").await.unwrap(), 1);
    subscriptions::subscribe(&mut tx, li, "weather").await.unwrap();
    subscriptions::subscribe(&mut tx, li, "weather").await.unwrap();
    assert_eq!(
        subscriptions::subscriptions(&mut tx, li).await.unwrap(),
        vec!["weather"]
    );
    assert_eq!(
        people::subscribers(&mut tx, "xinhua", "weather").await.unwrap().len(),
        1
    );

    // Outbox: idempotent enqueue.
    let buttons = vec![vec![Button::new("OK", &beatbot::domain::Press::Ack { ticket: 1 })]];
    let low = NewMessage {
        target: Target::Chat(Platform::Telegram, "-100"),
        text: "tip",
        buttons: &[],
        edit_of: None,
        priority: 0,
        idem_key: "k-low",
        alert_id: None,
        fallback_chat: None,
        photo: None,
        reply_to: None,
    };
    let high = NewMessage {
        text: "urgent",
        buttons: &buttons,
        priority: 3,
        idem_key: "k-high",
        ..low.clone()
    };
    let low_id = outbox::enqueue(&mut tx, &low, 1000).await.unwrap().unwrap();
    assert!(
        outbox::enqueue(&mut tx, &low, 1000).await.unwrap().is_none(),
        "same key, no second row"
    );
    let high_id = outbox::enqueue(&mut tx, &high, 1000).await.unwrap().unwrap();
    tx.commit().await.unwrap();

    // Claims: priority first, leased rows are not claimed twice, lease expiry returns them.
    let first = outbox::claim(store, Platform::Telegram, 1000, 1, 60_000).await.unwrap();
    assert_eq!(
        first.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![high_id],
        "urgent overtakes"
    );
    assert_eq!(first[0].buttons, buttons);
    assert_eq!(first[0].attempts, 1);
    let second = outbox::claim(store, Platform::Telegram, 1000, 10, 60_000)
        .await
        .unwrap();
    assert_eq!(
        second.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![low_id],
        "a leased row is not claimed again"
    );
    assert!(
        outbox::claim(store, Platform::Telegram, 1000, 10, 60_000)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        outbox::claim(store, Platform::Matrix, 1000, 10, 60_000)
            .await
            .unwrap()
            .is_empty(),
        "per platform"
    );
    let again = outbox::claim(store, Platform::Telegram, 70_000, 10, 60_000)
        .await
        .unwrap();
    assert_eq!(again.len(), 2, "expired leases come back");

    let mut tx = store.begin().await.unwrap();
    outbox::mark_delivered(&mut tx, high_id, Some("m-1"), 70_001)
        .await
        .unwrap();
    outbox::mark_retry(&mut tx, low_id, "429", 80_000).await.unwrap();
    assert_eq!(
        outbox::platform_message_id(&mut tx, high_id).await.unwrap().as_deref(),
        Some("m-1")
    );
    assert_eq!(outbox::platform_message_id(&mut tx, low_id).await.unwrap(), None);
    assert_eq!(
        outbox::next_due(&mut tx, Platform::Telegram, beatbot::store::replicas::Partition::ALL)
            .await
            .unwrap(),
        Some(80_000)
    );
    tx.commit().await.unwrap();
    assert!(
        outbox::claim(store, Platform::Telegram, 79_999, 10, 60_000)
            .await
            .unwrap()
            .is_empty(),
        "not before its retry time"
    );
    assert_eq!(
        outbox::claim(store, Platform::Telegram, 80_000, 10, 60_000)
            .await
            .unwrap()
            .len(),
        1
    );
    let mut tx = store.begin().await.unwrap();
    outbox::mark_dead(&mut tx, low_id, outbox::Failure::Gone, "chat closed")
        .await
        .unwrap();
    assert_eq!(outbox::pending_count(&mut tx, Platform::Telegram).await.unwrap(), 0);
    tx.commit().await.unwrap();

    // A message to a person goes to the private chat of the identity they used last.
    let mut tx = store.begin().await.unwrap();
    let to_li = NewMessage {
        target: Target::Person(li),
        idem_key: "k-li",
        ..low.clone()
    };
    assert!(outbox::enqueue(&mut tx, &to_li, 90_000).await.unwrap().is_some());
    let to_wang = NewMessage {
        target: Target::Person(wang),
        idem_key: "k-wang",
        ..low.clone()
    };
    assert!(
        outbox::enqueue(&mut tx, &to_wang, 90_000).await.unwrap().is_none(),
        "no private chat known"
    );
    tx.commit().await.unwrap();
    let dm = outbox::claim(store, Platform::Matrix, 90_000, 10, 60_000)
        .await
        .unwrap();
    assert_eq!(
        dm.iter().map(|m| m.chat_id.as_str()).collect::<Vec<_>>(),
        vec!["!dm:example.org"]
    );

    // Many rows at once (more than one statement's worth), chats and people mixed.
    let keys: Vec<String> = (0..450).map(|i| format!("bulk-{i}")).collect();
    let bulk: Vec<NewMessage<'_>> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| NewMessage {
            target: match i % 3 {
                0 => Target::Chat(Platform::Telegram, "-100"),
                1 => Target::Person(li),
                _ => Target::Person(wang),
            },
            idem_key: key,
            ..low.clone()
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    let inserted = outbox::enqueue_many(&mut tx, &bulk, 100_000).await.unwrap();
    let keys: Vec<&str> = bulk.iter().map(|m| m.idem_key).collect();
    assert_eq!(outbox::missing_keys(&mut tx, &keys).await.unwrap().len(), 150);
    assert_eq!(inserted, 300, "wang has no private chat: his 150 rows are not inserted");
    assert!(
        outbox::enqueue_many(&mut tx, &bulk, 100_000).await.unwrap() == 0,
        "all keys taken"
    );
    tx.commit().await.unwrap();
    invite_contract(store, hotel, wang, li).await;
}

/// Enrolment codes: good once, until they expire, unless withdrawn.
async fn invite_contract(store: &Store, hotel: i64, wang: i64, li: i64) {
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        stations::find_hotel(&mut tx, "xinhua", "JINJIANG inn")
            .await
            .unwrap()
            .map(|h| h.id),
        Some(hotel)
    );
    for code in ["AAAA2222", "BBBB3333", "CCCC4444"] {
        invites::create(&mut tx, code, "xinhua", hotel, wang, 1_000, 10_000)
            .await
            .unwrap();
    }
    assert_eq!(invites::pending(&mut tx, "xinhua", 2_000).await.unwrap().len(), 3);
    let used = invites::redeem(&mut tx, "AAAA2222", li, 2_000).await.unwrap().unwrap();
    assert_eq!((used.hotel_id, used.created_by), (hotel, wang));
    assert_eq!(used.hotel_name, "Jinjiang Inn");
    assert_eq!(
        invites::redeem(&mut tx, "AAAA2222", wang, 2_000).await.unwrap(),
        Err(Unusable::Used)
    );
    assert_eq!(
        invites::redeem(&mut tx, "BBBB3333", li, 10_000).await.unwrap(),
        Err(Unusable::Expired)
    );
    assert!(invites::revoke(&mut tx, "xinhua", "CCCC4444", 3_000).await.unwrap());
    assert!(!invites::revoke(&mut tx, "xinhua", "CCCC4444", 3_000).await.unwrap());
    assert_eq!(
        invites::redeem(&mut tx, "CCCC4444", li, 3_000).await.unwrap(),
        Err(Unusable::Revoked)
    );
    assert_eq!(
        invites::redeem(&mut tx, "DDDD5555", li, 3_000).await.unwrap(),
        Err(Unusable::Unknown)
    );
    assert_eq!(
        invites::pending(&mut tx, "xinhua", 3_000).await.unwrap().len(),
        1,
        "BBBB3333, until it expires"
    );
    assert_eq!(invites::liaisons(&mut tx, "xinhua").await.unwrap().len(), 1);
    invites::unenrol(&mut tx, li).await.unwrap();
    assert!(invites::liaisons(&mut tx, "xinhua").await.unwrap().is_empty());
    invites::enrol(&mut tx, li, "xinhua", hotel).await.unwrap();
    assert_eq!(invites::liaisons(&mut tx, "xinhua").await.unwrap()[0].handle, "li");
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_store_contract_holds_on_sqlite() {
    let (store, _dir) = harness::sqlite().await;
    contract(&store).await;
}

#[tokio::test]
async fn the_store_contract_holds_on_postgres() {
    let Some((store, name)) = harness::postgres().await else {
        return;
    };
    contract(&store).await;
    harness::drop_postgres(store, &name).await;
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_outbox_row_and_no_dedupe_record() {
    let (store, _dir) = harness::sqlite().await;
    let mut tx = store.begin().await.unwrap();
    inbound::record(&mut tx, Platform::Console, "e1", 1).await.unwrap();
    let m = NewMessage {
        target: Target::Chat(Platform::Console, "g"),
        text: "x",
        buttons: &[],
        edit_of: None,
        priority: 0,
        idem_key: "k",
        alert_id: None,
        fallback_chat: None,
        photo: None,
        reply_to: None,
    };
    outbox::enqueue(&mut tx, &m, 1).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(outbox::pending_count(&mut tx, Platform::Console).await.unwrap(), 0);
    assert!(inbound::record(&mut tx, Platform::Console, "e1", 2).await.unwrap());
    tx.commit().await.unwrap();
}
