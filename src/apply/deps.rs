//! Which earlier steps each step depends on (see the module docs of `apply`). A step whose
//! dependency did not succeed is not attempted, so a failure never opens a window:
//!
//! - an attach waits for the policy's creation, its target's creation, every boundary
//!   deployment, and any detach that frees its slot on the same target;
//! - a move waits for every attach to the account and to each OU on its destination path, so
//!   an account never arrives where a deny it keeps is not yet attached;
//! - a detach waits for every attach of the same policy type to a target on the same branch of
//!   the tree (the target itself, its ancestors and everything below it) and every move or
//!   creation of an account below it: a deny that moves from one level to another, or follows
//!   an account to its new OU, is in place before the old copy goes;
//! - deleting an OU waits for every move out of it and every deletion below it; deleting a
//!   policy waits for every detach of it;
//! - disabling a policy type waits for every detach and deletion of a policy of that type,
//!   so a failed one leaves the type enabled (AWS would otherwise detach it behind the plan's
//!   back).

use std::collections::BTreeMap;

use crate::model::{OuPath, PolicyType, TargetRef};
use crate::plan::Change;

/// Where a target sits in the tree: the OU paths it is at or under, and the account it is.
struct Position {
    paths: Vec<OuPath>,
    account: Option<String>,
}

fn is_prefix(a: &OuPath, b: &OuPath) -> bool {
    b.segments().starts_with(a.segments())
}

fn position(t: &TargetRef, accounts: &BTreeMap<String, Vec<OuPath>>) -> Position {
    match t {
        TargetRef::Root => Position {
            paths: vec![OuPath::root()],
            account: None,
        },
        TargetRef::Ou(p) => Position {
            paths: vec![p.clone()],
            account: None,
        },
        TargetRef::Account(id) => Position {
            paths: accounts
                .get(id)
                .cloned()
                .unwrap_or_else(|| vec![OuPath::root()]),
            account: Some(id.clone()),
        },
        TargetRef::NewAccount(email) => Position {
            paths: accounts
                .get(&format!("new:{email}"))
                .cloned()
                .unwrap_or_else(|| vec![OuPath::root()]),
            account: Some(format!("new:{email}")),
        },
    }
}

/// Whether two targets are on one branch: one is (at or) below the other.
fn related(a: &Position, b: &Position) -> bool {
    match (&a.account, &b.account) {
        (Some(x), Some(y)) => x == y,
        (Some(_), None) => b
            .paths
            .iter()
            .any(|q| a.paths.iter().any(|p| is_prefix(q, p))),
        (None, Some(_)) => a
            .paths
            .iter()
            .any(|q| b.paths.iter().any(|p| is_prefix(q, p))),
        (None, None) => a
            .paths
            .iter()
            .any(|p| b.paths.iter().any(|q| is_prefix(p, q) || is_prefix(q, p))),
    }
}

/// For each change, the indices of the earlier changes it depends on. `accounts` gives the OU
/// paths each account is under during the apply (`Plan::account_paths`; a created account
/// under `new:EMAIL`).
pub fn dependencies(
    changes: &[Change],
    accounts: &BTreeMap<String, Vec<OuPath>>,
) -> Vec<Vec<usize>> {
    let positions: Vec<Option<Position>> = changes
        .iter()
        .map(|c| match c {
            Change::Attach { target, .. } | Change::Detach { target, .. } => {
                Some(position(target, accounts))
            }
            Change::MoveAccount { id, .. } => {
                Some(position(&TargetRef::Account(id.clone()), accounts))
            }
            Change::CreateAccount { email, .. } => {
                Some(position(&TargetRef::NewAccount(email.clone()), accounts))
            }
            _ => None,
        })
        .collect();
    let mut out = vec![Vec::new(); changes.len()];
    for (i, c) in changes.iter().enumerate() {
        for (j, earlier) in changes[..i].iter().enumerate() {
            let on_branch = match (&positions[i], &positions[j]) {
                (Some(a), Some(b)) => related(a, b),
                _ => false,
            };
            if depends(c, earlier, on_branch) {
                out[i].push(j);
            }
        }
    }
    out
}

fn target_created_by(target: &TargetRef, earlier: &Change) -> bool {
    matches!((target, earlier), (TargetRef::Ou(p), Change::CreateOu { path }) if p == path)
        || matches!((target, earlier), (TargetRef::NewAccount(e), Change::CreateAccount { email, .. }) if e == email)
}

fn same_type_attach(e: &Change, ty: PolicyType) -> bool {
    matches!(e, Change::Attach { policy_type, .. } if *policy_type == ty)
}

fn depends(c: &Change, e: &Change, on_branch: bool) -> bool {
    match c {
        Change::EnablePolicyType { .. } => false,
        Change::DisablePolicyType { policy_type: ty } => matches!(
            e,
            Change::Detach { policy_type, .. } | Change::DeletePolicy { policy_type, .. }
                if policy_type == ty
        ),
        Change::CreateOu { path } => {
            matches!(e, Change::CreateOu { path: p } if path.parent().as_ref() == Some(p))
        }
        Change::CreatePolicy { .. } | Change::UpdatePolicy { .. } => false,
        Change::DeployBoundary { .. } => false,
        Change::AttachRoleBoundary {
            boundary, account, ..
        } => {
            matches!(e, Change::DeployBoundary { boundary: b, account: a, .. } if b == boundary && a == account)
        }
        Change::CreateAccount { ou, .. } => matches!(e, Change::CreateOu { path } if path == ou),
        Change::Attach {
            policy,
            target,
            policy_type,
        } => {
            matches!(e, Change::CreatePolicy { name, .. } if name == policy)
                || target_created_by(target, e)
                // A boundary exists wherever it is needed before any SCP that may require it.
                || matches!(e, Change::DeployBoundary { .. })
                // The type must be enabled first.
                || matches!(e, Change::EnablePolicyType { policy_type: t } if t == policy_type)
                // A detach that frees this target's slot.
                || matches!(e, Change::Detach { target: t, policy_type: ty, .. } if t == target && ty == policy_type)
        }
        Change::MoveAccount { id, to, .. } => {
            matches!(e, Change::CreateOu { path } if path == to)
                || matches!(e, Change::Attach { target: TargetRef::Account(a), .. } if a == id)
                || matches!(
                    e,
                    Change::Attach {
                        target: TargetRef::Root,
                        ..
                    }
                )
                || matches!(e, Change::Attach { target: TargetRef::Ou(p), .. } if is_prefix(p, to))
        }
        Change::Detach {
            target,
            policy,
            policy_type,
        } => {
            (on_branch
                && (same_type_attach(e, *policy_type)
                    || matches!(e, Change::MoveAccount { .. } | Change::CreateAccount { .. })))
                || matches!(e, Change::UpdatePolicy { name, .. } if name == policy)
                || target_created_by(target, e)
        }
        Change::DeleteOu { path, .. } => {
            matches!(e, Change::MoveAccount { from, .. } if from == path)
                || matches!(e, Change::DeleteOu { path: p, .. } if p.parent().as_ref() == Some(path))
        }
        Change::DeletePolicy { name, .. } => {
            matches!(e, Change::Detach { policy, .. } if policy == name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PolicyType::ServiceControlPolicy as SCP;

    fn ou(p: &str) -> TargetRef {
        TargetRef::Ou(OuPath::parse(p).unwrap())
    }

    fn attach(p: &str, t: TargetRef) -> Change {
        Change::Attach {
            policy: p.into(),
            policy_type: SCP,
            target: t,
        }
    }

    fn detach(p: &str, t: TargetRef) -> Change {
        Change::Detach {
            policy: p.into(),
            policy_type: SCP,
            target: t,
        }
    }

    #[test]
    fn detach_waits_for_every_attach_on_its_branch() {
        let changes = vec![
            Change::CreateOu {
                path: OuPath::parse("A").unwrap(),
            },
            attach("x", ou("A")),
            attach("y", ou("A/B")),
            attach("z", ou("C")),
            detach("FullAWSAccess", ou("A")),
        ];
        let d = dependencies(&changes, &BTreeMap::new());
        assert_eq!(d[1], vec![0]);
        assert_eq!(d[4], vec![0, 1, 2], "not the attach on the unrelated OU C");
    }

    #[test]
    fn a_move_waits_for_the_attaches_on_its_destination_path() {
        let acct = TargetRef::Account("111122223333".into());
        let changes = vec![
            attach("deny", ou("Prod")),
            attach("deny", ou("Dev")),
            attach("own", acct.clone()),
            Change::MoveAccount {
                id: "111122223333".into(),
                key: "a".into(),
                from: OuPath::parse("Dev").unwrap(),
                to: OuPath::parse("Prod/Team").unwrap(),
            },
            detach("deny", ou("Dev")),
        ];
        let paths: BTreeMap<String, Vec<OuPath>> = [(
            "111122223333".to_owned(),
            vec![
                OuPath::parse("Dev").unwrap(),
                OuPath::parse("Prod/Team").unwrap(),
            ],
        )]
        .into();
        let d = dependencies(&changes, &paths);
        assert_eq!(d[3], vec![0, 2]);
        assert_eq!(
            d[4],
            vec![1, 2, 3],
            "the detach from the old OU waits for the move"
        );
    }

    #[test]
    fn an_attach_waits_for_the_detach_that_frees_its_slot() {
        let changes = vec![
            detach("old", ou("A")),
            attach("new", ou("A")),
            detach("other", ou("A")),
        ];
        let d = dependencies(&changes, &BTreeMap::new());
        assert_eq!(d[1], vec![0]);
        assert_eq!(d[2], vec![1]);
    }
}
