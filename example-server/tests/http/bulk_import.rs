//! `import-users` in batches: what a run inserts logs in, a re-run resumes (names already
//! present are skipped and counted), e-mail and look-alike collisions are reported apart,
//! and one audit entry is written per batch, through the real binary on the test database.

use std::process::Command;

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

fn csv_file(rows: &[String]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}-import.csv", unique_name("bulk")));
    let mut text = String::from("name,password_hash,email,phone,alias,role,enabled\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&path, text).expect("csv");
    path
}

#[tokio::test]
async fn a_rerun_resumes_and_collisions_are_reported_apart() {
    let s = TestServer::start().await;
    let hash = bcrypt::hash("bulk-pass-1", 4).expect("bcrypt");
    let t = unique_name("b");
    // 1,201 users: three batches.
    let mut rows: Vec<String> = (0..1201)
        .map(|i| format!("{t}u{i},{hash},{t}u{i}@example.com,,,,true"))
        .collect();
    let first = csv_file(&rows);
    let (ok, out, err) = cli(&[
        "--database",
        s.database_url(),
        "import-users",
        &first.to_string_lossy(),
    ]);
    assert!(
        ok && out.contains("imported 1201 users, skipped 0"),
        "{out}{err}"
    );
    assert_eq!(
        code(
            &s.post(
                "login",
                &json!({"name": format!("{t}u1200"), "password": "bulk-pass-1"}),
                None
            )
            .await
            .1
        ),
        0
    );

    // The re-run: the same rows, one new, one holding another's e-mail (other case), one
    // imitating a name, one invalid.
    rows.push(format!("{t}new,{hash},,,,,true"));
    rows.push(format!(
        "{t}taken,{hash},{}U7@EXAMPLE.com,,,,true",
        t.to_uppercase()
    ));
    rows.push(format!("{t}broken,not-a-hash,,,,,true"));
    let second = csv_file(&rows);
    let (ok, out, err) = cli(&[
        "--database",
        s.database_url(),
        "import-users",
        &second.to_string_lossy(),
    ]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("imported 1 users, skipped 1203 (1201 already present, 1 e-mail conflicts, 0 look-alike names, 1 invalid)"),
        "{out}{err}"
    );
    assert!(
        err.contains(&format!("{t}taken: another user holds this e-mail address")),
        "{err}"
    );
    assert!(err.contains(&format!("{t}broken")), "{err}");
    assert_eq!(
        code(
            &s.post(
                "login",
                &json!({"name": format!("{t}new"), "password": "bulk-pass-1"}),
                None
            )
            .await
            .1
        ),
        0
    );
    assert_ne!(
        code(
            &s.post(
                "login",
                &json!({"name": format!("{t}taken"), "password": "bulk-pass-1"}),
                None
            )
            .await
            .1
        ),
        0
    );

    // One audit entry per batch: three for the first run, three for the re-run.
    let admin = s.admin_token().await;
    let r = s
        .post(
            "platform/list/oper-log",
            &json!({"page_no": 0, "page_size": 0}),
            Some(&admin),
        )
        .await;
    let data = expect_ok(&r, "list/oper-log");
    let batches = data["list"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|e| e.to_string().contains("import a batch of"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(batches, 6, "{data}");
    for f in [first, second] {
        let _ = std::fs::remove_file(f);
    }
}

/// A bcrypt hash of cost 31 would make one anonymous login hash for days: the import refuses
/// it (and a cost-4 row beside it imports); a dear hash already stored is refused at login
/// without being computed, and logged.
#[tokio::test]
async fn hashes_dearer_than_the_policy_are_refused() {
    let s = TestServer::start().await;
    let t = unique_name("c");
    let cheap = bcrypt::hash("bulk-pass-1", 4).expect("bcrypt");
    let dear = "$2b$31$abcdefghijklmnopqrstuuKHW2OVfmiQXcoE8OTsIHGu/NzB3Axq.";
    let file = csv_file(&[
        format!("{t}dear,{dear},,,,,true"),
        format!("{t}cheap,{cheap},,,,,true"),
    ]);
    let (ok, out, err) = cli(&[
        "--database",
        s.database_url(),
        "import-users",
        &file.to_string_lossy(),
    ]);
    let _ = std::fs::remove_file(file);
    assert!(ok, "{out}{err}");
    assert!(out.contains("imported 1 users"), "{out}{err}");
    assert!(
        err.contains(&format!("{t}dear")) && err.contains("cost"),
        "the refusal says why: {err}"
    );
    let login = |name: String| {
        let s = &s;
        async move {
            code(
                &s.post(
                    "login",
                    &json!({"name": name, "password": "bulk-pass-1"}),
                    None,
                )
                .await
                .1,
            )
        }
    };
    assert_eq!(
        login(format!("{t}cheap")).await,
        0,
        "the cheap row imported"
    );
    assert_ne!(login(format!("{t}dear")).await, 0, "the dear row did not");

    // A dear hash that reached the store another way: refused at once, and logged.
    let admin = s.admin_token().await;
    let victim = unique_name("dear");
    s.create_user(&admin, &victim, "Dear-pw-123", None).await;
    s.exec_sql(&format!(
        "UPDATE rbac_users SET password_hash = '{dear}' WHERE name = '{victim}'"
    ))
    .await;
    let started = std::time::Instant::now();
    let r = s
        .post(
            "login",
            &json!({"name": victim, "password": "Dear-pw-123"}),
            None,
        )
        .await;
    assert_eq!(code(&r.1), 1002, "{r:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "answered without computing the hash"
    );
    assert!(
        s.log_line(|l| l.contains("outside the cost policy"))
            .await
            .is_some(),
        "logged"
    );
}
