//! The access proof's outputs and budgets: its three renderings, the PR comment's opening
//! line, the step pool shared between classes, and the docs that state the JSON keys and the
//! numbers the code uses (split from `access_proof.rs`, which decides proofs).

use std::collections::BTreeMap;

use guardrail::model::OuPath;
use guardrail::plan;
use guardrail::plan::access_proof::{
    AccessProof, Counterexample, DeniedPatterns, ProofVerdict, Subject, Undecided, UndecidedClass,
};
use guardrail::policy::eval::{Decider, Decision, Layer, Request};
use guardrail::policy::reason::Unknown;
use guardrail::render::{
    access_proof_human, access_proof_json, access_proof_markdown, access_proof_markdown_opener,
    Style,
};

use crate::access_proof::{organization, without_no_delete};

fn denied_by(statement: &str) -> Decision {
    Decision::Deny(Decider {
        layer: Layer::Scp,
        level: "root".into(),
        policy: "deny-destruction".into(),
        guardrail: None,
        statement: statement.into(),
        origin: None,
    })
}

fn sample(verdict: ProofVerdict) -> AccessProof {
    let request = Request::new("s3:DeleteBucket")
        .region("eu-west-1")
        .principal("arn:aws:iam::210987654321:role/app")
        .with("aws:SourceVpce", "vpce-1a2b3c4d");
    let mut proof = AccessProof {
        verdict,
        classes: 3,
        accounts: 7,
        fresh_ous: 2,
        classes_with_new_access: 0,
        counterexamples: Vec::new(),
        undecided: Vec::new(),
        newly_denied: vec![DeniedPatterns {
            subject: Subject::FreshAccount(OuPath::parse("Sandbox").unwrap()),
            classes: 2,
            accounts: 3,
            fresh_ous: 1,
            patterns: vec![(
                vec!["s3:PutBucketPolicy".into()],
                "denied by SCP deny-bucket-policy, statement NoBucketPolicy, attached to ou Sandbox"
                    .into(),
            )],
            incomplete: None,
        }],
    };
    match verdict {
        ProofVerdict::NewAccess => {
            proof.classes_with_new_access = 1;
            proof.counterexamples.push(Counterexample {
                subject: Subject::Account("210987654321".into()),
                accounts: 4,
                request: Request {
                    resource: Some("arn:aws:s3:::logs".into()),
                    ..request
                },
                old: denied_by("NoDelete"),
                new: Decision::Allow,
                notes: Vec::new(),
            });
        }
        ProofVerdict::Unknown => proof.undecided.push(UndecidedClass {
            subject: Subject::Account("210987654322".into()),
            accounts: 2,
            why: Undecided::Reason(Unknown::Unsupported {
                construct: "policy variable ${aws:username}".into(),
                statement: "deny-own-buckets/NoDeleteOwn".into(),
            }),
        }),
        ProofVerdict::Proved => {}
    }
    proof
}

#[test]
fn renderings_of_each_verdict() {
    let mut all = BTreeMap::new();
    for v in [
        ProofVerdict::Proved,
        ProofVerdict::NewAccess,
        ProofVerdict::Unknown,
    ] {
        let p = sample(v);
        let text = format!(
            "--- human\n{}\n--- markdown\n{}{}\n--- json\n{}\n",
            access_proof_human(&p, Style::default()),
            access_proof_markdown_opener(&p),
            access_proof_markdown(&p),
            serde_json::to_string_pretty(&access_proof_json(&p)).unwrap()
        );
        all.insert(v.name(), text);
    }
    for (name, text) in all {
        insta::assert_snapshot!(format!("access_proof_{name}"), text);
    }
}

/// The PR comment opens with the verdict, before the plan's heading.
#[test]
fn the_comment_opens_with_the_verdict() {
    let (live, mut desired) = organization();
    without_no_delete(&mut desired);
    let mut p = plan::plan(&desired, &live).unwrap_or_else(|e| panic!("{e}"));
    p.access_proof = Some(sample(ProofVerdict::NewAccess));
    let md = guardrail::render::plan_markdown("prod", &p);
    let first = md.lines().next().unwrap_or_default();
    assert!(first.contains("**Access proof: NEW ACCESS**"), "{md}");
    assert!(
        md.contains("#### Access proof: requests newly allowed"),
        "{md}"
    );
    let json = guardrail::render::plan_json("prod", &p);
    assert_eq!(json["access_proof"]["verdict"], "new_access");
    assert_eq!(
        json["access_proof"]["counterexamples"][0]["account_id"],
        "210987654321"
    );
    let human = guardrail::render::plan_human("prod", &p, Style::default());
    assert!(human.contains("access proof: NEW ACCESS"), "{human}");
}

/// The plan's steps are shared out: one class gets the most, many classes never more than
/// the plan's total between them, and the share never drops below the floor.
#[test]
fn the_step_budget_is_shared_between_classes() {
    use guardrail::plan::access_proof::{
        class_steps, CLASS_STEPS, MAX_CLASSES, MIN_CLASS_STEPS, TOTAL_STEPS,
    };
    assert_eq!(class_steps(1), CLASS_STEPS);
    for n in [1, 7, 50, 120, MAX_CLASSES, 10 * MAX_CLASSES] {
        let share = class_steps(n);
        assert!(share >= MIN_CLASS_STEPS, "{n}: {share}");
        assert!(
            2 * share * n.min(MAX_CLASSES) as u64 <= TOTAL_STEPS,
            "{n} classes: {share} each"
        );
    }
}

/// The pool: even shares of what is left, what a search does not use goes to the ones after
/// it, the plan never spends more than the total (plus one search's overshoot of a step
/// check), and a spent pool searches no more.
#[test]
fn the_step_pool_gives_back_what_a_search_does_not_use() {
    use guardrail::plan::access_proof::{StepPool, CLASS_STEPS, MIN_CLASS_STEPS, TOTAL_STEPS};
    let mut pool = StepPool::new(MAX_CLASSES_FOR_POOL);
    let first = pool.share().expect("a share");
    assert_eq!(first, TOTAL_STEPS / (2 * MAX_CLASSES_FOR_POOL as u64));
    pool.spend(10);
    let second = pool.share().expect("a share");
    assert!(second > first, "{first} then {second}");
    // Every search spends its whole share: the plan stays within the total.
    let mut pool = StepPool::new(3);
    let mut spent = 0;
    while let Some(share) = pool.share() {
        assert!((MIN_CLASS_STEPS..=CLASS_STEPS).contains(&share), "{share}");
        pool.spend(share);
        spent += share;
        if pool.searches == 0 {
            break;
        }
    }
    assert!(spent <= TOTAL_STEPS, "{spent}");
    // Searches that overrun empty the pool; the next gets nothing.
    let mut pool = StepPool::new(1);
    pool.spend(TOTAL_STEPS + 5);
    assert_eq!(pool.share(), None);
}

const MAX_CLASSES_FOR_POOL: usize = guardrail::plan::access_proof::MAX_CLASSES;

/// docs/plan-json.md names every key of the `access_proof` object, of a counterexample (with
/// its `responsible` statement), of an undecided class and of a newly-denied summary.
#[test]
fn plan_json_docs_name_every_access_proof_key() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/plan-json.md"))
        .expect("docs/plan-json.md");
    let mut with_unknown = sample(ProofVerdict::NewAccess);
    with_unknown.undecided = sample(ProofVerdict::Unknown).undecided;
    let json = access_proof_json(&with_unknown);
    let objects = [
        &json,
        &json["counterexamples"][0],
        &json["counterexamples"][0]["responsible"],
        &json["undecided"][0],
        &json["newly_denied"][0],
        &json["newly_denied"][0]["patterns"][0],
    ];
    for o in objects {
        let o = o
            .as_object()
            .unwrap_or_else(|| panic!("an object in {json:#}"));
        for key in o.keys() {
            assert!(
                docs.contains(&format!("`{key}`")) || docs.contains(&format!("\"{key}\"")),
                "docs/plan-json.md does not name `{key}`"
            );
        }
    }
    for verdict in ["proved", "new_access", "unknown"] {
        assert!(docs.contains(&format!("`{verdict}`")), "{verdict}");
    }
}

/// docs/access-proof.md states the budgets and caps the code uses, and the three verdicts.
#[test]
fn access_proof_docs_state_the_codes_numbers() {
    use guardrail::plan::access_proof::{
        CLASS_STEPS, MAX_CLASSES, MAX_COUNTEREXAMPLES, MIN_CLASS_STEPS, TOTAL_STEPS,
    };
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/access-proof.md"))
            .expect("docs/access-proof.md");
    let grouped = |n: u64| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    for (what, n) in [
        ("the plan's pool", TOTAL_STEPS),
        ("a search's share at most", CLASS_STEPS),
        ("a search's share at least", MIN_CLASS_STEPS),
    ] {
        // The number whole: no digit group before or after it.
        let text = grouped(n);
        let whole = docs.match_indices(&text).any(|(i, _)| {
            let rest = &docs[i + text.len()..];
            !docs[..i].ends_with(|c: char| c.is_ascii_digit() || c == ',')
                && !rest.starts_with(|c: char| c.is_ascii_digit())
                && !rest
                    .strip_prefix(',')
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        });
        assert!(whole, "{what}: {text}");
    }
    assert!(docs.contains(&format!("More than {MAX_CLASSES} touched classes")));
    assert!(docs.contains(&format!("capped** at {MAX_COUNTEREXAMPLES}")));
    assert!(docs.contains(&format!("Up to {MAX_COUNTEREXAMPLES} counterexample")));
    for verdict in ["**PROVED**", "**NEW ACCESS**", "**UNKNOWN**"] {
        assert!(docs.contains(verdict), "{verdict}");
    }
}
