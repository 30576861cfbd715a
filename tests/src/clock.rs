//! Time: now, and RFC 3339 strings.

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    ::time::OffsetDateTime::now_utc().unix_timestamp()
}

/// "YYYY-MM-DD HH:MM:SS" in UTC for now + `offset_secs`.
pub fn utc_string(offset_secs: i64) -> String {
    let t = ::time::OffsetDateTime::now_utc() + ::time::Duration::seconds(offset_secs);
    let fmt = ::time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.format(&fmt).expect("formattable time")
}

/// Whether `s` looks like "YYYY-MM-DD HH:MM:SS".
pub fn is_datetime(s: &str) -> bool {
    let fmt = ::time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    s.len() == 19 && ::time::PrimitiveDateTime::parse(s, &fmt).is_ok()
}

/// Parse "YYYY-MM-DD HH:MM:SS" (UTC) to unix seconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let fmt = ::time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    ::time::PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}
