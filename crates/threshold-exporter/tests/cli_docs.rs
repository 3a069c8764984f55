//! `threshold-exporter --help` against its committed snapshot, flags grouped by topic, no
//! word of the code's structure, and the committed manual page and completion scripts up to
//! date with the flag definitions. `UPDATE_GENERATED=1 cargo test -p threshold-exporter
//! --test cli_docs` rewrites the files under `docs/cli/`; review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;
use clap_complete::Shell;

mod common;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(flag: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_threshold-exporter"))
        .arg(flag)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{flag}");
    String::from_utf8(out.stdout).unwrap()
}

/// Compares (or with `UPDATE_GENERATED` rewrites) one committed file; returns its name when stale.
fn check(rel: &str, text: &str) -> Option<String> {
    let path = root().join(rel);
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return None;
    }
    (std::fs::read_to_string(&path).ok().as_deref() != Some(text)).then(|| rel.to_string())
}

fn structure_words(text: &str) -> Vec<String> {
    const WORDS: [&str; 4] = ["module", "crate", "router", "async"];
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_lowercase)
        .filter(|w| {
            WORDS.contains(&w.strip_suffix('s').unwrap_or(w)) || WORDS.contains(&w.as_str())
        })
        .collect()
}

#[test]
fn help_is_for_users_and_groups_the_flags() {
    let long = run("--help");
    let short = run("-h");
    for text in [&long, &short] {
        assert!(
            structure_words(text).is_empty(),
            "{:?}",
            structure_words(text)
        );
        let headings: Vec<&str> = text
            .lines()
            .filter(|l| l.ends_with(':') && !l.starts_with(' '))
            .collect();
        for h in ["Web:", "Configuration:", "Logging:", "Storage:"] {
            assert!(headings.contains(&h), "{h} missing from {headings:?}");
        }
    }
    // every flag of the exporter dialect sits under the heading of its prefix
    let mut heading = "";
    for line in short.lines() {
        if line.ends_with(':') && !line.starts_with(' ') {
            heading = line;
        }
        if let Some(flag) = line.trim_start().strip_prefix("--") {
            let prefix = flag.split('.').next().unwrap();
            let want = match prefix {
                "web" => "Web:",
                "config" => "Configuration:",
                "log" => "Logging:",
                "storage" => "Storage:",
                _ => "Options:",
            };
            assert_eq!(heading, want, "{line}");
        }
    }
    assert!(long.contains("\nExamples:\n") && long.contains("\nExit codes:\n"));
    let stale = check("docs/cli/help/threshold-exporter.txt", &long);
    assert!(
        stale.is_none(),
        "help changed\n  hint: run `UPDATE_GENERATED=1 cargo test -p threshold-exporter --test cli_docs` and review the diff"
    );
}

#[test]
fn committed_man_page_and_completions_are_up_to_date() {
    let cmd = || dynalert_server::Args::command().version(env!("CARGO_PKG_VERSION"));
    let man = clap_mangen::Man::new(cmd()).manual("dynalert manual");
    let mut page = Vec::new();
    man.render(&mut page).unwrap();
    let page = String::from_utf8(page).unwrap();
    assert!(structure_words(&page).is_empty());
    let mut stale: Vec<String> = check("docs/cli/man/threshold-exporter.1", &page)
        .into_iter()
        .collect();
    for (shell, file) in [
        (Shell::Bash, "threshold-exporter.bash"),
        (Shell::Zsh, "_threshold-exporter"),
        (Shell::Fish, "threshold-exporter.fish"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd(), "threshold-exporter", &mut out);
        let text = String::from_utf8(out).unwrap();
        stale.extend(check(&format!("docs/cli/completions/{file}"), &text));
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}\n  hint: run `UPDATE_GENERATED=1 cargo test -p threshold-exporter --test cli_docs` and commit the result"
    );
}

#[test]
fn version_names_the_revision_and_build_date() {
    let text = run("--version");
    let revision = common::git_revision();
    assert!(
        text.starts_with(&format!(
            "threshold-exporter {} (revision {revision}, built ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
}
