//! The dynalert lab: real servers from Debian packages started as local processes, plus two
//! small parts of our own (a webhook sink and a simulated Kubernetes endpoint), and the runner
//! that drives scenarios A–D, `ha`, `bad-config` and `recipes` against them.
//!
//! Everything binds 127.0.0.1 on free ports; every part has its own data directory and log file
//! under the lab directory; `lab.json` records each part's URL, pid and start time so that
//! `down` stops exactly the processes `up` started.

pub mod api;
pub mod helper;
pub mod inspect;
pub mod load;
pub mod process;
pub mod scenario;
pub mod sim;
pub mod sink;
pub mod state;
pub mod up;

pub use state::LabState;
