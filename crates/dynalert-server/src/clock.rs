//! Where the reloader reads the time.
//!
//! Expiry, schedule windows and maintenance boundaries all depend on "now". The exporter
//! reads it from one [`Clock`] (the system clock in production) so tests can move time
//! explicitly and check an edge without waiting for it on the wall clock.

use chrono::{DateTime, Utc};

/// The current time, as the reloader sees it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
