//! inotify watch of the config directory (via `notify`), feeding the reloader.
//!
//! The directory itself is watched, not the files, so editors that replace files and
//! Kubernetes ConfigMap updates (a new `..<timestamp>` directory and an atomic swap of the
//! `..data` symlink) all show up as events in it. When the directory path itself is a
//! symlink, its parent directory is watched too, so swapping the link triggers a full
//! reload at once (like a `..data` swap), after which the watch is re-added on the new
//! target. Events are only hints: the reloader debounces them and re-reads what changed;
//! the poll is the fallback.

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
        // The link itself, when `dir` is a symlink: `parent/name`.
        let link = std::fs::symlink_metadata(dir)
            .ok()
            .filter(|m| m.file_type().is_symlink())
            .and_then(|_| {
                let name = dir.file_name()?.to_os_string();
                let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
                let parent = std::fs::canonicalize(parent.unwrap_or(Path::new("."))).ok()?;
                Some((parent, name))
            });
        let link_cb = link.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(event) = res else {
                // Overflow or another watcher error: rescan everything.
                let _ = tx.send(Msg::Changed(None));
                return;
            };
            if let Some((parent, name)) = &link_cb {
                if event
                    .paths
                    .iter()
                    .any(|p| p.parent() == Some(parent.as_path()))
                {
                    // An event of the parent: only the config directory link matters.
                    if event
                        .paths
                        .iter()
                        .any(|p| p.file_name() == Some(name.as_os_str()))
                    {
                        let _ = tx.send(Msg::Changed(None));
                    }
                    return;
                }
            }
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
        if let Some((parent, _)) = &link {
            w.watcher
                .lock()
                .expect("watcher")
                .watch(parent, RecursiveMode::NonRecursive)?;
        }
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
