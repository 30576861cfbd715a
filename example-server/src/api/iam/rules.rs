//! The field rules of the IAM user resource (seed 004).

use rbac_core::service::validate;
use rbac_core::{Error, Result};

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`, at most 63 characters.
pub fn name(value: &str) -> Result<()> {
    let bytes = value.as_bytes();
    let alnum = |b: &u8| b.is_ascii_alphanumeric();
    let ok = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "metadata.name",
            "must be 1-63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        ))
    }
}

/// 1–30 characters.
pub fn nickname(value: &str) -> Result<()> {
    let n = value.chars().count();
    if (1..=30).contains(&n) && !value.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(Error::invalid("nickname", "must be 1-30 characters"))
    }
}

/// Required, a valid address, at most 100 characters.
pub fn email(value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid("email", "is required"));
    }
    validate::email("email", value)
}

/// 8–16 characters with a lower-case letter, an upper-case letter, a digit and a symbol.
pub fn password(field: &'static str, value: &str) -> Result<()> {
    let n = value.chars().count();
    let lower = value.chars().any(|c| c.is_ascii_lowercase());
    let upper = value.chars().any(|c| c.is_ascii_uppercase());
    let digit = value.chars().any(|c| c.is_ascii_digit());
    let symbol = value
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control());
    if (8..=16).contains(&n) && lower && upper && digit && symbol {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "must be 8-16 characters with a lower-case letter, an upper-case letter, a digit and a symbol",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(name("foo").is_ok());
        assert!(name("a").is_ok());
        assert!(name("a.b-c_d").is_ok());
        assert!(name("-a").is_err());
        assert!(name("a-").is_err());
        assert!(name(&"a".repeat(63)).is_ok());
        assert!(name(&"a".repeat(64)).is_err());
        assert!(password("p", "Foo@2020").is_ok());
        assert!(password("p", "Foo@202").is_err());
        assert!(password("p", "Foo@20201234567890").is_err());
        assert!(password("p", "foo@2020").is_err());
        assert!(password("p", "Foo12020").is_err());
        assert!(nickname("foo").is_ok());
        assert!(nickname("").is_err());
        assert!(email("foo@foxmail.com").is_ok());
        assert!(email("").is_err());
    }
}
