//! Black-box test helpers: build the `example-server` binary once per test process, spawn it
//! on `127.0.0.1:0` against a throw-away database, and talk to it over real HTTP.
//!
//! Database selection (env `RBAC_TEST_DATABASE`):
//! - unset: a fresh SQLite file in the temp dir, deleted on drop;
//! - `postgres://…` / `mysql://…`: an admin URL; a database `rbac_h_<unique>` is created for the
//!   server and dropped on drop. An unreachable database server makes the test panic.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::Rng as _;
pub use serde_json::{json, Value};

/// The eleven privilege codes of the platform document (table 2), `Null` excluded, and the
/// console's `SubAccountAdd`: every code the built-in admin role holds.
pub const ALL_PRIVILEGES: [&str; 12] = [
    "UserAccess",
    "UserAdd",
    "UserEdit",
    "UserDelete",
    "UserEnableOrDisable",
    "RoleAccess",
    "RoleAdd",
    "RoleDelete",
    "RoleEdit",
    "RoleEnableOrDisable",
    "RoleAuthority",
    "SubAccountAdd",
];

/// `Content-Type: application/json`, for [`TestServer::post_raw`].
pub const JSON_CT: (&str, &str) = ("Content-Type", "application/json");

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const DB_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Locating and building the binary
// ---------------------------------------------------------------------------------------------

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

fn build_server() -> Result<PathBuf, String> {
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

fn drain_to_string<R: Read + Send + 'static>(stream: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut s) = stream {
            let _ = s.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

// ---------------------------------------------------------------------------------------------
// Random names
// ---------------------------------------------------------------------------------------------

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A process-unique lowercase token: pid, a counter and randomness.
pub fn unique() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let r: u32 = rand::thread_rng().gen();
    format!("{}_{}_{:08x}", std::process::id(), n, r)
}

/// `prefix` followed by 10 random lowercase letters/digits (only `[a-z0-9]`).
pub fn unique_name(prefix: &str) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..10)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// A password that should satisfy any plausible policy.
pub fn gen_password() -> String {
    format!("Pw{}#9x", unique_name("S"))
}

/// A fresh 11-digit mobile-style phone number, unique within the process.
pub fn gen_phone() -> String {
    static BASE: OnceLock<u64> = OnceLock::new();
    let base = *BASE.get_or_init(|| rand::thread_rng().gen_range(0..50_000_000));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("139{:08}", (base + n) % 100_000_000)
}

// ---------------------------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServerKind {
    Postgres,
    MySql,
}

enum DbGuard {
    /// Another server owns the database (a second instance on the same store).
    Shared,
    Sqlite(PathBuf),
    Server {
        kind: ServerKind,
        admin_url: String,
        name: String,
    },
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        match self {
            DbGuard::Shared => {}
            DbGuard::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
            }
            DbGuard::Server {
                kind,
                admin_url,
                name,
            } => {
                let sql = match kind {
                    ServerKind::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ServerKind::MySql => format!("DROP DATABASE IF EXISTS {name}"),
                };
                let kind = *kind;
                let url = admin_url.clone();
                // Drop may run inside a tokio runtime: use a fresh thread with its own runtime.
                let handle = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async move {
                        let _ =
                            tokio::time::timeout(DB_TIMEOUT, admin_exec(kind, &url, &sql)).await;
                    });
                });
                let _ = handle.join();
            }
        }
    }
}

async fn admin_exec(kind: ServerKind, url: &str, sql: &str) -> Result<(), String> {
    use sqlx::Connection as _;
    match kind {
        ServerKind::Postgres => {
            let mut conn = sqlx::postgres::PgConnection::connect(url)
                .await
                .map_err(|e| format!("connect {url}: {e}"))?;
            sqlx::raw_sql(sql)
                .execute(&mut conn)
                .await
                .map_err(|e| format!("{sql}: {e}"))?;
            let _ = conn.close().await;
        }
        ServerKind::MySql => {
            let mut conn = sqlx::mysql::MySqlConnection::connect(url)
                .await
                .map_err(|e| format!("connect {url}: {e}"))?;
            sqlx::raw_sql(sql)
                .execute(&mut conn)
                .await
                .map_err(|e| format!("{sql}: {e}"))?;
            let _ = conn.close().await;
        }
    }
    Ok(())
}

/// `url` with its path replaced by `/db` (query string kept).
fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let authority = main.split('/').next().unwrap_or(main);
    let mut out = format!("{scheme}://{authority}/{db}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn prepare_database() -> (String, DbGuard) {
    let id = unique();
    match std::env::var("RBAC_TEST_DATABASE") {
        Ok(admin_url) if !admin_url.trim().is_empty() => {
            let admin_url = admin_url.trim().to_string();
            let kind =
                if admin_url.starts_with("postgres://") || admin_url.starts_with("postgresql://") {
                    ServerKind::Postgres
                } else if admin_url.starts_with("mysql://") || admin_url.starts_with("mariadb://") {
                    ServerKind::MySql
                } else {
                    panic!(
                    "RBAC_TEST_DATABASE must be a postgres:// or mysql:// URL, got {admin_url:?}"
                );
                };
            let name = format!("rbac_h_{id}");
            let sql = format!("CREATE DATABASE {name}");
            match tokio::time::timeout(DB_TIMEOUT, admin_exec(kind, &admin_url, &sql)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("RBAC_TEST_DATABASE is set but unusable: {e}"),
                Err(_) => panic!(
                    "RBAC_TEST_DATABASE is set but {admin_url} did not answer within {DB_TIMEOUT:?}"
                ),
            }
            let url = with_database(&admin_url, &name);
            (
                url,
                DbGuard::Server {
                    kind,
                    admin_url,
                    name,
                },
            )
        }
        _ => {
            let path = std::env::temp_dir().join(format!("rbac-test-{id}.db"));
            let url = format!("sqlite://{}", path.display());
            (url, DbGuard::Sqlite(path))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------

struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

type SharedLog = Arc<Mutex<String>>;

fn push_log(log: &SharedLog, line: &str) {
    if let Ok(mut l) = log.lock() {
        l.push_str(line);
        if !line.ends_with('\n') {
            l.push('\n');
        }
    }
}

fn spawn_line_reader<R: Read + Send + 'static>(
    stream: R,
    tag: &'static str,
    log: SharedLog,
    on_listen: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        let mut on_listen = on_listen;
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\r', '\n']);
                    push_log(&log, &format!("[{tag}] {line}"));
                    if let Some(pos) = line.find("listening on ") {
                        if let Some(tx) = on_listen.take() {
                            let url = line[pos + "listening on ".len()..].trim().to_string();
                            let _ = tx.send(url);
                        }
                    }
                }
            }
        }
    });
}

/// A running `example-server` with its own database; killed (and its database removed) on drop.
pub struct TestServer {
    // Field order matters: the child is killed before the database goes away.
    child: ChildGuard,
    _db: DbGuard,
    base_url: String,
    database_url: String,
    admin_password: String,
    jwt_secret: String,
    client: reqwest::Client,
    log: SharedLog,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.server_log();
            let tail: String = {
                let lines: Vec<&str> = log.lines().collect();
                let start = lines.len().saturating_sub(80);
                lines[start..].join("\n")
            };
            eprintln!(
                "---- example-server output (last 80 lines, {}) ----\n{tail}\n---- end ----",
                self.base_url
            );
        }
        let _ = self.child.0.kill();
    }
}

impl TestServer {
    /// Start a server with the standard arguments.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Start a server with the standard arguments followed by `extra`.
    pub async fn start_with(extra: &[&str]) -> Self {
        let (database_url, db) = prepare_database().await;
        let admin_password = gen_password();
        let jwt_secret = format!(
            "jwt-{}-{}-{}-{}",
            unique_name(""),
            unique_name(""),
            unique_name(""),
            unique_name("")
        );
        assert!(jwt_secret.len() >= 32);
        Self::spawn(database_url, db, admin_password, jwt_secret, extra).await
    }

    /// Two instances started at the same moment on one empty database (the first owns it;
    /// drop the second first).
    pub async fn start_pair(extra: &[&str]) -> (Self, Self) {
        let (database_url, db) = prepare_database().await;
        let admin_password = gen_password();
        let jwt_secret = format!("jwt-pair-{}-{}", unique_name(""), unique_name("secret"));
        tokio::join!(
            Self::spawn(
                database_url.clone(),
                db,
                admin_password.clone(),
                jwt_secret.clone(),
                extra
            ),
            Self::spawn(
                database_url.clone(),
                DbGuard::Shared,
                admin_password.clone(),
                jwt_secret.clone(),
                extra
            ),
        )
    }

    /// A second instance on this server's database, secret and admin password (drop it
    /// before this one, which owns the database).
    pub async fn start_sharing(&self, extra: &[&str]) -> Self {
        Self::spawn(
            self.database_url.clone(),
            DbGuard::Shared,
            self.admin_password.clone(),
            self.jwt_secret.clone(),
            extra,
        )
        .await
    }

    async fn spawn(
        database_url: String,
        db: DbGuard,
        admin_password: String,
        jwt_secret: String,
        extra: &[&str],
    ) -> Self {
        let bin = tokio::task::spawn_blocking(server_binary)
            .await
            .unwrap_or_else(|e| panic!("building example-server: {e}"));

        let mut cmd = Command::new(&bin);
        cmd.arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--database")
            .arg(&database_url)
            .arg("--admin-password")
            .arg(&admin_password)
            .arg("--jwt-secret")
            .arg(&jwt_secret)
            // Login throttling has its own tests (security.rs, started with the defaults
            // restored); elsewhere tests log in wrongly on purpose, all from 127.0.0.1.
            .args(RELAXED_THROTTLE)
            .args(extra)
            // Keep the documented defaults whatever the caller's environment says.
            .env_remove("RBAC_JWT_PREVIOUS_SECRETS")
            .env_remove("RBAC_TOKEN_TTL")
            .env_remove("RBAC_BODY_LIMIT")
            .env("NO_COLOR", "1")
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", bin.display()));
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut child = ChildGuard(child);

        let log: SharedLog = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        if let Some(out) = stdout {
            spawn_line_reader(out, "out", log.clone(), Some(tx));
        } else {
            drop(tx);
        }
        if let Some(err) = stderr {
            spawn_line_reader(err, "err", log.clone(), None);
        }

        let waited = tokio::task::spawn_blocking(move || rx.recv_timeout(STARTUP_TIMEOUT))
            .await
            .expect("the wait thread does not panic");
        let url = match waited {
            Ok(url) => url,
            Err(why) => {
                let _ = child.0.kill();
                let status = child.0.wait();
                std::thread::sleep(Duration::from_millis(300));
                let collected = log.lock().map(|l| l.clone()).unwrap_or_default();
                let why = match why {
                    mpsc::RecvTimeoutError::Timeout => {
                        format!("no `listening on` line within {STARTUP_TIMEOUT:?}")
                    }
                    mpsc::RecvTimeoutError::Disconnected => {
                        format!("stdout closed before `listening on` (exit: {status:?})")
                    }
                };
                panic!(
                    "example-server did not start: {why}\ncommand: {bin:?} --listen 127.0.0.1:0 --database {database_url} ...\noutput:\n{collected}"
                );
            }
        };
        let base_url = url.trim_end_matches('/').to_string();
        assert!(
            base_url.starts_with("http://127.0.0.1:"),
            "server announced {base_url:?}, expected http://127.0.0.1:<port>"
        );
        let client = reqwest::Client::builder()
            .no_proxy()
            // Idle keep-alive connections are closed by the server once its header-read
            // timeout passes (1 s in some tests): never reuse one that old.
            .pool_idle_timeout(Duration::from_millis(500))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("reqwest client");
        TestServer {
            child,
            _db: db,
            base_url,
            database_url,
            admin_password,
            jwt_secret,
            client,
            log,
            bodies: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The password given to the built-in `admin` account.
    pub fn admin_password(&self) -> &str {
        &self.admin_password
    }

    /// The JWT secret given to the server.
    pub fn jwt_secret(&self) -> &str {
        &self.jwt_secret
    }

    /// The database URL given to the server.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Everything the server printed so far.
    pub fn server_log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The first line of the server's output that `wanted` accepts, waiting up to five
    /// seconds for it (the output arrives through a reader thread).
    pub async fn log_line(&self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        for _ in 0..250 {
            if let Some(line) = self.server_log().lines().find(|l| wanted(l)) {
                return Some(line.to_string());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Every response body received so far, in order.
    pub fn recorded_bodies(&self) -> Vec<String> {
        self.bodies.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// A full URL: `path` starting with `/` is taken from the root, otherwise under `/api/v1/`.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{}", self.base_url, path)
        } else {
            format!("{}/api/v1/{}", self.base_url, path)
        }
    }

    /// POST a JSON body, with `Auth-Token: <token>` when given.
    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.header("Auth-Token", t);
        }
        self.send(req, path).await
    }

    /// A client whose connections come from the loopback address `from` (`127.x.y.z`), for
    /// tests where the client's address matters.
    pub fn client_from(&self, from: &str) -> reqwest::Client {
        let ip: std::net::IpAddr = from.parse().expect("a loopback source address");
        reqwest::Client::builder()
            .no_proxy()
            .local_address(ip)
            .pool_idle_timeout(Duration::from_millis(500))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("reqwest client")
    }

    /// POST a JSON body like [`TestServer::post`], from the loopback address `from`.
    pub async fn post_from(
        &self,
        from: &str,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self.client_from(from).post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.header("Auth-Token", t);
        }
        self.send(req, path).await
    }

    /// `POST login` from the loopback address `from`; returns the answer.
    pub async fn login_from(&self, from: &str, name: &str, password: &str) -> (u16, Value) {
        self.post_from(
            from,
            "login",
            &json!({"name": name, "password": password}),
            None,
        )
        .await
    }

    /// POST a JSON body like [`TestServer::post`], but report a failed connection instead of
    /// panicking (for requests racing a server that is being killed).
    pub async fn try_post(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> Result<(u16, Value), String> {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.header("Auth-Token", t);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// Stops the server with SIGTERM (graceful shutdown) and waits up to 20 s for it to exit.
    pub fn terminate(&self) {
        let pid = self.child.0.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let gone = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|stat| {
                    stat.split(") ")
                        .nth(1)
                        .is_some_and(|rest| rest.starts_with('Z'))
                })
                .unwrap_or(true);
            if gone {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not exit within 20 s of SIGTERM");
    }

    /// Kills the server process with SIGKILL (no shutdown, no flush), and reaps it.
    pub fn kill9(&self) {
        let pid = self.child.0.id().to_string();
        let status = Command::new("kill")
            .args(["-9", &pid])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -9 {pid} failed");
    }

    /// POST arbitrary bytes with exactly the given headers (no Content-Type unless given).
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self.client.post(self.url(path)).body(body.into());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req, path).await
    }

    /// Send a request with any method and no body.
    pub async fn request(&self, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.header("Auth-Token", t);
        }
        self.send(req, path).await
    }

    /// Send `method path` with exactly these headers and an optional body.
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut req = self.client.request(m, self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        self.send(req, path).await
    }

    /// GET a path with these headers; the status and the body as text.
    pub async fn get_text(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => panic!(
                "GET {path} failed: {e:?}\nserver output:\n{}",
                self.server_log()
            ),
        };
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, text)
    }

    async fn send(&self, req: reqwest::RequestBuilder, path: &str) -> (u16, Value) {
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => panic!(
                "request to {path} failed: {e:?}\nserver output:\n{}",
                self.server_log()
            ),
        };
        let status = resp.status().as_u16();
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) => panic!("reading the response of {path} failed: {e:?}"),
        };
        if let Ok(mut b) = self.bodies.lock() {
            b.push(text.clone());
        }
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Log in (code 0 asserted) and return the token.
    pub async fn login(&self, name: &str, password: &str) -> String {
        let r = self
            .post("login", &json!({"name": name, "password": password}), None)
            .await;
        let data = expect_ok(&r, &format!("login as {name}"));
        data["auth_token"]
            .as_str()
            .unwrap_or_else(|| panic!("login as {name}: no data.auth_token in {}", r.1))
            .to_string()
    }

    /// Log in as the built-in `admin`.
    pub async fn admin_token(&self) -> String {
        let pw = self.admin_password.clone();
        self.login("admin", &pw).await
    }

    /// Create a role (code 0 asserted); returns `data`.
    pub async fn create_role(&self, token: &str, role_name: &str) -> Value {
        let r = self
            .post(
                "platform/create/role",
                &json!({"role_name": role_name, "remark": "test role"}),
                Some(token),
            )
            .await;
        expect_ok(&r, &format!("create role {role_name}"))
    }

    /// Replace a role's privileges (code 0 asserted).
    pub async fn grant(&self, token: &str, role_name: &str, privileges: &[&str]) {
        let r = self
            .post(
                "platform/auth/role",
                &json!({"role_name": role_name, "privilege": privileges}),
                Some(token),
            )
            .await;
        expect_ok(&r, &format!("auth/role {role_name} {privileges:?}"));
    }

    /// Create a user (code 0 asserted); returns `data.user_id` (or -1 when absent).
    pub async fn create_user(
        &self,
        token: &str,
        user_name: &str,
        password: &str,
        role_name: Option<&str>,
    ) -> i64 {
        let mut body = json!({
            "user_name": user_name,
            "user_alias": format!("Alias {user_name}"),
            "phone_number": gen_phone(),
            "password": password,
            "remark": "created by tests",
        });
        if let Some(role) = role_name {
            body["role_name"] = json!(role);
        }
        let r = self.post("platform/create/user", &body, Some(token)).await;
        let data = expect_ok(&r, &format!("create user {user_name}"));
        data["user_id"].as_i64().unwrap_or(-1)
    }

    /// A new role holding exactly `privileges`, a new user in it, logged in.
    pub async fn new_user(&self, admin_token: &str, privileges: &[&str]) -> TestUser {
        let role = unique_name("role");
        self.create_role(admin_token, &role).await;
        self.grant(admin_token, &role, privileges).await;
        let name = unique_name("user");
        let password = gen_password();
        self.create_user(admin_token, &name, &password, Some(&role))
            .await;
        let token = self.login(&name, &password).await;
        TestUser {
            name,
            password,
            role,
            token,
        }
    }

    /// `data.users` of `list/user` filtered by `name` (code 0 asserted).
    pub async fn list_users(&self, token: &str, name: Option<&str>) -> Vec<Value> {
        let mut body = json!({"page_no": 0, "page_size": 0});
        if let Some(n) = name {
            body["name"] = json!(n);
        }
        let r = self.post("platform/list/user", &body, Some(token)).await;
        let data = expect_ok(&r, "list/user");
        data["users"]
            .as_array()
            .unwrap_or_else(|| panic!("list/user: data.users is not an array: {}", r.1))
            .clone()
    }

    /// The `list/user` entry of exactly `user_name`, if any.
    pub async fn find_user(&self, token: &str, user_name: &str) -> Option<Value> {
        self.list_users(token, Some(user_name))
            .await
            .into_iter()
            .find(|u| u["user_name"] == user_name)
    }

    /// `data.roles` of `list/role` (all pages; code 0 asserted).
    pub async fn list_roles(&self, token: &str) -> Vec<Value> {
        let r = self
            .post(
                "platform/list/role",
                &json!({"page_no": 0, "page_size": 0}),
                Some(token),
            )
            .await;
        let data = expect_ok(&r, "list/role");
        data["roles"]
            .as_array()
            .unwrap_or_else(|| panic!("list/role: data.roles is not an array: {}", r.1))
            .clone()
    }

    /// The `list/role` entry named `role_name`, if any.
    pub async fn find_role(&self, token: &str, role_name: &str) -> Option<Value> {
        self.list_roles(token)
            .await
            .into_iter()
            .find(|r| r["role_name"] == role_name)
    }

    /// `data.privilege` of `inquire/auth` (code 0 asserted), sorted.
    pub async fn inquire(&self, token: &str, name: &str, name_type: i64) -> Vec<String> {
        let r = self
            .post(
                "platform/inquire/auth",
                &json!({"name": name, "name_type": name_type}),
                Some(token),
            )
            .await;
        let data = expect_ok(&r, &format!("inquire/auth {name} {name_type}"));
        privileges_of(&data["privilege"])
    }
}

// ---------------------------------------------------------------------------------------------
// The IAM surface (seed 004): `Authorization` credentials, any method, `{code, message}` errors
// ---------------------------------------------------------------------------------------------

/// How an IAM request authenticates.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// `Authorization: Basic base64(user:password)`.
    Basic(&'a str, &'a str),
    /// `Authorization: <value>` verbatim.
    Raw(&'a str),
}

impl TestServer {
    /// Send `method path` (path taken as given, e.g. `/v1/users?name=a&name=b`) with `auth`
    /// and, when given, a JSON body.
    pub async fn iam(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let bytes = body.map(|b| b.to_string().into_bytes());
        self.iam_raw(method, path, auth, bytes, true).await
    }

    /// Send `method path` with `auth` and an optional raw body (with
    /// `Content-Type: application/json` when `json_content_type`).
    pub async fn iam_raw(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<Vec<u8>>,
        json_content_type: bool,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut req = self.client.request(m, self.url(path));
        req = match auth {
            Auth::None => req,
            Auth::Bearer(t) => req.header("Authorization", format!("Bearer {t}")),
            Auth::Basic(user, password) => req.basic_auth(user, Some(password)),
            Auth::Raw(v) => req.header("Authorization", v),
        };
        if let Some(b) = body {
            if json_content_type {
                req = req.header(JSON_CT.0, JSON_CT.1);
            }
            req = req.body(b);
        }
        self.send(req, path).await
    }

    /// `POST /login` with a JSON `{username, password}`; asserts 200 and returns the token.
    pub async fn iam_login(&self, name: &str, password: &str) -> String {
        let r = self
            .iam(
                "POST",
                "/login",
                Auth::None,
                Some(&json!({"username": name, "password": password})),
            )
            .await;
        assert_eq!(r.0, 200, "POST /login as {name}: {}", r.1);
        r.1["token"]
            .as_str()
            .unwrap_or_else(|| panic!("POST /login as {name}: no token in {}", r.1))
            .to_string()
    }

    /// `POST /login` as the built-in `admin`; returns the token.
    pub async fn iam_admin_token(&self) -> String {
        let pw = self.admin_password.clone();
        self.iam_login("admin", &pw).await
    }
}

/// Assert an IAM error: the HTTP status and a `{"code": code, "message": "<non-empty>"}` body.
#[track_caller]
pub fn expect_iam_error(resp: &(u16, Value), status: u16, code: i64, ctx: &str) {
    let (st, body) = resp;
    assert!(
        *st == status && body["code"].as_i64() == Some(code),
        "{ctx}: expected HTTP {status} code {code}, got HTTP {st} body {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{ctx}: error message missing or empty: {body}"
    );
}

/// Assert HTTP 200 with a JSON `null` body.
#[track_caller]
pub fn expect_iam_null(resp: &(u16, Value), ctx: &str) {
    assert!(
        resp.0 == 200 && resp.1.is_null(),
        "{ctx}: expected HTTP 200 `null`, got HTTP {} body {}",
        resp.0,
        resp.1
    );
}

/// Assert HTTP 200; returns the body.
#[track_caller]
pub fn expect_iam_ok(resp: &(u16, Value), ctx: &str) -> Value {
    assert_eq!(resp.0, 200, "{ctx}: expected HTTP 200, got body {}", resp.1);
    resp.1.clone()
}

/// Whether `s` parses as an RFC 3339 date-time.
pub fn is_rfc3339(s: &str) -> bool {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

/// Parse an RFC 3339 date-time to unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A user created by [`TestServer::new_user`].
#[derive(Clone, Debug)]
pub struct TestUser {
    pub name: String,
    pub password: String,
    pub role: String,
    pub token: String,
}

/// Sorted privilege codes of a JSON array, `Null` dropped.
pub fn privileges_of(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("expected an array of privilege codes, got {v}"))
        .iter()
        .filter_map(|p| p.as_str().map(str::to_string))
        .filter(|p| p != "Null")
        .collect();
    out.sort();
    out
}

/// Sorted owned copy of some codes.
pub fn sorted(codes: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------

/// `header.code`, or `i64::MIN` when absent.
pub fn code(v: &Value) -> i64 {
    v["header"]["code"].as_i64().unwrap_or(i64::MIN)
}

/// Assert the HTTP status and envelope code; returns `data`. For code 0 the message must be
/// `CODE_OK` and `total`/`count` present; for any other code `data` must be `{}` and the
/// message non-empty.
#[track_caller]
pub fn expect_code(resp: &(u16, Value), status: u16, expected: i64, ctx: &str) -> Value {
    let (st, body) = resp;
    assert!(
        *st == status && code(body) == expected,
        "{ctx}: expected HTTP {status} code {expected}, got HTTP {st} body {body}"
    );
    check_envelope(resp, ctx);
    body["data"].clone()
}

/// Assert HTTP 200 and one of `codes`; returns the code.
#[track_caller]
pub fn expect_one_of(resp: &(u16, Value), codes: &[i64], ctx: &str) -> i64 {
    let (st, body) = resp;
    assert!(
        *st == 200 && codes.contains(&code(body)),
        "{ctx}: expected HTTP 200 with a code in {codes:?}, got HTTP {st} body {body}"
    );
    check_envelope(resp, ctx);
    code(body)
}

#[track_caller]
fn check_envelope(resp: &(u16, Value), ctx: &str) {
    let (_, body) = resp;
    let message = body["header"]["message"].as_str();
    assert!(
        message.is_some(),
        "{ctx}: header.message missing or not a string: {body}"
    );
    if code(body) == 0 {
        assert_eq!(
            message,
            Some("CODE_OK"),
            "{ctx}: success message must be CODE_OK: {body}"
        );
        assert!(
            body["header"]["total"].is_number() && body["header"]["count"].is_number(),
            "{ctx}: header.total/count missing: {body}"
        );
        assert!(
            body["data"].is_object(),
            "{ctx}: data not an object: {body}"
        );
    } else {
        assert!(
            !message.unwrap_or_default().is_empty(),
            "{ctx}: error message empty: {body}"
        );
        assert_eq!(
            body["data"],
            json!({}),
            "{ctx}: on errors data must be {{}}: {body}"
        );
    }
}

/// HTTP 200, code 0; returns `data`.
#[track_caller]
pub fn expect_ok(resp: &(u16, Value), ctx: &str) -> Value {
    expect_code(resp, 200, 0, ctx)
}

/// HTTP 401, code 1001.
#[track_caller]
pub fn expect_unauthorized(resp: &(u16, Value), ctx: &str) {
    expect_code(resp, 401, 1001, ctx);
}

/// HTTP 200, code 1000, and the message names `privilege`.
#[track_caller]
pub fn expect_denied(resp: &(u16, Value), privilege: &str, ctx: &str) {
    expect_code(resp, 200, 1000, ctx);
    let msg = resp.1["header"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains(privilege),
        "{ctx}: the 1000 message should name {privilege}: {}",
        resp.1
    );
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// "YYYY-MM-DD HH:MM:SS" in UTC for now + `offset_secs`.
pub fn utc_string(offset_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.format(&fmt).expect("formattable time")
}

/// Whether `s` looks like "YYYY-MM-DD HH:MM:SS".
pub fn is_datetime(s: &str) -> bool {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    s.len() == 19 && time::PrimitiveDateTime::parse(s, &fmt).is_ok()
}

/// Parse "YYYY-MM-DD HH:MM:SS" (UTC) to unix seconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

// ---------------------------------------------------------------------------------------------
// JWT forging
// ---------------------------------------------------------------------------------------------

fn b64url() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// The decoded header and payload of a JWT.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut decode = |what: &str| -> Value {
        let seg = parts
            .next()
            .unwrap_or_else(|| panic!("token {token:?} has no {what}"));
        let bytes = b64url()
            .decode(seg.trim_end_matches('='))
            .unwrap_or_else(|e| panic!("token {what} is not base64url: {e}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("token {what} is not JSON: {e}"))
    };
    let header = decode("header");
    let payload = decode("payload");
    (header, payload)
}

/// Sign `claims` with HMAC and `secret`, copying `alg` (HS256/HS384/HS512), `typ` and `kid`
/// from `like_header` (the header of a genuine token), so that only what the caller changed
/// differs from a real token.
pub fn sign_jwt(like_header: &Value, claims: &Value, secret: &[u8]) -> String {
    let alg = match like_header["alg"].as_str() {
        Some("HS384") => jsonwebtoken::Algorithm::HS384,
        Some("HS512") => jsonwebtoken::Algorithm::HS512,
        _ => jsonwebtoken::Algorithm::HS256,
    };
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = like_header["kid"].as_str().map(str::to_string);
    header.typ = like_header["typ"].as_str().map(str::to_string);
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("jwt encoding")
}

/// An unsigned token with `alg` set to `alg_value` (e.g. "none"), `kid`/`typ` copied from
/// `like_header`, and an empty signature.
pub fn alg_none_jwt(like_header: &Value, alg_value: &str, claims: &Value) -> String {
    let mut header = json!({"alg": alg_value, "typ": "JWT"});
    if let Some(kid) = like_header.get("kid") {
        header["kid"] = kid.clone();
    }
    let header = b64url().encode(header.to_string());
    let payload = b64url().encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// A copy of `claims` whose expiry (`exp` and any other `*exp*` number) lies an hour in the
/// past, and whose `iat`/`nbf` lie two hours in the past.
pub fn expired_claims(claims: &Value) -> Value {
    let mut c = claims.clone();
    let now = unix_now();
    if let Some(obj) = c.as_object_mut() {
        let keys: Vec<String> = obj.keys().cloned().collect();
        for k in keys {
            let lk = k.to_ascii_lowercase();
            if lk.contains("exp") && obj[&k].is_number() {
                obj.insert(k, json!(now - 3600));
            } else if (lk == "iat" || lk == "nbf" || lk.contains("iat")) && obj[&k].is_number() {
                obj.insert(k, json!(now - 7200));
            }
        }
        obj.entry("exp").or_insert(json!(now - 3600));
    }
    c
}

// ---------------------------------------------------------------------------------------------
// A webhook receiver (the SMS gateway stand-in)
// ---------------------------------------------------------------------------------------------

/// A minimal HTTP/1.1 listener on loopback that records each POSTed JSON body and answers
/// 200, or 500 while failing is switched on.
pub struct Webhook {
    url: String,
    received: Arc<Mutex<Vec<Value>>>,
    heads: Arc<Mutex<Vec<String>>>,
    failing: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Webhook {
    /// Starts listening on a free loopback port.
    pub async fn start() -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind webhook");
        let url = format!("http://{}/sms", listener.local_addr().expect("addr"));
        let received: Arc<Mutex<Vec<Value>>> = Arc::default();
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (rec, fail, hds) = (received.clone(), failing.clone(), heads.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (rec, fail, hds) = (rec.clone(), fail.clone(), hds.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let body = loop {
                        let Ok(n) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            if let Ok(mut h) = hds.lock() {
                                h.push(String::from_utf8_lossy(&buf[..end]).into_owned());
                            }
                            break buf[end + 4..end + 4 + len].to_vec();
                        }
                    };
                    let value = serde_json::from_slice(&body)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
                    if let Ok(mut r) = rec.lock() {
                        r.push(value);
                    }
                    let status = if fail.load(Ordering::SeqCst) {
                        "500 Internal Server Error"
                    } else {
                        "200 OK"
                    };
                    let answer = r#"{"jsonrpc":"2.0","result":"from upstream"}"#;
                    let reply = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Webhook {
            url,
            received,
            heads,
            failing,
            task,
        }
    }

    /// The URL to pass as `--sms-webhook`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Makes the webhook answer 500 (or 200 again).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// The request line and headers of every request received so far.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Every body received so far.
    pub fn received(&self) -> Vec<Value> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The last body received for `phone`, waiting up to 5 s for one.
    pub async fn last_for(&self, phone: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(v) = self
                .received()
                .into_iter()
                .rev()
                .find(|v| v["phone"] == phone)
            {
                return v;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no webhook call for {phone}; got {:?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A real SMTP server: Python's aiosmtpd (from PyPI, in a virtualenv under target/)
// ---------------------------------------------------------------------------------------------

/// The virtualenv's python with aiosmtpd installed (created once per machine).
fn aiosmtpd_python() -> PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            let venv = target_dir().join("py-aiosmtpd");
            let python = venv.join("bin").join("python");
            let ready = venv.join(".installed");
            if !ready.exists() {
                let ok = Command::new("python3")
                    .args(["-m", "venv"])
                    .arg(&venv)
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(ok, "python3 -m venv failed (python3 with venv is needed)");
                let ok = Command::new(venv.join("bin").join("pip"))
                    .args(["install", "-q", "aiosmtpd==1.4.6"])
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(ok, "pip install aiosmtpd failed (PyPI must be reachable)");
                std::fs::write(&ready, b"aiosmtpd 1.4.6\n").expect("marker");
            }
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
