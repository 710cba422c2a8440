//! `organization.disable_policy_types` on moto. moto 5.2 implements DisablePolicyType but does
//! not detach the type's policies itself, so this checks what guardrail does before it: its
//! own tag policy detached and deleted, the type disabled last, drift and plan clean after;
//! and the refusal while a tag policy made outside guardrail is attached.

use guardrail::live::OrgBackend;
use guardrail::model::PolicyType;
use serde_json::Value;

use super::{expect_code, text, Org};

const TAGS: &str = r#"{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}"#;

fn config(mgmt: &str, extra: &str) -> String {
    format!("[organization]\nmanagement_account = \"{mgmt}\"\n{extra}\n[accounts.management]\nid = \"{mgmt}\"\npolicies = [\"FullAWSAccess\"]\n")
}

fn root_types(org: &Org) -> (String, Vec<PolicyType>) {
    org.out_of_band(async |b| {
        let root = b.list_roots().await.unwrap().remove(0);
        (root.id, root.enabled_policy_types)
    })
}

#[test]
fn a_disabled_type_goes_after_guardrails_own_policies_and_not_over_someone_elses() {
    let org = Org::bare();
    let mgmt = org.var("GUARDRAIL_DEMO_ACCOUNT");
    std::fs::create_dir_all(org.path("environments/t")).unwrap();
    std::fs::write(org.path("environments/t/tags.json"), TAGS).unwrap();
    let cfg = org.path("environments/t.toml");
    let using = "\n[policies.tags]\ntype = \"TAG_POLICY\"\ndocument = \"t/tags.json\"\n\n[root]\npolicies = [\"FullAWSAccess\", \"tags\"]\n";
    std::fs::write(&cfg, config(&mgmt, using)).unwrap();
    expect_code(
        &org.guardrail(&["apply", "--env", "t", "--auto-approve"]),
        0,
    );
    let (root, types) = root_types(&org);
    assert!(types.contains(&PolicyType::TagPolicy), "{types:?}");

    // The config stops using tag policies and disables the type.
    std::fs::write(
        &cfg,
        config(&mgmt, "disable_policy_types = [\"TAG_POLICY\"]\n"),
    )
    .unwrap();
    let out = org.guardrail(&["drift", "--env", "t", "--format", "json"]);
    expect_code(&out, 2);
    let drift: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = drift["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"policy_type_enabled"), "{kinds:?}");

    // Someone attaches a tag policy of their own: disabling would take it too. Refused.
    let theirs = org.out_of_band(async |b| {
        let id = b
            .create_policy(PolicyType::TagPolicy, "console-tags", "by hand", TAGS)
            .await
            .unwrap();
        b.attach_policy(&id, &root).await.unwrap();
        id
    });
    let out = org.guardrail(&["plan", "--env", "t"]);
    expect_code(&out, 1);
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("console-tags ({theirs}) on root")),
        "{err}"
    );
    org.out_of_band(async |b| b.detach_policy(&theirs, &root).await.unwrap());

    let out = org.guardrail(&["plan", "--env", "t", "--format", "json"]);
    expect_code(&out, 0);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        vec!["detach", "delete_policy", "disable_policy_type"]
    );

    expect_code(
        &org.guardrail(&["apply", "--env", "t", "--auto-approve"]),
        0,
    );
    let (_, types) = root_types(&org);
    assert!(!types.contains(&PolicyType::TagPolicy), "{types:?}");
    let out = org.guardrail(&["plan", "--env", "t", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    expect_code(&org.guardrail(&["drift", "--env", "t"]), 0);
}
