//! Missing-person notices end to end on the console: an officer's guided `/notice missing`
//! with a photo; copies with the photo and an "I have information" button; a resident's press in
//! the group opens a private tip whose ticket goes to the notice's officer, nothing said in the
//! group; `/notice renew`; `/notice found` edits every copy without the description; the
//! retention purge removes the description and photo once the notice is long over.

use std::sync::Arc;

use beatbot::app::App;
use beatbot::clock::FakeClock;
use beatbot::core::Content;
use beatbot::domain::Platform;
use beatbot::platforms::console::Console;
use beatbot::store::query;
use beatbot::workers::delivery;

use super::delivery::{Flaky, app, say};
use super::harness;

const NOW: i64 = 1_764_896_400_000;

async fn press(app: &App, id: &str, chat: Option<&str>, who: &str, data: &str) {
    let content = Content::Press {
        data: data.to_owned(),
        message: None,
    };
    app.handle(&Console::inbound(id.into(), chat, who, content))
        .await
        .unwrap();
}

fn said(sink: &Flaky, chat: &str) -> Vec<String> {
    sink.sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(c, _)| c == chat)
        .map(|(_, t)| t.clone())
        .collect()
}

async fn one(app: &App, sql: &'static str) -> Option<String> {
    let mut tx = app.store.begin().await.unwrap();
    let row = query(sql).fetch_optional(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    row.and_then(|r| r.get::<Option<String>>("v").unwrap())
}

#[tokio::test]
async fn a_missing_person_notice_from_photo_to_found_and_purge() {
    let (store, _dir) = harness::sqlite().await;
    let clock = Arc::new(FakeClock::new(NOW));
    let app = app(store, clock.clone()).await;
    let sink = Flaky::default();
    let dm = |id: &str, text: &str| say(id, None, "wang", text);

    app.handle(&dm("n1", "/notice missing")).await.unwrap();
    let photo = Content::Photo {
        file_id: "photo-li-xiaoming".into(),
        caption: None,
    };
    app.handle(&Console::inbound("n2".into(), None, "wang", photo))
        .await
        .unwrap();
    for (id, answer) in [
        ("n3", "Li Xiaoming, 8, red jacket, blue school bag"),
        ("n4", "Xinhua Road park"),
        ("n5", "today 14:30"),
        ("n6", "all"),
    ] {
        app.handle(&dm(id, answer)).await.unwrap();
    }
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    let officer = said(&sink, "dm:wang").join("\n---\n");
    assert!(
        officer.contains("Send a photo") && officer.contains("Describe the person"),
        "{officer}"
    );
    assert!(
        officer.contains("MISSING PERSON") && officer.contains("red jacket"),
        "the preview: {officer}"
    );
    assert!(said(&sink, "residents").is_empty(), "nothing before Confirm");

    press(&app, "n7", None, "wang", "alert:send:1").await;
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    for group in ["residents", "hotels"] {
        let copies = said(&sink, group);
        assert_eq!(copies.len(), 1, "{group}: {copies:?}");
        assert!(copies[0].contains("Li Xiaoming") && copies[0].contains("Xinhua Road park"));
    }
    let photos = {
        let mut tx = app.store.begin().await.unwrap();
        let rows = query("SELECT photo, buttons FROM outbox WHERE alert_id = 1 ORDER BY id")
            .fetch_all(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        rows.iter()
            .map(|r| {
                (
                    r.get::<Option<String>>("photo").unwrap(),
                    r.get::<Option<String>>("buttons").unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(photos.len(), 2);
    for (photo, buttons) in &photos {
        assert_eq!(photo.as_deref(), Some("photo-li-xiaoming"), "sent with the photo");
        assert!(
            buttons.as_deref().unwrap_or("").contains("info:1"),
            "with the button: {buttons:?}"
        );
    }

    // zhang (who has a private chat with the bot) presses "I have information" in the group:
    // everything else happens privately.
    app.handle(&say("z0", Some("residents"), "zhang", "hello"))
        .await
        .unwrap();
    app.handle(&say("z1", None, "zhang", "/help")).await.unwrap();
    press(&app, "i1", Some("residents"), "zhang", "info:1").await;
    app.handle(&say("i2", None, "zhang", "I saw a boy in a red jacket, alone"))
        .await
        .unwrap();
    app.handle(&say("i3", None, "zhang", "the bus stop on Jianshe Road"))
        .await
        .unwrap();
    app.handle(&say("i4", None, "zhang", "10 minutes ago")).await.unwrap();
    let seen = Content::Photo {
        file_id: "tip-photo".into(),
        caption: None,
    };
    app.handle(&Console::inbound("i5".into(), None, "zhang", seen))
        .await
        .unwrap();
    app.handle(&say("i6", None, "zhang", "13812345678")).await.unwrap();
    app.handle(&say("i7", None, "zhang", "no")).await.unwrap();
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    let tipster = said(&sink, "dm:zhang").join("\n---\n");
    assert!(
        tipster.contains("only to the officer working notice #1"),
        "{tipster}\nall: {:?}",
        sink.sent.lock().unwrap()
    );
    let officer = said(&sink, "dm:wang").join("\n---\n");
    assert!(
        officer.contains("Information about notice #1") && officer.contains("bus stop"),
        "{officer}"
    );
    let assignee = one(
        &app,
        "SELECT CAST(assignee_id AS TEXT) AS v FROM tickets WHERE kind = 'tip'",
    )
    .await;
    let wang = one(&app, "SELECT CAST(id AS TEXT) AS v FROM people WHERE handle = 'wang'").await;
    assert_eq!(assignee, wang, "the ticket is the notice officer's");
    for group in ["residents", "hotels"] {
        for text in said(&sink, group) {
            assert!(
                !text.contains("zhang") && !text.contains("bus stop"),
                "{group} heard: {text}"
            );
        }
    }

    // Renewed, then found: every copy edited, the description gone from it.
    app.handle(&dm("r1", "/notice renew 1 10")).await.unwrap();
    app.handle(&dm("f1", "/notice found 1")).await.unwrap();
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    let officer = said(&sink, "dm:wang").join("\n---\n");
    assert!(
        officer.contains("runs for 10 more days") && officer.contains("marked found: 2 copies"),
        "{officer}"
    );
    for group in ["residents", "hotels"] {
        let last = said(&sink, group).pop().unwrap();
        assert!(
            last.contains("Found") && !last.contains("red jacket"),
            "{group}: {last}"
        );
    }
    app.handle(&dm("f2", "/notice found 1")).await.unwrap();
    delivery::drain(&app, Platform::Console, &sink).await.unwrap();
    assert!(said(&sink, "dm:wang").last().unwrap().contains("is not out"));

    // Long after: the description and the photo are purged.
    clock.advance(200 * 86_400_000);
    let purged = beatbot::retention::purge(&app, app.now(), false).await.unwrap();
    assert_eq!(purged.notices, 1);
    assert_eq!(
        one(&app, "SELECT text AS v FROM alerts WHERE id = 1").await.as_deref(),
        Some("")
    );
    assert_eq!(one(&app, "SELECT photo AS v FROM alerts WHERE id = 1").await, None);
    assert_eq!(
        one(
            &app,
            "SELECT photo AS v FROM outbox WHERE alert_id = 1 AND photo IS NOT NULL"
        )
        .await,
        None
    );
}
