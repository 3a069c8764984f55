//! inotify watch of the config directory (via `notify`), feeding the reloader.
//!
//! The directory is watched recursively, not file by file, so editors that replace files,
//! Kubernetes ConfigMap updates (a new `..<timestamp>` directory and an atomic swap of the
//! `..data` symlink) and changes in the subdirectories of a hierarchical conf.d (tenant
//! files and `_defaults.yaml` levels) all show up as events. A subdirectory created (or
//! moved in) after start is watched too, and its appearance triggers a full reload, so
//! files written into it before its watch was added are not missed. When the directory
//! path itself is a symlink, its parent directory is watched too, so swapping the link
//! triggers a full reload at once (like a `..data` swap), after which the watch is
//! re-added on the new target. Events are only hints: the reloader debounces them and
//! re-reads what changed; the poll is the fallback.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind, RemoveKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::state::Msg;

/// A running directory watch.
pub struct DirWatch {
    dir: PathBuf,
    watcher: Mutex<RecommendedWatcher>,
    target: Mutex<Option<PathBuf>>,
    /// The directory watched now (event paths start with it), read by the event handler.
    /// Never held while the watcher is called: its event thread takes this lock.
    root: Arc<Mutex<Option<PathBuf>>>,
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
        let root: Arc<Mutex<Option<PathBuf>>> = Arc::new(Mutex::new(None));
        let root_cb = root.clone();
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
            let ignored = match event.kind {
                // Our own reads open and close files; only writes matter.
                EventKind::Access(a) => a != AccessKind::Close(AccessMode::Write),
                // Data is still being written; the close-write event follows.
                EventKind::Modify(ModifyKind::Data(_)) => true,
                _ => false,
            };
            if ignored {
                return;
            }
            // A directory that appears or goes: rescan the tree (its files may have been
            // written before its own watch was added).
            let folder = matches!(
                event.kind,
                EventKind::Create(CreateKind::Folder) | EventKind::Remove(RemoveKind::Folder)
            );
            let root = root_cb.lock().expect("watch root").clone();
            let names = match root {
                Some(root) if !folder => changed_names(&root, &event.paths),
                _ => None,
            };
            let _ = tx.send(Msg::Changed(names));
        })?;
        let w = Arc::new(DirWatch {
            dir: dir.to_path_buf(),
            watcher: Mutex::new(watcher),
            target: Mutex::new(None),
            root,
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
            watcher.watch(new, RecursiveMode::Recursive)?;
            tracing::debug!(dir = %new.display(), "watching config directory and its subdirectories");
        }
        *self.root.lock().expect("watch root") = now.clone();
        *target = now;
        Ok(())
    }
}

/// Config files an event touches, relative to the watched directory `root`
/// (`db/mariadb/_defaults.yaml`); `None` when a full scan is needed (a ConfigMap `..data`
/// swap, a directory, a path outside `root`, or an event without paths). Other names
/// (editor temp files, dot-names) are ignored: their rename onto a config file is an event
/// of its own.
fn changed_names(root: &Path, paths: &[PathBuf]) -> Option<Vec<String>> {
    if paths.is_empty() {
        return None;
    }
    let mut names = Vec::new();
    'paths: for p in paths {
        let rel = p.strip_prefix(root).ok()?;
        let mut parts = Vec::new();
        for c in rel.components() {
            let std::path::Component::Normal(c) = c else {
                return None;
            };
            let c = c.to_string_lossy();
            if c.starts_with("..") {
                return None;
            }
            if c.starts_with('.') {
                continue 'paths;
            }
            parts.push(c.into_owned());
        }
        let name = parts.last()?;
        if p.is_dir() {
            return None;
        }
        if dynalert_config::tenant_id(name).is_some() {
            names.push(parts.join("/"));
        }
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_events() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("db/mariadb")).unwrap();
        let p = |s: &str| root.join(s);
        assert_eq!(
            changed_names(root, &[p("db-a.yaml")]),
            Some(vec!["db-a.yaml".to_string()])
        );
        assert_eq!(changed_names(root, &[p("..data")]), None);
        assert_eq!(changed_names(root, &[p("4913")]), Some(vec![]));
        assert_eq!(changed_names(root, &[]), None);
        // Files in subdirectories are named relative to the watched directory.
        assert_eq!(
            changed_names(root, &[p("db/mariadb/db-a.yaml"), p("db/_defaults.yaml")]),
            Some(vec![
                "db/mariadb/db-a.yaml".to_string(),
                "db/_defaults.yaml".to_string()
            ])
        );
        // A directory (created, or moved in) needs a full scan; so does a path elsewhere.
        assert_eq!(changed_names(root, &[p("db/mariadb")]), None);
        assert_eq!(
            changed_names(root, &[PathBuf::from("/elsewhere/x.yaml")]),
            None
        );
        assert_eq!(changed_names(root, &[root.to_path_buf()]), None);
        // Dot-names are not config files, at any level; `..` names are ConfigMap swaps.
        assert_eq!(changed_names(root, &[p(".git/x.yaml")]), Some(vec![]));
        assert_eq!(changed_names(root, &[p("db/.db-a.yaml.swp")]), Some(vec![]));
        assert_eq!(changed_names(root, &[p("..2026_11_30/db-a.yaml")]), None);
    }
}
