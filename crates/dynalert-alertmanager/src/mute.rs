//! Silent mode and maintenance as Alertmanager `time_intervals`.
//!
//! Inhibit rules are label-based and global: an inhibited alert is removed for every
//! route, the platform's NOC copy and VIP page included. Silent mode and maintenance
//! are therefore expressed as `mute_time_intervals` on the tenant's own routes only,
//! pointing at generated `time_intervals`:
//! * an absolute window `[start, expires)` (silent mode, one-off maintenance) becomes a
//!   union of `years` / `months` / `days_of_month` / `times` specs in UTC, rounded
//!   inwards to whole minutes (Alertmanager's resolution), so it never mutes longer
//!   than configured;
//! * a recurring window (five-field cron, duration, time zone) becomes `times` on the
//!   cron's days in the window's `location`.
//!
//! The output depends only on the configuration, never on the current time.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};
use dynalert_model::RecurringWindow;

/// Minutes in a day.
const DAY: u32 = 1440;
/// Most start times (hours × minutes) a recurring window may expand to.
const MAX_STARTS: usize = 48;
/// Longest recurring window that can be expressed, in days.
const MAX_DAYS: u32 = 7;

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// One entry of a `time_intervals[].time_intervals` list; empty lists match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spec {
    /// `[start, end)` in minutes of the day (`end` at most 1440).
    pub times: Option<(u32, u32)>,
    pub weekdays: Vec<String>,
    pub days_of_month: Vec<String>,
    pub months: Vec<String>,
    pub years: Vec<String>,
    pub location: Option<String>,
}

impl Spec {
    /// Whether the instant (already in the spec's location) lies inside.
    #[cfg(test)]
    fn contains(&self, t: NaiveDateTime) -> bool {
        fn in_list(list: &[String], v: u32, names: &[&str]) -> bool {
            list.is_empty()
                || list.iter().any(|item| {
                    let num = |s: &str| {
                        names
                            .iter()
                            .position(|n| *n == s)
                            .map(|p| p as u32)
                            .or_else(|| s.parse().ok())
                            .unwrap()
                    };
                    match item.split_once(':') {
                        Some((a, b)) => (num(a)..=num(b)).contains(&v),
                        None => num(item) == v,
                    }
                })
        }
        let minute = minute_of(t);
        self.times.is_none_or(|(a, b)| a <= minute && minute < b)
            && in_list(
                &self.weekdays,
                t.weekday().num_days_from_sunday(),
                &WEEKDAYS,
            )
            && in_list(&self.days_of_month, t.day(), &[])
            && in_list(&self.months, t.month(), &[])
            && in_list(&self.years, t.year() as u32, &[])
    }
}

/// A named `time_intervals` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeInterval {
    pub name: String,
    pub specs: Vec<Spec>,
}

fn range(a: u32, b: u32) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}:{b}")
    }
}

fn minute_of(t: NaiveDateTime) -> u32 {
    t.hour() * 60 + t.minute()
}

fn floor_minute(t: DateTime<Utc>) -> NaiveDateTime {
    let n = t.naive_utc();
    n - Duration::seconds(i64::from(n.second())) - Duration::nanoseconds(i64::from(n.nanosecond()))
}

fn ceil_minute(t: DateTime<Utc>) -> NaiveDateTime {
    let f = floor_minute(t);
    if f == t.naive_utc() {
        f
    } else {
        f + Duration::minutes(1)
    }
}

fn first_of_next_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).expect("valid date")
}

fn ymd(y: i32, m: Option<String>, dom: Option<String>) -> Spec {
    Spec {
        years: vec![y.to_string()],
        months: m.into_iter().collect(),
        days_of_month: dom.into_iter().collect(),
        ..Spec::default()
    }
}

/// Days `days` of the month of `d`.
fn month_days(d: NaiveDate, days: String) -> Spec {
    ymd(d.year(), Some(d.month().to_string()), Some(days))
}

/// Whole days `[d1, d2)`.
fn whole_days(mut d1: NaiveDate, d2: NaiveDate, out: &mut Vec<Spec>) {
    if d1 >= d2 {
        return;
    }
    if (d1.year(), d1.month()) == (d2.year(), d2.month()) {
        out.push(month_days(d1, range(d1.day(), d2.day() - 1)));
        return;
    }
    if d1.day() != 1 {
        let next = first_of_next_month(d1);
        let last = next.pred_opt().expect("valid date").day();
        out.push(month_days(d1, range(d1.day(), last)));
        d1 = next;
    }
    if d1.year() < d2.year() {
        if d1.month() != 1 {
            out.push(ymd(d1.year(), Some(range(d1.month(), 12)), None));
            d1 = NaiveDate::from_ymd_opt(d1.year() + 1, 1, 1).expect("valid date");
        }
        if d1.year() < d2.year() {
            out.push(Spec {
                years: vec![range(d1.year() as u32, d2.year() as u32 - 1)],
                ..Spec::default()
            });
        }
        d1 = NaiveDate::from_ymd_opt(d2.year(), 1, 1).expect("valid date");
    }
    if d1.month() < d2.month() {
        out.push(ymd(
            d2.year(),
            Some(range(d1.month(), d2.month() - 1)),
            None,
        ));
    }
    if d2.day() > 1 {
        out.push(month_days(d2, range(1, d2.day() - 1)));
    }
}

fn partial_day(d: NaiveDate, from: u32, to: u32) -> Spec {
    Spec {
        times: Some((from, to)),
        ..month_days(d, d.day().to_string())
    }
}

/// The UTC window `[start, end)` (open ends allowed), rounded inwards to whole minutes.
/// Empty when the rounded window is empty.
pub fn absolute(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Vec<Spec> {
    if start.is_none() && end.is_none() {
        return vec![Spec {
            times: Some((0, DAY)),
            ..Spec::default()
        }];
    }
    let new_year = |y| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .expect("valid date")
            .and_hms_opt(0, 0, 0)
            .expect("valid time")
    };
    let a = start.map_or_else(|| new_year(1970), ceil_minute);
    let b = end.map_or_else(|| new_year(10000), floor_minute);
    let mut out = Vec::new();
    if a >= b {
        return out;
    }
    let mut day = a.date();
    if minute_of(a) != 0 {
        if b.date() == a.date() {
            out.push(partial_day(day, minute_of(a), minute_of(b)));
            return out;
        }
        out.push(partial_day(day, minute_of(a), DAY));
        day = day.succ_opt().expect("valid date");
    }
    whole_days(day, b.date(), &mut out);
    if minute_of(b) != 0 {
        out.push(partial_day(b.date(), 0, minute_of(b)));
    }
    out
}

/// Values of one cron field: `*`, `a`, `a-b`, steps `/s`, lists, names.
fn cron_field(field: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<u32>, String> {
    let value = |s: &str| -> Result<u32, String> {
        let lower = s.to_ascii_lowercase();
        if let Some(p) = names
            .iter()
            .position(|n| n.starts_with(&lower) && lower.len() == 3)
        {
            return Ok(p as u32 + lo);
        }
        s.parse::<u32>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .ok_or_else(|| format!("`{s}` is not supported in a cron field"))
    };
    let mut out = Vec::new();
    for item in field.split(',') {
        let (body, step) = match item.split_once('/') {
            Some((b, s)) => (
                b,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("step `{s}` is not supported"))?,
            ),
            None => (item, 1),
        };
        let (a, b) = match body {
            "*" | "?" => (lo, hi),
            _ => match body.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if item.contains('/') => (value(body)?, hi),
                None => value(body).map(|v| (v, v))?,
            },
        };
        if a > b {
            return Err(format!("range `{body}` is empty"));
        }
        out.extend((a..=b).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// A recurring window as specs in its time zone, or why it cannot be expressed.
pub fn recurring(w: &RecurringWindow) -> Result<Vec<Spec>, String> {
    let fields: Vec<&str> = w.cron.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = fields[..] else {
        return Err(format!("cron `{}` does not have five fields", w.cron));
    };
    let minutes = cron_field(minute, 0, 59, &[])?;
    let hours = cron_field(hour, 0, 23, &[])?;
    let dom_all = matches!(dom, "*" | "?");
    let dow_all = matches!(dow, "*" | "?");
    let month_all = matches!(month, "*" | "?");
    let doms = cron_field(dom, 1, 31, &[])?;
    let months = cron_field(month, 1, 12, &MONTHS)?;
    let dows: std::collections::BTreeSet<u32> = cron_field(dow, 0, 7, &DAYS)?
        .into_iter()
        .map(|d| d % 7)
        .collect();
    if minutes.len() * hours.len() > MAX_STARTS {
        return Err(format!(
            "cron `{}` starts more than {MAX_STARTS} times a day",
            w.cron
        ));
    }
    let duration = u32::try_from(w.duration_secs / 60).unwrap_or(u32::MAX);
    if duration == 0 {
        return Ok(Vec::new());
    }
    if duration > MAX_DAYS * DAY {
        return Err(format!("durations over {MAX_DAYS} days are not supported"));
    }
    let location = Some(w.timezone.name().to_string());
    let month_list: Vec<String> = if month_all {
        Vec::new()
    } else {
        months.iter().map(u32::to_string).collect()
    };
    let mut out = Vec::new();
    for h in &hours {
        for m in &minutes {
            let start = h * 60 + m;
            let end = start + duration;
            let mut k = 0;
            while k * DAY < end {
                let seg = (
                    start.max(k * DAY) - k * DAY,
                    end.min((k + 1) * DAY) - k * DAY,
                );
                if seg.0 < seg.1 {
                    if k > 0 && !month_all {
                        return Err(format!(
                            "a window of cron `{}` crosses midnight in a month-restricted schedule; not supported",
                            w.cron
                        ));
                    }
                    let base = Spec {
                        times: Some(seg),
                        months: month_list.clone(),
                        location: location.clone(),
                        ..Spec::default()
                    };
                    // Cron: with both day fields restricted, either one matching is enough.
                    if !dow_all || dom_all {
                        let weekdays = if dow_all {
                            Vec::new()
                        } else {
                            dows.iter()
                                .map(|d| WEEKDAYS[((d + k) % 7) as usize].to_string())
                                .collect()
                        };
                        out.push(Spec {
                            weekdays,
                            ..base.clone()
                        });
                    }
                    if !dom_all {
                        if k > 0 && doms.iter().any(|d| d + k > 28) {
                            return Err(format!(
                                "a window of cron `{}` crosses a month end; not supported",
                                w.cron
                            ));
                        }
                        out.push(Spec {
                            days_of_month: doms.iter().map(|d| (d + k).to_string()).collect(),
                            ..base
                        });
                    }
                }
                k += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn inside(specs: &[Spec], t: &str) -> bool {
        specs.iter().any(|s| s.contains(at(t).naive_utc()))
    }

    #[test]
    fn absolute_window_contains_exactly_its_minutes() {
        let start = at("2026-11-29T20:10:30Z");
        let end = at("2027-03-02T06:00:00Z");
        let specs = absolute(Some(start), Some(end));
        // Walk every 7 minutes over a range around the window and compare with the definition.
        let mut t = Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap();
        while t < Utc.with_ymd_and_hms(2027, 3, 4, 0, 0, 0).unwrap() {
            // Rounded inwards: starts at the next whole minute.
            let want = t >= at("2026-11-29T20:11:00Z") && t < end;
            assert_eq!(inside(&specs, &t.to_rfc3339()), want, "{t} in {specs:#?}");
            t += Duration::minutes(7);
        }
    }

    #[test]
    fn open_windows() {
        let before = absolute(None, Some(at("2026-12-01T00:00:00Z")));
        assert!(inside(&before, "1999-05-05T05:05:00Z"));
        assert!(inside(&before, "2026-11-30T23:59:00Z"));
        assert!(!inside(&before, "2026-12-01T00:00:00Z"));
        assert!(!inside(&before, "2030-01-01T00:00:00Z"));
        let after = absolute(Some(at("2026-12-01T10:00:00Z")), None);
        assert!(!inside(&after, "2026-12-01T09:59:00Z"));
        assert!(inside(&after, "2026-12-01T10:00:00Z"));
        assert!(inside(&after, "2099-01-01T00:00:00Z"));
        assert!(absolute(
            Some(at("2026-12-01T10:00:10Z")),
            Some(at("2026-12-01T10:00:50Z"))
        )
        .is_empty());
    }

    fn window(cron: &str, hours: i64, tz: &str) -> RecurringWindow {
        RecurringWindow {
            cron: dynalert_model::CronSchedule::parse(cron).unwrap(),
            duration_secs: hours * 3600,
            timezone: tz.parse().unwrap(),
        }
    }

    /// Whether the local time `%Y-%m-%d %H:%M` lies inside one of `specs`.
    fn hit(specs: &[Spec], s: &str) -> bool {
        let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        specs.iter().any(|x| x.contains(local))
    }

    #[test]
    fn recurring_window_crossing_midnight_shifts_the_weekday() {
        // Sundays 23:00 for 2h: Sunday 23:00-24:00 and Monday 00:00-01:00.
        let specs = recurring(&window("0 23 * * sun", 2, "Asia/Taipei")).unwrap();
        let hit = |s: &str| hit(&specs, s);
        assert!(hit("2026-11-29 23:30")); // a Sunday
        assert!(hit("2026-11-30 00:30"));
        assert!(!hit("2026-11-30 01:00"));
        assert!(!hit("2026-11-29 22:59"));
        assert!(!hit("2026-11-28 23:30"));
        assert!(specs
            .iter()
            .all(|s| s.location.as_deref() == Some("Asia/Taipei")));
    }

    #[test]
    fn recurring_window_with_both_day_fields_is_a_union() {
        let specs = recurring(&window("0 2 1 * mon", 1, "UTC")).unwrap();
        let hit = |s: &str| hit(&specs, s);
        assert!(hit("2026-12-01 02:30")); // the 1st, a Tuesday
        assert!(hit("2026-11-30 02:30")); // a Monday
        assert!(!hit("2026-12-02 02:30"));
    }

    #[test]
    fn unsupported_cron_says_why() {
        assert!(recurring(&window("0 2 L * *", 1, "UTC")).is_err());
        assert!(recurring(&window("* * * * *", 1, "UTC")).is_err());
        assert!(recurring(&window("0 23 31 * *", 2, "UTC")).is_err());
    }
}
