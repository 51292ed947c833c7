//! Random text never panics the parser, and never breaks the bot: every message either gets
//! handled or refused with a message, never an internal error.

use beatbot::core::Content;
use beatbot::core::args::arguments;
use beatbot::core::commands::parse;
use beatbot::replay::{Replayer, parse as parse_transcript};
use proptest::prelude::*;

use super::harness;

proptest! {
    #[test]
    fn the_command_parser_never_panics(text in "\\PC{0,200}") {
        let _ = parse(&text);
        let _ = arguments(&text);
    }

    #[test]
    fn key_value_pairs_round_trip(key in "[a-z_]{1,10}", value in "[^\"“”\\s=]{1,20}") {
        let args = arguments(&format!("{key}={value}")).unwrap();
        prop_assert_eq!(args, vec![beatbot::core::args::Arg::Pair(key, value)]);
    }
}

const WORLD: &str = r#"
@station xinhua "Xinhua Road Station" lang=en
@officer wang xinhua beat=east
@liaison li xinhua "Jinjiang Inn" beat=east
@resident zhang
@group hotels liaison xinhua li wang
@group residents community xinhua zhang wang
"#;

fn message() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,80}",
        "/(report|ask|alert|ack|note|resolve|status|tip|lang|subscribe|feedback|answer|assign|cancel) \\PC{0,60}",
        "/report (noid|item|person|fraud|tip|lost)( [a-z]{1,6}=[^ ]{0,8}){0,4}",
        "(举报|帮助|提问) \\PC{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn random_messages_and_presses_never_break_the_bot(
        msgs in proptest::collection::vec((0usize..3, 0usize..3, message()), 1..8),
        press in "\\PC{0,20}",
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (scripts, faq) = harness::scripts();
            let mut bot = Replayer::new(scripts, faq).await.unwrap();
            for (_, step) in parse_transcript(WORLD).unwrap() {
                bot.step(&step).await.unwrap();
            }
            let users = ["zhang", "li", "wang"];
            let chats = [None, Some("hotels"), Some("residents")];
            for (u, c, text) in &msgs {
                bot.send(chats[*c], users[*u], Content::Text(text.clone())).await.unwrap();
                bot.send(None, users[*u], Content::Press { data: press.clone(), message: None }).await.unwrap();
                bot.send(None, users[*u], Content::Press { data: format!("d:1:{press}"), message: None }).await.unwrap();
            }
        });
    }
}
