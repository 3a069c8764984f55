//! The hostile conf.d corpus of `testdata/hostile/`: cases, their generators and the two
//! directory layouts they are applied to. Shared by the live exporter test and the
//! `dynalert validate` test (which includes this file by path), so it uses std and
//! serde_json only.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The repository's `testdata/hostile/`.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/hostile")
}

/// What must happen when a case is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The tenant keeps its last good config, `tenant_config_valid` is 0, the reload answers
    /// 4xx/5xx with a located error naming the file.
    Rejected,
    /// The whole last good config is kept; the reload answers 4xx/5xx and says why.
    PlatformRejected,
    /// The new value is served.
    Accepted,
    /// Nothing changes; the reload answers 200.
    Ignored,
}

impl Outcome {
    fn parse(s: &str) -> Outcome {
        use Outcome::*;
        [Rejected, PlatformRejected, Accepted, Ignored]
            .into_iter()
            .find(|o| o.as_str() == s)
            .unwrap_or_else(|| panic!("unknown outcome `{s}` in cases.json"))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Rejected => "rejected",
            Outcome::PlatformRejected => "platform-rejected",
            Outcome::Accepted => "accepted",
            Outcome::Ignored => "ignored",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Regular files in one directory.
    Plain,
    /// A Kubernetes ConfigMap mount: `..<ts>/` holds the files, `..data -> ..<ts>`, and every
    /// top-level name links to `..data/<name>`.
    ConfigMap,
}

/// The data directory of the ConfigMap layout.
pub const DATA_DIR: &str = "..2026_11_29_00_00_00.000000001";
/// The data directory a `swap-data` step creates.
pub const SWAP_DIR: &str = "..2026_11_29_00_00_01.000000002";

#[derive(Debug, Clone)]
pub enum Step {
    /// Writes bytes (atomically: a dot-name temporary renamed into place).
    Write {
        path: String,
        bytes: Vec<u8>,
    },
    Remove {
        path: String,
    },
    Symlink {
        path: String,
        target: String,
    },
    Fifo {
        path: String,
    },
    Mkdir {
        path: String,
    },
    Chmod {
        path: String,
        mode: u32,
    },
    /// A sparse file of `size` bytes with no data written.
    Sparse {
        path: String,
        size: u64,
    },
    /// ConfigMap update: a copy of the data directory with `path` replaced, then `..data`
    /// swapped to it atomically.
    SwapData {
        path: String,
        bytes: Vec<u8>,
    },
}

impl Step {
    pub fn path(&self) -> &str {
        match self {
            Step::Write { path, .. }
            | Step::Remove { path }
            | Step::Symlink { path, .. }
            | Step::Fifo { path }
            | Step::Mkdir { path }
            | Step::Chmod { path, .. }
            | Step::Sparse { path, .. }
            | Step::SwapData { path, .. } => path,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub outcome: Outcome,
    /// The tenant the case is about (its series may change as the outcome says).
    pub tenant: String,
    pub what: String,
    pub layout: Layout,
    pub steps: Vec<Step>,
    /// File names of which one must be named by the error.
    pub locate: Vec<String>,
    /// Whether the error must be located (`name:line:col`) or only mention a name.
    pub located: bool,
    /// Exact series lines that must be served (accepted cases).
    pub expect: Vec<String>,
    /// Substrings some series line must contain (accepted cases).
    pub expect_contains: Vec<String>,
    /// Upper bound of the reload response body, for cases with huge values.
    pub max_body: Option<usize>,
    /// Cases that cannot be produced as root (permission bits do not apply to root).
    pub needs_non_root: bool,
    pub note: Option<String>,
}

/// All cases of `testdata/hostile/cases.json`, with generated contents expanded.
pub fn load() -> Vec<Case> {
    let path = root().join("cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: serde_json::Value = serde_json::from_str(&text).expect("cases.json is JSON");
    let strs = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_string();
            let steps: Vec<Step> = c["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| step(&name, s))
                .collect();
            let mut locate = strs(&c["locate"]);
            if locate.is_empty() {
                locate.push(basename(steps[0].path()).to_string());
            }
            Case {
                outcome: Outcome::parse(c["outcome"].as_str().unwrap()),
                tenant: c["tenant"].as_str().unwrap().to_string(),
                what: c["what"].as_str().unwrap().to_string(),
                layout: match c["layout"].as_str() {
                    None | Some("plain") => Layout::Plain,
                    Some("configmap") => Layout::ConfigMap,
                    Some(other) => panic!("{name}: unknown layout `{other}`"),
                },
                steps,
                locate,
                located: c["located"].as_bool().unwrap_or(true),
                expect: strs(&c["expect"]),
                expect_contains: strs(&c["expect_contains"]),
                max_body: c["max_body"].as_u64().map(|n| n as usize),
                needs_non_root: c["needs_non_root"].as_bool().unwrap_or(false),
                note: c["note"].as_str().map(str::to_string),
                name,
            }
        })
        .collect()
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn step(case: &str, s: &serde_json::Value) -> Step {
    let path = s["path"].as_str().unwrap().to_string();
    let content = || -> Vec<u8> {
        if let Some(t) = s["text"].as_str() {
            t.as_bytes().to_vec()
        } else if let Some(f) = s["file"].as_str() {
            let p = root().join("files").join(f);
            std::fs::read(&p).unwrap_or_else(|e| panic!("{case}: {}: {e}", p.display()))
        } else if let Some(g) = s["gen"].as_str() {
            generate(g)
        } else {
            panic!("{case}: a write step needs `text`, `file` or `gen`")
        }
    };
    match s["op"].as_str().unwrap() {
        "write" => Step::Write {
            path,
            bytes: content(),
        },
        "swap-data" => Step::SwapData {
            path,
            bytes: content(),
        },
        "remove" => Step::Remove { path },
        "symlink" => Step::Symlink {
            path,
            target: s["target"].as_str().unwrap().to_string(),
        },
        "fifo" => Step::Fifo { path },
        "mkdir" => Step::Mkdir { path },
        "chmod" => Step::Chmod {
            path,
            mode: s["mode"].as_u64().unwrap() as u32,
        },
        "sparse" => Step::Sparse {
            path,
            size: s["size"].as_u64().unwrap(),
        },
        other => panic!("{case}: unknown step `{other}`"),
    }
}

const DEPTH: usize = 10_000;

/// Contents too large or too regular to commit.
pub fn generate(kind: &str) -> Vec<u8> {
    let head = "tenants:\n  db-a:\n";
    let meta = "    _metadata: {owner: dba-team, runbook_url: \"https://wiki.example/db-a\"}\n";
    let comments = |bytes: usize| -> String {
        let line = "# padding: a comment line that makes the file large without adding nodes\n";
        line.repeat(bytes / line.len() + 1)
    };
    let s = match kind {
        "deep-block" => format!("{}x\n", "- ".repeat(DEPTH)),
        "deep-flow" => format!("{}{}\n", "[".repeat(DEPTH), "]".repeat(DEPTH)),
        "deep-map" => format!(
            "{head}    mysql_connections: {}1{}\n",
            "{a: ".repeat(DEPTH),
            "}".repeat(DEPTH)
        ),
        "five-mb" => format!(
            "{}{head}    mysql_connections: \"73\"\n{meta}",
            comments(5 << 20)
        ),
        "large-valid" => format!(
            "{}{head}    mysql_connections: \"81\"\n{meta}",
            comments(900 << 10)
        ),
        "many-keys" => {
            let mut s = String::from(head);
            for i in 0..100_000 {
                let _ = writeln!(s, "    k{i:05}: 1");
            }
            s
        }
        "many-keys-flow" => {
            // Four base-36 digits per key: `"0a1z":1,` is 9 bytes, 0.9 MB in all.
            let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
            let mut s = String::from("tenants: {db-a: {");
            for i in 0..100_000usize {
                let mut n = i;
                let mut key = [b'0'; 4];
                for k in key.iter_mut().rev() {
                    *k = digits[n % 36];
                    n /= 36;
                }
                let _ = write!(s, "\"{}\":1,", std::str::from_utf8(&key).unwrap());
            }
            s.push_str("\"mysql_connections\":71}}\n");
            s
        }
        "long-scalar" => format!("{head}    mysql_connections: \"{}\"\n", "7".repeat(200_000)),
        "long-label" => format!(
            "{head}    \"container_cpu{{container='{}'}}\": \"90\"\n",
            "a".repeat(100_000)
        ),
        "long-runbook" => format!(
            "{head}    mysql_connections: \"70\"\n    _metadata: {{owner: dba-team, runbook_url: \"https://wiki.example/{}\"}}\n",
            "a".repeat(10_000_000)
        ),
        "many-dimensions" => {
            let mut s = format!("{head}    mysql_connections: \"70\"\n");
            for i in 0..10_000 {
                let _ = writeln!(s, "    \"container_cpu{{container='c{i:05}'}}\": \"91\"");
            }
            s.push_str(meta);
            s
        }
        other => panic!("unknown generator `{other}`"),
    };
    s.into_bytes()
}

/// Whether a case is selected by `HOSTILE_CASES` (comma-separated names; unset: all), for
/// running a few cases while working on them.
pub fn selected(case: &Case) -> bool {
    match std::env::var("HOSTILE_CASES") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|n| n.trim() == case.name),
        _ => true,
    }
}

/// The committed base files (platform, db-a, db-b).
pub fn base_files() -> BTreeMap<String, Vec<u8>> {
    ["_defaults.yaml", "db-a.yaml", "db-b.yaml"]
        .iter()
        .map(|n| {
            let p = root().join("base").join(n);
            (n.to_string(), std::fs::read(&p).unwrap())
        })
        .collect()
}

/// Id of the `i`-th generated tenant (`t0000` …).
pub fn generated_id(i: usize) -> String {
    format!("t{i:04}")
}

/// The threshold the `i`-th generated tenant sets for `mysql_connections`.
pub fn generated_value(i: usize) -> usize {
    100 + i % 300
}

fn generated_tenant(i: usize) -> Vec<u8> {
    let id = generated_id(i);
    format!(
        "tenants:\n  {id}:\n    mysql_connections: \"{}\"\n    _metadata: {{owner: team-{i:04}}}\n",
        generated_value(i)
    )
    .into_bytes()
}

/// What the harness needs to undo a case.
#[derive(Debug, Clone)]
enum Entry {
    File(Vec<u8>),
    Link(String),
}

/// A conf.d directory built from the base files plus `tenants` generated tenants.
pub struct ConfDir {
    pub dir: PathBuf,
    pub layout: Layout,
    /// Top-level names as built (restored by [`ConfDir::revert`]).
    entries: BTreeMap<String, Entry>,
    /// Content of the data files (ConfigMap layout).
    data: BTreeMap<String, Vec<u8>>,
}

impl ConfDir {
    pub fn build(dir: &Path, layout: Layout, tenants: usize) -> ConfDir {
        std::fs::create_dir_all(dir).unwrap();
        let mut files = base_files();
        for i in 0..tenants {
            files.insert(format!("{}.yaml", generated_id(i)), generated_tenant(i));
        }
        let mut entries = BTreeMap::new();
        match layout {
            Layout::Plain => {
                for (name, bytes) in &files {
                    std::fs::write(dir.join(name), bytes).unwrap();
                    entries.insert(name.clone(), Entry::File(bytes.clone()));
                }
            }
            Layout::ConfigMap => {
                let data = dir.join(DATA_DIR);
                std::fs::create_dir_all(&data).unwrap();
                for (name, bytes) in &files {
                    std::fs::write(data.join(name), bytes).unwrap();
                    let target = format!("..data/{name}");
                    std::os::unix::fs::symlink(&target, dir.join(name)).unwrap();
                    entries.insert(name.clone(), Entry::Link(target));
                }
                std::os::unix::fs::symlink(DATA_DIR, dir.join("..data")).unwrap();
                entries.insert("..data".into(), Entry::Link(DATA_DIR.into()));
            }
        }
        ConfDir {
            dir: dir.to_path_buf(),
            layout,
            entries,
            data: files,
        }
    }

    /// Applies the steps of a case. Err: the harness could not (e.g. no `mkfifo`).
    pub fn apply(&self, case: &Case) -> Result<(), String> {
        for s in &case.steps {
            self.apply_step(s)
                .map_err(|e| format!("applying {s:?}: {e}", s = short(s)))?;
        }
        Ok(())
    }

    fn apply_step(&self, s: &Step) -> std::io::Result<()> {
        let path = self.dir.join(s.path());
        match s {
            Step::Write { bytes, .. } => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                replace_with(&path, |tmp| std::fs::write(tmp, bytes))
            }
            Step::Remove { .. } => remove_any(&path),
            Step::Symlink { target, .. } => {
                replace_with(&path, |tmp| std::os::unix::fs::symlink(target, tmp))
            }
            Step::Fifo { .. } => replace_with(&path, |tmp| {
                let out = std::process::Command::new("mkfifo").arg(tmp).output()?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(std::io::Error::other(
                        String::from_utf8_lossy(&out.stderr).into_owned(),
                    ))
                }
            }),
            Step::Mkdir { .. } => {
                // A directory cannot be renamed over a file: remove, then create.
                remove_any(&path)?;
                std::fs::create_dir(&path)
            }
            Step::Chmod { mode, .. } => {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode))
            }
            Step::Sparse { size, .. } => replace_with(&path, |tmp| {
                let f = std::fs::File::create(tmp)?;
                f.set_len(*size)
            }),
            Step::SwapData { path: name, bytes } => {
                let swap = self.dir.join(SWAP_DIR);
                remove_any(&swap)?;
                std::fs::create_dir(&swap)?;
                for (n, b) in &self.data {
                    std::fs::write(swap.join(n), if n == name { bytes } else { b })?;
                }
                if !self.data.contains_key(name) {
                    std::fs::write(swap.join(name), bytes)?;
                    std::os::unix::fs::symlink(format!("..data/{name}"), self.dir.join(name))?;
                }
                replace_with(&self.dir.join("..data"), |tmp| {
                    std::os::unix::fs::symlink(SWAP_DIR, tmp)
                })
            }
        }
    }

    /// Undoes a case: every name a step touched is removed and restored as built.
    pub fn revert(&self, case: &Case) -> Result<(), String> {
        let mut touched: Vec<String> = Vec::new();
        for s in case.steps.iter().rev() {
            let top = s.path().split('/').next().unwrap();
            let swap: &[&str] = match s {
                Step::SwapData { .. } => &["..data", SWAP_DIR],
                _ => &[],
            };
            for name in std::iter::once(top).chain(swap.iter().copied()) {
                if !touched.iter().any(|t| t == name) {
                    touched.push(name.to_string());
                }
            }
        }
        for name in touched {
            let path = self.dir.join(&name);
            // Permissions first, so that the file can be replaced.
            if let Ok(meta) = std::fs::symlink_metadata(&path) {
                if meta.is_file() {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644));
                }
            }
            let result = match self.entries.get(&name) {
                None => remove_any(&path),
                Some(entry) => {
                    let make = |p: &Path| match entry {
                        Entry::File(bytes) => std::fs::write(p, bytes),
                        Entry::Link(target) => std::os::unix::fs::symlink(target, p),
                    };
                    // A directory cannot be renamed over: remove it, then create.
                    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                        remove_any(&path).and_then(|_| make(&path))
                    } else {
                        replace_with(&path, make)
                    }
                }
            };
            result.map_err(|e| format!("reverting `{name}`: {e}"))?;
        }
        Ok(())
    }
}

fn short(s: &Step) -> String {
    match s {
        Step::Write { path, bytes } | Step::SwapData { path, bytes } => {
            format!("write `{path}` ({} bytes)", bytes.len())
        }
        other => format!("{other:?}"),
    }
}

/// Creates `path` atomically: `make` fills a dot-name temporary, which is renamed over it.
pub fn replace_with(
    path: &Path,
    make: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let name = path.file_name().unwrap().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.hostile-tmp"));
    remove_any(&tmp)?;
    make(&tmp)?;
    std::fs::rename(&tmp, path)
}

/// Removes a file, link, FIFO or directory tree; a missing path is fine.
pub fn remove_any(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    }
}

/// True when `text` names one of `names` with a position (`name:line:col`).
pub fn located(text: &str, names: &[String]) -> bool {
    /// `s` after a leading `:` and at least one digit; None when it does not start so.
    fn number(s: &str) -> Option<&str> {
        let s = s.strip_prefix(':')?;
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (n > 0).then(|| &s[n..])
    }
    names.iter().any(|name| {
        text.match_indices(name.as_str())
            .any(|(i, _)| number(&text[i + name.len()..]).and_then(number).is_some())
    })
}

/// True when `text` holds any located error (`…:line:col: error`).
pub fn any_located_error(text: &str) -> bool {
    text.lines().any(|l| {
        let Some(i) = l.find(": error") else {
            return false;
        };
        let head = &l[..i];
        let mut parts = head.rsplitn(3, ':');
        let col = parts.next().unwrap_or("");
        let line = parts.next().unwrap_or("");
        !col.is_empty()
            && !line.is_empty()
            && col.bytes().all(|b| b.is_ascii_digit())
            && line.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Tenant ids as the contract defines them: lower-case letters, digits, `-`, `_`, `.`,
/// starting and ending with a letter or digit, at most 63 characters.
pub fn valid_tenant_id(id: &str) -> bool {
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && ok(b[0])
        && ok(b[b.len() - 1])
        && b.iter()
            .all(|&c| ok(c) || c == b'-' || c == b'_' || c == b'.')
}

/// The effective uid of this process (0: root).
pub fn uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}
