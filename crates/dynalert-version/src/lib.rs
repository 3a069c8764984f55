//! What both binaries say about themselves: package version, source revision and build date.
//!
//! One build script (`build.rs`) finds the revision with git, so `dynalert --version`,
//! `threshold-exporter --version` and `threshold_exporter_build_info` always agree. A commit
//! or checkout reruns it; without git the revision is `unknown`.

/// The package version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The short git revision of the build, or `unknown`.
pub const REVISION: &str = env!("DYNALERT_REVISION");
/// The UTC day of the build, `YYYY-MM-DD`.
pub const BUILD_DATE: &str = env!("DYNALERT_BUILD_DATE");
/// The text of `--version` after the program name: `0.1.0 (revision abc1234, built 2026-06-01)`.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (revision ",
    env!("DYNALERT_REVISION"),
    ", built ",
    env!("DYNALERT_BUILD_DATE"),
    ")"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_version_holds_the_parts() {
        assert_eq!(
            LONG,
            format!("{VERSION} (revision {REVISION}, built {BUILD_DATE})")
        );
        assert!(!REVISION.is_empty() && !REVISION.contains(char::is_whitespace));
        let parts: Vec<usize> = BUILD_DATE.split('-').map(str::len).collect();
        assert_eq!(parts, [4, 2, 2], "{BUILD_DATE}");
    }
}
