//! Replays the writes moto accepted (the recording proxy's journal) from the organization read
//! before the apply, giving the organization after every write. moto does not enforce AWS's
//! limits, so this is how the end-to-end tests check the same invariants as the model check
//! (`tests/common/invariants.rs`) on the real binary: limits, shared denies, untouchable
//! policies, after every write.

use guardrail::model::{AccountState, LiveAccount, LiveOrg, LiveOu, LivePolicy, PolicyType};
use serde_json::Value;

use super::proxy::Record;

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_owned()
}

/// The AWS-managed policies AWS attaches to a new OU or account: FullAWSAccess, and
/// RCPFullAWSAccess when RCPs are enabled.
fn attach_defaults(org: &mut LiveOrg, target: &str) {
    let enabled = org.root.enabled_policy_types.clone();
    for p in org.policies.values_mut() {
        let default = (p.name == "FullAWSAccess"
            && enabled.contains(&PolicyType::ServiceControlPolicy))
            || (p.name == "RCPFullAWSAccess"
                && enabled.contains(&PolicyType::ResourceControlPolicy));
        if p.aws_managed && default {
            p.targets.push(target.to_owned());
        }
    }
}

/// Applies one accepted write; `false` when it is not a write that changes policies or the
/// tree (reads, tags).
fn apply(org: &mut LiveOrg, r: &Record) -> bool {
    let (b, resp) = (super::json(&r.body), super::json(&r.response));
    match r.op.as_str() {
        "CreatePolicy" => {
            let sum = &resp["Policy"]["PolicySummary"];
            let Some(ty) = PolicyType::from_api_name(&s(sum, "Type")) else {
                return true;
            };
            let id = s(sum, "Id");
            org.policies.insert(
                id.clone(),
                LivePolicy {
                    id,
                    name: s(&b, "Name"),
                    description: s(&b, "Description"),
                    policy_type: ty,
                    aws_managed: false,
                    content: s(&b, "Content"),
                    targets: Vec::new(),
                },
            );
        }
        "UpdatePolicy" => {
            if let Some(p) = org.policies.get_mut(&s(&b, "PolicyId")) {
                if let Some(c) = b["Content"].as_str() {
                    p.content = c.to_owned();
                }
                if let Some(d) = b["Description"].as_str() {
                    p.description = d.to_owned();
                }
            }
        }
        "DeletePolicy" => {
            org.policies.remove(&s(&b, "PolicyId"));
        }
        "AttachPolicy" => {
            if let Some(p) = org.policies.get_mut(&s(&b, "PolicyId")) {
                let t = s(&b, "TargetId");
                if !p.targets.contains(&t) {
                    p.targets.push(t);
                }
            }
        }
        "DetachPolicy" => {
            if let Some(p) = org.policies.get_mut(&s(&b, "PolicyId")) {
                let t = s(&b, "TargetId");
                p.targets.retain(|x| *x != t);
            }
        }
        "CreateOrganizationalUnit" => {
            let id = s(&resp["OrganizationalUnit"], "Id");
            org.ous.insert(
                id.clone(),
                LiveOu {
                    id: id.clone(),
                    name: s(&b, "Name"),
                    parent_id: s(&b, "ParentId"),
                },
            );
            attach_defaults(org, &id);
        }
        "DeleteOrganizationalUnit" => {
            let id = s(&b, "OrganizationalUnitId");
            org.ous.remove(&id);
            for p in org.policies.values_mut() {
                p.targets.retain(|t| *t != id);
            }
        }
        "MoveAccount" => {
            if let Some(a) = org.accounts.get_mut(&s(&b, "AccountId")) {
                a.parent_id = s(&b, "DestinationParentId");
            }
        }
        "CreateAccount" => {
            let id = s(&resp["CreateAccountStatus"], "AccountId");
            let root = org.root.id.clone();
            org.accounts.insert(
                id.clone(),
                LiveAccount {
                    id: id.clone(),
                    name: s(&b, "AccountName"),
                    email: s(&b, "Email"),
                    parent_id: root,
                    state: AccountState::Active,
                },
            );
            attach_defaults(org, &id);
        }
        _ => return false,
    }
    true
}

/// The organization after every write moto accepted, in order.
pub fn snapshots(initial: &LiveOrg, log: &[Record]) -> Vec<LiveOrg> {
    let mut org = initial.clone();
    let mut out = Vec::new();
    for r in log.iter().filter(|r| r.status == 200) {
        if apply(&mut org, r) {
            out.push(org.clone());
        }
    }
    out
}
