//! Message delivery adapters: the SMS webhook and SMTP mail.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rbac_core::{Mail, MailSender, SendError, Sms, SmsContent, SmsSender};
use serde_json::json;

/// Posts each SMS as JSON to a webhook (an SMS gateway's relay): `{"phone","template",
/// "code"}` or `{"phone","template","password"}`. A 2xx answer is delivery; a failure is
/// retried once.
#[derive(Debug, Clone)]
pub struct WebhookSms {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl WebhookSms {
    /// A sender posting to `url` (plain `http://`), each attempt bounded by `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("--sms-webhook {url:?}: {e}"))?;
        if url.scheme() != "http" {
            return Err(format!(
                "--sms-webhook must be an http:// URL (a local relay); got {}:",
                url.scheme()
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(WebhookSms { client, url })
    }

    async fn post(&self, body: &serde_json::Value) -> Result<(), String> {
        let resp = self
            .client
            .post(self.url.clone())
            .json(body)
            .send()
            .await
            // Without the URL: it may carry the relay's credentials or a token.
            .map_err(|e| e.without_url().to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("webhook answered {}", resp.status()))
        }
    }
}

#[async_trait]
impl SmsSender for WebhookSms {
    async fn send(&self, sms: &Sms) -> Result<(), SendError> {
        // The console document's template names.
        let body = match &sms.content {
            SmsContent::RegisterCode(code) => {
                json!({"phone": sms.phone, "template": "注册验证", "code": code})
            }
            SmsContent::Password(password) => {
                json!({"phone": sms.phone, "template": "密码通知", "password": password})
            }
            _ => {
                return Err(SendError(
                    "a message this server has no template for".into(),
                ))
            }
        };
        match self.post(&body).await {
            Ok(()) => Ok(()),
            Err(first) => {
                tracing::warn!(error = %first, "SMS webhook failed; retrying once");
                tokio::time::sleep(Duration::from_millis(200)).await;
                self.post(&body).await.map_err(SendError)
            }
        }
    }
}

/// Sends e-mail through an SMTP relay: `smtps://host[:465]` (TLS from the first byte),
/// `smtp://host[:25]?tls=required` (STARTTLS, refusing a relay that does not offer it), or
/// `smtp://host[:25]` (STARTTLS whenever the relay offers it). With credentials in the URL
/// plain `smtp://` requires STARTTLS, so a password never crosses in the clear; add
/// `?tls=opportunistic` to accept that anyway.
#[derive(Clone)]
pub struct SmtpMail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMail")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMail {
    /// A sender for the relay `url`, writing from `from`.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("--smtp-url: {e}"))?;
        let host = parsed
            .host_str()
            .ok_or("--smtp-url names no host")?
            .to_string();
        let mode = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let with_credentials = !parsed.username().is_empty();
        let params =
            || TlsParameters::new(host.clone()).map_err(|e| format!("--smtp-url TLS: {e}"));
        let (tls, default_port) = match (parsed.scheme(), mode.as_deref()) {
            ("smtps", None | Some("wrapper")) => (Tls::Wrapper(params()?), 465),
            ("smtp", Some("required")) => (Tls::Required(params()?), 25),
            ("smtp", None) if with_credentials => (Tls::Required(params()?), 25),
            ("smtp", None | Some("opportunistic")) => (Tls::Opportunistic(params()?), 25),
            ("smtp" | "smtps", Some(other)) => {
                return Err(format!(
                    "--smtp-url: tls={other} is not one of required, opportunistic"
                ))
            }
            (scheme, _) => {
                return Err(format!(
                    "--smtp-url must be smtps://host[:port] or smtp://host[:port][?tls=required]; \
                     got {scheme}:"
                ))
            }
        };
        let port = parsed.port().unwrap_or(default_port);
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(10)));
        if !parsed.username().is_empty() {
            let user = rbac_tower::credential::percent_decode(parsed.username());
            let password = rbac_tower::credential::percent_decode(parsed.password().unwrap_or(""));
            builder = builder.credentials(Credentials::new(user, password));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("--mail-from {from:?}: {e}"))?;
        Ok(SmtpMail {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl MailSender for SmtpMail {
    async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let to = mail
            .to
            .parse::<Mailbox>()
            .map_err(|e| SendError(format!("recipient {}: {e}", mail.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| SendError(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendError(e.to_string()))
    }
}
