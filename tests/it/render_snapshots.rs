//! Snapshots of every rendering of one plan that has a change of every kind, on the fake
//! (whose ids are deterministic). Each "no changes" rendering has a partner with changes.

use guardrail::live::fake::FakeOrg;
use guardrail::live::OrgBackend;
use guardrail::model::{
    DesiredAccount, DesiredOu, OuPath, PolicyType::ServiceControlPolicy as SCP,
};
use guardrail::plan::{self, Plan, Warning};
use guardrail::render::{self, Style};

use crate::plan_props::doc;
use crate::support::{import, rt};

/// A clean plan and one with a change of every kind (also used by `graph.rs`).
pub(crate) fn plans() -> (Plan, Plan) {
    rt().block_on(async {
        let f = FakeOrg::new("111122223333");
        let root = f.root_id();
        let work = f
            .create_organizational_unit(&root, "Workloads")
            .await
            .unwrap();
        let prod = f.create_organizational_unit(&work, "Prod").await.unwrap();
        let old = f.create_organizational_unit(&root, "Old").await.unwrap();
        let ct = f
            .create_policy(SCP, "aws-guardrails-abcd", "Control Tower", &doc(7))
            .await
            .unwrap();
        f.attach_policy(&ct, &prod).await.unwrap();
        let lock = f
            .create_policy(SCP, "lock", "Team lock", &doc(1))
            .await
            .unwrap();
        f.attach_policy(&lock, &work).await.unwrap();
        let gone = f
            .create_policy(
                SCP,
                "retired",
                &guardrail::policy::marker::mark("old", &f.snapshot().org_id, "test"),
                &doc(2),
            )
            .await
            .unwrap();
        f.attach_policy(&gone, &old).await.unwrap();
        f.add_account("payments", "payments@example.com", &prod)
            .await
            .unwrap();
        f.add_account("web", "web@example.com", &work)
            .await
            .unwrap();
        let (live, desired, _) = import(&f).await;
        let clean = plan::plan(&desired, &live).unwrap();

        let mut d = desired.clone();
        d.policies.remove("aws-guardrails-abcd");
        d.ous
            .get_mut(&OuPath::parse("Workloads/Prod").unwrap())
            .unwrap()
            .policies
            .remove("aws-guardrails-abcd");
        d.policies.remove("retired");
        d.ous.remove(&OuPath::parse("Old").unwrap());
        d.policies.get_mut("lock").unwrap().document["Statement"][0]["Action"] =
            serde_json::json!(["s3:DeleteBucket", "s3:PutBucketPolicy"]);
        d.ous.insert(
            OuPath::parse("Sandbox").unwrap(),
            DesiredOu {
                policies: ["FullAWSAccess".to_owned(), "lock".to_owned()].into(),
                guardrails: Default::default(),
            },
        );
        d.accounts.get_mut("payments").unwrap().ou = OuPath::parse("Workloads").unwrap();
        d.accounts.insert(
            "new-team".into(),
            DesiredAccount {
                key: "new-team".into(),
                id: None,
                email: Some("new-team@example.com".into()),
                ou: OuPath::parse("Sandbox").unwrap(),
                policies: ["FullAWSAccess".to_owned()].into(),
                guardrails: Default::default(),
            },
        );
        let changed = plan::plan(&d, &live).unwrap();
        (clean, changed)
    })
}

#[test]
fn plan_renderings() {
    let (clean, changed) = plans();
    assert!(clean.is_empty());
    assert!(changed
        .warnings
        .iter()
        .any(|w| matches!(w, Warning::ControlTowerMove { key, .. } if key == "payments")));
    insta::assert_snapshot!(
        "plan_human_clean",
        render::plan_human("prod", &clean, Style::default())
    );
    insta::assert_snapshot!(
        "plan_human",
        render::plan_human("prod", &changed, Style::default())
    );
    insta::assert_snapshot!("plan_markdown_clean", render::plan_markdown("prod", &clean));
    insta::assert_snapshot!("plan_markdown", render::plan_markdown("prod", &changed));
    insta::assert_json_snapshot!("plan_json", render::plan_json("prod", &changed));
}

#[test]
fn drift_renderings() {
    let (clean, changed) = plans();
    insta::assert_snapshot!("drift_human_clean", render::drift_human("prod", &clean));
    insta::assert_snapshot!("drift_human", render::drift_human("prod", &changed));
    insta::assert_snapshot!("drift_markdown", render::drift_markdown("prod", &changed));
    insta::assert_json_snapshot!("drift_json", render::drift_json("prod", &changed));
}

#[test]
fn markdown_of_a_huge_plan_is_cut_with_a_note() {
    let (_, mut changed) = plans();
    let big = changed
        .changes
        .iter()
        .find(|c| matches!(c, plan::Change::UpdatePolicy { .. }))
        .unwrap()
        .clone();
    for _ in 0..400 {
        changed.changes.push(big.clone());
    }
    let md = render::plan_markdown("prod", &changed);
    assert!(md.len() <= render::MAX_COMMENT_CHARS, "{}", md.len());
    assert!(md.contains("cut to stay under GitHub's size limit"));
}
