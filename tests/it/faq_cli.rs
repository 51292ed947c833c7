//! The FAQ tools from the command line, as a station admin uses them: `faq query`, `faq eval`,
//! `station set`, and the checker's FAQ, synonym and placeholder errors.

use super::cli::beatbot;
use super::harness;

fn query(question: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = beatbot(dir.path())
        .args(["faq", "query", "--json", question])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn faq_query_says_what_the_bot_would_do_as_json() {
    let v = query("没有身份证怎么开房");
    assert_eq!(v["answered"], true, "{v}");
    assert_eq!(v["id"], "no-id-hotel-stay", "{v}");
    assert_eq!(v["emergency"], false, "{v}");
    assert!(
        v["score"].as_f64().unwrap() > v["runner_up"]["score"].as_f64().unwrap(),
        "{v}"
    );
    assert!(v["runner_up"]["id"].is_string(), "{v}");

    let v = query("someone is breaking into my neighbour's house right now");
    assert_eq!(v["answered"], true, "{v}");
    assert_eq!(v["id"], "emergency-110", "{v}");
    assert_eq!(v["emergency"], true, "{v}");

    let v = query("what's the weather like tomorrow");
    assert_eq!(v["answered"], false, "{v}");
    assert_eq!(v["emergency"], false, "{v}");

    let v = query("id card");
    assert_eq!(v["answered"], false, "{v}");
    let offered: Vec<&str> = v["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert!(
        offered.contains(&"id-card-lost") && offered.contains(&"id-card-apply"),
        "{v}"
    );
}

#[test]
fn faq_eval_counts_and_exits_1_below_the_targets() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.tsv");
    std::fs::write(
        &good,
        "# a small set\nno-id-hotel-stay\t没有身份证怎么开房\nemergency-110\tWhen should I call 110 instead of messaging here?\n-\twhat's the weather like tomorrow\n",
    )
    .unwrap();
    let out = beatbot(dir.path()).args(["faq", "eval"]).arg(&good).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("in scope: 2  right: 2 (100.0 %)  wrong: 0"), "{text}");
    assert!(text.contains("off topic: 1  not answered: 1"), "{text}");

    let bad = dir.path().join("bad.tsv");
    std::fs::write(
        &bad,
        "passport\t没有身份证怎么开房\n-\tWhen should I call 110 instead of messaging here?\n",
    )
    .unwrap();
    let out = beatbot(dir.path()).args(["faq", "eval"]).arg(&bad).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("line 1: [passport] 没有身份证怎么开房  → wrong: answered no-id-hotel-stay"),
        "{text}"
    );
    assert!(text.contains("line 2: [-] When should I call 110"), "{text}");
    assert!(text.contains("NOT MET"), "{text}");

    let broken = dir.path().join("broken.tsv");
    std::fs::write(&broken, "passport how long\n").unwrap();
    let out = beatbot(dir.path()).args(["faq", "eval"]).arg(&broken).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
}

#[test]
fn station_set_stores_facts_and_refuses_an_unknown_station() {
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| {
        let out = beatbot(dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&["station", "add", "xinhua", "Xinhua Road Station"]);
    ok(&[
        "station",
        "set",
        "xinhua",
        "--hours",
        "Mon-Fri 8:30-17:30",
        "--phone",
        "010-6512-3456",
    ]);
    ok(&[
        "faq",
        "query",
        "--station",
        "xinhua",
        "what time does the police station open",
    ]);
    let out = beatbot(dir.path())
        .args(["station", "set", "nowhere", "--hours", "9-5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no station `nowhere`"));
    let out = beatbot(dir.path()).args(["station", "set", "xinhua"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--hours"));
}

#[test]
fn scripts_check_refuses_faq_synonym_and_placeholder_mistakes_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("bad-scripts");
    super::cli::copy_dir(&harness::root().join("bot-scripts"), &scripts);
    let faq = std::fs::read_to_string(scripts.join("faq.toml")).unwrap();
    let faq = faq
        .replacen("id = \"id-card-lost\"", "id = \"id-card-apply\"", 1)
        .replacen(
            "户籍窗口办公时间：{station.household_hours}",
            "户籍窗口办公时间：{station.fax}",
            1,
        );
    // The passport entry loses its English examples.
    let start = faq.find("id = \"passport\"").unwrap();
    let examples = start + faq[start..].find("examples = {").unwrap();
    let en = examples + faq[examples..].find("en = [").unwrap();
    let end = en + faq[en..].find("] }").unwrap();
    let faq = format!("{}en = []{}", &faq[..en], &faq[end + 1..]);
    std::fs::write(scripts.join("faq.toml"), faq).unwrap();
    let synonyms = std::fs::read_to_string(scripts.join("synonyms.toml")).unwrap();
    std::fs::write(
        scripts.join("synonyms.toml"),
        format!("{synonyms}\n[[synonyms]]\nwords = [\"护照\", \"travel document\"]\n"),
    )
    .unwrap();

    let text = super::cli::failing_check(dir.path(), &scripts);
    let has = |file: &str, what: &str| super::cli::has_located_line(&text, file, what);
    assert!(has("faq.toml", "duplicate id: faq `id-card-apply`"), "{text}");
    assert!(has("faq.toml", "unknown placeholder {station.fax}"), "{text}");
    assert!(has("faq.toml", "faq `passport` has no `en` examples"), "{text}");
    assert!(has("synonyms.toml", "`护照` is in two synonym groups"), "{text}");
}
