//! The store: one SQLite connection (the embedded default, used in the calling thread; see
//! [`sql`]) or a sqlx pool of PostgreSQL connections, the migrations of both, and transactions that cannot fail half-way with `SQLITE_BUSY`
//! (SQLite write transactions start with `BEGIN IMMEDIATE`, so the write lock is taken up
//! front, waiting on `busy_timeout`, before anything is read).
//!
//! SQL is written once with `$N` placeholders; the only backend-specific statement is the
//! outbox claim (`FOR UPDATE SKIP LOCKED` on PostgreSQL). Timestamps are UTC epoch
//! milliseconds and flags are integers, so rows decode the same on both backends.

pub mod alerts;
pub mod cap;
pub mod counters;
pub mod dead_letters;
pub mod deadlines;
pub mod dialogues;
pub mod groups;
pub mod held;
pub mod inbound;
pub mod index_facts;
pub mod invites;
pub mod outbox;
pub mod people;
pub mod platform_state;
pub mod questions;
pub mod replicas;
pub mod retention;
pub mod reviews;
pub mod schedules;
pub mod station_faq;
pub mod stations;
pub mod subscriptions;
pub mod tickets;

pub mod migrate;
pub mod sql;

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use sql::Inner;
pub use sql::{Conn, Row, query};

/// The PostgreSQL channel on which a replica that queued messages tells the others.
const OUTBOX_CHANNEL: &str = "beatbot_outbox";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The shared database handle.
#[derive(Clone)]
pub struct Store {
    db: Db,
    /// The delivery workers of this process, woken when a transaction that queued messages
    /// commits (instead of each polling the outbox).
    wakers: Arc<std::sync::Mutex<Vec<Arc<tokio::sync::Notify>>>>,
    /// Which chats this process delivers to, among the live replicas.
    membership: Arc<replicas::Membership>,
}

#[derive(Clone)]
enum Db {
    Sqlite(Arc<Sqlite>),
    Postgres(PgPool),
}

/// The one SQLite connection of the process (`None` once closed), and a count of commits the
/// checkpointer watches.
struct Sqlite {
    conn: Arc<tokio::sync::Mutex<Option<rusqlite::Connection>>>,
    commits: AtomicU64,
}

const SQLITE_MIGRATIONS: migrate::Migrations = &[
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
    (
        7,
        "throughput",
        include_str!("../../migrations/sqlite/0007_throughput.sql"),
    ),
    (8, "replicas", include_str!("../../migrations/sqlite/0008_replicas.sql")),
    (
        9,
        "leaner outbox",
        include_str!("../../migrations/sqlite/0009_leaner_outbox.sql"),
    ),
    (10, "cap", include_str!("../../migrations/sqlite/0010_cap.sql")),
    (
        11,
        "steady voice",
        include_str!("../../migrations/sqlite/0011_steady_voice.sql"),
    ),
];
const POSTGRES_MIGRATIONS: migrate::Migrations = &[
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
    (
        7,
        "throughput",
        include_str!("../../migrations/postgres/0007_throughput.sql"),
    ),
    (
        8,
        "replicas",
        include_str!("../../migrations/postgres/0008_replicas.sql"),
    ),
    (
        9,
        "leaner outbox",
        include_str!("../../migrations/postgres/0009_leaner_outbox.sql"),
    ),
    (10, "cap", include_str!("../../migrations/postgres/0010_cap.sql")),
    (
        11,
        "steady voice",
        include_str!("../../migrations/postgres/0011_steady_voice.sql"),
    ),
];

impl Store {
    /// Connects to `url` (`sqlite://path`, `sqlite::memory:`, `postgres://…`), creating a
    /// SQLite file and its directory on first run. Does not migrate.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("sqlite:") {
            Store::open_sqlite(url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .context("parsing database.url")?
                .disable_statement_logging();
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Store::with(Db::Postgres(pool)))
        } else {
            bail!("database.url must start with sqlite: or postgres://, got `{url}`")
        }
    }

    fn open_sqlite(url: &str) -> Result<Store> {
        let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        let memory = path.is_empty() || path.contains(":memory:");
        let conn = if memory {
            rusqlite::Connection::open_in_memory()
        } else {
            if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            rusqlite::Connection::open(path)
        }
        .context("opening the SQLite database")?;
        // One connection: writes in one process are serialised on its lock instead of
        // contending for SQLite's; other processes wait on busy_timeout. Checkpoints run on a
        // connection of their own (see `checkpointer`), so a commit never pays for copying the
        // WAL back and fsyncing; the large automatic threshold only bounds the WAL should that
        // thread not run.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; \
             PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=20000; PRAGMA temp_store=MEMORY;",
        )
        .context("setting up the SQLite connection")?;
        conn.set_prepared_statement_cache_capacity(256);
        let sqlite = Arc::new(Sqlite {
            conn: Arc::new(tokio::sync::Mutex::new(Some(conn))),
            commits: AtomicU64::new(0),
        });
        if !memory {
            checkpointer(path, Arc::downgrade(&sqlite))?;
        }
        Ok(Store::with(Db::Sqlite(sqlite)))
    }

    fn with(db: Db) -> Store {
        Store {
            db,
            wakers: Arc::default(),
            membership: Arc::default(),
        }
    }

    /// A signal for a delivery worker: notified (or holding a permit) whenever a transaction
    /// of this process that queued messages has committed since it last waited.
    pub fn outbox_waker(&self) -> Arc<tokio::sync::Notify> {
        let waker = Arc::new(tokio::sync::Notify::new());
        self.wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(waker.clone());
        waker
    }

    /// The chats this process delivers to (all of them unless replicas share a PostgreSQL).
    pub fn partition(&self) -> replicas::Partition {
        self.membership.get()
    }

    /// Wakes this process's delivery workers whenever another replica commits messages to send
    /// (PostgreSQL `LISTEN`), until `stop`. Nothing to do on SQLite.
    pub async fn listen_to_other_replicas(&self, mut stop: tokio::sync::watch::Receiver<bool>) -> Result<()> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(());
        };
        let mut listener = sqlx::postgres::PgListener::connect_with(pool)
            .await
            .context("listening for other replicas")?;
        listener.listen(OUTBOX_CHANNEL).await.context("LISTEN")?;
        loop {
            tokio::select! {
                received = listener.try_recv() => match received {
                    Ok(Some(_)) => self.wake_deliverers(),
                    // The connection was lost (and is made again by the next call): what was
                    // queued meanwhile is found by the workers' own look at the outbox.
                    Ok(None) => self.wake_deliverers(),
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for other replicas failed; retrying in a second");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
                _ = stop.changed() => return Ok(()),
            }
        }
    }

    fn wake_deliverers(&self) {
        for waker in self.wakers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            waker.notify_one();
        }
    }

    /// Connects and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(sqlite) => {
                let guard = sqlite.conn.lock().await;
                let conn = guard.as_ref().context("the store is closed")?;
                migrate::sqlite(conn, SQLITE_MIGRATIONS)
            }
            Db::Postgres(pool) => migrate::postgres(pool, POSTGRES_MIGRATIONS).await,
        }
        .context("applying database migrations")
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(&self) -> Result<Tx> {
        self.begin_with(&["BEGIN IMMEDIATE"], "BEGIN").await
    }

    /// A transaction that only reads (`BEGIN` on SQLite: it takes no write lock).
    pub async fn begin_read(&self) -> Result<Tx> {
        self.begin_with(&["BEGIN"], "BEGIN").await
    }

    /// [`Store::begin`] with savepoint `name` taken at once, in the same round trip, so that
    /// the work can be undone with [`rollback_to_savepoint`] and the transaction still used.
    pub async fn begin_at_savepoint(&self, name: &'static str) -> Result<Tx> {
        let savepoint = format!("SAVEPOINT {name}");
        self.begin_with(&["BEGIN IMMEDIATE", &savepoint], &format!("BEGIN; {savepoint}"))
            .await
    }

    async fn begin_with(&self, sqlite_begin: &[&str], postgres_begin: &str) -> Result<Tx> {
        let conn = match &self.db {
            Db::Sqlite(sqlite) => {
                let guard = sqlite.conn.clone().lock_owned().await;
                let Some(conn) = guard.as_ref() else {
                    bail!("the store is closed");
                };
                for statement in sqlite_begin {
                    control(conn, statement).context("starting a transaction")?;
                }
                Inner::Sqlite(guard)
            }
            Db::Postgres(pool) => Inner::Postgres(
                pool.begin_with(sqlx::AssertSqlSafe(postgres_begin.to_owned()))
                    .await
                    .context("starting a transaction")?,
            ),
        };
        Ok(Tx {
            conn: Conn::new(conn),
            store: self.clone(),
        })
    }

    /// Closes the database; transactions begun afterwards fail.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(sqlite) => {
                if let Some(conn) = sqlite.conn.lock().await.take() {
                    conn.close().ok();
                }
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// Runs a transaction-control statement from the statement cache (`execute_batch` would parse
/// it again each time: a tenth of a delivery's CPU).
fn control(conn: &rusqlite::Connection, statement: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(statement)?.raw_execute().map(|_| ())
}

/// A transaction of the store; every core step runs inside one. Dropped without
/// [`Tx::commit`], it rolls back.
pub struct Tx {
    conn: Conn,
    store: Store,
}

impl std::ops::Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

impl Tx {
    pub async fn commit(mut self) -> Result<()> {
        match std::mem::replace(&mut self.conn.inner, Inner::Finished) {
            Inner::Sqlite(guard) => {
                let conn = guard.as_ref().context("the store is closed")?;
                if let Err(e) = control(conn, "COMMIT") {
                    // Still open: dropping `self` rolls it back.
                    self.conn.inner = Inner::Sqlite(guard);
                    return Err(e).context("committing a transaction");
                }
                if let Db::Sqlite(sqlite) = &self.store.db {
                    sqlite.commits.fetch_add(1, Ordering::Relaxed);
                }
                if self.conn.queued {
                    self.store.wake_deliverers();
                }
                Ok(())
            }
            Inner::Postgres(mut tx) => {
                // Other replicas deliver to other chats: they are told too (on commit).
                if self.conn.queued && self.store.partition().count > 1 {
                    sqlx::query(sqlx::AssertSqlSafe(format!("NOTIFY {OUTBOX_CHANNEL}")))
                        .execute(&mut *tx)
                        .await
                        .context("notifying the other replicas")?;
                }
                tx.commit().await.context("committing a transaction")?;
                if self.conn.queued {
                    self.store.wake_deliverers();
                }
                Ok(())
            }
            Inner::Finished => bail!("the transaction has ended"),
        }
    }

    pub async fn rollback(mut self) -> Result<()> {
        match std::mem::replace(&mut self.conn.inner, Inner::Finished) {
            Inner::Sqlite(guard) => match guard.as_ref() {
                Some(conn) => control(conn, "ROLLBACK").context("rolling back a transaction"),
                None => Ok(()),
            },
            Inner::Postgres(tx) => tx.rollback().await.context("rolling back a transaction"),
            Inner::Finished => Ok(()),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        // sqlx rolls a dropped PostgreSQL transaction back itself.
        if let Inner::Sqlite(guard) = &self.conn.inner
            && let Some(conn) = guard.as_ref()
            && !conn.is_autocommit()
        {
            conn.execute_batch("ROLLBACK").ok();
        }
    }
}

/// Copies the SQLite WAL back into the database from a connection and thread of its own,
/// once a second while there are commits, until the store is dropped or closed. A PASSIVE checkpoint never
/// blocks writers; with nothing committed the thread only wakes to look at a counter.
fn checkpointer(path: &str, sqlite: Weak<Sqlite>) -> Result<()> {
    let conn = rusqlite::Connection::open(path).context("opening the SQLite checkpoint connection")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut seen = 0;
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let Some(sqlite) = sqlite.upgrade() else { break };
                let commits = sqlite.commits.load(Ordering::Relaxed);
                if sqlite.conn.try_lock().is_ok_and(|c| c.is_none()) {
                    break;
                }
                drop(sqlite);
                if commits != seen {
                    seen = commits;
                    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                        tracing::warn!(error = %e, "SQLite checkpoint failed");
                    }
                }
            }
        })
        .context("starting the SQLite checkpoint thread")?;
    Ok(())
}

/// Reads column `name` of a row, with the column in the error.
pub(crate) fn col<T: sql::Decode>(row: &Row, name: &str) -> Result<T> {
    row.get(name)
}

/// Reads text column `name` as one of a [`crate::domain`] text enum's values; an unknown
/// value (which the CHECK constraints keep out) is an error naming the column and value.
pub(crate) fn col_enum<T>(row: &Row, name: &str, from_db: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = col(row, name)?;
    from_db(&text).with_context(|| format!("column {name} holds unknown value `{text}`"))
}

/// Reads integer column `name` as a level enum ([`crate::domain::Escalation`] and the like).
pub(crate) fn level<T>(row: &Row, name: &str, from_level: fn(i64) -> Option<T>) -> Result<T> {
    let n: i64 = col(row, name)?;
    from_level(n).with_context(|| format!("column {name} holds unknown level {n}"))
}

/// Takes savepoint `name` inside `tx`.
pub async fn savepoint(tx: &mut Tx, name: &'static str) -> Result<()> {
    on_savepoint(tx, "SAVEPOINT", name).await
}

/// Keeps what was done since savepoint `name` and forgets the savepoint.
pub async fn release_savepoint(tx: &mut Tx, name: &'static str) -> Result<()> {
    on_savepoint(tx, "RELEASE SAVEPOINT", name).await
}

/// Undoes what was done since savepoint `name` (which stays, and is released by the commit).
pub async fn rollback_to_savepoint(tx: &mut Tx, name: &'static str) -> Result<()> {
    on_savepoint(tx, "ROLLBACK TO SAVEPOINT", name).await
}

async fn on_savepoint(tx: &mut Tx, statement: &str, name: &'static str) -> Result<()> {
    query(format!("{statement} {name}"))
        .execute(tx)
        .await
        .with_context(|| format!("{statement} {name}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Every migration file is applied: a file left out of the list (as 0009 once was) would
    /// leave databases without its change and nothing would say so.
    #[test]
    fn every_migration_file_is_in_its_backends_list() {
        for (dir, list) in [
            ("sqlite", super::SQLITE_MIGRATIONS),
            ("postgres", super::POSTGRES_MIGRATIONS),
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut files: Vec<String> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
            files.sort();
            assert_eq!(files.len(), list.len(), "{dir}: {files:?}");
            for (file, (version, _, sql)) in files.iter().zip(list) {
                assert!(
                    file.starts_with(&format!("{version:04}_")),
                    "{dir}: {file} is not version {version}"
                );
                let text = std::fs::read_to_string(path.join(file)).unwrap();
                assert_eq!(&text, sql, "{dir}: {file} is not the one listed as {version}");
            }
        }
    }
}
