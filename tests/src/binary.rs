//! Locating and building the server binary (once per test process), and the throttling flags tests start it with.

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

/// The path of the server binary, built (once per test process) with
/// `cargo build --workspace --bins --tests`.
pub fn server_binary() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BUILT.get_or_init(build_server) {
        Ok(path) => path.clone(),
        Err(e) => panic!("{e}"),
    }
}

pub(crate) fn build_server() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut child = Command::new(&cargo)
        // Every workspace test target with it: the feature set `cargo test --workspace`
        // resolves (dev-dependencies included), so the binary reuses that build's
        // dependencies instead of compiling them a second way; the test targets are fresh.
        .args(["build", "--workspace", "--bins", "--tests"])
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{cargo} build -p example-server`: {e}"))?;
    let out = drain_to_string(child.stdout.take());
    let err = drain_to_string(child.stderr.take());
    let deadline = Instant::now() + BUILD_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`cargo build -p example-server` did not finish within {BUILD_TIMEOUT:?}"
                ));
            }
            Err(e) => return Err(format!("waiting for cargo: {e}")),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    if !status.success() {
        return Err(format!(
            "`cargo build -p example-server` failed ({status}):\n{out}\n{err}"
        ));
    }
    let bin = target_dir()
        .join("debug")
        .join(format!("example-server{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        return Err(format!("built, but {} does not exist", bin.display()));
    }
    Ok(bin)
}

pub(crate) fn drain_to_string<R: Read + Send + 'static>(
    stream: Option<R>,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut s) = stream {
            let _ = s.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}
