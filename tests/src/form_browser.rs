//! The console as a browser without scripts uses it: a cookie jar over a client that does
//! not follow redirects, forms posted with their fields, the CSRF token read from a page.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, ACCEPT_LANGUAGE, COOKIE, LOCATION, SET_COOKIE};

use crate::*;

/// A cookie jar over a client that does not follow redirects.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    /// The cookies it holds.
    pub cookies: BTreeMap<String, String>,
    /// The raw `Set-Cookie` values of the last answer.
    pub set_cookies: Vec<String>,
    /// Its `Accept-Language`.
    pub lang: &'static str,
}

/// An answer as a browser sees it.
pub struct Page {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: String,
}

impl Page {
    /// The `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the form field `name` (the first one).
    pub fn field(&self, name: &str) -> String {
        let pattern = format!(r#"name="{name}" value="([^"]*)""#);
        regex::Regex::new(&pattern)
            .expect("pattern")
            .captures(&self.body)
            .map(|c| c[1].to_string())
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
    }
}

impl Browser {
    /// A browser with no cookies.
    pub fn new(s: &TestServer) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: s.base_url().to_string(),
            cookies: BTreeMap::new(),
            set_cookies: Vec::new(),
            lang: "en",
        }
    }

    fn absorb(&mut self, headers: &HeaderMap) {
        self.set_cookies.clear();
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().expect("cookie text").to_string();
            let (pair, attributes) = text.split_once(';').unwrap_or((&text, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if attributes.contains("Max-Age=0") || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
            self.set_cookies.push(text);
        }
    }

    fn with_cookies(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let jar = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        req.header(COOKIE, jar).header(ACCEPT_LANGUAGE, self.lang)
    }

    async fn answer(&mut self, req: reqwest::RequestBuilder) -> Page {
        let resp = self.with_cookies(req).send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.expect("body");
        self.absorb(&headers);
        Page {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.answer(req).await
    }

    /// Posts a form to `path`.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).form(form);
        self.answer(req).await
    }

    /// Posts JSON to `path` as the console's script does, with the CSRF token in a header.
    pub async fn post_json(&mut self, path: &str, csrf: &str, body: &serde_json::Value) -> Page {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", csrf)
            .json(body);
        self.answer(req).await
    }

    /// Signs in with the password; the answer to the password step.
    pub async fn password_step(&mut self, name: &str, password: &str) -> Page {
        let form = self.get("/admin/login").await;
        let csrf = form.field("csrf");
        self.post(
            "/admin/login",
            &[("name", name), ("password", password), ("csrf", &csrf)],
        )
        .await
    }
}

/// Signs a browser in to the console with the password; the session's CSRF token.
pub async fn console_session(b: &mut Browser, name: &str, password: &str) -> String {
    let r = b.password_step(name, password).await;
    assert_eq!((r.status, r.location()), (303, "/admin"), "{}", r.body);
    b.get("/admin").await.field("csrf")
}
