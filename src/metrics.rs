//! Prometheus metrics of this process (`GET /metrics` on the web server), kept with the
//! official `prometheus-client` crate. Counters and histograms are process-wide (one bot per
//! process); the outbox figures are read from the database at each scrape, so every replica
//! reports the shared queue as it stands. Names are listed in the README.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::Platform;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PlatformLabel {
    pub platform: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub platform: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub platform: String,
    pub priority: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReplicaLabels {
    pub replica: String,
    pub version: String,
}

type Timings = Family<PlatformLabel, Histogram, fn() -> Histogram>;

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    updates: Family<OutcomeLabels, Counter>,
    handling: Timings,
    deliveries: Family<OutcomeLabels, Counter>,
    delivery_latency: Timings,
    pub(crate) outbox_pending: Family<QueueLabels, Gauge>,
    pub(crate) dead_letters: Family<PlatformLabel, Gauge>,
}

fn handling_buckets() -> Histogram {
    // 50 µs … about 1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

fn latency_buckets() -> Histogram {
    // 10 ms … about 11 minutes: a message may wait for its chat's budget or a retry.
    Histogram::new(exponential_buckets(0.01, 2.0, 17))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn get() -> &'static Metrics {
    &METRICS
}

/// A name for this replica in the metrics: the host name and process id.
pub fn replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::default();
        let updates = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "beatbot_updates",
            "Inbound updates (messages, button presses) by outcome: handled, duplicate, refused, failed",
            updates.clone(),
        );
        let handling = Timings::new_with_constructor(handling_buckets);
        registry.register(
            "beatbot_update_handling_seconds",
            "Time to handle one inbound update, from the transaction's start to its commit",
            handling.clone(),
        );
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "beatbot_deliveries",
            "Delivery attempts by outcome: delivered, retry, rate_limited (429), dead, gone, deferred (chat budget), superseded (edit)",
            deliveries.clone(),
        );
        let delivery_latency = Timings::new_with_constructor(latency_buckets);
        registry.register(
            "beatbot_delivery_latency_seconds",
            "From a message being queued to its delivery",
            delivery_latency.clone(),
        );
        let outbox_pending = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "beatbot_outbox_pending",
            "Messages waiting in the outbox, by platform and priority (read at each scrape)",
            outbox_pending.clone(),
        );
        let dead_letters = Family::<PlatformLabel, Gauge>::default();
        registry.register(
            "beatbot_outbox_dead_letters",
            "Messages that can never be delivered (dead or gone), by platform (read at each scrape)",
            dead_letters.clone(),
        );
        let info = Family::<ReplicaLabels, Gauge>::default();
        info.get_or_create(&ReplicaLabels {
            replica: replica_name(),
            version: env!("CARGO_PKG_VERSION").into(),
        })
        .set(1);
        registry.register("beatbot_replica", "This process: its replica name and version", info);
        Metrics {
            registry,
            updates,
            handling,
            deliveries,
            delivery_latency,
            outbox_pending,
            dead_letters,
        }
    }

    /// Counts an inbound update and, when it was handled, how long that took.
    pub fn update(&self, platform: Platform, outcome: &str, seconds: Option<f64>) {
        self.updates
            .get_or_create(&OutcomeLabels {
                platform: platform.as_str().into(),
                outcome: outcome.into(),
            })
            .inc();
        if let Some(s) = seconds {
            self.handling
                .get_or_create(&PlatformLabel {
                    platform: platform.as_str().into(),
                })
                .observe(s);
        }
    }

    /// Counts a delivery attempt's outcome.
    pub fn delivery(&self, platform: Platform, outcome: &str) {
        self.deliveries
            .get_or_create(&OutcomeLabels {
                platform: platform.as_str().into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Records how long a delivered message waited since it was queued.
    pub fn delivered_after(&self, platform: Platform, seconds: f64) {
        self.delivery_latency
            .get_or_create(&PlatformLabel {
                platform: platform.as_str().into(),
            })
            .observe(seconds.max(0.0));
    }

    /// Sets the outbox gauges from [`crate::store::outbox::queue_figures`].
    pub fn set_queue(&self, queue: &crate::store::outbox::QueueFigures) {
        self.outbox_pending.clear();
        self.dead_letters.clear();
        for (platform, priority, n) in &queue.pending {
            self.outbox_pending
                .get_or_create(&QueueLabels {
                    platform: platform.clone(),
                    priority: priority.to_string(),
                })
                .set(*n);
        }
        for (platform, n) in &queue.dead {
            self.dead_letters
                .get_or_create(&PlatformLabel {
                    platform: platform.clone(),
                })
                .set(*n);
        }
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
