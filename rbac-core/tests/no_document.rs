//! The library knows no document: no file of `rbac-core` or `rbac-tower` (sources, tests,
//! examples, manifests) names a surface of the bundled server or one of its fixed values.
//! This file is the list, so it alone is not searched.

use std::path::{Path, PathBuf};

/// Whole lowercase words no library file may contain.
const WORDS: [&str; 10] = [
    "platform",
    "gateway",
    "console",
    "cloud",
    "iam",
    "project",
    "projects",
    "organisation",
    "organisations",
    "department",
];

/// Text no library file may contain anywhere.
const FRAGMENTS: [&str; 6] = [
    "registered-user",
    "console-primary",
    "console-sub",
    "SubAccountAdd",
    "departmentId",
    "CODE_",
];

/// The documents' concepts that have left the library's API for the server's surfaces
/// (the privilege code meaning "no check", the documents' paging, the gateway's quota
/// answer, mainland-China phone numbers, the console's organisations, the gateway's key
/// headers and projects, the console's departments and sub-accounts): text no library
/// file may contain.
const CONCEPTS: [&str; 18] = [
    "NULL_PRIVILEGE",
    "numbered(",
    "QuotaExceeded",
    "fn mobile(",
    "validate::mobile",
    "OrganisationStore",
    "struct Organisation",
    "Entity::Organisation",
    "ProjectKey",
    "Project",
    "rbac_projects",
    "department_id",
    "parent_id",
    "sub-account",
    "login_to_organisation",
    "by_organisation",
    "pub did:",
    "user_did",
];

fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                files(&path, found);
            }
        } else if name.ends_with(".rs") || name.ends_with(".toml") || name.ends_with(".md") {
            found.push(path);
        }
    }
}

/// Every finding in `text`: (line, what).
fn findings(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for word in line.split(|c: char| !c.is_ascii_alphanumeric()) {
            if WORDS.contains(&word) {
                out.push((n + 1, word.to_string()));
            }
        }
        for fragment in FRAGMENTS.iter().chain(&CONCEPTS) {
            if line.contains(fragment) {
                out.push((n + 1, fragment.to_string()));
            }
        }
    }
    out
}

#[test]
fn the_finder_finds_what_it_looks_for() {
    assert_eq!(findings("a gateway here").len(), 1);
    assert_eq!(findings("mod iam;").len(), 1);
    assert_eq!(findings("a project's key").len(), 1);
    assert_eq!(findings("struct Project {").len(), 1);
    assert_eq!(
        findings("fn console_with_max()").len(),
        1,
        "`_` ends a word"
    );
    assert_eq!(findings("let r = \"registered-user\";").len(), 1);
    assert_eq!(findings("Error::QuotaExceeded { limit }").len(), 1);
    assert!(findings("diameter, platforms, Gateway, consoles").is_empty());
}

#[test]
fn no_library_file_names_a_document() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let this = root.join("tests").join("no_document.rs");
    let mut found = Vec::new();
    for krate in [root.to_path_buf(), root.join("..").join("rbac-tower")] {
        files(&krate, &mut found);
    }
    assert!(found.len() > 30, "the library's files were found");
    let mut offences = Vec::new();
    for path in found.iter().filter(|p| **p != this) {
        let text = std::fs::read_to_string(path).expect("read");
        for (line, what) in findings(&text) {
            offences.push(format!("{}:{line}: {what}", path.display()));
        }
    }
    assert!(
        offences.is_empty(),
        "the library names documents:\n{}",
        offences.join("\n")
    );
}
