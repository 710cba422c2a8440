//! `live::Error`: AWS's error kinds, whichever backend raised them. The fake raises the same
//! kinds under the same conditions as AWS, so code above `live` cannot tell them apart.
//!
//! [`classify`] is the one place that sorts an error into the classes a user acts on (no
//! credentials, unknown profile, expired token, access denied, endpoint unreachable, not an
//! AWS endpoint, wrong region, Organizations not in use); `render::failure_line` tells each in
//! one line and `cli` picks the exit code. The SDK backend reads the SDK's error once, where
//! its structure is known, and keeps the SDK's own description in [`Error::NoAnswer`]'s
//! `detail` for `--verbose`.

/// An Organizations error, by AWS's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("ConstraintViolationException ({reason}): {message}")]
    ConstraintViolation { reason: String, message: String },
    #[error("DuplicatePolicyAttachmentException: {0}")]
    DuplicatePolicyAttachment(String),
    #[error("PolicyNotAttachedException: {0}")]
    PolicyNotAttached(String),
    #[error("PolicyInUseException: {0}")]
    PolicyInUse(String),
    #[error("DuplicatePolicyException: {0}")]
    DuplicatePolicy(String),
    #[error("MalformedPolicyDocumentException: {0}")]
    MalformedPolicyDocument(String),
    #[error("PolicyTypeNotEnabledException: {0}")]
    PolicyTypeNotEnabled(String),
    #[error("DuplicateOrganizationalUnitException: {0}")]
    DuplicateOrganizationalUnit(String),
    #[error("OrganizationalUnitNotEmptyException: {0}")]
    OrganizationalUnitNotEmpty(String),
    #[error("DuplicateAccountException: {0}")]
    DuplicateAccount(String),
    #[error("{code}: {message}")]
    NotFound { code: String, message: String },
    #[error("InvalidInputException ({reason}): {message}")]
    InvalidInput { reason: String, message: String },
    #[error("ConcurrentModificationException: {0}")]
    ConcurrentModification(String),
    #[error("TooManyRequestsException: {0}")]
    TooManyRequests(String),
    #[error("AccessDeniedException: {0}")]
    AccessDenied(String),
    #[error("AWSOrganizationsNotInUseException: {0}")]
    NotInOrganization(String),
    #[error("{code}: {message}")]
    Service { code: String, message: String },
    #[error("could not reach AWS: {0}")]
    Transport(String),
    /// No usable answer from AWS, as the SDK backend read it: the class, and the SDK's own
    /// description (shown only with `--verbose`).
    #[error("{class}")]
    NoAnswer { class: ErrorClass, detail: String },
}

/// Why no connection or no whole answer came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// Nothing listens at the endpoint's port.
    Refused,
    /// The endpoint's host name does not resolve.
    NoSuchHost,
    /// No TCP connection within the connect timeout.
    ConnectTimeout,
    /// Connected, but no whole answer within the request timeout.
    TimedOut,
    /// The connection closed before a whole answer came back (reset, truncated).
    Dropped,
    /// Any other transport failure.
    Other,
}

/// The classes of failure a user acts on, each told in one line with its likely cause and the
/// next step (`render::failure_line`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorClass {
    /// No credentials anywhere in the SDK's chain.
    NoCredentials,
    /// A configured credential source failed (a profile's role, `credential_process`, SSO).
    CredentialsFailed { message: String },
    /// The named profile is in neither the AWS config nor the credentials file.
    UnknownProfile { profile: String, known: Vec<String> },
    /// `--profile` given while environment keys are set, which the SDK would use instead.
    ProfileWithEnvKeys { profile: String },
    /// The session token or the SSO session has expired.
    ExpiredToken,
    /// AWS does not know the access key, or the signature does not match its secret.
    InvalidCredentials,
    /// AWS refused the action to the principal (each named when the message or
    /// GetCallerIdentity tells).
    AccessDenied {
        action: Option<String>,
        principal: Option<String>,
    },
    /// No connection, or no whole answer.
    Unreachable(Unreachable),
    /// Something answered, but not in AWS's protocol (an HTML page, a proxy's error page).
    NotAws { status: u16, html: bool },
    /// The region does not give an Organizations endpoint, or the credentials are scoped to
    /// another region.
    WrongRegion,
    /// The account of the credentials is not in an organization.
    NotInOrganization,
}

impl std::fmt::Display for ErrorClass {
    /// What happened, in a few words (the cause and next step are `render`'s).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorClass::NoCredentials => f.write_str("no AWS credentials were found"),
            ErrorClass::CredentialsFailed { message } => {
                write!(f, "the AWS credentials could not be loaded: {message}")
            }
            ErrorClass::UnknownProfile { profile, .. } => {
                write!(f, "AWS profile `{profile}` does not exist")
            }
            ErrorClass::ProfileWithEnvKeys { profile } => write!(
                f,
                "--profile {profile} would be ignored: AWS_ACCESS_KEY_ID is set in the environment"
            ),
            ErrorClass::ExpiredToken => f.write_str("the AWS credentials have expired"),
            ErrorClass::InvalidCredentials => f.write_str("AWS rejected the credentials"),
            ErrorClass::AccessDenied { action, .. } => match action {
                Some(a) => write!(f, "access denied to {a}"),
                None => f.write_str("access denied"),
            },
            ErrorClass::Unreachable(why) => write!(f, "could not reach AWS: {}", why.phrase()),
            ErrorClass::NotAws { status, html } => write!(
                f,
                "the endpoint is not an AWS endpoint: it answered HTTP {status}{}",
                if *html {
                    " with an HTML page"
                } else {
                    " in no AWS protocol"
                }
            ),
            ErrorClass::WrongRegion => f.write_str("the region does not serve Organizations"),
            ErrorClass::NotInOrganization => f.write_str("the account is not in an organization"),
        }
    }
}

impl Unreachable {
    /// A few words: `connection refused`.
    pub fn phrase(self) -> &'static str {
        match self {
            Unreachable::Refused => "connection refused",
            Unreachable::NoSuchHost => "host name not found",
            Unreachable::ConnectTimeout => "connection timed out",
            Unreachable::TimedOut => "no answer in time",
            Unreachable::Dropped => "connection closed before the answer was complete",
            Unreachable::Other => "transport error",
        }
    }
}

/// The class of `err`, when it is one a user must act on before running again; `None` for
/// AWS's rule errors (limits, conflicts), which the plan and apply report in their own terms.
pub fn classify(err: &Error) -> Option<ErrorClass> {
    match err {
        Error::NoAnswer { class, .. } => Some(class.clone()),
        Error::Transport(_) => Some(ErrorClass::Unreachable(Unreachable::Other)),
        Error::AccessDenied(m) => Some(ErrorClass::AccessDenied {
            action: denied_action(m),
            principal: denied_principal(m),
        }),
        Error::NotInOrganization(_) => Some(ErrorClass::NotInOrganization),
        Error::Service { code, message } => service_class(code, message),
        _ => None,
    }
}

/// Credential and signing errors, by AWS's error code.
fn service_class(code: &str, message: &str) -> Option<ErrorClass> {
    match code {
        "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" | "TokenRefreshRequired" => {
            Some(ErrorClass::ExpiredToken)
        }
        "InvalidSignatureException" | "SignatureDoesNotMatch" | "AuthFailure"
            if message.contains("region") =>
        {
            Some(ErrorClass::WrongRegion)
        }
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "AuthFailure"
        | "MissingAuthenticationToken"
        | "IncompleteSignature" => Some(ErrorClass::InvalidCredentials),
        _ => None,
    }
}

/// `organizations:ListRoots` in AWS's "... is not authorized to perform: ACTION on ..." or
/// "... to perform ACTION ...".
fn denied_action(message: &str) -> Option<String> {
    let rest = message
        .split_once("perform: ")
        .or_else(|| message.split_once("perform "))?
        .1;
    let action: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '*'))
        .collect();
    action.contains(':').then_some(action)
}

/// `arn:aws:iam::111122223333:user/bob` in AWS's "User: ARN is not authorized ...".
fn denied_principal(message: &str) -> Option<String> {
    let start = message.find("arn:")?;
    let arn: String = message[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ';')
        .collect();
    (arn.matches(':').count() >= 5).then_some(arn)
}

impl Error {
    /// Whether a retry with backoff may succeed.
    pub fn is_transient(&self) -> bool {
        if let Error::NoAnswer { class, .. } = self {
            // A dropped or slow answer may come next time; a refused connection, an unknown
            // host, a web page or missing credentials will not.
            return matches!(
                class,
                ErrorClass::Unreachable(
                    Unreachable::TimedOut | Unreachable::Dropped | Unreachable::Other
                )
            ) || matches!(class, ErrorClass::NotAws { status, .. } if *status >= 500);
        }
        matches!(
            self,
            Error::ConcurrentModification(_) | Error::TooManyRequests(_) | Error::Transport(_)
        ) || matches!(self, Error::Service { code, .. } if code == "ServiceException" || code == "PolicyChangesInProgressException")
    }

    /// Whether no connection or no AWS answer came back at all (the endpoint looks dead), as
    /// opposed to an answer AWS gave.
    pub fn is_connection_failure(&self) -> bool {
        matches!(
            self,
            Error::Transport(_)
                | Error::NoAnswer {
                    class: ErrorClass::Unreachable(_) | ErrorClass::NotAws { .. },
                    ..
                }
        )
    }

    /// The SDK's description behind an [`Error::NoAnswer`], for `--verbose`.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::NoAnswer { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// Builds the error for an AWS error code and message. Used by the SDK backend.
    pub fn from_code(code: &str, message: &str) -> Error {
        let m = message.to_owned();
        match code {
            "ConstraintViolationException" => Error::ConstraintViolation {
                reason: reason_in(message).unwrap_or_else(|| "UNKNOWN".into()),
                message: m,
            },
            "DuplicatePolicyAttachmentException" => Error::DuplicatePolicyAttachment(m),
            "PolicyNotAttachedException" => Error::PolicyNotAttached(m),
            "PolicyInUseException" => Error::PolicyInUse(m),
            "DuplicatePolicyException" => Error::DuplicatePolicy(m),
            "MalformedPolicyDocumentException" => Error::MalformedPolicyDocument(m),
            "PolicyTypeNotEnabledException" => Error::PolicyTypeNotEnabled(m),
            "DuplicateOrganizationalUnitException" => Error::DuplicateOrganizationalUnit(m),
            "OrganizationalUnitNotEmptyException" => Error::OrganizationalUnitNotEmpty(m),
            "DuplicateAccountException" => Error::DuplicateAccount(m),
            "InvalidInputException" => Error::InvalidInput {
                reason: reason_in(message).unwrap_or_else(|| "UNKNOWN".into()),
                message: m,
            },
            "ConcurrentModificationException" | "ConcurrentModification" => {
                Error::ConcurrentModification(m)
            }
            "NoSuchEntity" => Error::NotFound {
                code: code.to_owned(),
                message: m,
            },
            "LimitExceeded" => Error::ConstraintViolation {
                reason: "LimitExceeded".into(),
                message: m,
            },
            "TooManyRequestsException" | "Throttling" | "ThrottlingException" => {
                Error::TooManyRequests(m)
            }
            "AccessDeniedException" | "AccessDenied" => Error::AccessDenied(m),
            "AWSOrganizationsNotInUseException" => Error::NotInOrganization(m),
            c if c.ends_with("NotFoundException") => Error::NotFound {
                code: c.to_owned(),
                message: m,
            },
            c => Error::Service {
                code: c.to_owned(),
                message: m,
            },
        }
    }
}

/// An upper-case reason code (`MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED`) mentioned in a
/// message, when the typed field was not available.
fn reason_in(message: &str) -> Option<String> {
    message
        .split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .find(|w| w.len() > 6 && w.contains('_'))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_action_and_principal() {
        let e = Error::from_code(
            "AccessDeniedException",
            "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: organizations:ListRoots on resource: * because no identity-based policy allows the organizations:ListRoots action",
        );
        assert_eq!(
            classify(&e),
            Some(ErrorClass::AccessDenied {
                action: Some("organizations:ListRoots".into()),
                principal: Some("arn:aws:iam::111122223333:user/bob".into()),
            })
        );
        assert_eq!(
            classify(&Error::AccessDenied("You don't have permissions".into())),
            Some(ErrorClass::AccessDenied {
                action: None,
                principal: None
            })
        );
    }

    #[test]
    fn credential_codes_are_classified() {
        let class = |code: &str, m: &str| classify(&Error::from_code(code, m));
        assert_eq!(
            class(
                "ExpiredTokenException",
                "The security token included in the request is expired"
            ),
            Some(ErrorClass::ExpiredToken)
        );
        assert_eq!(
            class(
                "UnrecognizedClientException",
                "The security token included in the request is invalid."
            ),
            Some(ErrorClass::InvalidCredentials)
        );
        assert_eq!(
            class(
                "InvalidSignatureException",
                "Credential should be scoped to a valid region."
            ),
            Some(ErrorClass::WrongRegion)
        );
        assert_eq!(
            class(
                "AWSOrganizationsNotInUseException",
                "Your account is not a member of an organization."
            ),
            Some(ErrorClass::NotInOrganization)
        );
        assert_eq!(class("ConstraintViolationException", "limit"), None);
    }

    #[test]
    fn only_answers_that_may_change_are_retried() {
        let no_answer = |class| Error::NoAnswer {
            class,
            detail: String::new(),
        };
        for (class, transient) in [
            (ErrorClass::Unreachable(Unreachable::Refused), false),
            (ErrorClass::Unreachable(Unreachable::NoSuchHost), false),
            (ErrorClass::Unreachable(Unreachable::ConnectTimeout), false),
            (ErrorClass::Unreachable(Unreachable::TimedOut), true),
            (ErrorClass::Unreachable(Unreachable::Dropped), true),
            (
                ErrorClass::NotAws {
                    status: 200,
                    html: true,
                },
                false,
            ),
            (
                ErrorClass::NotAws {
                    status: 502,
                    html: true,
                },
                true,
            ),
            (ErrorClass::NoCredentials, false),
        ] {
            let e = no_answer(class.clone());
            assert_eq!(e.is_transient(), transient, "{class:?}");
            assert_eq!(
                e.is_connection_failure(),
                matches!(
                    class,
                    ErrorClass::Unreachable(_) | ErrorClass::NotAws { .. }
                ),
                "{class:?}"
            );
        }
        assert!(!Error::TooManyRequests(String::new()).is_connection_failure());
    }
}
