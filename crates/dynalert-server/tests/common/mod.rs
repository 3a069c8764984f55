//! Helpers shared by the in-process server tests.

// Each test binary includes this module and uses a part of it.
#![allow(dead_code)]

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

/// The system clock shifted by a fixed offset: time runs at real speed, so the reloader's
/// own timer is what must serve an edge placed a moment ahead.
pub struct OffsetClock(pub chrono::Duration);

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.0
    }
}
