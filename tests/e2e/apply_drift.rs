//! apply, drift and saved plans against moto: a 300-account organization built from empty,
//! out-of-band changes named by drift and reverted by apply, saved plans applied exactly and
//! refused when stale or tampered with.

use std::collections::BTreeSet;

use guardrail::live::OrgBackend;
use serde_json::Value;

use crate::{edit, expect_code, text, Org};

const DENY_LEAVE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#;

#[test]
fn apply_builds_a_300_account_org_from_empty_and_drift_is_clean() {
    let org = Org::bare();
    let mgmt = org.var("GUARDRAIL_DEMO_ACCOUNT");
    std::fs::create_dir_all(org.path("environments/built")).unwrap();
    std::fs::write(
        org.path("environments/built/deny-leave-org.json"),
        DENY_LEAVE,
    )
    .unwrap();
    let mut cfg = format!(
        "[organization]\nmanagement_account = \"{mgmt}\"\n\n[policies.deny-leave-org]\ndescription = \"No leaving\"\ndocument = \"built/deny-leave-org.json\"\n\n[root]\npolicies = [\"FullAWSAccess\", \"deny-leave-org\"]\n\n[ous.Workloads]\npolicies = [\"FullAWSAccess\"]\n[ous.\"Workloads/Prod\"]\npolicies = [\"FullAWSAccess\", \"deny-leave-org\"]\n[ous.Sandbox]\npolicies = [\"deny-leave-org\"]\n\n[accounts.management]\nid = \"{mgmt}\"\npolicies = [\"FullAWSAccess\"]\n"
    );
    let ous = ["Workloads", "Workloads/Prod", "Sandbox"];
    for i in 0..300 {
        cfg.push_str(&format!(
            "\n[accounts.team-{i:03}]\nemail = \"team-{i:03}@example.com\"\nou = \"{}\"\npolicies = [\"FullAWSAccess\"{}]\n",
            ous[i % 3],
            if i % 5 == 0 { ", \"deny-leave-org\"" } else { "" }
        ));
    }
    std::fs::write(org.path("environments/built.toml"), cfg).unwrap();

    let out = org.guardrail(&["plan", "--env", "built", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["ous_to_create"], 3);
    assert_eq!(plan["summary"]["accounts_to_create"], 300);
    assert_eq!(plan["summary"]["policies_to_create"], 1);

    let out = org.guardrail(&["apply", "--env", "built", "--auto-approve"]);
    expect_code(&out, 0);
    assert!(
        text(&out.stdout).contains("not attempted"),
        "{}",
        text(&out.stdout)
    );

    let out = org.guardrail(&["drift", "--env", "built"]);
    expect_code(&out, 0);
    let out = org.guardrail(&["plan", "--env", "built", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // The organization holds what the config says, read back through the SDK.
    let (ous_live, accounts, policies) = org.out_of_band(async |b| {
        let live = guardrail::live::read_organization(b, &Default::default())
            .await
            .unwrap();
        (live.ous.len(), live.accounts.len(), live.policies.len())
    });
    assert_eq!((ous_live, accounts, policies), (3, 301, 2));
}

#[test]
fn drift_names_out_of_band_changes_and_apply_reverts_them() {
    let org = Org::seed(10, 6, 5);
    assert!(org.guardrail(&["import", "--env", "d"]).status.success());
    assert_eq!(
        org.guardrail(&["drift", "--env", "d"]).status.code(),
        Some(0)
    );

    org.out_of_band(async |b| {
        let live = guardrail::live::read_organization(b, &Default::default())
            .await
            .unwrap();
        let ids = live.ou_ids_by_path();
        let ou = |p: &str| ids[&guardrail::model::OuPath::parse(p).unwrap()].clone();
        let pol = |n: &str| live.policy_by_name(n).unwrap().id.clone();
        // An SCP edited in the console.
        b.update_policy(&pol("protect-cloudtrail"), None, Some(DENY_LEAVE))
            .await
            .unwrap();
        // An attachment added and one removed.
        b.attach_policy(&pol("deny-root-user"), &ou("Sandbox"))
            .await
            .unwrap();
        b.detach_policy(&pol("region-lock"), &ou("Workloads/Prod"))
            .await
            .unwrap();
        // An account moved.
        let acct = live
            .accounts
            .values()
            .find(|a| a.name == "acct-0004")
            .unwrap();
        b.move_account(&acct.id, &acct.parent_id, &live.root.id)
            .await
            .unwrap();
        // An OU added.
        b.create_organizational_unit(&live.root.id, "Rogue")
            .await
            .unwrap();
    });

    let out = org.guardrail(&["drift", "--env", "d", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let drift: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: BTreeSet<&str> = drift["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "policy_edited",
            "attachment_added",
            "attachment_removed",
            "account_moved",
            "ou_added"
        ]
        .into()
    );
    let out = org.guardrail(&["drift", "--env", "d"]);
    assert_eq!(out.status.code(), Some(2));
    let human = text(&out.stdout);
    for needle in [
        "SCP protect-cloudtrail was edited",
        "deny-root-user is attached to ou Sandbox",
        "region-lock is missing from ou Workloads/Prod",
        "account acct-0004",
        "OU Rogue",
    ] {
        assert!(human.contains(needle), "{needle} not in:\n{human}");
    }
    let out = org.guardrail(&["drift", "--env", "d", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).starts_with("### guardrail drift: `d`"),
        "{}",
        text(&out.stdout)
    );

    let out = org.guardrail(&["apply", "--env", "d", "--auto-approve"]);
    expect_code(&out, 0);
    let out = org.guardrail(&["drift", "--env", "d"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn saved_plans_apply_exactly_and_refuse_stale_or_tampered_ones() {
    let org = Org::seed(4, 6, 5);
    assert!(org.guardrail(&["import", "--env", "s"]).status.success());
    edit(&org.path("environments/s.toml"), |s| {
        s + "\n[ous.\"Sandbox/Experiments\"]\npolicies = [\"FullAWSAccess\"]\n"
    });

    // Without a terminal and without --auto-approve, apply refuses.
    let out = org.guardrail(&["apply", "--env", "s"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no terminal to confirm on"),
        "{}",
        text(&out.stderr)
    );

    let out = org.guardrail(&["plan", "--env", "s", "--out", "s.plan"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved = std::fs::read_to_string(org.path("s.plan")).unwrap();

    // Tampered: the digest no longer matches. Exit 3: nothing written.
    std::fs::write(
        org.path("t.plan"),
        saved.replace("Sandbox/Experiments", "Sandbox/Experimentz"),
    )
    .unwrap();
    let out = org.guardrail(&["apply", "--env", "s", "t.plan"]);
    expect_code(&out, 3);
    assert!(
        text(&out.stderr).contains("modified after it was written"),
        "{}",
        text(&out.stderr)
    );

    // Forged: the changes edited and the digest recomputed (anyone can). apply plans again
    // and refuses, because the fresh changes differ from the saved ones.
    let mut forged: guardrail::plan::file::SavedPlan = serde_json::from_str(&saved).unwrap();
    forged.changes.push(guardrail::plan::Change::CreateOu {
        path: guardrail::model::OuPath::parse("Sandbox/Forged").unwrap(),
    });
    std::fs::write(org.path("f.plan"), forged.resealed().to_json()).unwrap();
    let out = org.guardrail(&["apply", "--env", "s", "f.plan"]);
    expect_code(&out, 3);
    assert!(
        text(&out.stderr).contains("saved step no longer planned"),
        "{}",
        text(&out.stderr)
    );
    let live = org.read_live();
    assert!(
        live.ous
            .values()
            .all(|o| o.name != "Forged" && o.name != "Experiments"),
        "nothing was written"
    );

    // Stale: live moved in a way that changes the plan.
    let rogue = org.out_of_band(async |b| {
        let root = b.list_roots().await.unwrap()[0].id.clone();
        b.create_organizational_unit(&root, "Rogue").await.unwrap()
    });
    let out = org.guardrail(&["apply", "--env", "s", "s.plan"]);
    expect_code(&out, 3);
    let err = text(&out.stderr);
    assert!(
        err.contains("stale") && err.contains("OU Rogue: new"),
        "{err}"
    );

    // Not stale: a comment in the config, and the environments directory spelled another way,
    // change no step.
    org.out_of_band(async |b| b.delete_organizational_unit(&rogue).await.unwrap());
    let cfg = std::fs::read_to_string(org.path("environments/s.toml")).unwrap();
    std::fs::write(
        org.path("environments/s.toml"),
        format!("{cfg}\n# a comment\n"),
    )
    .unwrap();

    // The saved steps run exactly.
    let out = org.guardrail(&[
        "--environments",
        "./environments",
        "apply",
        "--env",
        "s",
        "s.plan",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 done, 0 failed, 0 not attempted"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        org.guardrail(&["drift", "--env", "s"]).status.code(),
        Some(0)
    );
}
