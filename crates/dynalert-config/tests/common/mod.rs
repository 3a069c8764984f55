//! Shared by the loader's tests: a conf.d written from (name, text) pairs and loaded, the
//! example conf.d and text mutations of it. Each test binary uses a part of it.

#![allow(dead_code)]

use std::path::Path;

/// Loads a conf.d of `files` (relative names, subdirectories created) at `now`: the report
/// and its diagnostics rendered one per line, without the directory's path.
pub fn load_files(
    files: &[(&str, &str)],
    now: chrono::DateTime<chrono::Utc>,
) -> (dynalert_config::LoadReport, String) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let report = dynalert_config::load_dir(dir.path(), now).unwrap();
    let prefix = format!("{}/", dir.path().display());
    let rendered = report
        .diagnostics
        .iter()
        .map(|d| d.to_string().replace(&prefix, "") + "\n")
        .collect();
    (report, rendered)
}

/// The files of `examples/conf.d`, in name order.
pub fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/conf.d");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// One edit of a text, positions taken modulo its length.
#[derive(Debug, Clone)]
pub enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize, usize),
}

/// Applies `edits` in order, on characters (never splitting one).
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let len = chars.len().max(1);
        match e {
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(chars.len());
                chars.drain(at..end);
            }
            Edit::Insert(at, s) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, s.chars());
            }
            Edit::Duplicate(at, n, times) => {
                let at = at % len;
                let end = (at + n).min(chars.len());
                let slice: Vec<char> = chars.get(at..end).map(<[char]>::to_vec).unwrap_or_default();
                let copies: Vec<char> = std::iter::repeat_n(slice, *times).flatten().collect();
                chars.splice(at..at, copies);
            }
        }
    }
    chars.into_iter().collect()
}
