//! A request to evaluate: the action, the resource and the request context, and what AWS
//! derives from the calling principal.
//!
//! Keys compare case-insensitively, so the context is stored under lower-cased keys.
//! [`Request::principal`] fills `aws:PrincipalArn`, `aws:PrincipalAccount` and
//! `aws:PrincipalType` the way AWS does (IAM users `User`, federation sessions
//! `FederatedUser`, role sessions `AssumedRole`, the root user `Account`); a session ARN
//! (`arn:aws:sts::A:assumed-role/R/S`) yields the role's ARN as `aws:PrincipalArn`.
//! [`Request::set`] replaces a key, so a caller's own `aws:PrincipalType` wins over the
//! derived one.

use std::collections::BTreeMap;

/// One request to evaluate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// `service:Action`.
    pub action: String,
    /// The resource ARN, if known. Without one, every `Resource` pattern matches (the answer
    /// is then "what could apply").
    pub resource: Option<String>,
    /// Condition keys (lower-cased) and their values.
    pub context: BTreeMap<String, Vec<String>>,
}

/// What kind of principal calls, as `aws:PrincipalType` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    Account,
    User,
    FederatedUser,
    AssumedRole,
}

impl PrincipalType {
    pub fn name(self) -> &'static str {
        match self {
            PrincipalType::Account => "Account",
            PrincipalType::User => "User",
            PrincipalType::FederatedUser => "FederatedUser",
            PrincipalType::AssumedRole => "AssumedRole",
        }
    }
}

/// A principal ARN as AWS sees it in the request context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `aws:PrincipalArn`: the role's ARN for a role session.
    pub arn: String,
    pub account: String,
    pub kind: PrincipalType,
}

impl Principal {
    /// Reads an IAM or STS principal ARN. Anything unrecognised is taken as a role.
    pub fn parse(arn: &str) -> Principal {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let (partition, service, account, resource) = match parts.as_slice() {
            [_, p, s, _, a, r] => (*p, *s, *a, *r),
            _ => ("aws", "iam", "", arn),
        };
        let (arn, kind) = if resource == "root" {
            (arn.to_owned(), PrincipalType::Account)
        } else if resource.starts_with("user/") {
            (arn.to_owned(), PrincipalType::User)
        } else if service == "sts" && resource.starts_with("federated-user/") {
            (arn.to_owned(), PrincipalType::FederatedUser)
        } else if let (true, Some(rest)) =
            (service == "sts", resource.strip_prefix("assumed-role/"))
        {
            // The session ARN carries the role's name but not its path: the role ARN it
            // stands for is the path-less one.
            let role = rest.split('/').next().unwrap_or(rest);
            (
                format!("arn:{partition}:iam::{account}:role/{role}"),
                PrincipalType::AssumedRole,
            )
        } else {
            (arn.to_owned(), PrincipalType::AssumedRole)
        };
        Principal {
            arn,
            account: account.to_owned(),
            kind,
        }
    }

    /// A service-linked role (`role/aws-service-role/...`): neither SCPs nor RCPs apply.
    pub fn is_service_linked_role(&self) -> bool {
        self.arn
            .splitn(6, ':')
            .nth(5)
            .is_some_and(|r| r.starts_with("role/aws-service-role/"))
    }
}

impl Request {
    pub fn new(action: &str) -> Request {
        Request {
            action: action.to_owned(),
            ..Request::default()
        }
    }

    /// Adds a value to a key (keys may hold several values, like `aws:TagKeys`).
    pub fn with(mut self, key: &str, value: &str) -> Request {
        self.context
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.to_owned());
        self
    }

    /// Replaces a key's values.
    pub fn set(mut self, key: &str, values: Vec<String>) -> Request {
        self.context.insert(key.to_ascii_lowercase(), values);
        self
    }

    pub fn region(self, region: &str) -> Request {
        self.set("aws:RequestedRegion", vec![region.to_owned()])
    }

    /// Sets `aws:PrincipalArn`, `aws:PrincipalAccount` and `aws:PrincipalType` from a
    /// principal ARN (see [`Principal::parse`]).
    pub fn principal(self, arn: &str) -> Request {
        let p = Principal::parse(arn);
        let r = self
            .set("aws:PrincipalArn", vec![p.arn.clone()])
            .set("aws:PrincipalType", vec![p.kind.name().to_owned()]);
        if p.account.is_empty() {
            r
        } else {
            r.set("aws:PrincipalAccount", vec![p.account])
        }
    }

    /// A key's values (case-insensitive), if the request has it.
    pub fn values(&self, key: &str) -> Option<&[String]> {
        self.context
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
    }

    /// The calling principal, if `aws:PrincipalArn` is set.
    pub fn caller(&self) -> Option<Principal> {
        match self.values("aws:PrincipalArn") {
            Some([arn]) => Some(Principal::parse(arn)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(arn: &str) -> Option<String> {
        Request::new("s3:GetObject")
            .principal(arn)
            .values("aws:PrincipalType")
            .and_then(|v| v.first().cloned())
    }

    /// aws:PrincipalType: `Account` for the root user, `User` for IAM users,
    /// `FederatedUser` for GetFederationToken sessions, `AssumedRole` for role sessions.
    #[test]
    fn principal_type_follows_the_kind_of_principal() {
        assert_eq!(
            kind("arn:aws:iam::111122223333:root").as_deref(),
            Some("Account")
        );
        assert_eq!(
            kind("arn:aws:iam::111122223333:user/ops/alice").as_deref(),
            Some("User")
        );
        assert_eq!(
            kind("arn:aws:sts::111122223333:federated-user/bob").as_deref(),
            Some("FederatedUser")
        );
        assert_eq!(
            kind("arn:aws:sts::111122223333:assumed-role/App/session-1").as_deref(),
            Some("AssumedRole")
        );
        assert_eq!(
            kind("arn:aws:iam::111122223333:role/App").as_deref(),
            Some("AssumedRole")
        );
    }

    /// aws:PrincipalArn of a role session is the role's ARN, not the session's.
    #[test]
    fn principal_arn_of_an_assumed_role_session_is_the_role_arn() {
        let r = Request::new("s3:GetObject")
            .principal("arn:aws:sts::111122223333:assumed-role/Deployer/ci-run-7");
        assert_eq!(
            r.values("aws:PrincipalArn"),
            Some(&["arn:aws:iam::111122223333:role/Deployer".to_owned()][..])
        );
        assert_eq!(
            r.values("aws:PrincipalAccount"),
            Some(&["111122223333".to_owned()][..])
        );
    }

    #[test]
    fn service_linked_roles_are_recognised() {
        let slr = Principal::parse(
            "arn:aws:iam::111122223333:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
        );
        assert!(slr.is_service_linked_role());
        assert!(
            !Principal::parse("arn:aws:iam::111122223333:role/aws-service-roles")
                .is_service_linked_role()
        );
    }
}
