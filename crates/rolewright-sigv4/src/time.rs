//! Time stamps as SigV4 writes them (`YYYYMMDDTHHMMSSZ`) and as HTTP `Date` headers do, converted
//! to and from Unix seconds without a time crate.
//!
//! The calendar is the proleptic Gregorian one in UTC; leap seconds do not exist here, as in Unix
//! time.

const SECS_PER_DAY: i64 = 86_400;
/// Days in one 400-year Gregorian cycle, after which the calendar repeats exactly.
const DAYS_PER_ERA: i64 = 146_097;
/// Days from 0000-03-01 to 1970-01-01; counting years from March puts the leap day last.
const EPOCH_SHIFT: i64 = 719_468;

const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats Unix seconds as SigV4's time stamp, `YYYYMMDDTHHMMSSZ` (UTC).
///
/// Years 0000–9999 give the 16-character form that [`parse_amz_date`] reads back; other years
/// are written with more digits (or a sign) and do not round-trip.
///
/// ```
/// assert_eq!(rolewright_sigv4::format_amz_date(0), "19700101T000000Z");
/// assert_eq!(rolewright_sigv4::format_amz_date(1_798_000_675), "20261223T043755Z");
/// ```
pub fn format_amz_date(unix: i64) -> String {
    let days = unix.div_euclid(SECS_PER_DAY);
    let secs = unix.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Parses SigV4's `YYYYMMDDTHHMMSSZ` time stamp into Unix seconds.
///
/// Returns `None` unless the text is exactly that shape and names a real instant (month 1–12, a
/// day that exists in that month, hour < 24, minute and second < 60).
///
/// ```
/// assert_eq!(rolewright_sigv4::parse_amz_date("19700101T000000Z"), Some(0));
/// assert_eq!(rolewright_sigv4::parse_amz_date("20230229T000000Z"), None);
/// ```
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let year = digits(b.get(0..4)?)?;
    let month = digits(b.get(4..6)?)?;
    let day = digits(b.get(6..8)?)?;
    let hour = digits(b.get(9..11)?)?;
    let minute = digits(b.get(11..13)?)?;
    let second = digits(b.get(13..15)?)?;
    to_unix(year, month, day, hour, minute, second)
}

/// Parses an HTTP `Date` header: the IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`) or,
/// as some clients send there, SigV4's own `YYYYMMDDTHHMMSSZ`.
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(unix) = parse_amz_date(s) {
        return Some(unix);
    }
    let mut parts = s.split_ascii_whitespace();
    let weekday = parts.next()?;
    // The weekday is redundant with the date; only its shape is checked.
    if !weekday.ends_with(',') {
        return None;
    }
    let day = parts.next()?;
    if day.len() != 2 {
        return None;
    }
    let day = digits(day.as_bytes())?;
    let month_name = parts.next()?;
    let month = MONTH_NAMES.iter().position(|m| *m == month_name)?;
    let month = i64::try_from(month).ok()? + 1;
    let year = parts.next()?;
    if year.len() != 4 {
        return None;
    }
    let year = digits(year.as_bytes())?;
    let clock = parts.next()?.as_bytes();
    if clock.len() != 8 || clock.get(2) != Some(&b':') || clock.get(5) != Some(&b':') {
        return None;
    }
    let hour = digits(clock.get(0..2)?)?;
    let minute = digits(clock.get(3..5)?)?;
    let second = digits(clock.get(6..8)?)?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    to_unix(year, month, day, hour, minute, second)
}

/// Whether `year` has a 29th of February.
fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Unix seconds of a validated civil date and time, or `None` if any field is out of range.
fn to_unix(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> Option<i64> {
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..60).contains(&second);
    valid.then(|| {
        days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600 + minute * 60 + second
    })
}

/// The value of a run of ASCII digits; `None` if empty or any byte is not a digit.
fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 18 {
        return None;
    }
    bytes.iter().try_fold(0_i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// Days since 1970-01-01 of a (valid) proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Years are counted from March so that February, with its leap day, ends the year and the
    // month lengths before it follow a fixed pattern.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT
}

/// The proleptic Gregorian date (year, month 1–12, day 1–31) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // `days` comes from dividing an i64 by 86 400, so this cannot overflow.
    let shifted = days + EPOCH_SHIFT;
    let era = shifted.div_euclid(DAYS_PER_ERA);
    let day_of_era = shifted - era * DAYS_PER_ERA;
    // Undo the leap-day corrections (every 4, 100 and 400 years) to find the year in the era.
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_amz_date(0), "19700101T000000Z");
        assert_eq!(format_amz_date(-1), "19691231T235959Z");
        assert_eq!(format_amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(format_amz_date(1_709_164_800), "20240229T000000Z");
        assert_eq!(format_amz_date(1_643_242_467), "20220127T001427Z");
        assert_eq!(format_amz_date(253_402_300_799), "99991231T235959Z");
        assert_eq!(format_amz_date(-62_167_219_200), "00000101T000000Z");
    }

    #[test]
    fn parses_known_instants() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20220127T001427Z"), Some(1_643_242_467));
        assert_eq!(parse_amz_date("20000229T000000Z"), Some(951_782_400));
        assert_eq!(parse_amz_date("00000101T000000Z"), Some(-62_167_219_200));
    }

    #[test]
    fn leap_days_exist_only_in_leap_years() {
        assert!(parse_amz_date("20240229T120000Z").is_some());
        assert!(
            parse_amz_date("20000229T120000Z").is_some(),
            "divisible by 400"
        );
        assert!(
            parse_amz_date("19000229T120000Z").is_none(),
            "divisible by 100 only"
        );
        assert!(parse_amz_date("20230229T120000Z").is_none());
        assert!(parse_amz_date("21000229T120000Z").is_none());
        assert!(parse_amz_date("20240230T120000Z").is_none());
        assert_eq!(
            parse_amz_date("20240301T000000Z").map(|t| t - 86_400),
            parse_amz_date("20240229T000000Z")
        );
        assert_eq!(
            parse_amz_date("20230301T000000Z").map(|t| t - 86_400),
            parse_amz_date("20230228T000000Z")
        );
    }

    #[test]
    fn rejects_malformed_stamps() {
        for bad in [
            "",
            "20220127",
            "20220127T001427",
            "20220127T001427z",
            "20220127 001427Z",
            "2022012TT001427Z",
            "20221327T001427Z",
            "20220027T001427Z",
            "20220100T001427Z",
            "20220131T241427Z",
            "20220131T006027Z",
            "20220131T001460Z",
            "+0220131T001427Z",
            "2022-01-27T00:14:27Z",
            "20220127T001427ZZ",
            "２0220127T001427Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        // 1900..2300 covers every leap-year rule, both sides of the epoch.
        let start = parse_amz_date("19000101T000000Z").unwrap_or_default();
        let end = parse_amz_date("23000101T000000Z").unwrap_or_default();
        let mut t = start;
        let mut previous_day = None;
        while t < end {
            let text = format_amz_date(t);
            assert_eq!(parse_amz_date(&text), Some(t), "{text}");
            let day = text.get(..8).map(str::to_owned);
            assert_ne!(day, previous_day, "two days formatted the same at {t}");
            previous_day = day;
            t += SECS_PER_DAY;
        }
        assert_eq!(t, end);
    }

    #[test]
    fn odd_times_round_trip() {
        for t in [1, 59, 3599, 86_399, 1_798_000_675, -86_401, 4_102_444_799] {
            assert_eq!(parse_amz_date(&format_amz_date(t)), Some(t), "{t}");
        }
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        for t in [i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1] {
            assert!(!format_amz_date(t).is_empty());
        }
    }

    #[test]
    fn parses_http_dates() {
        assert_eq!(
            parse_http_date("Thu, 27 Jan 2022 00:14:27 GMT"),
            Some(1_643_242_467)
        );
        assert_eq!(parse_http_date("20220127T001427Z"), Some(1_643_242_467));
        for bad in [
            "Thu 27 Jan 2022 00:14:27 GMT",
            "Thu, 27 Jan 2022 00:14:27 UTC",
            "Thu, 27 Foo 2022 00:14:27 GMT",
            "Thu, 7 Jan 2022 00:14:27 GMT",
            "Thu, 27 Jan 2022 00:14 GMT",
            "Thu, 27 Jan 2022 00:14:27 GMT extra",
            "Thu, 30 Feb 2022 00:14:27 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }
}
