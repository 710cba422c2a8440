//! Headroom: slots and characters left on every target the plan touches, after the plan,
//! counting what will really be attached (unmanaged policies included).

use std::collections::BTreeSet;

use super::{Change, Headroom};
use crate::model::{Desired, LiveOrg, TargetRef};
use crate::policy::doc;

/// Slots and characters left on every target the plan attaches to or detaches from.
/// `projected` is the desired state with the unmanaged policies that stay (`plan::project`).
pub fn headroom(changes: &[Change], projected: &Desired, live: &LiveOrg) -> Vec<Headroom> {
    let targets: BTreeSet<&TargetRef> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Attach { target, .. } | Change::Detach { target, .. } => Some(target),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for t in targets {
        let Some(want) = projected.attachments_of(t) else {
            continue;
        };
        for ty in live
            .root
            .enabled_policy_types
            .iter()
            .filter(|t| t.is_managed())
        {
            let lim = projected.limits.for_type(*ty);
            let of_type = |n: &&String| {
                projected
                    .policies
                    .get(*n)
                    .map(|p| p.policy_type)
                    .or_else(|| projected.limits.aws_managed_type(n))
                    == Some(*ty)
            };
            let mine: Vec<&String> = want.iter().filter(of_type).collect();
            // RCPFullAWSAccess is always there, listed or not.
            let undetachable = projected
                .limits
                .undetachable(*ty)
                .filter(|u| !mine.iter().any(|n| n == u));
            let chars_left = mine
                .iter()
                .filter_map(|n| projected.policies.get(*n))
                .map(|p| {
                    lim.max_document_chars
                        .value
                        .saturating_sub(doc::sent_size(&p.document))
                })
                .min();
            out.push(Headroom {
                target: t.clone(),
                policy_type: *ty,
                slots_used: mine.len() + usize::from(undetachable.is_some()),
                slots_limit: lim.max_attachments_per_target.value,
                chars_left,
            });
        }
    }
    out
}
