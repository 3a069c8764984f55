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
    content: Content,
}

/// What the loader holds of a file between reloads.
#[derive(Clone)]
enum Content {
    /// A platform file: parsed document or its parse diagnostics.
    Parsed(Result<Option<Arc<Node>>, Vec<Diagnostic>>),
    /// A tenant file waiting for validation: its bytes or the read error. Parsing
    /// happens during validation, so the trees of thousands of files never coexist.
    Text(Result<Arc<[u8]>, String>),
    /// A validated tenant file: read again from disk if the platform changes.
    Dropped,
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

/// The merged platform: (content hashes of the platform files, platform, diagnostics).
type CachedPlatform = (Vec<[u8; 32]>, Arc<Platform>, Vec<Diagnostic>);

/// Incremental loader of one directory.
pub struct Loader {
    dir: PathBuf,
    files: BTreeMap<String, FileState>,
    /// File names whose content changed (or that vanished) since they were last validated.
    touched: BTreeSet<String>,
    platform: Option<CachedPlatform>,
    platform_generation: u64,
    /// Platform generation the tenant state below was validated against.
    validated_generation: Option<u64>,
    /// Tenant id -> validation errors of its current file (invalid tenants only).
    rejected: BTreeMap<String, Vec<Diagnostic>>,
    /// Tenant id -> whether its current file is accepted.
    valid: BTreeMap<String, bool>,
    /// Tenant id -> configuration served (new where valid, last good where not).
    served: BTreeMap<String, Arc<Tenant>>,
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
            touched: BTreeSet::new(),
            platform: None,
            platform_generation: 0,
            validated_generation: None,
            rejected: BTreeMap::new(),
            valid: BTreeMap::new(),
            served: BTreeMap::new(),
            last_good: Arc::new(Config::default()),
        }
    }

    /// Starts from a previously saved good configuration (e.g. a `--storage.path` snapshot),
    /// which supplies tenants whose files are invalid at cold start.
    pub fn with_last_good(dir: impl Into<PathBuf>, last_good: Config) -> Loader {
        let mut l = Loader::new(dir);
        l.served = last_good.tenants.clone();
        l.last_good = Arc::new(last_good);
        l
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A Kubernetes namespace belongs to one tenant: a changed tenant that claims a
    /// namespace another tenant owns is rejected (and keeps its last good config).
    fn check_namespaces(&mut self, names: &[String], served: &mut BTreeMap<String, Arc<Tenant>>) {
        let changed: BTreeSet<&str> = names.iter().map(|n| tenant_id(n).unwrap_or(n)).collect();
        // Namespaces claimed by changed, valid tenants (in id order).
        let mut claims: std::collections::HashMap<&str, Vec<&str>> =
            std::collections::HashMap::new();
        for id in &changed {
            if !self.valid.get(*id).copied().unwrap_or(false) {
                continue;
            }
            if let Some(t) = served.get(*id) {
                for ns in t.namespaces() {
                    claims.entry(ns).or_default().push(t.id.as_str());
                }
            }
        }
        if claims.is_empty() {
            return;
        }
        // Owners among unchanged tenants win; among changed ones, the first in id order.
        let mut owner: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        for t in served.values().filter(|t| !changed.contains(t.id.as_str())) {
            for ns in t.namespaces() {
                if claims.contains_key(ns) {
                    owner.entry(ns).or_insert(t.id.as_str());
                }
            }
        }
        let mut conflicts = Vec::new();
        let mut sorted: Vec<_> = claims.into_iter().collect();
        sorted.sort();
        for (ns, ids) in sorted {
            for id in ids {
                match owner.get(ns) {
                    Some(other) if *other != id => {
                        conflicts.push((served[id].clone(), ns.to_string(), other.to_string()))
                    }
                    Some(_) => {}
                    None => {
                        owner.insert(ns, id);
                    }
                }
            }
        }
        for (t, ns, other) in conflicts {
            let source = t.metadata.source.clone();
            let d = Diagnostic {
                level: Level::Error,
                file: source.as_ref().map_or_else(|| t.file.clone(), |s| s.file.clone()),
                pos: Pos {
                    line: source.as_ref().map_or(1, |s| s.line),
                    col: 1,
                },
                message: format!("namespace `{ns}` already belongs to tenant `{other}`"),
                hint: Some("a namespace can belong to one tenant only; list it in one `_metadata.namespaces`".into()),
            };
            self.rejected.entry(t.id.clone()).or_default().push(d);
            self.valid.insert(t.id.clone(), false);
            match self.last_good.tenants.get(&t.id) {
                Some(prev) => served.insert(t.id.clone(), prev.clone()),
                None => served.remove(&t.id),
            };
        }
    }

    fn has_tenant_file(&self, id: &str) -> bool {
        [".yaml", ".yml"]
            .iter()
            .any(|ext| self.files.contains_key(&format!("{id}{ext}")))
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
        let mut stale = Vec::new();
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
                        self.touched.insert(name);
                    }
                    continue;
                }
            };
            seen.insert(name.clone());
            let stamp = stamp_of(&meta);
            if self.files.get(&name).is_none_or(|f| f.stamp != stamp) {
                stale.push((name, path, stamp));
            }
        }
        report.files_read += stale.len();
        let prev_hashes: Vec<Option<[u8; 32]>> = stale
            .iter()
            .map(|(name, _, _)| self.files.get(name).map(|f| f.hash))
            .collect();
        let work: Vec<_> = stale.into_iter().zip(prev_hashes).collect();
        let dir = &self.dir;
        let refreshed = dynalert_model::parallel_map(&work, |((name, path, stamp), prev)| {
            let file: Arc<str> = Arc::from(dir.join(name).display().to_string());
            let (hash, text) = match fs_err::read(path) {
                Ok(bytes) => (Sha256::digest(&bytes).into(), Ok(Arc::<[u8]>::from(bytes))),
                Err(e) => ([0u8; 32], Err(e.to_string())),
            };
            if *prev == Some(hash) && text.is_ok() {
                return (name.clone(), stamp.clone(), hash, None);
            }
            let content = if is_platform_file(name) {
                Content::Parsed(parse_file(&file, text.as_deref()))
            } else {
                Content::Text(text)
            };
            (name.clone(), stamp.clone(), hash, Some(content))
        });
        for (name, stamp, hash, doc) in refreshed {
            match doc {
                None => {
                    if let Some(prev) = self.files.get_mut(&name) {
                        prev.stamp = stamp;
                    }
                }
                Some(doc) => {
                    report.changed = true;
                    report.files_parsed += 1;
                    self.touched.insert(name.clone());
                    self.files.insert(
                        name,
                        FileState {
                            stamp,
                            hash,
                            content: doc,
                        },
                    );
                }
            }
        }
        if only.is_none() {
            let gone: Vec<String> = self
                .files
                .keys()
                .filter(|n| !seen.contains(*n))
                .cloned()
                .collect();
            for name in gone {
                self.files.remove(&name);
                self.touched.insert(name);
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
            let Content::Parsed(doc) = &f.content else {
                unreachable!("platform files are kept parsed")
            };
            match doc {
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
        if !platform_valid {
            // Keep everything; changed tenant files wait for a valid platform.
            self.validated_generation = None;
            report.tenant_valid = self.valid.clone();
            for diags in self.rejected.values() {
                report.diagnostics.extend(diags.iter().cloned());
            }
            sort_diagnostics(&mut report.diagnostics);
            report.config = self.last_good.clone();
            return Ok(report);
        }
        let full = self.validated_generation != Some(generation);
        let names: Vec<String> = if full {
            self.touched.clear();
            self.valid.clear();
            self.rejected.clear();
            self.files
                .keys()
                .filter(|n| !is_platform_file(n))
                .cloned()
                .collect()
        } else {
            std::mem::take(&mut self.touched)
                .into_iter()
                .filter(|n| !is_platform_file(n))
                .collect()
        };
        // Validate the changed tenant files in parallel.
        let files = &self.files;
        let dir = &self.dir;
        let platform_ref = &platform;
        let validated = dynalert_model::parallel_map(&names, |name| {
            let id = tenant_id(name).unwrap_or(name).to_string();
            let Some(f) = files.get(name) else {
                return (id, None);
            };
            let file: Arc<str> = Arc::from(dir.join(name.as_str()).display().to_string());
            let parsed;
            let doc = match &f.content {
                Content::Parsed(doc) => doc,
                Content::Text(text) => {
                    parsed = parse_file(&file, text.as_deref());
                    &parsed
                }
                Content::Dropped => {
                    let text = fs_err::read(dir.join(name.as_str())).map_err(|e| e.to_string());
                    parsed = parse_file(&file, text.as_deref());
                    &parsed
                }
            };
            let result = match doc {
                Err(d) => Err(d.clone()),
                Ok(doc) => {
                    let mut diags = Vec::new();
                    let mut ctx = Ctx {
                        file,
                        out: &mut diags,
                    };
                    match parse_tenant_file(&mut ctx, &id, doc.as_deref(), platform_ref, now) {
                        Some(t) if !diags.iter().any(Diagnostic::is_error) => {
                            Ok((Arc::new(t), diags))
                        }
                        _ => Err(diags),
                    }
                }
            };
            (id, Some(result))
        });
        for name in &names {
            if let Some(f) = self.files.get_mut(name) {
                f.content = Content::Dropped;
            }
        }
        let mut served = if full {
            BTreeMap::new()
        } else {
            std::mem::take(&mut self.served)
        };
        for (id, result) in validated {
            match result {
                // The file is gone: so is the tenant (removing a file is a deliberate change).
                None => {
                    if !self.has_tenant_file(&id) {
                        served.remove(&id);
                        self.valid.remove(&id);
                        self.rejected.remove(&id);
                    }
                }
                Some(Ok((tenant, warnings))) => {
                    // Warnings are reported when the file is (re)validated.
                    report.diagnostics.extend(warnings);
                    self.rejected.remove(&id);
                    self.valid.insert(id.clone(), true);
                    served.insert(id, tenant);
                }
                Some(Err(diags)) => {
                    self.rejected.insert(id.clone(), diags);
                    self.valid.insert(id.clone(), false);
                    // Keep the last good configuration of the tenant, if it ever had one.
                    if let Some(prev) = self.last_good.tenants.get(&id) {
                        served.insert(id, prev.clone());
                    }
                }
            }
        }
        self.check_namespaces(&names, &mut served);
        // Two files for one tenant (`x.yaml` and `x.yml`).
        for name in names.iter().filter(|n| self.files.contains_key(*n)) {
            let id = tenant_id(name).unwrap_or(name);
            for ext in [".yaml", ".yml"] {
                let other = format!("{id}{ext}");
                if other != *name && self.files.contains_key(&other) {
                    let d = io_diag(
                        &self.display_path(name),
                        format!("tenant `{id}` is defined twice (also in `{other}`)"),
                    );
                    self.rejected.entry(id.to_string()).or_default().push(d);
                    self.valid.insert(id.to_string(), false);
                }
            }
        }
        for diags in self.rejected.values() {
            report.diagnostics.extend(diags.iter().cloned());
        }
        sort_diagnostics(&mut report.diagnostics);
        report.tenant_valid = self.valid.clone();
        self.validated_generation = Some(generation);
        let platform_changed = !Arc::ptr_eq(&self.last_good.platform, &platform);
        if full || platform_changed || !names.is_empty() {
            self.last_good = Arc::new(Config {
                platform,
                tenants: served.clone(),
            });
        }
        self.served = served;
        report.config = self.last_good.clone();
        Ok(report)
    }
}

fn sort_diagnostics(d: &mut Vec<Diagnostic>) {
    d.sort_by(|a, b| (&a.file, a.pos, a.level).cmp(&(&b.file, b.pos, b.level)));
    d.dedup();
}

/// Parses the bytes of one file into a document or located diagnostics.
fn parse_file(
    file: &Arc<str>,
    text: Result<&[u8], &String>,
) -> Result<Option<Arc<Node>>, Vec<Diagnostic>> {
    match text {
        Err(e) => Err(vec![io_diag(file, format!("cannot read file: {e}"))]),
        Ok(bytes) => match std::str::from_utf8(bytes) {
            Err(_) => Err(vec![io_diag(file, "file is not valid UTF-8".into())]),
            Ok(text) => yaml::parse(text)
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
    }
}

/// Loads a directory once: the configuration of the valid files and every diagnostic.
pub fn load_dir(dir: impl AsRef<Path>, now: DateTime<Utc>) -> Result<LoadReport, LoadError> {
    Loader::new(dir.as_ref()).reload(now)
}
