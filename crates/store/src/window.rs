//! A monitor's windows: the periods of target data each run compares, in
//! UTC. A day; a week from Monday 00:00 to the next Monday; a calendar
//! month. Windows are half-open, `[start, end)`. A window is complete
//! `latency` hours after it ends: the allowance for data that arrives late.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// How often a monitor runs, and so how long its windows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// A UTC day.
    Day,
    /// Monday to Sunday, UTC.
    Week,
    /// A calendar month, UTC.
    Month,
}

impl std::str::FromStr for Frequency {
    type Err = String;

    /// `day`, `week` or `month`, in any case (the reference's `Day`,
    /// `Week`, `Month` too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "day" | "daily" => Ok(Frequency::Day),
            "week" | "weekly" => Ok(Frequency::Week),
            "month" | "monthly" => Ok(Frequency::Month),
            _ => Err(format!(
                "unknown frequency {s:?}: expected day, week or month"
            )),
        }
    }
}

impl std::fmt::Display for Frequency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Frequency::Day => "day",
            Frequency::Week => "week",
            Frequency::Month => "month",
        })
    }
}

/// One window, `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Window {
    /// First instant in the window.
    pub start: DateTime<Utc>,
    /// First instant after it.
    pub end: DateTime<Utc>,
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

impl Frequency {
    /// The first day of the window holding `date`.
    fn first_day(self, date: NaiveDate) -> NaiveDate {
        match self {
            Frequency::Day => date,
            Frequency::Week => {
                date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
            }
            Frequency::Month => date.with_day(1).expect("every month has a first day"),
        }
    }

    /// The first day of the window after the one starting on `first`.
    fn next_first_day(self, first: NaiveDate) -> NaiveDate {
        match self {
            Frequency::Day => first + Duration::days(1),
            Frequency::Week => first + Duration::days(7),
            Frequency::Month => {
                let (y, m) = if first.month() == 12 {
                    (first.year() + 1, 1)
                } else {
                    (first.year(), first.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1).expect("the first of a month exists")
            }
        }
    }

    /// The window holding the day `date` (the run "for" that date).
    pub fn window_of(self, date: NaiveDate) -> Window {
        let first = self.first_day(date);
        Window {
            start: midnight(first),
            end: midnight(self.next_first_day(first)),
        }
    }

    /// The window holding the instant `t`.
    pub fn window_at(self, t: DateTime<Utc>) -> Window {
        self.window_of(t.date_naive())
    }

    /// The window after `w`.
    pub fn next(self, w: &Window) -> Window {
        self.window_of(w.end.date_naive())
    }

    /// Every window holding a day from `from` to `to`, both included, in
    /// order (a backfill: one window each, however many). Empty when
    /// `from` is after `to`.
    pub fn windows(self, from: NaiveDate, to: NaiveDate) -> Vec<Window> {
        let mut out = Vec::new();
        if from > to {
            return out;
        }
        let mut w = self.window_of(from);
        let last = self.window_of(to);
        loop {
            out.push(w);
            if w == last {
                return out;
            }
            w = self.next(&w);
        }
    }
}

impl Window {
    /// When the window is complete: `latency_hours` after it ends.
    pub fn complete_at(&self, latency_hours: u32) -> DateTime<Utc> {
        self.end + Duration::hours(i64::from(latency_hours))
    }

    /// Whether the window is complete at `now`.
    pub fn is_complete(&self, latency_hours: u32, now: DateTime<Utc>) -> bool {
        now >= self.complete_at(latency_hours)
    }
}

/// The newest window of `frequency` complete at `now`.
pub fn last_complete(frequency: Frequency, latency_hours: u32, now: DateTime<Utc>) -> Window {
    let mut w = frequency.window_at(now - Duration::hours(i64::from(latency_hours)));
    // The window holding `now - latency` ends after it: not complete yet.
    // Step back once; with zero latency a window ending exactly now counts.
    while !w.is_complete(latency_hours, now) {
        w = frequency.window_at(w.start - Duration::seconds(1));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn windows_are_a_day_a_monday_week_and_a_calendar_month() {
        // 2024-02-29 was a Thursday, in a leap year.
        let d = day("2024-02-29");
        let w = Frequency::Day.window_of(d);
        assert_eq!(
            (w.start, w.end),
            (at("2024-02-29T00:00:00Z"), at("2024-03-01T00:00:00Z"))
        );
        let w = Frequency::Week.window_of(d);
        assert_eq!(
            (w.start, w.end),
            (at("2024-02-26T00:00:00Z"), at("2024-03-04T00:00:00Z"))
        );
        let w = Frequency::Month.window_of(d);
        assert_eq!(
            (w.start, w.end),
            (at("2024-02-01T00:00:00Z"), at("2024-03-01T00:00:00Z"))
        );
        // A Monday starts its own week; a Sunday ends one.
        assert_eq!(
            Frequency::Week.window_of(day("2024-03-04")).start,
            at("2024-03-04T00:00:00Z")
        );
        assert_eq!(
            Frequency::Week.window_of(day("2024-03-10")).start,
            at("2024-03-04T00:00:00Z")
        );
        // December rolls into the next year.
        let w = Frequency::Month.window_of(day("2023-12-31"));
        assert_eq!(w.end, at("2024-01-01T00:00:00Z"));
        // The last instant of a window is still in it.
        assert_eq!(
            Frequency::Day.window_at(at("2024-02-29T23:59:59Z")).start,
            at("2024-02-29T00:00:00Z")
        );
    }

    #[test]
    fn a_backfill_covers_every_window_once_in_order() {
        let weeks = Frequency::Week.windows(day("2024-01-03"), day("2024-12-30"));
        // 2024-01-03 is in the week of Monday 2024-01-01; 2024-12-30 is a Monday.
        assert_eq!(weeks.len(), 53);
        assert_eq!(weeks[0].start, at("2024-01-01T00:00:00Z"));
        assert_eq!(weeks[52].start, at("2024-12-30T00:00:00Z"));
        assert!(weeks.windows(2).all(|p| p[0].end == p[1].start));
        assert_eq!(
            Frequency::Month
                .windows(day("2023-11-15"), day("2024-02-01"))
                .len(),
            4
        );
        assert_eq!(
            Frequency::Day
                .windows(day("2024-03-01"), day("2024-03-01"))
                .len(),
            1
        );
        assert!(
            Frequency::Day
                .windows(day("2024-03-02"), day("2024-03-01"))
                .is_empty()
        );
        // No cap on the number of windows.
        assert_eq!(
            Frequency::Day
                .windows(day("2020-01-01"), day("2023-12-31"))
                .len(),
            1461
        );
    }

    #[test]
    fn a_window_is_complete_latency_hours_after_it_ends() {
        let w = Frequency::Day.window_of(day("2024-05-01"));
        assert!(!w.is_complete(6, at("2024-05-02T05:59:59Z")));
        assert!(w.is_complete(6, at("2024-05-02T06:00:00Z")));
        assert!(w.is_complete(0, at("2024-05-02T00:00:00Z")));
        // The newest complete window, for each frequency.
        let now = at("2024-05-08T03:00:00Z"); // a Wednesday
        assert_eq!(
            last_complete(Frequency::Day, 2, now).start,
            at("2024-05-07T00:00:00Z")
        );
        assert_eq!(
            last_complete(Frequency::Day, 4, now).start,
            at("2024-05-06T00:00:00Z")
        );
        assert_eq!(
            last_complete(Frequency::Week, 0, now).start,
            at("2024-04-29T00:00:00Z")
        );
        assert_eq!(
            last_complete(Frequency::Week, 72, now).start,
            at("2024-04-22T00:00:00Z")
        );
        // March ends on April 1st, complete 1000 h (41 days 16 h) later: May 12.
        assert_eq!(
            last_complete(Frequency::Month, 1000, now).start,
            at("2024-02-01T00:00:00Z")
        );
    }

    #[test]
    fn frequencies_parse_and_print() {
        for (text, f) in [
            ("Day", Frequency::Day),
            ("WEEK", Frequency::Week),
            ("month", Frequency::Month),
        ] {
            assert_eq!(text.parse::<Frequency>().unwrap(), f);
            assert_eq!(f.to_string().parse::<Frequency>().unwrap(), f);
        }
        let err = "hourly".parse::<Frequency>().unwrap_err();
        assert!(
            err.contains("hourly") && err.contains("day, week or month"),
            "{err}"
        );
    }
}
