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
//!
//! The file system is read fail-closed: a config file that cannot be read as a
//! regular file (dangling or looping link, FIFO, device, directory, over the size
//! limit) is an error for that file, never a deletion. A file is parsed only once its
//! content has been stable for the settle delay (never mid-write). A tenant is
//! removed only when its file is really gone from a readable, non-empty directory; a
//! removed or emptied platform file keeps the whole last good configuration.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use dynalert_model::{Config, Platform, Tenant};
use sha2::{Digest, Sha256};

use crate::diag::{ticked, Ctx, Diagnostic, Level};
use crate::platform::{
    finish_platform, is_ignored_level_file, is_level_file, is_platform_file, merge_file,
};
use crate::tenant::{parse_tenants_file, FileTenants, PlatformIndex};
use crate::yaml::{self, Limits, Node, NodeKind, Pos};

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

#[derive(Clone, PartialEq, Eq, Default)]
struct Stamp {
    len: u64,
    mtime: Option<SystemTime>,
    ino: u64,
    /// Set for an entry that is not a readable regular file (the reason), so that an
    /// unchanged broken entry is not re-reported as a change at every scan.
    broken: Option<String>,
}

/// How the loader reads files: size and tree limits, and the settle delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    pub limits: Limits,
    /// A file modified less than this long ago is not read yet (it may be mid-write).
    /// Zero for one-shot reads such as `dynalert validate`.
    pub settle: std::time::Duration,
    /// How long one reload waits for files that keep changing before it keeps their
    /// last good content and reports them.
    pub settle_timeout: std::time::Duration,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            limits: Limits::default(),
            settle: std::time::Duration::ZERO,
            settle_timeout: std::time::Duration::from_secs(2),
        }
    }
}

#[derive(Clone)]
struct FileState {
    stamp: Stamp,
    hash: [u8; 32],
    content: Content,
}

/// The outcome of reading one changed file.
enum Read {
    /// Changed while it was read or modified within the settle delay: try again later.
    Unstable,
    /// Same content as before (only the stamp changed).
    Same,
    Changed(Content),
}

impl Content {
    /// An explicit empty mapping (`{}`): a platform file retired on purpose.
    fn is_empty_mapping(&self) -> bool {
        matches!(self, Content::Parsed(Ok(Some(doc))) if matches!(&doc.kind, NodeKind::Map(m) if m.is_empty()))
    }
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
#[derive(Debug, Clone, Default)]
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
    /// Files still changing when the reload gave up waiting: their last good content
    /// is kept (each also has an error diagnostic).
    pub unstable: Vec<String>,
}

impl LoadReport {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Every error, as `path:line:col: message` text.
    pub fn error_lines(&self) -> Vec<String> {
        let errors = self.diagnostics.iter().filter(|d| d.is_error());
        errors.map(ToString::to_string).collect()
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

/// The defaults of one directory of a hierarchical conf.d: the root platform merged with
/// the `_defaults.yaml` files of every level down to the directory.
#[derive(Clone)]
struct LevelState {
    /// Root platform generation and content hashes of the level files of the chain.
    key: (u64, Vec<[u8; 32]>),
    platform: Arc<Platform>,
    /// Findings in this directory's own level files.
    own: Vec<Diagnostic>,
    /// Whether a level file of the chain has an error (the tenants beneath keep their
    /// last good configuration).
    broken: bool,
}

/// Position of the empty mapping that stands for a platform file of comments only.
const COMMENTS_ONLY: Pos = Pos { line: 0, col: 0 };

/// How many directory levels a conf.d may have: root, domain, region, environment.
const MAX_LEVELS: usize = 4;

/// The directory part of a relative file name (`""` for the root).
fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The file name part of a relative file name.
fn base_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, b)| b)
}

/// A tenant file (not a platform or level `_*.yaml` file).
fn is_tenant_file(rel: &str) -> bool {
    !base_of(rel).starts_with('_')
}

/// Whether `rel` lies beneath directory `dir` (`""`: everything).
fn beneath(rel: &str, dir: &str) -> bool {
    dir.is_empty()
        || rel
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Incremental loader of one directory.
#[derive(Default)]
pub struct Loader {
    dir: PathBuf,
    files: BTreeMap<String, FileState>,
    /// File names whose content changed (or that vanished) since they were last validated.
    touched: BTreeSet<String>,
    platform: Option<CachedPlatform>,
    platform_generation: u64,
    /// Platform files of the last platform that was applied, and whether each was an
    /// explicit empty mapping (`{}`): removing one of the others keeps that platform.
    applied_platform: BTreeMap<String, bool>,
    /// Platform generation the tenant state below was validated against.
    validated_generation: Option<u64>,
    /// Directory of a hierarchical conf.d -> its merged defaults.
    levels: BTreeMap<String, LevelState>,
    /// Tenant file -> the tenants it declared when it was last validated (with where).
    file_ids: BTreeMap<String, Vec<(String, Pos)>>,
    /// Tenant id -> the files that declare it (more than one is an error).
    id_files: BTreeMap<String, BTreeSet<String>>,
    /// Tenant id -> "declared in more than one file" errors.
    duplicates: BTreeMap<String, Vec<Diagnostic>>,
    /// Tenant file -> validation errors of its current content.
    rejected: BTreeMap<String, Vec<Diagnostic>>,
    /// Tenant id -> whether its current file is accepted.
    valid: BTreeMap<String, bool>,
    /// Tenant id -> configuration served (new where valid, last good where not).
    served: BTreeMap<String, Arc<Tenant>>,
    last_good: Arc<Config>,
    read: ReadOptions,
    /// Loads once and is dropped ([`load_dir`]): the state a next reload would need is
    /// handed to the report instead of copied.
    one_shot: bool,
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
        broken: None,
    }
}

/// Tenant id of a file name (its stem, for `.yaml`/`.yml` in any case), or `None` when
/// the file is not a config file. The id is not checked here: see [`check_tenant_id`].
pub fn tenant_id(name: &str) -> Option<&str> {
    if name.starts_with('.') {
        return None;
    }
    [".yaml", ".yml"].into_iter().find_map(|ext| {
        let at = name.len().checked_sub(ext.len())?;
        let stem = name.get(..at)?;
        name[at..].eq_ignore_ascii_case(ext).then_some(stem)
    })
}

/// Checks a tenant id against the grammar: lower-case letters, digits, `-`, `_`, `.`,
/// starting and ending with a letter or digit, at most 63 characters.
pub fn check_tenant_id(id: &str) -> Result<(), String> {
    let ok_edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok = id.len() <= 63
        && ok_edge(id.chars().next())
        && ok_edge(id.chars().last())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    ok.then_some(()).ok_or_else(|| {
        format!(
            "file name gives the tenant id {}, which is not a valid tenant id",
            yaml::quote(id)
        )
    })
}

/// Reads a regular file of at most `max` bytes. Never allocates more than the limit from
/// the file's reported size, never blocks on a FIFO, and checks the limit while reading.
fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    Ok(read_stable(path, None, max)?.expect("an unstamped read is never unstable"))
}

/// Reads a regular file of at most `max` bytes. With the `stamp` the scan saw, the read
/// is checked against it on the open file afterwards: `None` when the file changed in
/// between (replaced, written to, grown or shrunk), to be read again once it settles.
/// A stamped read that got exactly the stamped length stops there, so a file costs
/// open, one read, one `fstat` and close.
fn read_stable(path: &Path, stamp: Option<&Stamp>, max: u64) -> StableRead {
    let file = open_nonblocking(path).map_err(|e| e.to_string())?;
    read_open(file, stamp, max)
}

/// The bytes of a file, `None` when it changed while read, or why it cannot be read.
type StableRead = Result<Option<Vec<u8>>, String>;

/// Opens a file for reading; a FIFO swapped in after the stat must not block the reload.
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(0o4000); // O_NONBLOCK
    }
    opts.open(path)
}

/// A cold scan's probe and read in one: the stamp from `fstat` on the open file, then
/// [`read_open`] against it. `None` (a name that is no regular file, cannot be opened or
/// is over the limit) leaves the name to [`probe`] and its located reason.
fn probe_and_read(path: &Path, max: u64) -> Option<(Stamp, StableRead)> {
    let file = open_nonblocking(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    let stamp = stamp_of(&meta);
    let read = read_open(file, Some(&stamp), max);
    Some((stamp, read))
}

/// [`read_stable`] on a file already open.
fn read_open(mut file: std::fs::File, stamp: Option<&Stamp>, max: u64) -> StableRead {
    use std::io::Read;
    let len = match stamp {
        Some(s) => s.len,
        None => {
            let meta = file.metadata().map_err(|e| e.to_string())?;
            if !meta.is_file() {
                return Err(not_regular(&meta));
            }
            meta.len()
        }
    };
    if len > max {
        return Err(too_large(len, max));
    }
    // Sized from the known length (bounded by the limit): one read, plus the one that
    // sees the end when there is no stamp to check the length against.
    let expected = usize::try_from(len).unwrap_or(0);
    let mut bytes = vec![0u8; expected + 1];
    let mut got = 0;
    loop {
        if stamp.is_some() && got == expected {
            break;
        }
        match file.read(&mut bytes[got..]) {
            Ok(0) => break,
            Ok(n) => {
                got += n;
                if got > expected {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    bytes.truncate(got);
    match stamp {
        // The open file still has the stamped identity, length and mtime: what was read
        // is the whole of the version the scan saw.
        Some(s) => {
            let meta = file.metadata().map_err(|e| e.to_string())?;
            if !meta.is_file() {
                return Err(not_regular(&meta));
            }
            Ok((stamp_of(&meta) == *s && got == expected).then_some(bytes))
        }
        None if got > expected => {
            // Grown since the stat: read on, within the limit.
            file.take(max + 1 - got as u64)
                .read_to_end(&mut bytes)
                .map_err(|e| e.to_string())?;
            if bytes.len() as u64 > max {
                return Err(too_large(bytes.len() as u64, max));
            }
            Ok(Some(bytes))
        }
        None => Ok(Some(bytes)),
    }
}

fn too_large(len: u64, max: u64) -> String {
    format!("file is {len} bytes, over the limit of {max} bytes (`--config.max-file-size`)")
}

fn not_regular(meta: &std::fs::Metadata) -> String {
    let ft = meta.file_type();
    let what = if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_fifo() {
                "a FIFO"
            } else if ft.is_char_device() || ft.is_block_device() {
                "a device"
            } else if ft.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            }
        }
        #[cfg(not(unix))]
        "not a regular file"
    };
    format!("not a regular file ({what})")
}

/// What a scan finds at a config file name.
enum Probe {
    /// Nothing there (the name is free): a deletion.
    Gone,
    /// Something that cannot be read as a regular file (the reason).
    Broken(Stamp),
    /// A regular file.
    File(Stamp),
}

fn probe(path: &Path) -> Probe {
    // The usual case in one call: a regular file (or something else that resolves).
    let e = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => return Probe::File(stamp_of(&meta)),
        Ok(meta) => {
            return Probe::Broken(Stamp {
                broken: Some(not_regular(&meta)),
                ..stamp_of(&meta)
            })
        }
        Err(e) => e,
    };
    let link = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Probe::Gone,
        Err(e) => {
            return Probe::Broken(Stamp {
                broken: Some(format!("cannot read: {e}")),
                ..Stamp::default()
            })
        }
        Ok(m) => m,
    };
    let target = std::fs::read_link(path)
        .map(|t| format!(" to `{}`", t.display()))
        .unwrap_or_default();
    let why = match e.raw_os_error() {
        Some(40) => format!("looping symbolic link{target}"),
        _ if e.kind() == std::io::ErrorKind::NotFound => {
            format!("dangling symbolic link{target} (its target does not exist)")
        }
        _ => e.to_string(),
    };
    Probe::Broken(Stamp {
        broken: Some(format!("cannot read: {why}")),
        ..stamp_of(&link)
    })
}

/// Config file names of a conf.d, relative to it (`db/mariadb/_defaults.yaml`), down to
/// [`MAX_LEVELS`] directory levels. Dot-names are skipped; symlinks are followed. A deeper
/// directory holding config files is reported, never silently skipped.
fn list_tree(root: &Path) -> Result<(Vec<String>, Vec<Diagnostic>), LoadError> {
    /// The names in one directory, each with whether it is a directory (symbolic links
    /// followed).
    fn read(dir: &Path) -> Result<Vec<(String, bool)>, LoadError> {
        let entries = fs_err::read_dir(dir).map_err(|e| LoadError::Dir {
            path: dir.to_path_buf(),
            source: std::io::Error::new(e.kind(), e.to_string()),
        })?;
        Ok(entries
            .flatten()
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                // The entry's own type costs no call; a link is followed with `stat`.
                let is_dir = match e.file_type() {
                    Ok(t) if !t.is_symlink() => t.is_dir(),
                    _ => std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir()),
                };
                (name, is_dir)
            })
            .collect())
    }
    let mut names = Vec::new();
    let mut deep = Vec::new();
    // One level at a time, the directories of a level read on all cores.
    let mut level = vec![String::new()];
    for depth in 1..=MAX_LEVELS + 1 {
        if level.is_empty() {
            break;
        }
        let listed = dynalert_model::parallel_map(&level, |rel| read(&root.join(rel)));
        let mut next = Vec::new();
        for (rel, entries) in level.iter().zip(listed) {
            if depth > MAX_LEVELS {
                // Too deep: only reported, and only when it holds config files.
                if entries.is_ok_and(|e| {
                    e.iter()
                        .any(|(n, _)| !n.starts_with('.') && tenant_id(n).is_some())
                }) {
                    deep.push(io_hint(
                        &Arc::from(root.join(rel).display().to_string()),
                        format!("directory `{rel}` is nested too deep; its files are not read"),
                        format!("a conf.d has at most {MAX_LEVELS} levels (root, domain, region, environment): move the files up"),
                    ));
                }
                continue;
            }
            let entries = match entries {
                Ok(e) => e,
                Err(e) if rel.is_empty() => return Err(e),
                Err(e) => {
                    deep.push(io_diag(
                        &Arc::from(root.join(rel).display().to_string()),
                        format!("cannot read directory: {e}"),
                    ));
                    continue;
                }
            };
            for (name, is_dir) in entries {
                if name.starts_with('.') {
                    continue;
                }
                let is_file = tenant_id(&name).is_some();
                let child = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                if is_file {
                    names.push(child);
                } else if is_dir {
                    next.push(child);
                }
            }
        }
        level = next;
    }
    names.sort();
    Ok((names, deep))
}

fn io_diag(file: &Arc<str>, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        level: Level::Error,
        file: file.clone(),
        pos: Pos { line: 1, col: 1 },
        message: message.into(),
        hint: None,
    }
}

/// [`io_diag`] with a hint.
fn io_hint(file: &Arc<str>, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
    Diagnostic {
        hint: Some(hint.into()),
        ..io_diag(file, message)
    }
}

impl Loader {
    pub fn new(dir: impl Into<PathBuf>) -> Loader {
        Loader {
            dir: dir.into(),
            ..Loader::default()
        }
    }

    /// Sets the limits and the settle delay used to read files.
    pub fn with_read_options(mut self, read: ReadOptions) -> Loader {
        self.read = read;
        self
    }

    /// Starts from a previously saved good configuration (e.g. a `--storage.path` snapshot),
    /// which supplies tenants whose files are invalid at cold start.
    pub fn with_last_good(dir: impl Into<PathBuf>, last_good: Config) -> Loader {
        let mut l = Loader::new(dir);
        l.served = last_good.tenants.clone();
        l.last_good = Arc::new(last_good);
        l
    }

    /// The last configuration that was served.
    pub fn last_good(&self) -> Arc<Config> {
        self.last_good.clone()
    }

    fn display_path(&self, name: &str) -> Arc<str> {
        Arc::from(self.dir.join(name).display().to_string())
    }

    /// Scans the directory (or only `only` file names) and refreshes changed files.
    ///
    /// Returns directory-level problems that make the whole scan untrustworthy (the
    /// directory suddenly holds no config file): the caller keeps the last good config.
    fn scan(
        &mut self,
        only: Option<&[String]>,
        report: &mut LoadReport,
    ) -> Result<Vec<Diagnostic>, LoadError> {
        let names: Vec<String> = match only {
            Some(names) => names.to_vec(),
            None => {
                let (names, deep) = list_tree(&self.dir)?;
                report.diagnostics.extend(deep);
                names
            }
        };
        let mut seen = BTreeSet::new();
        let mut gone = Vec::new();
        let mut stale = Vec::new();
        let names: Vec<String> = names
            .into_iter()
            .filter(|name| tenant_id(base_of(name)).is_some())
            .collect();
        // One `stat` per file: on all cores for a large directory. A cold scan reads every
        // file anyway, so it opens each one once and takes the stamp from the open file.
        let dir = &self.dir;
        let cold = self.files.is_empty();
        let max = self.read.limits.max_bytes;
        let probes = dynalert_model::parallel_map(&names, |name| {
            let path = dir.join(name);
            if let Some((stamp, read)) = cold.then(|| probe_and_read(&path, max)).flatten() {
                let read = read.map(|bytes| bytes.map(Arc::<[u8]>::from));
                return (path, Probe::File(stamp), Some(read));
            }
            let probe = probe(&path);
            (path, probe, None)
        });
        for (name, (path, probe, read)) in names.into_iter().zip(probes) {
            let (Probe::Broken(stamp) | Probe::File(stamp)) = probe else {
                gone.push(name);
                continue;
            };
            // `seen` finds deleted files: with nothing loaded yet there are none.
            if !cold {
                seen.insert(name.clone());
            }
            if self.files.get(&name).is_none_or(|f| f.stamp != stamp) {
                stale.push((name, path, stamp, read));
            }
        }
        if only.is_none() {
            gone = self
                .files
                .keys()
                .filter(|n| !seen.contains(*n))
                .cloned()
                .collect();
        }
        gone.retain(|n| self.files.contains_key(n));
        let mut blockers = Vec::new();
        if !gone.is_empty() {
            // A deletion counts only when the directory still holds config files: an
            // emptied directory (a dangling or empty ConfigMap `..data`) is a broken
            // mount, not the removal of every tenant.
            let remaining = match only {
                None => seen.len(),
                Some(_) => list_tree(&self.dir)?
                    .0
                    .iter()
                    .filter(|n| tenant_id(base_of(n)).is_some())
                    .count(),
            };
            if remaining == 0 {
                blockers.push(io_hint(
                    &Arc::from(self.dir.display().to_string()),
                    "the config directory holds no config file any more; the last good configuration is kept",
                    "check the mount (a ConfigMap's `..data` link) or restore the files",
                ));
                return Ok(blockers);
            }
        }
        let read = self.read;
        let one_shot = self.one_shot;
        let now = SystemTime::now();
        let work: Vec<_> = stale
            .into_iter()
            .map(|s| (self.files.get(&s.0).map(|f| f.hash), s))
            .collect();
        report.files_read += work.len();
        let dir = &self.dir;
        let refreshed =
            dynalert_model::parallel_map(&work, |(prev, (name, path, stamp, read_already))| {
                let text = match &stamp.broken {
                    Some(why) => Err(why.clone()),
                    None => {
                        let recent = stamp
                            .mtime
                            .and_then(|m| now.duration_since(m).ok())
                            .is_none_or(|age| age < read.settle);
                        if !read.settle.is_zero() && recent {
                            return ([0u8; 32], Read::Unstable);
                        }
                        let got = read_already.clone().unwrap_or_else(|| {
                            read_stable(path, Some(stamp), read.limits.max_bytes)
                                .map(|bytes| bytes.map(Arc::<[u8]>::from))
                        });
                        // `None`: changed while it was read: the same file, size and mtime
                        // after the read, or read again later.
                        let Some(text) = got.transpose() else {
                            return ([0u8; 32], Read::Unstable);
                        };
                        text
                    }
                };
                // A one-shot load never compares a tenant file with an earlier version;
                // platform and level files are hashed for the caches keyed by them.
                let hash: [u8; 32] = match &text {
                    _ if one_shot && is_tenant_file(name) => [0u8; 32],
                    Ok(bytes) => Sha256::digest(bytes).into(),
                    Err(e) => Sha256::digest(e.as_bytes()).into(),
                };
                if *prev == Some(hash) {
                    return (hash, Read::Same);
                }
                let content = if is_platform_file(name) || is_level_file(name) {
                    let file: Arc<str> = Arc::from(dir.join(name).display().to_string());
                    Content::Parsed(parse_file(&file, text.as_deref(), read.limits, true))
                } else {
                    Content::Text(text)
                };
                (hash, Read::Changed(content))
            });
        let mut fresh = Vec::new();
        for ((_, (name, _, stamp, _)), (hash, outcome)) in work.into_iter().zip(refreshed) {
            match outcome {
                Read::Unstable => report.unstable.push(name),
                Read::Same => {
                    if let Some(prev) = self.files.get_mut(&name) {
                        prev.stamp = stamp;
                    }
                }
                Read::Changed(content) => {
                    report.changed = true;
                    report.files_parsed += 1;
                    fresh.push((
                        name,
                        FileState {
                            stamp,
                            hash,
                            content,
                        },
                    ));
                }
            }
        }
        // Names come sorted: on a cold load the maps are built in one pass. Touched names
        // matter only to an incremental run, and the run after an unvalidated one is full.
        if self.validated_generation.is_none() {
            self.touched.clear();
        } else if self.touched.is_empty() {
            self.touched = fresh.iter().map(|(n, _)| n.clone()).collect();
        } else {
            self.touched.extend(fresh.iter().map(|(n, _)| n.clone()));
        }
        if self.files.is_empty() {
            self.files = fresh.into_iter().collect();
        } else {
            self.files.extend(fresh);
        }
        for name in gone {
            if is_platform_file(&name) && !self.retire_platform_file(&name) {
                continue;
            }
            self.files.remove(&name);
            self.touched.insert(name);
            report.changed = true;
        }
        Ok(blockers)
    }

    /// A platform file that vanished: removed when its last content was an explicit
    /// empty mapping (`{}`), otherwise kept as an error so the last good platform stays.
    /// Returns whether the file may be removed.
    fn retire_platform_file(&mut self, name: &str) -> bool {
        let file = self.display_path(name);
        // A file that never made it into an applied platform (or was `{}` there) takes
        // nothing away when it goes.
        if self.applied_platform.get(name).is_none_or(|empty| *empty) {
            return true;
        }
        let Some(f) = self.files.get_mut(name) else {
            return true;
        };
        const REMOVED: &str = "removed";
        if f.content.is_empty_mapping() {
            return true;
        }
        if f.stamp.broken.as_deref() != Some(REMOVED) {
            f.hash = Sha256::digest(REMOVED.as_bytes()).into();
            f.stamp.broken = Some(REMOVED.into());
            f.content = Content::Parsed(Err(vec![io_hint(
                &file,
                "platform file was removed; the last good platform is kept",
                "to retire a platform file, first replace its content with `{}` and reload, then delete it",
            )]));
        }
        false
    }

    fn build_platform(&mut self, now: DateTime<Utc>) -> (Arc<Platform>, Vec<Diagnostic>) {
        let hashes: Vec<[u8; 32]> = self
            .files
            .iter()
            .filter(|(n, _)| is_platform_file(n))
            .map(|(_, f)| f.hash)
            .collect();
        if let Some((_, p, d)) = self.platform.as_ref().filter(|(h, ..)| *h == hashes) {
            return (p.clone(), d.clone());
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
                Ok(None) => {
                    platform.files.push(file.clone());
                    diags.push(io_hint(
                        &file,
                        "platform file is empty; the last good platform is kept",
                        "an empty platform file is taken as a write in progress or a mistake; write `{}` to retire it on purpose",
                    ));
                }
                Ok(Some(doc))
                    if doc.pos == COMMENTS_ONLY
                        && self.applied_platform.get(name) == Some(&false) =>
                {
                    // A file of comments only is fine as written (upstream ships one),
                    // but replacing a platform file that was in use is a broken deploy.
                    platform.files.push(file.clone());
                    diags.push(io_hint(
                        &file,
                        "platform file now holds only comments; the last good platform is kept",
                        "write `{}` to retire the file on purpose",
                    ));
                }
                Ok(doc) => {
                    let mut ctx = Ctx::new(file, &mut diags);
                    merge_file(&mut ctx, doc.as_deref(), &mut platform, now, false);
                }
            }
        }
        if let Some(file) = platform.files.last().cloned() {
            finish_platform(&mut Ctx::new(file, &mut diags), &platform);
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
            platform_valid: true,
            ..LoadReport::default()
        };
        let mut blockers = self.scan(only, &mut report)?;
        // Files written right now are read once they have settled, within a deadline.
        let deadline = std::time::Instant::now() + self.read.settle_timeout;
        while !report.unstable.is_empty() && blockers.is_empty() {
            let wait = self.read.settle.max(std::time::Duration::from_millis(5));
            if std::time::Instant::now() + wait > deadline {
                break;
            }
            std::thread::sleep(wait);
            let names = std::mem::take(&mut report.unstable);
            blockers = self.scan(Some(&names), &mut report)?;
        }
        for name in &report.unstable {
            report.diagnostics.push(io_hint(
                &self.display_path(name),
                "file kept changing while it was read; its last good content is kept",
                "write config files atomically: write a temporary file, then rename it",
            ));
        }
        let (platform, mut platform_diags) = self.build_platform(now);
        platform_diags.extend(blockers);
        report.diagnostics.extend(platform_diags.iter().cloned());
        let platform_valid = !platform_diags.iter().any(Diagnostic::is_error);
        report.platform_valid = platform_valid;
        let generation = self.platform_generation;
        if !platform_valid {
            // Keep everything; changed tenant files wait for a valid platform. Their
            // findings are still reported (against what the platform files define so far),
            // so one run shows every error, platform and tenant alike.
            self.validated_generation = None;
            let pending: Vec<String> = self
                .files
                .iter()
                .filter(|(n, f)| is_tenant_file(n) && matches!(f.content, Content::Text(_)))
                .map(|(n, _)| n.clone())
                .collect();
            let dirs = self.level_dirs(&pending, &platform, generation, now);
            for (_, level) in dirs.iter() {
                report.diagnostics.extend(level.own.iter().cloned());
            }
            let (files, dir, limits) = (&self.files, &self.dir, self.read.limits);
            let owners = Owners::default();
            let indexes = platform_indexes(&dirs);
            let checked = dynalert_model::parallel_map(&pending, |name| {
                let index = &indexes[dir_of(name)];
                validate_file(files, dir, name, index, limits, now, &owners)
            });
            for ft in checked.into_iter().flatten() {
                report.diagnostics.extend(ft.diags);
                for d in ft.tenants {
                    report.diagnostics.extend(d.diags);
                }
            }
            report.tenant_valid = self.valid.clone();
            for diags in self.rejected.values().chain(self.duplicates.values()) {
                report.diagnostics.extend(diags.iter().cloned());
            }
            sort_diagnostics(&mut report.diagnostics);
            report.config = self.last_good.clone();
            return Ok(report);
        }
        self.applied_platform = self
            .files
            .iter()
            .filter(|(n, _)| is_platform_file(n))
            .map(|(n, f)| (n.clone(), f.content.is_empty_mapping()))
            .collect();
        let full = self.validated_generation != Some(generation);
        // Level files (`_defaults.yaml` in subdirectories) that changed: every tenant file
        // beneath them is validated again, and only those.
        let touched_levels: Vec<String> = self
            .touched
            .iter()
            .filter(|n| is_level_file(n))
            .map(|n| dir_of(n).to_string())
            .collect();
        let names: Vec<String> = if full {
            self.touched.clear();
            self.valid.clear();
            self.rejected.clear();
            self.duplicates.clear();
            self.file_ids.clear();
            self.id_files.clear();
            self.files
                .keys()
                .filter(|n| is_tenant_file(n))
                .cloned()
                .collect()
        } else {
            let touched: BTreeSet<String> = std::mem::take(&mut self.touched)
                .into_iter()
                .filter(|n| is_tenant_file(n))
                .collect();
            let mut all = touched.clone();
            // Every file declaring a tenant of a touched file: a duplicate that goes away
            // clears the "declared twice" error of the file that stays.
            for name in &touched {
                for (id, _) in self.file_ids.get(name).into_iter().flatten() {
                    all.extend(self.id_files.get(id).into_iter().flatten().cloned());
                }
            }
            if !touched_levels.is_empty() {
                all.extend(
                    self.files
                        .keys()
                        .filter(|n| is_tenant_file(n))
                        .filter(|n| touched_levels.iter().any(|d| beneath(n, d)))
                        .cloned(),
                );
            }
            all.into_iter().collect()
        };
        // A full run validates every tenant file already.
        let all_tenant_files: Vec<String> = if full || touched_levels.is_empty() {
            Vec::new()
        } else {
            self.files
                .keys()
                .filter(|n| is_tenant_file(n))
                .cloned()
                .collect()
        };
        let level_files = if all_tenant_files.is_empty() {
            &names
        } else {
            &all_tenant_files
        };
        let dirs = self.level_dirs(level_files, &platform, generation, now);
        for level in dirs.values() {
            report.diagnostics.extend(level.own.iter().cloned());
        }
        // Validate the changed tenant files in parallel.
        let (files, dir, limits) = (&self.files, &self.dir, self.read.limits);
        let owners = Owners::default();
        let indexes = platform_indexes(&dirs);
        let validated = dynalert_model::parallel_map(&names, |name| {
            let level = &dirs[dir_of(name)];
            let index = &indexes[dir_of(name)];
            let mut outcome = validate_file(files, dir, name, index, limits, now, &owners);
            if let Some(ft) = outcome.as_mut() {
                if level.broken {
                    ft.diags.push(io_hint(
                        &Arc::from(dir.join(name.as_str()).display().to_string()),
                        "the defaults of this directory have errors; its tenants keep their last good configuration",
                        "fix the errors of the `_defaults.yaml` files above this file",
                    ));
                }
                let hierarchical = !Arc::ptr_eq(&level.platform, &platform);
                for d in &mut ft.tenants {
                    if let Some(t) = d.tenant.as_mut() {
                        t.level = hierarchical.then(|| level.platform.clone());
                    }
                }
            }
            outcome
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
        let mut affected: BTreeSet<String> = BTreeSet::new();
        // Tenants serving their last good config because this run rejected them.
        let mut restored: Vec<String> = Vec::new();
        for (name, outcome) in names.iter().zip(validated) {
            let old_ids: Vec<(String, Pos)> = self.file_ids.remove(name).unwrap_or_default();
            if !full {
                affected.extend(old_ids.iter().map(|(id, _)| id.clone()));
            }
            let Some(ft) = outcome else {
                // The file is gone: so are its tenants (removing a file is deliberate),
                // unless another file still declares them.
                self.rejected.remove(name);
                for (id, _) in old_ids {
                    self.forget(&id, name, &mut served);
                }
                continue;
            };
            let file_ok = ft.file_ok();
            let (mut errors, notes): (Vec<_>, Vec<_>) =
                ft.diags.into_iter().partition(Diagnostic::is_error);
            report.diagnostics.extend(notes);
            // Declared ids that break the grammar are reported, never served or counted.
            let mut ids: Vec<(String, Pos)> = ft
                .tenants
                .iter()
                .filter(|d| check_tenant_id(&d.id).is_ok())
                .filter(|d| {
                    Some(d.id.as_str()) == tenant_id(base_of(name))
                        || owners.own_file(&self.files, &d.id).is_none()
                })
                .map(|d| (d.id.clone(), d.pos))
                .collect();
            if file_ok {
                // Tenants the file no longer declares are removed (a deliberate change).
                for (id, _) in &old_ids {
                    if !ids.iter().any(|(n, _)| n == id) {
                        self.forget(id, name, &mut served);
                    }
                }
            } else {
                // A file that cannot be read as a whole keeps every tenant it declared.
                for (id, pos) in &old_ids {
                    if !ids.iter().any(|(n, _)| n == id) {
                        ids.push((id.clone(), *pos));
                    }
                }
            }
            let has_errors = !file_ok
                || ft
                    .tenants
                    .iter()
                    .any(|d| d.diags.iter().any(Diagnostic::is_error));
            if ids.is_empty() && has_errors {
                // Nothing valid declared: the file is reported under its own name.
                if let Some(stem) = tenant_id(base_of(name)) {
                    ids.push((stem.to_string(), Pos { line: 1, col: 1 }));
                }
            }
            let mut accepted = BTreeSet::new();
            for d in ft.tenants {
                let ok = file_ok && d.tenant.is_some();
                for diag in d.diags {
                    if diag.is_error() {
                        errors.push(diag);
                    } else if ok {
                        report.diagnostics.push(diag);
                    }
                }
                if let Some(t) = d.tenant.filter(|_| ok) {
                    served.insert(d.id.clone(), Arc::new(t));
                    self.valid.insert(d.id.clone(), true);
                    accepted.insert(d.id);
                }
            }
            for (id, _) in &ids {
                if !full {
                    affected.insert(id.clone());
                }
                self.id_files
                    .entry(id.clone())
                    .or_default()
                    .insert(name.clone());
                if !accepted.contains(id) && self.reject(id, &mut served) {
                    restored.push(id.clone());
                }
            }
            if errors.is_empty() {
                self.rejected.remove(name);
            } else {
                self.rejected.insert(name.clone(), errors);
            }
            self.file_ids.insert(name.clone(), ids);
        }
        // A tenant declared in two files (`x.yaml` and `x.yml`, or two multi-tenant
        // files): neither is served, the tenant keeps its last good config. A full run
        // starts with no duplicates, so only the ids with two files need a look.
        if full {
            affected = self
                .id_files
                .iter()
                .filter(|(_, files)| files.len() > 1)
                .map(|(id, _)| id.clone())
                .collect();
        }
        for id in affected {
            let Some(files) = self.id_files.get(&id).filter(|f| f.len() >= 2) else {
                self.duplicates.remove(&id);
                continue;
            };
            let diags = files
                .iter()
                .map(|name| {
                    let others = ticked(files.iter().filter(|o| *o != name), ", ");
                    let pos = self
                        .file_ids
                        .get(name)
                        .and_then(|ids| ids.iter().find(|(n, _)| *n == id))
                        .map_or(Pos { line: 1, col: 1 }, |(_, p)| *p);
                    Diagnostic {
                        pos,
                        ..io_hint(
                            &self.display_path(name),
                            format!("tenant `{id}` is defined twice (also in {})", others),
                            "declare each tenant in one file only: delete or rename the others",
                        )
                    }
                })
                .collect();
            self.duplicates.insert(id.clone(), diags);
            if self.reject(&id, &mut served) {
                restored.push(id);
            }
        }
        // Tier and namespaces are the platform's: a last good config kept for a rejected
        // file follows the current platform's assignment like every tenant validated in
        // this run. Only a platform change (a full run) can move an assignment;
        // incremental runs keep what the last full run fixed up.
        if full {
            for id in &restored {
                let Some(t) = served.get_mut(id) else {
                    continue;
                };
                if let Some(fixed) = t.with_tenancy(&platform) {
                    *t = Arc::new(fixed);
                }
            }
        }
        for diags in self.rejected.values().chain(self.duplicates.values()) {
            report.diagnostics.extend(diags.iter().cloned());
        }
        sort_diagnostics(&mut report.diagnostics);
        report.tenant_valid = if self.one_shot {
            std::mem::take(&mut self.valid)
        } else {
            self.valid.clone()
        };
        self.validated_generation = Some(generation);
        let platform_changed = !Arc::ptr_eq(&self.last_good.platform, &platform);
        if full || platform_changed || !names.is_empty() {
            let tenants = if self.one_shot {
                std::mem::take(&mut served)
            } else {
                served.clone()
            };
            self.last_good = Arc::new(Config { platform, tenants });
        }
        self.served = served;
        report.config = self.last_good.clone();
        Ok(report)
    }

    /// A tenant whose current configuration is rejected: it keeps its last good one.
    /// Returns whether there is one.
    fn reject(&mut self, id: &str, served: &mut BTreeMap<String, Arc<Tenant>>) -> bool {
        self.valid.insert(id.to_string(), false);
        let prev = self.last_good.tenants.get(id);
        match prev {
            Some(prev) => served.insert(id.to_string(), prev.clone()),
            None => served.remove(id),
        };
        prev.is_some()
    }

    /// File `name` no longer declares tenant `id`: the tenant goes when no file does.
    fn forget(&mut self, id: &str, name: &str, served: &mut BTreeMap<String, Arc<Tenant>>) {
        if let Some(files) = self.id_files.get_mut(id) {
            files.remove(name);
            if !files.is_empty() {
                return;
            }
        }
        self.id_files.remove(id);
        self.duplicates.remove(id);
        served.remove(id);
        self.valid.remove(id);
    }

    /// The merged defaults of every directory holding one of `files` (and of the
    /// directories above them), from the cache where nothing changed.
    fn level_dirs(
        &mut self,
        files: &[String],
        root: &Arc<Platform>,
        generation: u64,
        now: DateTime<Utc>,
    ) -> BTreeMap<String, LevelState> {
        // Sorted names keep a directory's files together: repeats are skipped before the set.
        let mut dirs: BTreeSet<&str> = BTreeSet::from([""]);
        let mut last = "";
        for d in files.iter().map(|n| dir_of(n)) {
            if d != last {
                dirs.insert(d);
                last = d;
            }
        }
        // Directories with level files report their findings even without tenants.
        let mut level_files: BTreeMap<String, Vec<(String, [u8; 32])>> = BTreeMap::new();
        for (n, f) in self.files.iter().filter(|(n, _)| is_level_file(n)) {
            level_files
                .entry(dir_of(n).to_string())
                .or_default()
                .push((n.clone(), f.hash));
        }
        let mut all: BTreeSet<String> = dirs.iter().map(|d| d.to_string()).collect();
        all.extend(level_files.keys().cloned());
        // Other `_*.yaml` files of a subdirectory are read by nothing: say so.
        let mut ignored: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
        for n in self.files.keys().filter(|n| is_ignored_level_file(n)) {
            ignored.entry(dir_of(n).to_string()).or_default().push(Diagnostic {
                level: Level::Warning,
                ..io_hint(&self.display_path(n), "file is ignored: a `_` file in a subdirectory other than `_defaults.yaml`", "only `_defaults.yaml` applies to the tenants of a subdirectory; platform files live in the root directory")
            });
        }
        all.extend(ignored.keys().cloned());
        // Every directory's defaults build on its parent's: with all ancestors present, one
        // depth at a time, each depth on all cores.
        let ancestors: Vec<String> = all
            .iter()
            .flat_map(|d| {
                std::iter::successors(Some(d.as_str()), |d| (!d.is_empty()).then(|| dir_of(d)))
            })
            .filter(|d| !all.contains(*d))
            .map(str::to_string)
            .collect();
        all.extend(ancestors);
        // The root is depth 0; `a` is 1, `a/b` 2.
        let depth = |d: &str| usize::from(!d.is_empty()) + d.matches('/').count();
        let deepest = all.iter().map(|d| depth(d)).max().unwrap_or(0);
        let mut out = BTreeMap::new();
        for at in 0..=deepest {
            let these: Vec<&String> = all.iter().filter(|d| depth(d) == at).collect();
            let this = &*self;
            let states = dynalert_model::parallel_map(&these, |d| {
                this.level(d, root, generation, now, &out, &level_files)
            });
            for (d, mut level) in these.into_iter().zip(states) {
                if level_files.contains_key(d) {
                    self.levels.insert(d.clone(), level.clone());
                }
                level.own.extend(ignored.remove(d).unwrap_or_default());
                out.insert(d.clone(), level);
            }
        }
        // Only directories with level files are cached, and they are all in `out`.
        self.levels.retain(|d, _| out.contains_key(d));
        out
    }

    fn level(
        &self,
        dir: &str,
        root: &Arc<Platform>,
        generation: u64,
        now: DateTime<Utc>,
        done: &BTreeMap<String, LevelState>,
        level_files: &BTreeMap<String, Vec<(String, [u8; 32])>>,
    ) -> LevelState {
        if dir.is_empty() {
            return LevelState {
                key: (generation, Vec::new()),
                platform: root.clone(),
                own: Vec::new(),
                broken: false,
            };
        }
        // Parents are done first (see `level_dirs`).
        let parent = done
            .get(dir_of(dir))
            .cloned()
            .unwrap_or_else(|| self.level(dir_of(dir), root, generation, now, done, level_files));
        let own_files = level_files.get(dir).cloned().unwrap_or_default();
        if own_files.is_empty() {
            return LevelState {
                own: Vec::new(),
                ..parent
            };
        }
        let mut hashes = parent.key.1.clone();
        hashes.extend(own_files.iter().map(|(_, h)| *h));
        let key = (generation, hashes);
        if let Some(cached) = self.levels.get(dir).filter(|c| c.key == key) {
            return cached.clone();
        }
        let mut platform = (*parent.platform).clone();
        let mut own = Vec::new();
        for (name, _) in &own_files {
            let file = self.display_path(name);
            let Some(f) = self.files.get(name) else {
                continue;
            };
            match &f.content {
                Content::Parsed(Err(d)) => own.extend(d.iter().cloned()),
                // An empty file is more often a write in progress than a decision: the
                // tenants beneath keep their last good configuration.
                Content::Parsed(Ok(None)) => own.push(io_hint(
                    &file,
                    "defaults file is empty; the tenants beneath keep their last good configuration",
                    "write `{}` (or comments) for a level without defaults",
                )),
                Content::Parsed(Ok(doc)) => {
                    let mut ctx = Ctx::new(file, &mut own);
                    merge_file(&mut ctx, doc.as_deref(), &mut platform, now, true);
                }
                _ => {}
            }
        }
        LevelState {
            key,
            platform: Arc::new(platform),
            broken: parent.broken || own.iter().any(Diagnostic::is_error),
            own,
        }
    }
}

/// The validation index of each directory's defaults.
fn platform_indexes(dirs: &BTreeMap<String, LevelState>) -> BTreeMap<&str, PlatformIndex<'_>> {
    dirs.iter()
        .map(|(d, level)| (d.as_str(), PlatformIndex::new(&level.platform)))
        .collect()
}

/// Validates one tenant file against the defaults of its directory; `None` when the file
/// is gone.
fn validate_file(
    files: &BTreeMap<String, FileState>,
    dir: &Path,
    name: &str,
    index: &PlatformIndex,
    limits: Limits,
    now: DateTime<Utc>,
    owners: &Owners,
) -> Option<FileTenants> {
    let f = files.get(name)?;
    let file: Arc<str> = Arc::from(dir.join(name).display().to_string());
    let stem = tenant_id(base_of(name)).unwrap_or(name);
    let parsed;
    let doc = match &f.content {
        Content::Parsed(doc) => doc,
        Content::Text(text) => {
            parsed = parse_file(&file, text.as_deref(), limits, false);
            &parsed
        }
        Content::Dropped => {
            let text = read_bounded(&dir.join(name), limits.max_bytes);
            parsed = parse_file(&file, text.as_deref(), limits, false);
            &parsed
        }
    };
    let mut out = match doc {
        Err(d) => FileTenants {
            diags: d.clone(),
            tenants: Vec::new(),
        },
        Ok(None) => {
            let example = check_tenant_id(stem).map_or("db-a", |()| stem);
            FileTenants {
                diags: vec![io_hint(
                    &file,
                    "tenant file is empty",
                    format!("an empty file is taken as a write in progress or a mistake: write `tenants: {{{example}: {{}}}}` for a tenant on platform defaults, or delete the file to remove its tenants"),
                )],
                tenants: Vec::new(),
            }
        }
        Ok(Some(doc)) => parse_tenants_file(&file, stem, Some(doc), index.platform, index, now),
    };
    if let Err(message) = check_tenant_id(stem) {
        out.diags.push(io_hint(
            &file,
            message,
            "tenant ids are lower-case letters, digits, `-`, `_` and `.`, start and end with a letter or digit, at most 63 characters: rename the file",
        ));
    }
    // A tenant with a file named after it is declared there only: another file cannot
    // take it over (nor freeze it by declaring it twice).
    for d in out.tenants.iter().filter(|d| d.id != stem) {
        if let Some(own) = owners.own_file(files, &d.id).filter(|own| own != name) {
            out.diags.push(Diagnostic {
                pos: d.pos,
                ..io_hint(
                    &file,
                    format!("file declares tenant `{}`, which has its own file `{own}`", d.id),
                    format!("a tenant with a file named after it is declared only there: edit `{own}` instead"),
                )
            });
        }
    }
    Some(out)
}

/// Tenant id -> the file named after it (`db-a.yaml`), built on first use.
#[derive(Default)]
struct Owners(std::sync::OnceLock<BTreeMap<String, String>>);

impl Owners {
    fn own_file(&self, files: &BTreeMap<String, FileState>, id: &str) -> Option<String> {
        self.0
            .get_or_init(|| {
                files
                    .keys()
                    .filter(|n| is_tenant_file(n))
                    .filter_map(|n| Some((tenant_id(base_of(n))?.to_string(), n.clone())))
                    .collect()
            })
            .get(id)
            .cloned()
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
    limits: Limits,
    platform: bool,
) -> Result<Option<Arc<Node>>, Vec<Diagnostic>> {
    match text {
        Err(e) => Err(vec![io_diag(file, format!("cannot read file: {e}"))]),
        Ok(bytes) => match std::str::from_utf8(bytes) {
            Err(e) => {
                let before = &bytes[..e.valid_up_to()];
                let line = before.iter().filter(|b| **b == b'\n').count() + 1;
                let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
                Err(vec![Diagnostic {
                    pos: Pos {
                        line: u32::try_from(line).unwrap_or(u32::MAX),
                        col: u32::try_from(col).unwrap_or(u32::MAX),
                    },
                    ..io_hint(file, "file is not valid UTF-8", "save the file as UTF-8")
                }])
            }
            Ok(text) if text.contains('\0') => Err(vec![io_hint(
                file,
                "file contains NUL bytes",
                "remove the NUL bytes; config files are UTF-8 text",
            )]),
            Ok(text) => yaml::parse_with(text, limits)
                .map(|d| match d {
                    // A platform file of comments only was written on purpose (upstream
                    // ships such `_defaults.yaml` files): it is an empty mapping. Only a
                    // file with no text at all is taken as a write in progress.
                    None if platform && text.lines().any(|l| l.trim_start().starts_with('#')) => {
                        Some(Arc::new(Node {
                            kind: NodeKind::Map(Vec::new()),
                            pos: COMMENTS_ONLY,
                        }))
                    }
                    d => d.map(Arc::new),
                })
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
    let mut loader = Loader::new(dir.as_ref());
    loader.one_shot = true;
    loader.reload(now)
}
