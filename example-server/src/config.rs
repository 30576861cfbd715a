//! Command-line flags and their environment twins.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::{Args, ValueEnum};
use rbac_core::service::LoginThrottle;
use rbac_core::service::{AbuseLimits, CodePolicy};
use rbac_core::ThrottlePolicy;

use crate::api::console::organisations::Organisation;

use crate::serve::Limits;

/// Who may read `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricsAccess {
    /// Anyone who can reach the listener.
    Open,
    /// Clients connecting from a loopback address; others need a token holding UserAccess.
    Loopback,
    /// Everyone needs a token holding UserAccess.
    Token,
}

/// Every setting of the server. Each has a flag and an environment variable; a TOML file
/// (`--config`) may set any of them too. Precedence: flag, then environment, then file,
/// then default.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// A TOML file of settings, keys named like the flags (`database = "sqlite://…"`,
    /// `login-max-failures = 10`; `_` works for `-`). Flags and environment win over it.
    #[arg(long = "config", env = "RBAC_CONFIG")]
    pub config_file: Option<std::path::PathBuf>,

    /// Log format on standard error: `text` or `json` (one object per line); every line
    /// logged while serving a request carries its request id.
    #[arg(long, env = "RBAC_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "RBAC_LISTEN", default_value = "127.0.0.1:8088")]
    pub listen: SocketAddr,

    /// Database URL: sqlite://path, postgres://…, mysql://…
    #[arg(long, env = "RBAC_DATABASE_URL", default_value = "sqlite://rbac.db")]
    pub database: String,

    /// Password of the `admin` user created on an empty store (random and printed once if unset).
    #[arg(long, env = "RBAC_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// A file holding that password (its first line), so it need not appear in the
    /// process list or the environment; exclusive with `--admin-password`.
    #[arg(
        long,
        env = "RBAC_ADMIN_PASSWORD_FILE",
        conflicts_with = "admin_password"
    )]
    pub admin_password_file: Option<std::path::PathBuf>,

    /// A file holding the key (64 hex digits) that seals second-factor secrets at rest;
    /// never the JWT secret, never in the database. On SQLite, when unset, one is
    /// generated beside the database file (mode 0600) on first start; on PostgreSQL and
    /// MySQL, second factors cannot be enrolled until it is set.
    #[arg(long, env = "RBAC_SECRETS_KEY_FILE")]
    pub secrets_key_file: Option<std::path::PathBuf>,

    /// The issuer name authenticator apps show beside this server's TOTP codes.
    #[arg(long, env = "RBAC_TOTP_ISSUER", default_value = "rbac")]
    pub totp_issuer: String,

    /// The WebAuthn relying-party id passkeys are bound to: the site's domain (an IP
    /// address cannot be one).
    #[arg(long, env = "RBAC_RP_ID", default_value = "localhost")]
    pub rp_id: String,

    /// The origin browsers use passkeys from (default: `http://localhost:PORT` with the
    /// listening port; any port of localhost when that port is 0).
    #[arg(long, env = "RBAC_RP_ORIGIN")]
    pub rp_origin: Option<String>,

    /// The name authenticators show beside this server's passkeys.
    #[arg(long, env = "RBAC_RP_NAME", default_value = "rbac")]
    pub rp_name: String,

    /// HS256 signing secret (generated once and kept in the store if unset).
    #[arg(long, env = "RBAC_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Earlier signing secrets whose tokens stay valid until they expire (comma-separated).
    #[arg(
        long,
        env = "RBAC_JWT_PREVIOUS_SECRETS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub jwt_previous_secrets: Vec<String>,

    /// Lifetime of a login token, in seconds.
    #[arg(long, env = "RBAC_TOKEN_TTL", default_value_t = 43_200)]
    pub token_ttl: u64,

    /// How long a request carrying `X-Rbac-Consistency` may wait for this instance to
    /// apply that revision, in milliseconds (then HTTP 503 with `Retry-After: 1`).
    #[arg(long, env = "RBAC_CONSISTENCY_WAIT_MS", default_value_t = 1000)]
    pub consistency_wait_ms: u64,

    /// Listings of more than 1,000 rows (or of everything) this instance serves at once;
    /// more wait up to `--full-listing-wait-ms`, then get the surface's busy answer (0:
    /// every such listing is refused).
    #[arg(long, env = "RBAC_FULL_LISTINGS", default_value_t = 2)]
    pub full_listings: u32,

    /// Webhooks that receive security events (repeatable, or comma-separated), as JSON
    /// signed with HMAC-SHA256 under `--webhook-secret-file`.
    #[arg(long = "webhook", env = "RBAC_WEBHOOKS", value_delimiter = ',')]
    pub webhooks: Vec<String>,

    /// A file holding the secret that signs security events (required with `--webhook`):
    /// one secret for every target, or lines `URL SECRET`, one key per target.
    #[arg(long, env = "RBAC_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<std::path::PathBuf>,

    /// How often each instance looks for security events to deliver, in milliseconds.
    #[arg(long, env = "RBAC_WEBHOOK_POLL_MS", default_value_t = 1000)]
    pub webhook_poll_ms: u64,

    /// The first retry of a failed delivery waits this many seconds, each next one twice
    /// as long (at most an hour), up to 20 attempts.
    #[arg(long, env = "RBAC_WEBHOOK_RETRY_SECS", default_value_t = 5)]
    pub webhook_retry_secs: u64,

    /// Days security events (and their delivery records) are kept, delivered or not;
    /// older ones are pruned at start and hourly.
    #[arg(long, env = "RBAC_EVENT_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub event_retention_days: u32,

    /// Seconds within which a user with a second factor must have proven it to reset
    /// another's password, change grants or delete users (users without one are not
    /// asked).
    #[arg(long, env = "RBAC_STEP_UP_SECS", default_value_t = 900)]
    pub step_up_secs: u64,

    /// Seconds after sign-in within which a user may begin enrolling a second factor
    /// without giving the password again (later, the password is asked for).
    #[arg(long, env = "RBAC_ENROLMENT_WINDOW_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub enrolment_window_secs: u64,

    /// Most sessions each instance keeps in its cache (and as many API keys); more are
    /// read from the store when used. About 1.2 KB each (benches/RESULTS.md).
    #[arg(long, env = "RBAC_SESSION_CACHE_CAPACITY", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub session_cache_capacity: u64,

    /// How long a large listing waits for its turn, in milliseconds.
    #[arg(long, env = "RBAC_FULL_LISTING_WAIT_MS", default_value_t = 1000)]
    pub full_listing_wait_ms: u64,

    /// Rows a listing reads from the store per query while it streams; a listing of more
    /// rows starts with at most 100, so its first row leaves quickly, and one of fewer is
    /// read at once and sent with its length. The server holds about one chunk per listing,
    /// whatever the page's size.
    #[arg(long, env = "RBAC_LISTING_CHUNK_ROWS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub listing_chunk_rows: u64,

    /// How often SQLite/MySQL instances poll the change log, in milliseconds
    /// (PostgreSQL is notified at once and polls only as a safety net).
    #[arg(long, env = "RBAC_CHANGE_POLL_MS", default_value_t = 500)]
    pub change_poll_ms: u64,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "RBAC_BODY_LIMIT", default_value_t = 1 << 20)]
    pub body_limit: usize,

    /// argon2 memory cost in KiB (OWASP default 19456; lower only for tests).
    #[arg(long, env = "RBAC_ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,

    /// argon2 iterations (OWASP default 2).
    #[arg(long, env = "RBAC_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,

    /// Password hashes computed at once (default: the number of cores).
    #[arg(long, env = "RBAC_ARGON2_WORKERS")]
    pub argon2_workers: Option<usize>,

    /// Password hashes allowed to wait for a worker; past it logins answer "busy" at once
    /// (default: 64 per core).
    #[arg(long, env = "RBAC_ARGON2_QUEUE")]
    pub argon2_queue: Option<usize>,

    /// Seconds a client has to send a request's headers (slow clients are cut off).
    #[arg(long, env = "RBAC_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Seconds an answer may wait for a client that reads none of it before the connection
    /// is cut (a client that asks for every user and never reads cannot keep the listing's
    /// turn).
    #[arg(long, env = "RBAC_WRITE_PROGRESS_TIMEOUT_SECS", default_value_t = 30)]
    pub write_progress_timeout_secs: u64,

    /// Largest request head (request line and headers), in bytes (at least 8192).
    #[arg(long, env = "RBAC_MAX_HEADER_BYTES", default_value_t = 65_536)]
    pub max_header_bytes: usize,

    /// Connections served at once.
    #[arg(long, env = "RBAC_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Seconds a handler has to answer (503 after that).
    #[arg(long, env = "RBAC_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "RBAC_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,

    /// Failed logins per account within the window that cost no wait (typos).
    #[arg(long, env = "RBAC_LOGIN_FREE_FAILURES", default_value_t = 4)]
    pub login_free_failures: u32,

    /// Failed logins per account within the window that lock it.
    #[arg(long, env = "RBAC_LOGIN_MAX_FAILURES", default_value_t = 10)]
    pub login_max_failures: u32,

    /// Failed logins per client address within the window that lock it.
    #[arg(long, env = "RBAC_LOGIN_ADDRESS_MAX_FAILURES", default_value_t = 20)]
    pub login_address_max_failures: u32,

    /// Seconds a failed login counts for.
    #[arg(long, env = "RBAC_LOGIN_WINDOW_SECS", default_value_t = 900)]
    pub login_window_secs: i64,

    /// Seconds a locked account or address stays locked (`enable/user` unlocks an account).
    #[arg(long, env = "RBAC_LOGIN_LOCKOUT_SECS", default_value_t = 900)]
    pub login_lockout_secs: i64,

    /// An account's wait after its first failure past the free ones, doubled by each
    /// further one, in seconds (0: none; addresses only lock).
    #[arg(long, env = "RBAC_LOGIN_BACKOFF_SECS", default_value_t = 1)]
    pub login_backoff_secs: i64,

    /// Days an address stays known to an account after a successful login from it: its
    /// attempts are counted apart, so others' failures do not lock the owner out (0: off).
    #[arg(long, env = "RBAC_LOGIN_KNOWN_ADDRESS_DAYS", default_value_t = 30)]
    pub login_known_address_days: i64,

    /// Password attempts from one client address hashed at once (more wait their turn):
    /// one address cannot take the whole hashing capacity.
    #[arg(long, env = "RBAC_LOGIN_ADDRESS_CONCURRENCY", default_value_t = 4)]
    pub login_address_concurrency: usize,

    /// Milliseconds a login attempt may wait for its turn behind other attempts on the
    /// same account before it is answered as throttled.
    #[arg(long, env = "RBAC_LOGIN_QUEUE_WAIT_MS", default_value_t = 5000)]
    pub login_queue_wait_ms: u64,

    /// Proxies whose `X-Forwarded-For` is believed (comma-separated IPs); none by default.
    #[arg(
        long = "trusted-proxy",
        env = "RBAC_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpAddr>,

    /// Who may read `/metrics`: `open`, `loopback` (loopback clients; others need a token
    /// holding UserAccess) or `token` (always a token holding UserAccess).
    #[arg(
        long,
        env = "RBAC_METRICS_ACCESS",
        value_enum,
        default_value = "loopback"
    )]
    pub metrics_access: MetricsAccess,

    /// Where SMS messages go: an `http://` URL that receives a POST of
    /// `{"phone","template","code"|"password"}` per message (5 s timeout, one retry).
    /// Unset: development mode, messages are logged instead (codes included).
    #[arg(long, env = "RBAC_SMS_WEBHOOK")]
    pub sms_webhook: Option<String>,

    /// Organisations besides 2 (算力互联) and 5 (汴水超算), as `ID=NAME` (repeatable, or
    /// comma-separated in the environment); an ID given again renames it.
    #[arg(long = "organisation", env = "RBAC_ORGANISATIONS", value_delimiter = ',', value_parser = parse_organisation)]
    pub organisations: Vec<Organisation>,

    /// Lifetime of a console (opaque) token after its last use, in seconds.
    #[arg(long, env = "RBAC_CONSOLE_TOKEN_TTL", default_value_t = 7_200)]
    pub console_token_ttl: u64,

    /// Absolute lifetime of a console token, however often it is used, in seconds.
    #[arg(long, env = "RBAC_CONSOLE_TOKEN_MAX_AGE", default_value_t = 604_800)]
    pub console_token_max_age: u64,

    /// Seconds a verification code stays valid.
    #[arg(long, env = "RBAC_CODE_TTL_SECS", default_value_t = 300)]
    pub code_ttl_secs: i64,

    /// Seconds before another code may be sent to the same phone or address.
    #[arg(long, env = "RBAC_CODE_RESEND_SECS", default_value_t = 60)]
    pub code_resend_secs: i64,

    /// Where `/rpc` forwards requests made with a valid project key (`http://…`); unset,
    /// `/rpc` answers 503.
    #[arg(long, env = "RBAC_GATEWAY_UPSTREAM")]
    pub gateway_upstream: Option<String>,

    /// A public URL a project's programs call, listed as `end_points` (repeatable, or
    /// comma-separated in the environment).
    #[arg(
        long = "gateway-endpoint",
        env = "RBAC_GATEWAY_ENDPOINTS",
        value_delimiter = ','
    )]
    pub gateway_endpoints: Vec<String>,

    /// Verification codes one client address may have sent per hour, per channel (SMS,
    /// e-mail); 0: no limit.
    #[arg(long, env = "RBAC_CODES_PER_ADDRESS_HOUR", default_value_t = 5)]
    pub codes_per_address_hour: u32,

    /// Verification codes the whole server may send per hour, per channel; 0: no limit.
    #[arg(long, env = "RBAC_CODES_PER_HOUR", default_value_t = 200)]
    pub codes_per_hour: u32,

    /// Password SMS one console primary account may send its new sub-accounts per hour.
    #[arg(long, env = "RBAC_PASSWORD_SMS_PER_ACCOUNT_HOUR", default_value_t = 5)]
    pub password_sms_per_account_hour: u32,

    /// Self-registrations (IAM, cloud, gateway, console) per client address per hour.
    #[arg(long, env = "RBAC_SIGNUPS_PER_ADDRESS_HOUR", default_value_t = 20)]
    pub signups_per_address_hour: u32,

    /// Passwordless passkey sign-ins begun per client address per hour (0: no limit).
    #[arg(
        long,
        env = "RBAC_PASSKEY_SIGN_INS_PER_ADDRESS_HOUR",
        default_value_t = 120
    )]
    pub passkey_sign_ins_per_address_hour: u32,

    /// Passkey registrations and step-ups one signed-in user may begin per hour (0: no
    /// limit): each stores its ceremony until it is used or expires.
    #[arg(
        long,
        env = "RBAC_PASSKEY_CEREMONIES_PER_USER_HOUR",
        default_value_t = 120
    )]
    pub passkey_ceremonies_per_user_hour: u32,

    /// A phone number format the console sends SMS codes to (a regular expression the
    /// whole number must match; repeatable, or comma-separated in the environment); by
    /// default the mainland mobile format of the console document.
    #[arg(
        long = "sms-phone-pattern",
        env = "RBAC_SMS_PHONE_PATTERNS",
        value_delimiter = ',',
        default_value = "^1[3-9][0-9]{9}$"
    )]
    pub sms_phone_patterns: Vec<String>,

    /// Requests a new project's key may make per UTC day.
    #[arg(long, env = "RBAC_PROJECT_REQUEST_MAX", default_value_t = 30)]
    pub project_request_max: i64,

    /// How often API-key request counts are written to the store, in milliseconds (they
    /// are also written at shutdown).
    #[arg(long, env = "RBAC_COUNT_FLUSH_MS", default_value_t = 1_000)]
    pub count_flush_ms: u64,

    /// Keep operation-log entries this many days, pruning older ones in the background (at
    /// start, then hourly, in short batches that never hold writers up); unset: keep all.
    #[arg(long, env = "RBAC_AUDIT_RETENTION_DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    pub audit_retention_days: Option<u32>,

    /// SMTP relay for e-mailed codes: `smtp://[user:password@]host:port` (STARTTLS when
    /// the relay offers it). Unset: development mode, e-mails are logged instead.
    #[arg(long, env = "RBAC_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The From address of e-mails.
    #[arg(
        long,
        env = "RBAC_MAIL_FROM",
        default_value = "rbac <no-reply@localhost>"
    )]
    pub mail_from: String,

    /// Mount the load-test routes `/bench/checked/users/{id}` (UserAccess) and
    /// `/bench/open/users/{id}` (no layer), for `benches/http.sh`. Off by default.
    #[arg(long, env = "RBAC_BENCH_ROUTES")]
    pub bench_routes: bool,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Config {
    /// The WebAuthn relying party passkeys are bound to.
    pub fn relying_party(&self) -> rbac_core::RelyingParty {
        let port = self.listen.port();
        rbac_core::RelyingParty {
            id: self.rp_id.clone(),
            origin: self.rp_origin.clone().unwrap_or_else(|| match port {
                0 => format!("http://{}", self.rp_id),
                _ => format!("http://{}:{port}", self.rp_id),
            }),
            name: self.rp_name.clone(),
            any_port: self.rp_origin.is_none() && port == 0,
        }
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// Connection limits for the accept loop.
    pub fn limits(&self) -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            write_progress_timeout: Duration::from_secs(self.write_progress_timeout_secs.max(1)),
            max_header_bytes: self.max_header_bytes,
            max_connections: self.max_connections,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
        }
    }

    /// The admin's initial password: `--admin-password`, or the first line of
    /// `--admin-password-file`.
    pub fn initial_admin_password(&self) -> std::io::Result<Option<String>> {
        match &self.admin_password_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)?;
                let line = text.lines().next().unwrap_or_default().to_string();
                if line.is_empty() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{} holds no password on its first line", path.display()),
                    ));
                }
                Ok(Some(line))
            }
            None => Ok(self.admin_password.clone()),
        }
    }

    /// The failed-login throttle.
    pub fn login_throttle(&self) -> LoginThrottle {
        let account = ThrottlePolicy {
            free: self.login_free_failures,
            max_failures: self.login_max_failures.max(1),
            window: self.login_window_secs.max(1),
            lockout: self.login_lockout_secs.max(0),
            backoff: self.login_backoff_secs.max(0),
        };
        LoginThrottle {
            account,
            address: ThrottlePolicy {
                free: self.login_address_max_failures,
                max_failures: self.login_address_max_failures.max(1),
                backoff: 0,
                ..account
            },
            known_address_secs: self.login_known_address_days.max(0).saturating_mul(86_400),
            queue_wait: Duration::from_millis(self.login_queue_wait_ms),
            address_concurrency: self.login_address_concurrency.max(1),
            ..LoginThrottle::default()
        }
    }

    /// The hourly limits on unauthenticated work.
    pub fn abuse_limits(&self) -> AbuseLimits {
        AbuseLimits {
            codes_per_address: self.codes_per_address_hour,
            codes_total: self.codes_per_hour,
            password_sms_per_account: self.password_sms_per_account_hour,
            signups_per_address: self.signups_per_address_hour,
            passkey_sign_ins_per_address: self.passkey_sign_ins_per_address_hour,
            passkey_ceremonies_per_user: self.passkey_ceremonies_per_user_hour,
        }
    }

    /// The verification-code policy.
    pub fn code_policy(&self) -> CodePolicy {
        CodePolicy {
            ttl: self.code_ttl_secs.max(1),
            resend_interval: self.code_resend_secs.max(0),
            ..CodePolicy::default()
        }
    }

    /// The console token's sliding lifetime, and the least time between two extensions of
    /// its stored expiry (a minute, or a quarter of a short lifetime).
    pub fn sliding(&self) -> (Duration, Duration) {
        let ttl = self.console_token_ttl.max(1);
        (
            Duration::from_secs(ttl),
            Duration::from_secs((ttl / 4).clamp(1, 60)),
        )
    }

    /// The change-log poll interval.
    pub fn change_poll(&self) -> Duration {
        Duration::from_millis(self.change_poll_ms.max(10))
    }
}

/// Parses `ID=NAME`.
fn parse_organisation(s: &str) -> Result<Organisation, String> {
    let (id, name) = s
        .split_once('=')
        .ok_or_else(|| format!("expected ID=NAME, got {s:?}"))?;
    let id = id
        .trim()
        .parse::<i64>()
        .map_err(|e| format!("organisation id {id:?}: {e}"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("organisation {id} has an empty name"));
    }
    Ok(Organisation {
        id,
        name: name.to_string(),
    })
}
