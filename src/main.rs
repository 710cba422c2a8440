//! The `guardrail` binary: parse arguments, run, print the error chain once, exit.

use std::process::ExitCode;

use clap::Parser;
use guardrail::cli::{run, Cli, ExitStatus};

fn main() -> ExitCode {
    // RUST_LOG picks the level; the SDK's request signing is never logged, because at trace
    // level it prints canonical requests whose headers carry the session token.
    let mut filter = tracing_subscriber::EnvFilter::from_default_env();
    for quiet in [
        "aws_sigv4=off",
        "aws_credential_types=off",
        "aws_smithy_http_client=info",
        "hyper=info",
        "h2=info",
    ] {
        if let Ok(d) = quiet.parse() {
            filter = filter.add_directive(d);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
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
            eprintln!("error: {}", guardrail::render::visible(&format!("{e:#}")));
            ExitStatus::Failure
        }
    };
    ExitCode::from(status.code())
}
