//! A real SMTP server: Python's aiosmtpd (from PyPI, in a virtualenv under target/).

use crate::*;

/// The SMTP server the tests use, pinned (`.ci/run` installs the same one during the build).
const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// The virtualenv's python with aiosmtpd installed (created once per machine).
pub(crate) fn aiosmtpd_python() -> PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            let venv = target_dir().join("py-aiosmtpd");
            let python = venv.join("bin").join("python");
            let ready = venv.join(".installed");
            if ready.exists() {
                return python;
            }
            // One process installs (test binaries of several suites may start at once);
            // the others wait for its marker.
            let lock = target_dir().join("py-aiosmtpd.lock");
            let _ = std::fs::create_dir_all(target_dir());
            let installing = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
                .is_ok();
            if !installing {
                let deadline = Instant::now() + Duration::from_secs(300);
                while !ready.exists() {
                    assert!(
                        Instant::now() < deadline,
                        "another process has been installing aiosmtpd for 5 minutes \
                         (delete {} if none is)",
                        lock.display()
                    );
                    std::thread::sleep(Duration::from_millis(200));
                }
                return python;
            }
            let ok = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success());
            let ok = ok
                && Command::new(venv.join("bin").join("pip"))
                    .args(["install", "-q", AIOSMTPD])
                    .status()
                    .is_ok_and(|s| s.success());
            if ok {
                std::fs::write(&ready, format!("{AIOSMTPD}\n")).expect("marker");
            }
            let _ = std::fs::remove_file(&lock);
            assert!(
                ok,
                "installing {AIOSMTPD} failed (python3 with venv, and PyPI, are needed)"
            );
            python
        })
        .clone()
}

/// An aiosmtpd server on a free loopback port that prints every message it receives.
pub struct SmtpServer {
    child: Child,
    port: u16,
    output: Arc<Mutex<String>>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    /// Starts aiosmtpd (its Debugging handler) and waits until it accepts connections.
    pub fn start() -> Self {
        let python = aiosmtpd_python();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(python)
            .args(["-u", "-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Debugging", "stdout"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting aiosmtpd");
        let output: Arc<Mutex<String>> = Arc::default();
        let stdout = child.stdout.take().expect("stdout");
        let out = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(mut o) = out.lock() {
                    o.push_str(&line);
                    o.push('\n');
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer {
            child,
            port,
            output,
        }
    }

    /// The URL to pass as `--smtp-url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything received so far, as aiosmtpd printed it.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// The registration code in the last message to `to`, waiting up to 10 s for one.
    pub async fn code_for(&self, to: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.output();
            let found = out
                .split("---------- MESSAGE FOLLOWS ----------")
                .filter(|m| m.contains(&format!("To: {to}")))
                .filter_map(|m| {
                    let i = m.find("registration code is ")? + "registration code is ".len();
                    let code: String = m[i..].chars().take(6).collect();
                    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
                })
                .last();
            if let Some(code) = found {
                return code;
            }
            assert!(
                Instant::now() < deadline,
                "no mail to {to}; aiosmtpd printed:\n{out}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
