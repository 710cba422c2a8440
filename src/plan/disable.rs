//! Policy types to disable on the root (`organization.disable_policy_types`).
//!
//! The config already refuses SCPs and any type it still uses, so the type's managed policies
//! are orphans here: the ordinary plan detaches and deletes them, and `DisablePolicyType` runs
//! after all of that. AWS detaches every policy of the type that is still attached when the
//! type is disabled; guardrail never writes what it does not own, so the plan refuses when an
//! unmanaged or foreign policy of the type is attached anywhere. The one exception is
//! `RCPFullAWSAccess`: AWS-managed, on every target, undetachable, and removed by AWS with
//! the type; nothing is lost with it, since without RCPs nothing restricts resources anyway.

use std::collections::BTreeMap;

use super::ownership::Ownership;
use super::Refusal;
use crate::model::{Desired, LiveOrg, LivePolicy, PolicyType};

/// The listed types that are enabled live and may be disabled; a refusal for each listed
/// type that would take an unmanaged policy with it.
pub(super) fn types_to_disable(
    desired: &Desired,
    live: &LiveOrg,
    owners: &BTreeMap<String, Ownership>,
    refusals: &mut Vec<Refusal>,
) -> Vec<PolicyType> {
    let mut out = Vec::new();
    let used = desired.used_policy_types();
    for &ty in &desired.disable_policy_types {
        // The config refuses SCPs and used types with file and line; a `Desired` built
        // otherwise gets the same answer here: never disabled.
        let out_of_scope = ty == PolicyType::ServiceControlPolicy || used.contains(&ty);
        if out_of_scope || !live.root.enabled_policy_types.contains(&ty) {
            continue;
        }
        let attached: Vec<String> = live
            .policies
            .values()
            .filter(|p| p.policy_type == ty && !p.targets.is_empty())
            .filter(|p| !may_go_with_the_type(desired, owners, p))
            .map(|p| attached_to(live, p))
            .collect();
        if attached.is_empty() {
            out.push(ty);
        } else {
            refusals.push(Refusal::DisableWouldDetach {
                policy_type: ty,
                attached,
            });
        }
    }
    out
}

/// Whether AWS may detach this policy when its type is disabled: guardrail's own (detached
/// by the plan before the disable anyway), or the type's undetachable AWS-managed policy.
fn may_go_with_the_type(
    desired: &Desired,
    owners: &BTreeMap<String, Ownership>,
    p: &LivePolicy,
) -> bool {
    let owned = owners.get(&p.id).is_some_and(Ownership::is_managed);
    let undetachable =
        p.aws_managed && desired.limits.undetachable(p.policy_type) == Some(p.name.as_str());
    owned || undetachable
}

/// `name (p-id) on root, ou A/B, account 111122223333`.
fn attached_to(live: &LiveOrg, p: &LivePolicy) -> String {
    let targets: Vec<String> = p
        .targets
        .iter()
        .map(|t| {
            live.target_of(t)
                .map_or_else(|| t.clone(), |r| r.to_string())
        })
        .collect();
    format!("{} ({}) on {}", p.name, p.id, targets.join(", "))
}
