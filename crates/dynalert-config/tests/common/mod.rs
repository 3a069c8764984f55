//! Shared by the loader's property tests: the example conf.d and text mutations of it.

use std::path::Path;

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
                if at < end {
                    chars.drain(at..end);
                }
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
