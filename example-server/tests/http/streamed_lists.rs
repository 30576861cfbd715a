//! Lists stream: an instance reading the store 7 rows at a time sends list answers as
//! it reads it (chunked, without a length), byte for byte what an instance on the same
//! database sends whole (one read: its length known); and listing everything adds memory
//! that does not grow with the number of users.

use std::process::Command;

use tests::*;

/// Imports `n` users named `{prefix}{i}` through the binary's `import-users`.
fn import(s: &TestServer, prefix: &str, n: usize) {
    let hash = "$2b$04$e0MYzXyjpJS7Pd0RVvHwHe1HlCsz2Ot5nzCQWXNIDkhi9GZpQNdEO";
    let mut text = String::from("name,password_hash,email,phone,alias,role,enabled\n");
    for i in 0..n {
        text.push_str(&format!(
            "{prefix}{i},{hash},{prefix}{i}@example.com,,\"<b>{i}</b> 名前\",,true\n"
        ));
    }
    let path = std::env::temp_dir().join(format!("{}-stream.csv", unique_name("s")));
    std::fs::write(&path, text).expect("csv");
    let out = Command::new(server_binary())
        .args(["--database", s.database_url(), "import-users"])
        .arg(&path)
        .env_remove("RBAC_CONFIG")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("running import-users");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "import-users: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One answer's raw bytes and whether it came with a length.
async fn raw(
    s: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, bool, Vec<u8>) {
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client.request(method, s.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let sized = resp.headers().contains_key("content-length");
    let bytes = resp.bytes().await.expect("a whole body").to_vec();
    (status, sized, bytes)
}

#[tokio::test]
async fn streamed_lists_are_the_bytes_of_whole_ones() {
    let chunked = TestServer::start_with(&["--listing-chunk-rows", "7"]).await;
    let t = unique_name("st");
    import(&chunked, &t, 240);
    let whole = chunked
        .start_sharing(&["--listing-chunk-rows", "100000"])
        .await;
    // Every login and write before any listing: they change what the lists show.
    let admin = chunked.admin_token().await;
    for i in 0..12 {
        chunked.create_role(&admin, &format!("{t}-role-{i}")).await;
    }
    let iam = chunked.iam_admin_token().await;
    let cloud = chunked
        .post(
            "user/login",
            &json!({"username": "admin", "password": chunked.admin_password()}),
            None,
        )
        .await;
    let cloud = cloud.1["data"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("cloud login: {}", cloud.1))
        .to_string();
    let bearer = format!("Bearer {iam}");
    let platform = |body: Value| (vec![("Auth-Token", admin.clone())], body);
    // (method, path, headers, body, where the rows are, how many at least)
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, String)>,
        Option<Value>,
        &'a str,
        usize,
    );
    let cases: Vec<Case> = vec![
        {
            let (h, b) = platform(json!({"page_no": 0, "page_size": 0}));
            ("POST", "platform/list/user", h, Some(b), "/data/users", 241)
        },
        {
            let (h, b) = platform(json!({"page_no": 1, "page_size": 100}));
            ("POST", "platform/list/user", h, Some(b), "/data/users", 100)
        },
        {
            let (h, b) = platform(json!({"name": t.clone(), "page_size": 0}));
            ("POST", "platform/list/user", h, Some(b), "/data/users", 240)
        },
        {
            let (h, b) = platform(json!({"page_size": 0}));
            (
                "POST",
                "platform/list/oper-log",
                h,
                Some(b),
                "/data/list",
                8,
            )
        },
        (
            "GET",
            "/v1/users?limit=100000",
            vec![("Authorization", bearer.clone())],
            None,
            "/items",
            241,
        ),
        (
            "GET",
            "/v1/users?offset=17&limit=150",
            vec![("Authorization", bearer.clone())],
            None,
            "/items",
            150,
        ),
        (
            "GET",
            "user/list",
            vec![("token", cloud.clone())],
            None,
            "/data/users",
            241,
        ),
    ];
    for (method, path, headers, body, list, rows) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s1, sized1, streamed) = raw(&chunked, method, path, &headers, body.as_ref()).await;
        let (s2, sized2, buffered) = raw(&whole, method, path, &headers, body.as_ref()).await;
        assert_eq!((s1, s2), (200, 200), "{path}");
        let text = String::from_utf8_lossy(&streamed);
        assert!(
            !sized1,
            "{path}: read 7 rows at a time, yet sent with a length"
        );
        assert!(sized2, "{path}: read at once, yet sent without a length");
        assert_eq!(text, String::from_utf8_lossy(&buffered), "{path} {body:?}");
        let parsed: Value = serde_json::from_slice(&streamed).expect("json");
        let got = parsed
            .pointer(list)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        assert!(got >= rows, "{path}: {got} rows, expected {rows} or more");
    }
}

/// The peak resident set of a process, in KiB (`VmHWM`).
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM")
}

/// Starts the peak over from the current resident set.
fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("clear_refs");
}

/// What listing every user adds to the server's peak resident set, in KiB (the best of two
/// runs, so a stray allocation elsewhere does not count).
async fn listing_adds(s: &TestServer, admin: &str, users: usize) -> u64 {
    let body = json!({"page_no": 0, "page_size": 0});
    let mut best = u64::MAX;
    for _ in 0..2 {
        reset_peak(s.pid());
        let before = peak_kib(s.pid());
        let (status, _, bytes) = raw(
            s,
            "POST",
            "platform/list/user",
            &[("Auth-Token", admin)],
            Some(&body),
        )
        .await;
        assert_eq!(status, 200);
        let parsed: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(parsed["header"]["count"], json!(users + 1));
        best = best.min(peak_kib(s.pid()).saturating_sub(before));
    }
    best
}

#[tokio::test]
async fn listing_everyone_adds_memory_that_does_not_grow_with_the_users() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let t = unique_name("m");
    import(&s, &format!("{t}a"), 20_000);
    let small = listing_adds(&s, &admin, 20_000).await;
    import(&s, &format!("{t}b"), 40_000);
    let large = listing_adds(&s, &admin, 60_000).await;
    eprintln!("listing 20,000 users added {small} KiB, 60,000 added {large} KiB");
    // Buffered, the answer for 60,000 users alone is about 20 MB, and three times that of
    // 20,000: streamed, both stay at a few chunks.
    assert!(
        large < small + 4 * 1024 && large < 16 * 1024,
        "listing 60,000 users added {large} KiB, 20,000 added {small} KiB"
    );
}
