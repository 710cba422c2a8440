//! The `guardrail` binary: parse arguments, run, print the error chain once, exit. Errors of a
//! known class (no credentials, endpoint unreachable, ...) are told in one line by
//! `cli::run`; what reaches here is printed as its escaped chain.

use std::process::ExitCode;

use clap::Parser;
use guardrail::cli::{run, Cli, ExitStatus};

/// Logs to stderr. RUST_LOG picks the level; `--verbose` adds guardrail's debug messages
/// (among them the SDK's description of each failed request). The SDK's request signing is
/// never logged, because at trace level it prints canonical requests whose headers carry the
/// session token.
fn init_logging(verbose: bool) {
    let mut filter = tracing_subscriber::EnvFilter::from_default_env();
    let verbose_directive = verbose.then_some("guardrail=debug");
    for quiet in [
        "aws_sigv4=off",
        "aws_credential_types=off",
        "aws_smithy_http_client=info",
        "hyper=info",
        "h2=info",
    ]
    .into_iter()
    .chain(verbose_directive)
    {
        if let Ok(d) = quiet.parse() {
            filter = filter.add_directive(d);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
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
