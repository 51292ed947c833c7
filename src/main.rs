//! The `beatbot` command: tracing → the command line (`beatbot::cli`) → configuration → the
//! library function of the chosen subcommand.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Parser;

use beatbot::cli::commands::{self, Post};
use beatbot::cli::{
    AuditCommand, Cli, Command, GroupCommand, LiaisonCommand, OfficerCommand, OutboxCommand, ScriptsCommand,
    StationCommand, TelegramModeArg, TipsCommand,
};
use beatbot::config::{Settings, TelegramModeName};
use beatbot::domain::{Platform, Role};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BEATBOT_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match runtime(settings.threads) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The tokio runtime of `threads` threads (`threads` in the configuration, 1 by default: one
/// thread handles thousands of updates a second, see docs/benchmarks.md, and more threads
/// mostly add hand-offs between them, which cost more CPU per update than the work itself).
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
}

async fn run(cli: Cli, mut settings: Settings) -> Result<ExitCode> {
    if let Command::Serve {
        telegram_mode: Some(mode),
    } = &cli.command
    {
        settings.telegram.mode = match mode {
            TelegramModeArg::Polling => TelegramModeName::Polling,
            TelegramModeArg::Webhook => TelegramModeName::Webhook,
        };
    }
    let config = settings.parse()?;
    let done = ExitCode::SUCCESS;
    match cli.command {
        Command::Scripts {
            command: ScriptsCommand::Check { dir },
        } => Ok(commands::scripts_check(dir.as_deref().unwrap_or(&config.scripts_dir))),
        Command::Replay { files } => commands::replay(&config, &files).await,
        Command::Demo => commands::demo(&config).await.map(|()| done),
        Command::Migrate => commands::migrate(&config).await.map(|()| done),
        Command::Serve { .. } => beatbot::startup::serve(&config).await.map(|()| done),
        Command::Audit {
            command: AuditCommand::Export { station, since },
        } => commands::audit_export(&config, &station, &since).await.map(|()| done),
        Command::Purge { dry_run } => commands::purge(&config, dry_run).await.map(|()| done),
        Command::Stats { station, since, csv } => commands::stats(&config, &station, since.as_deref(), csv)
            .await
            .map(|()| done),
        Command::Faq { command } => commands::faq(&config, command).await,
        Command::Tips {
            command: TipsCommand::Preview { station, days },
        } => beatbot::cli::schedule::tips_preview(&config, &station, days)
            .await
            .map(|()| done),
        Command::Index {
            station,
            beat,
            week,
            png,
            csv,
        } => beatbot::cli::schedule::index(&config, &station, beat.as_deref(), week, png.as_deref(), csv)
            .await
            .map(|()| done),
        Command::Outbox {
            command: OutboxCommand::DeadLetters { station, limit, action },
        } => beatbot::cli::outbox::dead_letters(&config, station.as_deref(), limit, action).await,
        Command::Station { command } => match command {
            StationCommand::Add { id, name, lang } => commands::station_add(&config, &id, &name, lang).await,
            StationCommand::Retention { id, days } => commands::station_retention(&config, &id, days).await,
            StationCommand::Set {
                id,
                address,
                phone,
                hours,
                household_hours,
            } => {
                let facts = [
                    ("address", address),
                    ("phone", phone),
                    ("hours", hours),
                    ("household_hours", household_hours),
                ];
                commands::station_set(&config, &id, facts).await
            }
        }
        .map(|()| done),
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
            let role = if admin { Role::StationAdmin } else { Role::Officer };
            let post = Post {
                station: &station,
                beat: beat.as_deref(),
                hotel: None,
            };
            commands::person_add(&config, &handle, role, post, duty, &who)
                .await
                .map(|()| done)
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
            let post = Post {
                station: &station,
                beat: beat.as_deref(),
                hotel: Some(&hotel),
            };
            commands::person_add(&config, &handle, Role::Liaison, post, false, &who)
                .await
                .map(|()| done)
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
            let (platform, chat) = match (telegram, matrix, console) {
                (Some(t), _, _) => (Platform::Telegram, t),
                (None, Some(m), _) => (Platform::Matrix, m),
                (None, None, Some(c)) => (Platform::Console, c),
                (None, None, None) => bail!("give --telegram CHAT_ID, --matrix ROOM_ID or --console ID"),
            };
            commands::group_link(&config, &station, kind.into(), platform, &chat)
                .await
                .map(|()| done)
        }
    }
}
