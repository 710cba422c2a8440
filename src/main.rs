//! The `guardrail` binary: parse arguments, run, print the error chain once, exit.

use std::process::ExitCode;

use clap::Parser;
use guardrail::cli::{run, Cli, ExitStatus};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(ExitStatus::Failure.code());
        }
    };
    let status = match runtime.block_on(run(cli)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitStatus::Failure
        }
    };
    ExitCode::from(status.code())
}
