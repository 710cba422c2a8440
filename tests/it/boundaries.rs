//! Permissions boundaries on the fakes: IAM's version rules, rotation under many updates,
//! deploy + audit + attach-existing converging through plan and apply.

use std::collections::BTreeMap;
use std::path::PathBuf;

use guardrail::apply;
use guardrail::live::fake::FakeOrg;
use guardrail::live::iam::{read_boundaries, IamAccount, IamBackend};
use guardrail::live::iam_fake::FakeIam;
use guardrail::live::{Error, OrgBackend, RootInfo};
use guardrail::model::{Desired, IamLive, LiveOrg};
use guardrail::plan::{self, Change};
use proptest::prelude::*;

use crate::support::{parse_with, read, rt};

const BOUNDARY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"organizations:*","Resource":"*"}]}"#;

/// Applies a plan on the fakes and asserts every step was done.
async fn apply_all(p: &plan::Plan, live: &LiveOrg, org: &FakeOrg, iam: &FakeIam) {
    let out = apply::execute_all(
        p,
        live,
        org,
        Some(iam),
        apply::RetryPolicy::default(),
        &|_, _, _| {},
    )
    .await;
    assert!(out.succeeded(), "{:?}", out.steps);
}

fn acct(id: &str) -> IamAccount {
    IamAccount {
        id: id.into(),
        role: "OrganizationAccountAccessRole".into(),
    }
}

#[test]
fn iam_rules_as_aws_enforces_them() {
    rt().block_on(async {
        let iam = FakeIam::default();
        let a = acct("210987654321");
        let arn = iam.create_policy(&a, "B", "/guardrail/", BOUNDARY).await.unwrap();
        assert_eq!(arn, "arn:aws:iam::210987654321:policy/guardrail/B");
        assert!(matches!(iam.create_policy(&a, "B", "/guardrail/", BOUNDARY).await, Err(Error::Service { code, .. }) if code == "EntityAlreadyExists"));
        for _ in 0..4 {
            iam.create_policy_version(&a, &arn, BOUNDARY).await.unwrap();
        }
        let e = iam.create_policy_version(&a, &arn, BOUNDARY).await.unwrap_err();
        assert!(matches!(&e, Error::ConstraintViolation { reason, .. } if reason == "LimitExceeded"), "{e}");
        assert!(matches!(iam.delete_policy_version(&a, &arn, "v5").await, Err(Error::Service { code, .. }) if code == "DeleteConflict"));
        let big = format!(r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Allow","Action":"*","Resource":"*"}}]}}"#, "a".repeat(6_200));
        assert!(matches!(iam.create_policy(&a, "Big", "/", &big).await, Err(Error::ConstraintViolation { .. })));
        // Whitespace does not count.
        let spaced = format!(r#"{{"Version":"2012-10-17",   "Statement":[{{"Sid":"{}","Effect":"Allow","Action":"*","Resource":"*"}}]}}{}"#, "a".repeat(6_000), " ".repeat(500));
        iam.create_policy(&a, "Spaced", "/", &spaced).await.unwrap();
        // Boundaries: ListRoles omits them, GetAccountAuthorizationDetails returns them.
        iam.create_role("210987654321", "app", "/", Some(&arn));
        iam.create_role("210987654321", "AWSServiceRoleForX", "/aws-service-role/x/", None);
        assert!(iam.list_roles("210987654321").iter().all(|r| r.boundary.is_none()));
        let roles = iam.list_roles_with_boundaries(&a).await.unwrap();
        assert_eq!(roles.iter().find(|r| r.name == "app").unwrap().boundary.as_deref(), Some(arn.as_str()));
        assert!(matches!(iam.put_role_permissions_boundary(&a, "AWSServiceRoleForX", &arn).await, Err(Error::Service { code, .. }) if code == "UnmodifiableEntity"));
    });
}

/// Runs apply's deploy step `n` times with changing documents.
async fn deploy_many(iam: &FakeIam, docs: &[String]) -> Vec<String> {
    let a = acct("210987654321");
    let arn = "arn:aws:iam::210987654321:policy/guardrail/B".to_owned();
    let mut defaults = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let p = plan::Plan {
            org_id: String::new(),
            management_account: String::new(),
            changes: vec![Change::DeployBoundary {
                boundary: "b".into(),
                account: a.id.clone(),
                member_role: a.role.clone(),
                policy_name: "B".into(),
                path: "/guardrail/".into(),
                arn: arn.clone(),
                document: d.clone(),
                create: i == 0,
                diff: None,
            }],
            warnings: Vec::new(),
            unmanaged: Vec::new(),
            account_paths: Default::default(),
            policy_ids: Default::default(),
            ou_ids: Default::default(),
            account_names: BTreeMap::new(),
            effects: Vec::new(),
            headroom: Vec::new(),
            audit: Vec::new(),
            access_proof: None,
        };
        apply_all(&p, &LiveOrg::default(), &FakeOrg::new("111111111111"), iam).await;
        let st = iam.get_policy(&a, &arn).await.unwrap().unwrap();
        defaults.push(st.document);
        let versions = iam.versions(&a.id, &arn);
        assert!(versions.len() <= 5, "{versions:?}");
        assert!(
            versions.contains(&st.default_version),
            "the default always exists"
        );
    }
    defaults
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn version_rotation_keeps_five_and_a_usable_default(n in 1usize..14) {
        rt().block_on(async {
            let iam = FakeIam::default();
            let docs: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"V{i}","Effect":"Allow","Action":"*","Resource":"*"}}]}}"#))
                .collect();
            let defaults = deploy_many(&iam, &docs).await;
            prop_assert_eq!(defaults, docs);
            Ok(())
        })?;
    }
}

fn config(accounts: &[(String, String)], enforce: &str) -> (String, BTreeMap<PathBuf, String>) {
    let mut text = String::from("[organization]\nmanagement_account = \"999999999999\"\ndeployer = \"arn:aws:iam::999999999999:role/guardrail-deployer\"\n\n[root]\npolicies = [\"FullAWSAccess\"]\n[ous.Workloads]\npolicies = [\"FullAWSAccess\"]\n\n");
    text.push_str(&format!("[boundaries.workload]\npolicy_name = \"WorkloadBoundary\"\ndocument = \"b/boundary.json\"\nous = [\"Workloads\"]\nenforce = {enforce}\n\n"));
    text.push_str("[accounts.management]\nid = \"999999999999\"\npolicies = [\"FullAWSAccess\"]\n");
    for (name, id) in accounts {
        text.push_str(&format!("[accounts.{name}]\nid = \"{id}\"\nou = \"Workloads\"\npolicies = [\"FullAWSAccess\"]\n"));
    }
    let docs: BTreeMap<PathBuf, String> =
        [(PathBuf::from("b/boundary.json"), BOUNDARY.to_owned())].into();
    (text, docs)
}

async fn plan_all(d: &Desired, f: &FakeOrg, iam: &FakeIam) -> (LiveOrg, IamLive, plan::Plan) {
    plan_live(d, read(f).await, iam).await
}

/// Reads IAM for `live` and plans.
async fn plan_live(d: &Desired, live: LiveOrg, iam: &FakeIam) -> (LiveOrg, IamLive, plan::Plan) {
    let state = read_boundaries(
        d,
        &|a| live.accounts.contains_key(a),
        &live.partition,
        iam,
        4,
        &|| {},
    )
    .await
    .unwrap();
    let p = plan::plan_with_iam(d, &live, &state).unwrap_or_else(|e| panic!("{e}"));
    (live, state, p)
}

/// A fake organization with an OU Workloads holding `n` accounts `teamN`: `(org, [(key, id)])`.
async fn workloads_with_teams(n: usize) -> (FakeOrg, Vec<(String, String)>) {
    let f = FakeOrg::new("999999999999");
    let root = f.root_id();
    let w = f
        .create_organizational_unit(&root, "Workloads")
        .await
        .unwrap();
    let mut accounts = Vec::new();
    for i in 0..n {
        let id = f
            .add_account(&format!("team{i}"), &format!("t{i}@x.com"), &w)
            .await
            .unwrap();
        accounts.push((format!("team{i}"), id));
    }
    (f, accounts)
}

#[test]
fn deploy_audit_and_attach_existing_converge() {
    rt().block_on(async {
        let (f, accounts) = workloads_with_teams(6).await;
        let iam = FakeIam::default();
        let (text, docs) = config(&accounts, r#"["deploy", "require", "protect", "audit"]"#);
        let d = parse_with(&text, &docs).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.boundaries["workload"].accounts.len(), 6);

        // First apply: the boundary everywhere, then the require/protect SCP on Workloads.
        let (live, _, p) = plan_all(&d, &f, &iam).await;
        let actions: Vec<&str> = p.changes.iter().map(|c| c.action()).collect();
        let last_deploy = actions
            .iter()
            .rposition(|a| *a == "create_boundary")
            .unwrap();
        let first_attach = actions.iter().position(|a| *a == "attach").unwrap();
        assert_eq!(
            actions.iter().filter(|a| **a == "create_boundary").count(),
            6
        );
        assert!(
            last_deploy < first_attach,
            "boundaries before the SCP that requires them: {actions:?}"
        );
        apply_all(&p, &live, &f, &iam).await;
        let (_, _, p) = plan_all(&d, &f, &iam).await;
        assert!(
            p.is_empty() && p.audit.is_empty(),
            "{:?} {:?}",
            p.changes,
            p.audit
        );

        // A role without the boundary and one whose boundary was removed; the exempt ones pass.
        let arn0 = d.boundaries["workload"].arn("aws", &accounts[0].1);
        iam.create_role(&accounts[0].1, "no-boundary", "/", None);
        iam.create_role(
            &accounts[1].1,
            "stripped",
            "/",
            Some(&d.boundaries["workload"].arn("aws", &accounts[1].1)),
        );
        iam.delete_role_permissions_boundary(&accounts[1].1, "stripped")
            .unwrap();
        iam.create_role(&accounts[2].1, "OrganizationAccountAccessRole", "/", None);
        iam.create_role(
            &accounts[2].1,
            "AWSServiceRoleForSupport",
            "/aws-service-role/support.amazonaws.com/",
            None,
        );
        iam.create_role(
            &accounts[3].1,
            "other",
            "/",
            Some("arn:aws:iam::aws:policy/PowerUserAccess"),
        );
        iam.create_user(&accounts[4].1, "ci-user", None);
        let (_, _, p) = plan_all(&d, &f, &iam).await;
        let mut roles: Vec<&str> = p.audit.iter().map(|a| a.role.as_str()).collect();
        roles.sort();
        assert_eq!(roles, vec!["ci-user", "no-boundary", "other", "stripped"]);
        assert!(
            p.audit.iter().any(|a| a.role == "ci-user" && a.is_user),
            "users are audited too"
        );
        assert!(
            p.changes.is_empty(),
            "audit alone proposes nothing without attach-existing"
        );

        // attach-existing: one step per role that lacks it.
        let (text, docs) = config(
            &accounts,
            r#"["deploy", "require", "protect", "audit", "attach-existing"]"#,
        );
        let d2 = parse_with(&text, &docs).unwrap();
        let (live, _, p) = plan_all(&d2, &f, &iam).await;
        let steps: Vec<String> = p
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::AttachRoleBoundary { role, .. } => Some(role.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(steps, vec!["no-boundary".to_owned(), "stripped".to_owned()]);
        apply_all(&p, &live, &f, &iam).await;
        let (_, _, p) = plan_all(&d2, &f, &iam).await;
        let mut left: Vec<&str> = p.audit.iter().map(|a| a.role.as_str()).collect();
        left.sort();
        assert_eq!(
            left,
            vec!["ci-user", "other"],
            "users and other boundaries are reported, never changed"
        );
        assert!(iam
            .list_roles_with_boundaries(&acct(&accounts[0].1))
            .await
            .unwrap()
            .iter()
            .any(|r| r.name == "no-boundary" && r.boundary.as_deref() == Some(arn0.as_str())));

        // A changed boundary: one new version per account.
        let mut docs2 = docs.clone();
        docs2.insert(
            PathBuf::from("b/boundary.json"),
            BOUNDARY.replace(
                r#""Action":"organizations:*""#,
                r#""Action":["organizations:*","account:*"]"#,
            ),
        );
        let d3 = parse_with(&text, &docs2).unwrap();
        let (live, _, p) = plan_all(&d3, &f, &iam).await;
        assert_eq!(
            p.changes
                .iter()
                .filter(|c| c.action() == "update_boundary")
                .count(),
            6
        );
        apply_all(&p, &live, &f, &iam).await;
        assert_eq!(
            iam.versions(&accounts[0].1, &arn0),
            vec!["v1".to_owned(), "v2".to_owned()]
        );
    });
}

/// The partition comes from the root's ARN (`arn:<partition>:organizations::...`).
#[test]
fn the_partition_is_read_from_the_root_arn() {
    let root = |arn: &str| RootInfo {
        id: "r-ab12".into(),
        arn: arn.into(),
        name: "Root".into(),
        enabled_policy_types: Vec::new(),
    };
    for (arn, want) in [
        (
            "arn:aws:organizations::111111111111:root/o-abcdefghij/r-ab12",
            Some("aws"),
        ),
        (
            "arn:aws-us-gov:organizations::111111111111:root/o-abcdefghij/r-ab12",
            Some("aws-us-gov"),
        ),
        (
            "arn:aws-cn:organizations::111111111111:root/o-abcdefghij/r-ab12",
            Some("aws-cn"),
        ),
        ("", None),
        ("not-an-arn", None),
        ("arn::organizations::1:root/o-1/r-1", None),
    ] {
        assert_eq!(root(arn).partition(), want, "{arn}");
    }
    let gov = root("arn:aws-us-gov:organizations::111111111111:root/o-abcdefghij/r-ab12");
    assert_eq!(
        gov.owner(),
        Some(("111111111111".to_owned(), "o-abcdefghij".to_owned()))
    );
}

/// Reads and plans with the organization in `partition`. The fake's root is in `aws`; the
/// walk's reading of the root ARN is checked above, so this sets what it would read there.
async fn plan_in(
    d: &Desired,
    iam: &FakeIam,
    f: &FakeOrg,
    partition: &str,
) -> (LiveOrg, plan::Plan) {
    let mut live = read(f).await;
    live.partition = partition.to_owned();
    let (live, _, p) = plan_live(d, live, iam).await;
    (live, p)
}

/// In GovCloud and China every ARN guardrail builds (the boundary policy it reads, deploys and
/// attaches, and the member role it assumes) carries the organization's partition, and the
/// organization converges there as in `aws`.
#[test]
fn boundaries_use_the_organizations_partition() {
    for partition in ["aws-us-gov", "aws-cn"] {
        rt().block_on(async {
            let (f, accounts) = workloads_with_teams(3).await;
            let iam = FakeIam::in_partition(partition);
            iam.create_role(&accounts[0].1, "app", "/", None);
            let (text, docs) = config(
                &accounts,
                r#"["deploy", "require", "protect", "audit", "attach-existing"]"#,
            );
            let d = parse_with(&text, &docs).unwrap_or_else(|e| panic!("{e}"));
            let (live, p) = plan_in(&d, &iam, &f, partition).await;
            let prefix = format!("arn:{partition}:iam::");
            let arns: Vec<&str> =
                p.changes
                    .iter()
                    .filter_map(|c| match c {
                        Change::DeployBoundary { arn, .. }
                        | Change::AttachRoleBoundary { arn, .. } => Some(arn.as_str()),
                        _ => None,
                    })
                    .collect();
            assert_eq!(arns.len(), 4, "three deploys and one attach: {arns:?}");
            assert!(arns.iter().all(|a| a.starts_with(&prefix)), "{arns:?}");
            assert_eq!(
                d.boundaries["workload"].arn(partition, &accounts[0].1),
                format!(
                    "arn:{partition}:iam::{}:policy/guardrail/WorkloadBoundary",
                    accounts[0].1
                )
            );
            apply_all(&p, &live, &f, &iam).await;
            let (_, p) = plan_in(&d, &iam, &f, partition).await;
            assert!(
                p.is_empty() && p.audit.is_empty(),
                "{:?} {:?}",
                p.changes,
                p.audit
            );
        });
    }
}

#[test]
fn an_oversized_boundary_is_a_config_error() {
    let (text, mut docs) = config(&[], r#"["deploy"]"#);
    docs.insert(PathBuf::from("b/boundary.json"), format!(r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Allow","Action":"*","Resource":"*"}}]}}"#, "a".repeat(6_200)));
    let errs = parse_with(&text, &docs).unwrap_err();
    assert!(
        errs.0[0]
            .message
            .contains("an IAM managed policy may have 6144 (AWS default)"),
        "{errs}"
    );
}

#[test]
fn a_boundary_over_the_root_covers_every_member_account() {
    let accounts = vec![
        ("a".to_owned(), "210987654321".to_owned()),
        ("b".to_owned(), "210987654322".to_owned()),
    ];
    let (text, docs) = config(&accounts, r#"["deploy", "require"]"#);
    let text = text.replace("ous = [\"Workloads\"]", "ous = [\"/\"]")
        + "[accounts.rooted]\nid = \"210987654323\"\npolicies = [\"FullAWSAccess\"]\n";
    let d = parse_with(&text, &docs).unwrap_or_else(|e| panic!("{e}"));
    let b = &d.boundaries["workload"];
    let covered: Vec<&str> = b.accounts.iter().map(String::as_str).collect();
    assert_eq!(
        covered,
        vec!["210987654321", "210987654322", "210987654323"]
    );
    // The require guardrail sits on the root, so it reaches accounts in the root too.
    assert!(
        d.root.guardrails.contains("workload-require"),
        "{:?}",
        d.root.guardrails
    );
}
