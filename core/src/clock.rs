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

    /// A deadline as people read it. A deadline given as a date is kept as the end
    /// of that local day (the next day's midnight) and reads as that day,
    /// `2026-12-05`, never as `2026-12-06 00:00`; any other reads as its local minute.
    pub fn deadline(self) -> String {
        let local = self.local();
        if local.time() == chrono::NaiveTime::MIN {
            (local.date_naive() - Duration::days(1))
                .format("%Y-%m-%d")
                .to_string()
        } else {
            self.local_minute()
        }
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Timestamp {
        Timestamp(at)
    }
}

/// People read local time to the minute: `2026-04-01 18:30`.
impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.local_minute())
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

/// How a date may be written, for messages.
const DATE_FORMS: &str = "2026-12-01, 2026/12/01, 2026年12月1日, 令和8年12月1日 or R8.12.1";

/// Parses a calendar date the ways people in a Japanese office write one:
/// `2026-12-01`, `2026/12/1`, `2026.12.1`, `2026年12月1日`, and in the Japanese era
/// calendar `令和8年12月1日`, `令和元年5月1日`, `R8.12.1`, `R8/12/1` (Heisei too:
/// `平成31年4月30日`, `H31.4.30`). Full-width digits are read like ASCII ones. A date
/// outside its era (令和1年1月1日) is refused.
pub fn parse_date(text: &str) -> Result<NaiveDate> {
    let bad = || Error::BadValue {
        field: Field::Date,
        value: text.to_owned(),
        rule: Rule::Like(DATE_FORMS),
    };
    let normal: String = text
        .trim()
        .chars()
        // Full-width letters, digits and signs (typed with a Japanese input method)
        // read as their ASCII forms.
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect();
    let (era, rest) = era_of(&normal);
    let rest = rest.replacen("元年", "1年", 1);
    // Year, month and day as three numbers between separators of one kind.
    let parts: Vec<&str> = if rest.contains('年') {
        let Some(body) = rest.strip_suffix('日') else {
            return Err(bad());
        };
        body.split(['年', '月']).collect()
    } else {
        let separator = ['-', '/', '.']
            .into_iter()
            .find(|s| rest.contains(*s))
            .ok_or_else(bad)?;
        rest.split(separator).collect()
    };
    let [year, month, day] = parts[..] else {
        return Err(bad());
    };
    let number = |p: &str| -> Result<u32> {
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse().map_err(|_| bad())
    };
    let (year, month, day) = (number(year)?, number(month)?, number(day)?);
    let year = match era {
        Some(Era::Reiwa) if year <= 99 => 2018 + year,
        Some(Era::Heisei) if year <= 31 => 1988 + year,
        None if (1900..=2999).contains(&year) => year,
        _ => return Err(bad()),
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).map_err(|_| bad())?, month, day)
        .ok_or_else(bad)?;
    let reiwa = NaiveDate::from_ymd_opt(2019, 5, 1).expect("a real date");
    let heisei = NaiveDate::from_ymd_opt(1989, 1, 8).expect("a real date");
    let fits = match era {
        Some(Era::Reiwa) => date >= reiwa,
        Some(Era::Heisei) => date >= heisei && date < reiwa,
        None => true,
    };
    if !fits {
        return Err(bad());
    }
    Ok(date)
}

/// A Japanese era a date may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Era {
    Reiwa,
    Heisei,
}

/// The era a date is written in, and the rest of the text.
fn era_of(text: &str) -> (Option<Era>, &str) {
    for (prefix, era) in [
        ("令和", Era::Reiwa),
        ("平成", Era::Heisei),
        ("R", Era::Reiwa),
        ("r", Era::Reiwa),
        ("H", Era::Heisei),
        ("h", Era::Heisei),
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return (Some(era), rest);
        }
    }
    (None, text)
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
/// (`2026-04-01 17:00`, `2026/4/1 17:00`, `令和8年4月1日 17:00`: local time); seconds
/// are optional. The date is written any way [`parse_date`] reads.
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
    // A date as people write it, then a local time of day.
    let split = text.rfind([' ', 'T', '\u{3000}']).map(|i| {
        (
            &text[..i],
            text[i..].trim_start_matches([' ', 'T', '\u{3000}']),
        )
    });
    if let Some((date, time)) = split
        && let Ok(date) = parse_date(date.trim())
    {
        for format in ["%H:%M:%S", "%H:%M"] {
            if let Ok(time) = chrono::NaiveTime::parse_from_str(time, format)
                && let Some(at) = Local.from_local_datetime(&date.and_time(time)).earliest()
            {
                return Ok(at.with_timezone(&Utc));
            }
        }
    }
    Err(Error::BadValue {
        field: Field::Time,
        value: text.to_owned(),
        rule: Rule::Like(
            "2026-04-01 or 2026/4/1 or 令和8年4月1日 (a date), 2026/4/1 17:00 (local time) or 2026-04-01T08:00:00Z",
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
        assert_eq!(parse_date_or_time("2026/12/1 17:00").unwrap(), local_five);
        assert_eq!(
            parse_date_or_time("令和8年12月1日 17:00").unwrap(),
            local_five
        );
    }

    #[test]
    fn dates_are_read_the_ways_people_write_them() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        for text in [
            "2026-12-01",
            "2026/12/01",
            "2026/12/1",
            "2026.12.1",
            " 2026-12-1 ",
            "2026年12月1日",
            "令和8年12月1日",
            "令和08年12月01日",
            "R8.12.1",
            "R8/12/1",
            "r8.12.1",
            "Ｒ８．１２．１",
            "２０２６／１２／１",
        ] {
            assert_eq!(parse_date(text).unwrap(), day, "{text}");
        }
        assert_eq!(
            parse_date("令和元年5月1日").unwrap(),
            NaiveDate::from_ymd_opt(2019, 5, 1).unwrap()
        );
        assert_eq!(
            parse_date("H31.4.30").unwrap(),
            NaiveDate::from_ymd_opt(2019, 4, 30).unwrap()
        );
        assert_eq!(
            parse_date("平成元年1月8日").unwrap(),
            NaiveDate::from_ymd_opt(1989, 1, 8).unwrap()
        );
        for text in [
            "",
            "2026-13-01",
            "2026/2/30",
            "2026-12",
            "2026-12-01-02",
            "26/12/1",
            "2026/12-1",
            "令和8年12月1",
            "令和1年4月30日",
            "平成31年5月1日",
            "R0.12.1",
            "S60.1.1",
            "2026年12月1日 17:00",
            "12/1/2026",
            "R8.12.1x",
            "令和2026年12月1日",
            "H32.1.1",
            "0026-12-01",
        ] {
            assert!(parse_date(text).is_err(), "{text}");
        }
        let err = parse_date("2026-13-01").unwrap_err().to_string();
        assert!(err.contains("令和8年12月1日"), "{err}");
    }

    #[test]
    fn a_date_deadline_reads_as_its_day() {
        let until = Timestamp::from(parse_deadline("2026/12/5").unwrap());
        assert_eq!(until.deadline(), "2026-12-05");
        let at = Timestamp::from(parse_deadline("2026/12/5 17:00").unwrap());
        assert_eq!(at.deadline(), "2026-12-05 17:00");
        assert_eq!(at.to_string(), "2026-12-05 17:00");
    }
}
