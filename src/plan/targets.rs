//! Attachments: for every root, OU and account, and every policy type guardrail manages, what
//! to attach and detach, in an order that stays within the target's limits and never opens a
//! window in a guardrail both sides keep (`plan::order`), with the limit checks that refuse a
//! plan before any request.
//!
//! A target the config *describes* (the root, every OU in the config, every ACTIVE account in
//! it) carries exactly the managed policies its list names, FullAWSAccess included. Any other
//! account keeps what it has, except guardrail's own policies the config no longer names.
//! Unmanaged and foreign policies and RCPFullAWSAccess are never written; they count.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::order::{self, Slots, Step};
use super::ownership::Ownership;
use super::{Change, Refusal, UnmanagedAttachment};
use crate::model::{Desired, LiveOrg, LivePolicy, OuPath, PolicyType, TargetRef};
use crate::policy::denies;

/// One target to plan.
#[derive(Debug, Clone)]
pub struct Target {
    pub target: TargetRef,
    /// Its id, when it exists live.
    pub live_id: Option<String>,
    /// The policy names the config gives it; `None` when the config does not describe it.
    pub want: Option<BTreeSet<String>>,
}

/// What the attachment pass produced.
#[derive(Debug, Default)]
pub struct Attachments {
    /// Attaches, with any detach that must free a slot first, target by target.
    pub attach_phase: Vec<Change>,
    /// Detaches after every attach and move.
    pub detach_phase: Vec<Change>,
    /// Live policies that stay on each described target without being in its list
    /// (unmanaged, foreign, undetachable), by target: what will really be attached.
    pub fixed: BTreeMap<TargetRef, Vec<String>>,
    pub unmanaged: Vec<UnmanagedAttachment>,
    pub refusals: Vec<Refusal>,
}

/// Documents by policy name: the desired one for managed policies (updates run before any
/// attach), else the live one.
pub fn documents(desired: &Desired, live: &LiveOrg) -> BTreeMap<String, Value> {
    let mut docs: BTreeMap<String, Value> = live
        .policies
        .values()
        .filter_map(|p| {
            serde_json::from_str(&p.content)
                .ok()
                .map(|v| (p.name.clone(), v))
        })
        .collect();
    for (n, p) in &desired.policies {
        docs.insert(n.clone(), p.document.clone());
    }
    docs
}

/// Per live account, the Deny statements (by canonical text) the new config imposes on it:
/// the lists of its desired path (its config OU, else where it is) plus the unmanaged
/// policies that stay on those targets, of one policy type.
fn denies_by_account(
    desired: &Desired,
    live: &LiveOrg,
    owners: &BTreeMap<String, Ownership>,
    docs: &BTreeMap<String, Value>,
    ty: PolicyType,
) -> BTreeMap<String, BTreeMap<String, Value>> {
    let stays =
        |p: &&LivePolicy| p.policy_type == ty && owners.get(&p.id) == Some(&Ownership::Unmanaged);
    let of_names = |names: &mut Vec<String>, target_id: Option<String>| {
        if let Some(id) = target_id {
            names.extend(live.policies_on(&id).filter(stays).map(|p| p.name.clone()));
        }
    };
    let live_ous = live.ou_ids_by_path();
    // Each policy's Deny statements, by canonical text, computed once.
    let mut per_policy: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for a in live.accounts.values() {
        // Where the account will be: its config OU, unless it is not ACTIVE (never moved).
        let cfg = desired
            .accounts
            .values()
            .find(|d| d.id.as_deref() == Some(a.id.as_str()))
            .filter(|_| a.state.is_active());
        let ou = match cfg {
            Some(d) => d.ou.clone(),
            None => live.path_of(&a.parent_id).unwrap_or_default(),
        };
        let mut names: Vec<String> = desired.root.policies.iter().cloned().collect();
        of_names(&mut names, Some(live.root.id.clone()));
        let mut cur = OuPath::root();
        for seg in ou.segments() {
            cur = cur.child(seg);
            if let Some(o) = desired.ous.get(&cur) {
                names.extend(o.policies.iter().cloned());
            }
            of_names(&mut names, live_ous.get(&cur).cloned());
        }
        match cfg {
            Some(d) => names.extend(d.policies.iter().cloned()),
            None => names.extend(
                live.policies_on(&a.id)
                    .filter(|p| p.policy_type == ty)
                    .filter(|p| owners.get(&p.id) != Some(&Ownership::Orphan))
                    .map(|p| p.name.clone()),
            ),
        }
        of_names(&mut names, cfg.map(|_| a.id.clone()));
        let mut stmts = BTreeMap::new();
        for n in names {
            let of_name = per_policy.entry(n.clone()).or_insert_with(|| {
                let of_type = desired
                    .policies
                    .get(&n)
                    .map(|p| p.policy_type)
                    .or_else(|| live.policy_by_name(&n).map(|p| p.policy_type));
                if of_type != Some(ty) {
                    return Vec::new();
                }
                docs.get(&n)
                    .map(denies::deny_statements)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| (s.to_string(), s))
                    .collect()
            });
            stmts.extend(of_name.iter().cloned());
        }
        out.insert(a.id.clone(), stmts);
    }
    out
}

/// Plans the attachments of every target, for every type enabled on the root or enabled by
/// this plan (`enabling`).
pub fn plan_attachments(
    desired: &Desired,
    live: &LiveOrg,
    owners: &BTreeMap<String, Ownership>,
    targets: &[Target],
    enabling: &[PolicyType],
) -> Attachments {
    let docs = documents(desired, live);
    let mut out = Attachments::default();
    let types: BTreeSet<PolicyType> = live
        .root
        .enabled_policy_types
        .iter()
        .chain(enabling)
        .copied()
        .filter(|t| t.is_managed())
        .collect();
    for ty in &types {
        // Computed only if some target is at its limit (rare), then once per type.
        let by_account = std::cell::OnceCell::new();
        for t in targets {
            // What the new config imposes on the accounts below this target now: only those
            // denies must never lapse while a policy leaves it early.
            let wanted = || -> Vec<Value> {
                let Some(id) = &t.live_id else {
                    return Vec::new();
                };
                let by_account =
                    by_account.get_or_init(|| denies_by_account(desired, live, owners, &docs, *ty));
                let mut all: BTreeMap<String, Value> = BTreeMap::new();
                for (acct, stmts) in by_account {
                    if live.is_within(acct, id) {
                        all.extend(stmts.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                }
                all.into_values().collect()
            };
            one_target(desired, live, owners, t, *ty, &docs, &wanted, &mut out);
        }
    }
    out
}

/// The type of a name the config can list: a declared policy or an AWS-managed one.
fn type_of(desired: &Desired, name: &str) -> Option<PolicyType> {
    desired
        .policies
        .get(name)
        .map(|p| p.policy_type)
        .or_else(|| desired.limits.aws_managed_type(name))
}

/// The policies of one type on a target now: `(detachable by this plan, fixed)`.
fn present<'a>(
    desired: &Desired,
    live: &'a LiveOrg,
    owners: &BTreeMap<String, Ownership>,
    t: &'a Target,
    ty: PolicyType,
) -> (Vec<&'a LivePolicy>, Vec<&'a LivePolicy>) {
    let lim = desired.limits.for_type(ty);
    let on: Vec<&LivePolicy> = match &t.live_id {
        Some(id) => live
            .policies_on(id)
            .filter(|p| p.policy_type == ty)
            .collect(),
        // AWS attaches the type's AWS-managed policy to every new OU and account.
        None => live
            .policies
            .values()
            .filter(|p| p.aws_managed && Some(p.name.as_str()) == lim.aws_managed_policy)
            .collect(),
    };
    let undetachable = desired.limits.undetachable(ty);
    on.into_iter().partition(|p| {
        let o = owners.get(&p.id).cloned().unwrap_or(Ownership::Unmanaged);
        if Some(p.name.as_str()) == undetachable {
            return false;
        }
        match (&t.want, o) {
            (Some(_), Ownership::AwsManaged) => true,
            (Some(_), o) => o.is_managed(),
            (None, o) => o == Ownership::Orphan,
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn one_target(
    desired: &Desired,
    live: &LiveOrg,
    owners: &BTreeMap<String, Ownership>,
    t: &Target,
    ty: PolicyType,
    docs: &BTreeMap<String, Value>,
    wanted: &dyn Fn() -> Vec<Value>,
    out: &mut Attachments,
) {
    let lim = desired.limits.for_type(ty);
    let (have, fixed) = present(desired, live, owners, t, ty);
    // A type this plan enables: AWS attaches its undetachable policy (RCPFullAWSAccess)
    // everywhere as it enables it.
    let arrives = desired
        .limits
        .undetachable(ty)
        .filter(|_| !live.root.enabled_policy_types.contains(&ty));
    let have_names: BTreeSet<&str> = have.iter().map(|p| p.name.as_str()).collect();
    let undetachable = desired.limits.undetachable(ty);
    let want: BTreeSet<&str> = match &t.want {
        Some(w) => w
            .iter()
            .map(String::as_str)
            .filter(|n| type_of(desired, n) == Some(ty) && Some(*n) != undetachable)
            .collect(),
        // Not described: keep everything but guardrail's orphans (all of `have`).
        None => BTreeSet::new(),
    };
    if t.want.is_some() {
        record_fixed(desired, t, ty, &fixed, out);
    }
    let count = want.len() + fixed.len() + usize::from(arrives.is_some());
    let exists_after = t.live_id.is_some() || t.want.is_some();
    if exists_after {
        if let Some(r) = count_refusal(desired, t, ty, count, fixed.len()) {
            out.refusals.push(r);
            return;
        }
    }
    let slots = Slots {
        keep: have_names.intersection(&want).copied().collect(),
        fixed: fixed
            .iter()
            .map(|p| p.name.as_str())
            .chain(arrives)
            .collect(),
        attach: want.difference(&have_names).copied().collect(),
        detach: have_names.difference(&want).copied().collect(),
        limit: lim.max_attachments_per_target.value,
        min: lim.min_attachments_per_target.value,
    };
    push_steps(t, ty, &slots, docs, wanted, out);
}

/// The target's attach and detach steps in a safe order (`order::sequence`) into the attach
/// and detach phases, or the refusal naming its slots when no safe order exists.
fn push_steps(
    t: &Target,
    ty: PolicyType,
    slots: &Slots<'_>,
    docs: &BTreeMap<String, Value>,
    wanted: &dyn Fn() -> Vec<Value>,
    out: &mut Attachments,
) {
    let change = |attach: bool, name: &str| {
        let (policy, policy_type, target) = (name.to_owned(), ty, t.target.clone());
        if attach {
            Change::Attach {
                policy,
                policy_type,
                target,
            }
        } else {
            Change::Detach {
                policy,
                policy_type,
                target,
            }
        }
    };
    match order::sequence(slots, &|n| docs.get(n), wanted) {
        Ok(seq) => {
            for s in seq.steps {
                out.attach_phase.push(match s {
                    Step::Attach(n) => change(true, n),
                    Step::DetachFirst(n) => change(false, n),
                });
            }
            for n in seq.late_detaches {
                out.detach_phase.push(change(false, n));
            }
        }
        Err(stuck) => out.refusals.push(Refusal::NoSafeOrder {
            target: t.target.clone(),
            policy_type: ty,
            holding: stuck.holding,
            limit: slots.limit,
            waiting: stuck.waiting.to_owned(),
            blocked: stuck.blocked.iter().map(|s| (*s).to_owned()).collect(),
        }),
    }
}

/// What stays on a described target without being in its list: reported to drift (but the
/// undetachable policy), and kept for the projection.
fn record_fixed(
    desired: &Desired,
    t: &Target,
    ty: PolicyType,
    fixed: &[&LivePolicy],
    out: &mut Attachments,
) {
    let undetachable = desired.limits.undetachable(ty);
    for p in fixed {
        if Some(p.name.as_str()) != undetachable {
            out.unmanaged.push(UnmanagedAttachment {
                target: t.target.clone(),
                policy: p.name.clone(),
                id: p.id.clone(),
                policy_type: ty,
                ignored: ignored(desired, &p.name),
            });
        }
    }
    out.fixed
        .entry(t.target.clone())
        .or_default()
        .extend(fixed.iter().map(|p| p.name.clone()));
}

/// The refusal when a target would end with more policies of a type than its limit, or fewer
/// than its minimum (`unmanaged` of `count` are not ours).
fn count_refusal(
    desired: &Desired,
    t: &Target,
    ty: PolicyType,
    count: usize,
    unmanaged: usize,
) -> Option<Refusal> {
    let lim = desired.limits.for_type(ty);
    if count > lim.max_attachments_per_target.value {
        return Some(Refusal::TooManyAttachments {
            target: t.target.clone(),
            policy_type: ty,
            count,
            unmanaged,
            limit: lim.max_attachments_per_target.value,
            limit_source: lim.max_attachments_per_target.source.to_string(),
        });
    }
    (count < lim.min_attachments_per_target.value).then(|| Refusal::ZeroPolicies {
        target: t.target.clone(),
        policy_type: ty,
        min: lim.min_attachments_per_target.value,
        limit_source: lim.min_attachments_per_target.source.to_string(),
        example: lim.aws_managed_policy.unwrap_or("FullAWSAccess").to_owned(),
    })
}

/// Whether drift ignores an unmanaged policy name (`ignore_unmanaged` patterns, `*` wildcard).
pub fn ignored(desired: &Desired, name: &str) -> bool {
    desired
        .ignore_unmanaged
        .iter()
        .any(|pat| crate::policy::eval::glob(pat, name))
}
