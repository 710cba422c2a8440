//! The stateful model check: for thousands of (realistic organization, random edit, random
//! fault schedule) triples, apply on the fake, then re-run to convergence, and check after
//! every write AWS accepted that
//!
//! 1. no target holds fewer policies of an enabled type than its minimum or more than its
//!    limit (the fake records it in `violations`);
//! 2. every account keeps every Deny statement that both the old and the new organization
//!    impose on it (shared denies, computed here independently of the planner);
//! 3. no unmanaged or foreign policy was written (content, description, attachments);
//! 4. within three runs the plan is empty.
//!
//! Faults: TooManyRequests, ConcurrentModification, 500, connection reset, a lost response
//! (the write lands, its answer does not), a refusal that stays (AWS says no), and the death of
//! the process after any write. `GUARDRAIL_MODEL_CASES` overrides the number of cases (2,000).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use guardrail::apply::{self, RetryPolicy};
use guardrail::live::fake::{FakeOrg, Fault};
use guardrail::live::world::{self, Rng, WorldOptions};
use guardrail::live::Error;
use guardrail::model::{
    Desired, DesiredAccount, DesiredOu, DesiredPolicy, LiveOrg, OuPath, PolicyType,
};
use guardrail::plan;
use serde_json::Value;

use crate::invariants::{check, shared_denies, untouchable};
use crate::support::{import, read};

fn deny_doc(sid: &str, actions: &[String]) -> Value {
    serde_json::json!({"Version":"2012-10-17","Statement":[{"Sid":sid,"Effect":"Deny","Action":actions,"Resource":"*"}]})
}

fn new_policy(name: &str, ty: PolicyType, document: Value) -> DesiredPolicy {
    DesiredPolicy {
        name: name.into(),
        pinned_id: None,
        policy_type: ty,
        description: format!("{name} (model check)"),
        document,
        source: "model.json".into(),
        guardrails: Vec::new(),
    }
}

/// Random edits of an imported config, the kind platform teams make.
fn mutate(d: &mut Desired, rng: &mut Rng) {
    let scp_full = OuPath::parse("Limits/SCP full").unwrap();
    let rcp_full = OuPath::parse("Limits/RCP full").unwrap();
    let ou_paths: Vec<OuPath> = d.ous.keys().cloned().collect();
    // A swap on the OU at its SCP limit: an unrelated new deny, or a wider copy of the old one.
    if rng.chance(40) {
        let on: Vec<String> = d.ous[&scp_full]
            .policies
            .iter()
            .filter(|n| n.starts_with("limit-") || n.ends_with("-guard"))
            .cloned()
            .collect();
        if !on.is_empty() {
            let old = on[rng.below(on.len())].clone();
            let mut actions = vec![format!("new{}:Delete", rng.below(1000))];
            if rng.chance(30) {
                if let Some(Value::Array(a)) = d
                    .policies
                    .get(&old)
                    .and_then(|p| p.document.pointer("/Statement/0/Action"))
                    .cloned()
                {
                    actions.extend(a.iter().filter_map(|x| x.as_str().map(str::to_owned)));
                }
            }
            d.policies.insert(
                "swapped-in".into(),
                new_policy(
                    "swapped-in",
                    PolicyType::ServiceControlPolicy,
                    deny_doc("Swap", &actions),
                ),
            );
            let ou = d.ous.get_mut(&scp_full).unwrap();
            ou.policies.remove(&old);
            ou.policies.insert("swapped-in".into());
        }
    }
    // A swap on the OU at its RCP limit.
    if rng.chance(25) {
        d.policies.insert("rcp-new".into(), new_policy("rcp-new", PolicyType::ResourceControlPolicy, serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"dynamodb:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]})));
        let ou = d.ous.get_mut(&rcp_full).unwrap();
        let old = format!("rcp-tls-{}", rng.below(4));
        ou.policies.remove(&old);
        ou.policies.insert("rcp-new".into());
    }
    // Replace FullAWSAccess by the allow-list where both are.
    if rng.chance(30) {
        for o in d.ous.values_mut() {
            if o.policies.contains("allow-list") {
                o.policies.remove("FullAWSAccess");
            }
        }
    }
    // Move some accounts.
    let keys: Vec<String> = d.accounts.keys().cloned().collect();
    for _ in 0..rng.below(4) {
        let k = &keys[rng.below(keys.len())];
        if d.accounts[k].id.as_deref() == Some(d.management_account.as_str()) {
            continue;
        }
        let to = if rng.chance(20) {
            OuPath::root()
        } else {
            ou_paths[rng.below(ou_paths.len())].clone()
        };
        d.accounts.get_mut(k).unwrap().ou = to;
    }
    // Move a deny from an OU down to its accounts.
    if rng.chance(25) {
        let wl = OuPath::parse("Workloads").unwrap();
        if d.ous
            .get_mut(&wl)
            .is_some_and(|o| o.policies.remove("deny root user"))
        {
            for a in d.accounts.values_mut() {
                if a.ou.segments().first().map(String::as_str) == Some("Workloads") {
                    a.policies.insert("deny root user".into());
                }
            }
        }
    }
    // A new nested OU with a new policy, and a new account in it.
    if rng.chance(30) {
        let parent = ou_paths[rng.below(ou_paths.len())].clone();
        if parent.depth() < 4 {
            let p = parent.child(&format!("New {}", rng.below(100)));
            d.policies.insert(
                "fresh".into(),
                new_policy(
                    "fresh",
                    PolicyType::ServiceControlPolicy,
                    deny_doc("Fresh", &["lambda:DeleteFunction".into()]),
                ),
            );
            d.ous.insert(
                p.clone(),
                DesiredOu {
                    policies: ["FullAWSAccess".to_owned(), "fresh".to_owned()].into(),
                    guardrails: Default::default(),
                },
            );
            if rng.chance(50) {
                d.accounts.insert(
                    "newbie".into(),
                    DesiredAccount {
                        key: "newbie".into(),
                        id: None,
                        email: Some("newbie@example.com".into()),
                        ou: p,
                        policies: ["FullAWSAccess".to_owned()].into(),
                        guardrails: Default::default(),
                    },
                );
            }
        }
    }
    // Drop a managed policy everywhere.
    if rng.chance(25) {
        let names: Vec<String> = d
            .policies
            .keys()
            .filter(|n| n.starts_with("limit-0") || n.as_str() == "ec2-guard")
            .cloned()
            .collect();
        if !names.is_empty() {
            let n = names[rng.below(names.len())].clone();
            d.policies.remove(&n);
            d.root.policies.remove(&n);
            d.ous.values_mut().for_each(|o| {
                o.policies.remove(&n);
            });
            d.accounts.values_mut().for_each(|a| {
                a.policies.remove(&n);
            });
        }
    }
    // Release an imported policy: its table, its places and its owned id go; it stays
    // attached, unmanaged, and must never be written.
    if rng.chance(15) {
        if let Some(p) = d.policies.remove("deny-leave-org") {
            d.owned_policy_ids
                .retain(|id| Some(id) != p.pinned_id.as_ref());
            d.root.policies.remove("deny-leave-org");
        }
    }
    // Edit a document in place.
    if rng.chance(25) {
        if let Some(p) = d.policies.get_mut("protect-cloudtrail") {
            p.document = deny_doc(
                "Trail",
                &[
                    "cloudtrail:StopLogging".into(),
                    "cloudtrail:DeleteTrail".into(),
                    "cloudtrail:PutEventSelectors".into(),
                ],
            );
        }
    }
    // Adopt by name: forget that an imported policy is ours (its pin and its owned id).
    if rng.chance(20) {
        if let Some(p) = d.policies.get_mut("s3-guard") {
            if let Some(id) = p.pinned_id.take() {
                d.owned_policy_ids.remove(&id);
            }
        }
    }
    // Delete an OU: move its accounts out first.
    if rng.chance(15) {
        let zt = OuPath::parse("Zürich.Team").unwrap();
        let below = |p: &OuPath| p.segments().starts_with(zt.segments());
        d.ous.retain(|p, _| !below(p));
        for a in d.accounts.values_mut() {
            if below(&a.ou) {
                a.ou = OuPath::parse("Security").unwrap();
            }
        }
    }
}

fn fault(rng: &mut Rng) -> Fault {
    match rng.below(7) {
        0 => Fault::Fail(Error::TooManyRequests("injected".into())),
        1 => Fault::Fail(Error::ConcurrentModification("injected".into())),
        2 => Fault::Fail(Error::Service {
            code: "ServiceException".into(),
            message: "injected 500".into(),
        }),
        3 => Fault::Fail(Error::Transport("connection reset (injected)".into())),
        4 | 5 => Fault::LoseResponse,
        _ => Fault::Fail(Error::AccessDenied("injected: refused for good".into())),
    }
}

struct Stats {
    applied: usize,
    refused: BTreeMap<&'static str, usize>,
    writes: u64,
    deaths: usize,
    lost: usize,
}

async fn one_case(seed: u64, stats: &mut Stats) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let f = Arc::new(FakeOrg::new("999999999999"));
    let opts = WorldOptions {
        seed,
        accounts: 6 + rng.below(8),
        team_ous: rng.below(3),
        emulator: false,
    };
    let mut w = world::build(f.as_ref(), opts)
        .await
        .map_err(|e| e.to_string())?;
    world::suspend_some(&f, &mut w);
    let (live, mut desired, _) = import(&f).await;
    // import then plan is empty on this world.
    let p0 = plan::plan(&desired, &live).map_err(|e| format!("import→plan refused: {e}"))?;
    if !p0.is_empty() {
        return Err(format!("import→plan not empty: {:?}", p0.changes));
    }
    mutate(&mut desired, &mut rng);
    let initial = f.snapshot();
    let p = match plan::plan(&desired, &live) {
        Ok(p) => p,
        Err(r) => {
            for x in &r.0 {
                *stats.refused.entry(x.kind()).or_default() += 1;
            }
            // Refused before any request.
            return if f.snapshot() == initial {
                Ok(())
            } else {
                Err("a refused plan wrote".into())
            };
        }
    };
    stats.applied += 1;
    let protected = untouchable(&live, &desired);
    let snaps: Arc<Mutex<Vec<LiveOrg>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = snaps.clone();
    f.on_write(move |o| sink.lock().unwrap().push(o.clone()));
    // Faults in the first run.
    let n = p.changes.len() as u64 + 2;
    for _ in 0..rng.below(4) {
        let fl = fault(&mut rng);
        if fl == Fault::LoseResponse {
            stats.lost += 1;
        }
        f.fault_nth_write(1 + rng.below(n as usize) as u64, fl);
    }
    if rng.chance(30) {
        f.die_after_write(1 + rng.below(n as usize) as u64);
        stats.deaths += 1;
    }
    let retry = RetryPolicy {
        attempts: 3,
        base: std::time::Duration::from_millis(1),
    };
    let mut plan_now = p;
    let mut live_now = live;
    let mut converged = false;
    for run in 0..3 {
        let _ = apply::execute_with(&plan_now, &live_now, f.as_ref(), retry, &|_, _, _| {}).await;
        f.revive();
        live_now = read(&f).await;
        plan_now = plan::plan(&desired, &live_now)
            .map_err(|e| format!("run {run}: re-plan refused: {e}"))?;
        if plan_now.is_empty() {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(format!(
            "no convergence in 3 runs; left: {:?}",
            plan_now.changes
        ));
    }
    stats.writes += f.writes();
    let fin = f.snapshot();
    let shared = shared_denies(&initial, &fin);
    let mut problems: Vec<String> = f.violations();
    for (i, s) in snaps.lock().unwrap().iter().enumerate() {
        for m in check(s, &shared, &protected) {
            problems.push(format!("after write {}: {m}", i + 1));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.truncate(8);
        Err(problems.join("\n"))
    }
}

#[test]
fn every_apply_keeps_every_guardrail_through_faults_and_converges() {
    let cases: u64 = std::env::var("GUARDRAIL_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let start: u64 = std::env::var("GUARDRAIL_MODEL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let mut stats = Stats {
        applied: 0,
        refused: BTreeMap::new(),
        writes: 0,
        deaths: 0,
        lost: 0,
    };
    let mut failures = Vec::new();
    for seed in start..start + cases {
        if let Err(e) = rt.block_on(one_case(seed, &mut stats)) {
            failures.push(format!("seed {seed}: {e}"));
            if failures.len() >= 3 {
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The check is only worth something if most cases really applied, with faults.
    assert!(
        stats.applied * 10 >= cases as usize * 6,
        "only {} of {cases} cases applied; refusals: {:?}",
        stats.applied,
        stats.refused
    );
    assert!(
        stats.deaths > 0 && stats.lost > 0 && stats.writes > cases,
        "faults were injected: {} deaths, {} lost answers, {} writes",
        stats.deaths,
        stats.lost,
        stats.writes
    );
    eprintln!("model check: {cases} cases, {} applied, {} writes, {} deaths, {} lost answers, refusals {:?}", stats.applied, stats.writes, stats.deaths, stats.lost, stats.refused);
}
