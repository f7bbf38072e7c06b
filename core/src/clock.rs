//! Wall-clock time as the ledger records it: UTC, microseconds, fixed width.
//!
//! Every timestamp is formatted as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so that comparing
//! two timestamps as text compares them as times; the ledger relies on that to refuse
//! an append whose clock is earlier than the last entry.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::error::{Error, Result};

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

/// Formats a time the way the ledger stores it.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a ledger timestamp or any RFC 3339 time.
pub fn parse_stamp(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| Error::Invalid(format!("{text:?} is not a time like 2026-04-01T09:30:00Z")))
}

/// Parses a calendar date `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Error::Invalid(format!("{text:?} is not a date like 2026-04-01")))
}

/// Parses either a date (taken as the start of that day, UTC) or a full time.
pub fn parse_date_or_time(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(date) = parse_date(text) {
        return Ok(date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists on every date")
            .and_utc());
    }
    parse_stamp(text).map_err(|_| {
        Error::Invalid(format!(
            "{text:?} is neither a date like 2026-04-01 nor a time like 2026-04-01T09:30:00Z"
        ))
    })
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
    fn dates_and_times_parse() {
        assert_eq!(
            stamp(parse_date_or_time("2026-04-01").unwrap()),
            "2026-04-01T00:00:00.000000Z"
        );
        assert!(parse_date_or_time("April 1st").is_err());
    }
}
