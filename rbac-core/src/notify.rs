//! The ports that deliver messages to users (SMS), and a development implementation that
//! only logs.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use rbac_core::{Mail, MailSender, SendError, Senders};
//!
//! /// An application's own mail port: here, an outbox in memory.
//! #[derive(Default)]
//! struct Outbox(Mutex<Vec<String>>);
//!
//! #[async_trait::async_trait]
//! impl MailSender for Outbox {
//!     async fn send(&self, mail: &Mail) -> Result<(), SendError> {
//!         self.0.lock().expect("outbox").push(mail.to.clone());
//!         Ok(())
//!     }
//! }
//!
//! let outbox = Arc::new(Outbox::default());
//! let senders = Senders { mail: outbox.clone(), ..Senders::default() };
//! let mail = Mail { to: "ann@example.com".into(), subject: "Your code".into(), body: "123456".into(), code: None };
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! senders.mail.send(&mail).await.expect("sent");
//! # });
//! assert_eq!(outbox.0.lock().expect("outbox").as_slice(), ["ann@example.com"]);
//! ```

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

/// What an SMS carries.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmsContent {
    /// A registration verification code.
    RegisterCode(String),
    /// A new account's password, sent to the account's phone.
    Password(String),
}

impl SmsContent {
    /// What the message carries, for logs (never the secret itself).
    pub fn kind(&self) -> &'static str {
        match self {
            SmsContent::RegisterCode(_) => "registration code",
            SmsContent::Password(_) => "password",
        }
    }
}

/// One SMS to send.
#[derive(Clone, PartialEq, Eq)]
pub struct Sms {
    /// The recipient's phone number.
    pub phone: String,
    /// The message.
    pub content: SmsContent,
}

impl fmt::Debug for Sms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sms")
            .field("phone", &self.phone)
            .field("kind", &self.content.kind())
            .finish_non_exhaustive()
    }
}

/// Why a message was not delivered.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// Sends SMS messages (a provider's API, a webhook, a log).
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends one message; `Err` when it was not accepted for delivery.
    async fn send(&self, sms: &Sms) -> Result<(), SendError>;
}

/// Development mode: logs each SMS at INFO instead of sending it (a code is logged so a
/// developer can register; a password never is).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSms;

#[async_trait]
impl SmsSender for LogSms {
    async fn send(&self, sms: &Sms) -> Result<(), SendError> {
        match &sms.content {
            SmsContent::RegisterCode(code) => {
                tracing::info!(phone = %sms.phone, kind = sms.content.kind(), %code, "SMS not sent (development mode)");
            }
            SmsContent::Password(_) => {
                tracing::info!(phone = %sms.phone, kind = sms.content.kind(), "SMS not sent (development mode; password withheld from the log)");
            }
        }
        Ok(())
    }
}

/// One e-mail to send.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// The verification code the body carries, if any (for the development log only).
    pub code: Option<String>,
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Sends e-mail (SMTP, a provider's API, a log).
#[async_trait]
pub trait MailSender: Send + Sync {
    /// Sends one message; `Err` when the relay did not accept it.
    async fn send(&self, mail: &Mail) -> Result<(), SendError>;
}

/// Development mode: logs each e-mail's recipient, subject and code at INFO instead of
/// sending it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMail;

#[async_trait]
impl MailSender for LogMail {
    async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        tracing::info!(to = %mail.to, subject = %mail.subject, code = mail.code.as_deref().unwrap_or(""), "e-mail not sent (development mode)");
        Ok(())
    }
}

/// The message ports the use-cases send through.
#[derive(Clone)]
pub struct Senders {
    /// SMS delivery.
    pub sms: Arc<dyn SmsSender>,
    /// E-mail delivery.
    pub mail: Arc<dyn MailSender>,
}

impl Default for Senders {
    /// Every port in development (logging) mode.
    fn default() -> Self {
        Senders {
            sms: Arc::new(LogSms),
            mail: Arc::new(LogMail),
        }
    }
}

impl fmt::Debug for Senders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Senders").finish_non_exhaustive()
    }
}
