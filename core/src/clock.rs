//! Wall-clock time as the ledger records it: UTC, microseconds, fixed width.
//!
//! Every timestamp is formatted as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so that comparing
//! two timestamps as text compares them as times; the ledger relies on that to refuse
//! an append whose clock is earlier than the last entry.
//!
//! What people read as a document (certificate PDFs, register CSVs) and the dates they
//! type (`--from 2026-04-01`, `--return-by 2026-12-05`) are in the station's local time
//! zone: the system's, or the `TZ` environment variable. An office in Japan sees the
//! erasure done at 08:30 on 23 November as 令和8年11月23日, not as the 22nd (23:30 UTC).

use chrono::{DateTime, Duration, FixedOffset, Local, NaiveDate, SecondsFormat, TimeZone, Utc};

use crate::error::{Error, Field, Result, Rule};

/// The current UTC time.
///
/// Debug builds (the ones end-to-end tests run) honour `CUSTODY_TEST_NOW` (an RFC 3339
/// time) so that tests can exercise a clock that runs backwards; release builds never
/// read it.
pub fn now() -> DateTime<Utc> {
    #[cfg(debug_assertions)]
    if let Ok(text) = std::env::var("CUSTODY_TEST_NOW")
        && let Ok(at) = DateTime::parse_from_rfc3339(&text)
    {
        return at.with_timezone(&Utc);
    }
    Utc::now()
}

/// A moment in time, as every record holds it: kept in UTC, written to the ledger and
/// to `--json` output in the ledger's fixed-width form, and shown to people in the
/// station's local time zone. This is the one place times are formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The current time (see [`now`]).
    pub fn now() -> Timestamp {
        Timestamp(now())
    }

    /// Parses a ledger timestamp or any RFC 3339 time.
    pub fn parse(text: &str) -> Result<Timestamp> {
        parse_stamp(text).map(Timestamp)
    }

    /// The UTC time.
    pub fn utc(self) -> DateTime<Utc> {
        self.0
    }

    /// The form the ledger stores: `2026-04-01T09:30:00.000000Z`.
    pub fn ledger(self) -> String {
        stamp(self.0)
    }

    /// The time in the station's local time zone.
    pub fn local(self) -> DateTime<FixedOffset> {
        local(self.0)
    }

    /// The local calendar day.
    pub fn local_date(self) -> NaiveDate {
        self.local().date_naive()
    }

    /// Local time to the minute, for tables: `2026-04-01 18:30`.
    pub fn local_minute(self) -> String {
        self.local().format("%Y-%m-%d %H:%M").to_string()
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Timestamp {
        Timestamp(at)
    }
}

/// People read local time to the second: `2026-04-01 18:30:00`.
impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.local().format("%Y-%m-%d %H:%M:%S"))
    }
}

/// Machines read the ledger's own form, so `--json` output is what the ledger holds.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.ledger())
    }
}

/// Formats a time the way the ledger stores it.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a ledger timestamp or any RFC 3339 time.
pub fn parse_stamp(text: &str) -> Result<DateTime<Utc>> {
    // chrono's parse error says less than the example in the message does.
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| Error::BadValue {
            field: Field::Time,
            value: text.to_owned(),
            rule: Rule::Like("2026-04-01T09:30:00Z"),
        })
}

/// Parses a calendar date `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate> {
    // chrono's parse error says less than the example in the message does.
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| Error::BadValue {
        field: Field::Date,
        value: text.to_owned(),
        rule: Rule::Like("2026-04-01"),
    })
}

/// Today's date in the station's local time zone: the day retention periods are
/// counted from and compared with. (The UTC date is a day behind in Japan until 09:00,
/// so a record made then would have fallen due a day early.)
pub fn today() -> NaiveDate {
    local(now()).date_naive()
}

/// A time in the station's local time zone, for documents people read.
pub fn local(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&Local).fixed_offset()
}

/// A ledger timestamp (or any RFC 3339 time) formatted with `format` in the station's
/// local time zone; `None` when `text` is not a time.
pub fn format_local(text: &str, format: &str) -> Option<String> {
    parse_stamp(text)
        .ok()
        .map(|at| local(at).format(format).to_string())
}

/// The start of `date` in the station's local time zone. (Where a clock change skips
/// midnight, the earliest time of that day.)
pub fn start_of_local_day(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists on every date");
    match Local.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(at) | chrono::LocalResult::Ambiguous(at, _) => {
            at.with_timezone(&Utc)
        }
        // Midnight skipped by a clock change: an hour later exists.
        chrono::LocalResult::None => Local
            .from_local_datetime(&(midnight + Duration::hours(1)))
            .earliest()
            .map_or_else(|| midnight.and_utc(), |at| at.with_timezone(&Utc)),
    }
}

/// Parses either a date (taken as the start of that day, local time) or a full time.
///
/// A time may carry its offset (`2026-04-01T09:30:00Z`, `2026-04-01T17:00+09:00`) or not
/// (`2026-04-01 17:00`, local time); seconds are optional.
pub fn parse_date_or_time(text: &str) -> Result<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(date) = parse_date(text) {
        return Ok(start_of_local_day(date));
    }
    if let Ok(at) = parse_stamp(text) {
        return Ok(at);
    }
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%d %H:%M%:z"] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Ok(at.with_timezone(&Utc));
        }
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(text, format)
            && let Some(at) = Local.from_local_datetime(&naive).earliest()
        {
            return Ok(at.with_timezone(&Utc));
        }
    }
    Err(Error::BadValue {
        field: Field::Time,
        value: text.to_owned(),
        rule: Rule::Like(
            "2026-04-01 (a date), 2026-04-01 17:00 (local time) or 2026-04-01T08:00:00Z",
        ),
    })
}

/// Parses a deadline: a date means the end of that day, local time (the start of the
/// next); a full time means itself.
pub fn parse_deadline(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(date) = parse_date(text) {
        return Ok(start_of_local_day(date + Duration::days(1)));
    }
    parse_date_or_time(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_sort_as_text_like_times() {
        let a = parse_stamp("2026-01-02T03:04:05.000001Z").unwrap();
        let b = parse_stamp("2026-01-02T03:04:05.1Z").unwrap();
        assert!(a < b);
        assert!(stamp(a) < stamp(b));
        assert_eq!(stamp(a).len(), stamp(b).len());
    }

    #[test]
    fn dates_are_local_days_and_times_are_themselves() {
        let midnight = |y, m, d| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
        };
        // Whatever this machine's time zone: a date starts at its local midnight, and a
        // deadline date ends at the next one.
        let from = parse_date_or_time("2026-04-01").unwrap();
        assert_eq!(local(from).naive_local(), midnight(2026, 4, 1));
        let until = parse_deadline("2026-04-01").unwrap();
        assert_eq!(local(until).naive_local(), midnight(2026, 4, 2));
        let exact = parse_stamp("2026-04-01T09:30:00Z").unwrap();
        assert_eq!(parse_date_or_time("2026-04-01T09:30:00Z").unwrap(), exact);
        assert_eq!(parse_deadline("2026-04-01T09:30:00Z").unwrap(), exact);
        assert!(parse_date_or_time("April 1st").is_err());
        // Offsets given are honoured; times without one are local.
        assert_eq!(
            parse_date_or_time("2026-12-01T17:00+09:00").unwrap(),
            parse_stamp("2026-12-01T08:00:00Z").unwrap()
        );
        let local_five = parse_date_or_time("2026-12-01 17:00").unwrap();
        assert_eq!(
            local(local_five).naive_local(),
            NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_opt(17, 0, 0)
                .unwrap()
        );
        assert_eq!(parse_date_or_time("2026-12-01T17:00").unwrap(), local_five);
        assert_eq!(parse_deadline("2026-12-01 17:00:00").unwrap(), local_five);
        assert!(parse_deadline("tomorrow").is_err());
    }
}
