//! Black-box test helpers: build the `example-server` binary once per test process, spawn it
//! on `127.0.0.1:0` against a throw-away database, and talk to it over real HTTP.
//!
//! Database selection (env `RBAC_TEST_DATABASE`):
//! - unset: a fresh SQLite file in the temp dir, deleted on drop;
//! - `postgres://…` / `mysql://…`: an admin URL; a database `rbac_h_<unique>` is created for the
//!   server and dropped on drop. An unreachable database server makes the test panic.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
pub use fantoccini;
use rand::Rng as _;
pub use serde_json::{json, Value};

/// The eleven privilege codes of the platform document (table 2), `Null` excluded, the
/// console's `SubAccountAdd` and the gateway's `ProjectDelete`: every code the built-in
/// admin role holds.
pub const ALL_PRIVILEGES: [&str; 13] = [
    "UserAccess",
    "UserAdd",
    "UserEdit",
    "UserDelete",
    "UserEnableOrDisable",
    "RoleAccess",
    "RoleAdd",
    "RoleDelete",
    "RoleEdit",
    "RoleEnableOrDisable",
    "RoleAuthority",
    "SubAccountAdd",
    "ProjectDelete",
];

/// `Content-Type: application/json`, for [`TestServer::post_raw`].
pub const JSON_CT: (&str, &str) = ("Content-Type", "application/json");

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const DB_TIMEOUT: Duration = Duration::from_secs(30);

mod assertions;
mod binary;
mod browser;
mod clock;
mod database;
mod form_browser;
mod iam;
mod jwt;
mod keys;
mod mfa;
mod names;
mod passkey;
mod server;
mod smtp;
mod upgrade;
mod webhook;

pub use assertions::*;
pub use binary::*;
pub use browser::*;
pub use clock::*;
pub use database::WriteLock;
use database::*;
pub use form_browser::*;
pub use iam::*;
pub use jwt::*;
pub use keys::WITHOUT_SECRETS_KEY;
pub use mfa::*;
pub use names::*;
pub use passkey::*;
pub use server::*;
pub use smtp::*;
pub use upgrade::*;
pub use webhook::*;
