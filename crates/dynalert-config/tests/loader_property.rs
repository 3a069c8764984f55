//! The loader under random and hostile YAML: random trees with anchors and aliases, alias
//! bombs, deep nesting (block and flow, up to 12,000 levels), long scalars (up to 300 KB)
//! and mutations of the example files, each written to a temporary conf.d (as a tenant file
//! or as the platform file) and loaded through the public API on a thread with the default
//! stack. Every load must take at most 2 s of CPU without a panic or a stack overflow, with
//! every diagnostic located, and what it accepted must resolve and render; a watchdog aborts
//! the run if the process grows past 1 GiB, or if a load has not returned after 30 s. Arbitrary text and single-character edits of the
//! examples are loaded the same way.

use std::sync::mpsc;
use std::sync::Once;
use std::time::Duration;

use chrono::Utc;
use proptest::prelude::*;

mod common;
use common::{apply, examples, Edit};

/// CPU time one load may take: measured on the loading thread, so a loaded machine (the
/// tests run in parallel on two cores) does not count against it.
const TIME_BOUND: Duration = Duration::from_secs(2);
/// Wall time after which a load is taken as hung.
const HANG_BOUND: Duration = Duration::from_secs(30);
const MEMORY_BOUND: u64 = 1 << 30;

/// CPU time of the calling thread so far (user + system, from `/proc/thread-self/stat`, in
/// the kernel's 1/100 s ticks).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|t| t.parse::<u64>().unwrap())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn rss() -> u64 {
    dynalert_probe::process::rss_of(std::process::id()).unwrap_or(0)
}

/// Aborts the test process when it grows past the memory bound (an alias bomb that is
/// expanded would otherwise take the machine down before any time bound could fire).
fn memory_watchdog() {
    static START: Once = Once::new();
    START.call_once(|| {
        let start = rss();
        std::thread::spawn(move || loop {
            let now = rss();
            if now > start + MEMORY_BOUND {
                eprintln!(
                    "memory bound exceeded: the loader grew the process from {} MiB to {} MiB",
                    start >> 20,
                    now >> 20
                );
                std::process::abort();
            }
            std::thread::sleep(Duration::from_millis(20));
        });
    });
}

/// Where the input goes.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// `db-a.yaml` next to a valid platform file.
    Tenant,
    /// `_defaults.yaml` next to a valid tenant file.
    Platform,
}

/// Loads a conf.d holding `text` on a fresh thread with the default stack, bounded in time.
fn load_bounded(text: &[u8], slot: Slot, what: &str) -> Result<(), TestCaseError> {
    memory_watchdog();
    let dir = tempfile::tempdir().unwrap();
    let (platform, tenant): (&[u8], &[u8]) = match slot {
        Slot::Tenant => (b"defaults:\n  mysql_connections: 80\n", text),
        Slot::Platform => (text, b"tenants:\n  db-a:\n    mysql_connections: 70\n"),
    };
    std::fs::write(dir.path().join("_defaults.yaml"), platform).unwrap();
    std::fs::write(dir.path().join("db-a.yaml"), tenant).unwrap();
    let path = dir.path().to_path_buf();
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("load".into())
        .spawn(move || {
            let start = thread_cpu();
            let result = dynalert_config::load_dir(&path, Utc::now());
            let _ = tx.send(thread_cpu() - start);
            result
        })
        .unwrap();
    let head = String::from_utf8_lossy(&text[..text.len().min(200)]);
    let cpu = match rx.recv_timeout(HANG_BOUND) {
        Ok(cpu) => cpu,
        Err(_) => {
            // The thread cannot be stopped and would keep burning CPU (and memory) while
            // proptest shrinks: report the input and end the run.
            eprintln!(
                "hang: loading {what} ({} bytes, {slot:?}) did not return in {HANG_BOUND:?}; starts with: {head:?}",
                text.len()
            );
            std::process::exit(1);
        }
    };
    if cpu > TIME_BOUND {
        return Err(TestCaseError::fail(format!(
            "time bound exceeded: loading {what} ({} bytes, {slot:?}) took {cpu:?} of CPU, over {TIME_BOUND:?}; starts with: {head:?}",
            text.len()
        )));
    }
    let panicked = |_| {
        let n = text.len();
        TestCaseError::fail(format!(
            "the loader panicked on {what} ({n} bytes, {slot:?})"
        ))
    };
    let report = worker.join().map_err(panicked)?;
    let report = report.map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
    // Whatever was accepted must also resolve and render.
    let snap = dynalert_model::resolve(&report.config, Utc::now());
    let _ = dynalert_exposition::render(&snap, dynalert_exposition::Format::Text);
    for d in &report.diagnostics {
        prop_assert!(d.pos.line >= 1 && d.pos.col >= 1, "unlocated: {d}");
        prop_assert!(
            d.message.len() <= 4096,
            "a message of {} bytes: errors must quote a short prefix",
            d.message.len()
        );
    }
    drop(dir);
    Ok(())
}

// ---- random trees with anchors and aliases ----

#[derive(Debug, Clone)]
enum Tree {
    Scalar(String),
    /// A double-quoted scalar of this many characters.
    Long(usize),
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
    Anchor(u8, Box<Tree>),
    Alias(u8),
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,12}",
        any::<i32>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        Just(".nan".to_string()),
        Just("-.inf".to_string()),
        Just("disable".to_string()),
        Just("\"70:critical\"".to_string()),
        "[ -~]{0,20}".prop_map(|s| format!("{s:?}")),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("mysql_connections".to_string()),
        Just("mysql_connections_critical".to_string()),
        Just("container_cpu".to_string()),
        Just("_metadata".to_string()),
        Just("_silent_mode".to_string()),
        Just("\"container_cpu{container='x'}\"".to_string()),
        Just("<<".to_string()),
        "[a-z_]{1,10}",
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        4 => scalar().prop_map(Tree::Scalar),
        1 => (1usize..5000).prop_map(Tree::Long),
        1 => (0u8..4).prop_map(Tree::Alias),
    ];
    leaf.prop_recursive(8, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Seq),
            prop::collection::vec((key(), inner.clone()), 0..6).prop_map(Tree::Map),
            ((0u8..4), inner).prop_map(|(a, t)| Tree::Anchor(a, Box::new(t))),
        ]
    })
}

/// Flow-style YAML of a tree.
fn render(t: &Tree) -> String {
    let join = |items: Vec<String>| items.join(", ");
    match t {
        Tree::Scalar(s) => s.clone(),
        Tree::Long(n) => format!("\"{}\"", "x".repeat(*n)),
        Tree::Alias(a) => format!("*a{a}"),
        Tree::Anchor(a, inner) => format!("&a{a} {}", render(inner)),
        Tree::Seq(items) => format!("[{}]", join(items.iter().map(render).collect())),
        Tree::Map(items) => {
            let entries = items.iter().map(|(k, v)| format!("{k}: {}", render(v)));
            format!("{{{}}}", join(entries.collect()))
        }
    }
}

// ---- hostile shapes ----

/// `levels` levels of `width` references each: width^levels nodes once expanded.
fn alias_bomb(levels: usize, width: usize, wrapped: bool) -> String {
    let mut s = String::new();
    let indent = if wrapped {
        s.push_str("tenants:\n  db-a:\n");
        "    "
    } else {
        ""
    };
    for l in 0..levels {
        let item = if l == 0 {
            "\"lol\"".to_string()
        } else {
            format!("*l{}", l - 1)
        };
        let items = vec![item; width].join(", ");
        s.push_str(&format!("{indent}_l{l}: &l{l} [{items}]\n"));
    }
    s.push_str(&format!(
        "{indent}mysql_connections: *l{}\n",
        levels.saturating_sub(1)
    ));
    s
}

fn deep(depth: usize, style: u8) -> String {
    match style % 4 {
        0 => format!("{}x\n", "- ".repeat(depth)),
        1 => format!("{}{}\n", "[".repeat(depth), "]".repeat(depth)),
        2 => format!(
            "tenants:\n  db-a:\n    mysql_connections: {}1{}\n",
            "{a: ".repeat(depth),
            "}".repeat(depth)
        ),
        _ => {
            // Block mappings, two spaces per level.
            let keys: String = (0..depth)
                .map(|d| format!("{}k:\n", " ".repeat(2 * d)))
                .collect();
            format!("{keys}{}v\n", " ".repeat(2 * depth))
        }
    }
}

fn long_scalar(len: usize, style: u8) -> String {
    let body = "9".repeat(len);
    match style % 4 {
        0 => format!("tenants:\n  db-a:\n    mysql_connections: {body}\n"),
        1 => format!("tenants:\n  db-a:\n    mysql_connections: \"{body}\"\n"),
        2 => format!("tenants:\n  db-a:\n    _metadata:\n      owner: |\n        {body}\n"),
        _ => format!("tenants:\n  db-a:\n    \"{body}\": 1\n"),
    }
}

// ---- mutations of the examples ----

fn edit() -> impl Strategy<Value = Edit> {
    let snippet = prop_oneof![
        Just("&x ".to_string()),
        Just("*x".to_string()),
        Just("<<: *x\n".to_string()),
        Just("[[[[[[[[".to_string()),
        Just("{a: {a: {a: ".to_string()),
        Just("- - - - - ".to_string()),
        Just("\n---\n".to_string()),
        Just("!!binary ".to_string()),
        Just("\u{feff}".to_string()),
        Just("\0".to_string()),
        Just("\t".to_string()),
        Just("\"".to_string()),
        Just(": ".to_string()),
        (1usize..20_000).prop_map(|n| "z".repeat(n)),
        prop::sample::select(vec![
            ':', '-', '{', '}', '[', ']', '"', '\'', '\n', ' ', '#', '&', '*', '!', '|', '>', '%',
            '@', '`', '\t', '0', '9', '.', 'é', '\u{0}',
        ])
        .prop_map(String::from),
    ];
    prop_oneof![
        (any::<usize>(), 0usize..16).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), snippet).prop_map(|(a, s)| Edit::Insert(a, s)),
        (any::<usize>(), 0usize..80, 1usize..50).prop_map(|(a, n, k)| Edit::Duplicate(a, n, k)),
    ]
}

fn slot() -> impl Strategy<Value = Slot> {
    prop_oneof![3 => Just(Slot::Tenant), 1 => Just(Slot::Platform)]
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn random_trees_with_anchors_and_aliases(t in tree(), wrapped in any::<bool>(), slot in slot()) {
        let body = render(&t);
        let text = if wrapped {
            format!("tenants:\n  db-a: {body}\n")
        } else {
            format!("{body}\n")
        };
        load_bounded(text.as_bytes(), slot, "a random tree")?;
    }

    #[test]
    fn mutated_examples(which in any::<usize>(), edits in prop::collection::vec(edit(), 1..8), slot in slot()) {
        let ex = examples();
        let tenants: Vec<&String> = ex.iter().filter(|t| t.contains("tenants:")).collect();
        let platform = ex.iter().find(|t| t.contains("defaults:")).unwrap();
        let text = match slot {
            Slot::Tenant => apply(&tenants[which % tenants.len()].replace("db-b:", "db-a:").replace("cache-c:", "db-a:"), &edits),
            Slot::Platform => apply(platform, &edits),
        };
        load_bounded(text.as_bytes(), slot, "a mutated example")?;
    }

    #[test]
    fn arbitrary_text(text in ".{0,300}", slot in slot()) {
        load_bounded(text.as_bytes(), slot, "arbitrary text")?;
    }
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn alias_bombs(levels in 1usize..11, width in 1usize..11, wrapped in any::<bool>(), slot in slot()) {
        load_bounded(alias_bomb(levels, width, wrapped).as_bytes(), slot, "an alias bomb")?;
    }

    #[test]
    fn deep_nesting(depth in prop_oneof![1usize..200, 200usize..12_000], style in any::<u8>(), slot in slot()) {
        load_bounded(deep(depth, style).as_bytes(), slot, "deep nesting")?;
    }

    #[test]
    fn long_scalars(len in prop_oneof![1usize..1000, 1000usize..300_000], style in any::<u8>()) {
        load_bounded(long_scalar(len, style).as_bytes(), Slot::Tenant, "a long scalar")?;
    }
}

/// The extremes, every run (random sampling might not reach them).
#[test]
fn the_extremes_are_bounded() {
    let cases: Vec<(String, &str)> = vec![
        (alias_bomb(9, 9, true), "a nine-level alias bomb"),
        (alias_bomb(10, 10, false), "a ten-level alias bomb"),
        (deep(10_000, 0), "10,000 block sequences"),
        (deep(10_000, 1), "10,000 flow sequences"),
        (deep(10_000, 2), "10,000 flow mappings"),
        (deep(5_000, 3), "5,000 block mappings"),
        (long_scalar(300_000, 1), "a 300 KB scalar"),
    ];
    for (text, what) in cases {
        for slot in [Slot::Tenant, Slot::Platform] {
            if let Err(e) = load_bounded(text.as_bytes(), slot, what) {
                panic!("{e}");
            }
        }
    }
}

/// The CPU clock of the time bound advances with this thread's own work.
#[test]
fn the_thread_cpu_clock_counts_work() {
    let (start, wall) = (thread_cpu(), std::time::Instant::now());
    let mut x = 0u64;
    while thread_cpu() - start < Duration::from_millis(50) {
        for i in 0..100_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(
            wall.elapsed() < Duration::from_secs(20),
            "no CPU time counted"
        );
    }
}
