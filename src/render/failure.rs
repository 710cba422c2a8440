//! One line per failure class (`live::classify`): what happened, the likely cause, the next
//! step. The SDK's description never appears here (`--verbose` shows it). Also the lines an
//! apply prints as it goes: a retry, a finished step.
//!
//! Every value that may come from AWS or the environment passes through [`visible`], so each
//! of these is exactly one line.

use std::time::Duration;

use super::escape::visible;
use super::human::step_summary;
use crate::apply::StepStatus;
use crate::live::{Error, ErrorClass, Unreachable};
use crate::plan::Change;

/// What the line may name besides the class.
#[derive(Debug, Clone, Default)]
pub struct FailureContext {
    /// The endpoint, when `--endpoint-url` / `AWS_ENDPOINT_URL` set one.
    pub endpoint: Option<String>,
    /// The region, when one was asked for.
    pub region: Option<String>,
    /// The principal of the credentials (GetCallerIdentity), when known.
    pub principal: Option<String>,
    /// The SDK's attempts per request, its connect timeout and its per-attempt timeout.
    pub attempts: u32,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

/// The one line for `class` (without the `error: ` prefix).
pub fn failure_line(class: &ErrorClass, ctx: &FailureContext) -> String {
    let line = match class {
        ErrorClass::Unreachable(why) => unreachable_line(*why, ctx),
        ErrorClass::NotAws { status, html } => format!(
            "{} is not an AWS endpoint: it answered HTTP {status} {}: --endpoint-url / AWS_ENDPOINT_URL points at a web server, or a proxy or captive portal answered. Point it at AWS (unset it) or at the emulator, and run again.",
            endpoint(ctx),
            if *html { "with an HTML page" } else { "in no AWS protocol" }
        ),
        ErrorClass::AccessDenied { action, principal } => format!(
            "access denied: {} may not call {}: an IAM policy, a permissions boundary or an SCP denies it, or these are not the management account's credentials. Run with the management account's (or a delegated administrator's) credentials, allowed the Organizations reads and the plan's writes.",
            principal.as_deref().or(ctx.principal.as_deref()).unwrap_or("these credentials"),
            action.as_deref().unwrap_or("this Organizations action")
        ),
        ErrorClass::NotInOrganization => format!(
            "{} is not in an AWS Organization (AWSOrganizationsNotInUseException): these are another account's credentials. Use the management account's credentials, or create the organization first (`aws organizations create-organization --feature-set ALL`).",
            ctx.principal.as_deref().map_or("the account of these credentials".to_owned(), |p| format!("the account of {p}"))
        ),
        ErrorClass::WrongRegion => format!(
            "region `{}` does not serve Organizations for these credentials: Organizations is served from us-east-1 (aws-us-gov: us-gov-west-1, aws-cn: cn-northwest-1). Pass --region us-east-1, or leave the region unset.",
            ctx.region.as_deref().unwrap_or("(from the AWS config)")
        ),
        _ => credentials_line(class, ctx),
    };
    visible(&line).into_owned()
}

fn endpoint(ctx: &FailureContext) -> String {
    match (&ctx.endpoint, &ctx.region) {
        (Some(e), _) => e.clone(),
        (None, Some(r)) => format!("the Organizations endpoint (region {r})"),
        (None, None) => "the Organizations endpoint".to_owned(),
    }
}

fn unreachable_line(why: Unreachable, ctx: &FailureContext) -> String {
    let (how, next) = match why {
        Unreachable::Refused => (String::new(), "nothing listens there (an emulator not started, a wrong port, a local proxy down). Check --endpoint-url / AWS_ENDPOINT_URL and HTTPS_PROXY, and run again."),
        Unreachable::NoSuchHost => (String::new(), "a typo in the endpoint or the region, or no DNS. Check --endpoint-url / AWS_ENDPOINT_URL, --region and the network."),
        Unreachable::ConnectTimeout => (
            format!(" within {} s", ctx.connect_timeout.as_secs()),
            "a firewall drops the traffic, or the host is down. Check the network and any proxy (HTTPS_PROXY), and run again.",
        ),
        Unreachable::TimedOut => (
            format!(" ({} s per attempt, {} attempts)", ctx.request_timeout.as_secs(), ctx.attempts),
            "the endpoint or a proxy is stalled. Run again later, or raise --request-timeout.",
        ),
        Unreachable::Dropped => (
            format!(" ({} attempts)", ctx.attempts),
            "an unstable network or proxy. Run again: what was done is not repeated.",
        ),
        Unreachable::Other => (String::new(), "--verbose shows the details. Check the network and the endpoint, and run again."),
    };
    format!(
        "could not reach AWS at {}: {}{how}: {next}",
        endpoint(ctx),
        why.phrase()
    )
}

fn credentials_line(class: &ErrorClass, ctx: &FailureContext) -> String {
    match class {
        ErrorClass::NoCredentials => "no AWS credentials were found: no AWS_ACCESS_KEY_ID, no --profile or AWS_PROFILE with credentials, no SSO session, no instance role. Set one (e.g. `--profile NAME`, after `aws sso login --profile NAME` for SSO) and run again.".to_owned(),
        ErrorClass::CredentialsFailed { message } => format!(
            "the AWS credentials could not be loaded ({message}): the profile's role, SSO session or credential_process failed. Check the profile in ~/.aws/config (--verbose shows the details) and run again."
        ),
        ErrorClass::UnknownProfile { profile, known } => format!(
            "AWS profile `{profile}` does not exist in the AWS config or credentials file ({}): a typo, or an AWS_PROFILE meant for another machine. Pass an existing profile, or create it with `aws configure --profile {profile}`.",
            if known.is_empty() {
                "they define no profile".to_owned()
            } else {
                format!("profiles there: {}", known.join(", "))
            }
        ),
        ErrorClass::ProfileWithEnvKeys { profile } => format!(
            "--profile {profile} would be ignored: AWS_ACCESS_KEY_ID is set in the environment, and environment keys come first in the AWS credential chain. Unset AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN to use the profile, or drop --profile to use the keys."
        ),
        ErrorClass::ExpiredToken => "the AWS credentials have expired: session tokens (SSO, assumed roles, CI tokens) last hours at most. Get new ones (`aws sso login`, or assume the role again) and run again.".to_owned(),
        ErrorClass::InvalidCredentials => format!(
            "AWS rejected the credentials (an unknown access key or a wrong secret): the keys were deleted or mistyped, or they belong to another partition than {}. Check AWS_ACCESS_KEY_ID or the profile, and run again.",
            ctx.region.as_deref().map_or("the region's".to_owned(), |r| format!("region {r}'s"))
        ),
        other => other.to_string(),
    }
}

/// Why a step is retried, in a word or two.
fn retry_reason(e: &Error) -> String {
    match e {
        Error::TooManyRequests(_) => "throttled".to_owned(),
        Error::ConcurrentModification(_) => "concurrent modification".to_owned(),
        Error::Service { code, .. } => code.clone(),
        Error::NoAnswer { class, .. } => match class {
            ErrorClass::Unreachable(why) => why.phrase().to_owned(),
            other => other.to_string(),
        },
        Error::Transport(_) => "transport error".to_owned(),
        other => other.to_string(),
    }
}

/// `step 7 attach SCP x to OU y: throttled, retrying in 0.8 s (attempt 2/5)`.
pub fn retry_line(
    step: usize,
    change: &Change,
    error: &Error,
    attempt: u32,
    attempts: u32,
    wait: Duration,
) -> String {
    let line = format!(
        "step {} {}: {}, retrying in {:.1} s (attempt {attempt}/{attempts})",
        step + 1,
        step_summary(change),
        retry_reason(error),
        wait.as_secs_f64()
    );
    visible(&line).into_owned()
}

/// `retrying AttachPolicy (attempt 2/4): ...`: one retry the AWS SDK makes by itself, so a
/// request that waits between attempts is never silent.
pub fn sdk_retry_line(operation: &str, attempt: u32, attempts: u32) -> String {
    let line = format!(
        "retrying {operation} (attempt {attempt}/{attempts}): the previous attempt was throttled, timed out or cut short"
    );
    visible(&line).into_owned()
}

/// `step 7/40 done: attach SCP x to OU y`: one finished step, as an apply prints it without a
/// terminal.
pub fn step_line(step: usize, total: usize, change: &Change, status: &StepStatus) -> String {
    let what = step_summary(change);
    let line = match status {
        StepStatus::Done => format!("step {}/{total} done: {what}", step + 1),
        StepStatus::Failed(e) => format!("step {}/{total} FAILED: {what}: {e}", step + 1),
        StepStatus::Skipped { because_of } => format!(
            "step {}/{total} not attempted: {what} (depends on step {})",
            step + 1,
            because_of
                .iter()
                .map(|d| (d + 1).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        StepStatus::Stopped { .. } => {
            format!(
                "step {}/{total} not attempted: {what} (the run stopped)",
                step + 1
            )
        }
    };
    visible(&line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> FailureContext {
        FailureContext {
            endpoint: Some("http://127.0.0.1:9".into()),
            attempts: 4,
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(30),
            ..Default::default()
        }
    }

    #[test]
    fn every_class_is_one_line_with_a_next_step() {
        let classes = [
            ErrorClass::NoCredentials,
            ErrorClass::CredentialsFailed {
                message: "boom\nforged".into(),
            },
            ErrorClass::UnknownProfile {
                profile: "nope".into(),
                known: vec!["dev".into()],
            },
            ErrorClass::ProfileWithEnvKeys {
                profile: "dev".into(),
            },
            ErrorClass::ExpiredToken,
            ErrorClass::InvalidCredentials,
            ErrorClass::AccessDenied {
                action: Some("organizations:ListRoots".into()),
                principal: Some("arn:aws:iam::111122223333:user/bob\x1b[8m".into()),
            },
            ErrorClass::Unreachable(Unreachable::Refused),
            ErrorClass::Unreachable(Unreachable::TimedOut),
            ErrorClass::NotAws {
                status: 200,
                html: true,
            },
            ErrorClass::WrongRegion,
            ErrorClass::NotInOrganization,
        ];
        for class in classes {
            let line = failure_line(&class, &ctx());
            assert!(!line.contains('\n') && !line.contains('\x1b'), "{line}");
            assert!(line.ends_with('.') || line.ends_with(")."), "{line}");
            assert!(line.len() < 400, "{} chars: {line}", line.len());
        }
        let refused = failure_line(&ErrorClass::Unreachable(Unreachable::Refused), &ctx());
        assert!(
            refused.starts_with("could not reach AWS at http://127.0.0.1:9: connection refused"),
            "{refused}"
        );
        let denied = failure_line(
            &ErrorClass::AccessDenied {
                action: Some("organizations:ListRoots".into()),
                principal: None,
            },
            &FailureContext {
                principal: Some("arn:aws:sts::1:assumed-role/ci/x".into()),
                ..ctx()
            },
        );
        assert!(
            denied
                .contains("arn:aws:sts::1:assumed-role/ci/x may not call organizations:ListRoots"),
            "{denied}"
        );
    }

    #[test]
    fn retry_lines_say_why_and_when() {
        let c = Change::CreateOu {
            path: crate::model::OuPath::parse("Sec").expect("a valid path"),
        };
        let line = retry_line(
            6,
            &c,
            &Error::TooManyRequests("slow down".into()),
            2,
            5,
            Duration::from_millis(800),
        );
        assert_eq!(
            line,
            "step 7 create OU Sec: throttled, retrying in 0.8 s (attempt 2/5)"
        );
    }
}
