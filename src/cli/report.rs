//! How a run reaches AWS and how it says that it could not: the connect options from the
//! command line, the profile check before any request, and, when a run ends in an error of a
//! known class (`live::classify`), that class's one line (`render::failure_line`) instead of
//! the error chain. The technical detail (the chain and the SDK's description) only with
//! `--verbose`.

use std::time::Duration;

use super::args::Cli;
use super::ExitStatus;
use crate::apply::{Outcome, StepStatus};
use crate::live::aws::{self, AwsBackend, ConnectOptions};
use crate::live::{self, ErrorClass};
use crate::render;

/// How to reach AWS, from the command line.
pub(super) fn connect_options(cli: &Cli) -> ConnectOptions {
    let region = cli.aws_region().map(str::to_owned);
    let cli = cli.aws();
    ConnectOptions {
        profile: cli.profile.clone(),
        region,
        endpoint_url: cli.endpoint_url.clone().filter(|s| !s.is_empty()),
        max_attempts: None,
        request_timeout: Some(Duration::from_secs(cli.request_timeout)),
        concurrency: cli.concurrency,
        rate_scale: cli.rate_scale,
    }
}

/// Checks the profile (`--profile` beside environment keys, or a profile that does not
/// exist, is refused before any request), says which credentials are used when AWS_PROFILE
/// is set but environment keys win, has each retry of the SDK told on stderr, and connects.
pub(super) async fn connect(opts: &ConnectOptions) -> anyhow::Result<AwsBackend> {
    live::on_sdk_retry(|r| {
        super::progress::note(&render::sdk_retry_line(&r.operation, r.attempt, r.attempts));
    });
    if let live::CredentialSource::EnvironmentKeys {
        ignored_profile: Some(p),
    } = live::check_profile(opts.profile.as_deref()).await?
    {
        eprintln!(
            "note: using the keys in AWS_ACCESS_KEY_ID; AWS_PROFILE={} is not used (environment keys come first in the AWS credential chain)",
            render::visible(&p)
        );
    }
    if let Some(hint) = rate_scale_hint(opts) {
        eprintln!("{hint}");
    }
    Ok(AwsBackend::connect(opts).await)
}

/// Against an emulator on this machine at AWS's own pacing, a newcomer waits for nothing:
/// one line saying how to lift it.
fn rate_scale_hint(opts: &ConnectOptions) -> Option<&'static str> {
    let loopback = opts
        .endpoint_url
        .as_deref()
        .is_some_and(live::endpoint::is_loopback);
    #[allow(clippy::float_cmp)] // 1.0 is the default, exactly representable
    let at_aws_rates = opts.rate_scale == 1.0;
    (loopback && at_aws_rates).then_some(
        "hint: the endpoint is on loopback (an emulator?) and requests are paced at AWS's rates; \
         --rate-scale 1000 (or GUARDRAIL_RATE_SCALE=1000) lifts the pacing",
    )
}

/// Runs the command; an error of a known class is told in its one line (exit 1), any other
/// goes back to `main`, which prints its chain.
pub async fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let verbose = cli.verbose;
    let opts = connect_options(&cli);
    let err = match super::commands::run(cli).await {
        Ok(status) => return Ok(status),
        Err(e) => e,
    };
    let Some(live_err) = err.chain().find_map(|c| c.downcast_ref::<live::Error>()) else {
        return Err(err);
    };
    let Some(class) = live::classify(live_err) else {
        return Err(err);
    };
    eprintln!(
        "error: {}",
        render::failure_line(&class, &context(&opts, &class).await)
    );
    if verbose {
        eprintln!("detail: {}", render::visible(&format!("{err:#}")));
        if let Some(d) = live_err.detail() {
            eprintln!("detail: {}", render::visible(d));
        }
    }
    Ok(ExitStatus::Failure)
}

/// What the line names besides the class; asks STS who the caller is when AWS's message did
/// not say (access denied, not in an organization).
async fn context(opts: &ConnectOptions, class: &ErrorClass) -> render::FailureContext {
    let needs_principal = matches!(
        class,
        ErrorClass::AccessDenied {
            principal: None,
            ..
        } | ErrorClass::NotInOrganization
    );
    let principal = if needs_principal {
        AwsBackend::connect(opts).await.caller_arn().await
    } else {
        None
    };
    render::FailureContext {
        endpoint: opts.endpoint_url.clone(),
        region: opts.region.clone(),
        principal,
        attempts: opts.max_attempts.unwrap_or(aws::SDK_MAX_ATTEMPTS),
        connect_timeout: aws::CONNECT_TIMEOUT,
        request_timeout: opts.request_timeout.unwrap_or(aws::REQUEST_TIMEOUT),
    }
}

/// After an apply that stopped because AWS could no longer be reached: the one line for the
/// failure that stopped it.
pub(super) async fn after_stopped_apply(cli: &Cli, outcome: &Outcome) {
    let Some(StepStatus::Stopped { after }) = outcome
        .steps
        .iter()
        .map(|(_, s)| s)
        .find(|s| matches!(s, StepStatus::Stopped { .. }))
    else {
        return;
    };
    let last = after.last().and_then(|i| match outcome.steps.get(*i) {
        Some((_, StepStatus::Failed(e))) => Some(e),
        _ => None,
    });
    if let Some(class) = last.and_then(live::classify) {
        let opts = connect_options(cli);
        eprintln!(
            "error: apply stopped: {}",
            render::failure_line(&class, &context(&opts, &class).await)
        );
    }
}
