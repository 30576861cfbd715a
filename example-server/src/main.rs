//! `example-server`: the reference server built only from the rbac crates' public API.

mod api;
mod app;
mod config;
mod metrics;
mod serve;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = config::Config::parse();
    match app::run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "example-server failed");
            eprintln!("example-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
