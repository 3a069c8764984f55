//! Scheduled values: `HH:MM-HH:MM` windows with optional weekdays and an IANA time zone.
//!
//! A window belongs to the day it starts on; a window that crosses midnight
//! (`22:00-06:00`) ends on the next day. An edge that falls into a DST gap moves to
//! the first instant after the gap, so a window lying wholly inside the gap does not
//! exist that day; in the repeated hour of a fold an edge is the first of the two
//! instants.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::Source;

/// A daily time window in minutes since local midnight; `start != end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start_min: u16,
    pub end_min: u16,
}

impl Window {
    pub fn crosses_midnight(self) -> bool {
        self.end_min < self.start_min
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }
}

/// Bit set of weekdays, bit 0 = Monday.
pub const ALL_DAYS: u8 = 0x7f;

/// One scheduled override of a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Override {
    pub window: Window,
    /// Weekdays on which the window starts (bit 0 = Monday).
    pub days: u8,
    pub timezone: Tz,
    /// `None` disables the tier while the window is active.
    pub value: Option<f64>,
    pub source: Source,
}

fn local_instant(tz: Tz, date: NaiveDate, minutes: u16) -> Option<DateTime<Utc>> {
    let time = NaiveTime::from_hms_opt(u32::from(minutes / 60), u32::from(minutes % 60), 0)?;
    let naive = date.and_time(time);
    // In a DST gap the wall-clock time does not exist: the window edge moves to the
    // first instant after the gap (the first wall-clock minute that exists again). In
    // a fold (the repeated hour) the earlier of the two instants is the edge.
    let mut probe = naive;
    for _ in 0..=24 * 60 {
        if let Some(dt) = tz.from_local_datetime(&probe).earliest() {
            return Some(dt.with_timezone(&Utc));
        }
        probe += Duration::minutes(1);
    }
    None
}

impl Override {
    fn starts_on(&self, date: NaiveDate) -> bool {
        self.days & (1 << date.weekday().num_days_from_monday()) != 0
    }

    /// (start, end) instants of the window occurrence starting on `date`, if it starts that day.
    fn occurrence(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.starts_on(date) {
            return None;
        }
        let start = local_instant(self.timezone, date, self.window.start_min)?;
        let end_date = if self.window.crosses_midnight() {
            date.succ_opt()?
        } else {
            date
        };
        let end = local_instant(self.timezone, end_date, self.window.end_min)?;
        Some((start, end))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.timezone).date_naive()
    }

    /// Whether the window covers `t`.
    pub fn is_active(&self, t: DateTime<Utc>) -> bool {
        let today = self.local_date(t);
        [today.pred_opt(), Some(today)]
            .into_iter()
            .flatten()
            .filter_map(|d| self.occurrence(d))
            .any(|(s, e)| s <= t && t < e)
    }

    /// The first window edge (start or end) strictly after `t`.
    pub fn next_edge_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = self.local_date(t);
        (-1..=8)
            .filter_map(|offset| today.checked_add_signed(Duration::days(offset)))
            .filter_map(|date| self.occurrence(date))
            .flat_map(|(s, e)| [s, e])
            .filter(|edge| *edge > t)
            .min()
    }
}

/// A five-field cron expression (`minute hour day-of-month month day-of-week`), parsed
/// once when the configuration is validated. It reads and writes as its text.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    text: String,
    cron: croner::Cron,
}

impl CronSchedule {
    /// Parses `text`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<CronSchedule, String> {
        let text = text.trim();
        let cron = croner::Cron::new(text)
            .parse()
            .map_err(|e| format!("bad cron `{text}`: {e}"))?;
        let fields = text.split_whitespace().count();
        if fields != 5 {
            return Err(format!(
                "bad cron `{text}`: expected 5 fields, found {fields}"
            ));
        }
        Ok(CronSchedule {
            text: text.to_string(),
            cron,
        })
    }

    pub fn cron(&self) -> &croner::Cron {
        &self.cron
    }
}

impl std::ops::Deref for CronSchedule {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for CronSchedule {}

impl Serialize for CronSchedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for CronSchedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        CronSchedule::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ov(start: u16, end: u16, days: u8, tz: Tz) -> Override {
        Override {
            window: Window {
                start_min: start,
                end_min: end,
            },
            days,
            timezone: tz,
            value: Some(95.0),
            source: Source {
                file: "t.yaml".into(),
                line: 1,
            },
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn window_crossing_midnight_in_taipei() {
        // 22:00-06:00 Asia/Taipei (UTC+8), weekdays.
        let o = ov(22 * 60, 6 * 60, 0b0011111, chrono_tz::Asia::Taipei);
        // Monday 2026-06-01 23:30 +08:00 is inside.
        assert!(o.is_active(at("2026-06-01T23:30:00+08:00")));
        // Tuesday 05:59 local belongs to Monday's window.
        assert!(o.is_active(at("2026-06-02T05:59:00+08:00")));
        assert!(!o.is_active(at("2026-06-02T06:00:00+08:00")));
        // Saturday 23:00 local: the window does not start on Saturdays.
        assert!(!o.is_active(at("2026-06-06T23:00:00+08:00")));
        // Saturday 01:00 local belongs to Friday's window.
        assert!(o.is_active(at("2026-06-06T01:00:00+08:00")));
        // Next edge after Monday noon is Monday 22:00 local = 14:00 UTC.
        assert_eq!(
            o.next_edge_after(at("2026-06-01T12:00:00+08:00")),
            Some(at("2026-06-01T14:00:00Z"))
        );
    }

    #[test]
    fn dst_gap_edges_move_to_the_end_of_the_gap() {
        // 2026-03-29: Berlin skips 02:00-03:00 CET (01:00Z is 03:00 CEST).
        let berlin = chrono_tz::Europe::Berlin;
        let o = ov(2 * 60 + 15, 4 * 60, ALL_DAYS, berlin);
        assert_eq!(
            o.next_edge_after(at("2026-03-29T00:00:00Z")),
            Some(at("2026-03-29T01:00:00Z"))
        );
        assert!(!o.is_active(at("2026-03-29T00:59:00Z")));
        assert!(o.is_active(at("2026-03-29T01:00:00Z")));
        assert!(!o.is_active(at("2026-03-29T02:00:00Z")));
        // A window wholly inside the gap does not exist that day.
        let inside = ov(2 * 60 + 15, 2 * 60 + 45, ALL_DAYS, berlin);
        for t in [
            "2026-03-29T00:59:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:30:00Z",
        ] {
            assert!(!inside.is_active(at(t)), "{t}");
        }
        // ... but the next day it does: 02:15 CEST = 00:15Z.
        assert!(inside.is_active(at("2026-03-30T00:15:00Z")));
        // In the repeated hour (2026-10-25, 02:00-03:00 twice) the first instant counts.
        let fold = ov(2 * 60 + 30, 5 * 60, ALL_DAYS, berlin);
        assert_eq!(
            fold.next_edge_after(at("2026-10-24T23:00:00Z")),
            Some(at("2026-10-25T00:30:00Z"))
        );
    }

    #[test]
    fn dst_gap_moves_edge_forward() {
        // 2026-03-08: New York skips 02:00-03:00.
        let o = ov(2 * 60 + 30, 4 * 60, ALL_DAYS, chrono_tz::America::New_York);
        let edge = o.next_edge_after(at("2026-03-08T05:00:00Z")).unwrap();
        assert_eq!(edge, at("2026-03-08T03:00:00-04:00"));
    }

    #[test]
    fn cron_reads_and_writes_as_its_text_and_rejects_what_the_loader_rejects() {
        let c = CronSchedule::parse(" 0 2 * * sun ").unwrap();
        assert_eq!(&*c, "0 2 * * sun");
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"0 2 * * sun\"");
        let back: CronSchedule = serde_json::from_str("\"0 2 * * sun\"").unwrap();
        assert_eq!(back, c);
        let err = CronSchedule::parse("0 2 * *").unwrap_err();
        assert!(err.starts_with("bad cron `0 2 * *`"), "{err}");
        let err = CronSchedule::parse("0 0 2 * * sun").unwrap_err();
        assert!(err.starts_with("bad cron `0 0 2 * * sun`"), "{err}");
        assert!(serde_json::from_str::<CronSchedule>("\"61 * * * *\"").is_err());
    }
}
