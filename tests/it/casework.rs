//! Casework across restarts and from the command line: deadlines kept in the database are
//! acted on by a bot started later; `beatbot purge [--dry-run]` and `beatbot stats [--csv]`
//! on a database a bot has worked in.

use std::path::Path;
use std::process::Command;

use beatbot::replay::{Replayer, parse};
use beatbot::store::{Store, tickets};

use super::harness;

async fn play(bot: &mut Replayer, text: &str) {
    for (line, step) in parse(text).expect("parses") {
        bot.step(&step).await.unwrap_or_else(|e| panic!("line {line}: {e}"));
    }
}

const WORLD: &str = r#"
@station xinhua "Xinhua Road Station" lang=en retention=30
@officer wang xinhua beat=east
@officer zhou xinhua duty
@liaison li xinhua "Jinjiang Inn" beat=east
@group hotels liaison xinhua li wang
"#;

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("test.db").display())
}

#[tokio::test]
async fn a_deadline_set_before_a_restart_is_escalated_by_the_bot_started_after_it() {
    let (store, dir) = harness::sqlite().await;
    let (scripts, faq) = harness::scripts();
    let mut bot = Replayer::with_store(store.clone(), scripts.clone(), faq.clone(), Default::default())
        .await
        .unwrap();
    play(&mut bot, &format!("@clock 2026-11-23T22:00:00+08:00\n{WORLD}")).await;
    play(&mut bot, "> hotels li: /report noid room=305 name=\"Zhao Liu\"").await;
    store.close().await;
    drop(bot);

    // Twenty minutes later a new process opens the same database and ticks once.
    let store = Store::open(&db_url(dir.path())).await.unwrap();
    let mut bot = Replayer::with_store(store.clone(), scripts, faq, Default::default())
        .await
        .unwrap();
    play(
        &mut bot,
        "@clock 2026-11-23T22:20:00+08:00\n@advance 1s\n< dm zhou: has not been acknowledged within 15 min",
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    let t = tickets::get(&mut tx, 1).await.unwrap().unwrap();
    assert_eq!(
        t.escalation,
        beatbot::domain::Escalation::Duty,
        "the duty officer step is recorded"
    );
    assert_eq!(
        tickets::history(&mut tx, 1).await.unwrap(),
        vec!["created", "missed_ack", "escalated_duty"]
    );
    tx.commit().await.unwrap();
}

fn beatbot(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beatbot"));
    cmd.current_dir(dir)
        .env("BEATBOT_SCRIPTS_DIR", harness::root().join("bot-scripts"))
        .env("BEATBOT_DATABASE__URL", db_url(dir));
    cmd
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = beatbot(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn purge_dry_run_counts_and_purge_keeps_only_an_anonymous_skeleton() {
    let (store, dir) = harness::sqlite().await;
    let (scripts, faq) = harness::scripts();
    let mut bot = Replayer::with_store(store.clone(), scripts, faq, Default::default())
        .await
        .unwrap();
    // Worked 60 days ago, on a station that keeps personal data 30 days.
    let then = chrono::Utc::now() - chrono::Duration::days(60);
    play(&mut bot, &format!("@clock {}\n{WORLD}", then.to_rfc3339())).await;
    play(
        &mut bot,
        "> hotels li: /report noid room=305 name=\"Zhao Liu\" id=11010519491231002X action=refused\n\
         > dm wang: /note 1 Called Zhao Liu back\n\
         > dm wang: /resolve 1 Zhao Liu came to the station\n\
         > press li: /^2$/\n\
         > dm li: Too slow for Zhao Liu\n\
         > hotels li: /report item location=lobby description=\"open ticket, never purged\"",
    )
    .await;
    store.close().await;
    drop(bot);

    let dry = run(dir.path(), &["purge", "--dry-run"]);
    assert!(dry.contains("would purge personal data of 1 ticket(s)"), "{dry}");
    assert!(dry.contains("xinhua: 1"), "{dry}");
    let store = Store::open(&db_url(dir.path())).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let before = tickets::get(&mut tx, 1).await.unwrap().unwrap();
    assert_eq!(
        before.fields.get("name").map(String::as_str),
        Some("Zhao Liu"),
        "a dry run changes nothing"
    );
    tx.commit().await.unwrap();
    store.close().await;

    let done = run(dir.path(), &["purge"]);
    assert!(done.contains("purged personal data of 1 ticket(s)"), "{done}");
    let store = Store::open(&db_url(dir.path())).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let t = tickets::get(&mut tx, 1).await.unwrap().unwrap();
    assert_eq!(
        t.fields.into_iter().collect::<Vec<_>>(),
        vec![("action".to_owned(), "refused".to_owned())],
        "only the non-identifying choice survives"
    );
    assert_eq!((t.resolution, t.rating_comment, t.rating), (None, None, Some(2)));
    assert!(t.purged_at.is_some());
    let history = tickets::ticket_history(&mut tx, 1).await.unwrap();
    assert!(
        history
            .iter()
            .all(|e| !e.detail.as_deref().unwrap_or("").contains("Zhao")),
        "{history:?}"
    );
    assert_eq!(history.len(), 6, "who did what and when stays: {history:?}");
    let open = tickets::get(&mut tx, 2).await.unwrap().unwrap();
    assert!(open.purged_at.is_none() && open.fields.contains_key("description"));
    // Delivered messages older than the retention period keep no text.
    assert_eq!(
        beatbot::store::retention::old_messages(&mut tx, chrono::Utc::now().timestamp_millis(), false)
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    store.close().await;
    let again = run(dir.path(), &["purge"]);
    assert!(again.contains("purged personal data of 0 ticket(s)"), "{again}");

    // The skeleton still counts.
    let text = run(
        dir.path(),
        &[
            "stats",
            "--station",
            "xinhua",
            "--since",
            &then.format("%Y-%m-%d").to_string(),
        ],
    );
    assert!(text.contains("tickets: 2, still open: 1."), "{text}");
    assert!(text.contains("Average rating: 2.0 (n=1)"), "{text}");
    let csv = run(
        dir.path(),
        &["stats", "--station", "xinhua", "--since", "2000-01-01", "--csv"],
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "metric,group,value");
    assert!(lines.contains(&"tickets,all,2"), "{csv}");
    assert!(lines.contains(&"tickets_by_kind,noid,1"), "{csv}");
    assert!(lines.contains(&"tickets_by_hotel,Jinjiang Inn,2"), "{csv}");
    assert!(lines.contains(&"rating,average,2.00"), "{csv}");
    let out = beatbot(dir.path())
        .args(["stats", "--station", "nowhere"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no station `nowhere`"));
}
