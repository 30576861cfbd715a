//! `role_name` as the platform takes and shows it: one role name, as documented, or several
//! separated by commas (the user's global roles, in order).

use rbac_core::Error;

/// Splits `role_name`: empty is no role; otherwise names separated by commas, each trimmed,
/// duplicates collapsed, order kept. An empty segment is a bad parameter (1003).
pub(super) fn parse(text: &str) -> Result<Vec<String>, Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = Vec::new();
    for segment in text.split(',') {
        let name = segment.trim();
        if name.is_empty() {
            return Err(Error::invalid(
                "role_name",
                "an empty role name between commas",
            ));
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// The names of a user's global roles as `role_name` shows them (one role: its name).
pub(super) fn render(names: &[String]) -> String {
    names.join(",")
}

/// Refuses a role name the list syntax could not carry (a comma, or spaces at its ends).
pub(super) fn check_role_name(name: &str) -> Result<(), Error> {
    if name.contains(',') {
        return Err(Error::invalid(
            "role_name",
            "a role name cannot contain a comma",
        ));
    }
    if name.trim() != name {
        return Err(Error::invalid(
            "role_name",
            "a role name cannot begin or end with a space",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_name_is_one_role_and_several_keep_their_order() {
        assert_eq!(parse("").ok(), Some(vec![]));
        assert_eq!(parse("ops").ok(), Some(vec!["ops".to_string()]));
        assert_eq!(
            parse(" ops , audit,ops").ok(),
            Some(vec!["ops".to_string(), "audit".to_string()])
        );
        for bad in [",", "ops,", ",ops", "ops,,audit", "ops, ,audit", " "] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(render(&["a".into(), "b".into()]), "a,b");
        assert!(check_role_name("a,b").is_err());
        assert!(check_role_name(" a").is_err());
        assert!(check_role_name("a b").is_ok());
    }
}
