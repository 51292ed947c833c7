//! `beatbot demo`: the whole bot on the console with no configuration. It plays a short
//! built-in scenario (a front desk's report becomes a ticket, the officer works it, an alert
//! goes out), then — when stdin is a terminal — lets you type as anyone:
//! `li@hotels> /report noid room=305`, `wang> /tickets`, `press wang: Confirm`.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::core::Content;
use crate::core::faq::FaqService;
use crate::platforms::console::Console;
use crate::replay::{Pattern, Replayer, Step, parse};
use crate::scripts::Scripts;
use crate::store::Store;

/// The built-in scenario, in transcript form.
pub const SCENARIO: &str = include_str!("demo_scenario.txt");

pub async fn run(scripts: Scripts, data_dir: &Path) -> Result<()> {
    let db = data_dir.join("demo.db");
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let store = Store::open(&format!("sqlite://{}", db.display())).await?;
    let faq = FaqService::new(&scripts);
    let mut bot = Replayer::with_store(store, Arc::new(scripts), faq, Console::printing()).await?;
    println!("beatbot demo — database {}\n", db.display());
    let steps = parse(SCENARIO).map_err(|(line, e)| anyhow::anyhow!("demo scenario line {line}: {e}"))?;
    for (line, step) in &steps {
        match step {
            Step::Say { chat, user, text } => {
                println!("\n{user}@{}> {text}", chat.as_deref().unwrap_or("dm"))
            }
            Step::Press { user, label } => println!("\n{user} presses {}", label.source()),
            Step::Advance(ms) => println!("\n… {} minutes later", ms / 60_000),
            _ => {}
        }
        bot.step(step)
            .await
            .map_err(|e| anyhow::anyhow!("demo scenario line {line}: {e}"))?;
    }
    if !std::io::stdin().is_terminal() {
        return Ok(());
    }
    println!("\nYour turn. Type as anyone: `li@hotels> /report item location=lobby`, `wang> /tickets`,");
    println!("`press wang: Confirm`, `zhang@residents> /help`. People: wang (officer), zhou (duty officer),");
    println!("li (Jinjiang Inn front desk), zhang (resident). Groups: hotels, residents. Ctrl-D quits.");
    repl(&mut bot).await
}

/// Reads `NAME@GROUP> TEXT`, `NAME> TEXT` (a private chat) and `press NAME: LABEL` lines from
/// stdin until end of input, on the real clock.
pub async fn repl(bot: &mut Replayer) -> Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        print_prompt();
        let Some(line) = lines.next_line().await? else {
            println!();
            return Ok(());
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        bot.set_clock(chrono::Utc::now().timestamp_millis());
        crate::workers::scheduler::tick(&bot.app).await?;
        if let Err(e) = interactive(bot, line).await {
            println!("! {e}");
        }
    }
}

fn print_prompt() {
    use std::io::Write;
    print!("> ");
    let _ = std::io::stdout().flush();
}

async fn interactive(bot: &mut Replayer, line: &str) -> Result<()> {
    if let Some(rest) = line.strip_prefix("press ") {
        let (user, label) = rest.split_once(':').context("write `press NAME: LABEL`")?;
        let label = Pattern::parse(label).map_err(anyhow::Error::msg)?;
        let step = Step::Press {
            user: user.trim().to_owned(),
            label,
        };
        return bot.step(&step).await.map_err(|e| anyhow::anyhow!(e));
    }
    let (who, text) = line
        .split_once('>')
        .context("write `NAME@GROUP> TEXT` or `NAME> TEXT` for a private chat")?;
    let (user, chat) = match who.split_once('@') {
        Some((u, c)) => (u.trim(), Some(c.trim())),
        None => (who.trim(), None),
    };
    bot.send(chat, user, Content::Text(text.trim().to_owned())).await
}
