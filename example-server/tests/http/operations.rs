//! Operating the server: readiness, request ids in JSON logs, the TOML settings file, and
//! the command line (`migrate`, `admin …`, `import-users`, `export-users`).

use std::process::Command;
use std::time::Duration;

use tests::*;

/// Runs the server binary with these arguments; (success, stdout, stderr).
fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(server_binary())
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RBAC_CONFIG")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("running example-server");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}-{name}", unique()));
    std::fs::write(&path, contents).expect("temp file");
    path
}

async fn try_login(s: &TestServer, name: &str, password: &str) -> i64 {
    let r = s
        .post("login", &json!({"name": name, "password": password}), None)
        .await;
    code(&r.1)
}

/// The daily quota of a project the admin creates now.
async fn new_project_quota(s: &TestServer) -> i64 {
    let admin = s.admin_token().await;
    let r = s
        .post(
            "project/create",
            &json!({"project_type": 1, "project_name": "p"}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "create");
    let r = s
        .post(
            "project/list",
            &json!({"page_no": 0, "page_size": 0}),
            Some(&admin),
        )
        .await;
    expect_ok(&r, "list")["list"][0]["request_max"]
        .as_i64()
        .unwrap_or_else(|| panic!("request_max: {}", r.1))
}

#[tokio::test]
async fn readiness_and_request_ids() {
    let s = TestServer::start_with(&["--log-format", "json"]).await;
    let (status, body) = s.get_text("/readyz", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"ready\""), "{body}");

    // A client's id is answered and carried by every log line of its request.
    let admin = s.admin_token().await;
    let u = s.new_user(&admin, &[]).await;
    let bytes = serde_json::to_vec(&json!({"page_no": 0, "page_size": 0})).expect("json");
    let resp = reqwest::Client::new()
        .post(s.url("platform/list/user"))
        .header("Auth-Token", &u.token)
        .header("X-Request-Id", "ops-test-0042")
        .body(bytes)
        .send()
        .await
        .expect("request");
    assert_eq!(
        resp.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("ops-test-0042")
    );
    let denied = s
        .log_line(|l| l.contains("access denied"))
        .await
        .unwrap_or_else(|| panic!("the refusal is logged:\n{}", s.server_log()));
    // The harness tags each captured line with its stream (`[stderr] …`).
    let json = &denied[denied.find('{').expect("a JSON object")..];
    let line: Value = serde_json::from_str(json).expect("a JSON log line");
    assert_eq!(line["span"]["request_id"], "ops-test-0042", "{line}");
    // Without one, the server makes one up; a malformed one is replaced.
    for sent in [None, Some("bad id with spaces")] {
        let mut req = reqwest::Client::new().get(s.url("/readyz"));
        if let Some(id) = sent {
            req = req.header("X-Request-Id", id);
        }
        let resp = req.send().await.expect("request");
        let id = resp
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(id.len() >= 16 && !id.contains(' '), "{id:?}");
    }
}

#[tokio::test]
async fn settings_file_with_flags_taking_precedence() {
    let file = temp_file(
        "settings.toml",
        "project-request-max = 3\norganisation = [\"9=九号组织\"]\ncode_resend_secs = 0\n",
    );
    let path = file.to_string_lossy().into_owned();
    let s = TestServer::start_with(&["--config", &path]).await;
    assert_eq!(new_project_quota(&s).await, 3, "from the file");
    let sms = json!({"mobilePhone": gen_phone(), "module": "注册验证", "origin": "console", "departmentId": 9});
    let r = s
        .send_with(
            "POST",
            "/casdao/api/v1.0/system/register/sms/code",
            &[JSON_CT],
            Some(sms.to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.1["code"], 200, "organisation 9 from the file: {}", r.1);

    // A flag beats the file.
    let s2 = TestServer::start_with(&["--config", &path, "--project-request-max", "7"]).await;
    assert_eq!(new_project_quota(&s2).await, 7, "the flag");

    // An unknown key is refused at start-up, naming it.
    let bad = temp_file("bad.toml", "no-such-setting = 1\n");
    let (ok, _, err) = cli(&["--config", &bad.to_string_lossy(), "migrate"]);
    assert!(!ok && err.contains("no-such-setting"), "{err}");
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(bad);
}

#[tokio::test]
async fn command_line_administration() {
    // The default lock (5 failures), without the backoff between failures: an attempt during
    // a backoff is refused uncounted, which would make the lock below depend on timing.
    let s = TestServer::start_with(&[
        "--login-max-failures",
        "5",
        "--login-address-max-failures",
        "20",
        "--login-backoff-secs",
        "0",
    ])
    .await;
    let db = s.database_url().to_string();
    let (ok, out, err) = cli(&["--database", &db, "migrate"]);
    assert!(ok && out.contains("schema current"), "{out}{err}");

    // create-user, then log in through the running server.
    let (name, password) = (unique_name("cli"), gen_password());
    let (ok, out, err) = cli(&[
        "--database",
        &db,
        "admin",
        "create-user",
        &name,
        "--password",
        &password,
    ]);
    assert!(ok && out.contains(&name), "{out}{err}");
    assert_eq!(try_login(&s, &name, &password).await, 0);
    // A generated password is printed once.
    let other = unique_name("gen");
    let (ok, out, err) = cli(&["--database", &db, "admin", "create-user", &other]);
    assert!(ok, "{err}");
    let generated = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("password printed")
        .trim()
        .to_string();
    assert_eq!(try_login(&s, &other, &generated).await, 0);

    // Five wrong passwords lock the account; `admin unlock` lifts the lock.
    for _ in 0..5 {
        assert_ne!(try_login(&s, &name, "wrong").await, 0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_ne!(try_login(&s, &name, &password).await, 0, "locked");
    let (ok, _, err) = cli(&["--database", &db, "admin", "unlock", &name]);
    assert!(ok, "{err}");
    assert_eq!(try_login(&s, &name, &password).await, 0, "unlocked");

    // reset-password ends the user's sessions (on the running server too) and sets the new one.
    let token = s.login(&name, &password).await;
    let new_password = gen_password();
    let (ok, _, err) = cli(&[
        "--database",
        &db,
        "admin",
        "reset-password",
        &name,
        "--password",
        &new_password,
    ]);
    assert!(ok, "{err}");
    assert_ne!(try_login(&s, &name, &password).await, 0);
    assert_eq!(try_login(&s, &name, &new_password).await, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let r = s
            .post(
                "platform/inquire/auth",
                &json!({"name": name, "name_type": 0}),
                Some(&token),
            )
            .await;
        if r.0 == 401 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "old session still works: {}",
            r.1
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (ok, _, err) = cli(&["--database", &db, "admin", "unlock", "nobody-by-that-name"]);
    assert!(!ok && err.contains("not found"), "{err}");
}

#[tokio::test]
async fn users_move_between_deployments_with_their_passwords() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let admin = a.admin_token().await;
    let (name, password) = (unique_name("mv"), gen_password());
    a.create_user(&admin, &name, &password, None).await;

    // Export without hashes never leaks them; with hashes, JSON and CSV.
    let (ok, out, err) = cli(&["--database", a.database_url(), "export-users"]);
    assert!(ok, "{err}");
    let plain: Value = serde_json::from_str(&out).expect("JSON export");
    assert!(plain
        .as_array()
        .is_some_and(|a| a.iter().any(|u| u["name"] == name.as_str())));
    assert!(!out.contains("$argon2"), "no hashes by default");
    let export = std::env::temp_dir().join(format!("{}-users.json", unique()));
    let (ok, _, err) = cli(&[
        "--database",
        a.database_url(),
        "export-users",
        "--with-hashes",
        "--output",
        &export.to_string_lossy(),
    ]);
    assert!(ok, "{err}");
    let exported: Value =
        serde_json::from_str(&std::fs::read_to_string(&export).expect("read")).expect("json");
    let mine: Vec<Value> = exported
        .as_array()
        .expect("array")
        .iter()
        .filter(|u| u["name"] == name.as_str())
        .cloned()
        .collect();
    let only = temp_file("one.json", &serde_json::to_string(&mine).expect("json"));
    let (ok, out, err) = cli(&[
        "--database",
        b.database_url(),
        "import-users",
        &only.to_string_lossy(),
    ]);
    assert!(ok && out.contains("imported 1"), "{out}{err}");
    assert_eq!(
        try_login(&b, &name, &password).await,
        0,
        "argon2 hash carried over"
    );

    // CSV with a bcrypt hash from another system: verifies, then is rehashed on login.
    let legacy = unique_name("legacy");
    let hash = bcrypt::hash("legacy-pass-1", 4).expect("bcrypt");
    let csv = temp_file(
        "users.csv",
        &format!(
            "name,password_hash,email,phone,alias,role,enabled\n{legacy},{hash},{legacy}@example.com,13900000000,Legacy,,true\nbroken,not-a-hash,,,,,true\n"
        ),
    );
    let (ok, out, err) = cli(&[
        "--database",
        b.database_url(),
        "import-users",
        &csv.to_string_lossy(),
    ]);
    assert!(
        ok && out.contains("imported 1") && out.contains("skipped 1"),
        "{out}{err}"
    );
    assert!(err.contains("broken"), "the refused record is named: {err}");
    assert_eq!(try_login(&b, &legacy, "legacy-pass-1").await, 0);
    assert_ne!(try_login(&b, &legacy, "wrong").await, 0);
    let (ok, out, _) = cli(&[
        "--database",
        b.database_url(),
        "export-users",
        "--with-hashes",
        "--format",
        "csv",
    ]);
    assert!(ok);
    let row = out
        .lines()
        .find(|l| l.starts_with(&format!("{legacy},")))
        .expect("csv row");
    assert!(row.contains("$argon2id$"), "rehashed at first login: {row}");
    for f in [export, only, csv] {
        let _ = std::fs::remove_file(f);
    }
}

/// `--admin-password-file`: the admin's first password from a file (its first line), kept
/// out of the process list; refused beside `--admin-password`. Config, not storage: run on
/// an embedded SQLite file of its own.
#[tokio::test]
async fn the_admin_password_can_come_from_a_file() {
    use std::io::{BufRead, BufReader};
    let password = gen_password();
    let file = temp_file("admin-pw", &format!("{password}\nignored second line\n"));
    let db_path = std::env::temp_dir().join(format!("{}-pwfile.db", unique()));
    let db = format!("sqlite://{}?mode=rwc", db_path.display());
    let file_arg = file.display().to_string();

    let (ok, _, err) = cli(&[
        "--database",
        &db,
        "--admin-password",
        "x",
        "--admin-password-file",
        &file_arg,
        "migrate",
    ]);
    assert!(!ok, "both flags at once are refused");
    assert!(err.contains("admin-password"), "{err}");

    let mut child = Command::new(server_binary())
        .args(["--listen", "127.0.0.1:0", "--database", &db])
        .args(["--admin-password-file", &file_arg])
        .env("NO_COLOR", "1")
        .env_remove("RBAC_CONFIG")
        .env_remove("RBAC_ADMIN_PASSWORD")
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("server");
    let stdout = child.stdout.take().expect("stdout");
    let base = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening on ").map(str::to_string))
        .expect("listening line");
    let login = |pw: String| {
        let url = format!("{base}/api/v1/login");
        async move {
            let r: Value = reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client")
                .post(url)
                .json(&json!({"name": "admin", "password": pw}))
                .send()
                .await
                .expect("login")
                .json()
                .await
                .expect("json");
            code(&r)
        }
    };
    let worked = login(password.clone()).await;
    let wrong = login(format!("{password}x")).await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&db_path);
    let _ = std::fs::remove_file(&file);
    assert_eq!(worked, 0, "the file's first line is admin's password");
    assert_eq!(wrong, 1002, "control: another password is refused");
}
