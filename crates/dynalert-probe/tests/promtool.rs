//! The exposition parser against Prometheus' own: the same page is imported by
//! `promtool tsdb create-blocks-from openmetrics` and dumped with `promtool tsdb dump`, and
//! every series (name, labels, value) must match what `dynalert_probe::exposition::parse`
//! reads. Lines Prometheus' parser rejects (`promtool check metrics`) must be rejected too.

use std::collections::BTreeSet;
use std::process::Command;

use dynalert_probe::exposition::parse;

/// Sample lines without timestamps: label escapes, `}` and `,` inside values, exponents,
/// infinities, colons in names, UTF-8 (written as OpenMetrics also reads them).
const PAGE: &str = r#"# HELP user_threshold Threshold of a tenant.
# TYPE user_threshold gauge
user_threshold{tenant="db-a",metric="a\"b",severity="warning"} 70
user_threshold{tenant="db-b",metric="x,y}z",severity="critical"} 1e3
tenant:alert_threshold:mysql_connections{tenant="db-c"} -2.5
path_info{path="C:\\dir\\",note="two\nlines"} +Inf
plain 42
neg_inf{a="ü"} -Inf
tiny 1.5e-7
"#;

/// Runs promtool with `args`; its standard output (it must succeed).
fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .output()
        .expect("promtool (package prometheus) is installed by scripts/install-deps.sh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "promtool {args:?}: {err}");
    String::from_utf8(out.stdout).unwrap()
}

fn promtool_dump(page: &str) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    // OpenMetrics needs a timestamp on each sample (in seconds) and the closing `# EOF`.
    let mut om = String::new();
    for l in page.lines().filter(|l| !l.starts_with('#')) {
        om.push_str(&format!("{l} 1700000000\n"));
    }
    om.push_str("# EOF\n");
    let file = dir.path().join("page.om");
    std::fs::write(&file, om).unwrap();
    let tsdb = dir.path().join("tsdb");
    let (file, tsdb_arg) = (file.to_str().unwrap(), tsdb.to_str().unwrap());
    promtool(&["tsdb", "create-blocks-from", "openmetrics", file, tsdb_arg]);
    std::fs::create_dir_all(tsdb.join("wal")).unwrap();
    promtool(&["tsdb", "dump", tsdb_arg])
        .lines()
        .map(|l| {
            // `{__name__="a", x="…"} <value> <timestamp ms>`
            let (series, ts) = l.rsplit_once(' ').unwrap();
            assert_eq!(ts, "1700000000000");
            let (labels, value) = series.rsplit_once(' ').unwrap();
            let v: f64 = value.parse().unwrap();
            format!("{labels} {v:?}")
        })
        .collect()
}

/// The same shape from our parse: labels sorted with `__name__`, values quoted as Go's
/// `strconv.Quote` does for these characters.
fn ours(page: &str) -> BTreeSet<String> {
    let quote = |s: &str| {
        let mut q = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                '\n' => q.push_str("\\n"),
                c => q.push(c),
            }
        }
        q.push('"');
        q
    };
    parse(page)
        .unwrap()
        .into_iter()
        .map(|(name, mut labels, v)| {
            labels.insert("__name__".into(), name);
            let body: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}={}", quote(v)))
                .collect();
            format!("{{{}}} {v:?}", body.join(", "))
        })
        .collect()
}

#[test]
fn every_series_reads_as_prometheus_reads_it() {
    let want = promtool_dump(PAGE);
    assert_eq!(want.len(), 7, "{want:#?}");
    assert_eq!(ours(PAGE), want);
}

/// Blanks around tokens and a trailing comma: the Prometheus text format allows them
/// (OpenMetrics does not, so the dump above cannot carry them).
#[test]
fn blanks_and_a_trailing_comma_are_prometheus_text() {
    let loose = "user_threshold{ tenant=\"db-b\", metric = \"x,y}z\" ,severity=\"critical\",}\t1e3";
    let strict = "user_threshold{tenant=\"db-b\",metric=\"x,y}z\",severity=\"critical\"} 1e3";
    assert!(!promtool_rejects(loose));
    assert_eq!(parse(loose).unwrap(), parse(strict).unwrap());
    assert!(ours(strict).is_subset(&promtool_dump(PAGE)));
}

fn promtool_rejects(line: &str) -> bool {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{line}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).contains("parsing error")
}

#[test]
fn lines_prometheus_rejects_are_rejected() {
    for bad in [
        "a{x=\"1} 2",
        "a{x=1} 2",
        "a{x=\"1\"}",
        "a one",
        "a{x=\"1\" y=\"2\"} 1",
        "a{x=\"\\q\"} 1",
        "a{1x=\"1\"} 1",
        "a 1 2 3",
    ] {
        assert!(promtool_rejects(bad), "promtool accepts `{bad}`");
        assert!(parse(bad).is_err(), "parsed `{bad}`: {:?}", parse(bad));
    }
    // And the page above passes promtool's parser (lint findings are not parse errors).
    assert!(!promtool_rejects(PAGE));
}
