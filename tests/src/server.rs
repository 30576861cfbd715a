//! The server process: start, stop, talk to it over HTTP, and the platform surface's helpers.

use crate::*;

pub(crate) struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) type SharedLog = Arc<Mutex<String>>;

pub(crate) fn push_log(log: &SharedLog, line: &str) {
    if let Ok(mut l) = log.lock() {
        l.push_str(line);
        if !line.ends_with('\n') {
            l.push('\n');
        }
    }
}

pub(crate) fn spawn_line_reader<R: Read + Send + 'static>(
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
    pub(crate) child: ChildGuard,
    pub(crate) _db: DbGuard,
    pub(crate) base_url: String,
    pub(crate) database_url: String,
    pub(crate) admin_password: String,
    pub(crate) jwt_secret: String,
    pub(crate) client: reqwest::Client,
    pub(crate) log: SharedLog,
    pub(crate) bodies: Arc<Mutex<Vec<String>>>,
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

    pub(crate) async fn spawn(
        database_url: String,
        db: DbGuard,
        admin_password: String,
        jwt_secret: String,
        extra: &[&str],
    ) -> Self {
        let bin = tokio::task::spawn_blocking(server_binary)
            .await
            .unwrap_or_else(|e| panic!("building example-server: {e}"));

        let (key_file, extra) = crate::keys::secrets_key_file(&database_url, &jwt_secret, extra);
        let extra = extra.as_slice();
        let mut cmd = Command::new(&bin);
        if let Some(path) = &key_file {
            cmd.arg("--secrets-key-file").arg(path);
        }
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
        // Read at startup: the key need not outlive it on disk.
        if let Some(path) = &key_file {
            let _ = std::fs::remove_file(path);
        }
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

    /// Runs one SQL statement on the server's database (for states the API cannot make,
    /// such as entries from days ago); panics if it fails.
    pub async fn exec_sql(&self, sql: &str) {
        crate::database::exec_on(self.database_url(), sql)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
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

    /// The server process's id (to read its memory from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.0.id()
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

    /// POST a JSON body with `Auth-Token` and these extra headers; the status, the answer's
    /// headers (names lowercase) and the body.
    pub async fn post_with_headers(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, Vec<(String, String)>, Value) {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.header("Auth-Token", t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send_keeping_headers(req, path).await
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

    pub(crate) async fn send(&self, req: reqwest::RequestBuilder, path: &str) -> (u16, Value) {
        let (status, _, value) = self.send_keeping_headers(req, path).await;
        (status, value)
    }

    /// Sends a request; the status, the answer's headers (names lowercase) and the body.
    async fn send_keeping_headers(
        &self,
        req: reqwest::RequestBuilder,
        path: &str,
    ) -> (u16, Vec<(String, String)>, Value) {
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => panic!(
                "request to {path} failed: {e:?}\nserver output:\n{}",
                self.server_log()
            ),
        };
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) => panic!("reading the response of {path} failed: {e:?}"),
        };
        if let Ok(mut b) = self.bodies.lock() {
            b.push(text.clone());
        }
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, headers, value)
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
