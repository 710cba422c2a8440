//! The plan's access proof (`plan::access_proof`) on the in-memory organization: account
//! classes, the combined verdict, counterexamples that replay through the evaluator on both
//! sides, and the newly-denied summary (the renderings and budgets: `access_proof_output.rs`).

use std::path::PathBuf;

use guardrail::live::fake::FakeOrg;
use guardrail::live::OrgBackend;
use guardrail::model::PolicyType::ServiceControlPolicy as SCP;
use guardrail::model::{Desired, DesiredPolicy, LiveOrg, OuPath};
use guardrail::plan::access_proof::{
    prove, AccessProof, Counterexample, ProofVerdict, Subject, Undecided,
};
use guardrail::plan::{self, verify};
use guardrail::policy::eval::{self, Decision};
use guardrail::policy::reason::Unknown;

use crate::support::{import, rt};

const DESTRUCTION: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"},
 {"Sid":"NoStop","Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*"}]}"#;
const EXTRA: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoVpcDelete","Effect":"Deny","Action":"ec2:DeleteVpc","Resource":"*"}]}"#;

/// Root: FullAWSAccess and `deny-destruction`. Workloads: three plain accounts. Sandbox: one
/// plain account and one carrying `extra` at its own level.
pub(crate) fn organization() -> (LiveOrg, Desired) {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        ou_with_accounts(&f, &root, "Workloads", &["w0", "w1", "w2"]).await;
        let (_, sandbox) = ou_with_accounts(&f, &root, "Sandbox", &["s0", "s1"]).await;
        let special = &sandbox[1];
        let d = f
            .create_policy(SCP, "deny-destruction", "", DESTRUCTION)
            .await
            .unwrap();
        f.attach_policy(&d, &root).await.unwrap();
        let e = f.create_policy(SCP, "extra", "", EXTRA).await.unwrap();
        f.attach_policy(&e, special).await.unwrap();
        let (live, desired, _) = import(&f).await;
        (live, desired)
    })
}

/// A new OU under `parent` holding one account per name (`NAME@example.com`); the OU's id
/// and the accounts' ids.
async fn ou_with_accounts(
    f: &FakeOrg,
    parent: &str,
    ou: &str,
    accounts: &[&str],
) -> (String, Vec<String>) {
    let id = f.create_organizational_unit(parent, ou).await.unwrap();
    let mut ids = Vec::new();
    for a in accounts {
        ids.push(
            f.add_account(a, &format!("{a}@example.com"), &id)
                .await
                .unwrap(),
        );
    }
    (id, ids)
}

fn proof_of(desired: &Desired, live: &LiveOrg) -> AccessProof {
    let plan = plan::plan(desired, live).unwrap_or_else(|e| panic!("{e}"));
    prove(&plan.changes, &plan::projected(desired, live), live)
}

fn set_document(desired: &mut Desired, name: &str, document: serde_json::Value) {
    let p = desired.policies.get_mut(name).expect("the policy");
    p.document = document;
    p.guardrails = Vec::new();
}

fn add_policy(desired: &mut Desired, name: &str, document: serde_json::Value, ou: &str) {
    desired.policies.insert(
        name.into(),
        DesiredPolicy {
            name: name.into(),
            pinned_id: None,
            policy_type: SCP,
            description: String::new(),
            document,
            source: PathBuf::from(format!("{name}.json")),
            guardrails: Vec::new(),
        },
    );
    let ou = OuPath::parse(ou).expect("an OU path");
    desired
        .ous
        .get_mut(&ou)
        .expect("the OU")
        .policies
        .insert(name.into());
}

/// `deny-destruction` without its `NoDelete` statement.
pub(crate) fn without_no_delete(desired: &mut Desired) {
    set_document(
        desired,
        "deny-destruction",
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoStop", "Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "*"}]}),
    );
}

#[test]
fn an_unchanged_organization_touches_no_class_and_is_proved() {
    let (live, desired) = organization();
    let proof = proof_of(&desired, &live);
    assert_eq!(proof.verdict, ProofVerdict::Proved);
    assert_eq!(
        (proof.classes, proof.accounts, proof.fresh_ous),
        (0, 0, 0),
        "{proof:#?}"
    );
    assert!(proof.counterexamples.is_empty() && proof.newly_denied.is_empty());
}

/// A change at the root touches every position: Workloads' three accounts and its fresh
/// account are one class, Sandbox's plain account and its fresh account another, the account
/// with its own SCP a third, and a fresh account at the root the fourth.
#[test]
fn accounts_with_the_same_position_and_policies_are_one_class() {
    let (live, mut desired) = organization();
    without_no_delete(&mut desired);
    let proof = proof_of(&desired, &live);
    assert_eq!(
        (proof.classes, proof.accounts, proof.fresh_ous),
        (4, 5, 3),
        "{proof:#?}"
    );
}

/// The organization, and a config that adds a Deny of `s3:PutBucketPolicy` to the Sandbox OU.
fn bucket_policy_denied_in_sandbox() -> (LiveOrg, Desired) {
    let (live, mut desired) = organization();
    add_policy(
        &mut desired,
        "deny-bucket-policy",
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoBucketPolicy", "Effect": "Deny", "Action": "s3:PutBucketPolicy", "Resource": "*"}]}),
        "Sandbox",
    );
    (live, desired)
}

/// A change below one OU leaves the other OU's classes out.
#[test]
fn only_the_classes_the_change_touches_are_checked() {
    let (live, desired) = bucket_policy_denied_in_sandbox();
    let proof = proof_of(&desired, &live);
    assert_eq!(
        (proof.classes, proof.accounts, proof.fresh_ous),
        (2, 2, 1),
        "{proof:#?}"
    );
}

/// The path of a class's example on one side.
fn paths(live: &LiveOrg, projected: &Desired, s: &Subject) -> (eval::Path, eval::Path) {
    match s {
        Subject::Account(id) => (
            guardrail::replay::live_side(live)(id).expect("a live account"),
            guardrail::replay::desired_side(projected)(id).expect("a configured account"),
        ),
        Subject::FreshAccount(ou) => (
            verify::live_path(live, &existing_ancestor(live, ou), None),
            verify::desired_path(projected, ou, None),
        ),
        Subject::CreatedAccount { email, ou } => {
            let names = &projected
                .accounts
                .values()
                .find(|a| a.email.as_deref() == Some(email.as_str()))
                .expect("a configured account")
                .policies;
            (
                verify::live_path(live, &existing_ancestor(live, ou), None),
                verify::desired_path(projected, ou, Some((email, names))),
            )
        }
    }
}

/// The live id of `ou`, or of its nearest ancestor that exists (the root at worst).
fn existing_ancestor(live: &LiveOrg, ou: &OuPath) -> String {
    let ids = live.ou_ids_by_path();
    let mut cur = Some(ou.clone());
    while let Some(p) = cur {
        if let Some(id) = ids.get(&p) {
            return id.clone();
        }
        cur = p.parent();
    }
    live.root.id.clone()
}

/// Asserts that `c` is newly allowed: denied on its class's old path, allowed on the new one,
/// as the proof says.
fn assert_replays(live: &LiveOrg, projected: &Desired, c: &Counterexample) {
    let (old, new) = paths(live, projected, &c.subject);
    let (before, after) = (
        eval::decide(&old, &c.request),
        eval::decide(&new, &c.request),
    );
    assert!(before.is_denied() && after == Decision::Allow, "{c:#?}");
    assert_eq!((&c.old, &c.new), (&before, &after));
}

// ---------------------------------------------------------------------------------------------
// OUs and accounts the plan creates

/// Root: FullAWSAccess. Workloads: FullAWSAccess and `extra` (a Deny of `ec2:DeleteVpc`),
/// two plain accounts. Returns the organization, its config and the first account's id.
fn guarded_workloads() -> (LiveOrg, Desired, String) {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let (workloads, ids) = ou_with_accounts(&f, &root, "Workloads", &["w0", "w1"]).await;
        let e = f.create_policy(SCP, "extra", "", EXTRA).await.unwrap();
        f.attach_policy(&e, &workloads).await.unwrap();
        let (live, desired, _) = import(&f).await;
        (live, desired, ids[0].clone())
    })
}

fn add_ou(desired: &mut Desired, path: &str, policies: &[&str]) {
    desired.ous.insert(
        OuPath::parse(path).expect("an OU path"),
        guardrail::model::DesiredOu {
            policies: policies.iter().map(|p| p.to_string()).collect(),
            guardrails: Default::default(),
        },
    );
}

/// The plan creates OU `Lax` with FullAWSAccess alone and moves a Workloads account into it:
/// that account loses Workloads' Deny (NEW ACCESS, replayed), and a fresh account in the new
/// OU is checked too (against a fresh account at the root today: PROVED, so it adds a class
/// and no new access).
#[test]
fn an_account_moved_into_a_weaker_ou_the_plan_creates_is_new_access() {
    let (live, mut desired, w0) = guarded_workloads();
    add_ou(&mut desired, "Lax", &["FullAWSAccess"]);
    desired.accounts.get_mut("w0").expect("w0").ou = OuPath::parse("Lax").unwrap();
    let proof = proof_of(&desired, &live);
    assert_eq!(proof.verdict, ProofVerdict::NewAccess, "{proof:#?}");
    assert_eq!(
        (proof.classes, proof.accounts, proof.fresh_ous),
        (2, 1, 1),
        "the moved account's class and the new OU's fresh account: {proof:#?}"
    );
    assert_eq!(proof.classes_with_new_access, 1, "{proof:#?}");
    let projected = plan::projected(&desired, &live);
    for c in &proof.counterexamples {
        assert_eq!(c.subject, Subject::Account(w0.clone()), "{c:#?}");
        assert_eq!(c.request.action, "ec2:DeleteVpc", "{c:#?}");
        assert_replays(&live, &projected, c);
    }
    assert!(!proof.counterexamples.is_empty());
}

/// A new OU below an OU the change weakens is checked: its fresh account has new access as
/// well (one more class with new access than the same change without the new OU).
#[test]
fn a_new_ou_below_a_weakened_ou_is_checked() {
    let (live, mut desired) = organization();
    without_no_delete(&mut desired);
    let before = proof_of(&desired, &live);
    add_ou(&mut desired, "Workloads/Team", &["FullAWSAccess"]);
    let proof = proof_of(&desired, &live);
    assert_eq!(proof.verdict, ProofVerdict::NewAccess, "{proof:#?}");
    assert_eq!(
        (
            proof.classes,
            proof.fresh_ous,
            proof.classes_with_new_access
        ),
        (
            before.classes + 1,
            before.fresh_ous + 1,
            before.classes_with_new_access + 1
        ),
        "{proof:#?}"
    );
}

/// An account the plan creates in an OU it also creates, with a Deny of its own, is checked
/// against a fresh account today in the nearest OU that exists (Sandbox): nothing is newly
/// allowed, and the summary names what it loses, for that account.
#[test]
fn an_account_the_plan_creates_is_checked_against_a_fresh_account_today() {
    let (live, mut desired) = organization();
    add_ou(&mut desired, "Sandbox/New", &["FullAWSAccess"]);
    let mut n0 = desired
        .accounts
        .values()
        .next()
        .expect("an account")
        .clone();
    n0.key = "n0".into();
    n0.id = None;
    n0.email = Some("n0@example.com".into());
    n0.ou = OuPath::parse("Sandbox/New").unwrap();
    n0.policies = ["FullAWSAccess", "extra"].map(String::from).into();
    n0.guardrails = Default::default();
    desired.accounts.insert("n0".into(), n0);
    let plan = plan::plan(&desired, &live).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        plan.changes.iter().any(
            |c| matches!(c, plan::Change::CreateAccount { email, .. } if email == "n0@example.com")
        ),
        "{:#?}",
        plan.changes
    );
    let proof = prove(&plan.changes, &plan::projected(&desired, &live), &live);
    assert_eq!(proof.verdict, ProofVerdict::Proved, "{proof:#?}");
    assert_eq!(
        (proof.classes, proof.accounts, proof.fresh_ous),
        (2, 1, 1),
        "the created account and the new OU's fresh account: {proof:#?}"
    );
    let created = Subject::CreatedAccount {
        email: "n0@example.com".into(),
        ou: OuPath::parse("Sandbox/New").unwrap(),
    };
    let lost = proof
        .newly_denied
        .iter()
        .find(|d| d.subject == created)
        .unwrap_or_else(|| panic!("{:#?}", proof.newly_denied));
    assert!(
        lost.patterns
            .iter()
            .any(|(a, by)| a == &["ec2:DeleteVpc"] && by.contains("NoVpcDelete")),
        "{lost:#?}"
    );
    let json = guardrail::render::access_proof_json(&proof);
    let entry = json["newly_denied"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["created_account_email"] == "n0@example.com")
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(entry["new_account_in_ou"], "Sandbox/New", "{json:#}");
}

#[test]
fn removing_a_deny_statement_is_new_access_and_every_counterexample_replays() {
    let (live, mut desired) = organization();
    without_no_delete(&mut desired);
    let proof = proof_of(&desired, &live);
    assert_eq!(proof.verdict, ProofVerdict::NewAccess, "{proof:#?}");
    assert_eq!(proof.classes_with_new_access, 4, "{proof:#?}");
    assert!(
        !proof.counterexamples.is_empty() && proof.counterexamples.len() <= 10,
        "{proof:#?}"
    );
    let projected = plan::projected(&desired, &live);
    for c in &proof.counterexamples {
        assert_replays(&live, &projected, c);
        assert_eq!(
            c.request.action, "s3:DeleteBucket",
            "only s3:DeleteBucket lost its deny, named in the catalogue's casing: {c:#?}"
        );
        let principal = c.request.values("aws:PrincipalArn").expect("a principal");
        assert!(
            !principal[0].contains(['*', '?'])
                && principal[0].contains(&format!(":{}:", c.subject.account_id())),
            "a concrete principal in the class's account: {c:#?}"
        );
        let resource = c.request.resource.as_deref().unwrap_or_default();
        assert!(
            resource.starts_with("arn:aws:s3:::") && !resource.contains(['*', '?', '/']),
            "a bucket ARN: {c:#?}"
        );
        assert!(c.notes.is_empty(), "{c:#?}");
        let (old, new) = paths(&live, &projected, &c.subject);
        let (before, after) = (
            eval::decide(&old, &c.request),
            eval::decide(&new, &c.request),
        );
        assert!(
            matches!(&before, Decision::Deny(by) if by.statement == "NoDelete"),
            "{before:?}"
        );
        assert_eq!(after, Decision::Allow, "{c:#?}");
        assert_eq!((&c.old, &c.new), (&before, &after));
    }
    assert!(
        proof.newly_denied.is_empty(),
        "nothing is newly denied: {:#?}",
        proof.newly_denied
    );
}

/// The ten counterexamples shown are taken from the classes with new access in turn: with a
/// root policy of twelve Deny statements removed, each of the three classes has more than ten
/// of its own, and the first three shown are three classes.
#[test]
fn counterexamples_are_taken_from_the_classes_in_turn() {
    const ACTIONS: [&str; 12] = [
        "s3:DeleteBucket",
        "s3:PutBucketPolicy",
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "ec2:DeleteVpc",
        "ec2:DeleteSubnet",
        "iam:CreateUser",
        "iam:DeleteRole",
        "kms:ScheduleKeyDeletion",
        "kms:DisableKey",
        "organizations:LeaveOrganization",
        "guardduty:DeleteDetector",
    ];
    let statements: Vec<serde_json::Value> = ACTIONS
        .iter()
        .enumerate()
        .map(|(i, a)| serde_json::json!({"Sid": format!("No{i}"), "Effect": "Deny", "Action": a, "Resource": "*"}))
        .collect();
    let document = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    let (live, mut desired) = rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        for ou in ["A", "B"] {
            let id = f.create_organizational_unit(&root, ou).await.unwrap();
            f.add_account(ou, &format!("{ou}@example.com"), &id)
                .await
                .unwrap();
        }
        let p = f
            .create_policy(SCP, "many", "", &document.to_string())
            .await
            .unwrap();
        f.attach_policy(&p, &root).await.unwrap();
        let (live, desired, _) = import(&f).await;
        (live, desired)
    });
    assert!(desired.root.policies.remove("many"));
    let proof = proof_of(&desired, &live);
    assert_eq!(proof.classes_with_new_access, 3, "{proof:#?}");
    let subjects: Vec<&Subject> = proof.counterexamples.iter().map(|c| &c.subject).collect();
    assert_eq!(subjects.len(), 10, "{subjects:#?}");
    let first: std::collections::BTreeSet<&Subject> = subjects.iter().take(3).copied().collect();
    assert_eq!(
        first.len(),
        3,
        "the first three are three classes: {subjects:#?}"
    );
    let projected = plan::projected(&desired, &live);
    for c in &proof.counterexamples {
        assert_replays(&live, &projected, c);
    }
}

#[test]
fn adding_a_deny_to_an_ou_is_proved_and_summarised_as_newly_denied() {
    let (live, desired) = bucket_policy_denied_in_sandbox();
    let proof = proof_of(&desired, &live);
    assert_eq!(proof.verdict, ProofVerdict::Proved, "{proof:#?}");
    assert!(proof.counterexamples.is_empty());
    // Sandbox's two classes lose the same action: told once.
    assert_eq!(proof.newly_denied.len(), 1, "{:#?}", proof.newly_denied);
    assert_eq!(
        (
            proof.newly_denied[0].classes,
            proof.newly_denied[0].accounts
        ),
        (2, 2)
    );
    for d in &proof.newly_denied {
        assert!(d.incomplete.is_none(), "{d:#?}");
        assert!(
            d.patterns.iter().any(|(actions, by)| actions.len() == 1
                && actions[0] == "s3:PutBucketPolicy"
                && by.contains("NoBucketPolicy")),
            "{d:#?}"
        );
    }
}

#[test]
fn the_proof_is_the_same_on_every_run() {
    let (live, mut desired) = organization();
    without_no_delete(&mut desired);
    assert_eq!(proof_of(&desired, &live), proof_of(&desired, &live));
}

// ---------------------------------------------------------------------------------------------
// renderings (a proof built by hand, so they do not depend on the search)

/// A move keeps every statement but changes the account's `aws:PrincipalOrgPaths`. A Deny
/// that reads the org path stops applying when `s0` leaves Sandbox: the procedure compares one
/// request on both sides, so it cannot decide this, and says UNKNOWN naming the statement
/// (never PROVED).
#[test]
fn a_move_under_a_statement_that_reads_org_paths_is_unknown() {
    let (live, mut desired) = rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        ou_with_accounts(&f, &root, "Workloads", &[]).await;
        let (sandbox, _) = ou_with_accounts(&f, &root, "Sandbox", &["s0"]).await;
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "SandboxNoS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
            "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [format!("*/{sandbox}/*")]}}}]});
        let p = f
            .create_policy(SCP, "sandbox-no-s3", "", &doc.to_string())
            .await
            .unwrap();
        f.attach_policy(&p, &root).await.unwrap();
        let (live, desired, _) = import(&f).await;
        (live, desired)
    });
    desired.accounts.get_mut("s0").expect("s0").ou = OuPath::parse("Workloads").unwrap();
    let proof = proof_of(&desired, &live);
    assert_eq!(proof.verdict, ProofVerdict::Unknown, "{proof:#?}");
    let why = proof
        .undecided
        .iter()
        .find_map(|u| match &u.why {
            Undecided::Reason(Unknown::Unsupported {
                construct,
                statement,
            }) => Some((construct.clone(), statement.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("an unsupported-construct reason: {proof:#?}"));
    assert!(why.0.contains("aws:PrincipalOrgPaths"), "{why:?}");
    assert_eq!(why.1, "sandbox-no-s3/SandboxNoS3");
    // The same organization without the move is untouched, hence PROVED.
    desired.accounts.get_mut("s0").expect("s0").ou = OuPath::parse("Sandbox").unwrap();
    assert_eq!(proof_of(&desired, &live).verdict, ProofVerdict::Proved);
}

/// `${aws:PrincipalAccount}` resolves to the class's example; a class of several accounts
/// (or a fresh one) cannot pin it. Today each Workloads account may use its own `ID-b`
/// bucket; the change names the example's bucket literally, so the other account gains
/// access to it. Deciding on the example alone would say PROVED; the answer is UNKNOWN.
#[test]
fn a_variable_naming_the_account_is_not_decided_for_a_class_of_several() {
    const OWN: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"OwnBucketOnly","Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::${aws:PrincipalAccount}-b"}]}"#;
    let (live, mut desired) = rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let (workloads, _) = ou_with_accounts(&f, &root, "Workloads", &["w0", "w1"]).await;
        let p = f.create_policy(SCP, "own-bucket", "", OWN).await.unwrap();
        f.attach_policy(&p, &workloads).await.unwrap();
        let (live, desired, _) = import(&f).await;
        (live, desired)
    });
    let example = live
        .accounts
        .keys()
        .find(|id| **id != live.management_account)
        .expect("a member account")
        .clone();
    set_document(
        &mut desired,
        "own-bucket",
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "OwnBucketOnly",
            "Effect": "Deny", "Action": "s3:*", "NotResource": format!("arn:aws:s3:::{example}-b")}]}),
    );
    let proof = proof_of(&desired, &live);
    assert_eq!(proof.verdict, ProofVerdict::Unknown, "{proof:#?}");
    assert!(
        proof.undecided.iter().any(|u| matches!(&u.why,
            Undecided::Reason(Unknown::Unsupported { construct, .. })
                if construct.contains("aws:principalaccount"))),
        "{proof:#?}"
    );
}
