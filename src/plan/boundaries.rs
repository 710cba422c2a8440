//! The boundary half of the plan: deploy (create or update) the boundary policy in each
//! covered account that exists, audit the roles that escape it, and, with `attach-existing`,
//! one step per role that lacks it.

use super::{AuditFinding, Change};
use crate::model::{Desired, IamLive, LiveOrg};
use crate::policy::{doc, eval::glob};

/// Whether the audit skips a role: service-linked roles always, then the name patterns.
pub fn exempt(path: &str, name: &str, patterns: &[String]) -> bool {
    path.starts_with("/aws-service-role/") || patterns.iter().any(|p| glob(p, name))
}

pub fn diff(d: &Desired, live: &LiveOrg, iam: &IamLive) -> (Vec<Change>, Vec<AuditFinding>) {
    let mut changes = Vec::new();
    let mut attaches = Vec::new();
    let mut audit = Vec::new();
    if !iam.read {
        return (changes, audit);
    }
    for b in d.boundaries.values() {
        let document = doc::minify(&b.document);
        for account in b.accounts.iter().filter(|a| live.accounts.contains_key(*a)) {
            let Some(state) = iam.accounts.get(&(b.name.clone(), account.clone())) else {
                continue;
            };
            let arn = b.arn(&live.partition, account);
            let mut deployed_now = false;
            if let Some(policy) = &state.policy {
                let (create, diff) = match policy {
                    None => (true, None),
                    Some(p) => {
                        let have = doc::parse(&p.document).unwrap_or(serde_json::Value::Null);
                        if doc::equivalent(&have, &b.document) {
                            (false, Some(String::new()))
                        } else {
                            (false, Some(doc::diff(&have, &b.document)))
                        }
                    }
                };
                if create || diff.as_ref().is_some_and(|d| !d.is_empty()) {
                    deployed_now = create;
                    changes.push(Change::DeployBoundary {
                        boundary: b.name.clone(),
                        account: account.clone(),
                        member_role: b.member_role.clone(),
                        policy_name: b.policy_name.clone(),
                        path: b.path.clone(),
                        arn: arn.clone(),
                        document: document.clone(),
                        create,
                        diff: diff.filter(|d| !d.is_empty()),
                    });
                }
            }
            let _ = deployed_now;
            if let Some(roles) = &state.roles {
                for r in roles {
                    if exempt(&r.path, &r.name, &b.exempt_roles)
                        || r.boundary.as_deref() == Some(arn.as_str())
                    {
                        continue;
                    }
                    audit.push(AuditFinding {
                        boundary: b.name.clone(),
                        account: account.clone(),
                        role: r.name.clone(),
                        role_arn: r.arn.clone(),
                        found: r.boundary.clone(),
                        is_user: r.is_user,
                    });
                    // Users are audited; putting a boundary on them is left to their owners.
                    if b.attach_existing && r.boundary.is_none() && !r.is_user {
                        attaches.push(Change::AttachRoleBoundary {
                            boundary: b.name.clone(),
                            account: account.clone(),
                            member_role: b.member_role.clone(),
                            role: r.name.clone(),
                            arn: arn.clone(),
                        });
                    }
                }
            }
        }
    }
    changes.extend(attaches);
    (changes, audit)
}
