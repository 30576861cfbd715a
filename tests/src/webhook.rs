//! A webhook receiver (the SMS gateway stand-in).

use crate::*;

/// One request as received: its head (lower case), its body's bytes, and whether it was
/// answered 200.
pub type WebhookRequest = (String, Vec<u8>, bool);

/// A minimal HTTP/1.1 listener on loopback that records each POSTed JSON body and answers
/// 200, or 500 while failing is switched on.
pub struct Webhook {
    url: String,
    received: Arc<Mutex<Vec<Value>>>,
    heads: Arc<Mutex<Vec<String>>>,
    requests: Arc<Mutex<Vec<WebhookRequest>>>,
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
        let requests: Arc<Mutex<Vec<WebhookRequest>>> = Arc::default();
        let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (rec, fail, hds) = (received.clone(), failing.clone(), heads.clone());
        let reqs = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (rec, fail, hds) = (rec.clone(), fail.clone(), hds.clone());
                let reqs = reqs.clone();
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
                            let body = buf[end + 4..end + 4 + len].to_vec();
                            // Decided once: what is recorded is what is answered.
                            let ok = !fail.load(Ordering::SeqCst);
                            if let Ok(mut r) = reqs.lock() {
                                r.push((head.clone(), body.clone(), ok));
                            }
                            break (body, ok);
                        }
                    };
                    let (body, ok) = body;
                    let value = serde_json::from_slice(&body)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
                    if let Ok(mut r) = rec.lock() {
                        r.push(value);
                    }
                    let status = if ok {
                        "200 OK"
                    } else {
                        "500 Internal Server Error"
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
            requests,
            failing,
            task,
        }
    }

    /// Every request so far: its head (lower case), its body's exact bytes, and whether it
    /// was answered 200.
    pub fn requests(&self) -> Vec<WebhookRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
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
