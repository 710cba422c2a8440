//! The invariants an apply must keep, checked on snapshots of the organization by both test
//! binaries: the model check on the fake (`tests/it/model_check.rs`, after every write the fake
//! accepted) and the end-to-end tests on moto (after every write the recording proxy saw,
//! replayed). Written independently of the planner: its own canonical form of a Deny
//! statement and its own coverage rule.
//!
//! - Limits: no target holds fewer policies of an enabled managed type than its minimum or
//!   more than its maximum.
//! - Shared denies: every Deny statement both the first and the last organization impose on an
//!   account is in force at every moment in between.
//! - Untouchable: no unmanaged or foreign policy is written (a policy the config names, marks
//!   as this environment's or lists in `owned_policy_ids` is guardrail's).

use std::collections::{BTreeMap, BTreeSet};

use guardrail::model::{Desired, LiveOrg, PolicyType};
use guardrail::policy::limits::LimitsTable;
use serde_json::Value;

/// Deny statements in a canonical form: no Sid, lower-case sorted actions, sorted resources.
fn canonical(stmt: &Value) -> Option<Value> {
    let m = stmt.as_object()?;
    if m.get("Effect")?.as_str()? != "Deny" {
        return None;
    }
    let mut out = serde_json::Map::new();
    for (k, v) in m {
        if k == "Sid" {
            continue;
        }
        let v = match (k.as_str(), v) {
            ("Action" | "NotAction", v) => {
                let mut a: Vec<String> = match v {
                    Value::String(s) => vec![s.to_ascii_lowercase()],
                    Value::Array(xs) => xs
                        .iter()
                        .filter_map(|x| x.as_str())
                        .map(str::to_ascii_lowercase)
                        .collect(),
                    _ => return None,
                };
                a.sort();
                a.dedup();
                serde_json::json!(a)
            }
            ("Resource" | "NotResource", Value::String(s)) => serde_json::json!([s]),
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Some(Value::Object(out))
}

/// Whether `r` denies at least what `s` denies (both canonical): equal, or equal but for a
/// wider action list.
fn covers(r: &Value, s: &Value) -> bool {
    if r == s {
        return true;
    }
    let (Some(rm), Some(sm)) = (r.as_object(), s.as_object()) else {
        return false;
    };
    let strip = |m: &serde_json::Map<String, Value>| {
        let mut m = m.clone();
        m.remove("Action");
        m
    };
    if strip(rm) != strip(sm) {
        return false;
    }
    let acts = |m: &serde_json::Map<String, Value>| -> Option<Vec<String>> {
        m.get("Action")?.as_array().map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
    };
    match (acts(rm), acts(sm)) {
        (Some(ra), Some(sa)) => sa.iter().all(|x| {
            ra.iter().any(|y| {
                y == "*" || y == x || (y.ends_with(":*") && x.starts_with(&y[..y.len() - 1]))
            })
        }),
        _ => false,
    }
}

/// For every account: the Deny statements on its path (root, OUs, itself), by policy type.
pub fn denies(org: &LiveOrg) -> BTreeMap<String, Vec<(PolicyType, Value)>> {
    let mut on: BTreeMap<&str, Vec<(PolicyType, Value)>> = BTreeMap::new();
    for p in org.policies.values() {
        let Ok(doc) = serde_json::from_str::<Value>(&p.content) else {
            continue;
        };
        let stmts: Vec<Value> = match doc.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(o) => vec![o.clone()],
            None => vec![],
        };
        for t in &p.targets {
            for s in stmts.iter().filter_map(canonical) {
                on.entry(t.as_str()).or_default().push((p.policy_type, s));
            }
        }
    }
    let mut out = BTreeMap::new();
    for a in org.accounts.values() {
        let mut all = on.get(a.id.as_str()).cloned().unwrap_or_default();
        let mut cur = a.parent_id.as_str();
        for _ in 0..10 {
            all.extend(on.get(cur).cloned().unwrap_or_default());
            match org.ous.get(cur) {
                Some(o) => cur = &o.parent_id,
                None => break,
            }
        }
        out.insert(a.id.clone(), all);
    }
    out
}

/// The shared denies that `snapshot` is missing, as messages.
pub fn missing(
    shared: &BTreeMap<String, Vec<(PolicyType, Value)>>,
    snapshot: &LiveOrg,
) -> Vec<String> {
    let now = denies(snapshot);
    let mut out = Vec::new();
    for (acct, want) in shared {
        let have = now.get(acct).cloned().unwrap_or_default();
        for (ty, s) in want {
            if !have.iter().any(|(t, r)| t == ty && covers(r, s)) {
                out.push(format!("account {acct} lost {ty} deny {s}"));
            }
        }
    }
    out
}

pub fn shared_denies(
    before: &LiveOrg,
    after: &LiveOrg,
) -> BTreeMap<String, Vec<(PolicyType, Value)>> {
    let (b, a) = (denies(before), denies(after));
    b.into_iter()
        .filter_map(|(acct, stmts)| {
            let later = a.get(&acct)?;
            let both: Vec<_> = stmts
                .into_iter()
                .filter(|(t, s)| later.iter().any(|(u, r)| u == t && covers(r, s)))
                .collect();
            Some((acct, both))
        })
        .collect()
}

/// What guardrail may never write: every policy the config does not manage, as it was.
pub fn untouchable(
    live: &LiveOrg,
    desired: &Desired,
) -> BTreeMap<String, (String, String, BTreeSet<String>)> {
    live.policies
        .values()
        .filter(|p| !desired.policies.contains_key(&p.name) && !p.aws_managed)
        .filter(|p| !desired.owned_policy_ids.contains(&p.id))
        .filter(|p| {
            !guardrail::policy::marker::owner(&p.description).is(&live.org_id, &desired.environment)
        })
        .map(|p| {
            (
                p.id.clone(),
                (
                    p.content.clone(),
                    p.description.clone(),
                    p.targets.iter().cloned().collect(),
                ),
            )
        })
        .collect()
}

pub fn written_untouchable(
    before: &BTreeMap<String, (String, String, BTreeSet<String>)>,
    snap: &LiveOrg,
) -> Vec<String> {
    let mut out = Vec::new();
    for (id, (content, desc, targets)) in before {
        let Some(p) = snap.policies.get(id) else {
            out.push(format!("unmanaged policy {id} was deleted"));
            continue;
        };
        let exists = |t: &String| {
            snap.root.id == *t || snap.ous.contains_key(t) || snap.accounts.contains_key(t)
        };
        let now: BTreeSet<String> = p.targets.iter().cloned().collect();
        let was: BTreeSet<String> = targets.iter().filter(|t| exists(t)).cloned().collect();
        if &p.content != content || &p.description != desc || now != was {
            out.push(format!("unmanaged policy {} ({id}) was written", p.name));
        }
    }
    out
}

/// Targets that hold fewer policies of an enabled managed type than the minimum, or more
/// than the maximum.
pub fn limit_violations(org: &LiveOrg, limits: &LimitsTable) -> Vec<String> {
    let mut out = Vec::new();
    let targets = std::iter::once(&org.root.id)
        .chain(org.ous.keys())
        .chain(org.accounts.keys());
    for t in targets {
        for ty in org
            .root
            .enabled_policy_types
            .iter()
            .filter(|t| t.is_managed())
        {
            let n = org
                .policies
                .values()
                .filter(|p| p.policy_type == *ty && p.targets.iter().any(|x| x == t))
                .count();
            let lim = limits.for_type(*ty);
            if n < lim.min_attachments_per_target.value || n > lim.max_attachments_per_target.value
            {
                out.push(format!("{t} holds {n} {ty}s"));
            }
        }
    }
    out
}

/// Every invariant on one snapshot, as messages.
pub fn check(
    snap: &LiveOrg,
    shared: &BTreeMap<String, Vec<(PolicyType, Value)>>,
    protected: &BTreeMap<String, (String, String, BTreeSet<String>)>,
) -> Vec<String> {
    let mut out = limit_violations(snap, &LimitsTable::default());
    out.extend(missing(shared, snap));
    out.extend(written_untouchable(protected, snap));
    out
}
