//! Build-time revision and date for `--version` (see `scripts/build_version.rs`).

include!("../../scripts/build_version.rs");
