//! Helpers shared by the in-process server tests.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use dynalert_server::Clock;

/// A clock the test moves by hand; the server re-checks its edges on
/// `Server::clock_moved`, so an expiry is tested without waiting for it.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn at(rfc3339: &str) -> ManualClock {
        ManualClock(Mutex::new(
            DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc(),
        ))
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}
