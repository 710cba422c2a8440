//! `live::Error`: AWS's error kinds, whichever backend raised them. The fake raises the same
//! kinds under the same conditions as AWS, so code above `live` cannot tell them apart.

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
}

impl Error {
    /// Whether a retry with backoff may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::ConcurrentModification(_) | Error::TooManyRequests(_) | Error::Transport(_)
        ) || matches!(self, Error::Service { code, .. } if code == "ServiceException" || code == "PolicyChangesInProgressException")
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
