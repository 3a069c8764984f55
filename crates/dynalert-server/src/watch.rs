//! inotify watch of the config directory (via `notify`), feeding the reloader.
//!
//! The directory itself is watched, not the files, so editors that replace files and
//! Kubernetes ConfigMap updates (a new `..<timestamp>` directory and an atomic swap of the
//! `..data` symlink) all show up as events in it. When the directory path itself is a
//! symlink that gets swapped, the watch is re-added on the new target. Events are only
//! hints: the reloader debounces them and re-reads what changed; the poll is the fallback.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::state::Msg;

/// A running directory watch.
pub struct DirWatch {
    dir: PathBuf,
    watcher: Mutex<RecommendedWatcher>,
    target: Mutex<Option<PathBuf>>,
}

impl DirWatch {
    pub fn start(dir: &Path, tx: mpsc::Sender<Msg>) -> notify::Result<Arc<DirWatch>> {
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(event) = res else {
                // Overflow or another watcher error: ask for a reload anyway.
                let _ = tx.send(Msg::Changed);
                return;
            };
            let relevant = match event.kind {
                // Our own reads open and close files; only writes matter.
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
                EventKind::Access(_) => false,
                _ => true,
            };
            if relevant {
                let _ = tx.send(Msg::Changed);
            }
        })?;
        let w = Arc::new(DirWatch {
            dir: dir.to_path_buf(),
            watcher: Mutex::new(watcher),
            target: Mutex::new(None),
        });
        w.rewatch()?;
        Ok(w)
    }

    /// Adds the watch again when the directory now resolves to another target.
    pub fn rewatch(&self) -> notify::Result<()> {
        let now = std::fs::canonicalize(&self.dir).ok();
        let mut target = self.target.lock().expect("watch target");
        if *target == now && now.is_some() {
            return Ok(());
        }
        let mut watcher = self.watcher.lock().expect("watcher");
        if let Some(old) = target.take() {
            let _ = watcher.unwatch(&old);
        }
        if let Some(new) = &now {
            watcher.watch(new, RecursiveMode::NonRecursive)?;
            tracing::debug!(dir = %new.display(), "watching config directory");
        }
        *target = now;
        Ok(())
    }
}
