//! Waiting on a condition with a deadline, never a fixed sleep: the condition is polled until
//! it holds, and a timeout names what was awaited (and the last error seen).

use std::fmt;
use std::time::{Duration, Instant};

/// A wait that ran out of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedOut {
    pub what: String,
    pub after: Duration,
    /// The last error the condition returned, when it was retried.
    pub last: Option<String>,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {:?} waiting for {}",
            self.after, self.what
        )?;
        match &self.last {
            Some(e) => write!(f, ": {e}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for TimedOut {}

/// Polls `check` every `every` until it returns `Ok(Some(_))`. An `Err` ends the wait at once
/// (a child that died is not waited for); after `deadline` the wait fails with [`TimedOut`].
pub fn wait_until<T, E: From<TimedOut>>(
    what: &str,
    deadline: Duration,
    every: Duration,
    mut check: impl FnMut() -> Result<Option<T>, E>,
) -> Result<T, E> {
    let start = Instant::now();
    loop {
        if let Some(v) = check()? {
            return Ok(v);
        }
        if start.elapsed() >= deadline {
            return Err(TimedOut {
                what: what.to_string(),
                after: deadline,
                last: None,
            }
            .into());
        }
        std::thread::sleep(every.min(deadline.saturating_sub(start.elapsed())));
    }
}

/// Polls `check` every 100 ms until it returns `Ok(Some(_))` or `deadline` passes. Errors are
/// retried (a server that is still starting refuses connections); the last one is named in
/// the timeout.
pub fn wait_for<T>(
    what: &str,
    deadline: Duration,
    mut check: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let mut last = None;
    let got = wait_until(what, deadline, Duration::from_millis(100), || {
        Ok::<_, TimedOut>(check().unwrap_or_else(|e| {
            last = Some(format!("{e:#}"));
            None
        }))
    });
    got.map_err(|t| TimedOut { last, ..t }.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_that_holds_later_is_awaited() {
        let start = Instant::now();
        let v = wait_for("the clock", Duration::from_secs(30), || {
            Ok((start.elapsed() >= Duration::from_millis(300)).then_some(7))
        })
        .unwrap();
        assert_eq!(v, 7);
        assert!(start.elapsed() >= Duration::from_millis(300));
    }

    #[test]
    fn a_timeout_names_what_was_awaited_and_the_last_error() {
        let start = Instant::now();
        let mut n = 0;
        let err = wait_for::<()>("the moon", Duration::from_millis(300), || {
            n += 1;
            anyhow::bail!("attempt {n} refused")
        })
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("timed out after 300ms waiting for the moon: attempt "),
            "{msg}"
        );
        assert!(msg.ends_with(&format!("attempt {n} refused")), "{msg}");
        assert!(n >= 2, "retried only {n} times");
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn an_error_ends_a_strict_wait_at_once() {
        let mut n = 0;
        let err = wait_until::<(), anyhow::Error>(
            "a dead server",
            Duration::from_secs(600),
            Duration::from_millis(10),
            || {
                n += 1;
                anyhow::bail!("`prometheus` exited early")
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "`prometheus` exited early");
        assert_eq!(n, 1);
    }
}
