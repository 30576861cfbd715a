//! Debian's Chromium driven through chromedriver (WebDriver), for the console's browser
//! tests. They run when `RBAC_TEST_CHROMEDRIVER` names the driver (`.ci/run` installs
//! Chromium and sets it); then a driver that cannot start fails the test, never skips it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};

use crate::*;

/// A running chromedriver; each [`Chrome::session`] is a browser with a fresh profile.
pub struct Chrome {
    driver: Child,
    url: String,
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Chrome {
    /// Starts the driver `RBAC_TEST_CHROMEDRIVER` names; `None` when it is unset (the
    /// README's test command has no browser).
    pub async fn start() -> Option<Chrome> {
        let driver = std::env::var("RBAC_TEST_CHROMEDRIVER").ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("RBAC_TEST_CHROMEDRIVER={driver} does not start: {e}"));
        let chrome = Chrome {
            driver: child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = format!("{}/status", chrome.url);
        loop {
            if let Ok(r) = reqwest::get(&status).await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver at {} did not answer within 30 s",
                chrome.url
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(chrome)
    }

    /// A new headless Chromium (its own profile: its own cookies).
    pub async fn session(&self) -> Client {
        let binary =
            std::env::var("RBAC_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": binary,
                // As root Chromium needs --no-sandbox.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900"],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("Chromium does not start through chromedriver: {e}"))
    }
}

/// The page's visible text.
pub async fn page_text(browser: &Client) -> String {
    browser
        .find(fantoccini::Locator::Css("body"))
        .await
        .expect("a body")
        .text()
        .await
        .expect("its text")
}

/// Fills the console's sign-in form and submits it.
pub async fn console_sign_in(browser: &Client, server: &TestServer, name: &str, password: &str) {
    browser
        .goto(&format!("{}/admin/login", server.base_url()))
        .await
        .expect("the sign-in page");
    fill(browser, "#name", name).await;
    fill(browser, "#password", password).await;
    click(browser, "form[action='/admin/login'] button[type=submit]").await;
}

/// Types `text` into the element `css`.
pub async fn fill(browser: &Client, css: &str, text: &str) {
    browser
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
}

/// Clicks the element `css` and waits for the page it leads to (a form's answer, a
/// link's target) to have loaded.
pub async fn click(browser: &Client, css: &str) {
    browser
        .execute("window.__rbacStale = true; return true", vec![])
        .await
        .expect("marking the page");
    click_only(browser, css).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let fresh = browser
            .execute(
                "return window.__rbacStale === undefined && document.readyState === 'complete'",
                vec![],
            )
            .await
            .unwrap_or(serde_json::Value::Bool(false));
        if fresh == serde_json::Value::Bool(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "clicking {css} led to no new page"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks the element `css` (on the same page: no navigation awaited).
pub async fn click_only(browser: &Client, css: &str) {
    browser
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// The WebDriver extension command of WebAuthn that adds a virtual authenticator: a
/// platform authenticator keeping discoverable credentials, whose user is present and
/// verified.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/webauthn/authenticator"))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let options = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
            "automaticPresenceSimulation": true,
        });
        (http::Method::POST, Some(options.to_string()))
    }
}

/// Gives the browser a virtual authenticator (Chromium's WebAuthn testing API).
pub async fn add_virtual_authenticator(browser: &Client) {
    browser
        .issue_cmd(AddVirtualAuthenticator)
        .await
        .unwrap_or_else(|e| panic!("adding a virtual authenticator: {e}"));
}

/// Waits until the element `css` is on the page (after a script's work).
pub async fn wait_for(browser: &Client, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser.find(fantoccini::Locator::Css(css)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "{css} did not appear: {}",
            page_text(browser).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
