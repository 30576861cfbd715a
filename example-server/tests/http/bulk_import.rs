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
