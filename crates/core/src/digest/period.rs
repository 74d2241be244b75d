//! The period a digest covers: an ISO week or a date range, with its
//! comparison period, in the digest's time zone.

use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::DigestDoc;

/// Longest date range accepted by [`Period::range`] (about ten years).
pub const MAX_RANGE_DAYS: i64 = 3700;

/// A digest period: one ISO week (Monday to Sunday), or a range of calendar
/// days, both ends included, as dates of the digest's time zone.
///
/// The comparison period ([`Period::previous`]) of a week is the week
/// before; of a range, the same dates one year earlier ("so với cùng kỳ").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Week { year: i32, week: u32 },
    Range { from: NaiveDate, to: NaiveDate },
}

/// Why a period could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`{0}` is not an ISO week: expected YYYY-Www, e.g. 2023-W11")]
    WeekSyntax(String),
    #[error("{year} has no ISO week {week}")]
    NoSuchWeek { year: i32, week: u32 },
    #[error("`{0}` is not a date: expected YYYY-MM-DD")]
    DateSyntax(String),
    #[error("`{0}` is not a period: expected YYYY-Www or YYYY-MM-DD..YYYY-MM-DD")]
    PeriodSyntax(String),
    #[error("the range ends ({to}) before it starts ({from})")]
    EmptyRange { from: NaiveDate, to: NaiveDate },
    #[error("the range {from}..{to} is longer than {MAX_RANGE_DAYS} days")]
    RangeTooLong { from: NaiveDate, to: NaiveDate },
}

impl Period {
    /// ISO week `week` of ISO year `year` (`2020-W53` exists, `2021-W53` does not).
    pub fn iso_week(year: i32, week: u32) -> Result<Self, PeriodError> {
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
            .map(|_| Self::Week { year, week })
            .ok_or(PeriodError::NoSuchWeek { year, week })
    }

    /// Parses `YYYY-Www` (`2023-W11`; `2023-W1` and a lower-case `w` are
    /// accepted too).
    pub fn parse_week(text: &str) -> Result<Self, PeriodError> {
        let syntax = || PeriodError::WeekSyntax(text.to_owned());
        let t = text.trim();
        let (year, week) = t.split_once(['W', 'w']).ok_or_else(syntax)?;
        let year = year.strip_suffix('-').ok_or_else(syntax)?;
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(year, 4) || year.len() != 4 || !digits(week, 2) {
            return Err(syntax());
        }
        let year: i32 = year.parse().map_err(|_| syntax())?;
        let week: u32 = week.parse().map_err(|_| syntax())?;
        Self::iso_week(year, week)
    }

    /// The days `from` to `to`, both included.
    pub fn range(from: NaiveDate, to: NaiveDate) -> Result<Self, PeriodError> {
        if to < from {
            return Err(PeriodError::EmptyRange { from, to });
        }
        if (to - from).num_days() >= MAX_RANGE_DAYS {
            return Err(PeriodError::RangeTooLong { from, to });
        }
        Ok(Self::Range { from, to })
    }

    /// Parses a week (`2023-W11`) or a range (`2023-03-01..2023-03-31`, also
    /// with `/` between the dates).
    pub fn parse(text: &str) -> Result<Self, PeriodError> {
        let t = text.trim();
        if t.contains(['W', 'w']) {
            return Self::parse_week(t);
        }
        let (from, to) = t
            .split_once("..")
            .or_else(|| t.split_once('/'))
            .ok_or_else(|| PeriodError::PeriodSyntax(text.to_owned()))?;
        Self::range(parse_date(from)?, parse_date(to)?)
    }

    /// The ISO week a date falls in.
    pub fn week_of(date: NaiveDate) -> Self {
        let w = date.iso_week();
        Self::Week {
            year: w.year(),
            week: w.week(),
        }
    }

    /// The ISO week an instant falls in, in time zone `tz`.
    pub fn week_containing(instant: DateTime<Utc>, tz: Tz) -> Self {
        Self::week_of(instant.with_timezone(&tz).date_naive())
    }

    /// First day.
    pub fn from(&self) -> NaiveDate {
        match *self {
            Self::Week { year, week } => week_monday(year, week),
            Self::Range { from, .. } => from,
        }
    }

    /// Last day (included).
    pub fn to(&self) -> NaiveDate {
        match *self {
            Self::Week { .. } => self.from() + Duration::days(6),
            Self::Range { to, .. } => to,
        }
    }

    /// Number of days.
    pub fn len_days(&self) -> usize {
        usize::try_from((self.to() - self.from()).num_days() + 1).unwrap_or(0)
    }

    /// Every day of the period, in order.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let from = self.from();
        (0..self.len_days()).map(move |i| from + Duration::days(i as i64))
    }

    pub fn is_week(&self) -> bool {
        matches!(self, Self::Week { .. })
    }

    /// `2023-W11` for a week, `None` for a range.
    pub fn week_label(&self) -> Option<String> {
        match *self {
            Self::Week { year, week } => Some(format!("{year}-W{week:02}")),
            Self::Range { .. } => None,
        }
    }

    /// The comparison period: the previous ISO week for a week; for a range
    /// the same dates a year earlier (29 February becomes 28 February).
    pub fn previous(&self) -> Self {
        match *self {
            Self::Week { .. } => Self::week_of(self.from() - Duration::days(7)),
            Self::Range { from, to } => Self::Range {
                from: year_before(from),
                to: year_before(to),
            },
        }
    }

    /// The period after this one (next week; a range of the same length
    /// starting the day after).
    pub fn next(&self) -> Self {
        match *self {
            Self::Week { .. } => Self::week_of(self.to() + Duration::days(1)),
            Self::Range { from, to } => Self::Range {
                from: to + Duration::days(1),
                to: to + (to - from) + Duration::days(1),
            },
        }
    }

    pub fn contains_date(&self, date: NaiveDate) -> bool {
        self.from() <= date && date <= self.to()
    }

    /// Whether an instant falls on a day of the period in time zone `tz`.
    pub fn contains_instant(&self, instant: DateTime<Utc>, tz: Tz) -> bool {
        self.contains_date(instant.with_timezone(&tz).date_naive())
    }

    /// Whether a document belongs to the period: its `published_at`, else its
    /// `fetched_at`, is on a day of the period in time zone `tz`.
    pub fn contains(&self, doc: &DigestDoc, tz: Tz) -> bool {
        self.contains_instant(doc.instant(), tz)
    }

    /// The period as a half-open UTC window `[start, end)`: local midnight
    /// of the first day to local midnight after the last day in `tz`. An
    /// instant is in the window exactly when [`Period::contains_instant`]
    /// holds, so a caller can pre-filter stored documents with it (on
    /// `COALESCE(published_at, fetched_at)`).
    pub fn utc_bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            local_midnight(self.from(), tz),
            local_midnight(self.to() + Duration::days(1), tz),
        )
    }
}

impl Period {
    /// The UTC instants at which each day of the period starts in `tz`, and
    /// the end of the last day: `len_days() + 1` increasing instants.
    /// Instant `t` is on day `k` when `bounds[k] <= t < bounds[k + 1]`.
    pub fn day_bounds(&self, tz: Tz) -> Vec<DateTime<Utc>> {
        let from = self.from();
        (0..=self.len_days())
            .map(|k| local_midnight(from + Duration::days(k as i64), tz))
            .collect()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Week { year, week } => write!(f, "{year}-W{week:02}"),
            Self::Range { from, to } => write!(f, "{from}..{to}"),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, PeriodError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| PeriodError::DateSyntax(text.trim().to_owned()))
}

/// Monday of an ISO week that [`Period::iso_week`] accepted.
fn week_monday(year: i32, week: u32) -> NaiveDate {
    NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
        .or_else(|| NaiveDate::from_isoywd_opt(year, 1, Weekday::Mon))
        .unwrap_or_default()
}

fn year_before(date: NaiveDate) -> NaiveDate {
    date.checked_sub_months(Months::new(12)).unwrap_or(date)
}

/// The first instant of `date` in `tz`: midnight, or where midnight falls in
/// a daylight-saving gap, the first local time that exists after it; of an
/// ambiguous midnight, the earlier.
pub(crate) fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight: NaiveDateTime = date.and_time(chrono::NaiveTime::MIN);
    for minutes in (0..=24 * 60).step_by(15) {
        match tz.from_local_datetime(&(midnight + Duration::minutes(minutes))) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, _) => return a.with_timezone(&Utc),
            LocalResult::None => {}
        }
    }
    // No valid local time in a whole day cannot happen with real zones.
    Utc.from_utc_datetime(&midnight)
}
