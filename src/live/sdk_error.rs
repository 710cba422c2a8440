//! Reading the SDK's errors once, where their structure is known: which [`ErrorClass`] a
//! failed request belongs to (no credentials, refused, not AWS, ...), which failures the
//! SDK must not retry ([`DeadEndpointClassifier`]: a refused connection, an unknown host, a
//! connect timeout, a web page), and the profile checks made before any request
//! ([`check_profile`]). The SDK's own description is kept for `--verbose`, never shown
//! otherwise. Each retry the SDK makes of an Organizations request is told to the observer set
//! with [`on_sdk_retry`] ([`RetryNotifier`]).

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_organizations::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_organizations::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_organizations::error::BoxError;
use aws_sdk_organizations::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::retries::RequestAttempts;

use super::error::{ErrorClass, Unreachable};
use super::Error;

/// `err` and its sources, outermost first.
fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(err);
    std::iter::from_fn(move || {
        let cur = next?;
        next = cur.source();
        Some(cur)
    })
}

/// Why a connection failed, from the connector's error chain; `None` when nothing there says.
fn connect_failure(err: &(dyn StdError + 'static)) -> Option<Unreachable> {
    for e in chain(err) {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Some(Unreachable::Refused),
                std::io::ErrorKind::TimedOut => return Some(Unreachable::ConnectTimeout),
                _ => {}
            }
        }
        let text = e.to_string();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return Some(Unreachable::NoSuchHost);
        }
        if text.starts_with("HTTP connect timeout") {
            return Some(Unreachable::ConnectTimeout);
        }
    }
    None
}

/// Whether a body is a web page.
fn is_html(body: &[u8]) -> bool {
    let head: String = String::from_utf8_lossy(&body[..body.len().min(512)])
        .trim_start()
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.starts_with("<head")
}

/// An answer that is not AWS's: a web page, or (when the SDK could not read it) a body that is
/// neither JSON nor XML.
fn not_aws(raw: &HttpResponse, unreadable: bool) -> Option<ErrorClass> {
    let body = raw.body().bytes().unwrap_or_default();
    let status = raw.status().as_u16();
    if is_html(body) {
        return Some(ErrorClass::NotAws { status, html: true });
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let aws_shaped = matches!(first, Some(b'{') | Some(b'<'));
    (unreadable && !body.is_empty() && !aws_shaped).then_some(ErrorClass::NotAws {
        status,
        html: false,
    })
}

/// The credential chain's failure, when loading credentials is what failed.
fn credentials_failure(err: &(dyn StdError + 'static)) -> Option<ErrorClass> {
    let cred = chain(err).find_map(|e| e.downcast_ref::<CredentialsError>())?;
    let below: Vec<String> = chain(cred).map(|e| e.to_string()).collect();
    // The default chain ends with the instance metadata service: failing there means no
    // source before it (environment, profile, SSO, web identity, container) had credentials.
    let fell_through_to_imds = chain(cred).any(|e| {
        e.downcast_ref::<aws_config::imds::client::error::ImdsError>()
            .is_some()
    });
    Some(match cred {
        CredentialsError::CredentialsNotLoaded(_) => ErrorClass::NoCredentials,
        _ if fell_through_to_imds => ErrorClass::NoCredentials,
        _ if below
            .iter()
            .any(|m| m.to_ascii_lowercase().contains("expired")) =>
        {
            ErrorClass::ExpiredToken
        }
        _ => ErrorClass::CredentialsFailed {
            message: below.last().cloned().unwrap_or_default(),
        },
    })
}

/// The class of a failed request that AWS did not answer in its own terms.
fn class_of<E>(err: &SdkError<E, HttpResponse>) -> ErrorClass
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let unreadable = match err {
        SdkError::ResponseError(_) => true,
        SdkError::ServiceError(_) => err.code().is_none(),
        _ => false,
    };
    if let Some(class) = err.raw_response().and_then(|r| not_aws(r, unreadable)) {
        return class;
    }
    match err {
        SdkError::TimeoutError(_) => ErrorClass::Unreachable(Unreachable::TimedOut),
        SdkError::DispatchFailure(d) => {
            if let Some(class) = credentials_failure(err) {
                return class;
            }
            // An answer cut short is an I/O error, or hyper's "connection closed before
            // message completed", which the SDK marks transient.
            let cut_short =
                d.is_io() || d.as_other() == Some(aws_config::retry::ErrorKind::TransientError);
            let why = connect_failure(err).unwrap_or(if d.is_timeout() {
                Unreachable::TimedOut
            } else if cut_short {
                Unreachable::Dropped
            } else {
                Unreachable::Other
            });
            ErrorClass::Unreachable(why)
        }
        SdkError::ResponseError(_) => ErrorClass::Unreachable(Unreachable::Dropped),
        SdkError::ConstructionFailure(_)
            if chain(err).any(|e| e.to_string().to_ascii_lowercase().contains("region")) =>
        {
            ErrorClass::WrongRegion
        }
        _ => credentials_failure(err).unwrap_or(ErrorClass::Unreachable(Unreachable::Other)),
    }
}

/// Maps an SDK error to [`Error`]: AWS's answers by their error code, everything else by its
/// class, with the SDK's description kept for `--verbose` (and logged at debug level).
pub(crate) fn map_sdk_error<E>(err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(&err).to_string();
    tracing::debug!(error = %detail, "AWS request failed");
    if let SdkError::ServiceError(_) = &err {
        if let Some(code) = err.code() {
            return Error::from_code(code, err.message().unwrap_or_default());
        }
    }
    Error::NoAnswer {
        class: class_of(&err),
        detail,
    }
}

/// One more SDK attempt at a request: the operation, this attempt (2 and up) and the most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkRetry {
    pub operation: String,
    pub attempt: u32,
    pub attempts: u32,
}

type RetryObserver = Box<dyn Fn(&SdkRetry) + Send + Sync>;
static RETRY_OBSERVER: std::sync::OnceLock<RetryObserver> = std::sync::OnceLock::new();

/// Sets the process's observer of the SDK's own retries (the binary says each on stderr, so a
/// request that waits between attempts is never silent); the first call wins.
pub fn on_sdk_retry(f: impl Fn(&SdkRetry) + Send + Sync + 'static) {
    let _ = RETRY_OBSERVER.set(Box::new(f));
}

/// Tells the observer of each attempt after a request's first.
#[derive(Debug)]
pub(crate) struct RetryNotifier {
    pub attempts: u32,
}

impl RetryNotifier {
    /// The notifier for clients built from `conf` (Organizations, IAM, CloudTrail alike), so
    /// every service's retries are said, not only Organizations'.
    pub(crate) fn for_config(conf: &aws_types::SdkConfig) -> Self {
        RetryNotifier {
            attempts: conf
                .retry_config()
                .map_or(super::aws::SDK_MAX_ATTEMPTS, |r| r.max_attempts()),
        }
    }
}

impl Intercept for RetryNotifier {
    fn name(&self) -> &'static str {
        "guardrail: tell each retry"
    }

    fn read_before_attempt(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        if let (true, Some(tell)) = (attempt > 1, RETRY_OBSERVER.get()) {
            tell(&SdkRetry {
                operation: cfg
                    .load::<Metadata>()
                    .map_or("a request", |m| m.name())
                    .to_owned(),
                attempt,
                attempts: self.attempts,
            });
        }
        Ok(())
    }
}

/// Forbids the SDK's retries where another attempt meets the same dead end: a refused
/// connection, a host name that does not resolve, a connect timeout, a web page. Runs after
/// the SDK's own classifiers, which call all of those transient.
#[derive(Debug, Default)]
pub(crate) struct DeadEndpointClassifier;

impl ClassifyRetry for DeadEndpointClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        if ctx
            .response()
            .and_then(|r| r.body().bytes())
            .is_some_and(is_html)
        {
            return RetryAction::RetryForbidden;
        }
        match err.as_connector_error().and_then(|c| connect_failure(c)) {
            Some(Unreachable::Refused | Unreachable::NoSuchHost | Unreachable::ConnectTimeout) => {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "guardrail: no retry at a dead endpoint"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// Where the credentials will come from, as far as can be told before any request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `AWS_ACCESS_KEY_ID` in the environment; `AWS_PROFILE` names a profile that the SDK
    /// will not use (environment keys come first in its chain).
    EnvironmentKeys { ignored_profile: Option<String> },
    /// A named profile, checked to exist.
    Profile(String),
    /// The rest of the SDK's chain (default profile, SSO, web identity, container, instance).
    DefaultChain,
}

/// Checks the profile before any request: `--profile` (`flag`) beside environment keys is
/// refused, since the SDK would silently use the keys; a profile (from the flag or
/// `AWS_PROFILE`) that is in neither the config nor the credentials file is refused, since the
/// SDK would silently go on to the next source.
pub async fn check_profile(flag: Option<&str>) -> Result<CredentialSource, Error> {
    let refuse = |class| Error::NoAnswer {
        class,
        detail: String::new(),
    };
    let env_keys = std::env::var_os("AWS_ACCESS_KEY_ID").is_some_and(|v| !v.is_empty());
    let env_profile = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
    if let (true, Some(p)) = (env_keys, flag) {
        return Err(refuse(ErrorClass::ProfileWithEnvKeys {
            profile: p.to_owned(),
        }));
    }
    if env_keys {
        return Ok(CredentialSource::EnvironmentKeys {
            ignored_profile: env_profile,
        });
    }
    let Some(profile) = flag.map(str::to_owned).or(env_profile) else {
        return Ok(CredentialSource::DefaultChain);
    };
    let known = known_profiles().await;
    if known.contains(&profile) {
        Ok(CredentialSource::Profile(profile))
    } else {
        Err(refuse(ErrorClass::UnknownProfile { profile, known }))
    }
}

/// The profiles in the AWS config and credentials files (wherever `AWS_CONFIG_FILE` and
/// `AWS_SHARED_CREDENTIALS_FILE` put them), as the SDK reads them.
async fn known_profiles() -> Vec<String> {
    use aws_types::os_shim_internal::{Env, Fs};
    // The default files (`ProfileFiles::default()`, named here by inference only: the alias
    // is deprecated in favour of a type of a crate guardrail does not depend on).
    match aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None).await {
        Ok(set) => {
            let mut names: Vec<String> = set.profiles().map(str::to_owned).collect();
            names.sort();
            names
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_pages_and_foreign_bodies_are_not_aws() {
        assert!(is_html(b"\n  <!DOCTYPE html><html><body>hi"));
        assert!(is_html(b"<HTML><HEAD>"));
        assert!(!is_html(br#"{"__type":"X"}"#));
        assert!(!is_html(b"<?xml version=\"1.0\"?><ErrorResponse>"));
    }

    /// What the classifier says about a connection that failed with `io`.
    fn verdict(io: std::io::Error) -> RetryAction {
        use aws_smithy_runtime_api::client::interceptors::context::Input;
        use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
        use aws_smithy_runtime_api::client::result::ConnectorError;
        let mut ctx = InterceptorContext::new(Input::doesnt_matter());
        ctx.set_output_or_error(Err(OrchestratorError::connector(ConnectorError::io(
            Box::new(io),
        ))));
        DeadEndpointClassifier.classify_retry(&ctx)
    }

    #[test]
    fn a_dead_endpoint_is_not_retried_by_the_sdk() {
        assert_eq!(
            verdict(std::io::ErrorKind::ConnectionRefused.into()),
            RetryAction::RetryForbidden
        );
        assert_eq!(
            verdict(std::io::Error::other(
                "dns error: failed to lookup address information"
            )),
            RetryAction::RetryForbidden
        );
        // A reset connection may work next time: the SDK's own classifiers decide.
        assert_eq!(
            verdict(std::io::ErrorKind::ConnectionReset.into()),
            RetryAction::NoActionIndicated
        );
    }

    #[test]
    fn refused_and_unknown_hosts_are_read_from_the_chain() {
        #[derive(Debug)]
        struct Wrap(std::io::Error);
        impl std::fmt::Display for Wrap {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl StdError for Wrap {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let refused = Wrap(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(connect_failure(&refused), Some(Unreachable::Refused));
        let dns = Wrap(std::io::Error::other(
            "dns error: failed to lookup address information",
        ));
        assert_eq!(connect_failure(&dns), Some(Unreachable::NoSuchHost));
        let reset = Wrap(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(connect_failure(&reset), None);
    }
}
