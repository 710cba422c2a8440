//! One regression test per defect of the "safe on real organizations" issue, on the fake
//! (which enforces the AWS rules moto skips). The model check (`model_check.rs`) covers the
//! same ground at random; these name each case.

use std::collections::BTreeSet;

use guardrail::apply::{self, RetryPolicy, StepStatus};
use guardrail::live::fake::{FakeOrg, Fault};
use guardrail::live::{Error, OrgBackend};
use guardrail::model::{
    AccountState, DesiredPolicy, OuPath, PolicyType, PolicyType::ServiceControlPolicy as SCP,
    TargetRef,
};
use guardrail::plan::{self, Change, Refusal};
use guardrail::policy::marker;

use crate::support::{import, read, rt};

mod lock;
mod owned;

fn deny(action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"{action}","Resource":"*"}}]}}"#
    )
}

fn desired_policy(name: &str, ty: PolicyType, doc: &str) -> DesiredPolicy {
    DesiredPolicy {
        name: name.into(),
        pinned_id: None,
        policy_type: ty,
        description: String::new(),
        document: serde_json::from_str(doc).unwrap(),
        source: "x.json".into(),
        guardrails: Vec::new(),
    }
}

fn retries(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        base: std::time::Duration::ZERO,
    }
}

fn no_retry() -> RetryPolicy {
    retries(1)
}

/// An assertion that `ec2:RunInstances` is denied in a member account of `ou`.
fn run_instances_denied(ou: &OuPath) -> guardrail::model::Assertion {
    guardrail::model::Assertion {
        location: "environments/test.toml:9".into(),
        subject: guardrail::model::AssertSubject::Ou(ou.clone()),
        action: "ec2:RunInstances".into(),
        region: None,
        principal: None,
        resource: None,
        context: Vec::new(),
        expect_deny: true,
    }
}

/// Applies with `attempts` tries per step and no pause.
async fn apply_with(
    p: &plan::Plan,
    live: &guardrail::model::LiveOrg,
    f: &FakeOrg,
    attempts: u32,
) -> apply::Outcome {
    apply::execute_with(p, live, f, retries(attempts), &|_, _, _| {}).await
}

fn names_on(live: &guardrail::model::LiveOrg, t: &TargetRef) -> BTreeSet<String> {
    live.policies_on(&live.id_of(t).unwrap())
        .map(|p| p.name.clone())
        .collect()
}

/// An OU holding ten SCPs: FullAWSAccess and nine denies.
async fn full_ou(f: &FakeOrg) -> String {
    let root = f.root_id();
    let ou = f.create_organizational_unit(&root, "Full").await.unwrap();
    for i in 0..9 {
        let p = f
            .create_policy(
                SCP,
                &format!("d{i}"),
                "console",
                &deny(&format!("svc{i}:Delete")),
            )
            .await
            .unwrap();
        f.attach_policy(&p, &ou).await.unwrap();
    }
    ou
}

#[test]
fn an_organization_with_rcps_enabled_plans_empty_after_import() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        f.enable_policy_type(&f.root_id(), PolicyType::ResourceControlPolicy)
            .await
            .unwrap();
        f.enable_policy_type(&f.root_id(), PolicyType::TagPolicy)
            .await
            .unwrap();
        let root = f.root_id();
        f.create_organizational_unit(&root, "A").await.unwrap();
        let (live, desired, _) = import(&f).await;
        assert!(live
            .root
            .enabled_policy_types
            .contains(&PolicyType::ResourceControlPolicy));
        let p = plan::plan(&desired, &live).unwrap();
        assert!(p.is_empty(), "{:?}", p.changes);
    });
}

#[test]
fn a_swap_on_a_target_at_its_limit_frees_the_slot_first_and_converges() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        full_ou(&f).await;
        let (live, mut desired, _) = import(&f).await;
        let full = OuPath::parse("Full").unwrap();
        desired.policies.insert(
            "new".into(),
            desired_policy("new", SCP, &deny("ec2:DeleteVpc")),
        );
        let ou = desired.ous.get_mut(&full).unwrap();
        ou.policies.remove("d3");
        ou.policies.insert("new".into());
        let p = plan::plan(&desired, &live).unwrap();
        let steps: Vec<String> = p
            .changes
            .iter()
            .map(|c| format!("{} {:?}", c.action(), c.group()))
            .collect();
        let detach = p
            .changes
            .iter()
            .position(|c| matches!(c, Change::Detach { policy, .. } if policy == "d3"))
            .unwrap();
        let attach = p
            .changes
            .iter()
            .position(|c| matches!(c, Change::Attach { policy, .. } if policy == "new"))
            .unwrap();
        assert!(detach < attach, "the slot is freed first: {steps:?}");
        let out = apply::execute(&p, &live, &f).await;
        assert!(out.succeeded(), "{:?}", out.steps);
        assert!(f.violations().is_empty(), "{:?}", f.violations());
        let after = read(&f).await;
        assert!(plan::plan(&desired, &after).unwrap().is_empty());
    });
}

#[test]
fn a_swap_that_would_open_a_window_at_the_limit_is_refused_with_the_remedy() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let full = full_ou(&f).await;
        f.add_account("app", "app@example.com", &full).await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        // `wider` keeps d3's deny on the account below: d3 may not leave before it, and there is no free slot.
        let wider = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["svc3:Delete","ec2:DeleteVpc"],"Resource":"*"}]}"#;
        desired.policies.insert("wider".into(), desired_policy("wider", SCP, wider));
        let ou = desired.ous.get_mut(&OuPath::parse("Full").unwrap()).unwrap();
        ou.policies.remove("d3");
        ou.policies.insert("wider".into());
        let err = plan::plan(&desired, &live).unwrap_err();
        assert!(
            err.0.iter().any(|r| matches!(r, Refusal::NoSafeOrder { holding: 10, limit: 10, waiting, blocked, .. } if waiting == "wider" && blocked == &vec!["d3".to_owned()])),
            "{err}"
        );
        assert!(err.to_string().contains("Free a slot"), "{err}");
    });
}

#[test]
fn rcpfullawsaccess_counts_against_the_rcp_limit() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.enable_policy_type(&root, PolicyType::ResourceControlPolicy).await.unwrap();
        let ou = f.create_organizational_unit(&root, "R").await.unwrap();
        let rcp = |a: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"{a}","Resource":"*"}}]}}"#);
        for (i, a) in ["s3:*", "sqs:*", "kms:*", "sts:*"].iter().enumerate() {
            let p = f.create_policy(PolicyType::ResourceControlPolicy, &format!("r{i}"), "", &rcp(a)).await.unwrap();
            f.attach_policy(&p, &ou).await.unwrap();
        }
        let (live, mut desired, _) = import(&f).await;
        desired.policies.insert("r9".into(), desired_policy("r9", PolicyType::ResourceControlPolicy, &rcp("dynamodb:*")));
        desired.ous.get_mut(&OuPath::parse("R").unwrap()).unwrap().policies.insert("r9".into());
        let err = plan::plan(&desired, &live).unwrap_err();
        assert!(err.0.iter().any(|r| matches!(r, Refusal::TooManyAttachments { count: 6, limit: 5, .. })), "{err}");
    });
}

#[test]
fn when_the_attach_to_the_destination_is_refused_the_account_stays_under_its_denies() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let a = f.create_organizational_unit(&root, "A").await.unwrap();
        f.create_organizational_unit(&root, "B").await.unwrap();
        let guard = f
            .create_policy(SCP, "guard", "", &deny("ec2:DeleteVpc"))
            .await
            .unwrap();
        f.attach_policy(&guard, &a).await.unwrap();
        let acct = f.add_account("app", "app@example.com", &a).await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        // The config keeps `guard` on the account's OU: A has it, B gets it, the account moves.
        desired
            .ous
            .get_mut(&OuPath::parse("B").unwrap())
            .unwrap()
            .policies
            .insert("guard".into());
        desired
            .accounts
            .values_mut()
            .find(|d| d.id.as_deref() == Some(acct.as_str()))
            .unwrap()
            .ou = OuPath::parse("B").unwrap();
        let p = plan::plan(&desired, &live).unwrap();
        let attach = p
            .changes
            .iter()
            .position(|c| matches!(c, Change::Attach { policy, .. } if policy == "guard"))
            .unwrap();
        f.fail_nth_write(attach as u64 + 1, Error::AccessDenied("no".into()));
        let out = apply::execute_with(&p, &live, &f, no_retry(), &|_, _, _| {}).await;
        let mv = out
            .steps
            .iter()
            .find(|(c, _)| c.action() == "move_account")
            .unwrap();
        assert!(matches!(mv.1, StepStatus::Skipped { .. }), "{:?}", mv.1);
        let after = read(&f).await;
        assert_eq!(
            after.accounts[&acct].parent_id, a,
            "the account stays in A, under its deny"
        );
    });
}

#[test]
fn a_lost_create_account_answer_is_not_a_second_account() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.create_organizational_unit(&root, "Home").await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        desired.accounts.insert(
            "new".into(),
            guardrail::model::DesiredAccount {
                key: "new".into(),
                id: None,
                email: Some("new@example.com".into()),
                ou: OuPath::parse("Home").unwrap(),
                policies: ["FullAWSAccess".to_owned()].into(),
                guardrails: Default::default(),
            },
        );
        let p = plan::plan(&desired, &live).unwrap();
        // CreateAccount lands but its answer is lost; then the move's answer is lost too.
        f.fault_nth_write(1, Fault::LoseResponse);
        f.fault_nth_write(3, Fault::LoseResponse);
        let out = apply_with(&p, &live, &f, 4).await;
        assert!(out.succeeded(), "{:?}", out.steps);
        let after = read(&f).await;
        let made: Vec<_> = after
            .accounts
            .values()
            .filter(|a| a.email == "new@example.com")
            .collect();
        assert_eq!(made.len(), 1);
        assert_eq!(after.path_of(&made[0].parent_id), OuPath::parse("Home"));
    });
}

#[test]
fn lost_answers_to_create_ou_and_deletes_are_already_so() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.create_organizational_unit(&root, "Old").await.unwrap();
        let gone = f
            .create_policy(
                SCP,
                "gone",
                &marker::mark("", &f.snapshot().org_id, "test"),
                &deny("x:Y"),
            )
            .await
            .unwrap();
        f.attach_policy(&gone, &root).await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        desired.ous.remove(&OuPath::parse("Old").unwrap());
        desired
            .ous
            .insert(OuPath::parse("New").unwrap(), Default::default());
        desired
            .ous
            .get_mut(&OuPath::parse("New").unwrap())
            .unwrap()
            .policies
            .insert("FullAWSAccess".into());
        desired.policies.remove("gone");
        desired.root.policies.remove("gone");
        let p = plan::plan(&desired, &live).unwrap();
        let actions: Vec<&str> = p.changes.iter().map(|c| c.action()).collect();
        assert_eq!(
            actions,
            vec!["create_ou", "detach", "delete_ou", "delete_policy"]
        );
        // Every step's first answer is lost; its retry meets AWS's "already so".
        for n in [1, 3, 5, 7] {
            f.fault_nth_write(n, Fault::LoseResponse);
        }
        let out = apply_with(&p, &live, &f, 3).await;
        assert!(out.succeeded(), "{:?}", out.steps);
        let after = read(&f).await;
        assert_eq!(after.ous.values().filter(|o| o.name == "New").count(), 1);
        assert!(plan::plan(&desired, &after).unwrap().is_empty());
    });
}

#[test]
fn duplicate_policy_adopts_only_the_same_content() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let (live, mut desired, _) = import(&f).await;
        desired.policies.insert("mine".into(), desired_policy("mine", SCP, &deny("a:B")));
        desired.root.policies.insert("mine".into());
        let p = plan::plan(&desired, &live).unwrap();
        // Someone creates a policy of that name with other content between plan and apply.
        f.create_policy(SCP, "mine", "someone else", &deny("c:D")).await.unwrap();
        let out = apply::execute(&p, &live, &f).await;
        assert!(matches!(&out.steps[0].1, StepStatus::Failed(Error::DuplicatePolicy(m)) if m.contains("left alone")), "{:?}", out.steps[0]);
        let after = read(&f).await;
        assert_eq!(after.policy_by_name("mine").unwrap().description, "someone else");
    });
}

#[test]
fn ownership_follows_the_marker_of_this_organization_and_environment() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let org = f.snapshot().org_id;
        let other_env = f.create_policy(SCP, "theirs", &marker::mark("", &org, "staging"), &deny("a:B")).await.unwrap();
        f.attach_policy(&other_env, &root).await.unwrap();
        let other_org = f.create_policy(SCP, "copied", &marker::mark("", "o-elsewhere1", "test"), &deny("a:C")).await.unwrap();
        let unmarked = f.create_policy(SCP, "console", "made by hand", &deny("a:D")).await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        // Neither foreign policy is imported, deleted or touched.
        assert!(!desired.policies.contains_key("theirs") && !desired.policies.contains_key("copied"));
        let p = plan::plan(&desired, &live).unwrap();
        assert!(p.is_empty(), "{:?}", p.changes);
        // Naming another environment's policy is refused.
        let mut d2 = desired.clone();
        d2.policies.insert("theirs".into(), desired_policy("theirs", SCP, &deny("a:B")));
        let err = plan::plan(&d2, &live).unwrap_err();
        assert!(err.0.iter().any(|r| matches!(r, Refusal::ForeignPolicy { name, .. } if name == "theirs")), "{err}");
        // An unmarked policy named without a pin (nor an owned id) is adopted by a visible
        // step.
        let console = desired.policies.get_mut("console").unwrap();
        console.pinned_id = None;
        desired.owned_policy_ids.remove(&unmarked);
        let p = plan::plan(&desired, &live).unwrap();
        assert!(matches!(&p.changes[..], [Change::UpdatePolicy { name, adopt: true, .. }] if name == "console"), "{:?}", p.changes);
        apply::execute(&p, &live, &f).await;
        let after = read(&f).await;
        assert!(marker::owner(&after.policies[&unmarked].description).is(&org, "test"));
        assert_eq!(after.policies[&other_org].description, marker::mark("", "o-elsewhere1", "test"));
        // Adopted and created alike: dropped from the config, it is deleted.
        desired.policies.remove("console");
        let p = plan::plan(&desired, &after).unwrap();
        assert!(p.changes.iter().any(|c| matches!(c, Change::DeletePolicy { name, .. } if name == "console")));
    });
}

#[test]
fn dropping_fullawsaccess_detaches_it_and_verification_sees_the_allow_list() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let ou = f.create_organizational_unit(&root, "Strict").await.unwrap();
        let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"*"}]}"#;
        let p = f.create_policy(SCP, "allow-s3", "", allow).await.unwrap();
        f.attach_policy(&p, &ou).await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        let strict = OuPath::parse("Strict").unwrap();
        desired.ous.get_mut(&strict).unwrap().policies.remove("FullAWSAccess");
        desired.assertions.push(run_instances_denied(&strict));
        let p = plan::plan(&desired, &live).unwrap();
        assert!(p.changes.iter().any(|c| matches!(c, Change::Detach { policy, .. } if policy == "FullAWSAccess")), "{:?}", p.changes);
        apply::execute(&p, &live, &f).await;
        let after = read(&f).await;
        assert_eq!(names_on(&after, &TargetRef::Ou(strict)), ["allow-s3".to_owned()].into());
    });
}

#[test]
fn an_unmanaged_allow_that_stays_fails_an_assertion_of_deny() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let ou = f.create_organizational_unit(&root, "Strict").await.unwrap();
        let (live0, mut desired, _) = import(&f).await;
        let _ = live0;
        // After import, someone attaches their own allow-all to the OU.
        let open = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let p = f.create_policy(SCP, "open-door", "console", open).await.unwrap();
        f.attach_policy(&p, &ou).await.unwrap();
        let live = read(&f).await;
        let strict = OuPath::parse("Strict").unwrap();
        let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"*"}]}"#;
        desired.policies.insert("allow-s3".into(), desired_policy("allow-s3", SCP, allow));
        let o = desired.ous.get_mut(&strict).unwrap();
        o.policies = ["allow-s3".to_owned()].into();
        desired.assertions.push(run_instances_denied(&strict));
        // The unmanaged allow-all stays, so the assertion cannot hold: refused, not claimed.
        let err = plan::plan(&desired, &live).unwrap_err();
        assert!(err.0.iter().any(|r| matches!(r, Refusal::AssertionFailed { .. })), "{err}");
    });
}

#[test]
fn a_console_scp_on_a_managed_ou_is_drift_unless_ignored() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let ou = f.create_organizational_unit(&root, "A").await.unwrap();
        let (_, mut desired, _) = import(&f).await;
        let p = f
            .create_policy(SCP, "clicked", "console", &deny("ec2:*"))
            .await
            .unwrap();
        f.attach_policy(&p, &ou).await.unwrap();
        let live = read(&f).await;
        let plan = plan::plan(&desired, &live).unwrap();
        assert!(plan.is_empty());
        assert!(guardrail::render::drifted(&plan));
        assert!(guardrail::render::drift_human("test", &plan).contains("clicked"));
        desired.ignore_unmanaged.push("click*".into());
        let plan = plan::plan(&desired, &live).unwrap();
        assert!(!guardrail::render::drifted(&plan));
    });
}

#[test]
fn accounts_that_are_not_active_are_never_moved_and_never_fail_a_plan() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let old = f.create_organizational_unit(&root, "Old").await.unwrap();
        f.create_organizational_unit(&root, "New").await.unwrap();
        let gone = f
            .add_account("gone", "gone@example.com", &old)
            .await
            .unwrap();
        f.set_account_state(&gone, AccountState::Suspended);
        let (live, mut desired, _) = import(&f).await;
        // Move it, and delete its OU: neither happens, and nothing is refused.
        desired
            .accounts
            .values_mut()
            .find(|a| a.id.as_deref() == Some(gone.as_str()))
            .unwrap()
            .ou = OuPath::parse("New").unwrap();
        desired.ous.remove(&OuPath::parse("Old").unwrap());
        let p = plan::plan(&desired, &live).unwrap();
        assert!(
            p.changes
                .iter()
                .all(|c| !matches!(c, Change::MoveAccount { .. } | Change::DeleteOu { .. })),
            "{:?}",
            p.changes
        );
        assert!(p.warnings.iter().any(
            |w| matches!(w, plan::Warning::AccountNotActive { state, .. } if state == "SUSPENDED")
        ));
        assert!(p
            .warnings
            .iter()
            .any(|w| matches!(w, plan::Warning::OuKept { .. })));
    });
}

#[test]
fn two_config_entries_for_one_account_are_refused_naming_both() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let acct = f.add_account("app", "app@example.com", &f.root_id()).await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        desired.accounts.insert(
            "again".into(),
            guardrail::model::DesiredAccount {
                key: "again".into(),
                id: None,
                email: Some("APP@example.com".into()),
                ou: OuPath::root(),
                policies: ["FullAWSAccess".to_owned()].into(),
                guardrails: Default::default(),
            },
        );
        let err = plan::plan(&desired, &live).unwrap_err();
        assert!(err.0.iter().any(|r| matches!(r, Refusal::AccountMatchedTwice { id, keys } if id == &acct && keys.len() == 2)), "{err}");
    });
}

#[test]
fn the_lock_lets_one_of_two_racing_applies_through() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let now = || 1_000u64;
        let pause = |_: std::time::Duration| -> futures::future::BoxFuture<'static, ()> {
            Box::pin(async {})
        };
        let opts = |id: &str| guardrail::lock::LockOptions {
            run_id: id.into(),
            env: "test".into(),
            ttl: std::time::Duration::from_secs(600),
            timeout: std::time::Duration::ZERO,
            now: &now,
            pause: &pause,
        };
        let (a, b) = (opts("a"), opts("b"));
        let (ra, rb) = futures::join!(
            guardrail::lock::acquire(&f, &root, &a),
            guardrail::lock::acquire(&f, &root, &b)
        );
        assert!(
            ra.is_ok() != rb.is_ok() || (ra.is_err() && rb.is_err()),
            "never both: {ra:?} {rb:?}"
        );
        let held = ra.or(rb);
        if let Ok(lock) = held {
            let again = guardrail::lock::acquire(&f, &root, &opts("c")).await;
            assert!(matches!(
                again,
                Err(guardrail::lock::LockError::Held { .. })
            ));
            guardrail::lock::release(&f, &lock, &pause).await.unwrap();
        }
        assert!(guardrail::lock::acquire(&f, &root, &opts("d"))
            .await
            .is_ok());
        // A dead run's lock is broken explicitly.
        assert_eq!(
            guardrail::lock::break_all(&f, &root, &pause)
                .await
                .unwrap()
                .len(),
            1
        );
    });
}

#[test]
fn lockouts_are_grouped_by_principal_and_cause() {
    let l = |action: &str, account: &str| Refusal::Lockout {
        principal: "arn:aws:iam::*:role/Deployer".into(),
        account: account.into(),
        action: action.into(),
        by: "denied by SCP no-iam, statement NoIam".into(),
    };
    let refused = plan::Refused(vec![
        l("iam:CreateRole", "111111111111"),
        l("iam:PutRolePolicy", "111111111111"),
        l("iam:CreateRole", "222222222222"),
    ]);
    let text = guardrail::render::refusals_human(&refused, guardrail::render::Style::default());
    assert_eq!(text.matches("refused:").count(), 1, "{text}");
    assert!(
        text.contains("iam:CreateRole, iam:PutRolePolicy")
            && text.contains("111111111111, 222222222222"),
        "{text}"
    );
    assert!(text.contains("exempt the principal"), "{text}");
}
