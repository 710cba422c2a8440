//! The one table of AWS limits guardrail enforces, per policy type, with AWS's current values
//! as defaults (AWS raised the SCP limits on 15 May 2026: 10,240 characters and 10 SCPs per
//! target). Every check in the crate reads its number from here; a config may override any
//! value for an organization on other quotas (`[limits.scp]`, `[limits.rcp]`, `[limits.org]`).

use crate::model::PolicyType;

/// Where a limit's value came from, so a refusal can say which value was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitSource {
    AwsDefault,
    /// AWS's pages do not agree or do not say: the stricter plausible value (docs/config.md).
    AwsAssumed,
    Config,
}

impl std::fmt::Display for LimitSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitSource::AwsDefault => f.write_str("AWS default"),
            LimitSource::AwsAssumed => f.write_str("assumed: AWS does not publish one value"),
            LimitSource::Config => f.write_str("set in config"),
        }
    }
}

/// One limit value and its provenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub value: usize,
    pub source: LimitSource,
}

impl Limit {
    const fn aws(value: usize) -> Self {
        Limit {
            value,
            source: LimitSource::AwsDefault,
        }
    }

    const fn assumed(value: usize) -> Self {
        Limit {
            value,
            source: LimitSource::AwsAssumed,
        }
    }
}

/// The limits of one policy type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyTypeLimits {
    pub policy_type: PolicyType,
    /// Characters of the document as sent (guardrail sends it minified).
    pub max_document_chars: Limit,
    /// Policies of this type attached directly to one root, OU or account.
    pub max_attachments_per_target: Limit,
    /// Policies of this type every target must keep while the type is enabled.
    pub min_attachments_per_target: Limit,
    /// Policies of this type in the organization.
    pub max_policies_per_org: Limit,
    /// Description length.
    pub max_description_chars: Limit,
    /// Name length.
    pub max_name_chars: Limit,
    /// The AWS-managed policy of this type that AWS attaches to every new target, if any, and
    /// whether it can be detached.
    pub aws_managed_policy: Option<&'static str>,
    pub aws_managed_detachable: bool,
}

/// Organization-wide structural limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLimits {
    /// Levels of OUs below the root.
    pub max_ou_depth: Limit,
    /// OUs in the organization.
    pub max_ous: Limit,
    /// OU name length.
    pub max_ou_name_chars: Limit,
    /// Tags on one root, OU, account or policy.
    pub max_tags_per_resource: Limit,
}

/// IAM limits for the permissions-boundary policy guardrail keeps in member accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamLimits {
    /// Characters of a customer managed policy, whitespace not counted.
    pub max_managed_policy_chars: Limit,
    /// Versions IAM keeps per managed policy.
    pub max_policy_versions: Limit,
}

/// All limits: one row per policy type plus the organization's and IAM's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsTable {
    pub scp: PolicyTypeLimits,
    pub rcp: PolicyTypeLimits,
    /// The management policy types (tag, backup, AI opt-out, declarative, ...), one row each.
    pub management: Vec<PolicyTypeLimits>,
    pub org: OrgLimits,
    pub iam: IamLimits,
}

impl Default for LimitsTable {
    fn default() -> Self {
        LimitsTable {
            scp: PolicyTypeLimits {
                policy_type: PolicyType::ServiceControlPolicy,
                max_document_chars: Limit::aws(10_240),
                max_attachments_per_target: Limit::aws(10),
                min_attachments_per_target: Limit::aws(1),
                max_policies_per_org: Limit::aws(10_000),
                max_description_chars: Limit::aws(512),
                max_name_chars: Limit::aws(128),
                aws_managed_policy: Some("FullAWSAccess"),
                aws_managed_detachable: true,
            },
            rcp: PolicyTypeLimits {
                policy_type: PolicyType::ResourceControlPolicy,
                max_document_chars: Limit::aws(5_120),
                max_attachments_per_target: Limit::aws(5),
                min_attachments_per_target: Limit::aws(1),
                // The quotas page says 2,000, another of AWS's pages 1,000: the stricter.
                max_policies_per_org: Limit::assumed(1_000),
                max_description_chars: Limit::aws(512),
                max_name_chars: Limit::aws(128),
                aws_managed_policy: Some("RCPFullAWSAccess"),
                aws_managed_detachable: false,
            },
            management: management_rows(),
            org: OrgLimits {
                max_ou_depth: Limit::aws(5),
                max_ous: Limit::aws(2_000),
                max_ou_name_chars: Limit::aws(128),
                max_tags_per_resource: Limit::aws(50),
            },
            iam: IamLimits {
                max_managed_policy_chars: Limit::aws(6_144),
                max_policy_versions: Limit::aws(5),
            },
        }
    }
}

/// The management policy types. Sizes and per-target counts from AWS's quotas page where it
/// gives them (declarative, backup, tag, chat applications and Security Hub 10,000 characters;
/// AI opt-out 2,500; upgrade rollout 5,120; backup and tag 10 per target, AI opt-out 5);
/// elsewhere the stricter value AWS uses for a sibling type (5,120 characters, 5 per target).
/// None needs a policy on every target.
fn management_rows() -> Vec<PolicyTypeLimits> {
    use PolicyType::*;
    let row = |policy_type, chars: Limit, per_target: Limit| PolicyTypeLimits {
        policy_type,
        max_document_chars: chars,
        max_attachments_per_target: per_target,
        min_attachments_per_target: Limit::aws(0),
        max_policies_per_org: Limit::aws(1_000),
        max_description_chars: Limit::aws(512),
        max_name_chars: Limit::aws(128),
        aws_managed_policy: None,
        aws_managed_detachable: true,
    };
    vec![
        row(TagPolicy, Limit::aws(10_000), Limit::aws(10)),
        row(BackupPolicy, Limit::aws(10_000), Limit::aws(10)),
        row(AiServicesOptOutPolicy, Limit::aws(2_500), Limit::aws(5)),
        row(ChatbotPolicy, Limit::aws(10_000), Limit::assumed(5)),
        row(DeclarativePolicyEc2, Limit::aws(10_000), Limit::assumed(5)),
        row(SecurityhubPolicy, Limit::aws(10_000), Limit::assumed(5)),
        row(InspectorPolicy, Limit::assumed(5_120), Limit::assumed(5)),
        row(UpgradeRolloutPolicy, Limit::aws(5_120), Limit::assumed(5)),
        row(BedrockPolicy, Limit::assumed(5_120), Limit::assumed(5)),
        row(S3Policy, Limit::assumed(5_120), Limit::assumed(5)),
        row(
            NetworkSecurityDirectorPolicy,
            Limit::assumed(5_120),
            Limit::assumed(5),
        ),
    ]
}

impl LimitsTable {
    /// The row of a type. Every type has one (a unit test checks it); SCP's row stands in for
    /// a type without one, which cannot happen.
    pub fn for_type(&self, ty: PolicyType) -> &PolicyTypeLimits {
        match ty {
            PolicyType::ServiceControlPolicy => &self.scp,
            PolicyType::ResourceControlPolicy => &self.rcp,
            _ => self
                .management
                .iter()
                .find(|r| r.policy_type == ty)
                .unwrap_or(&self.scp),
        }
    }

    pub fn for_type_mut(&mut self, ty: PolicyType) -> &mut PolicyTypeLimits {
        match ty {
            PolicyType::ResourceControlPolicy => &mut self.rcp,
            _ => match self.management.iter().position(|r| r.policy_type == ty) {
                Some(i) => &mut self.management[i],
                None => &mut self.scp,
            },
        }
    }

    /// Is `name` the AWS-managed policy of some type?
    pub fn aws_managed_type(&self, name: &str) -> Option<PolicyType> {
        [&self.scp, &self.rcp]
            .into_iter()
            .find(|l| l.aws_managed_policy == Some(name))
            .map(|l| l.policy_type)
    }

    /// The AWS-managed policy of a type that can never be detached (RCPFullAWSAccess).
    pub fn undetachable(&self, ty: PolicyType) -> Option<&'static str> {
        let l = self.for_type(ty);
        l.aws_managed_policy.filter(|_| !l.aws_managed_detachable)
    }
}

/// The names a config may use in `[limits.<type>]`, with a setter for each.
pub const POLICY_LIMIT_KEYS: &[&str] = &[
    "max_document_chars",
    "max_attachments_per_target",
    "min_attachments_per_target",
    "max_policies_per_org",
];

/// The names a config may use in `[limits.org]`.
pub const ORG_LIMIT_KEYS: &[&str] = &["max_ou_depth", "max_ous"];

impl PolicyTypeLimits {
    /// Overrides one named limit; false when the key is unknown.
    pub fn set(&mut self, key: &str, value: usize) -> bool {
        let slot = match key {
            "max_document_chars" => &mut self.max_document_chars,
            "max_attachments_per_target" => &mut self.max_attachments_per_target,
            "min_attachments_per_target" => &mut self.min_attachments_per_target,
            "max_policies_per_org" => &mut self.max_policies_per_org,
            _ => return false,
        };
        *slot = Limit {
            value,
            source: LimitSource::Config,
        };
        true
    }
}

/// IAM's organizations access report (`suggest service-allowlist`): IAM tracks service access
/// for the last 400 days (AWS's service last accessed data pages), and
/// `GetOrganizationsAccessReport` pages hold 1 to 1,000 services, 100 unless `MaxItems` says
/// otherwise (its API reference).
pub const ACCESS_REPORT_TRACKING_DAYS: Limit = Limit::aws(400);
pub const ACCESS_REPORT_MAX_ITEMS: Limit = Limit::aws(1_000);
pub const ACCESS_REPORT_DEFAULT_ITEMS: Limit = Limit::aws(100);

/// The largest CloudTrail record replay's reader takes: AWS caps an event at 256 KB since
/// event version 1.05 (CloudTrail's quotas page), but older event versions had no published
/// cap and event data stores offer a larger `MaxEventSize`, so the reader allows four times
/// that. A record, or any value outside `Records`, larger than this is not a CloudTrail log:
/// the file fails there instead of filling memory.
pub const CLOUDTRAIL_MAX_RECORD_BYTES: Limit = Limit::assumed(1 << 20);

impl OrgLimits {
    pub fn set(&mut self, key: &str, value: usize) -> bool {
        let slot = match key {
            "max_ou_depth" => &mut self.max_ou_depth,
            "max_ous" => &mut self.max_ous,
            _ => return false,
        };
        *slot = Limit {
            value,
            source: LimitSource::Config,
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_todays_aws_values() {
        let t = LimitsTable::default();
        assert_eq!(t.scp.max_document_chars.value, 10_240);
        assert_eq!(t.scp.max_attachments_per_target.value, 10);
        assert_eq!(t.rcp.max_document_chars.value, 5_120);
        assert_eq!(t.rcp.max_attachments_per_target.value, 5);
        // AWS's pages disagree (2,000 and 1,000): the stricter value, marked as assumed.
        assert_eq!(t.rcp.max_policies_per_org, Limit::assumed(1_000));
        assert_eq!(t.org.max_ou_depth.value, 5);
        for (ty, _, _) in crate::model::POLICY_TYPES {
            assert_eq!(t.for_type(*ty).policy_type, *ty, "{ty:?} has a row");
        }
        assert_eq!(
            t.for_type(PolicyType::TagPolicy)
                .min_attachments_per_target
                .value,
            0
        );
        assert_eq!(
            t.undetachable(PolicyType::ResourceControlPolicy),
            Some("RCPFullAWSAccess")
        );
        assert_eq!(t.undetachable(PolicyType::ServiceControlPolicy), None);
    }

    #[test]
    fn override_records_its_source() {
        let mut t = LimitsTable::default();
        assert!(t.scp.set("max_attachments_per_target", 5));
        assert_eq!(t.scp.max_attachments_per_target.source, LimitSource::Config);
        assert!(!t.scp.set("no_such_limit", 5));
        assert_eq!(
            t.aws_managed_type("FullAWSAccess"),
            Some(PolicyType::ServiceControlPolicy)
        );
    }
}
