//! Hostile and broken input, generated (proptest, stable Rust): Telegram update JSON (missing
//! and wrong-typed fields, huge texts, odd entities and UTF-16 offsets, unknown update kinds),
//! Matrix timeline events, the command, argument and field parsers, button data, the transcript
//! parser and bot-scripts TOML. None may panic; every refusal of a field value is a message
//! in the person's language with nothing left unfilled.
//!
//! `cargo test` runs a few hundred cases per target. The long run (figures in
//! docs/benchmarks.md): `FUZZ_CASES=100000 cargo test --test it fuzz -- --nocapture`.

use std::collections::BTreeMap;

use beatbot::core::args::arguments;
use beatbot::core::commands::parse;
use beatbot::core::fields;
use beatbot::domain::{Lang, Press};
use beatbot::platforms::matrix::convert as matrix;
use beatbot::platforms::telegram;
use beatbot::replay::parse as parse_transcript;
use matrix_sdk::ruma::UserId;
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

use super::harness;

/// Cases per target: `FUZZ_CASES`, or `default` in `cargo test`.
fn cases(default: u32) -> Config {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,30}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Texts people (and attackers) send: ordinary, commands, astral-plane emoji (two UTF-16
/// units each), combining marks, and huge.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,120}",
        "/(report|alert|ack|ask|start|tip|note|resolve)(@[a-z_]{0,20})? \\PC{0,60}",
        "[\u{1F600}-\u{1F64F}\u{0301}a ]{0,40}",
        (1usize..5000).prop_map(|n| "举报".repeat(n)),
    ]
}

fn entities() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        Just("bot_command".to_owned()),
        Just("mention".to_owned()),
        Just("text_link".to_owned()),
        Just("custom_emoji".to_owned()),
        "[a-z_]{1,12}",
    ];
    proptest::collection::vec((kind, -3i64..400, -3i64..400), 0..4).prop_map(|list| {
        Value::Array(
            list.into_iter()
                .map(|(kind, offset, length)| {
                    json!({ "type": kind, "offset": offset, "length": length, "url": "https://x.y/", "custom_emoji_id": "1" })
                })
                .collect(),
        )
    })
}

fn telegram_message() -> impl Strategy<Value = Value> {
    let chat_type = prop_oneof![
        Just("private"),
        Just("group"),
        Just("supergroup"),
        Just("channel"),
        Just("secret")
    ];
    let user = prop_oneof![9 => 1i64..10_000_000_000, 1 => any::<i64>()];
    let chat = prop_oneof![3 => Just(None), 1 => any::<i64>().prop_map(Some)];
    (
        any::<i32>(),
        chat,
        chat_type,
        user,
        prop_oneof![9 => Just(false), 1 => Just(true)],
        text(),
        entities(),
        prop_oneof![6 => Just(0u8), 1 => 1u8..5],
    )
        .prop_map(|(id, chat, chat_type, user, is_bot, text, entities, body)| {
            // Usually a private chat with the sender or a group; sometimes anything at all.
            let chat = chat.unwrap_or(if user % 2 == 0 { user } else { -1_000_000_000_000 - user });
            let chat_type = if chat_type == "secret" || chat < 0 {
                chat_type
            } else {
                "private"
            };
            let mut m = json!({
                "message_id": id,
                "date": 1_764_000_000,
                "chat": { "id": chat, "type": chat_type, "title": "群", "first_name": "Li" },
                "from": { "id": user, "is_bot": is_bot, "first_name": "李", "username": "li_desk" },
            });
            match body {
                0 => {
                    m["text"] = json!(text);
                    m["entities"] = entities;
                }
                1 => m["location"] = json!({ "latitude": 91.5, "longitude": -200.0 }),
                2 => m["contact"] = json!({ "phone_number": text, "first_name": "x" }),
                3 => {
                    m["photo"] = json!([{ "file_id": "f", "file_unique_id": "u", "width": 1, "height": 1 }]);
                    m["caption"] = json!(text);
                    m["caption_entities"] = entities;
                }
                _ => m["new_chat_members"] = json!([{ "id": user, "is_bot": true, "first_name": "b" }]),
            }
            m
        })
}

/// An update of a kind Telegram sends (or a made-up one), then mangled: a field of the
/// message dropped or replaced by any JSON at all.
fn telegram_update() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        6 => Just("message".to_owned()),
        1 => Just("edited_message".to_owned()),
        1 => Just("channel_post".to_owned()),
        2 => Just("callback_query".to_owned()),
        1 => Just("my_chat_member".to_owned()),
        1 => "[a-z_]{3,15}",
    ];
    (
        prop_oneof![9 => 0i64..u32::MAX as i64, 1 => any::<i64>()],
        kind,
        telegram_message(),
        prop_oneof!["(ack|resolve|rate|alert|form|lang|faq):[a-z0-9:]{0,20}", "\\PC{0,80}"],
        0usize..18,
        prop_oneof![Just(None), any_json().prop_map(Some)],
    )
        .prop_map(|(update_id, kind, mut message, data, field, replacement)| {
            let keys: Vec<String> = message.as_object().unwrap().keys().cloned().collect();
            if let Some(key) = keys.get(field) {
                match replacement {
                    Some(value) => message[key] = value,
                    None => {
                        message.as_object_mut().unwrap().remove(key);
                    }
                }
            }
            let body = match kind.as_str() {
                "callback_query" => json!({
                    "id": "cb", "from": message["from"].clone(), "chat_instance": "ci",
                    "data": data, "message": message,
                }),
                "my_chat_member" => json!({
                    "chat": message["chat"].clone(), "from": message["from"].clone(), "date": 1,
                    "old_chat_member": { "status": "member", "user": message["from"].clone() },
                    "new_chat_member": { "status": "kicked", "user": message["from"].clone(), "until_date": 0 },
                }),
                _ => message,
            };
            json!({ "update_id": update_id, kind: body })
        })
}

fn matrix_event() -> impl Strategy<Value = Value> {
    let event_type = prop_oneof![
        6 => Just("m.room.message".to_owned()),
        1 => Just("m.reaction".to_owned()),
        1 => Just("m.room.member".to_owned()),
        1 => "m\\.[a-z.]{1,20}",
    ];
    let msgtype = prop_oneof![
        6 => Just("m.text".to_owned()),
        1 => Just("m.notice".to_owned()),
        2 => Just("m.location".to_owned()),
        1 => Just("m.image".to_owned()),
        1 => "[a-z.]{1,12}",
    ];
    (
        event_type,
        msgtype,
        text(),
        prop_oneof![
            "geo:-?[0-9]{1,2}\\.[0-9]{1,6},-?[0-9]{1,3}\\.[0-9]{1,6}(;u=[0-9]{1,3})?",
            "(geo:)?[-0-9.,;a-z=]{0,30}"
        ],
        prop_oneof![9 => "@[a-z]{1,8}:example\\.org", 1 => "@[a-z]{0,8}(:[a-z.]{0,12})?"],
        0u8..4,
        prop_oneof![Just(None), any_json().prop_map(Some)],
    )
        .prop_map(|(event_type, msgtype, body, geo, sender, relation, extra)| {
            let mut content = json!({ "msgtype": msgtype, "body": body, "geo_uri": geo });
            match relation {
                0 => content["m.relates_to"] = json!({ "m.in_reply_to": { "event_id": "$abc" } }),
                1 => {
                    content["m.relates_to"] = json!({ "rel_type": "m.replace", "event_id": "$abc" });
                    content["m.new_content"] = json!({ "msgtype": "m.text", "body": "edited" });
                }
                2 => {
                    content["format"] = json!("org.matrix.custom.html");
                    content["formatted_body"] = json!("<b>x</b><mx-reply>");
                }
                _ => {}
            }
            if let Some(extra) = extra {
                content["extra"] = extra;
            }
            json!({
                "type": event_type, "event_id": "$event:example.org", "sender": sender,
                "origin_server_ts": 1_764_000_000_000u64, "content": content,
            })
        })
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn telegram_updates_never_panic_the_conversion(update in telegram_update()) {
        // What the webhook and getUpdates parse first (from the bytes: teloxide reads a parsed
        // `Value` differently); what does not parse is refused there.
        if let Ok(update) = serde_json::from_str::<teloxide::types::Update>(&update.to_string()) {
            let _ = telegram::convert(&update, "beatbot_test_bot", None);
            let _ = telegram::convert(&update, "beatbot_test_bot", Some(7));
        }
    }

    #[test]
    fn matrix_events_never_panic_the_conversion(event in matrix_event(), direct in any::<bool>()) {
        let bot = UserId::parse("@beatbot:example.org").unwrap();
        if let Ok(event) = serde_json::from_value::<AnySyncTimelineEvent>(event) {
            let _ = matrix::convert(&event, "!room:example.org", direct, &bot);
        }
    }

    #[test]
    fn the_matrix_helpers_never_panic(text in "\\PC{0,60}") {
        let _ = matrix::parse_geo_uri(&text);
        let _ = beatbot::platforms::matrix::format::chosen_option(&text);
        let _ = telegram::format::split(&text, 7);
        let _ = telegram::format::split_for_html(&text, 9);
        let _ = telegram::format::truncate_for_html(&text, 5);
    }

    #[test]
    fn commands_arguments_and_button_data_never_panic(text in text()) {
        let _ = parse(&text);
        let _ = arguments(&text);
        let _ = Press::decode(&text);
        let _ = beatbot::domain::check_input(&text);
        let _ = beatbot::domain::redact_numbers(&text);
    }

    #[test]
    fn every_refused_field_value_is_explained_in_both_languages(
        form in 0usize..16, field in 0usize..16, value in text(), now in 0i64..4_000_000_000_000,
    ) {
        let (scripts, _) = harness::scripts();
        let Some(form) = scripts.forms.get(form % scripts.forms.len()) else { return Ok(()) };
        let field = &form.fields[field % form.fields.len()];
        if let Err(refusal) = fields::validate(field, &value, now, scripts.settings.timezone) {
            let args: Vec<(&str, &str)> = refusal.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            for lang in [Lang::Zh, Lang::En] {
                let message = scripts.templates.render(lang, refusal.key, &args);
                prop_assert_ne!(&message, refusal.key, "no template for a refusal");
                let unfilled: Vec<String> = beatbot::scripts::placeholders(&message)
                    .into_iter()
                    .filter(|p| !refusal.args.iter().any(|(_, v)| v.contains(p.as_str())))
                    .collect();
                prop_assert!(unfilled.is_empty(), "{message}: {unfilled:?}");
                if lang == Lang::Zh {
                    prop_assert!(message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{message}");
                }
            }
        }
    }
}

/// Lines as transcripts have them, and lines that only look like them.
fn transcript_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "> (dm |press )?[a-z]{0,6}( [a-z]{0,6})?: \\PC{0,30}",
        "<!? (dm )?[a-z]{0,6}: \\PC{0,30}",
        "@(clock|advance|station|officer|liaison|resident|group|invite|lang|config)( \\PC{0,30})?",
        "@clock [0-9T:+-]{0,30}",
        "# \\PC{0,20}",
        "\\PC{0,40}",
    ]
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn the_transcript_parser_never_panics(lines in proptest::collection::vec(transcript_line(), 0..12)) {
        let text = lines.join("\n");
        if let Err((line, message)) = parse_transcript(&text) {
            prop_assert!(line <= lines.len() + 1, "line {line} of {}", lines.len());
            prop_assert!(!message.is_empty());
        }
    }
}

/// One mangling of one bot-scripts file.
#[derive(Debug, Clone)]
enum Mangle {
    DeleteLine(usize),
    ReplaceLine(usize, String),
    Truncate(usize),
    Insert(usize, String),
}

fn mangle() -> impl Strategy<Value = Mangle> {
    let line = prop_oneof![
        "\\PC{0,40}",
        "[a-z_]{1,10} = (\"\\PC{0,10}\"|[0-9-]{1,6}|true|\\[\\]|\\{\\})",
        "\\[\\[?[a-z_.]{1,12}\\]\\]?",
    ];
    prop_oneof![
        any::<usize>().prop_map(Mangle::DeleteLine),
        (any::<usize>(), line.clone()).prop_map(|(i, l)| Mangle::ReplaceLine(i, l)),
        any::<usize>().prop_map(Mangle::Truncate),
        (any::<usize>(), line).prop_map(|(i, l)| Mangle::Insert(i, l)),
    ]
}

fn apply(text: &str, mangle: &Mangle) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let n = lines.len().max(1);
    match mangle {
        Mangle::DeleteLine(i) if !lines.is_empty() => {
            lines.remove(i % n);
        }
        Mangle::ReplaceLine(i, l) if !lines.is_empty() => lines[i % n] = l.clone(),
        Mangle::Insert(i, l) => lines.insert(i % (lines.len() + 1), l.clone()),
        Mangle::Truncate(at) => {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            return text[..at].to_owned();
        }
        _ => {}
    }
    lines.join("\n")
}

thread_local! {
    /// A directory per test thread holding only the file a case mangles: each file's loader
    /// reads it (the others report their file missing), so a case costs one file's parse, not
    /// the whole directory's (67 ms a case in a debug build, too slow for 100,000 cases).
    static SCRIPTS_DIR: tempfile::TempDir = tempfile::tempdir().unwrap();
}

/// The shipped bot-scripts' TOML files, by path relative to the directory (read once).
fn script_files() -> &'static BTreeMap<String, String> {
    static FILES: std::sync::OnceLock<BTreeMap<String, String>> = std::sync::OnceLock::new();
    FILES.get_or_init(read_script_files)
}

fn read_script_files() -> BTreeMap<String, String> {
    let root = harness::root().join("bot-scripts");
    let mut files = BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                let relative = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
                files.insert(relative, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn mangled_bot_scripts_are_refused_with_a_located_message_never_a_panic(
        file in any::<prop::sample::Index>(),
        mangles in proptest::collection::vec(mangle(), 1..4),
    ) {
        let files = script_files();
        let (name, text) = files.iter().nth(file.index(files.len())).unwrap();
        let mangled = mangles.iter().fold(text.clone(), |t, m| apply(&t, m));
        let result = SCRIPTS_DIR.with(|dir| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &mangled).unwrap();
            let result = beatbot::scripts::load(dir.path());
            std::fs::remove_file(&path).unwrap();
            result
        });
        // The other files are missing, so there are always errors: each must say where.
        let errors = result.err().unwrap_or_default();
        prop_assert!(!errors.is_empty());
        for e in &errors {
            let shown = e.to_string();
            prop_assert!(shown.contains(".toml"), "an error without its file: {shown}");
        }
    }
}

/// The generators reach the code under test: a good share of the generated updates and
/// events (a quarter, measured) pass every check and become an inbound event, the rest are
/// refused somewhere on the way, and field values are refused (a fuzz target whose input never
/// gets past the first check tests nothing).
#[test]
fn the_generators_reach_the_code_under_test() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut sample = |strategy: &dyn Fn(&mut TestRunner) -> bool| (0..400).filter(|_| strategy(&mut runner)).count();

    let telegram = sample(&|runner| {
        let update = telegram_update().new_tree(runner).unwrap().current();
        serde_json::from_str::<teloxide::types::Update>(&update.to_string())
            .is_ok_and(|u| telegram::convert(&u, "beatbot_test_bot", None).is_some())
    });
    let bot = UserId::parse("@beatbot:example.org").unwrap();
    let matrix_events = sample(&|runner| {
        let event = matrix_event().new_tree(runner).unwrap().current();
        serde_json::from_value::<AnySyncTimelineEvent>(event)
            .is_ok_and(|e| matrix::convert(&e, "!room:example.org", false, &bot).is_some())
    });
    let (scripts, _) = harness::scripts();
    let refused = sample(&|runner| {
        let value = text().new_tree(runner).unwrap().current();
        scripts
            .forms
            .iter()
            .flat_map(|f| &f.fields)
            .any(|field| fields::validate(field, &value, 1_764_000_000_000, scripts.settings.timezone).is_err())
    });
    eprintln!(
        "of 400 each: {telegram} Telegram updates and {matrix_events} Matrix events became inbound events; {refused} texts were refused by a field"
    );
    assert!(
        telegram >= 60,
        "{telegram} of 400 Telegram updates became an inbound event"
    );
    assert!(
        matrix_events >= 60,
        "{matrix_events} of 400 Matrix events became an inbound event"
    );
    assert!(refused >= 100, "{refused} of 400 texts were refused by some field");
}
