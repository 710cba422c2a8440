//! Shared domain types: the desired organization (what the config says) and the live
//! organization (what AWS says), plus the small vocabulary both use (policy types, target
//! references, OU paths).
//!
//! Architecture invariant: no IO, no AWS SDK types, no serialization format promises. Every
//! other module may import `model`; `model` imports only `policy::limits` (the limits table
//! travels with the desired state). Policy documents are carried as `serde_json::Value`;
//! `policy` gives them meaning.

mod access;
mod desired;
mod iam;
mod live;
mod rollout;
mod validation;

pub use access::{AccessDetail, AccessReport};
pub use desired::{
    AssertSubject, Assertion, Desired, DesiredAccount, DesiredBoundary, DesiredGuardrail,
    DesiredOu, DesiredPolicy, DesiredRoot, LintNote,
};
pub use iam::{BoundaryState, IamLive, IamPolicyState, RoleInfo};
pub use live::{AccountState, LiveAccount, LiveOrg, LiveOu, LivePolicy, LiveRoot};
pub use rollout::{Rollout, DEFAULT_MIN_DAYS, EVENT_HISTORY_DAYS};
pub use validation::{EffectivePolicyError, EffectiveValidation, InvalidEffectivePolicy};

use std::fmt;

/// Hex SHA-256 of some bytes: input digests for saved plans and the live fingerprint.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every Organizations policy type in today's API. guardrail manages the authorization types
/// (SCPs and RCPs); the management types are read only as "enabled on the root" so that an
/// organization that uses them plans cleanly (they never count as drift). A further type is one
/// more variant, a row in [`POLICY_TYPES`] and one in `policy::limits`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum PolicyType {
    ServiceControlPolicy,
    ResourceControlPolicy,
    TagPolicy,
    BackupPolicy,
    AiServicesOptOutPolicy,
    ChatbotPolicy,
    DeclarativePolicyEc2,
    SecurityhubPolicy,
    InspectorPolicy,
    UpgradeRolloutPolicy,
    BedrockPolicy,
    S3Policy,
    NetworkSecurityDirectorPolicy,
}

/// Each type with its API spelling and short name.
pub const POLICY_TYPES: &[(PolicyType, &str, &str)] = &[
    (
        PolicyType::ServiceControlPolicy,
        "SERVICE_CONTROL_POLICY",
        "SCP",
    ),
    (
        PolicyType::ResourceControlPolicy,
        "RESOURCE_CONTROL_POLICY",
        "RCP",
    ),
    (PolicyType::TagPolicy, "TAG_POLICY", "tag policy"),
    (PolicyType::BackupPolicy, "BACKUP_POLICY", "backup policy"),
    (
        PolicyType::AiServicesOptOutPolicy,
        "AISERVICES_OPT_OUT_POLICY",
        "AI opt-out policy",
    ),
    (
        PolicyType::ChatbotPolicy,
        "CHATBOT_POLICY",
        "chat applications policy",
    ),
    (
        PolicyType::DeclarativePolicyEc2,
        "DECLARATIVE_POLICY_EC2",
        "declarative policy",
    ),
    (
        PolicyType::SecurityhubPolicy,
        "SECURITYHUB_POLICY",
        "Security Hub policy",
    ),
    (
        PolicyType::InspectorPolicy,
        "INSPECTOR_POLICY",
        "Inspector policy",
    ),
    (
        PolicyType::UpgradeRolloutPolicy,
        "UPGRADE_ROLLOUT_POLICY",
        "upgrade rollout policy",
    ),
    (
        PolicyType::BedrockPolicy,
        "BEDROCK_POLICY",
        "Bedrock policy",
    ),
    (PolicyType::S3Policy, "S3_POLICY", "S3 policy"),
    (
        PolicyType::NetworkSecurityDirectorPolicy,
        "NETWORK_SECURITY_DIRECTOR_POLICY",
        "Network Security Director policy",
    ),
];

impl PolicyType {
    fn row(self) -> &'static (PolicyType, &'static str, &'static str) {
        // Every variant has a row (a unit test checks it); the first row is only a fallback
        // that cannot be reached.
        POLICY_TYPES
            .iter()
            .find(|(t, _, _)| *t == self)
            .unwrap_or(&POLICY_TYPES[0])
    }

    /// The Organizations API spelling.
    pub fn api_name(self) -> &'static str {
        self.row().1
    }

    /// Short human name, used in messages.
    pub fn short(self) -> &'static str {
        self.row().2
    }

    /// The short name in the plural (`SCPs`, `tag policies`).
    pub fn plural(self) -> String {
        let short = self.short();
        match short.strip_suffix("policy") {
            Some(stem) => format!("{stem}policies"),
            None => format!("{short}s"),
        }
    }

    pub fn from_api_name(s: &str) -> Option<Self> {
        POLICY_TYPES
            .iter()
            .find(|(_, api, _)| *api == s)
            .map(|(t, _, _)| *t)
    }

    /// The types guardrail manages (reads, creates, updates, attaches, detaches, deletes):
    /// every type in today's API.
    pub const MANAGED: [PolicyType; 13] = [
        PolicyType::ServiceControlPolicy,
        PolicyType::ResourceControlPolicy,
        PolicyType::TagPolicy,
        PolicyType::BackupPolicy,
        PolicyType::AiServicesOptOutPolicy,
        PolicyType::ChatbotPolicy,
        PolicyType::DeclarativePolicyEc2,
        PolicyType::SecurityhubPolicy,
        PolicyType::InspectorPolicy,
        PolicyType::UpgradeRolloutPolicy,
        PolicyType::BedrockPolicy,
        PolicyType::S3Policy,
        PolicyType::NetworkSecurityDirectorPolicy,
    ];

    /// Whether guardrail manages this type.
    pub fn is_managed(self) -> bool {
        Self::MANAGED.contains(&self)
    }

    /// The authorization types (SCPs, RCPs): IAM policy language, evaluated by `explain`,
    /// assertions and the lockout proof, at least one per target. The others are management
    /// policies with AWS's inheritance operators (`@@assign`, ...).
    pub fn is_authorization(self) -> bool {
        matches!(
            self,
            PolicyType::ServiceControlPolicy | PolicyType::ResourceControlPolicy
        )
    }

    /// Parses a config's `type`: the API spelling, or `scp` / `rcp`.
    pub fn from_config(s: &str) -> Option<Self> {
        match s {
            "scp" => Some(PolicyType::ServiceControlPolicy),
            "rcp" => Some(PolicyType::ResourceControlPolicy),
            other => Self::from_api_name(other),
        }
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short())
    }
}

/// Where a policy can be attached, named the way a person reads the config: the root, an OU by
/// its path from the root, or an account by its id.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum TargetRef {
    Root,
    Ou(OuPath),
    Account(String),
    /// An account the plan creates, by its email (its id is known only after creation).
    NewAccount(String),
}

impl fmt::Display for TargetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetRef::Root => f.write_str("root"),
            TargetRef::Ou(p) => write!(f, "ou {p}"),
            TargetRef::Account(id) => write!(f, "account {id}"),
            TargetRef::NewAccount(email) => write!(f, "new account <{email}>"),
        }
    }
}

/// A path of OU names from the root, written `Workloads/Prod`. The empty path is the root.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(into = "String", try_from = "String")]
pub struct OuPath(Vec<String>);

/// Saved plans write a path as `A/B` (the root as the empty string).
impl From<OuPath> for String {
    fn from(p: OuPath) -> String {
        p.0.join("/")
    }
}

impl TryFrom<String> for OuPath {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.is_empty() {
            return Ok(OuPath::root());
        }
        OuPath::parse(&s).ok_or_else(|| format!("`{s}` is not an OU path"))
    }
}

impl OuPath {
    pub fn root() -> Self {
        OuPath(Vec::new())
    }

    /// Parses `A/B/C`. Empty segments (`A//B`, a leading or trailing `/`) are rejected.
    pub fn parse(s: &str) -> Option<Self> {
        if s.is_empty() {
            return None;
        }
        let parts: Vec<String> = s.split('/').map(str::to_owned).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        Some(OuPath(parts))
    }

    pub fn from_segments(segments: Vec<String>) -> Self {
        OuPath(segments)
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// Number of OU levels below the root (`Workloads/Prod` is 2).
    pub fn depth(&self) -> usize {
        self.0.len()
    }

    pub fn name(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }

    pub fn parent(&self) -> Option<OuPath> {
        if self.0.is_empty() {
            None
        } else {
            Some(OuPath(self.0[..self.0.len() - 1].to_vec()))
        }
    }

    pub fn child(&self, name: &str) -> OuPath {
        let mut v = self.0.clone();
        v.push(name.to_owned());
        OuPath(v)
    }
}

impl fmt::Display for OuPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(root)")
        } else {
            f.write_str(&self.0.join("/"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_names_read_as_english() {
        assert_eq!(PolicyType::ServiceControlPolicy.plural(), "SCPs");
        assert_eq!(PolicyType::TagPolicy.plural(), "tag policies");
        assert_eq!(
            PolicyType::AiServicesOptOutPolicy.plural(),
            "AI opt-out policies"
        );
        for t in PolicyType::MANAGED {
            assert!(!t.plural().ends_with("policys"), "{t}");
        }
    }

    #[test]
    fn every_policy_type_has_one_row() {
        for (t, api, _) in POLICY_TYPES {
            assert_eq!(PolicyType::from_api_name(api), Some(*t));
            assert_eq!(t.api_name(), *api);
        }
        assert_eq!(POLICY_TYPES.len(), 13);
        assert!(PolicyType::TagPolicy.short() != PolicyType::ServiceControlPolicy.short());
    }

    #[test]
    fn ou_path_parse_and_parent() {
        let p = OuPath::parse("Workloads/Prod").unwrap();
        assert_eq!(p.depth(), 2);
        assert_eq!(p.parent().unwrap().to_string(), "Workloads");
        assert_eq!(p.parent().unwrap().parent().unwrap(), OuPath::root());
        assert!(OuPath::parse("a//b").is_none());
        assert!(OuPath::parse("/a").is_none());
        assert!(OuPath::parse("").is_none());
    }
}
