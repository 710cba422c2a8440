//! `policy::reason` against the evaluator, over random policy pairs from the differential
//! test's generator: an old case and a change to it (a statement added, removed or replaced,
//! or nothing). Whenever the verdict is PROVED, none of the random requests from the
//! same generator (2,000, reused) is allowed by the new side and denied by the old; every counterexample of
//! NEW ACCESS replays as claimed; UNKNOWN never hides an internal error.

use guardrail::policy::eval::{decide, Path, Request};
use guardrail::policy::reason::{new_access, Budget, Constants, Unknown, Verdict};
use serde_json::Value;

use crate::differential::{case, path_of, request_of, statement, Rng, ACCOUNT};

const ORG: &str = "o-a1b2c3d4e5";

fn constants() -> Constants {
    Constants {
        account_id: ACCOUNT.to_owned(),
        org_id: Some(ORG.to_owned()),
        org_paths: Vec::new(),
        account_shared: false,
    }
}

/// One change to a case's policies.
fn change(r: &mut Rng, old: &Value) -> Value {
    let mut new = old.clone();
    let layer = if r.chance(25) && !new["rcps"].as_array().is_some_and(Vec::is_empty) {
        "rcps"
    } else {
        "scps"
    };
    let levels = new[layer].as_array_mut().expect("a layer is a list");
    let i = r.below(levels.len());
    let stmts = levels[i][0]["Statement"]
        .as_array_mut()
        .expect("generated policies list their statements");
    match r.below(4) {
        0 => stmts.push(statement(r, layer == "rcps")),
        1 if !stmts.is_empty() => {
            let j = r.below(stmts.len());
            stmts.remove(j);
        }
        2 if !stmts.is_empty() => {
            let j = r.below(stmts.len());
            stmts[j] = statement(r, layer == "rcps");
        }
        _ => {}
    }
    new
}

fn allowed(p: &Path, req: &Request) -> bool {
    !decide(p, req).is_denied()
}

/// Requests the verdict speaks of: a key a policy names as a variable holds the constant
/// the procedure pinned it to.
fn in_class(docs: &str, req: &Request) -> bool {
    let pinned = [
        ("aws:principalaccount", ACCOUNT),
        ("aws:resourceaccount", ACCOUNT),
        ("aws:principalorgid", ORG),
        ("aws:resourceorgid", ORG),
    ];
    pinned.iter().all(|(k, v)| {
        !docs.contains(&format!("${{{k}")) || req.values(k) == Some(&[(*v).to_owned()][..])
    })
}

#[test]
fn proofs_hold_on_random_requests_and_counterexamples_replay() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let requests: Vec<Request> = (0..2000).map(|_| request_of(&case(&mut r))).collect();
    let (mut proved, mut found, mut unknown) = (0, 0, 0);
    for _ in 0..250 {
        let a = case(&mut r);
        let b = change(&mut r, &a);
        let (old, new) = (path_of(&a), path_of(&b));
        match new_access(&old, &new, &constants(), Budget::default()) {
            Verdict::Proved => {
                proved += 1;
                let docs = format!("{}{}", a, b).to_ascii_lowercase();
                for req in &requests {
                    if in_class(&docs, req) {
                        assert!(
                            !allowed(&new, req) || allowed(&old, req),
                            "PROVED, yet {req:?} is newly allowed\nold {a}\nnew {b}"
                        );
                    }
                }
            }
            Verdict::NewAccess(ws) => {
                found += 1;
                assert!(!ws.is_empty() && ws.len() <= Budget::default().max_witnesses);
                for w in ws {
                    assert_eq!(decide(&old, &w.request), w.old);
                    assert_eq!(decide(&new, &w.request), w.new);
                    assert!(w.old.is_denied() && !w.new.is_denied(), "{w:?}");
                }
            }
            Verdict::Unknown(Unknown::Unsupported { construct, .. }) => {
                assert!(
                    !construct.contains("internal error"),
                    "{construct}\n{a}\n{b}"
                );
                unknown += 1;
            }
            Verdict::Unknown(Unknown::Budget) => unknown += 1,
        }
    }
    // The generator reaches every verdict, so each branch above is exercised.
    assert!(
        proved >= 50 && found >= 25,
        "{proved} proved, {found} new access, {unknown} unknown"
    );
}
