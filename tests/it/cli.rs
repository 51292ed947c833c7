//! The command line as an operator uses it: `scripts check`, `replay`, admin commands.

use std::path::Path;
use std::process::Command;

use super::harness;

pub(crate) fn beatbot(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beatbot"));
    cmd.current_dir(dir)
        .env("BEATBOT_SCRIPTS_DIR", harness::root().join("bot-scripts"));
    cmd
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// `beatbot scripts check DIR`'s output, asserting that it failed with exit code 1.
pub(crate) fn failing_check(dir: &Path, scripts: &Path) -> String {
    let out = beatbot(dir).args(["scripts", "check"]).arg(scripts).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    text
}

/// A `file:line: message` line of the checker naming `file` and saying `what`.
pub(crate) fn has_located_line(text: &str, file: &str, what: &str) -> bool {
    text.lines().any(|l| {
        l.contains(file) && l.split(':').nth(1).is_some_and(|n| n.parse::<usize>().is_ok()) && l.contains(what)
    })
}

#[test]
fn the_variables_that_share_the_prefix_but_are_no_configuration_are_not_read_as_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = beatbot(dir.path())
        .env("BEATBOT_LOG", "warn")
        .env("BEATBOT_TRANSCRIPT", "faq_")
        .env("BEATBOT_TEST_POSTGRES_URL", "postgres://nowhere/test")
        .args(["faq", "query", "身份证丢了怎么补办"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn scripts_check_accepts_the_shipped_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let out = beatbot(dir.path())
        .args(["scripts", "check"])
        .arg(harness::root().join("bot-scripts"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn scripts_check_reports_every_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("bad-scripts");
    copy_dir(&harness::root().join("bot-scripts"), &scripts);
    let forms = std::fs::read_to_string(scripts.join("forms.toml")).unwrap();
    let forms = forms.replacen("type = \"room\"", "type = \"roomz\"", 1).replacen(
        "pattern = '^[A-Za-z0-9-]{1,8}$'",
        "pattern = '^[A-Z'",
        1,
    );
    let forms = forms
        .replacen(
            "sla = { ack_minutes = 10, resolve_hours = 2, remind_minutes = 30 }",
            "sla = { ack_minutes = 0, resolve_hours = 2, remind_minutes = 30 }",
            1,
        )
        .replacen(
            "key = \"name\"\ntype = \"text\"\nrequired = true",
            "key = \"name\"\ntype = \"text\"\nrequired = true\nask = true",
            1,
        );
    std::fs::write(scripts.join("forms.toml"), forms).unwrap();
    let tips = std::fs::read_to_string(scripts.join("tips.toml")).unwrap();
    let tips = tips.replacen("id = \"theft-02\"", "id = \"theft-01\"", 1);
    std::fs::write(scripts.join("tips.toml"), tips).unwrap();
    let en = std::fs::read_to_string(scripts.join("templates/en.toml")).unwrap();
    std::fs::write(
        scripts.join("templates/en.toml"),
        en.replacen("list_empty = ", "list_empty_x = ", 1),
    )
    .unwrap();

    let text = failing_check(dir.path(), &scripts);
    let has = |file: &str, what: &str| has_located_line(&text, file, what);
    assert!(has("forms.toml", "unknown field type `roomz`"), "{text}");
    assert!(has("forms.toml", "bad regex"), "{text}");
    assert!(
        has("forms.toml", "form `item` sla: every time must be positive"),
        "{text}"
    );
    assert!(has("forms.toml", "`ask` is for optional multichoice fields"), "{text}");
    assert!(has("tips.toml", "duplicate id: tip `theft-01`"), "{text}");
    assert!(has("zh-CN.toml", "missing translation: `ticket.list_empty`"), "{text}");
}

#[test]
fn demo_refuses_invalid_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("s");
    copy_dir(&harness::root().join("bot-scripts"), &scripts);
    std::fs::write(scripts.join("faq.toml"), "[[faq]]\nid = \"x\"\n").unwrap();
    let out = beatbot(dir.path())
        .env("BEATBOT_SCRIPTS_DIR", &scripts)
        .arg("demo")
        .output()
        .unwrap();
    fails_saying(&out, "faq.toml:");
}

#[test]
fn demo_runs_its_scenario_and_exits_when_stdin_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = beatbot(dir.path())
        .arg("demo")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Ticket #1"), "{text}");
    assert!(text.contains("delivered to 2/2"), "{text}");
    assert!(
        dir.path().join("data/demo.db").exists(),
        "the demo runs on an embedded SQLite file"
    );
}

#[test]
fn a_failing_transcript_prints_file_line_expectation_and_what_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fails.txt");
    std::fs::write(
        &file,
        "@station x \"X\" lang=en\n@resident zhang\n\n> dm zhang: /tip\n< dm zhang: /no such words/\n",
    )
    .unwrap();
    let out = beatbot(dir.path()).arg("replay").arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("fails.txt:5:"), "{text}");
    assert!(text.contains("/no such words/"), "{text}");
    assert!(text.contains("🃏"), "the messages actually delivered are shown: {text}");
}

#[test]
fn a_bad_configuration_value_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = beatbot(dir.path())
        .env("BEATBOT_TELEGRAM__MODE", "pigeon")
        .args(["scripts", "check"])
        .output()
        .unwrap();
    fails_saying(&out, "telegram.mode");
}

#[test]
fn admin_commands_set_up_a_station_on_the_default_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = beatbot(dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["migrate"]);
    run(&["station", "add", "xinhua", "Xinhua Road Station"]);
    run(&[
        "officer",
        "add",
        "wang",
        "--station",
        "xinhua",
        "--beat",
        "east",
        "--telegram",
        "501",
    ]);
    run(&[
        "liaison",
        "add",
        "li",
        "--station",
        "xinhua",
        "--hotel",
        "Jinjiang Inn",
        "--beat",
        "east",
        "--telegram",
        "601",
    ]);
    run(&[
        "group",
        "link",
        "--station",
        "xinhua",
        "--kind",
        "liaison",
        "--telegram",
        "-1001234",
    ]);
    assert!(dir.path().join("data/beatbot.db").exists());
    let out = beatbot(dir.path())
        .args(["station", "add", "xinhua", "Again"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a duplicate station is refused");
    let out = beatbot(dir.path())
        .args(["officer", "add", "zhou", "--station", "nowhere"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no station `nowhere`"));
}

#[test]
fn the_documented_example_configuration_loads_and_matches_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let out = beatbot(dir.path())
        .arg("--config")
        .arg(harness::root().join("deploy/beatbot.toml"))
        .args(["scripts", "check"])
        .arg(harness::root().join("bot-scripts"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let documented: beatbot::config::Settings =
        toml::from_str(&std::fs::read_to_string(harness::root().join("deploy/beatbot.toml")).unwrap()).unwrap();
    let defaults = beatbot::config::Settings::default();
    assert_eq!(
        format!("{documented:?}"),
        format!("{defaults:?}"),
        "deploy/beatbot.toml documents the real defaults"
    );
}

#[test]
fn serve_without_telegram_or_matrix_serves_the_console_on_the_configured_database() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = beatbot(dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["station", "add", "xinhua", "Xinhua Road Station", "--lang", "en"]);
    run(&[
        "officer",
        "add",
        "wang",
        "--station",
        "xinhua",
        "--beat",
        "east",
        "--console",
        "wang",
    ]);
    run(&[
        "liaison",
        "add",
        "li",
        "--station",
        "xinhua",
        "--hotel",
        "Jinjiang Inn",
        "--beat",
        "east",
        "--console",
        "li",
    ]);
    run(&[
        "group",
        "link",
        "--station",
        "xinhua",
        "--kind",
        "liaison",
        "--console",
        "hotels",
    ]);

    let mut child = beatbot(dir.path())
        .arg("serve")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"li@hotels> /report noid room=305 name=\"Zhao Liu\"\nwang> /tickets\npress wang: Acknowledge\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("[hotels] beatbot: Ticket #1"), "{text}");
    assert!(text.contains("[dm wang] beatbot: Open tickets (1)"), "{text}");
    assert!(
        text.contains("[dm li] beatbot: Your ticket #1 has been acknowledged"),
        "{text}"
    );

    // The audit log of what just happened, as CSV.
    let export = |since: &str| {
        beatbot(dir.path())
            .args(["audit", "export", "--station", "xinhua", "--since", since])
            .output()
            .unwrap()
    };
    let out = export("2000-01-01");
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "ticket,at,actor,platform,action,detail");
    assert!(
        lines[1].starts_with("1,") && lines[1].contains(",li,console,created,"),
        "{csv}"
    );
    assert!(
        lines[2].starts_with("1,") && lines[2].contains(",wang,console,acknowledged,"),
        "{csv}"
    );
    assert!(lines[1].contains("+08:00"), "times in the station's zone: {csv}");
    let out = export("2999-01-01");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        1,
        "only the header"
    );
    let out = export("yesterday");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("write it as 2026-11-01"));
    let out = beatbot(dir.path())
        .args(["audit", "export", "--station", "nowhere", "--since", "2000-01-01"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no station `nowhere`"));

    let out = beatbot(dir.path())
        .arg("serve")
        .env("BEATBOT_MATRIX__HOMESERVER", "http://127.0.0.1:9")
        .env("BEATBOT_MATRIX__PASSWORD", "x")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a Matrix homeserver that does not answer stops start-up, it is not ignored"
    );
}

#[test]
fn clap_lists_and_enforces_the_valid_languages_kinds_and_telegram_modes() {
    let dir = tempfile::tempdir().unwrap();
    let help = beatbot(dir.path()).args(["group", "link", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("community") && help.contains("liaison"), "{help}");
    let help = beatbot(dir.path()).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("polling") && help.contains("webhook"), "{help}");

    let refused = beatbot(dir.path())
        .args([
            "group",
            "link",
            "--station",
            "xinhua",
            "--kind",
            "party",
            "--console",
            "g",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "clap refuses: {stderr}");
    assert!(stderr.contains("party") && stderr.contains("community"), "{stderr}");
    let refused = beatbot(dir.path())
        .args(["station", "add", "xinhua", "Xinhua", "--lang", "fr"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        !dir.path().join("data/beatbot.db").exists(),
        "a refused command opens no database"
    );
    let accepted = beatbot(dir.path())
        .args(["station", "add", "xinhua", "Xinhua", "--lang", "中文"])
        .output()
        .unwrap();
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
}

/// The command failed, and its error output says `needle`.
fn fails_saying(out: &std::process::Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it succeeded: {stderr}");
    assert!(stderr.contains(needle), "{stderr}");
}
