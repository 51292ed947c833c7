//! The store: one sqlx `Any` pool over SQLite (the embedded default) or PostgreSQL, the
//! migrations of both, and transactions that cannot fail half-way with `SQLITE_BUSY`
//! (SQLite write transactions start with `BEGIN IMMEDIATE`, so the write lock is taken up
//! front, waiting on `busy_timeout`, before anything is read).
//!
//! SQL is written once with `$N` placeholders; the only backend-specific statement is the
//! outbox claim (`FOR UPDATE SKIP LOCKED` on PostgreSQL). Timestamps are UTC epoch
//! milliseconds and flags are integers, so rows decode the same on both backends.

pub mod alerts;
pub mod counters;
pub mod deadlines;
pub mod dialogues;
pub mod groups;
pub mod inbound;
pub mod invites;
pub mod outbox;
pub mod people;
pub mod platform_state;
pub mod questions;
pub mod retention;
pub mod reviews;
pub mod station_faq;
pub mod stations;
pub mod subscriptions;
pub mod tickets;

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::sync::Once;

use anyhow::{Context, Result};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Executor, Transaction};

/// A transaction of the store; every core step runs inside one.
pub type Tx = Transaction<'static, Any>;
/// What store functions run their SQL on (a transaction derefs to it).
pub type Conn = AnyConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The shared database handle.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "enrolment",
        include_str!("../../migrations/sqlite/0002_enrolment.sql"),
    ),
    (
        3,
        "platform state",
        include_str!("../../migrations/sqlite/0003_platform_state.sql"),
    ),
    (4, "casework", include_str!("../../migrations/sqlite/0004_casework.sql")),
    (5, "faq", include_str!("../../migrations/sqlite/0005_faq.sql")),
    (6, "checks", include_str!("../../migrations/sqlite/0006_checks.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "enrolment",
        include_str!("../../migrations/postgres/0002_enrolment.sql"),
    ),
    (
        3,
        "platform state",
        include_str!("../../migrations/postgres/0003_platform_state.sql"),
    ),
    (
        4,
        "casework",
        include_str!("../../migrations/postgres/0004_casework.sql"),
    ),
    (5, "faq", include_str!("../../migrations/postgres/0005_faq.sql")),
    (6, "checks", include_str!("../../migrations/postgres/0006_checks.sql")),
];

fn install_drivers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
}

impl Store {
    /// Connects to `url` (`sqlite://path`, `sqlite::memory:`, `postgres://…`), creating a
    /// SQLite file and its directory on first run. Does not migrate.
    pub async fn connect(url: &str) -> Result<Store> {
        install_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            anyhow::bail!("database.url must start with sqlite: or postgres://, got `{url}`");
        };
        let pool = match backend {
            Backend::Sqlite => {
                let memory = url.contains(":memory:");
                let mut url = url.to_owned();
                if !memory {
                    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
                    let path = path.split('?').next().unwrap_or(path);
                    if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                    }
                    if !url.contains('?') {
                        url.push_str("?mode=rwc");
                    }
                }
                let options = AnyConnectOptions::from_str(&url)
                    .with_context(|| "parsing database.url")?
                    .disable_statement_logging();
                // One connection: writes in one process are serialised here instead of
                // contending for SQLite's lock; other processes wait on busy_timeout.
                // Checkpoints run on a background connection (see `checkpointer`), so a commit
                // never pays for copying the WAL back and fsyncing; the large automatic
                // threshold only bounds the WAL should that task not run.
                let pool = AnyPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; \
                                 PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; \
                                 PRAGMA wal_autocheckpoint=20000; PRAGMA temp_store=MEMORY;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await
                    .with_context(|| "opening the SQLite database")?;
                if !memory {
                    checkpointer(&url, pool.clone()).await?;
                }
                pool
            }
            Backend::Postgres => {
                let options = AnyConnectOptions::from_str(url)
                    .with_context(|| "parsing database.url")?
                    .disable_statement_logging();
                AnyPoolOptions::new()
                    .max_connections(8)
                    .connect_with(options)
                    .await
                    .with_context(|| "connecting to PostgreSQL")?
            }
        };
        Ok(Store { pool, backend })
    }

    /// Connects and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> Result<()> {
        let list = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let migrations = list
            .iter()
            .map(|(version, name, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*name),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(*sql),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations)
            .run(&self.pool)
            .await
            .context("applying database migrations")
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(&self) -> Result<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        };
        tx.context("starting a transaction")
    }

    /// [`Store::begin`] with savepoint `name` taken at once, in the same round trip, so that
    /// the work can be undone with [`rollback_to_savepoint`] and the transaction still used.
    pub async fn begin_at_savepoint(&self, name: &'static str) -> Result<Tx> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.pool
            .begin_with(sqlx::AssertSqlSafe(format!("{begin}; SAVEPOINT {name}")))
            .await
            .context("starting a transaction")
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Copies the SQLite WAL back into the database every 200 ms from a connection of its own,
/// until the pool closes. A PASSIVE checkpoint never blocks writers.
async fn checkpointer(url: &str, pool: AnyPool) -> Result<()> {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .context("parsing database.url")?
        .busy_timeout(std::time::Duration::from_secs(5))
        .disable_statement_logging();
    let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options)
        .await
        .context("opening the SQLite checkpoint connection")?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
        while !pool.is_closed() {
            tick.tick().await;
            if let Err(e) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::warn!(error = %e, "SQLite checkpoint failed");
            }
        }
        conn.close().await.ok();
    });
    Ok(())
}

/// Reads column `name` of a row, with the column in the error.
pub(crate) fn col<'r, T>(row: &'r sqlx::any::AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    row.try_get(name).with_context(|| format!("reading column {name}"))
}

/// Reads text column `name` as one of a [`crate::domain`] text enum's values; an unknown
/// value (which the CHECK constraints keep out) is an error naming the column and value.
pub(crate) fn col_enum<T>(row: &sqlx::any::AnyRow, name: &str, from_db: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = col(row, name)?;
    from_db(&text).with_context(|| format!("column {name} holds unknown value `{text}`"))
}

/// Reads integer column `name` as a level enum ([`crate::domain::Escalation`] and the like).
pub(crate) fn level<T>(row: &sqlx::any::AnyRow, name: &str, from_level: fn(i64) -> Option<T>) -> Result<T> {
    let n: i64 = col(row, name)?;
    from_level(n).with_context(|| format!("column {name} holds unknown level {n}"))
}

/// Undoes what was done since savepoint `name` (which stays, and is released by the commit).
pub async fn rollback_to_savepoint(tx: &mut Tx, name: &'static str) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("ROLLBACK TO SAVEPOINT {name}")))
        .execute(&mut **tx)
        .await
        .with_context(|| format!("rolling back to savepoint {name}"))?;
    Ok(())
}
