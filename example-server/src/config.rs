//! Command-line flags and their environment twins.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Parser;
use rbac_core::service::LoginThrottle;
use rbac_core::ThrottlePolicy;

use crate::metrics::MetricsAccess;
use crate::serve::Limits;

/// The reference server: five documented API surfaces over one rbac store.
#[derive(Debug, Clone, Parser)]
#[command(name = "example-server", version, about, args_override_self = true)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "RBAC_LISTEN", default_value = "127.0.0.1:8088")]
    pub listen: SocketAddr,

    /// Database URL: sqlite://path, postgres://…, mysql://…
    #[arg(long, env = "RBAC_DATABASE_URL", default_value = "sqlite://rbac.db")]
    pub database: String,

    /// Password of the `admin` user created on an empty store (random and printed once if unset).
    #[arg(long, env = "RBAC_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

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

    /// Failed logins per account within the window that lock it.
    #[arg(long, env = "RBAC_LOGIN_MAX_FAILURES", default_value_t = 5)]
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

    /// An account's wait after its second failure, doubled by each further one, in seconds
    /// (0: none; addresses only lock).
    #[arg(long, env = "RBAC_LOGIN_BACKOFF_SECS", default_value_t = 1)]
    pub login_backoff_secs: i64,

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

    /// Mount the load-test routes `/bench/checked/users/{id}` (UserAccess) and
    /// `/bench/open/users/{id}` (no layer), for `benches/http.sh`. Off by default.
    #[arg(long, env = "RBAC_BENCH_ROUTES")]
    pub bench_routes: bool,
}

impl Config {
    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// Connection limits for the accept loop.
    pub fn limits(&self) -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            max_header_bytes: self.max_header_bytes,
            max_connections: self.max_connections,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
        }
    }

    /// The failed-login throttle.
    pub fn login_throttle(&self) -> LoginThrottle {
        let account = ThrottlePolicy {
            max_failures: self.login_max_failures.max(1),
            window: self.login_window_secs.max(1),
            lockout: self.login_lockout_secs.max(0),
            backoff: self.login_backoff_secs.max(0),
        };
        LoginThrottle {
            account,
            address: ThrottlePolicy {
                max_failures: self.login_address_max_failures.max(1),
                backoff: 0,
                ..account
            },
        }
    }

    /// The change-log poll interval.
    pub fn change_poll(&self) -> Duration {
        Duration::from_millis(self.change_poll_ms.max(10))
    }
}
