//! Reading a `conf.d/` directory, incrementally, keeping the last good configuration.
//!
//! Platform files (`_*.yaml`) are merged in name order; every other `*.yaml`/`*.yml`
//! file is one tenant named after the file. Dot-names (`..data`, `.hidden.yaml`)
//! are skipped and symlinks are followed, so Kubernetes ConfigMap mounts work.
//!
//! [`Loader`] re-reads only files whose (size, mtime, inode) changed and re-parses
//! only files whose content hash changed. A tenant file that fails validation keeps
//! the tenant's last good config; a failing platform file keeps the whole last good
//! config. Nothing is ever served half-applied.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use dynalert_model::{Config, Platform, Tenant};
use sha2::{Digest, Sha256};

use crate::diag::{Ctx, Diagnostic, Level};
use crate::platform::{is_platform_file, merge_platform_file};
use crate::tenant::parse_tenant_file;
use crate::yaml::{self, Node, Pos};

/// Errors that stop a load entirely (the directory itself is unusable).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read config directory `{path}`: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    mtime: Option<SystemTime>,
    ino: u64,
}

#[derive(Clone)]
struct FileState {
    stamp: Stamp,
    hash: [u8; 32],
    /// Parsed document or the parse diagnostics.
    doc: Result<Option<Arc<Node>>, Vec<Diagnostic>>,
}

/// Outcome of one load or reload.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// The configuration to serve: new where valid, last good where not.
    pub config: Arc<Config>,
    /// Every finding of this run, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether the platform files were valid (false: the whole last good config is kept).
    pub platform_valid: bool,
    /// Per tenant file: whether its current content was accepted.
    pub tenant_valid: BTreeMap<String, bool>,
    /// Whether any file changed since the previous load.
    pub changed: bool,
    /// Files read from disk in this run.
    pub files_read: usize,
    /// Files parsed in this run (content changed).
    pub files_parsed: usize,
}

impl LoadReport {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }

    /// True when everything on disk was applied.
    pub fn applied_in_full(&self) -> bool {
        self.errors() == 0
    }
}

/// A validated tenant file: (platform generation, content hash, result).
type CachedTenant = (u64, [u8; 32], Result<Arc<Tenant>, Vec<Diagnostic>>);
/// The merged platform: (content hashes of the platform files, platform, diagnostics).
type CachedPlatform = (Vec<[u8; 32]>, Arc<Platform>, Vec<Diagnostic>);

/// Incremental loader of one directory.
pub struct Loader {
    dir: PathBuf,
    files: BTreeMap<String, FileState>,
    /// Validated tenants by file name, with the platform generation they were validated against.
    tenants: BTreeMap<String, CachedTenant>,
    platform: Option<CachedPlatform>,
    platform_generation: u64,
    last_good: Arc<Config>,
}

fn stamp_of(meta: &std::fs::Metadata) -> Stamp {
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let ino = 0;
    Stamp {
        len: meta.len(),
        mtime: meta.modified().ok(),
        ino,
    }
}

/// Tenant id of a file name, or `None` when the file is not a config file.
pub fn tenant_id(name: &str) -> Option<&str> {
    if name.starts_with('.') {
        return None;
    }
    name.strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
}

fn io_diag(file: &Arc<str>, message: String) -> Diagnostic {
    Diagnostic {
        level: Level::Error,
        file: file.clone(),
        pos: Pos { line: 1, col: 1 },
        message,
        hint: None,
    }
}

impl Loader {
    pub fn new(dir: impl Into<PathBuf>) -> Loader {
        Loader {
            dir: dir.into(),
            files: BTreeMap::new(),
            tenants: BTreeMap::new(),
            platform: None,
            platform_generation: 0,
            last_good: Arc::new(Config::default()),
        }
    }

    /// Starts from a previously saved good configuration (e.g. a `--storage.path` snapshot),
    /// which supplies tenants whose files are invalid at cold start.
    pub fn with_last_good(dir: impl Into<PathBuf>, last_good: Config) -> Loader {
        let mut l = Loader::new(dir);
        l.last_good = Arc::new(last_good);
        l
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn platform_served(&self, platform: &Arc<Platform>) -> bool {
        Arc::ptr_eq(&self.last_good.platform, platform)
    }

    /// The last configuration that was served.
    pub fn last_good(&self) -> Arc<Config> {
        self.last_good.clone()
    }

    fn display_path(&self, name: &str) -> Arc<str> {
        Arc::from(self.dir.join(name).display().to_string())
    }

    /// Scans the directory (or only `only` file names) and refreshes changed files.
    fn scan(&mut self, only: Option<&[String]>, report: &mut LoadReport) -> Result<(), LoadError> {
        let names: Vec<String> = match only {
            Some(names) => names.to_vec(),
            None => fs_err::read_dir(&self.dir)
                .map_err(|e| LoadError::Dir {
                    path: self.dir.clone(),
                    source: std::io::Error::new(e.kind(), e.to_string()),
                })?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
        };
        let mut seen = BTreeSet::new();
        for name in names {
            if tenant_id(&name).is_none() {
                continue;
            }
            let path = self.dir.join(&name);
            // `metadata` follows symlinks (ConfigMap mounts link into `..data/`).
            let meta = match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => meta,
                _ => {
                    if only.is_some() && self.files.remove(&name).is_some() {
                        report.changed = true;
                    }
                    continue;
                }
            };
            seen.insert(name.clone());
            let stamp = stamp_of(&meta);
            if self.files.get(&name).is_some_and(|f| f.stamp == stamp) {
                continue;
            }
            report.files_read += 1;
            let file = self.display_path(&name);
            let (hash, text) = match fs_err::read(&path) {
                Ok(bytes) => (Sha256::digest(&bytes).into(), Ok(bytes)),
                Err(e) => ([0u8; 32], Err(e.to_string())),
            };
            if let Some(prev) = self.files.get_mut(&name) {
                if prev.hash == hash && text.is_ok() {
                    prev.stamp = stamp;
                    continue;
                }
            }
            report.changed = true;
            report.files_parsed += 1;
            let doc = match text {
                Err(e) => Err(vec![io_diag(&file, format!("cannot read file: {e}"))]),
                Ok(bytes) => match String::from_utf8(bytes) {
                    Err(_) => Err(vec![io_diag(&file, "file is not valid UTF-8".into())]),
                    Ok(text) => yaml::parse(&text)
                        .map(|d| d.map(Arc::new))
                        .map_err(|problems| {
                            problems
                                .into_iter()
                                .map(|p| Diagnostic {
                                    level: Level::Error,
                                    file: file.clone(),
                                    pos: p.pos,
                                    message: p.message,
                                    hint: p.hint,
                                })
                                .collect()
                        }),
                },
            };
            self.files.insert(name, FileState { stamp, hash, doc });
        }
        if only.is_none() {
            let before = self.files.len();
            self.files.retain(|name, _| seen.contains(name));
            if self.files.len() != before {
                report.changed = true;
            }
        }
        Ok(())
    }

    fn build_platform(&mut self, now: DateTime<Utc>) -> (Arc<Platform>, Vec<Diagnostic>) {
        let hashes: Vec<[u8; 32]> = self
            .files
            .iter()
            .filter(|(n, _)| is_platform_file(n))
            .map(|(_, f)| f.hash)
            .collect();
        if let Some((h, p, d)) = &self.platform {
            if *h == hashes {
                return (p.clone(), d.clone());
            }
        }
        let mut platform = Platform::default();
        let mut diags = Vec::new();
        for (name, f) in self.files.iter().filter(|(n, _)| is_platform_file(n)) {
            let file = Arc::from(self.dir.join(name).display().to_string());
            match &f.doc {
                Err(d) => {
                    platform.files.push(file);
                    diags.extend(d.iter().cloned());
                }
                Ok(doc) => {
                    let mut ctx = Ctx {
                        file,
                        out: &mut diags,
                    };
                    merge_platform_file(&mut ctx, doc.as_deref(), &mut platform, now);
                }
            }
        }
        let platform = Arc::new(platform);
        self.platform_generation += 1;
        self.platform = Some((hashes, platform.clone(), diags.clone()));
        (platform, diags)
    }

    /// Re-reads the directory and returns what to serve.
    pub fn reload(&mut self, now: DateTime<Utc>) -> Result<LoadReport, LoadError> {
        self.reload_inner(None, now)
    }

    /// Like [`Loader::reload`], but looks only at the named files (as reported by a file
    /// watcher); files not named are taken as unchanged. A named file that is gone is removed.
    pub fn reload_files(
        &mut self,
        names: &[String],
        now: DateTime<Utc>,
    ) -> Result<LoadReport, LoadError> {
        self.reload_inner(Some(names), now)
    }

    fn reload_inner(
        &mut self,
        only: Option<&[String]>,
        now: DateTime<Utc>,
    ) -> Result<LoadReport, LoadError> {
        let mut report = LoadReport {
            config: self.last_good.clone(),
            diagnostics: Vec::new(),
            platform_valid: true,
            tenant_valid: BTreeMap::new(),
            changed: false,
            files_read: 0,
            files_parsed: 0,
        };
        self.scan(only, &mut report)?;
        let (platform, platform_diags) = self.build_platform(now);
        report.diagnostics.extend(platform_diags.iter().cloned());
        let platform_valid = !platform_diags.iter().any(Diagnostic::is_error);
        report.platform_valid = platform_valid;
        let generation = self.platform_generation;

        let mut tenants = BTreeMap::new();
        let mut cache = std::mem::take(&mut self.tenants);
        for (name, f) in self.files.iter().filter(|(n, _)| !is_platform_file(n)) {
            let id = tenant_id(name).unwrap_or(name).to_string();
            let cached = cache
                .remove(name)
                .filter(|(g, h, _)| *g == generation && *h == f.hash);
            let result = match cached {
                Some((_, _, r)) => r,
                None => {
                    let file: Arc<str> = Arc::from(self.dir.join(name).display().to_string());
                    match &f.doc {
                        Err(d) => Err(d.clone()),
                        Ok(doc) => {
                            let mut diags = Vec::new();
                            let mut ctx = Ctx {
                                file,
                                out: &mut diags,
                            };
                            let parsed =
                                parse_tenant_file(&mut ctx, &id, doc.as_deref(), &platform, now);
                            match parsed {
                                Some(t) if !diags.iter().any(Diagnostic::is_error) => {
                                    // Warnings travel with the tenant's cached result.
                                    if diags.is_empty() {
                                        Ok(Arc::new(t))
                                    } else {
                                        report.diagnostics.extend(diags.iter().cloned());
                                        Ok(Arc::new(t))
                                    }
                                }
                                _ => Err(diags),
                            }
                        }
                    }
                }
            };
            match &result {
                Ok(t) => {
                    report.tenant_valid.insert(id.clone(), true);
                    tenants.insert(id.clone(), t.clone());
                }
                Err(diags) => {
                    report.diagnostics.extend(diags.iter().cloned());
                    report.tenant_valid.insert(id.clone(), false);
                    if let Some(prev) = self.last_good.tenants.get(&id) {
                        tenants.insert(id.clone(), prev.clone());
                    }
                }
            }
            self.tenants
                .insert(name.clone(), (generation, f.hash, result));
        }
        // Two files for one tenant (`x.yaml` and `x.yml`).
        let mut ids: BTreeMap<String, &str> = BTreeMap::new();
        for name in self.files.keys().filter(|n| !is_platform_file(n)) {
            let id = tenant_id(name).unwrap_or(name);
            if let Some(first) = ids.insert(id.to_string(), name) {
                report.diagnostics.push(io_diag(
                    &self.display_path(name),
                    format!("tenant `{id}` is defined twice (also in `{first}`)"),
                ));
                report.tenant_valid.insert(id.to_string(), false);
            }
        }

        report
            .diagnostics
            .sort_by(|a, b| (&a.file, a.pos, a.level).cmp(&(&b.file, b.pos, b.level)));
        report.diagnostics.dedup();
        if platform_valid {
            if report.changed
                || self.last_good.tenants.len() != tenants.len()
                || !self.platform_served(&platform)
            {
                self.last_good = Arc::new(Config { platform, tenants });
            }
        } else {
            // Keep everything; tenants are reported against the last good platform.
            for (id, valid) in report.tenant_valid.iter_mut() {
                *valid = *valid && self.last_good.tenants.contains_key(id);
            }
        }
        report.config = self.last_good.clone();
        Ok(report)
    }
}

/// Loads a directory once: the configuration of the valid files and every diagnostic.
pub fn load_dir(dir: impl AsRef<Path>, now: DateTime<Utc>) -> Result<LoadReport, LoadError> {
    Loader::new(dir.as_ref()).reload(now)
}
