//! Apply on the fake: for random organizations and random desired states, apply reaches the
//! desired state; the fake checks after every write that no target is left without an SCP and
//! no limit is broken; a fault injected at a random write leaves a state from which plan and
//! apply again converge.

use std::collections::BTreeSet;

use guardrail::apply::{self, StepStatus};
use guardrail::live::Error;
use guardrail::model::{
    Desired, DesiredOu, DesiredPolicy, OuPath, PolicyType::ServiceControlPolicy as SCP,
};
use guardrail::plan;
use proptest::prelude::*;

use crate::plan_props::{build, doc, shape};
use crate::support::{import, read, rt};

/// A deterministic stream of choices.
struct Choices(Vec<u8>, usize);

impl Choices {
    fn next(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let v = self
            .0
            .get(self.1 % self.0.len().max(1))
            .copied()
            .unwrap_or(0) as usize;
        self.1 += 1;
        (v + self.1 * 7) % n
    }
}

/// Random edits of an imported config that keep it valid: new OUs, moved accounts, new and
/// dropped policies, reshuffled attachments (1 to 10 per target).
fn mutate(d: &mut Desired, c: &mut Choices) {
    // New OUs, possibly nested.
    for i in 0..c.next(3) {
        let parents: Vec<OuPath> = std::iter::once(OuPath::root())
            .chain(d.ous.keys().cloned())
            .collect();
        let parent = parents[c.next(parents.len())].clone();
        if parent.depth() < 4 {
            d.ous.insert(
                parent.child(&format!("New{i}")),
                DesiredOu {
                    policies: ["FullAWSAccess".to_owned()].into(),
                    guardrails: Default::default(),
                },
            );
        }
    }
    // New policies (marked as guardrail's when created).
    for i in 0..c.next(3) {
        let name = format!("new-pol-{i}");
        d.policies.insert(
            name.clone(),
            DesiredPolicy {
                pinned_id: None,
                name: name.clone(),
                policy_type: SCP,
                description: format!("new {i}"),
                document: serde_json::from_str(&doc(40 + i as u8)).unwrap(),
                source: "x.json".into(),
                guardrails: Vec::new(),
            },
        );
    }
    // Drop a policy entirely.
    if c.next(2) == 1 {
        let names: Vec<String> = d.policies.keys().cloned().collect();
        if !names.is_empty() {
            let n = names[c.next(names.len())].clone();
            d.policies.remove(&n);
            d.root.policies.remove(&n);
            for o in d.ous.values_mut() {
                o.policies.remove(&n);
            }
            for a in d.accounts.values_mut() {
                a.policies.remove(&n);
            }
        }
    }
    // Move accounts.
    let paths: Vec<OuPath> = std::iter::once(OuPath::root())
        .chain(d.ous.keys().cloned())
        .collect();
    let keys: Vec<String> = d.accounts.keys().cloned().collect();
    for _ in 0..c.next(4) {
        if keys.is_empty() {
            break;
        }
        let k = &keys[c.next(keys.len())];
        d.accounts.get_mut(k).unwrap().ou = paths[c.next(paths.len())].clone();
    }
    // Reshuffle attachments on some targets.
    let mut pool: Vec<String> = d.policies.keys().cloned().collect();
    pool.push("FullAWSAccess".into());
    let reshuffle = |set: &mut BTreeSet<String>, c: &mut Choices| {
        let n = 1 + c.next(4);
        set.clear();
        for _ in 0..n {
            set.insert(pool[c.next(pool.len())].clone());
        }
    };
    if c.next(2) == 1 {
        reshuffle(&mut d.root.policies, c);
    }
    let ou_keys: Vec<OuPath> = d.ous.keys().cloned().collect();
    for k in ou_keys {
        if c.next(3) == 0 {
            reshuffle(&mut d.ous.get_mut(&k).unwrap().policies, c);
        }
    }
    for k in &keys {
        if c.next(4) == 0 {
            reshuffle(&mut d.accounts.get_mut(k).unwrap().policies, c);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn apply_reaches_desired_and_survives_a_fault(s in shape(), choices in prop::collection::vec(any::<u8>(), 1..64), fault_at in 0u64..12) {
        rt().block_on(async {
            let f = build(&s).await;
            let (live, mut desired, _) = import(&f).await;
            mutate(&mut desired, &mut Choices(choices, 0));
            let p = match plan::plan(&desired, &live) {
                Ok(p) => p,
                // A random edit may ask for something unsafe (an OU to delete that holds an
                // account the config dropped): the refusal is the right answer.
                Err(_) => return Ok(()),
            };
            if fault_at > 0 {
                f.fail_nth_write(fault_at, Error::AccessDenied("injected".into()));
            }
            let retry = apply::RetryPolicy { attempts: 1, base: std::time::Duration::ZERO };
            let first = apply::execute_with(&p, &live, &f, retry, &|_, _, _| {}).await;
            if fault_at as usize > p.changes.len() || fault_at == 0 {
                prop_assert!(first.succeeded(), "{:?}", first.steps);
            } else {
                prop_assert!(first.steps.iter().any(|(_, s)| matches!(s, StepStatus::Failed(_))));
            }
            // Plan and apply again: converges.
            let live2 = read(&f).await;
            let p2 = plan::plan(&desired, &live2).unwrap();
            let second = apply::execute(&p2, &live2, &f).await;
            prop_assert!(second.succeeded(), "{:?}", second.steps);
            let live3 = read(&f).await;
            let p3 = plan::plan(&desired, &live3).unwrap();
            prop_assert!(p3.is_empty(), "{:?}", p3.changes);
            prop_assert!(f.violations().is_empty(), "{:?}", f.violations());
            Ok(())
        })?;
    }
}

#[test]
fn a_failed_attach_keeps_the_detach_from_running() {
    rt().block_on(async {
        let f = guardrail::live::fake::FakeOrg::new("999999999999");
        let root = f.root_id();
        use guardrail::live::OrgBackend;
        f.create_organizational_unit(&root, "Prod").await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        desired.policies.insert(
            "lock".into(),
            DesiredPolicy {
                pinned_id: None,
                name: "lock".into(),
                policy_type: SCP,
                description: String::new(),
                document: serde_json::from_str(&doc(3)).unwrap(),
                source: "x.json".into(),
                guardrails: Vec::new(),
            },
        );
        let prod = OuPath::parse("Prod").unwrap();
        desired.ous.get_mut(&prod).unwrap().policies = ["lock".to_owned()].into();
        let p = plan::plan(&desired, &live).unwrap();
        let actions: Vec<&str> = p.changes.iter().map(|c| c.action()).collect();
        assert_eq!(actions, vec!["create_policy", "attach", "detach"]);
        // The attach (second write) fails: the detach of FullAWSAccess must not run.
        f.fail_nth_write(2, Error::AccessDenied("injected".into()));
        let retry = apply::RetryPolicy {
            attempts: 1,
            base: std::time::Duration::ZERO,
        };
        let out = apply::execute_with(&p, &live, &f, retry, &|_, _, _| {}).await;
        assert!(matches!(out.steps[0].1, StepStatus::Done));
        assert!(matches!(
            out.steps[1].1,
            StepStatus::Failed(Error::AccessDenied(_))
        ));
        assert_eq!(
            out.steps[2].1,
            StepStatus::Skipped {
                because_of: vec![1]
            }
        );
        let after = read(&f).await;
        let on_prod: Vec<String> = after
            .policies_on(&after.id_of(&guardrail::model::TargetRef::Ou(prod)).unwrap())
            .map(|p| p.name.clone())
            .collect();
        assert_eq!(on_prod, vec!["FullAWSAccess".to_owned()]);
    });
}
