//! The effect diff: for each target whose SCPs or RCPs change, the probe requests whose decision flips
//! between the live policies and the desired ones. A reviewer sees what a change does, not
//! only which bytes changed. Probes: the config's assertions plus [`DEFAULT_PROBES`] in
//! [`PROBE_REGIONS`], by an ordinary workload role and by the account's root user.

use std::collections::{BTreeMap, BTreeSet};

use super::verify::{decide, describe_decision, desired_path, live_path, request};
use super::Change;
use crate::model::{Desired, LiveOrg, OuPath, TargetRef};
use crate::policy::eval::Path;

/// Common actions whose fate a reviewer cares about.
pub const DEFAULT_PROBES: &[&str] = &[
    "ec2:RunInstances",
    "s3:PutObject",
    "s3:PutAccountPublicAccessBlock",
    "iam:CreateRole",
    "iam:CreateUser",
    "cloudtrail:StopLogging",
    "guardduty:DeleteDetector",
    "config:StopConfigurationRecorder",
    "organizations:LeaveOrganization",
    "kms:ScheduleKeyDeletion",
    "lambda:CreateFunction",
    "ec2:ModifyInstanceMetadataOptions",
];

pub const PROBE_REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-2"];

/// At most this many targets are probed in one plan (the rest are summarised).
pub const MAX_TARGETS: usize = 50;

/// One decision that flips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub target: TargetRef,
    pub action: String,
    pub region: String,
    /// `workload role` or `root user`, or the assertion's principal.
    pub principal: String,
    pub before: String,
    pub after: String,
    pub denied_after: bool,
}

fn affected_targets(changes: &[Change], desired: &Desired) -> Vec<TargetRef> {
    let mut out: BTreeSet<TargetRef> = BTreeSet::new();
    for c in changes {
        match c {
            Change::Attach { target, .. } | Change::Detach { target, .. } => {
                out.insert(target.clone());
            }
            Change::MoveAccount { id, .. } => {
                out.insert(TargetRef::Account(id.clone()));
            }
            Change::UpdatePolicy { name, .. } => {
                if desired.root.policies.contains(name) {
                    out.insert(TargetRef::Root);
                }
                for (p, o) in &desired.ous {
                    if o.policies.contains(name) {
                        out.insert(TargetRef::Ou(p.clone()));
                    }
                }
                for a in desired.accounts.values() {
                    if let (true, Some(id)) = (a.policies.contains(name), &a.id) {
                        out.insert(TargetRef::Account(id.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    out.into_iter().collect()
}

/// The flips for a plan's changes.
pub fn effects(changes: &[Change], desired: &Desired, live: &LiveOrg) -> Vec<Effect> {
    let mut out = Vec::new();
    let ou_ids = live.ou_ids_by_path();
    for target in affected_targets(changes, desired)
        .into_iter()
        .take(MAX_TARGETS)
    {
        let Some((acct, before, after)) = paths_of(&target, desired, live, &ou_ids) else {
            continue;
        };
        let probes = probes(&acct, desired);
        for (action, region, who, principal) in probes {
            let Ok(req) = request(
                &acct,
                &action,
                Some(&region),
                principal.as_deref(),
                None,
                &[],
            ) else {
                continue;
            };
            let (b, a) = (decide(&before, &req), decide(&after, &req));
            if b.is_denied() != a.is_denied() {
                out.push(Effect {
                    target: target.clone(),
                    action,
                    region,
                    principal: who,
                    before: describe_decision(&b),
                    after: describe_decision(&a),
                    denied_after: a.is_denied(),
                });
            }
        }
    }
    merge_actions(merge_regions(out))
}

/// The probe account and the target's SCP/RCP path before and after the apply; `None` for a
/// target with nothing to compare (an OU still to create, the management account, an account
/// the config does not place or that does not exist yet).
fn paths_of(
    target: &TargetRef,
    desired: &Desired,
    live: &LiveOrg,
    ou_ids: &BTreeMap<OuPath, String>,
) -> Option<(String, Path, Path)> {
    Some(match target {
        TargetRef::Root => (
            "111111111111".to_owned(),
            live_path(live, &live.root.id, None),
            desired_path(desired, &OuPath::root(), None),
        ),
        TargetRef::Ou(p) => match ou_ids.get(p) {
            Some(id) => (
                "111111111111".to_owned(),
                live_path(live, id, None),
                desired_path(desired, p, None),
            ),
            None => return None,
        },
        TargetRef::Account(id) => {
            if id == &desired.management_account {
                return None;
            }
            let (Some(la), Some(da)) = (
                live.accounts.get(id),
                desired
                    .accounts
                    .values()
                    .find(|a| a.id.as_deref() == Some(id)),
            ) else {
                return None;
            };
            (
                id.clone(),
                live_path(live, &la.parent_id, Some(id)),
                desired_path(desired, &da.ou, Some((id, &da.policies))),
            )
        }
        TargetRef::NewAccount(_) => return None,
    })
}

/// The requests to decide on `acct` before and after: the default probes in every probe
/// region, as a workload role and as the root user, and every assertion's request.
fn probes(acct: &str, desired: &Desired) -> Vec<(String, String, String, Option<String>)> {
    let mut probes: Vec<(String, String, String, Option<String>)> = Vec::new();
    for action in DEFAULT_PROBES {
        for region in PROBE_REGIONS {
            probes.push((
                (*action).to_owned(),
                (*region).to_owned(),
                "workload role".to_owned(),
                None,
            ));
            probes.push((
                (*action).to_owned(),
                (*region).to_owned(),
                "root user".to_owned(),
                Some(format!("arn:aws:iam::{acct}:root")),
            ));
        }
    }
    for a in &desired.assertions {
        let region = a.region.clone().unwrap_or_else(|| "us-east-1".to_owned());
        probes.push((
            a.action.clone(),
            region,
            a.principal
                .clone()
                .unwrap_or_else(|| "workload role".into()),
            a.principal.clone(),
        ));
    }
    probes.sort();
    probes.dedup();
    probes
}

/// Then one line per flip that differs only by action.
fn merge_actions(effects: Vec<Effect>) -> Vec<Effect> {
    let mut out: Vec<Effect> = Vec::new();
    for e in effects {
        match out.iter_mut().find(|o| {
            o.target == e.target
                && o.region == e.region
                && o.principal == e.principal
                && o.before == e.before
                && o.after == e.after
        }) {
            Some(o) => {
                o.action.push_str(", ");
                o.action.push_str(&e.action);
            }
            None => out.push(e),
        }
    }
    out
}

/// One line per flip that differs only by region: `us-east-1, eu-west-1`.
fn merge_regions(effects: Vec<Effect>) -> Vec<Effect> {
    let mut out: Vec<Effect> = Vec::new();
    for e in effects {
        match out.iter_mut().find(|o| {
            o.target == e.target
                && o.action == e.action
                && o.principal == e.principal
                && o.before == e.before
                && o.after == e.after
        }) {
            Some(o) => {
                o.region.push_str(", ");
                o.region.push_str(&e.region);
            }
            None => out.push(e),
        }
    }
    out
}
