//! The plan against the fake: import then plan is empty; random edits yield exactly those
//! changes; applying a plan converges; the walk stays within its request budget; unsafe plans
//! are refused.

use std::collections::{BTreeMap, BTreeSet};

use guardrail::apply;
use guardrail::live::fake::FakeOrg;
use guardrail::live::{request_budget, OrgBackend};
use guardrail::model::{DesiredOu, OuPath, PolicyType::ServiceControlPolicy as SCP, TargetRef};
use guardrail::plan::{self, Change, Refusal};
use proptest::prelude::*;

use crate::support::{import, read, rt};

/// A random organization, described by choices the builder interprets.
#[derive(Debug, Clone)]
pub struct OrgShape {
    /// For each OU: index of its parent among earlier OUs (or root), name choice.
    ous: Vec<(usize, u8)>,
    /// For each account: parent index.
    accounts: Vec<usize>,
    /// For each policy: statement variety and targets (indices into all targets).
    policies: Vec<(u8, Vec<usize>)>,
    /// Targets from which to detach FullAWSAccess (when they carry something else).
    detach_full: Vec<usize>,
}

pub fn shape() -> impl Strategy<Value = OrgShape> {
    (
        prop::collection::vec((0usize..100, 0u8..6), 0..8),
        prop::collection::vec(0usize..100, 0..15),
        prop::collection::vec((0u8..20, prop::collection::vec(0usize..100, 0..4)), 0..6),
        prop::collection::vec(0usize..100, 0..4),
    )
        .prop_map(|(ous, accounts, policies, detach_full)| OrgShape {
            ous,
            accounts,
            policies,
            detach_full,
        })
}

pub fn doc(v: u8) -> String {
    let actions = [
        "s3:DeleteBucket",
        "ec2:DeleteVpc",
        "iam:CreateUser",
        "cloudtrail:StopLogging",
    ];
    let a = actions[(v as usize) % actions.len()];
    let b = actions[(v as usize / 4) % actions.len()];
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"S{v}","Effect":"Deny","Action":["{a}","{b}"],"Resource":"*"}}]}}"#
    )
}

/// Builds the shape in a fake through the backend API (so every AWS rule holds); requests AWS
/// would refuse are skipped, as a real organization could not hold them either.
pub async fn build(shape: &OrgShape) -> FakeOrg {
    let f = FakeOrg::new("999999999999");
    let root = f.root_id();
    let mut parents = vec![root.clone()];
    for (p, name) in &shape.ous {
        let parent = parents[p % parents.len()].clone();
        if let Ok(id) = f
            .create_organizational_unit(&parent, &format!("OU{name}"))
            .await
        {
            parents.push(id);
        }
    }
    let mut targets = parents.clone();
    for (i, p) in shape.accounts.iter().enumerate() {
        if let Ok(id) = f
            .add_account(
                &format!("acct{i}"),
                &format!("a{i}@example.com"),
                &parents[p % parents.len()],
            )
            .await
        {
            targets.push(id);
        }
    }
    for (i, (v, ts)) in shape.policies.iter().enumerate() {
        let desc = if i % 2 == 0 {
            "team policy".to_owned()
        } else {
            String::new()
        };
        let Ok(pid) = f
            .create_policy(SCP, &format!("pol-{i}"), &desc, &doc(*v))
            .await
        else {
            continue;
        };
        for t in ts {
            let _ = f.attach_policy(&pid, &targets[t % targets.len()]).await;
        }
    }
    for t in &shape.detach_full {
        let _ = f
            .detach_policy("p-FullAWSAccess", &targets[t % targets.len()])
            .await;
    }
    f.reset_stats();
    f
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn import_then_plan_is_empty(s in shape()) {
        rt().block_on(async {
            let f = build(&s).await;
            let (live, desired, _) = import(&f).await;
            let p = plan::plan(&desired, &live).unwrap();
            prop_assert!(p.is_empty(), "{:?}", p.changes);
            // The walk stayed within its budget.
            prop_assert!(f.stats().total() <= request_budget(&live), "{:?} > {}", f.stats(), request_budget(&live));
            Ok(())
        })?;
    }

    #[test]
    fn edits_plan_exactly_and_apply_converges(s in shape(), pick in any::<[u8; 4]>()) {
        rt().block_on(async {
            let f = build(&s).await;
            let (live, mut desired, _) = import(&f).await;
            let mut expected: BTreeSet<(String, String)> = BTreeSet::new();

            // Move one account to another parent.
            let accts: Vec<String> = desired.accounts.keys().cloned().collect();
            let paths: Vec<OuPath> = std::iter::once(OuPath::root()).chain(desired.ous.keys().cloned()).collect();
            if !accts.is_empty() && paths.len() > 1 {
                let key = &accts[pick[0] as usize % accts.len()];
                let a = desired.accounts.get_mut(key).unwrap();
                let to = paths.iter().find(|p| **p != a.ou).unwrap().clone();
                a.ou = to;
                expected.insert(("move_account".into(), a.id.clone().unwrap()));
            }
            // Change one policy's meaning.
            let names: Vec<String> = desired.policies.keys().cloned().collect();
            if !names.is_empty() {
                let n = &names[pick[1] as usize % names.len()];
                let p = desired.policies.get_mut(n).unwrap();
                p.document["Statement"].as_array_mut().unwrap().push(serde_json::json!({"Effect":"Deny","Action":"kms:ScheduleKeyDeletion","Resource":"*"}));
                expected.insert(("update_policy".into(), n.clone()));
            }
            // Add an OU (AWS gives it FullAWSAccess, the config keeps it).
            let parent = paths[pick[2] as usize % paths.len()].clone();
            if parent.depth() < 5 {
                let new = parent.child("NewOU");
                desired.ous.insert(new.clone(), DesiredOu { policies: ["FullAWSAccess".to_owned()].into(), guardrails: Default::default() });
                expected.insert(("create_ou".into(), new.to_string()));
            }
            // Attach one more policy to the root, when it has room.
            if let Some(n) = names.get(pick[3] as usize % names.len().max(1)) {
                if !desired.root.policies.contains(n) && desired.root.policies.len() < 10 {
                    desired.root.policies.insert(n.clone());
                    expected.insert(("attach".into(), format!("{n}@root")));
                }
            }

            let p = plan::plan(&desired, &live).unwrap();
            let got: BTreeSet<(String, String)> = p.changes.iter().map(|c| match c {
                Change::MoveAccount { id, .. } => ("move_account".into(), id.clone()),
                Change::UpdatePolicy { name, .. } => ("update_policy".into(), name.clone()),
                Change::CreateOu { path } => ("create_ou".into(), path.to_string()),
                Change::Attach { policy, target: TargetRef::Root, .. } => ("attach".into(), format!("{policy}@root")),
                other => ("unexpected".into(), format!("{other:?}")),
            }).collect();
            prop_assert_eq!(&got, &expected);

            // Apply converges: a fresh read plans nothing.
            let outcome = apply::execute(&p, &live, &f).await;
            prop_assert!(outcome.succeeded(), "{:?}", outcome.steps);
            let after = read(&f).await;
            let again = plan::plan(&desired, &after).unwrap();
            prop_assert!(again.is_empty(), "{:?}", again.changes);
            Ok(())
        })?;
    }
}

#[test]
fn walk_of_a_large_org_stays_within_budget() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let mut ous = vec![root.clone()];
        for i in 0..30 {
            let parent = ous[i / 3].clone();
            ous.push(
                f.create_organizational_unit(&parent, &format!("OU{i}"))
                    .await
                    .unwrap(),
            );
        }
        for i in 0..500 {
            f.add_account(
                &format!("a{i}"),
                &format!("a{i}@x.com"),
                &ous[i % ous.len()],
            )
            .await
            .unwrap();
        }
        for i in 0..12 {
            let p = f
                .create_policy(SCP, &format!("p{i}"), "", &doc(i as u8))
                .await
                .unwrap();
            f.attach_policy(&p, &ous[1 + i]).await.unwrap();
        }
        f.reset_stats();
        let live = read(&f).await;
        assert_eq!(live.accounts.len(), 501);
        let stats = f.stats();
        let o = live.ous.len() as u64;
        let p = live.policies.len() as u64;
        assert!(stats.total() <= request_budget(&live));
        // Per parent and per policy, never per account.
        assert_eq!(stats.get("ListOrganizationalUnitsForParent"), o + 1);
        assert!(stats.get("ListAccountsForParent") < 100);
        assert_eq!(
            stats.get("DescribePolicy"),
            p - 1,
            "FullAWSAccess needs no DescribePolicy"
        );
        assert_eq!(stats.get("ListRoots") + stats.get("ListPolicies"), 2);
    });
}

#[test]
fn refuses_a_target_without_scps() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.create_organizational_unit(&root, "A").await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        desired.ous.get_mut(&OuPath::parse("A").unwrap()).unwrap().policies.clear();
        let err = plan::plan(&desired, &live).unwrap_err();
        assert!(matches!(&err.0[..], [Refusal::ZeroPolicies { target: TargetRef::Ou(p), .. }] if p.to_string() == "A"), "{err}");
    });
}

/// An SCP of the config, `name` with `document`.
fn desired_scp(name: &str, document: &str) -> guardrail::model::DesiredPolicy {
    guardrail::model::DesiredPolicy {
        pinned_id: None,
        name: name.to_owned(),
        policy_type: SCP,
        description: String::new(),
        document: serde_json::from_str(document).unwrap(),
        source: "x.json".into(),
        guardrails: Vec::new(),
    }
}

#[test]
fn refuses_too_many_attachments_counting_unmanaged() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let ou = f.create_organizational_unit(&root, "Prod").await.unwrap();
        // Three policies guardrail does not manage (not in the config, no marker).
        for i in 0..3 {
            let p = f
                .create_policy(SCP, &format!("ct-{i}"), "Control Tower", &doc(i))
                .await
                .unwrap();
            f.attach_policy(&p, &ou).await.unwrap();
        }
        let (live, mut desired, emitted) = import(&f).await;
        for i in 0..3 {
            desired.policies.remove(&format!("ct-{i}"));
            desired
                .ous
                .get_mut(&OuPath::parse("Prod").unwrap())
                .unwrap()
                .policies
                .remove(&format!("ct-{i}"));
        }
        // ... and not this environment's (import recorded them as taken over).
        desired.owned_policy_ids.clear();
        let _ = emitted;
        let template = desired.policies.is_empty();
        assert!(template);
        let mut extra = BTreeMap::new();
        for i in 0..8 {
            let name = format!("g{i}");
            extra.insert(name.clone(), desired_scp(&name, &doc(i)));
        }
        desired.policies.extend(extra);
        let prod = desired
            .ous
            .get_mut(&OuPath::parse("Prod").unwrap())
            .unwrap();
        prod.policies.extend((0..8).map(|i| format!("g{i}")));
        let err = plan::plan(&desired, &live).unwrap_err();
        let msg = err
            .0
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            msg,
            "ou Prod would carry 12 SCPs (3 not managed here); the limit is 10 (AWS default)"
        );
    });
}

#[test]
fn refuses_another_management_account() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let (live, mut desired, _) = import(&f).await;
        desired.management_account = "123456789012".into();
        let err = plan::plan(&desired, &live).unwrap_err();
        assert!(
            matches!(&err.0[..], [Refusal::ManagementAccountMismatch { .. }]),
            "{err}"
        );
    });
}

#[test]
fn unmanaged_policies_are_reported_and_never_touched() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let p = f.create_policy(SCP, "aws-guardrails-abc", "Control Tower", &doc(1)).await.unwrap();
        f.attach_policy(&p, &root).await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        desired.policies.remove("aws-guardrails-abc");
        desired.root.policies.remove("aws-guardrails-abc");
        let plan = plan::plan(&desired, &live).unwrap();
        assert!(plan.is_empty(), "{:?}", plan.changes);
        assert!(plan.warnings.iter().any(|w| matches!(w, plan::Warning::UnmanagedPolicy { name, .. } if name == "aws-guardrails-abc")));
    });
}

#[test]
fn a_policy_guardrail_created_and_the_config_dropped_is_deleted() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let marked = guardrail::policy::marker::mark("old", &f.snapshot().org_id, "test");
        let p = f
            .create_policy(SCP, "old-guardrail", &marked, &doc(2))
            .await
            .unwrap();
        f.attach_policy(&p, &root).await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        desired.policies.remove("old-guardrail");
        desired.root.policies.remove("old-guardrail");
        let plan = plan::plan(&desired, &live).unwrap();
        let actions: Vec<&str> = plan.changes.iter().map(|c| c.action()).collect();
        assert_eq!(actions, vec!["detach", "delete_policy"]);
        let outcome = apply::execute(&plan, &live, &f).await;
        assert!(outcome.succeeded(), "{:?}", outcome.steps);
        assert!(f
            .list_policies(SCP)
            .await
            .unwrap()
            .iter()
            .all(|p| p.name != "old-guardrail"));
    });
}

#[test]
fn a_failing_assertion_refuses_the_plan() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.create_organizational_unit(&root, "Prod").await.unwrap();
        let (live, mut desired, _) = import(&f).await;
        desired.assertions.push(guardrail::model::Assertion {
            location: "environments/test.toml:40".into(),
            subject: guardrail::model::AssertSubject::Ou(OuPath::parse("Prod").unwrap()),
            action: "ec2:RunInstances".into(),
            region: Some("us-west-2".into()),
            principal: None,
            resource: None,
            context: Vec::new(),
            expect_deny: true,
        });
        let err = plan::plan(&desired, &live).unwrap_err();
        assert_eq!(
            err.0.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            vec!["assertion at environments/test.toml:40 does not hold: ec2:RunInstances in a member account in Prod in us-west-2 should be deny, but is allowed".to_owned()]
        );
    });
}

#[test]
fn resource_control_policies_compile_plan_and_apply_as_a_table_entry() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.create_organizational_unit(&root, "Data").await.unwrap();
        f.enable_policy_type(&root, guardrail::model::PolicyType::ResourceControlPolicy).await.unwrap();
        let (_, base, emitted) = import(&f).await;
        assert!(base.policies.is_empty());
        // An RCP guardrail on Data, beside its SCPs.
        let text = emitted.config.clone()
            + "\n[guardrails.org-only-s3]\ntemplate = \"rcp-deny-external-s3-access\"\norganization_id = \"o-example\"\n";
        let text = text.replacen("[ous.Data]\n", "[ous.Data]\nguardrails = [\"org-only-s3\"]\n", 1);
        let d = crate::support::parse_with(&text, &emitted.documents.iter().cloned().collect()).unwrap_or_else(|e| panic!("{e}"));
        let p = d.policies.get("gr-org-only-s3-rcp").expect("compiled RCP");
        assert_eq!(p.policy_type, guardrail::model::PolicyType::ResourceControlPolicy);
        let opts = guardrail::live::WalkOptions { concurrency: 4, policy_types: vec![SCP, guardrail::model::PolicyType::ResourceControlPolicy] };
        let live = guardrail::live::read_organization(&f, &opts).await.unwrap();
        let plan = plan::plan(&d, &live).unwrap_or_else(|e| panic!("{e}"));
        let actions: Vec<&str> = plan.changes.iter().map(|c| c.action()).collect();
        assert_eq!(actions, vec!["create_policy", "attach"], "RCPFullAWSAccess, unmanaged and undetachable, stays");
        let out = apply::execute(&plan, &live, &f).await;
        assert!(out.succeeded(), "{:?}", out.steps);
        let after = guardrail::live::read_organization(&f, &opts).await.unwrap();
        assert!(plan::plan(&d, &after).unwrap().is_empty());
        let data = after.id_of(&TargetRef::Ou(OuPath::parse("Data").unwrap())).unwrap();
        let on: BTreeSet<&str> = after.policies_on(&data).map(|p| p.name.as_str()).collect();
        assert_eq!(on, ["FullAWSAccess", "RCPFullAWSAccess", "gr-org-only-s3-rcp"].into());
    });
}

/// AWS's per-organization quota counts every policy of the type, unmanaged ones included,
/// and the plan creates its policies before it deletes any: the peak (held now + created) is
/// refused before any request when it is over the quota, naming both counts.
#[test]
fn refuses_an_organization_over_its_policy_quota_counting_unmanaged() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.create_organizational_unit(&root, "Prod").await.unwrap();
        // Three SCPs this config does not name (never attached: unseen by any target count).
        for i in 0..3 {
            f.create_policy(SCP, &format!("legacy-{i}"), "by hand", &doc(i))
                .await
                .unwrap();
        }
        let (live, mut desired, _) = import(&f).await;
        for i in 0..3 {
            desired.policies.remove(&format!("legacy-{i}"));
        }
        desired.owned_policy_ids.clear();
        for i in 0..3u8 {
            let name = format!("g{i}");
            desired
                .policies
                .insert(name.clone(), desired_scp(&name, &doc(10 + i)));
            desired
                .ous
                .get_mut(&OuPath::parse("Prod").unwrap())
                .unwrap()
                .policies
                .insert(name);
        }
        desired.limits.scp.set("max_policies_per_org", 5);
        let err = plan::plan(&desired, &live).unwrap_err();
        assert!(
            matches!(
                err.0.as_slice(),
                [Refusal::TooManyPolicies {
                    held: 3,
                    unmanaged: 3,
                    creates: 3,
                    limit: 5,
                    ..
                }]
            ),
            "{err}"
        );
        assert!(err.to_string().contains("would hold 6 SCPs"), "{err}");
        // At the quota exactly, the same change plans.
        desired.limits.scp.set("max_policies_per_org", 6);
        let plan = plan::plan(&desired, &live).unwrap_or_else(|e| panic!("{e}"));
        let creates = plan
            .changes
            .iter()
            .filter(|c| matches!(c, Change::CreatePolicy { .. }))
            .count();
        assert_eq!(creates, 3);
    });
}
