//! What a replica does to live beside others on one PostgreSQL (see `store::replicas`): it
//! heartbeats, so the live replicas split the chats between them and a dead one's chats are
//! taken over within [`replicas::ALIVE_MS`]; it hears the others' "messages queued" signals;
//! and it runs work only one replica may do (serving Matrix) under a lease that moves to
//! another replica when its holder dies or stops renewing it.

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::{Store, replicas};

/// A lease runs out this long after its last renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(15);
/// How often a holder renews its lease, and how often the others try to take it.
pub const LEASE_RENEW: Duration = Duration::from_secs(3);

/// This process's name among the replicas (host name and process id, as in the metrics).
pub fn id() -> String {
    crate::metrics::replica_name()
}

/// Heartbeats every [`replicas::HEARTBEAT`] until `stop`, then leaves (the others take this
/// one's chats at once). Also relays the other replicas' signals to this process's workers.
pub async fn heartbeat(store: Store, id: String, mut stop: watch::Receiver<bool>) -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let listening = tokio::spawn({
        let store = store.clone();
        let stop = stop.clone();
        async move { store.listen_to_other_replicas(stop).await }
    });
    let mut was = None;
    loop {
        match replicas::heartbeat(&store, &id, version).await {
            Ok(share) if was != Some(share) => {
                tracing::info!(
                    replica = %id,
                    index = share.index,
                    replicas = share.count,
                    "this replica delivers to its share of the chats"
                );
                was = Some(share);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "replica heartbeat failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(replicas::HEARTBEAT) => {}
            _ = stop.changed() => break,
        }
    }
    if let Err(e) = replicas::leave(&store, &id).await {
        tracing::warn!(error = %format!("{e:#}"), "could not remove this replica's heartbeat");
    }
    if let Ok(Err(e)) = listening.await {
        tracing::warn!(error = %format!("{e:#}"), "listening to other replicas failed");
    }
    Ok(())
}

/// Runs the work `start` starts (given its own stop signal) while this replica holds lease
/// `name`, until `stop`. Without the lease it tries again every [`LEASE_RENEW`]. The work is
/// stopped before the lease can run out under it: when another replica has taken it, or when
/// renewals have failed for nearly [`LEASE_TTL`]. Work that ends by itself gives the lease up
/// and is started again ten seconds later (here or on another replica).
pub async fn under_lease<F, Fut>(
    store: Store,
    name: &'static str,
    holder: String,
    mut stop: watch::Receiver<bool>,
    start: F,
) -> Result<()>
where
    F: Fn(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = Result<Vec<JoinHandle<Result<()>>>>>,
{
    let ttl_ms = LEASE_TTL.as_millis() as i64;
    loop {
        // Wait for the lease.
        loop {
            match replicas::hold_lease(&store, name, &holder, ttl_ms).await {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %format!("{e:#}"), lease = name, "could not ask for the lease"),
            }
            tokio::select! {
                _ = tokio::time::sleep(LEASE_RENEW) => {}
                _ = stop.changed() => return Ok(()),
            }
        }
        let mut held_until = tokio::time::Instant::now() + LEASE_TTL;
        tracing::info!(lease = name, replica = %holder, "this replica holds the lease and starts its work");
        let (stop_work, work_stopped) = watch::channel(false);
        let mut tasks = match start(work_stopped).await {
            Ok(tasks) => tasks,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), lease = name, "the leased work did not start; trying again in 10 s");
                release(&store, name, &holder).await;
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(10)) => continue,
                    _ = stop.changed() => return Ok(()),
                }
            }
        };
        let mut finished = None;
        let stopping = loop {
            tokio::select! {
                _ = tokio::time::sleep(LEASE_RENEW) => {}
                _ = stop.changed() => break true,
                (ended, i, _) = futures::future::select_all(tasks.iter_mut()) => {
                    finished = Some(i);
                    match ended {
                        Ok(Ok(())) => tracing::warn!(lease = name, "the leased work ended"),
                        Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), lease = name, "the leased work failed"),
                        Err(e) => tracing::error!(error = %e, lease = name, "the leased work panicked"),
                    }
                    break false;
                }
            }
            match replicas::hold_lease(&store, name, &holder, ttl_ms).await {
                Ok(true) => held_until = tokio::time::Instant::now() + LEASE_TTL,
                Ok(false) => {
                    tracing::warn!(lease = name, "another replica took the lease: stopping this one's work");
                    break false;
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), lease = name, "could not renew the lease");
                    if tokio::time::Instant::now() + 2 * LEASE_RENEW >= held_until {
                        tracing::warn!(
                            lease = name,
                            "the lease is about to run out: stopping this replica's work"
                        );
                        break false;
                    }
                }
            }
        };
        let _ = stop_work.send(true);
        if let Some(i) = finished {
            // Already joined: a JoinHandle is not awaited twice.
            tasks.swap_remove(i);
        }
        for task in tasks {
            let _ = task.await;
        }
        release(&store, name, &holder).await;
        if stopping {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = stop.changed() => return Ok(()),
        }
    }
}

async fn release(store: &Store, name: &str, holder: &str) {
    if let Err(e) = replicas::release_lease(store, name, holder).await {
        tracing::warn!(error = %format!("{e:#}"), lease = name, "could not give the lease up");
    }
}
