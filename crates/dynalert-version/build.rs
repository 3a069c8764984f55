//! Version facts for `--version` and `threshold_exporter_build_info`.
//!
//! Sets `DYNALERT_REVISION` (an explicit `DYNALERT_REVISION` in the build environment, else
//! `git rev-parse --short HEAD`, else `unknown`) and `DYNALERT_BUILD_DATE` (UTC day of the
//! build, from `SOURCE_DATE_EPOCH` when set so that builds can be reproduced).

use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-env-changed=DYNALERT_REVISION");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let revision = match std::env::var("DYNALERT_REVISION") {
        Ok(r) if !r.trim().is_empty() => r.trim().to_string(),
        _ => git_revision().unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=DYNALERT_REVISION={revision}");
    println!("cargo:rustc-env=DYNALERT_BUILD_DATE={}", build_date());
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The short commit hash, and a rerun whenever HEAD moves (a commit, a checkout).
fn git_revision() -> Option<String> {
    let revision = git(&["rev-parse", "--short", "HEAD"])?;
    let head = PathBuf::from(git(&[
        "rev-parse",
        "--path-format=absolute",
        "--git-path",
        "HEAD",
    ])?);
    let mut watched = vec![head.clone()];
    if let Some(reference) = std::fs::read_to_string(&head)
        .ok()
        .and_then(|h| h.strip_prefix("ref:").map(|r| r.trim().to_string()))
    {
        for path in [reference.as_str(), "packed-refs"] {
            if let Some(p) = git(&["rev-parse", "--path-format=absolute", "--git-path", path]) {
                watched.push(PathBuf::from(p));
            }
        }
    }
    // A path that does not exist would rerun this script on every build.
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    Some(revision)
}

/// `YYYY-MM-DD` in UTC.
fn build_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
