//! The audit trail: the operation log's queries, each seeing only what its reader may
//! (`rbac.audit()`), and the security events for the built-in admin.

use crate::model::{Page, Timestamp};

pub(crate) mod denials;
pub(crate) mod facet;
pub(crate) mod port;

/// Renders text an attacker may have written (a failed login's name, an audited target) as
/// data: control characters, bidirectional-text controls and invisible characters (zero
/// widths U+200B–U+200D, the word joiner and invisible operators U+2060–U+2064, U+FEFF, the
/// soft hyphen, U+180E) become `\u{…}`, so a log reader sees what was sent instead of a
/// reordered, broken or secretly different line.
pub fn as_data(text: &str) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{00ad}'
                    | '\u{061c}'
                    | '\u{180e}'
                    | '\u{200b}'..='\u{200f}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{feff}'
            )
    };
    if !text.chars().any(hidden) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// What a caller asks of the operation log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this user's entries.
    pub user_name: Option<String>,
    /// Only this category (0 or `None`: all).
    pub category: Option<i32>,
    /// From this time.
    pub from: Option<Timestamp>,
    /// Until this time.
    pub to: Option<Timestamp>,
    /// Which rows.
    pub page: Page,
}

#[cfg(test)]
mod tests {
    use super::as_data;

    #[test]
    fn untrusted_text_is_rendered_as_data() {
        assert_eq!(as_data("login failed: eve"), "login failed: eve");
        assert_eq!(
            as_data("a\nb\u{202e}c\u{0}"),
            "a\\u{000a}b\\u{202e}c\\u{0000}"
        );
        assert_eq!(as_data("ad\u{200b}min\u{feff}"), "ad\\u{200b}min\\u{feff}");
        assert_eq!(as_data("李彬 \u{2067}x"), "李彬 \\u{2067}x");
    }
}
