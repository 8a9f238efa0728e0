//! Dates for the git source: parsing `--since` and printing author dates as RFC 3339.
//!
//! Hand-rolled on purpose: the only calendar arithmetic needed is the proleptic Gregorian
//! day count (Howard Hinnant's `days_from_civil`), which does not justify a date crate.

/// Seconds since the Unix epoch for a `--since` value: `YYYY-MM-DD` (midnight UTC),
/// `YYYY-MM-DD HH:MM[:SS]` / `YYYY-MM-DDTHH:MM[:SS]` (UTC) or full RFC 3339 with an offset.
pub fn parse_since(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = num(&s[0..4])?;
    let month = num(&s[5..7])?;
    let day = num(&s[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .or_else(|| rest.strip_prefix(' '))?;
    if rest.len() < 5 || rest.as_bytes()[2] != b':' {
        return None;
    }
    let (hour, minute) = (num(&rest[0..2])?, num(&rest[3..5])?);
    let mut rest = &rest[5..];
    let mut second = 0;
    if let Some(r) = rest.strip_prefix(':') {
        second = num(r.get(0..2)?)?;
        rest = &r[2..];
        // Fractions of a second do not matter for a commit-date cutoff.
        if let Some(r) = rest.strip_prefix('.') {
            rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    secs += hour * 3600 + minute * 60 + second;
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let r = &rest[1..];
            let (h, m) = match r.len() {
                5 if r.as_bytes()[2] == b':' => (num(&r[0..2])?, num(&r[3..5])?),
                4 => (num(&r[0..2])?, num(&r[2..4])?),
                2 => (num(r)?, 0),
                _ => return None,
            };
            sign * (h * 3600 + m * 60)
        }
    };
    Some(secs - offset)
}

/// `seconds` since the epoch shown in the author's own offset, e.g. `2024-03-01T12:00:00+01:00`.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let days = local.div_euclid(86_400);
    let tod = local.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60,
        off / 60,
        off % 60
    )
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_table() {
        for (input, want) in [
            ("1970-01-01", Some(0)),
            ("2024-02-29", Some(1_709_164_800)),
            ("2024-02-29T01:02:03Z", Some(1_709_168_523)),
            ("2024-02-29 01:02", Some(1_709_168_520)),
            ("2024-02-29T01:02:03.250+01:00", Some(1_709_168_523 - 3600)),
            ("2024-02-29T01:02:03-0130", Some(1_709_168_523 + 5400)),
            ("2023-02-29", None),
            ("2024-13-01", None),
            ("yesterday", None),
            ("2024-01-01T25:00", None),
            ("2024-01-01T10:00+x", None),
        ] {
            assert_eq!(parse_since(input), want, "{input}");
        }
    }

    #[test]
    fn rfc3339_table() {
        for (secs, off, want) in [
            (0, 0, "1970-01-01T00:00:00+00:00"),
            (1_709_168_523, 60, "2024-02-29T02:02:03+01:00"),
            (1_709_168_523, -330, "2024-02-28T19:32:03-05:30"),
            (-1, 0, "1969-12-31T23:59:59+00:00"),
        ] {
            assert_eq!(rfc3339(secs, off), want, "{secs} {off}");
        }
    }

    #[test]
    fn round_trip_days() {
        for d in [-800_000, -1, 0, 1, 59, 365, 11_016, 19_782, 2_000_000] {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
    }
}
