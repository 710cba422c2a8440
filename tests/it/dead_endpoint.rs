//! An apply whose endpoint dies: after `MAX_CONSECUTIVE_CONNECTION_FAILURES` attempted steps in
//! a row fail without reaching AWS, the rest is not attempted; a refused connection is not
//! retried; a throttled step is retried and the observer hears of each retry.

use std::sync::Mutex;

use guardrail::apply::{self, Event, RetryPolicy, StepStatus};
use guardrail::live::fake::FakeOrg;
use guardrail::live::{Error, ErrorClass, OrgBackend, Unreachable};
use guardrail::model::{DesiredPolicy, OuPath, PolicyType};
use guardrail::plan;

use crate::support::{import, rt};

const DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;

fn refused() -> Error {
    Error::NoAnswer {
        class: ErrorClass::Unreachable(Unreachable::Refused),
        detail: "connection refused (injected)".into(),
    }
}

/// Ten OUs in the root, and a config that creates one SCP and attaches it to each: a create,
/// then ten attaches that depend only on it.
async fn ten_attaches(f: &FakeOrg) -> (guardrail::model::LiveOrg, plan::Plan) {
    let root = f.root_id();
    for i in 0..10 {
        f.create_organizational_unit(&root, &format!("ou{i}"))
            .await
            .unwrap();
    }
    let (live, mut desired, _) = import(f).await;
    desired.policies.insert(
        "lock".into(),
        DesiredPolicy {
            pinned_id: None,
            name: "lock".into(),
            policy_type: PolicyType::ServiceControlPolicy,
            description: String::new(),
            document: serde_json::from_str(DENY).unwrap(),
            source: "x.json".into(),
            guardrails: Vec::new(),
        },
    );
    for i in 0..10 {
        let ou = OuPath::parse(&format!("ou{i}")).unwrap();
        desired
            .ous
            .get_mut(&ou)
            .unwrap()
            .policies
            .insert("lock".into());
    }
    let p = plan::plan(&desired, &live).unwrap();
    assert_eq!(p.changes.len(), 11, "{:?}", p.changes);
    (live, p)
}

#[test]
fn an_apply_stops_after_three_steps_in_a_row_cannot_reach_aws() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let (live, p) = ten_attaches(&f).await;
        // The endpoint dies after the third write: every later write is refused.
        for n in 4..=20 {
            f.fail_nth_write(n, refused());
        }
        let before = f.writes();
        let retry = RetryPolicy {
            attempts: 5,
            base: std::time::Duration::ZERO,
        };
        let out = apply::execute_with(&p, &live, &f, retry, &|_, _, _| {}).await;
        let statuses: Vec<&StepStatus> = out.steps.iter().map(|(_, s)| s).collect();
        assert!(
            statuses[..3].iter().all(|s| **s == StepStatus::Done),
            "{statuses:?}"
        );
        for s in &statuses[3..6] {
            assert!(
                matches!(s, StepStatus::Failed(e) if e.is_connection_failure()),
                "{statuses:?}"
            );
        }
        let limit = apply::MAX_CONSECUTIVE_CONNECTION_FAILURES;
        assert_eq!(limit, 3);
        for s in &statuses[6..] {
            assert_eq!(
                **s,
                StepStatus::Stopped {
                    after: vec![3, 4, 5]
                }
            );
        }
        // A refused connection is not retried: one write per attempted step.
        assert_eq!(f.writes() - before, 6);
    });
}

#[test]
fn an_answer_from_aws_breaks_the_run_of_connection_failures() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let (live, p) = ten_attaches(&f).await;
        // Two refused, one refusal from AWS itself, two refused: never three in a row.
        for n in [2, 3, 5, 6] {
            f.fail_nth_write(n, refused());
        }
        f.fail_nth_write(4, Error::AccessDenied("injected".into()));
        let retry = RetryPolicy {
            attempts: 1,
            base: std::time::Duration::ZERO,
        };
        let out = apply::execute_with(&p, &live, &f, retry, &|_, _, _| {}).await;
        assert!(
            !out.steps
                .iter()
                .any(|(_, s)| matches!(s, StepStatus::Stopped { .. })),
            "{:?}",
            out.steps
        );
        assert_eq!(out.count(|s| *s == StepStatus::Done), 11 - 5);
    });
}

#[test]
fn the_observer_hears_each_retry_then_the_end_of_the_step() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let (live, p) = ten_attaches(&f).await;
        f.fail_nth_write(1, Error::TooManyRequests("slow down".into()));
        f.fail_nth_write(2, Error::TooManyRequests("slow down".into()));
        let heard = Mutex::new(Vec::new());
        let retry = RetryPolicy {
            attempts: 5,
            base: std::time::Duration::ZERO,
        };
        let out = apply::execute_with(&p, &live, &f, retry, &|i, _, e| {
            let what = match e {
                Event::Retrying {
                    error,
                    attempt,
                    attempts,
                    ..
                } => format!(
                    "{i} retry {attempt}/{attempts} {}",
                    matches!(error, Error::TooManyRequests(_))
                ),
                Event::Finished(s) => format!("{i} finished {}", **s == StepStatus::Done),
            };
            heard.lock().unwrap().push(what);
        })
        .await;
        assert!(out.succeeded());
        let heard = heard.into_inner().unwrap();
        assert_eq!(
            heard[..4],
            [
                "0 retry 2/5 true",
                "0 retry 3/5 true",
                "0 finished true",
                "1 finished true"
            ]
        );
        assert_eq!(heard.len(), 2 + 11);
    });
}
