//! Dev-only helpers for the tests and benchmarks of the exporter.
//!
//! Never a normal dependency of a shipped crate: it exists so that test machinery stays out
//! of the public API of the crates it tests.

pub mod http;
