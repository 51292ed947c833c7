//! Privacy across every scenario: after each transcript has been played (on the console, on
//! SQLite), no outbox row addressed to a group contains an ID number or a phone number in
//! full, or any guest name, room number, ID or phone number that a transcript typed in a
//! report field (`name=`, `room=`, `id=`, `phone=`, `number=`) — nor anything a resident or a
//! front desk wrote in their private chat (a tip, the answer to a notice, a report's details):
//! what is said to the police in private stays private.

use beatbot::replay::{Replayer, Step, parse};
use regex::Regex;

use super::harness;

/// The personal values typed in report fields of a message.
fn personal_values(text: &str) -> Vec<String> {
    let field = Regex::new(r#"\b(name|room|id|phone|number)=("[^"]*"|“[^”]*”|\S+)"#).unwrap();
    field
        .captures_iter(text)
        .map(|c| c[2].trim_matches(['"', '“', '”']).to_owned())
        .filter(|v| v.chars().count() >= 3)
        .collect()
}

#[tokio::test]
async fn no_group_message_of_any_scenario_carries_personal_data() {
    let (scripts, faq) = harness::scripts();
    let full_id = Regex::new(r"\d{17}[\dXx]|\d{15}").unwrap();
    let full_phone = Regex::new(r"1[3-9]\d{9}").unwrap();
    let mut leaks = Vec::new();
    let mut group_rows = 0;
    let mut private_sentences = 0;
    for file in harness::transcript_files() {
        let steps = parse(&std::fs::read_to_string(&file).unwrap()).expect("transcript parses");
        let mut personal = Vec::new();
        let staff: Vec<&str> = steps
            .iter()
            .filter_map(|(_, s)| match s {
                Step::Officer { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        let mut replayer = Replayer::new(scripts.clone(), faq.clone()).await.unwrap();
        for (_, step) in &steps {
            if let Step::Say { text, chat, user } = step {
                personal.extend(personal_values(text));
                // Sentences a resident or front desk wrote privately (not commands, not short
                // answers such as "yes" that any message may contain).
                if chat.is_none()
                    && !staff.contains(&user.as_str())
                    && !text.starts_with('/')
                    && text.chars().count() >= 20
                {
                    personal.push(text.clone());
                    private_sentences += 1;
                }
            }
            // Failures are the transcript tests' business; here only what was sent matters.
            let _ = replayer.step(step).await;
        }
        let mut tx = replayer.app.store.begin().await.unwrap();
        let rows: Vec<(String, String)> = beatbot::store::query(
            "SELECT o.chat_id, o.text FROM outbox o JOIN groups g ON g.platform = o.platform AND g.chat_id = o.chat_id",
        )
        .fetch_all(&mut tx)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.at(0).unwrap(), r.at(1).unwrap()))
        .collect();
        tx.commit().await.unwrap();
        group_rows += rows.len();
        for (chat, text) in rows {
            let typed = personal.iter().find(|v| text.contains(v.as_str()));
            if full_id.is_match(&text) || full_phone.is_match(&text) || typed.is_some() {
                leaks.push(format!("{} → group {chat}: {text}", file.display()));
            }
        }
    }
    assert!(group_rows > 50, "the scenarios wrote to groups ({group_rows} rows)");
    assert!(
        private_sentences > 20,
        "the scenarios wrote privately to the police ({private_sentences} sentences)"
    );
    assert!(
        leaks.is_empty(),
        "personal data in group messages:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn personal_values_are_found_in_report_lines() {
    assert_eq!(
        personal_values(r#"/report noid room=305 name="Zhao Liu" id=11010519491231002X"#),
        ["305", "Zhao Liu", "11010519491231002X"]
    );
    assert!(personal_values("/report item location=lobby").is_empty());
}
