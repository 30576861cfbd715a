//! Times as the surfaces write and read them.

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn datetime(ts: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// RFC 3339 in UTC (`2020-09-23T07:33:14Z`).
pub fn rfc3339(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Parses `YYYY-MM-DD HH:MM:SS` (UTC) or a bare `YYYY-MM-DD`.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let full = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let date = time::macros::format_description!("[year]-[month]-[day]");
    let s = s.trim();
    if let Ok(t) = time::PrimitiveDateTime::parse(s, &full) {
        return Some(t.assume_utc().unix_timestamp());
    }
    time::Date::parse(s, &date)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_round_trip() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(
            parse_datetime("2021-10-11 03:22:33")
                .map(datetime)
                .as_deref(),
            Some("2021-10-11 03:22:33")
        );
        assert_eq!(
            parse_datetime("2021-10-11"),
            parse_datetime("2021-10-11 00:00:00")
        );
        assert_eq!(parse_datetime("nope"), None);
    }
}
