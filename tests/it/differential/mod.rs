//! The differential test: guardrail's evaluator against an independent one,
//! `@cloud-copilot/iam-simulate` (AGPL, installed by `scripts/test` into `tools/oracle/`, used
//! at test time only), over 10,000 random requests on random SCP and RCP paths. The requests
//! cover Action/NotAction, Resource/NotResource, wildcards, every condition-operator family,
//! IfExists, set qualifiers, policy variables, IPv4/IPv6, dates and principal types
//! (`features.rs` checks that each occurs often and is decided more than one way). Both get the
//! same request context (the simulator derives no principal keys itself, so guardrail's
//! derivation of `aws:PrincipalArn`/`PrincipalType` is tested in `policy::eval::request`).
//! `tables.rs` is the vocabulary the cases are drawn from, `cases.rs` draws them.
//!
//! They must agree on every request except the known divergences in
//! `tests/differential/divergences.json`. Each entry names a stable signature (the feature of
//! the policies and request that decides it, see `features::signatures`), the AWS documentation rule
//! that decides it and who is right. A disagreement is excused only when its request carries
//! the signature of a listed divergence; every listed signature must occur among the random
//! requests, and [`known_divergences_still_diverge`] replays each entry's minimal case so a
//! fixed simulator (or a changed guardrail) shows up.

mod cases;
mod features;
mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path as FsPath, PathBuf};
use std::process::{Command, Stdio};

use guardrail::policy::eval::{decide, Decision};
use serde_json::Value;

pub(crate) use cases::{case, path_of, request_of, statement, Rng, ACCOUNT};
use features::{features, signatures, FAMILIES};

fn oracle() -> PathBuf {
    let dir = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("tools/oracle");
    assert!(
        dir.join("node_modules/@cloud-copilot/iam-simulate").is_dir(),
        "the differential test's oracle is missing: run `(cd tools/oracle && npm ci --no-audit --no-fund)` \
         (scripts/test does; it needs node >= 20 and npm)"
    );
    dir.join("oracle.mjs")
}

/// Runs the oracle over cases, one answer per case.
fn simulate(cases: &[Value]) -> Vec<String> {
    let mut child = Command::new("node")
        .arg(oracle())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("`node` (>= 20) must be on PATH for the differential test's oracle");
    let mut input = String::new();
    for c in cases {
        input.push_str(&c.to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "oracle failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// guardrail's answer in the simulator's words.
fn guardrail(case: &Value) -> String {
    match decide(&path_of(case), &request_of(case)) {
        Decision::Allow | Decision::NotAffected(_) => "Allowed".into(),
        Decision::Deny(_) => "ExplicitlyDenied".into(),
        Decision::NoAllow { .. } => "ImplicitlyDenied".into(),
    }
}

fn divergences() -> Vec<Value> {
    let path = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/divergences.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn guardrail_decides_like_an_independent_simulator() {
    let known: BTreeSet<String> = divergences()
        .iter()
        .map(|d| d["signature"].as_str().unwrap().to_owned())
        .collect();
    let mut r = Rng(0x5eed_1234_abcd_0001);
    let cases: Vec<Value> = (0..10_000).map(|_| case(&mut r)).collect();
    let answers = simulate(&cases);
    assert_eq!(answers.len(), cases.len());
    let errors: Vec<_> = answers.iter().filter(|a| a.starts_with("Error")).collect();
    assert!(
        errors.is_empty(),
        "{} oracle errors, first: {}",
        errors.len(),
        errors[0]
    );
    let mut kinds = BTreeMap::new();
    let mut excused: BTreeMap<String, usize> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for (c, a) in cases.iter().zip(&answers) {
        let g = guardrail(c);
        *kinds.entry(a.clone()).or_insert(0) += 1;
        if &g == a {
            continue;
        }
        let listed: Vec<&str> = signatures(c)
            .into_iter()
            .filter(|s| known.contains(*s))
            .collect();
        if listed.is_empty() {
            disagreements.push(format!("guardrail {g}, simulator {a}: {c}"));
        } else {
            for s in listed {
                *excused.entry(s.to_owned()).or_insert(0) += 1;
            }
        }
    }
    // Every outcome is exercised, so agreement is not trivial.
    assert!(kinds.values().all(|n| *n > 500), "{kinds:?}");
    covers_every_family(&cases, &answers);
    assert!(
        disagreements.is_empty(),
        "{} of {} requests decided differently and match no known divergence; first ones:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements[..disagreements.len().min(40)].join("\n")
    );
    // Each listed divergence still shows up among the random requests (the generator keeps
    // exercising it), and the excused ones stay a small share.
    for s in &known {
        assert!(
            excused.contains_key(s),
            "divergence {s} never occurred: {excused:?}"
        );
    }
    let total: usize = excused.values().sum();
    assert!(
        total < cases.len() / 50,
        "{total} excused disagreements: {excused:?}"
    );
}

/// Every family the issue lists occurs in at least 200 of the random cases, and among those
/// the simulator answers more than one way (so the family is decided, not merely present).
fn covers_every_family(cases: &[Value], answers: &[String]) {
    let mut seen: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for (c, a) in cases.iter().zip(answers) {
        for f in features(c) {
            let e = seen.entry(f).or_default();
            e.0 += 1;
            e.1.insert(a.as_str());
        }
    }
    for f in FAMILIES {
        let (n, outcomes) = seen.get(f).cloned().unwrap_or_default();
        assert!(
            n >= 200 && outcomes.len() > 1,
            "family {f}: {n} cases, outcomes {outcomes:?}"
        );
    }
}

#[test]
fn known_divergences_still_diverge() {
    let list = divergences();
    assert!(!list.is_empty());
    let cases: Vec<Value> = list.iter().map(|d| d["case"].clone()).collect();
    let answers = simulate(&cases);
    for (d, a) in list.iter().zip(&answers) {
        for field in ["name", "signature", "rule", "source", "right", "why"] {
            assert!(
                d[field].as_str().is_some_and(|s| !s.is_empty()),
                "{d}: {field}"
            );
        }
        assert!(
            ["guardrail", "simulator"].contains(&d["right"].as_str().unwrap()),
            "{}: right is guardrail or simulator",
            d["name"]
        );
        assert!(
            signatures(&d["case"]).contains(d["signature"].as_str().unwrap()),
            "{}: its case does not carry its signature",
            d["name"]
        );
        assert_eq!(
            a,
            d["simulator"].as_str().unwrap(),
            "{}: the simulator changed",
            d["name"]
        );
        assert_eq!(
            guardrail(&d["case"]),
            d["guardrail"].as_str().unwrap(),
            "{}: guardrail changed",
            d["name"]
        );
        assert_ne!(
            a,
            d["guardrail"].as_str().unwrap(),
            "{}: no longer a divergence",
            d["name"]
        );
    }
}
