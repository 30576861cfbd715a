//! `example-server`: the reference server built only from the rbac crates' public API.

mod admin;
mod api;
mod app;
mod cli;
mod config;
mod http;
mod metrics;
mod notify;
mod progress;
mod secrets;
mod serve;
mod state;
mod webhooks;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // The settings file becomes environment variables before any thread exists.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(e) = cli::apply_config_file(&args) {
        eprintln!("example-server: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let cli = cli::Cli::parse();
    init_logging(cli.config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("example-server: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "example-server failed");
            eprintln!("example-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs to standard error, as text or JSON lines, filtered by `RUST_LOG` (default `info`).
fn init_logging(format: config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        config::LogFormat::Text => builder.init(),
        config::LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
