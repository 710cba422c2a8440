//! The organization-wide policy quota: AWS refuses `CreatePolicy` once a type holds its
//! maximum number of policies in the organization, and that count includes every policy of the
//! type, unmanaged ones too. The config alone cannot see those (`config::counts` checks only
//! its own), so the plan checks the peak: the plan creates its policies before it deletes any
//! (ARCHITECTURE.md's step order), so the most the organization holds during the apply is
//! what it holds now plus what the plan creates.

use std::collections::BTreeMap;

use super::{Change, Refusal};
use crate::model::{Desired, LiveOrg, PolicyType};

/// One refusal per policy type whose peak during the apply would exceed its quota.
pub fn refusals(desired: &Desired, live: &LiveOrg, changes: &[Change]) -> Vec<Refusal> {
    let mut created: BTreeMap<PolicyType, usize> = BTreeMap::new();
    for c in changes {
        if let Change::CreatePolicy { policy_type, .. } = c {
            *created.entry(*policy_type).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for (ty, creates) in created {
        // AWS-managed policies (FullAWSAccess, RCPFullAWSAccess) are not the organization's.
        let held: Vec<&str> = live
            .policies
            .values()
            .filter(|p| p.policy_type == ty && !p.aws_managed)
            .map(|p| p.name.as_str())
            .collect();
        let unmanaged = held
            .iter()
            .filter(|n| !desired.policies.contains_key(**n))
            .count();
        let limit = &desired.limits.for_type(ty).max_policies_per_org;
        let peak = held.len() + creates;
        if peak > limit.value {
            out.push(Refusal::TooManyPolicies {
                policy_type: ty,
                held: held.len(),
                unmanaged,
                creates,
                limit: limit.value,
                limit_source: limit.source.to_string(),
            });
        }
    }
    out
}
