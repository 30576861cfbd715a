//! Locating the server binary Cargo built, and the throttling flags tests start it with.

use crate::*;

/// The workspace root: the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace")
        .to_path_buf()
}

/// `CARGO_TARGET_DIR` (relative paths taken from the workspace root) or `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// Flags that keep login throttling and the hourly limits on unauthenticated work out of
/// the way of tests about something else.
pub const RELAXED_THROTTLE: [&str; 14] = [
    "--login-max-failures",
    "1000000",
    "--login-address-max-failures",
    "1000000",
    "--login-backoff-secs",
    "0",
    "--codes-per-address-hour",
    "0",
    "--codes-per-hour",
    "0",
    "--password-sms-per-account-hour",
    "0",
    "--signups-per-address-hour",
    "0",
];

/// The flags that restore the documented throttling defaults.
pub const DEFAULT_THROTTLE: [&str; 8] = [
    "--login-free-failures",
    "4",
    "--login-max-failures",
    "10",
    "--login-address-max-failures",
    "20",
    "--login-backoff-secs",
    "1",
];

/// The server binary Cargo built for the running test: the suites live beside it in
/// `example-server/tests/`, so `cargo test` builds it first, in the same profile and target
/// folder as the test executable (`<target>/<profile>/deps/<test>`), the way `assert_cmd`
/// finds a package's binaries.
pub fn server_binary() -> PathBuf {
    let name = format!("example-server{}", std::env::consts::EXE_SUFFIX);
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .filter(|d| d.ends_with("deps"))
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not in a Cargo target folder", exe.display()));
    let bin = profile_dir.join(name);
    assert!(
        bin.exists(),
        "{} does not exist: run the black-box suites through `cargo test -p example-server` \
         (or `cargo test --workspace`), which builds the server first",
        bin.display()
    );
    bin
}
