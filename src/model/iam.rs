//! IAM state read from member accounts for permissions boundaries (plain data; `live::iam`
//! reads it).

use std::collections::BTreeMap;

/// A managed policy's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamPolicyState {
    pub arn: String,
    pub default_version: String,
    /// The default version's document, decoded.
    pub document: String,
}

/// A role and its boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub boundary: Option<String>,
    /// An IAM user rather than a role (audited, never changed: see `plan::boundaries`).
    pub is_user: bool,
}

/// What one boundary looks like in one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoundaryState {
    /// `None` when not read (deploy not enforced); `Some(None)` when the policy is absent.
    pub policy: Option<Option<IamPolicyState>>,
    /// `None` when not read (audit not enforced).
    pub roles: Option<Vec<RoleInfo>>,
}

/// The IAM side of the live state: per (boundary, account).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamLive {
    /// Whether IAM was read at all; a plan without it leaves boundaries alone.
    pub read: bool,
    pub accounts: BTreeMap<(String, String), BoundaryState>,
}
