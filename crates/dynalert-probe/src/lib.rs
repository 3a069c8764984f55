//! The one crate that talks to running things: the Prometheus HTTP API (also served by
//! VictoriaMetrics, vmalert and the lab's query front), the Alertmanager v2 API, the Prometheus
//! text exposition format, child processes killed on drop, the port a child bound on
//! `127.0.0.1:0`, and waiting on a condition with a deadline.
//!
//! Blocking (no async runtime): the lab, the bench, the CLI and the tests call it from plain
//! threads.

pub mod exposition;
pub mod http;
pub mod port;
pub mod process;
pub mod prom;
pub mod wait;

pub use exposition::Labels;
pub use wait::{wait_for, wait_until, TimedOut};
