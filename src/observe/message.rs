//! What an access-denied message says about who denied. Since 2026 AWS ends the message of a
//! same-account or same-organization denial with the denying policy's ARN, for example
//! `... with an explicit deny in a service control policy:
//! arn:aws:organizations::111122223333:policy/o-abc/service_control_policy/p-1234abcd`; an
//! implicit denial says `because no service control policy allows the ... action`, with no
//! ARN. CloudTrail keeps the message in `errorMessage`.

use crate::model::PolicyType;

/// A policy ARN found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyingPolicy {
    /// An Organizations policy (SCP or RCP): its id and type.
    Organizations {
        id: String,
        policy_type: PolicyType,
        arn: String,
    },
    /// Any other policy (an IAM identity policy, a permissions boundary, a session or
    /// resource policy): not the organization's.
    Other { arn: String },
}

/// What the message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub policy: Option<DenyingPolicy>,
    /// The layer the message names when it names one (`service control policy`,
    /// `resource control policy`), with or without an ARN.
    pub layer: Option<PolicyType>,
    /// An explicit deny (`with an explicit deny`) rather than a missing allow.
    pub explicit: bool,
}

/// Characters that end an ARN inside a message.
fn ends_arn(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | ')' | '(' | '<' | '>')
}

/// Every `arn:` token of the message.
fn arns(message: &str) -> impl Iterator<Item = &str> {
    message.match_indices("arn:").filter_map(move |(i, _)| {
        let before = message[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let rest = &message[i..];
        let end = rest.find(ends_arn).unwrap_or(rest.len());
        Some(rest[..end].trim_end_matches('.'))
    })
}

/// Reads an Organizations policy ARN:
/// `arn:PARTITION:organizations::OWNER:policy/[o-ORG/]TYPE/p-ID`.
fn organizations_policy(arn: &str) -> Option<(String, PolicyType)> {
    let mut parts = arn.splitn(6, ':');
    let (_arn, _partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (_region, _owner, resource) = (parts.next()?, parts.next()?, parts.next()?);
    if service != "organizations" {
        return None;
    }
    let segments: Vec<&str> = resource.strip_prefix("policy/")?.split('/').collect();
    let (ty, id) = match segments.as_slice() {
        [org, ty, id] if org.starts_with("o-") => (*ty, *id),
        [ty, id] => (*ty, *id),
        _ => return None,
    };
    if !id.starts_with("p-") {
        return None;
    }
    let policy_type = PolicyType::from_api_name(&ty.to_ascii_uppercase())?;
    Some((id.to_owned(), policy_type))
}

/// The layer a message names.
fn named_layer(lower: &str) -> Option<PolicyType> {
    if lower.contains("service control polic") {
        Some(PolicyType::ServiceControlPolicy)
    } else if lower.contains("resource control polic") {
        Some(PolicyType::ResourceControlPolicy)
    } else {
        None
    }
}

/// Reads an access-denied message.
pub fn read(message: &str) -> Said {
    let lower = message.to_ascii_lowercase();
    let policy = arns(message)
        .filter(|a| a.contains(":policy/") || a.contains(":policy:"))
        .map(|arn| match organizations_policy(arn) {
            Some((id, policy_type)) => DenyingPolicy::Organizations {
                id,
                policy_type,
                arn: arn.to_owned(),
            },
            None => DenyingPolicy::Other {
                arn: arn.to_owned(),
            },
        })
        .last();
    Said {
        policy,
        layer: named_layer(&lower),
        explicit: lower.contains("explicit deny"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_scp_deny_names_the_policy() {
        let s = read("User: arn:aws:sts::111122223333:assumed-role/Dev/alice is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:eu-north-1:111122223333:instance/* with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-abc123/service_control_policy/p-12345678.");
        assert_eq!(
            s.policy,
            Some(DenyingPolicy::Organizations {
                id: "p-12345678".into(),
                policy_type: PolicyType::ServiceControlPolicy,
                arn: "arn:aws:organizations::999988887777:policy/o-abc123/service_control_policy/p-12345678".into(),
            })
        );
        assert!(s.explicit);
        assert_eq!(s.layer, Some(PolicyType::ServiceControlPolicy));
    }

    #[test]
    fn an_implicit_deny_has_no_arn_and_other_policies_are_not_the_organizations() {
        let s = read("User: arn:aws:iam::111122223333:user/bob is not authorized to perform: s3:GetObject because no service control policy allows the s3:GetObject action");
        assert_eq!(s.policy, None);
        assert!(!s.explicit);
        assert_eq!(s.layer, Some(PolicyType::ServiceControlPolicy));
        let s = read("... with an explicit deny in a permissions boundary: arn:aws:iam::111122223333:policy/guardrail/Boundary");
        assert!(matches!(s.policy, Some(DenyingPolicy::Other { .. })));
        let s = read("with an explicit deny in a resource control policy: arn:aws:organizations::aws:policy/resource_control_policy/p-abcdefgh");
        assert!(matches!(
            s.policy,
            Some(DenyingPolicy::Organizations {
                policy_type: PolicyType::ResourceControlPolicy,
                ..
            })
        ));
    }
}
