//! The order of attaches and detaches on one target, within its limits.
//!
//! Attach before detach keeps every guardrail in force, but on a target that already holds
//! its maximum (10 SCPs, or 5 RCPs with the undetachable RCPFullAWSAccess) the first attach
//! would be refused. Then a policy has to leave first, and only a policy whose leaving opens no
//! window may: one that carries no Deny and leaves another Allow on the target, or one whose
//! every Deny statement is still covered by a policy that stays on the target, or is wanted by
//! the new config nowhere (so no account keeps it either way). The search is greedy: attach
//! while there is room; at the limit, detach the first policy that may leave; when none may,
//! the plan is refused with the target, its slots and the remedy. Attaching first only ever
//! adds coverage, so waiting with a detach never makes a later one unsafe.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::policy::denies;

/// One target and policy type, as the planner sees it.
#[derive(Debug, Clone)]
pub struct Slots<'a> {
    /// Managed policies attached now and kept.
    pub keep: Vec<&'a str>,
    /// Attached now and not touched by this plan (unmanaged, foreign, undetachable): their
    /// names, for coverage; they count against the limit.
    pub fixed: Vec<&'a str>,
    pub attach: Vec<&'a str>,
    pub detach: Vec<&'a str>,
    pub limit: usize,
    pub min: usize,
}

/// One step on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    Attach(&'a str),
    /// A detach that must happen before a later attach, to free its slot.
    DetachFirst(&'a str),
}

/// The attach phase of one target, and the detaches left for after every attach and move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence<'a> {
    pub steps: Vec<Step<'a>>,
    pub late_detaches: Vec<&'a str>,
}

/// Why no safe order exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stuck<'a> {
    /// Policies attached when the next attach needs a slot.
    pub holding: usize,
    /// The attach that finds no slot.
    pub waiting: &'a str,
    /// The policies the config removes here, none of which may leave first.
    pub blocked: Vec<&'a str>,
}

/// Orders the steps of one target. `document` gives any policy's document by name (desired
/// for managed policies, live for the rest); `wanted_denies` gives every Deny statement the
/// new config imposes on an account below the target, of this policy type (see
/// [`denies::deny_statements`]); it is called only once the target is at its limit.
pub fn sequence<'a>(
    slots: &Slots<'a>,
    document: &dyn Fn(&str) -> Option<&'a Value>,
    wanted_denies: &dyn Fn() -> Vec<Value>,
) -> Result<Sequence<'a>, Stuck<'a>> {
    let mut wanted: Option<Vec<Value>> = None;
    let mut present: BTreeSet<&str> = slots
        .keep
        .iter()
        .chain(&slots.fixed)
        .chain(&slots.detach)
        .copied()
        .collect();
    let mut pending: Vec<&str> = slots.detach.clone();
    let mut steps = Vec::new();
    for &a in &slots.attach {
        while present.len() >= slots.limit {
            let wanted = wanted.get_or_insert_with(wanted_denies);
            let may_leave = pending.iter().position(|d| {
                present.len() > slots.min && may_leave(d, &present, document, wanted)
            });
            match may_leave {
                Some(i) => {
                    let d = pending.remove(i);
                    present.remove(d);
                    steps.push(Step::DetachFirst(d));
                }
                None => {
                    return Err(Stuck {
                        holding: present.len(),
                        waiting: a,
                        blocked: pending,
                    })
                }
            }
        }
        present.insert(a);
        steps.push(Step::Attach(a));
    }
    Ok(Sequence {
        steps,
        late_detaches: pending,
    })
}

/// Whether `d` may leave the target while the policies in `present` are attached.
fn may_leave<'a>(
    d: &str,
    present: &BTreeSet<&str>,
    document: &dyn Fn(&str) -> Option<&'a Value>,
    wanted_denies: &[Value],
) -> bool {
    let Some(doc) = document(d) else {
        return false;
    };
    let others: Vec<&Value> = present
        .iter()
        .filter(|n| **n != d)
        .filter_map(|n| document(n))
        .collect();
    let denies = denies::deny_statements(doc);
    if denies.is_empty() {
        // Only Allows: removing it narrows what is allowed, never a guardrail, as long as
        // something else still allows.
        return others.iter().any(|o| denies::has_allow(o));
    }
    let staying: Vec<Value> = others
        .iter()
        .flat_map(|o| denies::deny_statements(o))
        .collect();
    denies.iter().all(|s| {
        denies::covered_by(s, staying.iter())
            || !wanted_denies
                .iter()
                .any(|w| denies::covers(w, s) || denies::covers(s, w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn docs() -> BTreeMap<&'static str, Value> {
        let deny = |a: &str| json!({"Statement":[{"Effect":"Deny","Action":a,"Resource":"*"}]});
        let mut m = BTreeMap::new();
        m.insert(
            "FullAWSAccess",
            json!({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}),
        );
        m.insert(
            "allow-list",
            json!({"Statement":[{"Effect":"Allow","Action":["s3:*","ec2:*"],"Resource":"*"}]}),
        );
        for (n, a) in [
            ("d1", "a:One"),
            ("d2", "a:Two"),
            ("d3", "a:Three"),
            ("d4", "a:Four"),
            ("d5", "a:Five"),
            ("d6", "a:Six"),
            ("d7", "a:Seven"),
            ("d8", "a:Eight"),
        ] {
            m.insert(n, deny(a));
        }
        m.insert("old", deny("b:Old"));
        m.insert(
            "new",
            json!({"Statement":[{"Effect":"Deny","Action":["b:Old","b:New"],"Resource":"*"}]}),
        );
        m.insert("gone", deny("c:Gone"));
        m
    }

    fn wanted(d: &BTreeMap<&str, Value>, names: &[&str]) -> Vec<Value> {
        names
            .iter()
            .flat_map(|n| denies::deny_statements(&d[n]))
            .collect()
    }

    const EIGHT: [&str; 8] = ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"];

    #[test]
    fn room_means_attach_first() {
        let d = docs();
        let s = Slots {
            keep: vec!["FullAWSAccess"],
            fixed: vec![],
            attach: vec!["new"],
            detach: vec!["old"],
            limit: 10,
            min: 1,
        };
        let seq = sequence(&s, &|n| d.get(n), &|| wanted(&d, &["new"])).unwrap();
        assert_eq!(seq.steps, vec![Step::Attach("new")]);
        assert_eq!(seq.late_detaches, vec!["old"]);
    }

    #[test]
    fn at_the_limit_an_allow_leaves_first_when_another_stays() {
        let d = docs();
        let mut keep: Vec<&str> = EIGHT.to_vec();
        keep.push("allow-list");
        let s = Slots {
            keep,
            fixed: vec![],
            attach: vec!["new"],
            detach: vec!["FullAWSAccess"],
            limit: 10,
            min: 1,
        };
        let seq = sequence(&s, &|n| d.get(n), &|| wanted(&d, &EIGHT)).unwrap();
        assert_eq!(
            seq.steps,
            vec![Step::DetachFirst("FullAWSAccess"), Step::Attach("new")]
        );
    }

    #[test]
    fn at_the_limit_a_shared_deny_never_leaves_first() {
        let d = docs();
        let mut keep: Vec<&str> = EIGHT.to_vec();
        keep.push("FullAWSAccess");
        // old -> new: `new` keeps old's deny, so old may not leave before new is attached.
        let s = Slots {
            keep: keep.clone(),
            fixed: vec![],
            attach: vec!["new"],
            detach: vec!["old"],
            limit: 10,
            min: 1,
        };
        let err = sequence(&s, &|n| d.get(n), &|| wanted(&d, &["new"])).unwrap_err();
        assert_eq!(err.waiting, "new");
        assert_eq!(err.blocked, vec!["old"]);
        // A deny the new config drops everywhere may leave first.
        let s = Slots {
            keep,
            fixed: vec![],
            attach: vec!["new"],
            detach: vec!["gone"],
            limit: 10,
            min: 1,
        };
        let seq = sequence(&s, &|n| d.get(n), &|| wanted(&d, &["new"])).unwrap();
        assert_eq!(
            seq.steps,
            vec![Step::DetachFirst("gone"), Step::Attach("new")]
        );
    }

    #[test]
    fn fixed_policies_count_and_cover() {
        let d = docs();
        // RCP-like: five slots, one undetachable; `old` is covered by the fixed `new`.
        let s = Slots {
            keep: vec!["d1", "d2"],
            fixed: vec!["FullAWSAccess", "new"],
            attach: vec!["d3"],
            detach: vec!["old"],
            limit: 5,
            min: 1,
        };
        let seq = sequence(&s, &|n| d.get(n), &|| {
            wanted(&d, &["new", "d1", "d2", "d3"])
        })
        .unwrap();
        assert_eq!(
            seq.steps,
            vec![Step::DetachFirst("old"), Step::Attach("d3")]
        );
    }
}
