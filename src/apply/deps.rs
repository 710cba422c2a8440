//! Which earlier steps each step depends on (see the module docs of `apply`).

use crate::model::TargetRef;
use crate::plan::Change;

/// For each change, the indices of the earlier changes it depends on.
pub fn dependencies(changes: &[Change]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); changes.len()];
    for (i, c) in changes.iter().enumerate() {
        for (j, earlier) in changes[..i].iter().enumerate() {
            if depends(c, earlier) {
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

fn depends(c: &Change, e: &Change) -> bool {
    match c {
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
        Change::Attach { policy, target, .. } => {
            matches!(e, Change::CreatePolicy { name, .. } if name == policy)
                || target_created_by(target, e)
                // A boundary exists wherever it is needed before any SCP that may require it.
                || matches!(e, Change::DeployBoundary { .. })
        }
        Change::MoveAccount { to, .. } => {
            matches!(e, Change::CreateOu { path } if path == to)
        }
        Change::Detach { target, policy, .. } => {
            // Attach before detach: never drop a policy from a target whose new policies did
            // not all land.
            matches!(e, Change::Attach { target: t, .. } if t == target)
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
    use crate::model::{OuPath, PolicyType};

    #[test]
    fn detach_waits_for_every_attach_to_its_target() {
        let t = TargetRef::Ou(OuPath::parse("A").unwrap());
        let attach = |p: &str| Change::Attach {
            policy: p.into(),
            policy_type: PolicyType::ServiceControlPolicy,
            target: t.clone(),
        };
        let changes = vec![
            Change::CreateOu {
                path: OuPath::parse("A").unwrap(),
            },
            attach("x"),
            attach("y"),
            Change::Detach {
                policy: "FullAWSAccess".into(),
                policy_type: PolicyType::ServiceControlPolicy,
                target: t.clone(),
            },
        ];
        let d = dependencies(&changes);
        assert_eq!(d[1], vec![0]);
        assert_eq!(d[3], vec![0, 1, 2]);
    }
}
