//! The desired organization, as the config describes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::{OuPath, PolicyType};

/// Everything one `environments/<env>.toml` asks for, with references already checked.
#[derive(Debug, Clone, Default)]
pub struct Desired {
    /// The environment name (the config file's stem): part of the ownership marker.
    pub environment: String,
    /// Live policies this environment owns without a marker (`organization.owned_policy_ids`,
    /// which `import` writes): one the config no longer declares is an orphan, deleted like a
    /// policy guardrail created.
    pub owned_policy_ids: BTreeSet<String>,
    /// Unmanaged policy name patterns (`*` wildcards) that drift does not report
    /// (`ignore_unmanaged`, Control Tower's `aws-guardrails-*` for example).
    pub ignore_unmanaged: Vec<String>,
    /// The management account id the config was written for.
    pub management_account: String,
    /// The principal that runs apply (used by lockout checks).
    pub deployer: Option<String>,
    /// Break-glass principal ARN patterns (account may be `*`).
    pub break_glass: Vec<String>,
    /// The role guardrail assumes in member accounts.
    pub member_role: String,
    /// Guardrail instances by name (expanded statements), for explain and validate.
    pub guardrails: BTreeMap<String, DesiredGuardrail>,
    /// Assertions to check offline (`[[assert]]`).
    pub assertions: Vec<Assertion>,
    /// Lint findings that are not errors, for validate and plan.
    pub lint: Vec<LintNote>,
    /// Permissions boundaries guardrail keeps in member accounts, by config name.
    pub boundaries: BTreeMap<String, DesiredBoundary>,
    /// Policies guardrail manages, by name.
    pub policies: BTreeMap<String, DesiredPolicy>,
    /// The root's attachments.
    pub root: DesiredRoot,
    /// OUs by path. Every parent of a path is present.
    pub ous: BTreeMap<OuPath, DesiredOu>,
    /// Accounts by their config key.
    pub accounts: BTreeMap<String, DesiredAccount>,
    /// Per-type limit overrides already merged over AWS's defaults.
    pub limits: crate::policy::limits::LimitsTable,
    /// Policy types the plan disables on the root (`organization.disable_policy_types`):
    /// never SCPs, never a type the config uses (the config refuses both).
    pub disable_policy_types: BTreeSet<PolicyType>,
    /// `[rollout]` and the guardrails at the canary stage (already held back from the targets
    /// outside the canary OUs).
    pub rollout: super::Rollout,
    /// SHA-256 (hex) of every input read: the config file and each document, by path as
    /// written. Saved plans compare these to tell whether the config moved.
    pub inputs: BTreeMap<String, String>,
}

/// One configured guardrail.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredGuardrail {
    pub name: String,
    pub template: String,
    pub policy_type: PolicyType,
    pub statements: Vec<serde_json::Value>,
    /// A management policy template's expanded document (its statements are then empty).
    pub document: Option<serde_json::Value>,
}

/// One `[boundaries.NAME]`: an IAM policy kept in every covered member account, and what to
/// enforce around it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredBoundary {
    pub name: String,
    /// The IAM policy's name and path (`/guardrail/`).
    pub policy_name: String,
    pub path: String,
    pub document: serde_json::Value,
    /// The role assumed in each member account.
    pub member_role: String,
    /// Role name patterns (`*` wildcards) the audit skips; service-linked roles always.
    pub exempt_roles: Vec<String>,
    /// Covered account ids (inherited from the OUs listed, plus the accounts listed),
    /// management account excluded.
    pub accounts: BTreeSet<String>,
    pub deploy: bool,
    pub require: bool,
    pub protect: bool,
    pub audit: bool,
    pub attach_existing: bool,
}

impl DesiredBoundary {
    /// `guardrail/WorkloadBoundary`: the path without its leading slash, then the name, as
    /// ARNs and the boundary templates write it.
    pub fn path_and_name(&self) -> String {
        format!("{}{}", self.path.trim_start_matches('/'), self.policy_name)
    }

    /// The policy's ARN in an account of the organization's partition (`aws`, `aws-us-gov`,
    /// `aws-cn`; `LiveOrg::partition`, empty meaning `aws`).
    pub fn arn(&self, partition: &str, account: &str) -> String {
        let partition = if partition.is_empty() {
            "aws"
        } else {
            partition
        };
        format!(
            "arn:{partition}:iam::{account}:policy{}{}",
            self.path, self.policy_name
        )
    }
}

/// One `[[assert]]`: a request and the decision it must get.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    /// Where the assertion is written, for messages (`file:line`).
    pub location: String,
    /// An account id, or an OU path (a hypothetical member account directly in it).
    pub subject: AssertSubject,
    pub action: String,
    pub region: Option<String>,
    pub principal: Option<String>,
    pub resource: Option<String>,
    pub context: Vec<(String, String)>,
    pub expect_deny: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AssertSubject {
    Account(String),
    Ou(OuPath),
}

/// A lint finding that does not stop the run.
#[derive(Debug, Clone, PartialEq)]
pub struct LintNote {
    /// `policy NAME` or `guardrail NAME`.
    pub subject: String,
    pub code: &'static str,
    pub severity: &'static str,
    pub statement: Option<String>,
    pub message: String,
    /// 1-based line and column in the config of the key the note is about (the policy's
    /// `document`, the guardrail's table), for SARIF and editors.
    pub line: usize,
    pub column: usize,
    /// The policy's JSON document as the config names it (relative to the config's
    /// directory); none for a guardrail.
    pub document: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredPolicy {
    pub name: String,
    /// `id = "p-..."`: the live policy this entry adopts explicitly (written by `import`), so
    /// that an unmarked policy is managed without a marker write.
    pub pinned_id: Option<String>,
    pub policy_type: PolicyType,
    pub description: String,
    /// The parsed document, as written (key order kept).
    pub document: serde_json::Value,
    /// Where the document came from, for messages.
    pub source: PathBuf,
    /// For compiled guardrail policies: per statement, the guardrail(s) it came from.
    pub guardrails: Vec<Option<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesiredRoot {
    /// Policy names (managed or AWS-managed) to attach directly to the root, compiled
    /// guardrail policies included.
    pub policies: BTreeSet<String>,
    /// Guardrail instances attached here (before compilation).
    pub guardrails: BTreeSet<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesiredOu {
    pub policies: BTreeSet<String>,
    pub guardrails: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredAccount {
    /// The config key (`[accounts.<key>]`), usually the account name.
    pub key: String,
    /// The account id; `None` for an account to be created (then `email` is set).
    pub id: Option<String>,
    pub email: Option<String>,
    /// The OU the account lives in; the root when empty.
    pub ou: OuPath,
    pub policies: BTreeSet<String>,
    pub guardrails: BTreeSet<String>,
}

impl Desired {
    /// The policy types the config uses: those of its policies (compiled guardrails
    /// included) and of the AWS-managed policies its targets list. The plan enables them.
    pub fn used_policy_types(&self) -> BTreeSet<PolicyType> {
        let listed = std::iter::once(&self.root.policies)
            .chain(self.ous.values().map(|o| &o.policies))
            .chain(self.accounts.values().map(|a| &a.policies))
            .flatten()
            .filter_map(|n| self.limits.aws_managed_type(n));
        self.policies
            .values()
            .map(|p| p.policy_type)
            .chain(listed)
            .collect()
    }

    /// The desired attachments of one target, by policy name.
    pub fn attachments_of(&self, target: &super::TargetRef) -> Option<&BTreeSet<String>> {
        match target {
            super::TargetRef::Root => Some(&self.root.policies),
            super::TargetRef::Ou(p) => self.ous.get(p).map(|o| &o.policies),
            super::TargetRef::Account(id) => self
                .accounts
                .values()
                .find(|a| a.id.as_deref() == Some(id.as_str()))
                .map(|a| &a.policies),
            super::TargetRef::NewAccount(email) => self
                .accounts
                .values()
                .find(|a| a.id.is_none() && a.email.as_deref() == Some(email.as_str()))
                .map(|a| &a.policies),
        }
    }
}
