//! The command line: clap's definitions of `beatbot`'s subcommands and options (with the
//! valid values of languages, group kinds and Telegram modes listed in `--help` and refused
//! otherwise by clap), and in [`commands`] the library functions each subcommand calls.

pub mod commands;
pub mod outbox;
pub mod schedule;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::{GroupKind, Lang};

#[derive(Parser)]
#[command(name = "beatbot", version, about = "Community-policing group-chat bot")]
pub struct Cli {
    /// Configuration file (default: beatbot.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the bot on the configured platforms.
    Serve {
        /// How Telegram updates arrive, overriding `telegram.mode`.
        #[arg(long, value_enum)]
        telegram_mode: Option<TelegramModeArg>,
    },
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
    /// The outbox: messages that could not be delivered.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// The FAQ: what the bot would do with a question, and how it fares on a labelled set.
    Faq {
        #[command(subcommand)]
        command: FaqCommand,
    },
    /// Scheduled safety tips.
    Tips {
        #[command(subcommand)]
        command: TipsCommand,
    },
    /// A station's safety index (yesterday's, or last week's with --week): its text, its
    /// numbers as CSV, or its chart as a PNG file.
    Index {
        #[arg(long)]
        station: String,
        /// Only the tickets of this beat's hotels (and the station's alerts).
        #[arg(long)]
        beat: Option<String>,
        /// The weekly index (last week, eight weeks on the chart) instead of the daily one.
        #[arg(long)]
        week: bool,
        /// Write the chart to this PNG file.
        #[arg(long)]
        png: Option<PathBuf>,
        /// The numbers per day or week as CSV instead of the text.
        #[arg(long)]
        csv: bool,
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
pub enum TipsCommand {
    /// What the scheduled tips of the next days would bring, where and when (nothing is sent).
    Preview {
        #[arg(long)]
        station: String,
        #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(i64).range(1..=92))]
        days: i64,
    },
}

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Messages that can never be delivered (the bot was removed or blocked, the platform
    /// refused them, or they ran out of attempts): list them (the default), or put them back
    /// in the queue (`retry`) or drop them (`drop`).
    #[command(name = "dead-letters")]
    DeadLetters {
        /// Only this station's (its groups, people and alerts).
        #[arg(long, global = true)]
        station: Option<String>,
        /// List at most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(subcommand)]
        action: Option<DeadLetterAction>,
    },
}

#[derive(Subcommand)]
pub enum DeadLetterAction {
    /// List them, oldest first: `beatbot outbox dead-letters list --station xinhua`.
    List,
    /// Queue them again, attempts from zero: `beatbot outbox dead-letters retry 12 15` or
    /// `… retry --all [--station S]`.
    Retry(DeadLetterSelection),
    /// Give them up for good (kept as withdrawn, no longer counted as failed):
    /// `beatbot outbox dead-letters drop 12` or `… drop --all [--station S]`.
    Drop(DeadLetterSelection),
}

#[derive(Args)]
pub struct DeadLetterSelection {
    /// The dead letters' numbers (the first column of the list).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub ids: Vec<i64>,
    /// Every dead letter (of `--station` when given).
    #[arg(long)]
    pub all: bool,
}

#[derive(Subcommand)]
pub enum AuditCommand {
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
pub enum FaqCommand {
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
pub enum ScriptsCommand {
    /// Check a bot-scripts directory (default: the configured one); print file:line for each problem.
    Check { dir: Option<PathBuf> },
}

#[derive(Subcommand)]
pub enum StationCommand {
    /// Add a station: `beatbot station add xinhua "Xinhua Road Station"`.
    Add {
        id: String,
        name: String,
        /// The station's language (what the bot speaks to people it does not know yet).
        #[arg(long, value_enum, ignore_case = true)]
        lang: Option<LangArg>,
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
pub struct IdentityArgs {
    /// Telegram user id.
    #[arg(long)]
    pub telegram: Option<String>,
    /// Matrix user id (`@wang:example.org`).
    #[arg(long)]
    pub matrix: Option<String>,
    /// Name on the console (`beatbot serve` without Telegram or Matrix).
    #[arg(long)]
    pub console: Option<String>,
    /// The language the bot speaks to them.
    #[arg(long, value_enum, ignore_case = true)]
    pub lang: Option<LangArg>,
}

#[derive(Subcommand)]
pub enum OfficerCommand {
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
pub enum LiaisonCommand {
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
pub enum GroupCommand {
    /// Link a Telegram chat or Matrix room to a station.
    Link {
        #[arg(long)]
        station: String,
        #[arg(long, value_enum)]
        kind: GroupKindArg,
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

/// A language, as typed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    /// Chinese.
    #[value(aliases = ["zh-CN", "zh_CN", "cn", "chinese", "中文", "汉语"])]
    Zh,
    /// English.
    #[value(aliases = ["en-US", "en_US", "en-GB", "english", "英文", "英语"])]
    En,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
        }
    }
}

/// A group's kind, as typed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GroupKindArg {
    /// Residents of the station's area.
    #[value(alias = "社区")]
    Community,
    /// Hotel front desks and their beat officer.
    #[value(aliases = ["旅馆", "联络"])]
    Liaison,
}

impl From<GroupKindArg> for GroupKind {
    fn from(k: GroupKindArg) -> GroupKind {
        match k {
            GroupKindArg::Community => GroupKind::Community,
            GroupKindArg::Liaison => GroupKind::Liaison,
        }
    }
}

/// How Telegram updates arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TelegramModeArg {
    /// `getUpdates` long polling.
    Polling,
    /// Telegram posts to `telegram.webhook_url`.
    Webhook,
}
