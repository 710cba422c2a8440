//! `plan`: the diff of desired against live, in the order apply must run it, with the safety
//! and limit checks that refuse a plan before any request is sent.
//!
//! Architecture invariant: never calls AWS. Takes a [`Desired`] and a [`LiveOrg`], returns a
//! [`Plan`] or the reasons it is refused. Imports `model` and `policy`.
//!
//! Ownership: a live policy is *managed* when the config names it (in `[policies]`, or an
//! AWS-managed policy such as `FullAWSAccess` on some target) or when it carries guardrail's
//! marker (see `policy::marker`). Only managed policies are created, updated, attached,
//! detached or deleted. Everything else is *unmanaged*: reported, counted against the limits,
//! never touched.

pub mod access_proof;
mod boundaries;
mod diff;
mod disable;
pub mod effects;
pub mod file;
mod headroom;
mod lockout;
mod order;
mod org_count;
pub mod ownership;
mod project;
mod targets;
pub mod verify;

pub use diff::{plan, plan_with_iam, projected};

use crate::model::{OuPath, PolicyType, TargetRef};

/// One step. The order of [`Plan::changes`] is the order apply runs them in.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// Enables a policy type on the root (a type the config uses). Runs first.
    EnablePolicyType {
        policy_type: PolicyType,
    },
    /// Disables a policy type on the root (`organization.disable_policy_types`). Runs last,
    /// after every detach and deletion of the type's managed policies; AWS detaches whatever
    /// is left of the type (only RCPFullAWSAccess: the plan refuses when anything else is).
    DisablePolicyType {
        policy_type: PolicyType,
    },
    CreateOu {
        path: OuPath,
    },
    CreatePolicy {
        name: String,
        policy_type: PolicyType,
        /// The description sent (with the ownership marker).
        description: String,
        /// The minified document sent.
        content: String,
        /// Pretty normal form, for review.
        pretty: String,
        /// The type's document size limit that applied.
        size_limit: usize,
    },
    UpdatePolicy {
        name: String,
        id: String,
        policy_type: PolicyType,
        /// `(live, desired)` descriptions, without the marker, when they differ.
        description: Option<(String, String)>,
        /// Unified statement-level diff of the normal forms, when the meaning changed.
        content_diff: Option<String>,
        /// What is sent.
        new_description: String,
        new_content: Option<String>,
        /// The type's document size limit that applied.
        size_limit: usize,
        /// The policy exists but is not marked as this environment's: this step adopts it
        /// (the description it sends carries the marker).
        #[serde(default)]
        adopt: bool,
    },
    /// Creates a member account (CreateAccount, polled until done) and moves it from the
    /// root into its OU.
    CreateAccount {
        key: String,
        email: String,
        ou: OuPath,
    },
    /// Creates the boundary policy in a member account, or updates it with a new default
    /// version (deleting the oldest non-default version first when IAM's five are used).
    DeployBoundary {
        boundary: String,
        account: String,
        member_role: String,
        policy_name: String,
        path: String,
        arn: String,
        /// The minified document sent.
        document: String,
        create: bool,
        /// Statement-level diff against the live default version, for an update.
        diff: Option<String>,
    },
    /// Puts the boundary on a role that lacks it (`attach-existing`).
    AttachRoleBoundary {
        boundary: String,
        account: String,
        member_role: String,
        role: String,
        arn: String,
    },
    Attach {
        policy: String,
        policy_type: PolicyType,
        target: TargetRef,
    },
    MoveAccount {
        id: String,
        key: String,
        from: OuPath,
        to: OuPath,
    },
    Detach {
        policy: String,
        policy_type: PolicyType,
        target: TargetRef,
    },
    DeletePolicy {
        name: String,
        id: String,
        policy_type: PolicyType,
    },
    DeleteOu {
        path: OuPath,
        id: String,
    },
}

impl Change {
    /// The target a change is grouped under in human output.
    pub fn group(&self) -> Group {
        match self {
            Change::CreateOu { path } | Change::DeleteOu { path, .. } => {
                Group::Target(TargetRef::Ou(path.clone()))
            }
            Change::EnablePolicyType { .. } | Change::DisablePolicyType { .. } => {
                Group::Target(TargetRef::Root)
            }
            Change::CreatePolicy { name, .. }
            | Change::UpdatePolicy { name, .. }
            | Change::DeletePolicy { name, .. } => Group::Policy(name.clone()),
            Change::Attach { target, .. } | Change::Detach { target, .. } => {
                Group::Target(target.clone())
            }
            Change::MoveAccount { id, .. } => Group::Target(TargetRef::Account(id.clone())),
            Change::CreateAccount { email, .. } => {
                Group::Target(TargetRef::NewAccount(email.clone()))
            }
            Change::DeployBoundary { account, .. } | Change::AttachRoleBoundary { account, .. } => {
                Group::Target(TargetRef::Account(account.clone()))
            }
        }
    }

    /// Stable machine name of the action.
    pub fn action(&self) -> &'static str {
        match self {
            Change::EnablePolicyType { .. } => "enable_policy_type",
            Change::DisablePolicyType { .. } => "disable_policy_type",
            Change::CreateOu { .. } => "create_ou",
            Change::DeleteOu { .. } => "delete_ou",
            Change::MoveAccount { .. } => "move_account",
            Change::CreateAccount { .. } => "create_account",
            Change::DeployBoundary { create: true, .. } => "create_boundary",
            Change::DeployBoundary { .. } => "update_boundary",
            Change::AttachRoleBoundary { .. } => "attach_role_boundary",
            Change::CreatePolicy { .. } => "create_policy",
            Change::UpdatePolicy { .. } => "update_policy",
            Change::DeletePolicy { .. } => "delete_policy",
            Change::Attach { .. } => "attach",
            Change::Detach { .. } => "detach",
        }
    }

    /// Whether the change removes something.
    pub fn is_deletion(&self) -> bool {
        matches!(
            self,
            Change::DeleteOu { .. }
                | Change::DeletePolicy { .. }
                | Change::Detach { .. }
                | Change::DisablePolicyType { .. }
        )
    }
}

/// What a change is about, for grouping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Policy(String),
    Target(TargetRef),
}

/// Something the reviewer should know that is not a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// An account is live but the config does not place it; it is left alone.
    AccountNotInConfig {
        id: String,
        name: String,
        path: OuPath,
    },
    /// The config names an account id the organization does not hold.
    AccountNotInOrganization { key: String, id: String },
    /// The organization is governed by AWS Control Tower (its `aws-guardrails-*` SCPs).
    ControlTower { policies: usize },
    /// An account move between OUs Control Tower has registered (they carry its SCPs).
    ControlTowerMove {
        key: String,
        id: String,
        from: OuPath,
        to: OuPath,
    },
    /// A lint finding of severity security or warning (errors stop the config earlier).
    Lint {
        subject: String,
        code: String,
        severity: String,
        statement: Option<String>,
        message: String,
    },
    /// An account that is not ACTIVE (suspended, closing, closed): shown, never moved.
    AccountNotActive {
        id: String,
        name: String,
        state: String,
        path: OuPath,
    },
    /// An OU absent from the config is kept: it still holds an account that is not ACTIVE.
    OuKept { path: OuPath, account: String },
    /// A policy carrying guardrail's first-version marker (no organization or environment),
    /// not named by the config: left alone.
    LegacyMarker { name: String, id: String },
    /// A policy guardrail neither created nor is told about.
    UnmanagedPolicy {
        name: String,
        id: String,
        policy_type: PolicyType,
        targets: usize,
    },
}

/// A policy guardrail does not manage, attached to a target the config describes. Drift
/// reports it unless the config ignores its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmanagedAttachment {
    pub target: TargetRef,
    pub policy: String,
    pub id: String,
    pub policy_type: PolicyType,
    /// Matched by `ignore_unmanaged`.
    pub ignored: bool,
}

/// The plan: ordered changes and warnings, plus what it was computed against.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub org_id: String,
    pub management_account: String,
    pub changes: Vec<Change>,
    pub warnings: Vec<Warning>,
    /// Account names by id (the config key, else the live name), for display.
    pub account_names: std::collections::BTreeMap<String, String>,
    /// Probe requests whose decision the plan flips (see `plan::effects`).
    pub effects: Vec<effects::Effect>,
    /// Slots and characters left per target after the plan (targets the plan touches).
    pub headroom: Vec<Headroom>,
    /// Roles that escape a boundary (audit), as they are now.
    pub audit: Vec<AuditFinding>,
    /// Unmanaged policies on the targets the config describes.
    pub unmanaged: Vec<UnmanagedAttachment>,
    /// The AWS ids the plan knows, for automation reading the JSON: policies by name, OUs by
    /// path (what exists live; a created OU or policy gets its id at apply).
    pub policy_ids: std::collections::BTreeMap<String, String>,
    pub ou_ids: std::collections::BTreeMap<OuPath, String>,
    /// For every account the plan touches or moves: each OU path it is under during the
    /// apply (before and after), so apply can order steps along the tree.
    pub account_paths: std::collections::BTreeMap<String, Vec<OuPath>>,
    /// Whether the change grants new access (`plan::access_proof`); computed by `plan`
    /// commands, not by [`plan`] itself (the model check plans thousands of times).
    pub access_proof: Option<access_proof::AccessProof>,
}

/// A role in a covered account that lacks the boundary or carries another one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFinding {
    pub boundary: String,
    pub account: String,
    pub role: String,
    pub role_arn: String,
    /// The boundary it carries instead, if any.
    pub found: Option<String>,
    /// An IAM user rather than a role.
    pub is_user: bool,
}

/// What is left on one target after the plan: slots of each policy type and the characters
/// left in its fullest managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headroom {
    pub target: TargetRef,
    pub policy_type: PolicyType,
    pub slots_used: usize,
    pub slots_limit: usize,
    /// The smallest characters-left among the managed policies attached here.
    pub chars_left: Option<usize>,
}

/// Counts by kind, for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub types_to_enable: usize,
    pub types_to_disable: usize,
    pub ous_to_create: usize,
    pub ous_to_delete: usize,
    pub accounts_to_move: usize,
    pub accounts_to_create: usize,
    pub boundaries_to_create: usize,
    pub boundaries_to_update: usize,
    pub roles_to_bound: usize,
    pub policies_to_create: usize,
    pub policies_to_update: usize,
    pub policies_to_delete: usize,
    pub attachments_to_add: usize,
    pub attachments_to_remove: usize,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c {
                Change::EnablePolicyType { .. } => s.types_to_enable += 1,
                Change::DisablePolicyType { .. } => s.types_to_disable += 1,
                Change::CreateOu { .. } => s.ous_to_create += 1,
                Change::DeleteOu { .. } => s.ous_to_delete += 1,
                Change::MoveAccount { .. } => s.accounts_to_move += 1,
                Change::CreateAccount { .. } => s.accounts_to_create += 1,
                Change::DeployBoundary { create: true, .. } => s.boundaries_to_create += 1,
                Change::DeployBoundary { .. } => s.boundaries_to_update += 1,
                Change::AttachRoleBoundary { .. } => s.roles_to_bound += 1,
                Change::CreatePolicy { .. } => s.policies_to_create += 1,
                Change::UpdatePolicy { .. } => s.policies_to_update += 1,
                Change::DeletePolicy { .. } => s.policies_to_delete += 1,
                Change::Attach { .. } => s.attachments_to_add += 1,
                Change::Detach { .. } => s.attachments_to_remove += 1,
            }
        }
        s
    }
}

/// Why a plan is refused. Each names what would break and which limit value applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the config is for management account {config}, but these credentials reach the organization managed by {live}")]
    ManagementAccountMismatch { config: String, live: String },
    #[error("{target} would carry {count} {} ({unmanaged} not managed here); the limit is {limit} ({limit_source})", .policy_type.plural())]
    TooManyAttachments {
        target: TargetRef,
        policy_type: PolicyType,
        count: usize,
        unmanaged: usize,
        limit: usize,
        limit_source: String,
    },
    #[error("{target} would be left with no {policy_type}; AWS requires at least {min} ({limit_source}). List another policy for it, {example} for example")]
    ZeroPolicies {
        target: TargetRef,
        policy_type: PolicyType,
        min: usize,
        limit_source: String,
        /// The type's AWS-managed policy (FullAWSAccess, RCPFullAWSAccess).
        example: String,
    },
    #[error("the {policy_type} policy type is not enabled on the root; enable it (EnablePolicyType) before managing {}", .policy_type.plural())]
    PolicyTypeNotEnabled { policy_type: PolicyType },
    #[error("disabling {policy_type} would make AWS detach policies guardrail does not manage: {}. Detach them first (or ask their owner to), or drop {} from organization.disable_policy_types", .attached.join("; "), .policy_type.api_name())]
    DisableWouldDetach {
        policy_type: PolicyType,
        /// Each unmanaged policy with its targets: `name (p-id) on root, ou A, account 1…`.
        attached: Vec<String>,
    },
    #[error("OU {path} is absent from the config and would be deleted, but it still holds account {account_name} ({account_id}) that the config does not place; add the account to the config")]
    OuNotEmpty {
        path: OuPath,
        account_id: String,
        account_name: String,
    },
    #[error("lockout: {principal} would be denied {action} in {account} ({by}); {}", lockout_advice(.by))]
    Lockout {
        principal: String,
        account: String,
        action: String,
        by: String,
    },
    #[error(
        "assertion at {location} does not hold: {description} should be {expected}, but is {got}"
    )]
    AssertionFailed {
        location: String,
        description: String,
        expected: String,
        got: String,
    },
    #[error("{target} holds {holding} {}, its limit of {limit}: attaching {waiting} needs a free slot first, and none of [{}] may leave before its replacement without briefly removing a deny the new config keeps. Free a slot (merge two policies, or attach one at the parent OU), or apply in two steps: first without {waiting}, then with it", .policy_type.plural(), .blocked.join(", "))]
    NoSafeOrder {
        target: TargetRef,
        policy_type: PolicyType,
        holding: usize,
        limit: usize,
        waiting: String,
        blocked: Vec<String>,
    },
    #[error("policy {name} belongs to {owner}; guardrail will not take it over. Rename the policy in this config, or remove it from the other one first")]
    ForeignPolicy { name: String, owner: String },
    #[error(
        "policy {name} pins id {id}, but {found}; fix the `id` (or remove it to adopt by name)"
    )]
    PinMismatch {
        name: String,
        id: String,
        found: String,
    },
    #[error("live account {id} is matched by two config entries: {}; keep one", .keys.join(" and "))]
    AccountMatchedTwice { id: String, keys: Vec<String> },
    #[error("the organization would hold {} {} during the apply ({held} now, {unmanaged} of them not in this config, and {creates} to create before any deletion); AWS's limit is {limit} per organization ({limit_source}). Delete unused ones first, or merge policies in this config", .held + .creates, .policy_type.plural())]
    TooManyPolicies {
        policy_type: PolicyType,
        held: usize,
        unmanaged: usize,
        creates: usize,
        limit: usize,
        limit_source: String,
    },
    #[error("policy {name} is {size} characters minified; the {policy_type} limit is {limit} ({limit_source}), {over} over")]
    DocumentTooLarge {
        name: String,
        policy_type: PolicyType,
        size: usize,
        limit: usize,
        over: usize,
        limit_source: String,
    },
}

/// What to do about a lockout: an explicit deny wants an exemption; an implicit one (no
/// policy at some level allows the action) wants an Allow at that level, of that layer.
fn lockout_advice(by: &str) -> &'static str {
    if by.contains("no RCP at") {
        "nothing at that level allows it: list an allowing RCP there (RCPFullAWSAccess, or one that allows the action)"
    } else if by.contains("allows it") {
        "nothing at that level allows it: list an allowing policy there (FullAWSAccess, or an allow-list that includes the action)"
    } else {
        "exempt the principal in that guardrail (deployer, break_glass) or detach it"
    }
}

impl Refusal {
    /// A short machine name for the kind of refusal.
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::ManagementAccountMismatch { .. } => "management_account_mismatch",
            Refusal::TooManyAttachments { .. } => "too_many_attachments",
            Refusal::ZeroPolicies { .. } => "zero_policies",
            Refusal::PolicyTypeNotEnabled { .. } => "policy_type_not_enabled",
            Refusal::DisableWouldDetach { .. } => "disable_would_detach",
            Refusal::OuNotEmpty { .. } => "ou_not_empty",
            Refusal::Lockout { .. } => "lockout",
            Refusal::AssertionFailed { .. } => "assertion_failed",
            Refusal::DocumentTooLarge { .. } => "document_too_large",
            Refusal::TooManyPolicies { .. } => "too_many_policies",
            Refusal::NoSafeOrder { .. } => "no_safe_order",
            Refusal::ForeignPolicy { .. } => "foreign_policy",
            Refusal::PinMismatch { .. } => "pin_mismatch",
            Refusal::AccountMatchedTwice { .. } => "account_matched_twice",
        }
    }
}

/// A refused plan: every reason found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plan refused: {}", .0.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("; "))]
pub struct Refused(pub Vec<Refusal>);
