//! Every `--help` of `dynalert` against its committed snapshot in `docs/cli/help/`, no word
//! of the code's structure in any help text, and the committed manual pages and completion
//! scripts up to date. `UPDATE_GENERATED=1 cargo test -p dynalert --test help` rewrites the
//! snapshots; review the diff like any other change to the interface.

mod common;
use common::{dynalert, root};

use clap::CommandFactory;

/// Every visible command path: `[]`, `["validate"]`, …, `["rules", "coverage"]`.
fn paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(prefix.clone());
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut p = prefix.clone();
            p.push(sub.get_name().to_string());
            walk(sub, p, out);
        }
    }
    let mut out = Vec::new();
    walk(&dynalert_cli::Cli::command(), Vec::new(), &mut out);
    out
}

/// `dynalert-rules-coverage` for `["rules", "coverage"]`.
fn page_name(path: &[String]) -> String {
    let words: String = path.iter().map(|w| format!("-{w}")).collect();
    format!("dynalert{words}")
}

fn help(path: &[String], flag: &str) -> String {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push(flag);
    let out = dynalert(&args);
    assert_eq!(out.status.code(), Some(0), "{path:?} {flag}");
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap()
}

/// Words that describe how the code is organised, not what a user can do.
const STRUCTURE_WORDS: [&str; 4] = ["module", "crate", "router", "async"];

/// The structure words found in `text`, as whole words (plurals included).
pub fn structure_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .filter(|w| {
            let singular = w.strip_suffix('s').unwrap_or(w);
            STRUCTURE_WORDS.contains(&singular) || STRUCTURE_WORDS.contains(&w.as_str())
        })
        .collect()
}

#[test]
fn the_word_check_finds_structure_words() {
    assert_eq!(
        structure_words("The `dynalert` command line: one module per subcommand"),
        ["module"]
    );
    assert_eq!(
        structure_words("Async HTTP server: router, crates"),
        ["async", "router", "crates"]
    );
    assert!(structure_words("routes, routing, asynchronous-free, modular").is_empty());
}

#[test]
fn help_texts_match_their_snapshots() {
    let update = std::env::var_os("UPDATE_GENERATED").is_some();
    let dir = root().join("docs/cli/help");
    let mut expected_files = Vec::new();
    let mut stale = Vec::new();
    for path in paths() {
        let name = page_name(&path) + ".txt";
        let text = help(&path, "--help");
        let file = dir.join(&name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, &text).unwrap();
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(text.as_str()) {
            stale.push(name.clone());
        }
        expected_files.push(name);
    }
    assert!(
        stale.is_empty(),
        "help changed for {stale:?}\n  hint: run `UPDATE_GENERATED=1 cargo test -p dynalert --test help` and review the diff of docs/cli/help/"
    );
    // no snapshot of a command that no longer exists
    let mut committed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dynalert"))
        .collect();
    committed.sort();
    expected_files.sort();
    assert_eq!(committed, expected_files);
}

#[test]
fn every_command_has_a_purpose_examples_and_exit_codes() {
    for path in paths() {
        let long = help(&path, "--help");
        let short = help(&path, "-h");
        let found: Vec<String> = structure_words(&long)
            .into_iter()
            .chain(structure_words(&short))
            .collect();
        assert!(found.is_empty(), "{path:?}: {found:?} in\n{long}");
        assert!(long.contains("\nExamples:\n"), "{path:?}:\n{long}");
        assert!(long.contains("\nExit codes:\n  0  "), "{path:?}:\n{long}");
        assert!(long.contains("\nSee also:\n"), "{path:?}:\n{long}");
        let examples = long
            .split("\nExamples:\n")
            .nth(1)
            .unwrap()
            .split("\nExit codes:\n")
            .next()
            .unwrap();
        let runs = examples
            .lines()
            .filter(|l| l.trim_start().starts_with("dynalert ") || l.contains("<(dynalert "))
            .count();
        assert!(runs >= 2, "{path:?}: {runs} examples");
        // the one-line purpose: the first line of `-h`, short and without a trailing period
        let purpose = short.lines().next().unwrap();
        assert!(
            purpose.len() <= 100 && !purpose.ends_with('.'),
            "{path:?}: {purpose}"
        );
    }
}

#[test]
fn committed_man_pages_and_completions_are_up_to_date() {
    for (command, dir) in [
        ("man", "docs/cli/man"),
        ("completions", "docs/cli/completions"),
    ] {
        let mut args = vec![command, "--dir", dir];
        if std::env::var_os("UPDATE_GENERATED").is_none() {
            args.push("--check");
        }
        let out = dynalert(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
    }
    // a page per visible command, and nothing in them a user should not read
    for path in paths() {
        let name = page_name(&path);
        let page = std::fs::read_to_string(root().join(format!("docs/cli/man/{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"));
        assert!(structure_words(&page).is_empty(), "{name}.1");
    }
}
