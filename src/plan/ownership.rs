//! Who owns each live policy, from the config and the ownership marker (`policy::marker`).
//!
//! - A policy the config names is managed when its marker names this organization and
//!   environment, or when the config pins its id (`id = "p-..."`, as `import` writes it).
//!   Named but unmarked (or carrying the first version's bare marker), it is *adopted* by a
//!   visible plan step that writes the marker. Named but marked by another environment or
//!   organization, the plan is refused: two configs would fight over it.
//! - A policy the config does not name is guardrail's to delete only when its marker names
//!   this organization and environment, or when `organization.owned_policy_ids` lists its id
//!   (import lists every policy it takes over without a marker, so an imported policy and a
//!   created one are treated alike when the config drops them). A listed id never overrides
//!   another environment's marker. Everything else is unmanaged: counted against the limits,
//!   reported, never written.
//! - AWS-managed policies: `FullAWSAccess` is managed on every target the config describes
//!   (its list is the truth); `RCPFullAWSAccess` can never be detached and is always counted.

use std::collections::BTreeMap;

use super::Refusal;
use crate::model::{Desired, LiveOrg, LivePolicy};
use crate::policy::marker::{self, Owner};

/// What guardrail may do with one live policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// Named by the config and ours (marker or pinned id).
    Managed,
    /// Named by the config, not yet marked: the plan adopts it (marker write).
    Adopt,
    /// Ours by marker, no longer named: detached everywhere and deleted.
    Orphan,
    /// AWS-managed (FullAWSAccess, RCPFullAWSAccess).
    AwsManaged,
    /// Someone else's: never written.
    Unmanaged,
}

impl Ownership {
    /// Whether guardrail attaches and detaches it on the targets the config describes.
    pub fn is_managed(&self) -> bool {
        matches!(
            self,
            Ownership::Managed | Ownership::Adopt | Ownership::Orphan
        )
    }
}

/// Ownership of every live policy by id, and the refusals ownership alone causes.
pub fn classify(desired: &Desired, live: &LiveOrg) -> (BTreeMap<String, Ownership>, Vec<Refusal>) {
    let mut out = BTreeMap::new();
    let mut refusals = Vec::new();
    for p in live.policies.values() {
        let o = classify_one(desired, live, p, &mut refusals);
        out.insert(p.id.clone(), o);
    }
    for (name, want) in &desired.policies {
        if let Some(pin) = &want.pinned_id {
            match live.policies.get(pin) {
                Some(p) if &p.name != name => refusals.push(Refusal::PinMismatch {
                    name: name.clone(),
                    id: pin.clone(),
                    found: format!("the policy with that id is named `{}`", p.name),
                }),
                None => refusals.push(Refusal::PinMismatch {
                    name: name.clone(),
                    id: pin.clone(),
                    found: "no policy has that id".into(),
                }),
                _ => {}
            }
        }
    }
    (out, refusals)
}

fn classify_one(
    desired: &Desired,
    live: &LiveOrg,
    p: &LivePolicy,
    refusals: &mut Vec<Refusal>,
) -> Ownership {
    if p.aws_managed {
        return Ownership::AwsManaged;
    }
    let owner = marker::owner(&p.description);
    let listed = desired.owned_policy_ids.contains(&p.id) && !matches!(owner, Owner::Marked { .. });
    let ours = owner.is(&live.org_id, &desired.environment) || listed;
    match desired.policies.get(&p.name) {
        Some(want) if want.policy_type != p.policy_type => {
            refusals.push(Refusal::ForeignPolicy {
                name: p.name.clone(),
                owner: format!("a live {} of that name exists", p.policy_type),
            });
            Ownership::Unmanaged
        }
        Some(want) => {
            if ours || want.pinned_id.as_deref() == Some(p.id.as_str()) {
                Ownership::Managed
            } else if let Owner::Marked { org, env } = owner {
                refusals.push(Refusal::ForeignPolicy {
                    name: p.name.clone(),
                    owner: format!("environment `{env}` of organization {org}"),
                });
                Ownership::Unmanaged
            } else {
                Ownership::Adopt
            }
        }
        None if ours => Ownership::Orphan,
        None => Ownership::Unmanaged,
    }
}
