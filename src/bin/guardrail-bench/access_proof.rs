//! The access proof's figures (issue 17): a typical change on the imported organization (one
//! Deny SCP added to an OU: PROVED; one Deny statement taken out of an attached SCP: NEW
//! ACCESS), `policy::reason` per account class on every corpus document (tightened and
//! loosened), and the worst case: one search that runs out of its step budget, scaled to the
//! steps a whole plan may spend (`TOTAL_STEPS`, one pool per plan), is the longest a plan
//! waits for this section; and the cost per step of making counterexamples concrete when no
//! catalogue action fits (a whole catalogue scanned per counterexample).

use std::time::{Duration, Instant};

use guardrail::model::{Desired, DesiredPolicy, LiveOrg, PolicyType};
use guardrail::plan;
use guardrail::plan::access_proof::{prove, CLASS_STEPS, TOTAL_STEPS};
use guardrail::policy::eval::Path;
use guardrail::policy::reason::{new_access, new_access_with_stats, Budget, Constants, Verdict};
use serde_json::{json, Value};

use super::ms;

/// One typical change, proved through the plan's own entry point.
fn one_change(name: &str, edited: &Desired, live: &LiveOrg) -> anyhow::Result<()> {
    let p = plan::plan(edited, live).map_err(|e| anyhow::anyhow!("{e}"))?;
    let projected = plan::projected(edited, live);
    let t = Instant::now();
    let proof = prove(&p.changes, &projected, live);
    println!(
        "- access proof, {name}: {} ({:?}; {} classes standing for {} accounts and {} fresh-account OUs)",
        ms(t.elapsed()),
        proof.verdict,
        proof.classes,
        proof.accounts,
        proof.fresh_ous
    );
    Ok(())
}

/// Adds a Deny SCP to the first OU, then takes a Deny statement out of an attached SCP.
pub fn run(desired: &Desired, live: &LiveOrg) -> anyhow::Result<()> {
    let mut add = desired.clone();
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoLeaving", "Effect": "Deny",
        "Action": "organizations:LeaveOrganization", "Resource": "*"}]});
    let scp = add
        .policies
        .values()
        .find(|p| p.policy_type == PolicyType::ServiceControlPolicy)
        .cloned();
    if let (Some(scp), Some(ou)) = (scp, add.ous.values_mut().next()) {
        ou.policies.insert("bench-deny".into());
        let policy = DesiredPolicy {
            name: "bench-deny".into(),
            pinned_id: None,
            document: doc,
            guardrails: vec![None],
            ..scp
        };
        add.policies.insert("bench-deny".into(), policy);
    }
    one_change("a Deny SCP added to an OU", &add, live)?;
    let mut remove = desired.clone();
    let loosened = remove.policies.values_mut().find_map(|p| {
        let stmts = p.document["Statement"].as_array_mut()?;
        let i = stmts.iter().position(|s| s["Effect"] == "Deny")?;
        stmts.remove(i);
        Some(())
    });
    if loosened.is_some() {
        one_change("a Deny statement removed", &remove, live)?;
    }
    Ok(())
}

/// The account path of the corpus tests (`tests/common/account_path.rs`).
fn account_path(docs: &[&Value], rcp: bool) -> Path {
    crate::account_path::path(rcp, docs, None)
}

fn corpus() -> anyhow::Result<Vec<(bool, Value)>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    let mut out = Vec::new();
    for dir in ["scp", "rcp"] {
        for e in std::fs::read_dir(root.join(dir))? {
            let text = std::fs::read_to_string(e?.path())?;
            out.push((dir == "rcp", serde_json::from_str(&text)?));
        }
    }
    Ok(out)
}

/// Per class on the corpus's shapes: each document added (tightening) and each with its
/// first statement removed (loosening), both directions as a plan asks them.
pub fn per_class() -> anyhow::Result<()> {
    let k = Constants {
        account_id: "111122223333".into(),
        org_id: Some("o-a1b2c3d4e5".into()),
        org_paths: Vec::new(),
        account_shared: false,
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut verdicts = [0usize; 3];
    for (rcp, doc) in corpus()? {
        let mut loose = doc.clone();
        if let Some(s) = loose["Statement"].as_array_mut() {
            s.truncate(s.len().saturating_sub(1));
        }
        let pairs = [
            (account_path(&[], rcp), account_path(&[&doc], rcp)),
            (account_path(&[&doc], rcp), account_path(&[&loose], rcp)),
        ];
        for (old, new) in &pairs {
            let t = Instant::now();
            let v = new_access(old, new, &k, Budget::default());
            let _ = new_access(new, old, &k, Budget::default());
            times.push(t.elapsed());
            verdicts[match v {
                Verdict::Proved => 0,
                Verdict::NewAccess(_) => 1,
                Verdict::Unknown(_) => 2,
            }] += 1;
        }
    }
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let max = times.last().copied().unwrap_or_default();
    println!(
        "- access proof per class on the corpus ({} pairs, both directions; {} proved, {} new access, {} unknown): median {}, max {}",
        times.len(),
        verdicts[0],
        verdicts[1],
        verdicts[2],
        ms(median),
        ms(max)
    );
    worst_case();
    Ok(())
}

/// A pair made to exhaust the budget. The new side denies `s3:` actions matching each of 20
/// distinct patterns unless key `t<j>` is present (two ways to pass each, all consistent),
/// and denies any request with key `x`; the old side denies `s3:*` (in three statements)
/// only when `x` is present.
/// No new access, but the search learns it only after choosing a way past each of the 20
/// statements: 2^20 combinations, each refuted at the end, with a product of up to 20
/// automata behind the action checks.
fn worst_case() {
    let covers = [
        "s3:*", "s3*", "s?:*", "*3:*", "s3:**", "s*:*", "?3:*", "s3?*", "*:*", "s*",
    ];
    let mut new = Vec::new();
    for j in 0..20 {
        let pat = format!(
            "{}{}",
            covers[j % covers.len()],
            "*".repeat(j / covers.len())
        );
        new.push(json!({"Effect": "Deny", "Action": pat, "Resource": "*",
            "Condition": {"Null": {format!("aws:PrincipalTag/t{j}"): "true"}}}));
    }
    new.push(json!({"Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"Null": {"aws:PrincipalTag/x": "false"}}}));
    let (a, b) = (
        json!({"Statement": (["s3:*", "s3:Get*", "s3:Put*"].map(|act| json!({"Effect": "Deny",
            "Action": act, "Resource": "*",
            "Condition": {"Null": {"aws:PrincipalTag/x": ["false", "False"]}}})))}),
        json!({ "Statement": new }),
    );
    let (old, new) = (account_path(&[&a], false), account_path(&[&b], false));
    let budget = Budget {
        max_steps: CLASS_STEPS,
        max_witnesses: 10,
    };
    let t = Instant::now();
    let (v, used) = new_access_with_stats(&old, &new, &Constants::default(), budget);
    let one = t.elapsed();
    let per_step = one.as_secs_f64() / used.max(1) as f64;
    println!(
        "- access proof worst case: one search to its {CLASS_STEPS}-step budget {} ({}, {used} steps, {:.0} ns a step); a plan's pool is {TOTAL_STEPS} steps: {}",
        ms(one),
        name(&v),
        per_step * 1e9,
        ms(Duration::from_secs_f64(per_step * TOTAL_STEPS as f64))
    );
    concrete_worst();
}

fn name(v: &Verdict) -> &'static str {
    match v {
        Verdict::Unknown(_) => "UNKNOWN",
        Verdict::Proved => "PROVED",
        Verdict::NewAccess(_) => "NEW ACCESS",
    }
}

/// Counterexamples no catalogue action fits: a Deny on made-up actions under a wildcard
/// service, removed. The look-up goes through the catalogue until its cap (the search's
/// budget) before keeping the search's own action (with a note); the work is counted as steps.
fn concrete_worst() {
    let actions: Vec<String> = (0..10).map(|i| format!("*:nosuchaction{i}")).collect();
    let doc = json!({"Statement": [{"Effect": "Deny", "Action": actions, "Resource": "*"}]});
    let (old, new) = (account_path(&[&doc], false), account_path(&[], false));
    let t = Instant::now();
    let (v, used) = new_access_with_stats(&old, &new, &Constants::default(), Budget::default());
    let took = t.elapsed();
    let witnesses = match &v {
        Verdict::NewAccess(w) => w.len(),
        _ => 0,
    };
    println!(
        "- access proof, counterexamples no catalogue action fits: {} for {witnesses} counterexamples ({}, {used} steps, {:.0} ns a step)",
        ms(took),
        name(&v),
        took.as_secs_f64() * 1e9 / used.max(1) as f64
    );
}
