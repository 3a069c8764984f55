//! What a new user meets first: `init` and `tenant new` producing a conf.d that validates and
//! serves the catalogue's defaults, refusals to overwrite, one cause chain per error, the
//! revision in `--version`, and bash completion of subcommands.

mod common;
use common::{dynalert, root};

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use yaml_rust2::{Yaml, YamlLoader};

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Labels of one `user_threshold` series -> value.
type Series = BTreeMap<BTreeMap<String, String>, f64>;

fn number(y: &Yaml) -> f64 {
    match y {
        Yaml::Integer(i) => *i as f64,
        other => other.as_f64().expect("a number"),
    }
}

/// The `user_threshold` series a tenant that sets nothing must get, from
/// `rules/catalogue.yaml` and the exporter contract (component and metric split at the first
/// underscore of the key; a plain number is the warning tier).
fn expected_defaults(tenant: &str) -> Series {
    let text = std::fs::read_to_string(root().join("rules/catalogue.yaml")).unwrap();
    let doc = &YamlLoader::load_from_str(&text).unwrap()[0];
    let mut out = Series::new();
    for (key, body) in doc["keys"].as_hash().unwrap() {
        let key = key.as_str().unwrap();
        let (component, metric) = key.split_once('_').unwrap();
        let tiers: Vec<(String, f64)> = match &body["default"] {
            Yaml::BadValue => continue, // optional key: no series until set
            Yaml::Hash(h) => h
                .iter()
                .map(|(t, v)| (t.as_str().unwrap().to_string(), number(v)))
                .collect(),
            v => vec![("warning".to_string(), number(v))],
        };
        for (severity, value) in tiers {
            let labels = [
                ("tenant", tenant),
                ("component", component),
                ("metric", metric),
                ("severity", severity.as_str()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            out.insert(labels, value);
        }
    }
    assert!(out.len() >= 10, "the catalogue has defaults");
    out
}

/// The `user_threshold` series of Prometheus exposition text, for one tenant.
fn served(text: &str, tenant: &str) -> Series {
    let mut out = Series::new();
    for line in text.lines().filter(|l| l.starts_with("user_threshold{")) {
        let (labels, value) = line["user_threshold{".len()..].rsplit_once("} ").unwrap();
        let labels: BTreeMap<String, String> = labels
            .split("\",")
            .map(|kv| {
                let (k, v) = kv.split_once("=\"").unwrap();
                (k.to_string(), v.trim_end_matches('"').to_string())
            })
            .collect();
        if labels["tenant"] == tenant {
            out.insert(labels, value.parse().unwrap());
        }
    }
    out
}

#[test]
fn init_then_tenant_new_validates_and_serves_the_catalogue_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf.d");
    let (conf_s, id) = (conf.to_str().unwrap(), "team-x.orders_01");
    ok(&dynalert(&["init", conf_s]));
    ok(&dynalert(&["tenant", "new", id, "--dir", conf_s]));
    let validate = dynalert(&["validate", conf_s]);
    ok(&validate);
    let stderr = String::from_utf8_lossy(&validate.stderr);
    assert!(stderr.contains(" 0 errors, 0 warnings"), "{stderr}");
    let text = ok(&dynalert(&["effective", conf_s, "--tenant", id]));
    assert_eq!(served(&text, id), expected_defaults(id));
    // The catalogue of the new directory is what the packs read: nothing unarmed or unknown.
    ok(&dynalert(&["rules", "coverage", conf_s]));
}

#[test]
fn tenant_new_lists_every_catalogue_key_commented_with_its_default() {
    let tmp = tempfile::tempdir().unwrap();
    let (conf, conf_s) = (tmp.path(), tmp.path().to_str().unwrap());
    // A platform of its own (not from `init`): the listed keys come from DIR's platform files.
    std::fs::write(
        conf.join("_defaults.yaml"),
        "defaults:\n  mysql_connections: 55\n  redis_memory: {warning: 70, critical: 90}\noptional_overrides:\n  - pg_deadlocks\n",
    )
    .unwrap();
    ok(&dynalert(&["tenant", "new", "db-q", "--dir", conf_s]));
    let text = std::fs::read_to_string(conf.join("db-q.yaml")).unwrap();
    let listed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("# "))
        .filter(|l| !l.starts_with('_'))
        .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
        .filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    assert_eq!(
        listed,
        ["mysql_connections", "pg_deadlocks", "redis_memory"]
    );
    assert!(text.contains("# mysql_connections: 55 "), "{text}");
    assert!(
        text.contains("# redis_memory: {warning: 70, critical: 90} "),
        "{text}"
    );
    // unit and meaning come from the packs' catalogue
    assert!(text.contains("percent: used memory"), "{text}");
    // commented out: the tenant gets the platform defaults until it edits the file
    let eff = ok(&dynalert(&["effective", conf_s, "--tenant", "db-q"]));
    let mut values: Vec<f64> = served(&eff, "db-q").into_values().collect();
    values.sort_by(f64::total_cmp);
    assert_eq!(values, [55.0, 70.0, 90.0]);
}

#[test]
fn init_and_tenant_new_refuse_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("conf.d");
    let conf_s = conf.to_str().unwrap();
    ok(&dynalert(&["init", conf_s]));
    let defaults = conf.join("_defaults.yaml");
    std::fs::write(&defaults, "defaults:\n  mysql_connections: 1\n").unwrap();
    let again = dynalert(&["init", conf_s]);
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("_defaults.yaml` already exists"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&defaults).unwrap(),
        "defaults:\n  mysql_connections: 1\n"
    );

    ok(&dynalert(&["tenant", "new", "db-z", "--dir", conf_s]));
    std::fs::write(conf.join("db-z.yaml"), "tenants:\n  db-z: {}\n").unwrap();
    let again = dynalert(&["tenant", "new", "db-z", "--dir", conf_s]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("db-z.yaml` already exists"));
    assert_eq!(
        std::fs::read_to_string(conf.join("db-z.yaml")).unwrap(),
        "tenants:\n  db-z: {}\n"
    );
}

#[test]
fn tenant_ids_follow_the_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let (conf, conf_s) = (tmp.path(), tmp.path().to_str().unwrap());
    ok(&dynalert(&["init", conf_s]));
    let longest = "a".repeat(63);
    for good in ["db-a", "a", "9", "team.shop_01", longest.as_str()] {
        ok(&dynalert(&["tenant", "new", good, "--dir", conf_s]));
    }
    let too_long = "a".repeat(64);
    for bad in [
        "Db-a",
        "-db",
        "db-",
        "db_",
        ".db",
        "db a",
        "db/a",
        too_long.as_str(),
    ] {
        let out = dynalert(&["tenant", "new", "--dir", conf_s, "--", bad]);
        assert_eq!(out.status.code(), Some(1), "`{bad}` was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("tenant id `{bad}`")), "{stderr}");
    }
    // nothing written for the rejected ids
    let files = std::fs::read_dir(conf).unwrap().count();
    assert_eq!(files, 2 + 5);
}

#[test]
fn an_io_error_names_its_path_and_its_cause_once() {
    let out = dynalert(&["validate", "/nonexistent/dir"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reason = std::io::Error::from_raw_os_error(2).to_string();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(stderr.matches("/nonexistent/dir").count(), 1, "{stderr}");
    assert_eq!(stderr.matches(reason.as_str()).count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
}

fn git_revision() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
}

#[test]
fn version_names_the_revision_and_build_date() {
    let text = ok(&dynalert(&["--version"]));
    let expected = git_revision().unwrap_or_else(|| "unknown".to_string());
    assert!(
        text.starts_with(&format!(
            "dynalert {} (revision {expected}, built ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    let date = text.split("built ").nth(1).unwrap().trim_end_matches(")\n");
    let parts: Vec<&str> = date.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [4, 2, 2],
        "{text}"
    );
}

/// Runs bash's completion function of `script` for the words typed so far.
pub fn complete(script: &Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let program = format!(
        "source {script}\ncomplete -p dynalert >&2\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE='{line}'\nCOMP_POINT={point}\n_dynalert dynalert '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script = script.display(),
        words = words.join(" "),
        cword = words.len() - 1,
        point = line.len(),
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("_dynalert") && stderr.contains("dynalert"),
        "{stderr}"
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_va_to_validate() {
    // The script `make install` installs (kept equal to `dynalert completions bash` by the
    // drift check in help.rs).
    let script = root().join("docs/cli/completions/dynalert.bash");
    assert_eq!(complete(&script, &["dynalert", "va"]), ["validate"]);
    assert_eq!(complete(&script, &["dynalert", "ten"]), ["tenant"]);
    assert!(complete(&script, &["dynalert", "tenant", ""]).contains(&"new".to_string()));
}

#[test]
fn tenant_new_without_a_conf_d_points_to_init() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("conf.d");
    let out = dynalert(&["tenant", "new", "db-a", "--dir", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("dynalert init"), "{stderr}");
    assert!(!missing.exists());
}
