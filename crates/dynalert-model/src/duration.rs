//! Durations as Prometheus writes them: the one parser and the one formatter of the workspace.
//!
//! The grammar is Prometheus' (`model.ParseDuration` of `prometheus/common`): one or more
//! `<amount><unit>` terms, units `y` (365d), `w` (7d), `d` (24h), `h`, `m`, `s`, `ms`, each at
//! most once and from the largest to the smallest (`1h30m`, not `30m1h`), a bare `0`, and a total
//! that fits Prometheus' nanosecond `int64` (about 292 years). No sign, no space.
//!
//! One extension: an amount may be decimal (`1.5h`), as upstream threshold files write them; it
//! must come to whole milliseconds. Callers add their own policy on top (whole seconds, positive).
//! [`format`] writes Prometheus' own form (`1h30m`, `500ms`, `0s`), which [`parse`] reads back.

use std::fmt;
use std::time::Duration;

/// Units from the largest to the smallest, in milliseconds.
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
];

/// The largest duration Prometheus accepts: `i64::MAX` nanoseconds, in whole milliseconds.
const MAX_MS: u64 = i64::MAX as u64 / 1_000_000;

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    Empty,
    /// Not of the form `<amount><unit>…` (includes units out of order or repeated).
    Invalid(String),
    UnknownUnit {
        text: String,
        unit: String,
    },
    /// A decimal amount that is not a whole number of milliseconds (`0.0001s`).
    TooFine(String),
    OutOfRange(String),
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "empty duration"),
            Self::Invalid(t) => write!(
                f,
                "invalid duration `{t}`: write amounts with units from the largest to the smallest, e.g. `1h30m`"
            ),
            Self::UnknownUnit { text, unit } => write!(
                f,
                "unknown unit `{unit}` in duration `{text}` (use `ms`, `s`, `m`, `h`, `d`, `w` or `y`)"
            ),
            Self::TooFine(t) => write!(f, "duration `{t}` is finer than a millisecond"),
            Self::OutOfRange(t) => write!(f, "duration `{t}` is out of range"),
        }
    }
}

impl std::error::Error for DurationError {}

/// The leading characters of `s` that are digits (`digits`) or are not, and the rest; `None`
/// when there are none.
fn run(s: &str, digits: bool) -> Option<(&str, &str)> {
    let len = s
        .find(|c: char| c.is_ascii_digit() != digits)
        .unwrap_or(s.len());
    (len > 0).then(|| s.split_at(len))
}

/// Parses a Prometheus duration (plus decimal amounts, see the module doc).
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    match text {
        "" => return Err(DurationError::Empty),
        "0" => return Ok(Duration::ZERO),
        _ => {}
    }
    let invalid = || DurationError::Invalid(text.to_string());
    let out_of_range = || DurationError::OutOfRange(text.to_string());
    let mut rest = text;
    let mut total: u64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let int;
        (int, rest) = run(rest, true).ok_or_else(invalid)?;
        let mut frac = "";
        if let Some(after) = rest.strip_prefix('.') {
            (frac, rest) = run(after, true).ok_or_else(invalid)?;
        }
        let unit;
        (unit, rest) = run(rest, false).ok_or_else(invalid)?;
        let Some(pos) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(DurationError::UnknownUnit {
                text: text.to_string(),
                unit: unit.to_string(),
            });
        };
        if pos < next_unit {
            return Err(invalid());
        }
        next_unit = pos + 1;
        let mult = UNITS[pos].1;
        let int: u64 = int.parse().map_err(|_| out_of_range())?;
        let mut ms = int.checked_mul(mult).ok_or_else(out_of_range)?;
        // Trailing zeros trimmed, a fraction of more than 10 digits is never whole
        // milliseconds of a unit (a year is 1,971 × 2^10 × 5^6 ms).
        let digits = frac.trim_end_matches('0');
        let too_fine = || DurationError::TooFine(text.to_string());
        if digits.len() > 12 {
            return Err(too_fine());
        }
        let part = digits.parse::<u128>().unwrap_or(0) * u128::from(mult);
        let scale = 10u128.pow(digits.len() as u32);
        if part % scale != 0 {
            return Err(too_fine());
        }
        ms = ms
            .checked_add((part / scale) as u64)
            .ok_or_else(out_of_range)?;
        total = total.checked_add(ms).ok_or_else(out_of_range)?;
    }
    if total > MAX_MS {
        return Err(out_of_range());
    }
    Ok(Duration::from_millis(total))
}

/// [`parse`] for a flag that takes a positive duration (an interval, a delay): `0s` is an
/// error; the message is the one a command line prints.
pub fn parse_positive(text: &str) -> Result<Duration, String> {
    match parse(text) {
        Ok(d) if d.is_zero() => Err(format!("duration `{text}` must be positive")),
        r => r.map_err(|e| e.to_string()),
    }
}

/// Writes `d` as Prometheus does (`1h30m`, `500ms`, `0s`): whole milliseconds, largest units
/// first, years and weeks only when they divide the whole (`90d`, not `12w6d`).
pub fn format(d: Duration) -> String {
    let mut ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (i, (unit, mult)) in UNITS.into_iter().enumerate() {
        if i < 2 && ms % mult != 0 {
            continue;
        }
        if ms >= mult {
            out.push_str(&format!("{}{unit}", ms / mult));
            ms %= mult;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;
    const M: u64 = 60 * S;
    const H: u64 = 60 * M;
    const D: u64 = 24 * H;

    fn ms(text: &str) -> Result<u64, DurationError> {
        parse(text).map(|d| d.as_millis() as u64)
    }

    /// The examples of Prometheus' configuration docs (`1d`, `1h30m`, `5m`, `10s`), each
    /// unit, amounts past the next unit (`90m`), and the bare `0`.
    #[test]
    fn prometheus_grammar() {
        let all = 365 * D + 7 * D + D + H + M + S + 1;
        for (text, want) in [
            ("1d", D),
            ("1h30m", H + 30 * M),
            ("5m", 5 * M),
            ("10s", 10 * S),
            ("300ms", 300),
            ("2w", 14 * D),
            ("1y", 365 * D),
            ("1y1w1d1h1m1s1ms", all),
            ("90m", 90 * M),
            ("0s", 0),
            ("0", 0),
        ] {
            assert_eq!(ms(text), Ok(want), "`{text}`");
        }
    }

    /// What `ParseDuration` refuses: nothing, units out of order or twice, a missing amount
    /// or unit, signs and spaces, unknown units (the unit runs up to the next digit).
    #[test]
    fn prometheus_rejects() {
        assert_eq!(parse(""), Err(DurationError::Empty));
        for bad in [
            "1m1h", "30s1m", "1h1h", "5", "0.0", "h", "-1s", "+1s", " 1s",
        ] {
            assert_eq!(parse(bad), Err(DurationError::Invalid(bad.into())));
        }
        for (bad, unit) in [("5x", "x"), ("1M", "M"), ("1us", "us"), ("1h 30m", "h ")] {
            let (text, unit) = (bad.into(), unit.into());
            assert_eq!(parse(bad), Err(DurationError::UnknownUnit { text, unit }));
        }
    }

    /// Prometheus keeps durations as `int64` nanoseconds: 292 years fit, 293 do not.
    #[test]
    fn overflow() {
        assert_eq!(ms("292y"), Ok(292 * 365 * D));
        for bad in ["293y", "18446744073709551615y", "99999999999999999999s"] {
            assert_eq!(parse(bad), Err(DurationError::OutOfRange(bad.into())));
        }
    }

    #[test]
    fn decimal_amounts() {
        for (text, want) in [
            ("1.5h", 90 * M),
            ("0.5s", 500),
            ("2.50m", 150 * S),
            ("1.5h30m", 2 * H),
        ] {
            assert_eq!(ms(text), Ok(want), "`{text}`");
        }
        assert_eq!(
            parse("0.0001s"),
            Err(DurationError::TooFine("0.0001s".into()))
        );
        for bad in ["1.h", ".5h", "1..5h", "1.5.5h"] {
            assert!(parse(bad).is_err(), "`{bad}`");
        }
    }

    /// Prometheus' `Duration.String()`: largest units first, `y`/`w` only when exact, then
    /// read back to the same duration.
    #[test]
    fn formats_as_prometheus() {
        for (ms, want) in [
            (0, "0s"),
            (500, "500ms"),
            (90 * S, "1m30s"),
            (90 * M, "1h30m"),
            (4 * H, "4h"),
            (7 * D, "1w"),
            (90 * D, "90d"),
            (365 * D, "1y"),
            (D + 2 * S + 3, "1d2s3ms"),
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(format(d), want);
            assert_eq!(parse(want), Ok(d));
        }
        assert_eq!(format(Duration::from_micros(1500)), "1ms");
    }

    #[test]
    fn errors_name_the_text() {
        assert_eq!(
            parse("1m1h").unwrap_err().to_string(),
            "invalid duration `1m1h`: write amounts with units from the largest to the smallest, e.g. `1h30m`"
        );
        assert_eq!(parse("").unwrap_err().to_string(), "empty duration");
    }
}
