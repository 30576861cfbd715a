//! Slow and abusive clients at the connection level: trickled headers are cut off, huge
//! headers are refused, idle half-requests do not starve other clients, and the server
//! keeps answering throughout.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tests::*;

fn host_port(srv: &TestServer) -> String {
    srv.base_url().trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection (or `limit` passes): what it sent.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn trickled_headers_are_cut_off_and_others_are_served() {
    let srv = TestServer::start_with(&["--header-read-timeout-secs", "1"]).await;
    let addr = host_port(&srv);
    // Twenty clients that start a request and never finish its headers.
    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(&addr).await.expect("connect");
        s.write_all(b"GET /api/v1/platform/ping HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .expect("write");
        idle.push(s);
    }
    // Meanwhile everyone else is served.
    assert_eq!(srv.request("GET", "platform/ping", None).await.0, 200);
    // The server hangs up on each of them once the header timeout passes.
    let started = Instant::now();
    for mut s in idle {
        let answer = read_until_closed(&mut s, Duration::from_secs(5)).await;
        let answer = answer.expect("the server closes a connection whose headers never end");
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "unexpected answer to a trickled request: {text}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(srv.request("GET", "platform/ping", None).await.0, 200);
}

#[tokio::test]
async fn oversized_headers_are_refused_and_the_server_survives() {
    let srv = TestServer::start().await;
    let addr = host_port(&srv);
    let mut s = TcpStream::connect(&addr).await.expect("connect");
    let huge = "a".repeat(200 * 1024);
    let request =
        format!("GET /api/v1/platform/ping HTTP/1.1\r\nHost: x\r\nX-Huge: {huge}\r\n\r\n");
    // The server may stop reading and close before the whole head is sent.
    let _ = s.write_all(request.as_bytes()).await;
    let answer = read_until_closed(&mut s, Duration::from_secs(10))
        .await
        .expect("the server answers or closes");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431") || text.starts_with("HTTP/1.1 400"),
        "unexpected answer to a 200 KiB header: {}",
        text.lines().next().unwrap_or_default()
    );
    assert!(!text.contains(" 5"), "no 5xx: {text}");
    // A thousand small headers are refused too.
    let mut s = TcpStream::connect(&addr).await.expect("connect");
    let mut request = String::from("GET /api/v1/platform/ping HTTP/1.1\r\nHost: x\r\n");
    for i in 0..1000 {
        request.push_str(&format!("X-H{i}: v\r\n"));
    }
    request.push_str("\r\n");
    let _ = s.write_all(request.as_bytes()).await;
    let answer = read_until_closed(&mut s, Duration::from_secs(10))
        .await
        .expect("the server answers or closes");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431") || text.starts_with("HTTP/1.1 400"),
        "unexpected answer to 1000 headers: {}",
        text.lines().next().unwrap_or_default()
    );
    assert_eq!(srv.request("GET", "platform/ping", None).await.0, 200);
}

#[tokio::test]
async fn a_handler_slower_than_the_request_timeout_gets_a_503() {
    let srv = TestServer::start_with(&["--bench-routes", "--request-timeout-secs", "1"]).await;
    let started = Instant::now();
    let (status, body) = srv.get_text("/bench/sleep/5000", &[]).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("timed out"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "answered after {:?}",
        started.elapsed()
    );
    let (status, _) = srv.get_text("/bench/sleep/10", &[]).await;
    assert_eq!(status, 200, "a quick handler is unaffected");
}
