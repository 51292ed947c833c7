//! Every transcript in tests/transcripts/ passes, on SQLite and on PostgreSQL.

use beatbot::replay::{Replayer, parse, run_file};

use super::harness;

#[tokio::test]
async fn every_transcript_passes_on_sqlite() {
    let (scripts, faq) = harness::scripts();
    let files = harness::transcript_files();
    assert!(
        files.len() >= 15 || std::env::var("BEATBOT_TRANSCRIPT").is_ok(),
        "expected at least 15 transcripts, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        failures.extend(
            run_file(file, scripts.clone(), faq.clone())
                .await
                .expect("transcript runs"),
        );
    }
    let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(
        failures.is_empty(),
        "{} transcript failure(s):\n{}",
        failures.len(),
        report.join("\n")
    );
}

#[tokio::test]
async fn every_transcript_passes_on_postgres() {
    let (scripts, faq) = harness::scripts();
    let mut failures = Vec::new();
    for file in harness::transcript_files() {
        let Some((store, name)) = harness::postgres().await else {
            return;
        };
        let text = std::fs::read_to_string(&file).expect("read transcript");
        let steps = parse(&text).expect("transcript parses");
        let mut bot = Replayer::with_store(store.clone(), scripts.clone(), faq.clone(), Default::default())
            .await
            .expect("replayer");
        for (line, step) in &steps {
            if let Err(e) = bot.step(step).await {
                failures.push(format!("{}:{line}: {e}", file.display()));
                break;
            }
        }
        harness::drop_postgres(store, &name).await;
    }
    assert!(failures.is_empty(), "on PostgreSQL:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn the_demo_scenario_passes_its_own_checks() {
    let (scripts, faq) = harness::scripts();
    let steps = parse(beatbot::demo::SCENARIO).expect("demo scenario parses");
    let mut bot = Replayer::new(scripts, faq).await.expect("replayer");
    for (line, step) in &steps {
        bot.step(step).await.unwrap_or_else(|e| panic!("demo line {line}: {e}"));
    }
}
