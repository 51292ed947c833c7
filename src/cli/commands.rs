//! What each `beatbot` subcommand does, as library functions `main.rs` calls: they print
//! their result and return the process's exit code; errors are returned for `main` to print.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, bail};

use super::{FaqCommand, IdentityArgs, LangArg};
use crate::config::{self, Config};
use crate::core::faq::FaqService;
use crate::domain::{GroupKind, Platform, Role};
use crate::scripts;
use crate::startup::{app, load_scripts};
use crate::store::Store;

/// `scripts check`: every problem as `file:line: message`, exit 1 if any.
pub fn scripts_check(dir: &Path) -> ExitCode {
    match scripts::load(dir) {
        Ok(s) => {
            println!(
                "{}: ok ({} forms, {} FAQ entries, {} not-police topics, {} synonym groups, {} tips)",
                dir.display(),
                s.forms.len(),
                s.faq.len(),
                s.out_of_scope.len(),
                s.matching.synonyms.len(),
                s.tips.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors {
                println!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}

/// `replay FILE…`: runs each transcript; exit 1 if any expectation fails.
pub async fn replay(config: &Config, files: &[PathBuf]) -> Result<ExitCode> {
    let scripts = Arc::new(load_scripts(&config.scripts_dir)?);
    let faq = FaqService::new(&scripts);
    let mut failed = 0;
    for file in files {
        let failures = crate::replay::run_file(file, scripts.clone(), faq.clone()).await?;
        if failures.is_empty() {
            println!("ok   {}", file.display());
        } else {
            failed += 1;
            for f in failures {
                println!("FAIL {f}");
            }
        }
    }
    println!("{} transcript(s), {} failed", files.len(), failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `demo`: the built-in scenario, then the console.
pub async fn demo(config: &Config) -> Result<()> {
    crate::demo::run(load_scripts(&config.scripts_dir)?, &config.data_dir).await
}

/// `migrate`: applies the migrations.
pub async fn migrate(config: &Config) -> Result<()> {
    Store::open(&config.database_url).await?.close().await;
    println!("migrations applied to {}", config::redact(&config.database_url));
    Ok(())
}

/// `audit export`: every ticket action of a station since a date, as CSV on stdout.
pub async fn audit_export(config: &Config, station: &str, since: &str) -> Result<()> {
    let app = app(config).await?;
    let since = crate::audit::start_of_day(since, app.scripts.settings.timezone)?;
    let rows = crate::audit::export(&app, station, since, std::io::stdout().lock()).await?;
    eprintln!("{rows} ticket action(s) exported");
    Ok(())
}

/// `purge`: personal data of tickets past their station's retention period.
pub async fn purge(config: &Config, dry_run: bool) -> Result<()> {
    let app = app(config).await?;
    let purged = crate::retention::purge(&app, app.now(), dry_run).await?;
    let verb = if dry_run { "would purge" } else { "purged" };
    println!(
        "{verb} personal data of {} ticket(s) and {} notice(s); {} old message text(s)",
        purged.ticket_count(),
        purged.notices,
        purged.messages
    );
    for (station, n) in &purged.tickets {
        println!("  {station}: {n}");
    }
    Ok(())
}

/// `stats`: a station's figures since a date (default: the last 30 days), as text or CSV.
pub async fn stats(config: &Config, station: &str, since: Option<&str>, csv: bool) -> Result<()> {
    let app = app(config).await?;
    let tz = app.scripts.settings.timezone;
    let now = app.now();
    let since = match since {
        Some(date) => crate::audit::start_of_day(date, tz)?,
        None => now - 30 * 86_400_000,
    };
    let (stats, lang) = crate::core::stats::for_station(&app.store, station, since, now).await?;
    if csv {
        crate::core::stats::write_csv(&stats, std::io::stdout().lock())?;
    } else {
        let days = (now - since + 86_399_999) / 86_400_000;
        println!("{}", crate::core::stats::render(&app.scripts, lang, &stats, days));
    }
    Ok(())
}

/// `station add`.
pub async fn station_add(config: &Config, id: &str, name: &str, lang: Option<LangArg>) -> Result<()> {
    app(config).await?.add_station(id, name, lang.map(Into::into)).await?;
    println!("station {id} added");
    Ok(())
}

/// `station retention`: how long personal data of finished tickets is kept.
pub async fn station_retention(config: &Config, id: &str, days: i64) -> Result<()> {
    if !(1..=3650).contains(&days) {
        bail!("--days must be between 1 and 3650");
    }
    app(config).await?.set_retention(id, days).await?;
    println!("station {id}: personal data of finished tickets kept {days} days");
    Ok(())
}

/// The facts `station set` can change, in order: (key, value given; `""` clears).
pub type StationFacts = [(&'static str, Option<String>); 4];

/// `station set`: the facts FAQ answers show.
pub async fn station_set(config: &Config, id: &str, facts: StationFacts) -> Result<()> {
    if facts.iter().all(|(_, v)| v.is_none()) {
        bail!("give at least one of --address, --phone, --hours, --household-hours");
    }
    let app = app(config).await?;
    for (key, value) in &facts {
        if let Some(v) = value {
            let v = v.trim();
            app.set_station_fact(id, key, (!v.is_empty()).then_some(v)).await?;
        }
    }
    println!("station {id}: facts saved");
    Ok(())
}

/// A person's identities on each platform from `--telegram`, `--matrix`, `--console`, with the
/// private chat the bot writes to.
fn identities(who: &IdentityArgs) -> Vec<(Platform, String, Option<String>)> {
    let mut ids = Vec::new();
    if let Some(t) = &who.telegram {
        // A Telegram user's private chat with the bot has the user's id.
        ids.push((Platform::Telegram, t.clone(), Some(t.clone())));
    }
    if let Some(m) = &who.matrix {
        // The bot can always open a direct room with a Matrix user: until one exists, the user
        // id stands for it, and the delivery worker opens (and remembers) the room.
        ids.push((Platform::Matrix, m.clone(), Some(m.clone())));
    }
    if let Some(c) = &who.console {
        ids.push((
            Platform::Console,
            c.clone(),
            Some(crate::platforms::console::dm_chat(c)),
        ));
    }
    ids
}

/// Where a person works: their station, beat and (front desks) hotel.
pub struct Post<'a> {
    pub station: &'a str,
    pub beat: Option<&'a str>,
    pub hotel: Option<&'a str>,
}

/// `officer add` (role officer or station admin) and `liaison add` (role liaison).
pub async fn person_add(
    config: &Config,
    handle: &str,
    role: Role,
    post: Post<'_>,
    duty: bool,
    who: &IdentityArgs,
) -> Result<()> {
    app(config)
        .await?
        .add_person(
            handle,
            role,
            Some(post.station),
            post.beat,
            post.hotel,
            duty,
            who.lang.map(Into::into),
            &identities(who),
        )
        .await?;
    match post.hotel {
        Some(hotel) => println!("liaison {handle} added for {hotel}"),
        None => println!("officer {handle} added to {}", post.station),
    }
    Ok(())
}

/// `group link`: a Telegram chat, Matrix room or console group becomes the station's.
pub async fn group_link(config: &Config, station: &str, kind: GroupKind, platform: Platform, chat: &str) -> Result<()> {
    app(config).await?.link_group(platform, chat, kind, station).await?;
    println!("{platform} {chat} linked to {station} as {}", kind.as_str());
    Ok(())
}

/// `faq query` and `faq eval`: bot-scripts' FAQ alone, or as at a station (its facts and own
/// entries from the database).
pub async fn faq(config: &Config, command: FaqCommand) -> Result<ExitCode> {
    let station = match &command {
        FaqCommand::Query { station, .. } | FaqCommand::Eval { station, .. } => station.clone(),
    };
    let index = match &station {
        Some(s) => app(config).await?.faq_index(s).await?,
        None => crate::matching::index(&load_scripts(&config.scripts_dir)?),
    };
    // Written without `print!`, so that `beatbot faq eval … | head` ends quietly.
    let out = |text: &str| {
        use std::io::Write as _;
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    };
    match command {
        FaqCommand::Query { question, json, .. } => {
            let verdict = index.verdict(&question);
            if json {
                out(&format!("{}\n", crate::faq_cli::query_json(&verdict)));
            } else {
                out(&crate::faq_cli::query_text(&verdict));
                out(&format!("words: {}\n", index.query_tokens(&question).join(" ")));
            }
            Ok(ExitCode::SUCCESS)
        }
        FaqCommand::Eval { file, sweep: true, .. } => {
            out(&crate::faq_cli::sweep_file(&index, &file)?);
            Ok(ExitCode::SUCCESS)
        }
        FaqCommand::Eval { file, .. } => {
            let report = crate::faq_cli::eval_file(&index, &file)?;
            out(&report.render());
            Ok(if report.passes() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
