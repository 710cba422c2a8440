//! The live organization, as one walk of the Organizations API saw it.

use std::collections::BTreeMap;

use super::{OuPath, PolicyType, TargetRef};

/// A snapshot of the organization: the tree, the accounts and every policy of the types read,
/// with its targets. Built by `live::read_organization`, consumed by `plan` and `config::import`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveOrg {
    pub org_id: String,
    pub management_account: String,
    /// The AWS partition (`aws`, `aws-us-gov`, `aws-cn`), from the root's ARN; empty when the
    /// snapshot was not read by a walk, which ARN builders take as `aws`.
    pub partition: String,
    pub root: LiveRoot,
    /// OUs by id.
    pub ous: BTreeMap<String, LiveOu>,
    /// Accounts by id.
    pub accounts: BTreeMap<String, LiveAccount>,
    /// Policies by id.
    pub policies: BTreeMap<String, LivePolicy>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveRoot {
    pub id: String,
    pub name: String,
    /// Policy types enabled on the root.
    pub enabled_policy_types: Vec<PolicyType>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveOu {
    pub id: String,
    pub name: String,
    pub parent_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveAccount {
    pub id: String,
    pub name: String,
    pub email: String,
    pub parent_id: String,
    pub state: AccountState,
}

/// An account's lifecycle state (`Account.State`; AWS retired `Status` in 2026). Only ACTIVE
/// accounts are moved or re-attached; the others are shown and left where they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum AccountState {
    PendingActivation,
    #[default]
    Active,
    Suspended,
    PendingClosure,
    Closed,
}

impl AccountState {
    /// Reads `State` (or the retired `Status`: ACTIVE, SUSPENDED, PENDING_CLOSURE).
    pub fn from_api_name(s: &str) -> Option<Self> {
        Some(match s {
            "PENDING_ACTIVATION" => AccountState::PendingActivation,
            "ACTIVE" => AccountState::Active,
            "SUSPENDED" => AccountState::Suspended,
            "PENDING_CLOSURE" => AccountState::PendingClosure,
            "CLOSED" => AccountState::Closed,
            _ => return None,
        })
    }

    pub fn api_name(self) -> &'static str {
        match self {
            AccountState::PendingActivation => "PENDING_ACTIVATION",
            AccountState::Active => "ACTIVE",
            AccountState::Suspended => "SUSPENDED",
            AccountState::PendingClosure => "PENDING_CLOSURE",
            AccountState::Closed => "CLOSED",
        }
    }

    pub fn is_active(self) -> bool {
        self == AccountState::Active
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LivePolicy {
    pub id: String,
    pub name: String,
    pub description: String,
    pub policy_type: PolicyType,
    pub aws_managed: bool,
    /// The document exactly as AWS stores it.
    pub content: String,
    /// Ids of the roots, OUs and accounts it is attached to directly.
    pub targets: Vec<String>,
}

impl LiveOrg {
    /// The path of an OU (or the root, as the empty path) by id.
    pub fn path_of(&self, parent_id: &str) -> Option<OuPath> {
        let mut segments = Vec::new();
        let mut cur = parent_id;
        // A well-formed tree is at most a few levels deep; the bound stops a cycle in a
        // corrupt snapshot from looping forever.
        for _ in 0..=self.ous.len() {
            if cur == self.root.id {
                segments.reverse();
                return Some(OuPath::from_segments(segments));
            }
            let ou = self.ous.get(cur)?;
            segments.push(ou.name.clone());
            cur = &ou.parent_id;
        }
        None
    }

    /// OU ids by path.
    pub fn ou_ids_by_path(&self) -> BTreeMap<OuPath, String> {
        self.ous
            .keys()
            .filter_map(|id| self.path_of(id).map(|p| (p, id.clone())))
            .collect()
    }

    /// The target a live id stands for.
    pub fn target_of(&self, id: &str) -> Option<TargetRef> {
        if id == self.root.id {
            Some(TargetRef::Root)
        } else if self.ous.contains_key(id) {
            self.path_of(id).map(TargetRef::Ou)
        } else if self.accounts.contains_key(id) {
            Some(TargetRef::Account(id.to_owned()))
        } else {
            None
        }
    }

    /// The id of a target, when it exists live.
    pub fn id_of(&self, target: &TargetRef) -> Option<String> {
        match target {
            TargetRef::Root => Some(self.root.id.clone()),
            TargetRef::Ou(p) => self.ou_ids_by_path().get(p).cloned(),
            TargetRef::Account(id) => self.accounts.contains_key(id).then(|| id.clone()),
            TargetRef::NewAccount(_) => None,
        }
    }

    /// Policies attached directly to a target id.
    pub fn policies_on<'a>(&'a self, target_id: &'a str) -> impl Iterator<Item = &'a LivePolicy> {
        self.policies
            .values()
            .filter(move |p| p.targets.iter().any(|t| t == target_id))
    }

    /// Whether `id` is `ancestor` or lies below it (OU ids, the root id or account ids).
    pub fn is_within(&self, id: &str, ancestor: &str) -> bool {
        let mut cur = id;
        for _ in 0..=self.ous.len() + 1 {
            if cur == ancestor {
                return true;
            }
            cur = match (self.accounts.get(cur), self.ous.get(cur)) {
                (Some(a), _) => &a.parent_id,
                (None, Some(o)) => &o.parent_id,
                _ => return false,
            };
        }
        false
    }

    pub fn policy_by_name(&self, name: &str) -> Option<&LivePolicy> {
        self.policies.values().find(|p| p.name == name)
    }
}
