//! The one reload path: startup, file watcher, poll, SIGHUP and `POST /-/reload`.
//!
//! A single thread owns the incremental [`Loader`] and a per-tenant cache of resolved
//! series and rendered chunks. A reload re-reads only changed files, re-resolves only
//! tenants whose config changed (or whose next schedule edge has passed), re-renders only
//! those tenants, and swaps in a new [`Published`] value. A timer wakes the thread exactly
//! at the snapshot's next change (schedule edge, expiry, maintenance boundary).
//! Bad input never loses data: the loader serves the last good config of a rejected file.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dynalert_config::Loader;
use dynalert_model::{Config, Resolver};

use crate::body::{Body, Chunk, Segment};
use crate::clock::Clock;
use crate::selfmetrics::render_tenant_valid;
use crate::state::{Msg, Outcome, Published, Shared, Status, Trigger};

/// Delay between the first file event of a burst and the reload it triggers.
pub const DEBOUNCE: Duration = Duration::from_millis(10);

/// Background work that must not delay a reload: gzip and the storage snapshot.
enum Job {
    Compress(Arc<Published>),
    Store(PathBuf, Arc<Config>),
}

pub struct Reloader {
    loader: Loader,
    shared: Arc<Shared>,
    /// Each tenant's rendered series, re-rendered only when they change.
    resolver: Resolver<Arc<Chunk>>,
    status: Status,
    storage: Option<PathBuf>,
    stored: Option<Arc<Config>>,
    jobs: mpsc::Sender<Job>,
    poll: Duration,
    next_change: Option<DateTime<Utc>>,
    on_reload: Option<Box<dyn Fn() + Send>>,
    clock: Arc<dyn Clock>,
}

impl Reloader {
    pub fn new(
        loader: Loader,
        shared: Arc<Shared>,
        storage: Option<PathBuf>,
        poll: Duration,
        on_reload: Option<Box<dyn Fn() + Send>>,
        clock: Arc<dyn Clock>,
    ) -> Reloader {
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("background".into())
            .spawn(move || background(rx))
            .expect("spawn background thread");
        Reloader {
            loader,
            shared,
            resolver: Resolver::new(),
            status: Status::default(),
            storage,
            stored: None,
            jobs,
            poll,
            next_change: None,
            on_reload,
            clock,
        }
    }

    /// Runs until [`Msg::Stop`] or until every sender is gone.
    pub fn run(mut self, rx: mpsc::Receiver<Msg>) {
        self.reload(Trigger::Startup);
        let mut next_poll = Instant::now() + self.poll;
        let mut debounce: Option<Instant> = None;
        // Files named by watcher events since the last reload; `None` after an event that
        // needs a full scan.
        let mut pending: Option<BTreeSet<String>> = Some(BTreeSet::new());
        loop {
            let now = Instant::now();
            let edge = self.next_change.map(|t| {
                let wait = (t - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
                now + wait
            });
            let deadline = [Some(next_poll), debounce, edge]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(next_poll);
            match rx.recv_timeout(deadline.saturating_duration_since(now)) {
                Ok(Msg::Reload(trigger, reply)) => {
                    // Coalesce: every reload request already queued is answered by this
                    // one reload (a burst of SIGHUPs or POSTs costs one reload).
                    let mut replies: Vec<_> = reply.into_iter().collect();
                    let mut ticks = Vec::new();
                    let mut stop = false;
                    while let Ok(msg) = rx.try_recv() {
                        match msg {
                            Msg::Reload(_, r) => replies.extend(r),
                            Msg::Stop => stop = true,
                            // File events that arrived during the burst are covered by the
                            // full reload below, which scans the whole directory.
                            Msg::Changed(_) => {}
                            Msg::Tick(t) => ticks.extend(t),
                        }
                    }
                    let outcome = self.reload(trigger);
                    debounce = None;
                    pending = Some(BTreeSet::new());
                    for reply in replies {
                        let _ = reply.send(outcome.clone());
                    }
                    // The reload resolved at the current time: every passed edge is served.
                    for tick in ticks {
                        let _ = tick.send(());
                    }
                    if stop {
                        break;
                    }
                }
                Ok(Msg::Changed(names)) => {
                    match (names, pending.as_mut()) {
                        (Some(names), Some(p)) => p.extend(names),
                        _ => pending = None,
                    }
                    if pending.as_ref().is_none_or(|p| !p.is_empty()) {
                        debounce.get_or_insert_with(|| Instant::now() + DEBOUNCE);
                    }
                }
                Ok(Msg::Tick(reply)) => {
                    self.refresh_if_due();
                    if let Some(reply) = reply {
                        let _ = reply.send(());
                    }
                }
                Ok(Msg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let now = Instant::now();
                    if debounce.is_some_and(|d| d <= now) {
                        debounce = None;
                        let names = pending.replace(BTreeSet::new());
                        self.reload_with(Trigger::Watch, names.map(|n| n.into_iter().collect()));
                    } else if next_poll <= now {
                        next_poll = now + self.poll;
                        self.reload(Trigger::Poll);
                    } else {
                        self.refresh_if_due();
                    }
                }
            }
        }
    }

    /// Serves a storage snapshot, marked as such, until the first load finishes.
    pub fn publish_snapshot(&mut self, config: &Arc<Config>) {
        self.status.ready = true;
        self.status.from_snapshot = true;
        self.publish(config, self.clock.now(), false);
    }

    /// Reloads the directory and publishes the result.
    pub fn reload(&mut self, trigger: Trigger) -> Outcome {
        self.reload_with(trigger, None)
    }

    /// Reloads the named files only (`Some`), or scans the whole directory (`None`).
    pub fn reload_with(&mut self, trigger: Trigger, names: Option<Vec<String>>) -> Outcome {
        let started = Instant::now();
        let now = self.clock.now();
        *self.status.reloads.entry(trigger.as_str()).or_default() += 1;
        let result = match &names {
            Some(names) => self.loader.reload_files(names, now),
            None => self.loader.reload(now),
        };
        let outcome = match result {
            Err(e) => {
                let msg = e.to_string();
                tracing::error!(trigger = trigger.as_str(), error = %msg, "config reload failed");
                self.status.last_reload_ok = false;
                self.status.errors = vec![msg.clone()];
                self.status.last_reload = Some(now);
                let config = self.loader.last_good();
                self.publish(&config, now, false);
                Outcome {
                    failed: Some(msg),
                    ..Outcome::default()
                }
            }
            Ok(report) => {
                self.status.files_read += report.files_read as u64;
                self.status.files_parsed += report.files_parsed as u64;
                let errors = report.error_lines();
                if report.changed || trigger != Trigger::Poll {
                    for d in &report.diagnostics {
                        if d.is_error() {
                            tracing::error!(trigger = trigger.as_str(), "{d}");
                        } else {
                            tracing::warn!(trigger = trigger.as_str(), "{d}");
                        }
                    }
                }
                let applied = report.applied_in_full();
                self.status.from_snapshot = false;
                self.status.ready =
                    self.status.ready || report.platform_valid || !report.config.tenants.is_empty();
                self.status.last_reload_ok = applied;
                self.status.platform_valid = report.platform_valid;
                if applied && (report.changed || self.status.last_success.is_none()) {
                    self.status.last_success = Some(now);
                }
                let valid_changed = self.status.tenant_valid != report.tenant_valid;
                self.status.tenant_valid = report.tenant_valid.clone();
                let since = std::mem::take(&mut self.status.rejected_since);
                self.status.rejected_since = (self.status.tenant_valid.iter())
                    .filter(|(_, ok)| !**ok)
                    .map(|(id, _)| (id.clone(), since.get(id).copied().unwrap_or(now)))
                    .collect();
                self.status.errors = errors.clone();
                if report.changed {
                    tracing::info!(
                        trigger = trigger.as_str(),
                        applied,
                        errors = errors.len(),
                        files_parsed = report.files_parsed,
                        tenants = report.config.tenants.len(),
                        "config reloaded"
                    );
                }
                let config = report.config.clone();
                self.status.last_reload = Some(now);
                let elapsed = started.elapsed().as_secs_f64();
                self.status.reload_duration.observe(elapsed);
                self.status.last_reload_seconds = Some(elapsed);
                let loaded = started.elapsed();
                self.publish(&config, now, valid_changed);
                tracing::debug!(
                    trigger = trigger.as_str(),
                    load_ms = loaded.as_secs_f64() * 1000.0,
                    publish_ms = (started.elapsed() - loaded).as_secs_f64() * 1000.0,
                    files_read = report.files_read,
                    "reload timing"
                );
                if let Some(path) = &self.storage {
                    if self
                        .stored
                        .as_ref()
                        .is_none_or(|s| !Arc::ptr_eq(s, &config))
                        && self.status.ready
                    {
                        self.stored = Some(config.clone());
                        let _ = self.jobs.send(Job::Store(path.clone(), config));
                    }
                }
                Outcome {
                    applied,
                    failed: None,
                    errors,
                    changed: report.changed,
                }
            }
        };
        if let Some(f) = &self.on_reload {
            f();
        }
        outcome
    }

    /// Re-resolves the last good config when the next edge has passed (schedule window,
    /// expiry, maintenance boundary) and publishes when the series changed.
    fn refresh_if_due(&mut self) {
        let now = self.clock.now();
        if self.next_change.is_some_and(|t| t <= now) {
            let config = self.loader.last_good();
            self.publish(&config, now, false);
        }
    }

    fn publish(&mut self, config: &Arc<Config>, now: DateTime<Utc>, valid_changed: bool) {
        let current = self.shared.load();
        let rerendered = std::sync::atomic::AtomicBool::new(false);
        let update = self
            .resolver
            .update(config, now, |series, prev: Option<&Arc<Chunk>>| {
                let fresh = Chunk::render(&series);
                // Same text: keep the old chunk (an edge passed without changing values).
                match prev {
                    Some(p) if p.same_text(&fresh) => p.clone(),
                    _ => {
                        rerendered.store(true, std::sync::atomic::Ordering::Relaxed);
                        Arc::new(fresh)
                    }
                }
            });
        let changed = update.removed > 0 || rerendered.into_inner();
        // A resolver edge that is not in the future would spin the timer; the poll covers it.
        self.next_change = self.resolver.next_change_after(now);
        let body = if changed || self.status.renders == 0 {
            self.status.renders += 1;
            let chunks: Vec<&Chunk> = self.resolver.values().map(|c| &**c).collect();
            Arc::new(Body::assemble(&chunks))
        } else {
            current.body.clone()
        };
        let valid = if valid_changed
            || current.status.tenant_valid.is_empty() && !self.status.tenant_valid.is_empty()
        {
            Arc::new(Segment::new(render_tenant_valid(&self.status.tenant_valid)))
        } else {
            current.valid.clone()
        };
        let published = Arc::new(Published {
            body,
            config: config.clone(),
            at: now,
            status: Arc::new(self.status.clone()),
            valid,
        });
        self.shared.published.store(published.clone());
        let _ = self.jobs.send(Job::Compress(published));
    }
}

/// Compresses published bodies (latest first) and writes storage snapshots.
fn background(rx: mpsc::Receiver<Job>) {
    while let Ok(job) = rx.recv() {
        // Skip superseded work: only the newest body and snapshot matter.
        let mut latest_compress = None;
        let mut latest_store = None;
        let mut put = |job| match job {
            Job::Compress(p) => latest_compress = Some(p),
            Job::Store(path, c) => latest_store = Some((path, c)),
        };
        put(job);
        while let Ok(job) = rx.try_recv() {
            put(job);
        }
        if let Some(p) = latest_compress {
            p.body.segment.compress();
            p.valid.compress();
        }
        if let Some((path, config)) = latest_store {
            if let Err(e) = crate::storage::write(&path, &config) {
                tracing::error!(path = %path.display(), error = %e, "cannot write storage snapshot");
            }
        }
    }
}
