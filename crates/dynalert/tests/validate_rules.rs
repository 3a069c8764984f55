//! `dynalert validate DIR --rules RULES`: regex rows the rules to be deployed do not arm are
//! reported at the row, before deployment.

mod common;
use common::{dynalert, root};

use std::path::Path;
use std::process::Command;

fn copy_examples(dst: &Path) {
    for e in std::fs::read_dir(root().join("examples/conf.d")).unwrap() {
        let e = e.unwrap();
        if e.path().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn shipped_rules_arm_every_regex_row_of_the_examples() {
    let out = dynalert(&["validate", "examples/conf.d", "--rules", "rules/packs"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(" 0 not armed"), "{stderr}");
}

#[test]
fn a_new_regex_row_is_an_error_at_its_line_until_the_rules_are_regenerated() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf.d");
    std::fs::create_dir(&conf).unwrap();
    copy_examples(&conf);
    // db-a gains a row on a regex the shipped rules were not generated for.
    let path = conf.join("db-a.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text
        .lines()
        .position(|l| l.trim_start().starts_with("\"container_cpu{"))
        .expect("db-a sets a container_cpu row");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.insert(
        at,
        "    \"container_cpu{container=~'worker-.*'}\": \"97\"".into(),
    );
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let c = conf.to_str().unwrap();
    let out = dynalert(&["validate", c, "--rules", "rules/packs"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let want = format!(
        "{}:{}:5: error: regex row `container_cpu{{container=~\"worker-.*\"}}` of tenant `db-a` is covered by no rule in `rules/packs`",
        path.display(),
        at + 1
    );
    assert!(stderr.contains(&want), "missing `{want}` in\n{stderr}");
    assert!(stderr.contains("hint: regenerate the regex rules with `dynalert rules regex"));
    // The conf.d alone is valid: only the rules are missing.
    assert_eq!(dynalert(&["validate", c]).status.code(), Some(0));

    // The deploy step regenerates the packs' regex rules for this conf.d: then it passes.
    let packs = tmp.path().join("packs");
    let status = Command::new("cp")
        .arg("-r")
        .args([root().join("rules/packs"), packs.clone()])
        .status()
        .unwrap();
    assert!(status.success());
    let p = packs.to_str().unwrap();
    let out = dynalert(&["rules", "regex", c, "--packs", p]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let out = dynalert(&["validate", c, "--rules", p]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn a_rules_directory_without_rule_files_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().to_str().unwrap();
    let out = dynalert(&["validate", "examples/conf.d", "--rules", rules]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no rule file in"), "{stderr}");
}
