//! inotify watch of the config directory (via `notify`), feeding the reloader.
//!
//! The directory itself is watched, not the files, so editors that replace files and
//! Kubernetes ConfigMap updates (a new `..<timestamp>` directory and an atomic swap of the
//! `..data` symlink) all show up as events in it. When the directory path itself is a
//! symlink that gets swapped, the watch is re-added on the new target. Events are only
//! hints: the reloader debounces them and re-reads what changed; the poll is the fallback.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
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
                // Overflow or another watcher error: rescan everything.
                let _ = tx.send(Msg::Changed(None));
                return;
            };
            let relevant = match event.kind {
                // Our own reads open and close files; only writes matter.
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
                EventKind::Access(_) => false,
                // Data is still being written; the close-write event follows.
                EventKind::Modify(ModifyKind::Data(_)) => false,
                _ => true,
            };
            if relevant {
                let _ = tx.send(Msg::Changed(changed_names(&event.paths)));
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

/// Config file names an event touches; `None` when a full scan is needed (a ConfigMap
/// `..data` swap, the directory itself, or an event without paths). Other names (editor
/// temp files) are ignored: their rename onto a config file is an event of its own.
fn changed_names(paths: &[PathBuf]) -> Option<Vec<String>> {
    if paths.is_empty() {
        return None;
    }
    let mut names = Vec::new();
    for p in paths {
        let name = p.file_name()?.to_string_lossy().into_owned();
        if name.starts_with("..") {
            return None;
        }
        if dynalert_config::tenant_id(&name).is_some() {
            names.push(name);
        }
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_events() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            changed_names(&[p("/c/db-a.yaml")]),
            Some(vec!["db-a.yaml".to_string()])
        );
        assert_eq!(changed_names(&[p("/c/..data")]), None);
        assert_eq!(changed_names(&[p("/c/4913")]), Some(vec![]));
        assert_eq!(changed_names(&[]), None);
    }
}
