//! The `beatbot` command: tracing → configuration → scripts → store → the chosen subcommand.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use beatbot::app::App;
use beatbot::clock::SystemClock;
use beatbot::config::Config;
use beatbot::core::faq::FaqService;
use beatbot::domain::{GroupKind, Lang, Platform, Role};
use beatbot::scripts::{self, Scripts};
use beatbot::store::Store;

#[derive(Parser)]
#[command(name = "beatbot", version, about = "Community-policing group-chat bot")]
struct Cli {
    /// Configuration file (default: beatbot.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot on the configured platforms.
    Serve,
    /// Play the built-in scenario on the console, then let you type as anyone.
    Demo,
    /// Run transcript files; exit 1 if any expectation fails.
    Replay {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Apply database migrations.
    Migrate,
    /// Validate bot-scripts.
    Scripts {
        #[command(subcommand)]
        command: ScriptsCommand,
    },
    /// Stations.
    Station {
        #[command(subcommand)]
        command: StationCommand,
    },
    /// Officers.
    Officer {
        #[command(subcommand)]
        command: OfficerCommand,
    },
    /// Hotel liaisons (front desks).
    Liaison {
        #[command(subcommand)]
        command: LiaisonCommand,
    },
    /// Groups and rooms.
    Group {
        #[command(subcommand)]
        command: GroupCommand,
    },
    /// The audit log of ticket actions.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Purge personal data of tickets finished longer ago than their station's retention
    /// period (the scheduler also does this daily).
    Purge {
        /// Only count what would be purged.
        #[arg(long)]
        dry_run: bool,
    },
    /// The FAQ: what the bot would do with a question, and how it fares on a labelled set.
    Faq {
        #[command(subcommand)]
        command: FaqCommand,
    },
    /// A station's figures: reports per kind and hotel, times to acknowledge and resolve,
    /// missed deadlines, average rating.
    Stats {
        #[arg(long)]
        station: String,
        /// From this date (YYYY-MM-DD); default: the last 30 days.
        #[arg(long)]
        since: Option<String>,
        /// CSV (metric,group,value) instead of text.
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Every ticket action of a station since a date, as CSV on stdout:
    /// `beatbot audit export --station xinhua --since 2026-11-01`.
    Export {
        #[arg(long)]
        station: String,
        /// A date (YYYY-MM-DD), from midnight in the bot-scripts time zone.
        #[arg(long)]
        since: String,
    },
}

#[derive(Subcommand)]
enum FaqCommand {
    /// What the bot would do with QUESTION: answer (which entry), offer choices, hand over, or
    /// treat it as danger now.
    Query {
        question: String,
        /// One JSON object: answered, id, score, runner_up, suggestions, emergency.
        #[arg(long)]
        json: bool,
        /// Match as at this station (its own entries beside bot-scripts' FAQ).
        #[arg(long)]
        station: Option<String>,
    },
    /// Run a labelled set (`id<TAB>question` lines, `-` for off-topic): right, wrong, handed
    /// over, off-topic not answered, and every miss. Exits 1 below the targets.
    Eval {
        file: PathBuf,
        /// Calibration: try thresholds on a grid and print the best 40 (for matching.toml).
        #[arg(long)]
        sweep: bool,
        /// Match as at this station.
        #[arg(long)]
        station: Option<String>,
    },
}

#[derive(Subcommand)]
enum ScriptsCommand {
    /// Check a bot-scripts directory (default: the configured one); print file:line for each problem.
    Check { dir: Option<PathBuf> },
}

#[derive(Subcommand)]
enum StationCommand {
    /// Add a station: `beatbot station add xinhua "Xinhua Road Station"`.
    Add {
        id: String,
        name: String,
        #[arg(long)]
        lang: Option<String>,
    },
    /// Set the facts FAQ answers show (`""` clears one):
    /// `beatbot station set xinhua --hours "Mon-Fri 8:30-17:30" --phone 010-12345678`.
    Set {
        id: String,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// When the station's reception is open.
        #[arg(long)]
        hours: Option<String>,
        /// When the household-registration window is open.
        #[arg(long)]
        household_hours: Option<String>,
    },
    /// Set how long personal data of finished tickets is kept:
    /// `beatbot station retention xinhua --days 30`.
    Retention {
        id: String,
        #[arg(long)]
        days: i64,
    },
}

#[derive(Args)]
struct IdentityArgs {
    /// Telegram user id.
    #[arg(long)]
    telegram: Option<String>,
    /// Matrix user id (`@wang:example.org`).
    #[arg(long)]
    matrix: Option<String>,
    /// Name on the console (`beatbot serve` without Telegram or Matrix).
    #[arg(long)]
    console: Option<String>,
    /// Language: zh or en.
    #[arg(long)]
    lang: Option<String>,
}

#[derive(Subcommand)]
enum OfficerCommand {
    /// Add or update an officer.
    Add {
        handle: String,
        #[arg(long)]
        station: String,
        #[arg(long)]
        beat: Option<String>,
        /// The station's duty officer (receives escalations).
        #[arg(long)]
        duty: bool,
        /// A station admin: an officer who also sets the station up.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        who: IdentityArgs,
    },
}

#[derive(Subcommand)]
enum LiaisonCommand {
    /// Add or update a hotel liaison (the hotel is created if new).
    Add {
        handle: String,
        #[arg(long)]
        station: String,
        #[arg(long)]
        hotel: String,
        #[arg(long)]
        beat: Option<String>,
        #[command(flatten)]
        who: IdentityArgs,
    },
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Link a Telegram chat or Matrix room to a station.
    Link {
        #[arg(long)]
        station: String,
        /// community or liaison.
        #[arg(long)]
        kind: String,
        #[arg(
            long,
            conflicts_with_all = ["matrix", "console"],
            required_unless_present_any = ["matrix", "console"],
            allow_hyphen_values = true
        )]
        telegram: Option<String>,
        #[arg(long, conflicts_with = "console")]
        matrix: Option<String>,
        /// A console group id (for `beatbot serve` without Telegram or Matrix).
        #[arg(long)]
        console: Option<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BEATBOT_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_scripts(dir: &std::path::Path) -> Result<Scripts> {
    scripts::load(dir).map_err(|errors| {
        for e in &errors {
            eprintln!("{e}");
        }
        anyhow::anyhow!(
            "{} problem(s) in bot-scripts at {}: fix them (see `beatbot scripts check`)",
            errors.len(),
            dir.display()
        )
    })
}

async fn app(config: &Config) -> Result<App> {
    let scripts = load_scripts(&config.scripts_dir)?;
    let store = Store::open(&config.database.url).await?;
    Ok(App::new(store, scripts, Arc::new(SystemClock)))
}

fn lang(s: &Option<String>) -> Result<Option<Lang>> {
    s.as_deref()
        .map(|l| Lang::parse(l).with_context(|| format!("unknown language `{l}` (zh or en)")))
        .transpose()
}

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
            Some(beatbot::platforms::console::dm_chat(c)),
        ));
    }
    ids
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Scripts {
            command: ScriptsCommand::Check { dir },
        } => {
            let dir = dir.unwrap_or(config.scripts_dir.clone());
            match scripts::load(&dir) {
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
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    for e in &errors {
                        println!("{e}");
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Replay { files } => {
            let scripts = Arc::new(load_scripts(&config.scripts_dir)?);
            let faq = FaqService::new(&scripts);
            let mut failed = 0;
            for file in &files {
                let failures = beatbot::replay::run_file(file, scripts.clone(), faq.clone()).await?;
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
        Command::Demo => {
            let scripts = load_scripts(&config.scripts_dir)?;
            beatbot::demo::run(scripts, &config.data_dir).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let store = Store::open(&config.database.url).await?;
            store.close().await;
            println!("migrations applied to {}", redact(&config.database.url));
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve => serve(&config).await,
        Command::Audit {
            command: AuditCommand::Export { station, since },
        } => {
            let app = app(&config).await?;
            let since = beatbot::audit::start_of_day(&since, app.scripts.settings.timezone)?;
            let rows = beatbot::audit::export(&app, &station, since, std::io::stdout().lock()).await?;
            eprintln!("{rows} ticket action(s) exported");
            Ok(ExitCode::SUCCESS)
        }
        Command::Purge { dry_run } => {
            let app = app(&config).await?;
            let purged = beatbot::retention::purge(&app, app.now(), dry_run).await?;
            let verb = if dry_run { "would purge" } else { "purged" };
            println!(
                "{verb} personal data of {} ticket(s); {} old message text(s)",
                purged.ticket_count(),
                purged.messages
            );
            for (station, n) in &purged.tickets {
                println!("  {station}: {n}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats { station, since, csv } => {
            let app = app(&config).await?;
            let tz = app.scripts.settings.timezone;
            let now = app.now();
            let since = match since {
                Some(date) => beatbot::audit::start_of_day(&date, tz)?,
                None => now - 30 * 86_400_000,
            };
            let (stats, lang) = beatbot::core::stats::for_station(&app, &station, since, now).await?;
            if csv {
                beatbot::core::stats::write_csv(&stats, std::io::stdout().lock())?;
            } else {
                let days = (now - since + 86_399_999) / 86_400_000;
                println!("{}", beatbot::core::stats::render(&app.scripts, lang, &stats, days));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Station {
            command: StationCommand::Retention { id, days },
        } => {
            if !(1..=3650).contains(&days) {
                bail!("--days must be between 1 and 3650");
            }
            app(&config).await?.set_retention(&id, days).await?;
            println!("station {id}: personal data of finished tickets kept {days} days");
            Ok(ExitCode::SUCCESS)
        }
        Command::Station {
            command:
                StationCommand::Set {
                    id,
                    address,
                    phone,
                    hours,
                    household_hours,
                },
        } => {
            let app = app(&config).await?;
            let facts = [
                ("address", address),
                ("phone", phone),
                ("hours", hours),
                ("household_hours", household_hours),
            ];
            if facts.iter().all(|(_, v)| v.is_none()) {
                bail!("give at least one of --address, --phone, --hours, --household-hours");
            }
            for (key, value) in &facts {
                if let Some(v) = value {
                    let v = v.trim();
                    app.set_station_fact(&id, key, (!v.is_empty()).then_some(v)).await?;
                }
            }
            println!("station {id}: facts saved");
            Ok(ExitCode::SUCCESS)
        }
        Command::Faq { command } => faq(&config, command).await,
        Command::Station {
            command: StationCommand::Add { id, name, lang: l },
        } => {
            app(&config).await?.add_station(&id, &name, lang(&l)?).await?;
            println!("station {id} added");
            Ok(ExitCode::SUCCESS)
        }
        Command::Officer {
            command:
                OfficerCommand::Add {
                    handle,
                    station,
                    beat,
                    duty,
                    admin,
                    who,
                },
        } => {
            let app = app(&config).await?;
            app.add_person(
                &handle,
                if admin { Role::StationAdmin } else { Role::Officer },
                Some(&station),
                beat.as_deref(),
                None,
                duty,
                lang(&who.lang)?,
                &identities(&who),
            )
            .await?;
            println!("officer {handle} added to {station}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Liaison {
            command:
                LiaisonCommand::Add {
                    handle,
                    station,
                    hotel,
                    beat,
                    who,
                },
        } => {
            let app = app(&config).await?;
            app.add_person(
                &handle,
                Role::Liaison,
                Some(&station),
                beat.as_deref(),
                Some(&hotel),
                false,
                lang(&who.lang)?,
                &identities(&who),
            )
            .await?;
            println!("liaison {handle} added for {hotel}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Group {
            command:
                GroupCommand::Link {
                    station,
                    kind,
                    telegram,
                    matrix,
                    console,
                },
        } => {
            let kind =
                GroupKind::parse(&kind).with_context(|| format!("unknown kind `{kind}` (community or liaison)"))?;
            let (platform, chat) = match (telegram, matrix, console) {
                (Some(t), _, _) => (Platform::Telegram, t),
                (None, Some(m), _) => (Platform::Matrix, m),
                (None, None, Some(c)) => (Platform::Console, c),
                (None, None, None) => {
                    bail!("give --telegram CHAT_ID, --matrix ROOM_ID or --console ID")
                }
            };
            app(&config).await?.link_group(platform, &chat, kind, &station).await?;
            println!("{platform} {chat} linked to {station} as {}", kind.as_str());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `faq query` and `faq eval`: bot-scripts' FAQ alone, or as at a station (its facts and own
/// entries from the database).
async fn faq(config: &Config, command: FaqCommand) -> Result<ExitCode> {
    let station = match &command {
        FaqCommand::Query { station, .. } | FaqCommand::Eval { station, .. } => station.clone(),
    };
    let index = match &station {
        Some(s) => app(config).await?.faq_index(s).await?,
        None => beatbot::matching::index(&load_scripts(&config.scripts_dir)?),
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
                out(&format!("{}\n", beatbot::faq_cli::query_json(&verdict)));
            } else {
                out(&beatbot::faq_cli::query_text(&verdict));
                out(&format!("words: {}\n", index.query_tokens(&question).join(" ")));
            }
            Ok(ExitCode::SUCCESS)
        }
        FaqCommand::Eval { file, sweep: true, .. } => {
            out(&beatbot::faq_cli::sweep_file(&index, &file)?);
            Ok(ExitCode::SUCCESS)
        }
        FaqCommand::Eval { file, .. } => {
            let report = beatbot::faq_cli::eval_file(&index, &file)?;
            out(&report.render());
            Ok(if report.passes() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// `serve`: checks configuration, scripts and database, then serves the configured platforms:
/// Telegram when `telegram.token` is set, Matrix when `matrix.homeserver` is, both when both
/// are; with neither, the console on stdin/stdout. Stops cleanly on Ctrl-C or SIGTERM.
async fn serve(config: &Config) -> Result<ExitCode> {
    if !config.telegram.token.is_empty() || !config.matrix.homeserver.is_empty() {
        return serve_platforms(config).await;
    }
    let scripts = Arc::new(load_scripts(&config.scripts_dir)?);
    let store = Store::open(&config.database.url).await?;
    let faq = FaqService::new(&scripts);
    let console = beatbot::platforms::console::Console::printing();
    let mut bot = beatbot::replay::Replayer::with_store(store.clone(), scripts, faq, console).await?;
    bot.set_clock(chrono::Utc::now().timestamp_millis());
    beatbot::workers::scheduler::tick(&bot.app).await?;
    eprintln!(
        "beatbot serve: console on {} — type `NAME@GROUP> TEXT`, `NAME> TEXT` for a private chat, or `press NAME: LABEL`; \
         people and groups come from `beatbot officer add … --console NAME` and `beatbot group link … --console ID`. Ctrl-D stops.",
        redact(&config.database.url)
    );
    tokio::select! {
        result = beatbot::demo::repl(&mut bot) => result?,
        _ = shutdown_signal() => eprintln!("stopping"),
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

type Task = tokio::task::JoinHandle<Result<()>>;

async fn serve_platforms(config: &Config) -> Result<ExitCode> {
    let app = app(config).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Tasks whose end stops the bot (the update sources), and the others.
    let mut sources: Vec<Task> = Vec::new();
    let mut workers: Vec<Task> = Vec::new();
    if !config.telegram.token.is_empty() {
        let (source, worker) = start_telegram(config, &app, &stopped).await?;
        sources.push(source);
        workers.push(worker);
    }
    if !config.matrix.homeserver.is_empty() {
        let (source, worker) = start_matrix(config, &app, &stopped).await?;
        sources.push(source);
        workers.push(worker);
    }
    workers.push(tokio::spawn(beatbot::workers::scheduler::run(app.clone(), stopped)));
    eprintln!(
        "beatbot serve: {} on {}",
        platforms_named(config),
        redact(&config.database.url)
    );
    let first_source_ended = futures_first(sources);
    tokio::select! {
        _ = shutdown_signal() => eprintln!("stopping"),
        result = first_source_ended => { result?; }
    }
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    app.store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn platforms_named(config: &Config) -> String {
    let mut names = Vec::new();
    if !config.telegram.token.is_empty() {
        names.push(format!("Telegram ({})", config.telegram.mode));
    }
    if !config.matrix.homeserver.is_empty() {
        names.push(format!("Matrix ({})", config.matrix.homeserver));
    }
    names.join(" and ")
}

/// Waits for the first task to end and returns its result.
async fn futures_first(tasks: Vec<Task>) -> Result<()> {
    if tasks.is_empty() {
        return Ok(());
    }
    match futures::future::select_all(tasks).await.0 {
        Ok(result) => result,
        Err(e) => Err(anyhow::anyhow!("task failed: {e}")),
    }
}

async fn start_telegram(
    config: &Config,
    app: &App,
    stopped: &tokio::sync::watch::Receiver<bool>,
) -> Result<(Task, Task)> {
    let bot = beatbot::platforms::telegram::bot(&config.telegram.token, &config.telegram.api_url)?;
    if let Err(e) = beatbot::platforms::telegram::set_commands(&bot, app).await {
        // The menu is a convenience: the bot works without it.
        tracing::warn!(error = %format!("{e:#}"), "could not set the Telegram command menus");
    }
    let source: Task = if config.telegram.mode == "webhook" {
        let username = beatbot::platforms::telegram::register_webhook(
            &bot,
            &config.telegram.webhook_url,
            &config.telegram.webhook_secret,
        )
        .await?;
        app.start_links
            .set(Platform::Telegram, beatbot::platforms::telegram::start_link(&username));
        let hook = beatbot::web::TelegramWebhook {
            bot: bot.clone(),
            username,
            secret: config.telegram.webhook_secret.as_str().into(),
        };
        let router = beatbot::web::router(beatbot::web::WebState {
            app: app.clone(),
            telegram: Some(hook),
        });
        let listener = tokio::net::TcpListener::bind(&config.web.bind)
            .await
            .with_context(|| format!("binding web.bind {}", config.web.bind))?;
        let mut stopping = stopped.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopping.changed().await;
                })
                .await
                .context("web server")
        })
    } else {
        tokio::spawn(beatbot::platforms::telegram::poll(
            app.clone(),
            bot.clone(),
            25,
            stopped.clone(),
        ))
    };
    let username = {
        use teloxide::prelude::Requester;
        bot.get_me()
            .await
            .context("getMe")?
            .username
            .clone()
            .unwrap_or_default()
    };
    let deliverer = beatbot::platforms::telegram::TelegramDeliverer::new(bot).with_username(username);
    let worker = tokio::spawn(beatbot::workers::delivery::run(
        app.clone(),
        Platform::Telegram,
        deliverer,
        stopped.clone(),
    ));
    Ok((source, worker))
}

async fn start_matrix(
    config: &Config,
    app: &App,
    stopped: &tokio::sync::watch::Receiver<bool>,
) -> Result<(Task, Task)> {
    use beatbot::platforms::matrix;
    let client = matrix::connect(&config.matrix, &config.data_dir, &app.store).await?;
    match matrix::rate_limit_exempt(&client).await {
        Some(true) => {}
        Some(false) => tracing::warn!(
            "the bot's Matrix account is rate-limited (Synapse's default is 0.2 messages/s): alerts to many rooms \
             will be slow. A homeserver admin can exempt it with: {}",
            matrix::exemption_command(&client)
        ),
        None => tracing::warn!(
            "could not tell whether the bot's Matrix account is exempt from rate limits (the check needs a server \
             admin's rights). If it is not, alerts to many rooms will be slow; a homeserver admin can exempt it with: {}",
            matrix::exemption_command(&client)
        ),
    }
    let source = tokio::spawn(matrix::sync(
        app.clone(),
        client.clone(),
        config.matrix.allowed_servers.clone(),
        std::time::Duration::from_secs(25),
        stopped.clone(),
    ));
    let worker = tokio::spawn(beatbot::workers::delivery::run(
        app.clone(),
        Platform::Matrix,
        matrix::MatrixDeliverer::new(client, app.clone()),
        stopped.clone(),
    ));
    Ok((source, worker))
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((head, tail))
            if head.contains("://") && head.contains(':') && head.rfind(':') > head.find("://").map(|i| i + 2) =>
        {
            let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
            let user = head[scheme_end..].split(':').next().unwrap_or("");
            format!("{}{user}:***@{tail}", &head[..scheme_end])
        }
        _ => url.to_owned(),
    }
}
