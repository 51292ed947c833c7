//! The authorization matrix: every role × every ticket action, each cell on a fresh bot. A
//! refused action is answered with a clear message and changes nothing (the tickets, their
//! history, reviews and enrolment codes are compared before and after); an allowed one does
//! what it says. Roles include a front desk of another hotel, a revoked front desk, officers
//! and an admin of another station, and a resident trying a front desk's form.

use beatbot::core::Content;
use beatbot::replay::{Replayer, Step, parse};
use beatbot::store::{invites, reviews, tickets};

use super::harness;

/// Ticket #1 is a Jinjiang Inn report by li, routed to wang; `rev` was a desk of the same
/// hotel and has been revoked. Ticket #1 is resolved first where an action needs that.
const WORLD: &str = r#"
@clock 2026-11-23T22:00:00+08:00
@station xinhua "Xinhua Road Station" lang=en
@station jiefang "Jiefang Road Station" lang=en
@officer wang xinhua beat=east
@officer zhou xinhua duty
@officer sun xinhua admin
@officer ma jiefang duty
@officer qian jiefang admin
@liaison li xinhua "Jinjiang Inn" beat=east
@liaison chen xinhua "Hanting Hotel" beat=west
@liaison rev xinhua "Jinjiang Inn" beat=east
@resident zhang
@group hotels liaison xinhua li chen rev wang
@group residents community xinhua zhang wang
> hotels li: /report noid room=305 name="Zhao Liu"
> dm wang: /revoke rev
"#;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    /// Done: the sender is answered with this text, and the state changed.
    Changes(&'static str),
    /// Allowed and read-only: answered with this text, nothing changed.
    Shows(&'static str),
    /// Refused with this text, nothing changed.
    Refused(&'static str),
}
use Outcome::*;

const NOT_FOUND: &str = "There is no ticket #1 that you can see.";
const STAFF_ONLY: &str = "is for police officers only.";
const ADMIN_ONLY: &str = "is for station admins only.";

/// One row: the action, whether ticket #1 is resolved first, and each role's outcome.
type Row = (&'static str, bool, Vec<(&'static str, Outcome)>);

fn matrix() -> Vec<Row> {
    let staff_only = |own: Outcome, other_station: Outcome| {
        vec![
            ("li", Refused(STAFF_ONLY)),
            ("chen", Refused(STAFF_ONLY)),
            ("rev", Refused(STAFF_ONLY)),
            ("zhang", Refused(STAFF_ONLY)),
            ("wang", own),
            ("zhou", own),
            ("sun", own),
            ("ma", other_station),
            ("qian", other_station),
        ]
    };
    vec![
        (
            "/status 1",
            false,
            vec![
                ("li", Shows("Ticket #1 — Guest without valid ID: open. Officer: wang.")),
                ("chen", Refused(NOT_FOUND)),
                ("rev", Refused(NOT_FOUND)),
                ("zhang", Refused(NOT_FOUND)),
                ("wang", Shows("Ticket #1 — Guest without valid ID: open.")),
                ("zhou", Shows("Ticket #1 — Guest without valid ID: open.")),
                ("sun", Shows("Ticket #1 — Guest without valid ID: open.")),
                ("ma", Refused(NOT_FOUND)),
                ("qian", Refused(NOT_FOUND)),
            ],
        ),
        (
            "/ack 1",
            false,
            staff_only(Changes("You acknowledged ticket #1."), Refused(NOT_FOUND)),
        ),
        (
            "/note 1 On my way",
            false,
            staff_only(Changes("Note added to ticket #1"), Refused(NOT_FOUND)),
        ),
        (
            "/resolve 1 Guest left",
            false,
            staff_only(Changes("Ticket #1 resolved."), Refused(NOT_FOUND)),
        ),
        (
            "/close 1 Duplicate",
            false,
            staff_only(Changes("Ticket #1 closed."), Refused(NOT_FOUND)),
        ),
        (
            "/assign 1 zhou",
            false,
            staff_only(Changes("Ticket #1 is now assigned to zhou."), Refused(NOT_FOUND)),
        ),
        (
            "/history 1",
            false,
            staff_only(
                Shows("Ticket #1 — Guest without valid ID — history:"),
                Refused(NOT_FOUND),
            ),
        ),
        // Another station's officers see their own (empty) figures, never ticket #1's.
        ("/stats", false, staff_only(Shows("tickets: 1,"), Shows("tickets: 0,"))),
        (
            "/tickets",
            false,
            vec![
                ("li", Refused(STAFF_ONLY)),
                ("chen", Refused(STAFF_ONLY)),
                ("rev", Refused(STAFF_ONLY)),
                ("zhang", Refused(STAFF_ONLY)),
                ("wang", Shows("#1 Guest without valid ID Jinjiang Inn")),
                ("zhou", Shows("No open tickets.")),
                ("sun", Shows("No open tickets.")),
                ("ma", Shows("No open tickets.")),
                ("qian", Shows("No open tickets.")),
            ],
        ),
        (
            "/report noid room=402 name=Wu",
            false,
            vec![
                ("li", Changes("Ticket #2 — Guest without valid ID — filed")),
                ("chen", Changes("Ticket #2 — Guest without valid ID — filed")),
                ("rev", Refused("You cannot file a \"Guest without valid ID\" report.")),
                ("zhang", Refused("You cannot file a \"Guest without valid ID\" report.")),
                ("wang", Refused("You cannot file a \"Guest without valid ID\" report.")),
                ("sun", Refused("You cannot file a \"Guest without valid ID\" report.")),
                ("ma", Refused("You cannot file a \"Guest without valid ID\" report.")),
            ],
        ),
        (
            "/invite \"New Inn\"",
            false,
            staff_only(
                Changes("Enrolment code for the front desk of New Inn"),
                Changes("Enrolment code for the front desk of New Inn"),
            ),
        ),
        (
            "/reviews",
            false,
            vec![
                ("li", Refused(ADMIN_ONLY)),
                ("rev", Refused(ADMIN_ONLY)),
                ("zhang", Refused(ADMIN_ONLY)),
                ("wang", Refused(ADMIN_ONLY)),
                ("zhou", Refused(ADMIN_ONLY)),
                ("sun", Shows("No open reviews.")),
                ("ma", Refused(ADMIN_ONLY)),
                ("qian", Shows("No open reviews.")),
            ],
        ),
        // Rating a resolved ticket: only its reporter, while still a desk of the hotel.
        (
            "press rate:1:2",
            true,
            vec![
                ("li", Changes("you rated ticket #1 2/5")),
                ("chen", Refused("That button is meant for someone else.")),
                ("rev", Refused("That button is meant for someone else.")),
                ("zhang", Refused("That button is meant for someone else.")),
                ("wang", Refused("That button is meant for someone else.")),
                ("ma", Refused("That button is meant for someone else.")),
            ],
        ),
        // Reopening a finished ticket in any way is refused for everyone.
        (
            "/ack 1",
            true,
            staff_only(Refused("Ticket #1 is already finished."), Refused(NOT_FOUND)),
        ),
    ]
}

/// Everything an action could change, as text to compare.
async fn snapshot(bot: &Replayer) -> String {
    let mut tx = bot.app.store.begin().await.unwrap();
    let mut parts = Vec::new();
    for id in 1..=2 {
        parts.push(format!("{:?}", tickets::get(&mut tx, id).await.unwrap()));
        parts.push(format!("{:?}", tickets::history(&mut tx, id).await.unwrap()));
    }
    for station in ["xinhua", "jiefang"] {
        parts.push(format!(
            "{:?}",
            reviews::open_of_station(&mut tx, station).await.unwrap()
        ));
        parts.push(format!(
            "{:?}",
            invites::pending(&mut tx, station, 0).await.unwrap().len()
        ));
    }
    tx.commit().await.unwrap();
    parts.join("\n")
}

async fn play(bot: &mut Replayer, text: &str) {
    for (line, step) in parse(text).expect("cell parses") {
        bot.step(&step)
            .await
            .unwrap_or_else(|e| panic!("line {line}: {e}\n{text}"));
    }
}

#[tokio::test]
async fn every_role_may_do_exactly_what_its_role_allows_and_a_refusal_changes_nothing() {
    let (scripts, faq) = harness::scripts();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (action, resolved_first, cells) in matrix() {
        for (who, outcome) in cells {
            let mut bot = Replayer::new(scripts.clone(), faq.clone()).await.unwrap();
            play(&mut bot, WORLD).await;
            if resolved_first {
                play(&mut bot, "> dm wang: /resolve 1 Guest checked in with a temporary ID.").await;
            }
            let before = snapshot(&bot).await;
            if let Some(data) = action.strip_prefix("press ") {
                // A press is sent directly (nobody but li was offered the button): the clock
                // step first marks where this action's messages begin.
                play(&mut bot, "@advance 1s").await;
                let press = Content::Press {
                    data: data.to_owned(),
                    message: None,
                };
                bot.send(None, who, press).await.unwrap();
            } else {
                play(&mut bot, &format!("> dm {who}: {action}")).await;
            }
            let (text, changes) = match outcome {
                Changes(t) => (t, true),
                Shows(t) | Refused(t) => (t, false),
            };
            let expect = parse(&format!("< dm {who}: {text}")).unwrap();
            let Step::Expect { .. } = &expect[0].1 else {
                unreachable!()
            };
            if let Err(e) = bot.step(&expect[0].1).await {
                failures.push(format!("{who} `{action}`: {e}"));
            }
            // Nobody outside the ticket hears of ticket #1 from the action.
            if matches!(outcome, Refused(_)) {
                for bystander in ["li", "chen", "rev", "zhang", "ma", "qian"] {
                    if bystander == who {
                        continue;
                    }
                    let quiet = parse(&format!("<! dm {bystander}: /./")).unwrap();
                    if let Err(e) = bot.step(&quiet[0].1).await {
                        failures.push(format!("{who} `{action}` (refused) reached {bystander}: {e}"));
                    }
                }
            }
            let after = snapshot(&bot).await;
            if changes && before == after {
                failures.push(format!("{who} `{action}` was answered but changed nothing"));
            }
            if !changes && before != after {
                failures.push(format!("{who} `{action}` changed the state:\n{before}\n---\n{after}"));
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} cells");
    assert!(
        failures.is_empty(),
        "{} of {checked} cells failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test]
async fn a_rating_out_of_range_or_given_twice_is_refused_and_changes_nothing() {
    let (scripts, faq) = harness::scripts();
    let mut bot = Replayer::new(scripts, faq).await.unwrap();
    play(&mut bot, WORLD).await;
    play(&mut bot, "> dm wang: /resolve 1 Guest checked in with a temporary ID.").await;
    let press = |data: &str| Content::Press {
        data: data.to_owned(),
        message: None,
    };
    for (data, answer) in [
        ("rate:1:9", "That button has expired."),
        ("rate:1:0", "That button has expired."),
        ("rate:1:x", "That button has expired."),
        ("rate:99:3", "That button has expired."),
    ] {
        play(&mut bot, "@advance 1s").await;
        let before = snapshot(&bot).await;
        bot.send(None, "li", press(data)).await.unwrap();
        play(&mut bot, &format!("< dm li: {answer}")).await;
        assert_eq!(before, snapshot(&bot).await, "{data} changed nothing");
    }
    play(&mut bot, "@advance 1s").await;
    bot.send(None, "li", press("rate:1:4")).await.unwrap();
    play(&mut bot, "< dm li: you rated ticket #1 4/5").await;
    play(&mut bot, "> dm li: /cancel").await;
    let before = snapshot(&bot).await;
    play(&mut bot, "@advance 1s").await;
    bot.send(None, "li", press("rate:1:1")).await.unwrap();
    play(&mut bot, "< dm li: Ticket #1 has already been rated.\n<! dm sun: /./").await;
    assert_eq!(before, snapshot(&bot).await, "a second rating changes nothing");
}
