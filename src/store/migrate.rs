//! Applying the migrations of each backend. PostgreSQL uses sqlx's migrator; SQLite keeps the
//! same bookkeeping table (`_sqlx_migrations`, SHA-384 checksums) so databases created before
//! the store moved to rusqlite carry on where they were, and a migration edited after it ran is
//! refused as sqlx refuses it.

use std::borrow::Cow;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha384};
use sqlx::PgPool;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(version, description, sql)` of each migration, in order.
pub type Migrations = &'static [(i64, &'static str, &'static str)];

pub async fn postgres(pool: &PgPool, list: Migrations) -> Result<()> {
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
    Migrator::with_migrations(migrations).run(pool).await?;
    Ok(())
}

pub fn sqlite(conn: &rusqlite::Connection, list: Migrations) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (\
             version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
    )?;
    let dirty: Option<i64> = conn
        .query_row(
            "SELECT version FROM _sqlx_migrations WHERE success = false ORDER BY version LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    if let Some(version) = dirty {
        bail!("migration {version} was left half-applied; repair the database by hand");
    }
    let mut applied = std::collections::HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT version, checksum FROM _sqlx_migrations")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        for row in rows {
            let (version, checksum) = row?;
            applied.insert(version, checksum);
        }
    }
    for (version, description, sql) in list {
        let checksum = Sha384::digest(sql.as_bytes()).to_vec();
        match applied.get(version) {
            Some(seen) if *seen == checksum => continue,
            Some(_) => bail!("migration {version} was applied but has since been modified"),
            None => {}
        }
        let started = std::time::Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let run = conn.execute_batch(sql).and_then(|()| {
            conn.execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES (?1, ?2, TRUE, ?3, -1)",
                rusqlite::params![version, description, checksum],
            )
        });
        if let Err(e) = run {
            conn.execute_batch("ROLLBACK").ok();
            return Err(e).with_context(|| format!("while executing migration {version}"));
        }
        conn.execute_batch("COMMIT")?;
        conn.execute(
            "UPDATE _sqlx_migrations SET execution_time = ?1 WHERE version = ?2",
            rusqlite::params![started.elapsed().as_nanos() as i64, version],
        )?;
    }
    Ok(())
}
