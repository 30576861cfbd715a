//! The command line: `serve` (the default), `migrate`, `admin …`, `import-users`,
//! `export-users`. Every subcommand reads the same configuration (flags before the
//! subcommand, environment, `--config` file).

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use rbac_core::service::{random_token, ImportedUser, UserInput, UserView};
use rbac_core::{Page, UserQuery};
use serde::{Deserialize, Serialize};

use crate::app::{self, BoxError};
use crate::config::Config;

/// The reference server: five documented API surfaces over one rbac store.
#[derive(Debug, Parser)]
#[command(name = "example-server", version, about, args_override_self = true)]
pub struct Cli {
    /// The configuration every subcommand shares.
    #[command(flatten)]
    pub config: Config,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve every surface until SIGTERM or Ctrl-C (the default).
    Serve,
    /// Apply the embedded migrations and exit.
    Migrate,
    /// Administer users from the command line (as the operator; audited).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Import users with their password hashes (bcrypt or argon2) from CSV or JSON; each
    /// password is rehashed with this server's parameters at its first login.
    ImportUsers {
        /// The file to read (`-`: standard input).
        file: PathBuf,
        /// The file's format (default: from the extension, JSON otherwise).
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Export users as JSON or CSV (password hashes only with `--with-hashes`).
    ExportUsers {
        /// The file to write (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
        /// The format.
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Include the password hashes (to move the users to another deployment).
        #[arg(long)]
        with_hashes: bool,
    },
}

/// The `admin` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Create a user (a random password is printed when none is given).
    CreateUser {
        /// Login name.
        name: String,
        /// Password (default: generated and printed once).
        #[arg(long, env = "RBAC_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Role to hold.
        #[arg(long)]
        role: Option<String>,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
    },
    /// Set a user's password (a random one is printed when none is given); every
    /// session of the user ends.
    ResetPassword {
        /// Login name.
        name: String,
        /// The new password (default: generated and printed once).
        #[arg(long, env = "RBAC_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Lift a user's failed-login lock.
    Unlock {
        /// Login name.
        name: String,
    },
}

/// File formats of `import-users` and `export-users`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A JSON array of objects (or one object per line).
    Json,
    /// CSV with a header row.
    Csv,
}

/// One user as imported and exported: the column and field names of both formats.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct UserRecord {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_hash: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    alias: String,
    #[serde(default)]
    role: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// Runs the chosen subcommand.
pub async fn run(cli: Cli) -> Result<(), BoxError> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => app::run(config).await,
        Command::Migrate => {
            let store = app::connect(&config).await?;
            store.migrate().await?;
            store.readiness().await?;
            println!(
                "schema current: {} migrations applied",
                store.expected_migrations()
            );
            Ok(())
        }
        Command::Admin(admin) => {
            let (_, rbac) = app::open(&config).await?;
            rbac.bootstrap(config.initial_admin_password()?.as_deref())
                .await?;
            match admin {
                AdminCommand::CreateUser {
                    name,
                    password,
                    role,
                    email,
                } => {
                    let (password, generated) = chosen_or_generated(password);
                    let user = rbac
                        .users()
                        .create(
                            None,
                            UserInput {
                                name,
                                password: password.clone(),
                                roles: role.into_iter().collect(),
                                email: email.unwrap_or_default(),
                                ..UserInput::default()
                            },
                        )
                        .await?;
                    println!("created user {} (id {})", user.name, user.id);
                    if generated {
                        println!("password: {password}");
                    }
                }
                AdminCommand::ResetPassword { name, password } => {
                    let (password, generated) = chosen_or_generated(password);
                    rbac.users()
                        .set_password_as_operator(&name, &password)
                        .await?;
                    println!("password of {name} set; its sessions ended");
                    if generated {
                        println!("password: {password}");
                    }
                }
                AdminCommand::Unlock { name } => {
                    rbac.users().unlock(&name).await?;
                    println!("{name} unlocked");
                }
            }
            Ok(())
        }
        Command::ImportUsers { file, format } => {
            let (_, rbac) = app::open(&config).await?;
            rbac.bootstrap(config.initial_admin_password()?.as_deref())
                .await?;
            let format = format.unwrap_or_else(|| format_of(&file));
            let records = read_records(&file, format)?;
            import_users(&rbac, records).await
        }
        Command::ExportUsers {
            output,
            format,
            with_hashes,
        } => {
            let (_, rbac) = app::open(&config).await?;
            let users = rbac
                .users()
                .rows_unchecked(&UserQuery {
                    page: Page::ALL,
                    ..UserQuery::default()
                })
                .await?;
            let out: Box<dyn Write> = match output {
                Some(path) => Box::new(std::fs::File::create(&path)?),
                None => Box::new(std::io::stdout().lock()),
            };
            let exported =
                export_users(users, std::io::BufWriter::new(out), format, with_hashes).await?;
            eprintln!("exported {exported} users");
            Ok(())
        }
    }
}

fn chosen_or_generated(password: Option<String>) -> (String, bool) {
    match password {
        Some(p) => (p, false),
        None => (random_token(18), true),
    }
}

fn format_of(file: &std::path::Path) -> Format {
    match file.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
        _ => Format::Json,
    }
}

fn read_records(file: &std::path::Path, format: Format) -> Result<Vec<UserRecord>, BoxError> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(file)?;
    }
    match format {
        Format::Csv => {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let mut out = Vec::new();
            for (i, row) in reader.deserialize::<UserRecord>().enumerate() {
                out.push(row.map_err(|e| format!("CSV record {}: {e}", i + 1))?);
            }
            Ok(out)
        }
        Format::Json => {
            let trimmed = text.trim_start();
            if trimmed.starts_with('[') {
                Ok(serde_json::from_str(trimmed)?)
            } else {
                trimmed
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .enumerate()
                    .map(|(i, l)| {
                        serde_json::from_str(l)
                            .map_err(|e| format!("JSON line {}: {e}", i + 1).into())
                    })
                    .collect()
            }
        }
    }
}

/// Writes every user as it is read, a chunk at a time (the bytes are those of the whole
/// list rendered at once: pretty JSON or CSV with a header); returns how many.
async fn export_users(
    mut users: rbac_core::service::Rows<UserView>,
    out: impl Write,
    format: Format,
    with_hashes: bool,
) -> Result<u64, BoxError> {
    let record = |v: UserView| UserRecord {
        password_hash: with_hashes.then(|| v.user.password_hash.clone()),
        name: v.user.name,
        email: v.user.email.unwrap_or_default(),
        phone: v.user.phone,
        alias: v.user.alias,
        role: v.role_names.join(","),
        enabled: v.user.enabled,
    };
    let mut written = 0u64;
    match format {
        Format::Json => {
            let mut out = out;
            out.write_all(b"[")?;
            while let Some(chunk) = users.next_chunk().await? {
                for v in chunk {
                    out.write_all(if written == 0 { b"\n" } else { b",\n" })?;
                    // An element of the pretty array: its own rendering, indented one level
                    // (JSON strings hold no raw newline, so lines are the rendering's own).
                    let text = serde_json::to_string_pretty(&record(v))?;
                    for (i, line) in text.lines().enumerate() {
                        if i > 0 {
                            out.write_all(b"\n")?;
                        }
                        out.write_all(b"  ")?;
                        out.write_all(line.as_bytes())?;
                    }
                    written += 1;
                }
            }
            out.write_all(if written == 0 { b"]\n" } else { b"\n]\n" })?;
            out.flush()?;
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            while let Some(chunk) = users.next_chunk().await? {
                for v in chunk {
                    writer.serialize(record(v))?;
                    written += 1;
                }
            }
            writer.flush()?;
        }
    }
    Ok(written)
}

/// Reads the TOML file named by `--config`/`RBAC_CONFIG` in `args` (if any) and, for every
/// key it sets, sets the matching environment variable unless the environment already has
/// it, so flags and environment keep precedence over the file. Call before any thread starts.
pub fn apply_config_file(args: &[std::ffi::OsString]) -> Result<(), String> {
    let mut path = std::env::var_os("RBAC_CONFIG").map(std::path::PathBuf::from);
    let mut it = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = it.next() {
        if arg == "--config" {
            path = it.next().map(std::path::PathBuf::from);
        } else if let Some(p) = arg.strip_prefix("--config=") {
            path = Some(std::path::PathBuf::from(p));
        }
    }
    let Some(path) = path else { return Ok(()) };
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("--config {}: {e}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| format!("--config {}: {e}", path.display()))?;
    let command = <Cli as clap::CommandFactory>::command();
    for (key, value) in table {
        let long = key.replace('_', "-");
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()))
            .ok_or_else(|| format!("--config {}: unknown setting `{key}`", path.display()))?;
        let env = arg.get_env().ok_or_else(|| {
            format!(
                "--config {}: `{key}` cannot be set from a file",
                path.display()
            )
        })?;
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    toml::Value::Integer(i) => Ok(i.to_string()),
                    toml::Value::Float(f) => Ok(f.to_string()),
                    toml::Value::Boolean(b) => Ok(b.to_string()),
                    _ => Err(format!(
                        "--config {}: `{key}` holds a list of non-scalar values",
                        path.display()
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            other => {
                return Err(format!(
                    "--config {}: `{key}` = {other:?} is not a value a flag takes",
                    path.display()
                ))
            }
        };
        if std::env::var_os(env).is_none() {
            std::env::set_var(env, text);
        }
    }
    Ok(())
}

/// Rows per import batch: one transaction and one audit entry each.
const IMPORT_BATCH: usize = 500;

/// Imports `records` in batches, with a progress bar on a terminal (a line per batch
/// otherwise), and says what happened to every row that was not inserted.
async fn import_users(rbac: &rbac_core::Rbac, records: Vec<UserRecord>) -> Result<(), BoxError> {
    use std::io::IsTerminal;
    let total = records.len();
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(total as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} users ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style);
        }
        Some(bar)
    } else {
        None
    };
    let started = std::time::Instant::now();
    let mut done = rbac_core::store::ImportReport::default();
    let mut invalid = 0usize;
    let mut rows = records.into_iter().enumerate().peekable();
    while rows.peek().is_some() {
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        let mut numbers = Vec::with_capacity(IMPORT_BATCH);
        for (line, r) in rows.by_ref().take(IMPORT_BATCH) {
            let Some(hash) = r.password_hash.filter(|h| !h.is_empty()) else {
                eprintln!("record {}: {}: no password_hash; skipped", line + 1, r.name);
                invalid += 1;
                continue;
            };
            numbers.push(line + 1);
            batch.push(ImportedUser {
                name: r.name,
                password_hash: hash,
                email: r.email,
                phone: r.phone,
                alias: r.alias,
                role_name: r.role,
                enabled: r.enabled,
            });
        }
        let outcome = rbac.users().import(batch).await?;
        for (i, name, reason) in &outcome.invalid {
            eprintln!("record {}: {name}: {reason}; skipped", numbers[*i]);
        }
        invalid += outcome.invalid.len();
        let report = outcome.report;
        done.inserted += report.inserted;
        done.present += report.present;
        done.email_taken.extend(report.email_taken);
        done.look_alike.extend(report.look_alike);
        let seen = numbers.last().copied().unwrap_or(0);
        match &bar {
            Some(bar) => bar.set_position(seen as u64),
            None => eprintln!(
                "{seen}/{total} records read, {} users imported",
                done.inserted
            ),
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for name in &done.email_taken {
        eprintln!("{name}: another user holds this e-mail address; skipped");
    }
    for name in &done.look_alike {
        eprintln!("{name}: looks like an existing user's name; skipped");
    }
    let skipped = invalid + done.present + done.email_taken.len() + done.look_alike.len();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "imported {} users, skipped {skipped} ({} already present, {} e-mail conflicts, {} look-alike names, {invalid} invalid) in {secs:.1} s",
        done.inserted,
        done.present,
        done.email_taken.len(),
        done.look_alike.len(),
    );
    if done.inserted == 0 && done.present == 0 && skipped > 0 {
        return Err("no user imported".into());
    }
    Ok(())
}
