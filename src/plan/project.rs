//! The organization as it will really be after the apply: the config's lists plus every
//! unmanaged policy that stays attached to the targets it describes. Assertions, the lockout
//! proof and the effect diff evaluate this projection, so they never claim a deny (or an
//! allow-list) the live organization will not have.

use std::collections::BTreeMap;

use crate::model::{Desired, DesiredPolicy, LiveOrg, TargetRef};

/// `desired` with each target's `fixed` live policies (by name) added to its list.
pub fn project(
    desired: &Desired,
    live: &LiveOrg,
    fixed: &BTreeMap<TargetRef, Vec<String>>,
) -> Desired {
    let mut out = desired.clone();
    for (target, names) in fixed {
        for name in names {
            let Some(p) = live.policy_by_name(name) else {
                continue;
            };
            if p.aws_managed {
                // Evaluated from the limits table's AWS-managed documents.
            } else if !out.policies.contains_key(name) {
                let Ok(document) = serde_json::from_str(&p.content) else {
                    continue;
                };
                out.policies.insert(
                    name.clone(),
                    DesiredPolicy {
                        name: name.clone(),
                        pinned_id: Some(p.id.clone()),
                        policy_type: p.policy_type,
                        description: p.description.clone(),
                        document,
                        source: format!("(live, not managed: {})", p.id).into(),
                        guardrails: Vec::new(),
                    },
                );
            }
            let list = match target {
                TargetRef::Root => Some(&mut out.root.policies),
                TargetRef::Ou(path) => out.ous.get_mut(path).map(|o| &mut o.policies),
                TargetRef::Account(id) => out
                    .accounts
                    .values_mut()
                    .find(|a| a.id.as_deref() == Some(id.as_str()))
                    .map(|a| &mut a.policies),
                TargetRef::NewAccount(_) => None,
            };
            if let Some(list) = list {
                list.insert(name.clone());
            }
        }
    }
    out
}
