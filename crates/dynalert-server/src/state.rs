//! Shared state: the published snapshot that every request reads, swapped atomically.
//!
//! A request loads one `Arc<Published>` and serves only from it; the reloader builds a
//! new value and swaps it in. Nothing is mutated in place.

use std::collections::BTreeMap;
use std::sync::{mpsc, Arc};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use dynalert_model::Config;

use crate::auth::Auth;
use crate::body::{Body, Segment};

/// Upper bounds of the reload duration histogram, in seconds.
pub const RELOAD_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// Cumulative counts of a histogram with [`RELOAD_BUCKETS`].
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    pub buckets: [u64; RELOAD_BUCKETS.len()],
    pub count: u64,
    pub sum: f64,
}

impl Histogram {
    pub fn observe(&mut self, v: f64) {
        for (i, le) in RELOAD_BUCKETS.iter().enumerate() {
            if v <= *le {
                self.buckets[i] += 1;
            }
        }
        self.count += 1;
        self.sum += v;
    }
}

/// Reload and validation status, as of the last reload.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// True once a configuration has been loaded (readiness).
    pub ready: bool,
    pub last_reload_ok: bool,
    pub last_reload: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    /// Diagnostics of the last reload, one `path:line:col: …` entry each.
    pub errors: Vec<String>,
    pub tenant_valid: BTreeMap<String, bool>,
    /// Rejected tenants: the reload (of this process) that first found the current rejection.
    pub rejected_since: BTreeMap<String, DateTime<Utc>>,
    pub platform_valid: bool,
    pub reloads: BTreeMap<&'static str, u64>,
    pub reload_duration: Histogram,
    /// Scan and validation time of the last reload, in seconds.
    pub last_reload_seconds: Option<f64>,
    pub files_read: u64,
    pub files_parsed: u64,
    pub renders: u64,
    /// True while the storage snapshot is served because the first load has not finished.
    pub from_snapshot: bool,
}

/// Everything a request needs, consistent with itself.
#[derive(Debug)]
pub struct Published {
    pub body: Arc<Body>,
    pub config: Arc<Config>,
    pub at: DateTime<Utc>,
    pub status: Arc<Status>,
    /// Pre-rendered `threshold_exporter_tenant_config_valid`.
    pub valid: Arc<Segment>,
}

/// What triggered a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Startup,
    Watch,
    Poll,
    Signal,
    Http,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Startup => "startup",
            Trigger::Watch => "watch",
            Trigger::Poll => "poll",
            Trigger::Signal => "signal",
            Trigger::Http => "http",
        }
    }
}

/// Result of one reload, as answered to `POST /-/reload`.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Every file on disk was applied.
    pub applied: bool,
    /// The directory could not be read at all.
    pub failed: Option<String>,
    pub errors: Vec<String>,
    pub changed: bool,
}

/// Messages to the reloader.
pub enum Msg {
    Reload(Trigger, Option<tokio::sync::oneshot::Sender<Outcome>>),
    /// A file system event; reloads after the debounce delay. `Some(names)`: only these
    /// config files changed; `None`: anything may have changed (full scan).
    Changed(Option<Vec<String>>),
    /// The clock moved: publish whatever edge has passed, then answer.
    Tick(Option<tokio::sync::oneshot::Sender<()>>),
    Stop,
}

/// State shared by the router and the reloader.
pub struct Shared {
    pub published: ArcSwap<Published>,
    /// Per-snapshot tenant summary of the status pages.
    pub status_cache: crate::status::Cache,
    /// `--prometheus.url`, for the observations of `/tenants/{id}`.
    pub prometheus_url: Option<String>,
    pub reload: mpsc::Sender<Msg>,
    pub telemetry_path: String,
    /// Basic auth, swapped when the web config file changes.
    pub auth: arc_swap::ArcSwapOption<Auth>,
    pub config_dir: String,
    /// Whether `POST /-/reload` is enabled.
    pub enable_lifecycle: bool,
}

impl Shared {
    pub fn load(&self) -> Arc<Published> {
        self.published.load_full()
    }
}

pub type AppState = Arc<Shared>;
