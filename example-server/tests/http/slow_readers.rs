//! Slow readers cannot hold what others need: a client that asks for every user and reads
//! none of the answer keeps its large-listing turn only until the write-progress timeout
//! cuts its connection, and one user holds at most one turn at a time.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

use tests::*;

/// Imports `n` users in one run of `import-users` (so every user listing is large).
fn import_users(s: &TestServer, n: usize) {
    let hash = bcrypt::hash("slow-pass-1", 4).expect("bcrypt");
    let t = unique_name("slow");
    let mut text = String::from("name,password_hash,email,phone,alias,role,enabled\n");
    for i in 0..n {
        text.push_str(&format!(
            "{t}u{i},{hash},{t}u{i}@example.com,,{i} {},,true\n",
            "a long alias to make the answer bigger ".repeat(6)
        ));
    }
    let path = std::env::temp_dir().join(format!("{t}-import.csv"));
    std::fs::write(&path, text).expect("csv");
    let out = std::process::Command::new(server_binary())
        .args(["--database", s.database_url(), "import-users"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .env_remove("RBAC_CONFIG")
        .output()
        .expect("import-users");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asks for every user as `token` over a socket with a tiny receive buffer, and reads
/// nothing: the server's answer soon fills the buffers and stalls.
async fn ask_and_never_read(s: &TestServer, token: &str) -> TcpStream {
    let addr: std::net::SocketAddr = s
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small buffer");
    let mut stream = socket.connect(addr).await.expect("connect");
    let body = json!({"page_no": 0, "page_size": 0}).to_string();
    let request = format!(
        "POST /api/v1/platform/list/user HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nAuth-Token: {token}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    stream
}

async fn list_all(s: &TestServer, token: &str) -> i64 {
    let r = s
        .post(
            "platform/list/user",
            &json!({"page_no": 0, "page_size": 0}),
            Some(token),
        )
        .await;
    assert_eq!(r.0, 200, "{r:?}");
    code(&r.1)
}

#[tokio::test]
async fn readers_that_never_read_lose_their_turn_and_hold_one_at_most() {
    let s = TestServer::start_with(&[
        "--write-progress-timeout-secs",
        "6",
        "--full-listings",
        "2",
        "--full-listing-wait-ms",
        "100",
    ])
    .await;
    // About 2.5 MB of answer: far more than the socket buffers hold.
    import_users(&s, 6_000);
    let admin = s.admin_token().await;
    let one = s.new_user(&admin, &["UserAccess"]).await;
    let two = s.new_user(&admin, &["UserAccess"]).await;
    let three = s.new_user(&admin, &["UserAccess"]).await;

    let _first = ask_and_never_read(&s, &one.token).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // One turn is still free, but not for the user who holds the other.
    assert_eq!(
        list_all(&s, &one.token).await,
        1019,
        "a second turn for one user"
    );
    assert_eq!(
        list_all(&s, &two.token).await,
        0,
        "the control: another user gets it"
    );

    let _second = ask_and_never_read(&s, &two.token).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(list_all(&s, &three.token).await, 1019, "both turns held");

    // The stalled answers are cut (their sockets still open on this side): the turns free.
    let started = Instant::now();
    while list_all(&s, &three.token).await != 0 {
        assert!(
            started.elapsed() < Duration::from_secs(25),
            "turns still held {:?} after the write-progress timeout",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
