//! Identity keys: the forms under which user names and e-mail addresses are unique.
//!
//! A name is unique, looked up and throttled under its NFKC case fold ([`name_key`]), so
//! `Admin`, `ADMIN` and full-width `ａｄｍｉｎ` are the one name `admin`; and no two names
//! may share a UTS #39 confusable skeleton ([`name_skeleton`]), so `adrnin` or `paypa1`
//! cannot sit beside `admin` or `paypal`. Stores keep both as unique columns. A name that
//! mixes scripts within one word the way homograph attacks do ([`mixes_confusable_scripts`]:
//! a Cyrillic `а` in `аdmin`) is refused by the name rules; names wholly in one script
//! (`李彬`, `lory`) or in the combinations UTS #39 calls moderately restrictive (Latin with
//! Han) stay allowed. E-mail addresses are unique under their case fold ([`email_key`]).
//!
//! ```
//! use rbac_core::identity::{mixes_confusable_scripts, name_key, name_skeleton};
//!
//! assert_eq!(name_key("ADMIN"), name_key("admin"));
//! assert_eq!(name_skeleton("adrnin"), name_skeleton("admin"));
//! assert!(mixes_confusable_scripts("\u{430}dmin")); // a Cyrillic a
//! assert!(!mixes_confusable_scripts("admin"));
//! ```

use unicode_normalization::UnicodeNormalization;
use unicode_script::{Script, UnicodeScript};

/// The NFKC case fold of `text`: compatibility forms and case folded away.
fn nfkc_fold(text: &str) -> String {
    if text.is_ascii() {
        // NFKC leaves ASCII as it is, and ASCII's case fold is its lower case: the common
        // case, without the tables (a bulk import spends a fifth of its time here otherwise).
        return text.to_ascii_lowercase();
    }
    unicode_fold(text)
}

/// [`nfkc_fold`] through the Unicode tables.
fn unicode_fold(text: &str) -> String {
    let nfkc: String = text.nfkc().collect();
    caseless::default_case_fold_str(&nfkc).nfkc().collect()
}

/// The key a user name is unique, looked up and throttled under (its NFKC case fold).
pub fn name_key(name: &str) -> String {
    nfkc_fold(name)
}

/// The confusable skeleton of a user name (UTS #39, over its [`name_key`], folded again
/// so that `0` and `o` meet): names that look alike share it.
pub fn name_skeleton(name: &str) -> String {
    let skeleton: String = unicode_security::skeleton(&name_key(name)).collect();
    nfkc_fold(&skeleton)
}

/// The key an e-mail address is unique and looked up under (its NFKC case fold).
pub fn email_key(email: &str) -> String {
    nfkc_fold(email)
}

/// Whether a word of `name` (a run of letters and digits) mixes scripts in a way UTS #39
/// ranks below "moderately restrictive": Latin, Cyrillic and Greek with one another, or
/// any two scripts other than Latin with one more, or the Han–Kana/Bopomofo/Hangul sets.
pub fn mixes_confusable_scripts(name: &str) -> bool {
    let key = name_key(name);
    key.split(|c: char| !c.is_alphanumeric())
        .any(|word| !acceptable_mix(word))
}

/// UTS #39 §5.2 over the scripts of one word's letters (Common and Inherited aside).
fn acceptable_mix(word: &str) -> bool {
    let mut scripts: Vec<Script> = Vec::new();
    for c in word.chars() {
        let s = c.script();
        if !matches!(s, Script::Common | Script::Inherited | Script::Unknown)
            && !scripts.contains(&s)
        {
            scripts.push(s);
        }
    }
    if scripts.len() <= 1 {
        return true; // single script
    }
    let within = |allowed: &[Script]| scripts.iter().all(|s| allowed.contains(s));
    // Highly restrictive: Latin with Han and the scripts written beside it.
    if within(&[
        Script::Latin,
        Script::Han,
        Script::Hiragana,
        Script::Katakana,
    ]) || within(&[Script::Latin, Script::Han, Script::Bopomofo])
        || within(&[Script::Latin, Script::Han, Script::Hangul])
    {
        return true;
    }
    // Moderately restrictive: Latin and one other script, but not Cyrillic or Greek.
    scripts.len() == 2
        && scripts.contains(&Script::Latin)
        && !scripts.contains(&Script::Cyrillic)
        && !scripts.contains(&Script::Greek)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_fold_is_the_unicode_fold() {
        let every: String = (0u8..128).map(char::from).collect();
        assert_eq!(nfkc_fold(&every), unicode_fold(&every));
        for c in (0u8..128).map(char::from) {
            let s = format!("{c}Xy{c}");
            assert_eq!(nfkc_fold(&s), unicode_fold(&s), "{c:?}");
        }
        // Non-ASCII still goes through the tables.
        assert_eq!(nfkc_fold("ＡＤＭＩＮ"), "admin");
    }

    #[test]
    fn keys_fold_case_and_compatibility_forms() {
        assert_eq!(name_key("Admin"), "admin");
        assert_eq!(name_key("ADMIN"), "admin");
        assert_eq!(name_key("ａｄｍｉｎ"), "admin");
        assert_eq!(name_key("Straße"), "strasse");
        assert_eq!(name_key("李彬"), "李彬");
        assert_ne!(name_key("lory"), name_key("lori"));
        assert_eq!(email_key("LORY@Example.com"), "lory@example.com");
    }

    #[test]
    fn skeletons_meet_for_lookalikes_only() {
        assert_eq!(name_skeleton("admin"), name_skeleton("adrnin"));
        assert_eq!(name_skeleton("paypal"), name_skeleton("paypa1"));
        assert_eq!(name_skeleton("lo"), name_skeleton("l0"));
        // Cyrillic а (U+0430) in place of Latin a.
        assert_eq!(name_skeleton("admin"), name_skeleton("\u{430}dmin"));
        assert_ne!(name_skeleton("admin"), name_skeleton("admins"));
        assert_ne!(name_skeleton("李彬"), name_skeleton("李斌"));
    }

    #[test]
    fn confusable_mixes_are_found_within_a_word() {
        assert!(
            mixes_confusable_scripts("\u{430}dmin"),
            "Cyrillic а in Latin"
        );
        assert!(mixes_confusable_scripts("p\u{3b1}ypal"), "Greek α in Latin");
        assert!(!mixes_confusable_scripts("admin"));
        assert!(!mixes_confusable_scripts("李彬"));
        assert!(!mixes_confusable_scripts("lory"));
        assert!(!mixes_confusable_scripts("админ"), "wholly Cyrillic");
        assert!(!mixes_confusable_scripts("lory李彬"), "Latin with Han");
        assert!(
            !mixes_confusable_scripts("lory.админ"),
            "one script per word"
        );
        assert!(!mixes_confusable_scripts("user-10_x@y.z"));
    }
}
