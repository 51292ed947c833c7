//! Several `beatbot serve` processes (replicas) on one PostgreSQL: who is alive, which chats
//! each one delivers to, the lease that says which one serves Matrix, and the sending budgets
//! they share. On SQLite there is one process, which is alone in every sense: it delivers to
//! every chat and holds every lease, and none of this touches the database.
//!
//! Times here come from the database's clock (`clock_timestamp()`), so replicas on machines
//! whose clocks disagree still agree on who is alive and when a budget frees.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

use super::{Backend, Conn, Db, Store, col, query};

/// A replica counts as alive for this long after its last heartbeat. Longer than a group's
/// sending interval (3 s), so a chat handed over after a death is not sent to twice within one.
pub const ALIVE_MS: i64 = 10_000;
/// How often a replica heartbeats (and learns who else is alive).
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// The database clock in milliseconds (PostgreSQL).
const DB_NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// Which chats this process delivers to: those whose id hashes to `index` modulo `count`. A
/// chat is served by one replica at a time, so its own budget (one message a second, twenty a
/// minute to a group) is kept in that process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub index: u32,
    pub count: u32,
}

impl Partition {
    pub const ALL: Partition = Partition { index: 0, count: 1 };

    /// The condition on `outbox.chat_id` that keeps to this share (empty for all chats). The
    /// numbers are the process's own, never user input.
    pub fn sql(self) -> String {
        if self.count <= 1 {
            String::new()
        } else {
            format!(
                " AND MOD(ABS(hashtext(chat_id)::BIGINT), {}) = {}",
                self.count, self.index
            )
        }
    }

    fn pack(self) -> u64 {
        (u64::from(self.index) << 32) | u64::from(self.count)
    }

    fn unpack(packed: u64) -> Partition {
        Partition {
            index: (packed >> 32) as u32,
            count: (packed & 0xffff_ffff) as u32,
        }
    }
}

/// This process's current partition, shared by the store's clones.
#[derive(Debug)]
pub(super) struct Membership(AtomicU64);

impl Default for Membership {
    fn default() -> Self {
        Membership(AtomicU64::new(Partition::ALL.pack()))
    }
}

impl Membership {
    pub(super) fn get(&self) -> Partition {
        Partition::unpack(self.0.load(Ordering::Relaxed))
    }

    pub(super) fn set(&self, partition: Partition) {
        self.0.store(partition.pack(), Ordering::Relaxed);
    }
}

/// On SQLite only one process serves: whatever the outbox shows claimed was claimed by an
/// earlier run that died (a crash, a kill, a power cut) and goes back now instead of waiting
/// out its lease (a minute). Returns how many rows. Nothing on PostgreSQL, where the live
/// replicas' heartbeats put back what dead ones held.
pub async fn release_claims_of_a_dead_run(store: &Store) -> Result<u64> {
    if store.backend() != Backend::Sqlite {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    let released =
        query("UPDATE outbox SET lease_until = 0, leased_by = NULL WHERE status = 'pending' AND lease_until > 0")
            .execute(&mut tx)
            .await
            .context("putting back what an earlier run had claimed")?
            .rows_affected();
    tx.commit().await?;
    Ok(released)
}

/// Records that replica `id` is alive and returns its partition among the live replicas
/// (ordered by id), which the store's outbox claims use from now on.
pub async fn heartbeat(store: &Store, id: &str, version: &str) -> Result<Partition> {
    if store.backend() == Backend::Sqlite {
        return Ok(Partition::ALL);
    }
    let mut tx = store.begin().await?;
    query(format!(
        "INSERT INTO replicas (id, version, started_at, heartbeat_at) VALUES ($1, $2, {DB_NOW_MS}, {DB_NOW_MS}) \
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = {DB_NOW_MS}, version = $2"
    ))
    .bind(id)
    .bind(version)
    .execute(&mut tx)
    .await
    .context("recording the replica's heartbeat")?;
    let live = live_ids(&mut tx).await?;
    // Rows claimed by replicas no longer alive go back now: their lease would hold them for
    // up to a minute.
    let placeholders: Vec<String> = (1..=live.len()).map(|i| format!("${i}")).collect();
    let mut put_back = query(format!(
        "UPDATE outbox SET lease_until = 0, leased_by = NULL WHERE status = 'pending' AND leased_by IS NOT NULL \
         AND lease_until > 0 AND leased_by NOT IN ({})",
        placeholders.join(", ")
    ));
    for replica in &live {
        put_back = put_back.bind(replica.as_str());
    }
    let released = put_back
        .execute(&mut tx)
        .await
        .context("putting back what dead replicas had claimed")?
        .rows_affected();
    tx.commit().await?;
    if released > 0 {
        tracing::warn!(
            released,
            "put back messages claimed by a replica that stopped answering"
        );
        store.wake_deliverers();
    }
    let index = live.iter().position(|r| r == id).unwrap_or(0);
    let partition = Partition {
        index: index as u32,
        count: live.len().max(1) as u32,
    };
    if store.membership.get() != partition {
        store.membership.set(partition);
        // Chats changed hands: look at the outbox with the new share now.
        store.wake_deliverers();
    }
    Ok(partition)
}

/// Replica `id` stops: its row goes, so the others take its chats at their next heartbeat
/// instead of after [`ALIVE_MS`].
pub async fn leave(store: &Store, id: &str) -> Result<()> {
    if store.backend() == Backend::Sqlite {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    query("DELETE FROM replicas WHERE id = $1")
        .bind(id)
        .execute(&mut tx)
        .await
        .context("removing the replica")?;
    tx.commit().await
}

/// The live replicas, by id (PostgreSQL; on SQLite none are recorded).
pub async fn live(store: &Store) -> Result<Vec<String>> {
    if store.backend() == Backend::Sqlite {
        return Ok(Vec::new());
    }
    let mut tx = store.begin_read().await?;
    let live = live_ids(&mut tx).await?;
    tx.commit().await?;
    Ok(live)
}

async fn live_ids(conn: &mut Conn) -> Result<Vec<String>> {
    let rows = query(format!(
        "SELECT id FROM replicas WHERE heartbeat_at >= {DB_NOW_MS} - $1 ORDER BY id"
    ))
    .bind(ALIVE_MS)
    .fetch_all(conn)
    .await
    .context("listing live replicas")?;
    rows.iter().map(|r| col(r, "id")).collect()
}

/// Takes or renews lease `name` for `holder` until `ttl_ms` from now; whether `holder` has it.
/// A lease another holder let run out is taken over. On SQLite the one process always has it.
pub async fn hold_lease(store: &Store, name: &str, holder: &str, ttl_ms: i64) -> Result<bool> {
    if store.backend() == Backend::Sqlite {
        return Ok(true);
    }
    let mut tx = store.begin().await?;
    let row = query(format!(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, {DB_NOW_MS} + $3) \
         ON CONFLICT (name) DO UPDATE SET holder = $2, expires_at = {DB_NOW_MS} + $3 \
         WHERE leases.holder = $2 OR leases.expires_at < {DB_NOW_MS} RETURNING holder"
    ))
    .bind(name)
    .bind(holder)
    .bind(ttl_ms)
    .fetch_optional(&mut tx)
    .await
    .with_context(|| format!("holding the {name} lease"))?;
    tx.commit().await?;
    Ok(row.is_some())
}

/// Gives lease `name` up if `holder` has it, so another replica can take it at once.
pub async fn release_lease(store: &Store, name: &str, holder: &str) -> Result<()> {
    if store.backend() == Backend::Sqlite {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(&mut tx)
        .await
        .with_context(|| format!("releasing the {name} lease"))?;
    tx.commit().await
}

/// Reserves the next send of shared budget `key`, which allows one send per `interval`: how
/// long to wait before sending (zero when the budget is free now). Every replica reserving
/// from the same key is spaced as one process would be (GCRA with a burst of one, kept in one
/// row). PostgreSQL only: callers on SQLite keep their budgets in the process.
pub async fn reserve_send(store: &Store, key: &str, interval: Duration) -> Result<Duration> {
    let interval_us = interval.as_micros().max(1) as i64;
    let now_us = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT";
    let mut tx = store.begin().await?;
    let row = query(format!(
        "INSERT INTO rate_budgets AS b (key, next_at) VALUES ($1, {now_us} + $2) \
         ON CONFLICT (key) DO UPDATE SET next_at = GREATEST(b.next_at, {now_us}) + $2 \
         RETURNING next_at - $2 - {now_us} AS wait_us"
    ))
    .bind(key)
    .bind(interval_us)
    .fetch_one(&mut tx)
    .await
    .context("reserving a send from a shared budget")?;
    tx.commit().await?;
    let wait_us: i64 = col(&row, "wait_us")?;
    Ok(Duration::from_micros(wait_us.max(0) as u64))
}

/// This replica's hold on work one replica does at a time (the scheduler): a PostgreSQL
/// session advisory lock on a connection of its own, released when this is dropped or the
/// process dies. On SQLite the one process always leads.
pub struct Leadership(Option<sqlx::PgConnection>);

/// The advisory lock key of `what` (a fixed hash of its name, the same in every replica).
fn lock_key(what: &str) -> i64 {
    // FNV-1a: stable across builds and versions, unlike std's hasher.
    let hash = what.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash as i64
}

/// Leadership of `what` if no other replica has it.
pub async fn try_lead(store: &Store, what: &str) -> Result<Option<Leadership>> {
    let Db::Postgres(pool) = &store.db else {
        return Ok(Some(Leadership(None)));
    };
    // Detached from the pool: a lock must never go back to the pool with its connection.
    let mut conn = pool.acquire().await.context("a connection for leadership")?.detach();
    let row: (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
        .bind(lock_key(what))
        .fetch_one(&mut conn)
        .await
        .context("pg_try_advisory_lock")?;
    Ok(row.0.then_some(Leadership(Some(conn))))
}

impl Leadership {
    /// Whether this replica still leads: its lock's connection still answers.
    pub async fn holds(&mut self) -> bool {
        match &mut self.0 {
            None => true,
            Some(conn) => sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_packs_and_says_its_share() {
        let p = Partition { index: 2, count: 3 };
        assert_eq!(Partition::unpack(p.pack()), p);
        assert_eq!(Partition::ALL.sql(), "");
        assert_eq!(p.sql(), " AND MOD(ABS(hashtext(chat_id)::BIGINT), 3) = 2");
    }
}
