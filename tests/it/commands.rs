//! The command registry, walked: every command, typed by its English name and by each Chinese
//! alias, by a resident, a front desk, an officer and a station admin. Whoever the command's
//! audience leaves out is refused with the message naming the command; whoever it allows is
//! never told so; a word that is no command is refused as unknown.

use beatbot::core::commands::{Audience, COMMANDS};
use beatbot::domain::Role;
use beatbot::replay::{Replayer, parse};

use super::harness;

const WORLD: &str = r#"
@clock 2026-11-23T10:00:00+08:00
@station xinhua "Xinhua Road Station" lang=en
@officer wang xinhua beat=east
@officer sun xinhua admin
@liaison li xinhua "Jinjiang Inn" beat=east
@resident zhang
"#;

const PEOPLE: [(&str, Role); 4] = [
    ("zhang", Role::Resident),
    ("li", Role::Liaison),
    ("wang", Role::Officer),
    ("sun", Role::StationAdmin),
];

async fn step(bot: &mut Replayer, line: &str) -> Result<(), String> {
    for (_, step) in parse(line).map_err(|e| format!("{line}: {e:?}"))? {
        bot.step(&step).await.map_err(|e| format!("`{line}`: {e}"))?;
    }
    Ok(())
}

#[tokio::test]
async fn every_command_is_refused_to_exactly_the_roles_its_audience_leaves_out() {
    let (scripts, faq) = harness::scripts();
    let mut bot = Replayer::new(scripts, faq).await.unwrap();
    for (_, s) in parse(WORLD).unwrap() {
        bot.step(&s).await.unwrap();
    }
    let mut failures = Vec::new();
    let mut walked = 0;
    for command in COMMANDS {
        let typed = std::iter::once(format!("/{}", command.name)).chain(command.aliases.iter().map(|a| a.to_string()));
        for text in typed {
            // Two messages from each person per command: at people's pace, not a flood.
            step(&mut bot, "@advance 2s").await.unwrap();
            for (who, role) in PEOPLE {
                // In the asker's language, which a Chinese alias may have chosen.
                let refusal = match command.audience {
                    Audience::Anyone => None,
                    Audience::Staff => Some(r"(is for police officers only\.|仅限民警使用。)"),
                    Audience::Admin => Some(r"(is for station admins only\.|仅限所领导（管理员）使用。)"),
                };
                // `/cancel` first, so that no half-filled report takes the line as an answer.
                let mut result = step(&mut bot, &format!("> dm {who}: /cancel")).await;
                result = result.and(step(&mut bot, &format!("> dm {who}: {text}")).await);
                let check = match refusal {
                    Some(r) if !command.audience.allows(role) => format!("< dm {who}: /\\/{} {r}/", command.name),
                    _ => format!("<! dm {who}: /only\\.|I don't know the command|仅限|没有 \\//"),
                };
                if let Err(e) = result.and(step(&mut bot, &check).await) {
                    failures.push(format!("{who} ({role:?}) typing `{text}`: {e}"));
                }
                walked += 1;
            }
        }
    }
    assert!(walked >= COMMANDS.len() * PEOPLE.len() * 2, "walked {walked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    step(&mut bot, "> dm wang: /frobnicate").await.unwrap();
    step(&mut bot, "< dm wang: I don't know the command /frobnicate.")
        .await
        .unwrap();
}
