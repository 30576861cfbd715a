//! Input rules shared by the use-cases.
//!
//! ```
//! use rbac_core::service::validate;
//!
//! assert!(validate::name("name", "house").is_ok());
//! assert!(validate::name("name", "").is_err());
//! assert!(validate::email("email", "house@example.com").is_ok());
//! assert!(validate::email("email", "house").is_err());
//! ```

use crate::authn::password::MAX_PASSWORD_BYTES;
use crate::error::{Error, Result};

/// Longest user or role name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Longest free-text field (alias, remark, phone), in characters.
pub const MAX_TEXT_CHARS: usize = 255;

/// A user or role name: 1–64 letters, digits, `_`, `-`, `.`, `@`.
pub fn name(field: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(
            field,
            format!("longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@')))
    {
        return Err(Error::invalid(
            field,
            format!("character {c:?} is not allowed"),
        ));
    }
    if crate::identity::mixes_confusable_scripts(value) {
        return Err(Error::invalid(
            field,
            "mixes scripts within a word in a way that imitates another name",
        ));
    }
    Ok(())
}

/// A free-text field: at most 255 characters, no control characters.
pub fn text(field: &'static str, value: &str) -> Result<()> {
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::invalid(
            field,
            format!("longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(field, "control characters are not allowed"));
    }
    Ok(())
}

/// A password: not empty, at most 1024 bytes.
pub fn password(field: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.len() > MAX_PASSWORD_BYTES {
        return Err(Error::invalid(field, "too long"));
    }
    Ok(())
}

/// An e-mail address: `local@domain.tld`, at most 100 characters, no spaces.
pub fn email(field: &'static str, value: &str) -> Result<()> {
    let bad = || Error::invalid(field, "not a valid e-mail address");
    if value.chars().count() > 100 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name("n", "lory.Lee-2_x@y").is_ok());
        assert!(name("n", "李彬").is_ok());
        assert!(name("n", "").is_err());
        assert!(name("n", &"a".repeat(64)).is_ok());
        assert!(name("n", &"a".repeat(65)).is_err());
        assert!(name("n", "a'; drop table x;--").is_err());
        assert!(name("n", "\"}").is_err());
        assert!(name("n", "a b").is_err());
        assert!(name("n", "\u{430}dmin").is_err(), "Cyrillic а among Latin");
        assert!(
            name("n", "ａｄｍｉｎ").is_ok(),
            "full width: one script (and the key admin)"
        );
    }

    #[test]
    fn emails() {
        assert!(email("e", "civet148@126.com").is_ok());
        for bad in [
            "", "a", "a@b", "@b.c", "a@@b.c", "a@b..c", "a b@c.d", "a@.b",
        ] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }
}
