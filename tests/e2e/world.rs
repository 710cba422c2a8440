//! End-to-end on a realistic world (`live::world`, built in moto by `guardrail-demo seed
//! --world`): RCPs enabled with RCPFullAWSAccess everywhere, tag and AI opt-out policies,
//! Control Tower SCPs, an OU at exactly 10 SCPs and one at 5 RCPs, foreign and legacy-marked
//! policies, names that need quoting. moto does not enforce attachment limits, so the limit is
//! checked by replaying every write the recording proxy saw.

use std::collections::BTreeMap;

use guardrail::live::OrgBackend;
use guardrail::model::{LiveOrg, PolicyType};

use super::{edit, expect_code, moto, proxy, text, Org};

/// The most policies of each managed type any target held after any accepted write (replayed
/// from the proxy's journal).
fn replay_peaks(initial: &LiveOrg, log: &[proxy::Record]) -> BTreeMap<(String, PolicyType), usize> {
    let mut peaks: BTreeMap<(String, PolicyType), usize> = BTreeMap::new();
    for snap in super::replay::snapshots(initial, log) {
        let mut counts: BTreeMap<(String, PolicyType), usize> = BTreeMap::new();
        for p in snap
            .policies
            .values()
            .filter(|p| p.policy_type.is_managed())
        {
            for t in &p.targets {
                *counts.entry((t.clone(), p.policy_type)).or_default() += 1;
            }
        }
        for (k, n) in counts {
            let peak = peaks.entry(k).or_default();
            *peak = (*peak).max(n);
        }
    }
    peaks
}

/// Rewrites the `policies = [...]` line right under `section` in an imported config.
fn edit_list(s: &str, section: &str, f: impl FnOnce(&str) -> String) -> String {
    let at = s
        .find(&format!("{section}\npolicies = ["))
        .expect("the section is in the config");
    let start = at + section.len() + 1;
    let end = start + s[start..].find('\n').unwrap();
    let line = f(&s[start..end]);
    assert_ne!(line, s[start..end], "the edit changed {section}");
    format!("{}{}{}", &s[..start], line, &s[end..])
}

#[test]
fn a_real_world_plans_clean_swaps_at_its_limit_and_reports_console_drift() {
    let org = Org::seed_with(&["--world", "--accounts", "8"]);
    expect_code(&org.guardrail(&["import", "--env", "w"]), 0);
    // import then plan is empty: RCPs, tag and AI opt-out policies, Control Tower.
    let out = org.guardrail(&["plan", "--env", "w", "--detailed-exitcode"]);
    expect_code(&out, 0);
    assert!(
        text(&out.stdout).contains("Control Tower"),
        "{}",
        text(&out.stdout)
    );

    // Swap a policy on the OU at exactly 10 SCPs, and replace FullAWSAccess by the
    // allow-list on Finance Ops.
    std::fs::write(
        org.path("environments/w/swapped-in.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Swap","Effect":"Deny","Action":"ec2:DeleteSnapshot","Resource":"*"}]}"#,
    )
    .unwrap();
    edit(&org.path("environments/w.toml"), |s| {
        let s = edit_list(&s, "[ous.\"Limits/SCP full\"]", |l| {
            l.replace("\"limit-06\"", "\"swapped-in\"")
        });
        let s = edit_list(&s, "[ous.\"Finance Ops\"]", |l| {
            l.replace("\"FullAWSAccess\", ", "")
        });
        s + "\n[policies.swapped-in]\ndocument = \"w/swapped-in.json\"\n"
    });
    let initial = org.read_live();
    let full_ou = initial
        .ou_ids_by_path()
        .get(&guardrail::model::OuPath::parse("Limits/SCP full").unwrap())
        .cloned()
        .unwrap();
    let proxy = proxy::Proxy::start(&moto::moto().endpoint, 1, 0);
    let out = org.guardrail_via(&proxy.endpoint, &["apply", "--env", "w", "--auto-approve"]);
    expect_code(&out, 0);
    let log = proxy.log();
    let violations = super::replayed_violations(&org, "w", &initial, &log);
    assert!(violations.is_empty(), "{violations:#?}");
    let peaks = replay_peaks(&initial, &log);
    assert_eq!(
        peaks.get(&(full_ou.clone(), PolicyType::ServiceControlPolicy)),
        Some(&10),
        "the swap ran at the limit"
    );
    expect_code(
        &org.guardrail(&["plan", "--env", "w", "--detailed-exitcode"]),
        0,
    );

    // FullAWSAccess left Finance Ops: the allow-list is what is in force there.
    let after = org.read_live();
    let finance = after
        .ou_ids_by_path()
        .get(&guardrail::model::OuPath::parse("Finance Ops").unwrap())
        .cloned()
        .unwrap();
    let on: Vec<&str> = after
        .policies_on(&finance)
        .map(|p| p.name.as_str())
        .collect();
    assert!(
        !on.contains(&"FullAWSAccess") && on.contains(&"allow-list"),
        "{on:?}"
    );

    // An SCP made in the console and attached to a managed OU is drift.
    expect_code(&org.guardrail(&["drift", "--env", "w"]), 0);
    org.out_of_band(async |b| {
        let p = b
            .create_policy(
                PolicyType::ServiceControlPolicy,
                "console-made",
                "clicked together",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}"#,
            )
            .await
            .unwrap();
        b.attach_policy(&p, &finance).await.unwrap();
    });
    let out = org.guardrail(&["drift", "--env", "w"]);
    expect_code(&out, 2);
    assert!(
        text(&out.stdout).contains("console-made") && text(&out.stdout).contains("Finance Ops"),
        "{}",
        text(&out.stdout)
    );
}

/// Two applies at once (two merges in quick succession): the organization lock lets one
/// write; the other either waits it out and finds nothing left to do, or gives up saying who
/// holds the lock. Every new OU exists once.
#[test]
fn two_concurrent_applies_never_both_write() {
    let org = Org::seed(6, 6, 5);
    expect_code(&org.guardrail(&["import", "--env", "c"]), 0);
    edit(&org.path("environments/c.toml"), |s| {
        s + "\n[ous.Concurrent]\npolicies = [\"FullAWSAccess\", \"deny-leave-org\"]\n[ous.\"Concurrent/Inner\"]\npolicies = [\"FullAWSAccess\"]\n"
    });
    let spawn = || {
        let mut c = org.command_via(
            &org.var("AWS_ENDPOINT_URL"),
            &[
                "apply",
                "--env",
                "c",
                "--auto-approve",
                "--lock-timeout",
                "0",
            ],
        );
        c.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let wrote: Vec<bool> = outs
        .iter()
        .map(|o| text(&o.stdout).contains(" done, 0 failed"))
        .collect();
    for o in &outs {
        let err = text(&o.stderr);
        let ok = o.status.code() == Some(0) || err.contains("holds the organization lock");
        assert!(ok, "{err}");
    }
    assert_eq!(
        wrote.iter().filter(|w| **w).count(),
        1,
        "exactly one apply wrote: {:?}",
        outs.iter().map(|o| text(&o.stderr)).collect::<Vec<_>>()
    );
    let live = org.read_live();
    let concurrent: Vec<_> = live
        .ous
        .values()
        .filter(|o| o.name == "Concurrent")
        .collect();
    assert_eq!(concurrent.len(), 1);
    expect_code(
        &org.guardrail(&["plan", "--env", "c", "--detailed-exitcode"]),
        0,
    );
    // No lock is left behind.
    let tags = org.out_of_band(async |b| b.list_tags_for_resource(&live.root.id).await.unwrap());
    assert!(
        tags.iter()
            .all(|(k, _)| !k.starts_with(guardrail::lock::KEY_PREFIX)),
        "{tags:?}"
    );
}

/// An organization with SCPs, RCPs, tag and AI opt-out policies (the management types moto
/// implements) imports, plans empty and round-trips an edit through the real binary: a new tag
/// policy attached to an OU, the AI opt-out policy moved from the root to an OU; then drift is
/// clean.
#[test]
fn tag_and_ai_opt_out_policies_round_trip_on_moto() {
    let org = Org::seed_with(&["--world", "--accounts", "4"]);
    expect_code(&org.guardrail(&["import", "--env", "t"]), 0);
    let cfg = std::fs::read_to_string(org.path("environments/t.toml")).unwrap();
    // All four types: SCPs (the default type, no `type` key), RCPs, tag and AI opt-out.
    assert!(
        cfg.contains("type = \"TAG_POLICY\"")
            && cfg.contains("type = \"AISERVICES_OPT_OUT_POLICY\"")
            && cfg.contains("type = \"rcp\"")
            && cfg.contains("[policies.rcp-tls-0]"),
        "{cfg}"
    );
    let scps = cfg
        .split("\n[policies.")
        .skip(1)
        .filter(|t| !t.contains("\ntype = "))
        .count();
    assert!(scps > 0, "no SCP imported: {cfg}");
    expect_code(
        &org.guardrail(&["plan", "--env", "t", "--detailed-exitcode"]),
        0,
    );
    std::fs::write(
        org.path("environments/t/env-tags.json"),
        r#"{"tags":{"environment":{"tag_key":{"@@assign":"Environment"},"tag_value":{"@@assign":["prod","dev"]}}}}"#,
    )
    .unwrap();
    edit(&org.path("environments/t.toml"), |s| {
        let s = edit_list(&s, "[ous.Infrastructure]", |l| {
            l.replacen('[', "[\"env-tags\", \"ai-opt-out\", ", 1)
        });
        let s = edit_list(&s, "[root]", |l| l.replace("\"ai-opt-out\", ", ""));
        s + "\n[policies.env-tags]\ntype = \"TAG_POLICY\"\ndocument = \"t/env-tags.json\"\n"
    });
    let out = org.guardrail(&["plan", "--env", "t", "--detailed-exitcode"]);
    expect_code(&out, 2);
    let plan = text(&out.stdout);
    assert!(plan.contains("create tag policy env-tags"), "{plan}");
    expect_code(
        &org.guardrail(&["apply", "--env", "t", "--auto-approve"]),
        0,
    );
    expect_code(
        &org.guardrail(&["plan", "--env", "t", "--detailed-exitcode"]),
        0,
    );
    // moto 5.2 does not implement AWS's validation of effective policies: drift says so and
    // does not fail (on AWS, or the fake, an invalid effective policy makes drift exit 2).
    let out = org.guardrail(&["drift", "--env", "t"]);
    expect_code(&out, 0);
    assert!(
        text(&out.stdout).contains("Effective policies not validated"),
        "{}",
        text(&out.stdout)
    );
}

/// Removes policy `name` from an imported config: its `[policies]` table and every target's
/// list (the edit a platform team makes to retire a policy).
fn drop_policy(s: &str, name: &str) -> String {
    let mut doc: toml_edit::DocumentMut = s.parse().unwrap();
    let dropped = doc["policies"]
        .as_table_like_mut()
        .and_then(|t| t.remove(name));
    assert!(dropped.is_some(), "{name} is in the config");
    let unlist = |t: &mut dyn toml_edit::TableLike| {
        if let Some(a) = t.get_mut("policies").and_then(|p| p.as_array_mut()) {
            a.retain(|v| v.as_str() != Some(name));
        }
    };
    if let Some(t) = doc["root"].as_table_like_mut() {
        unlist(t);
    }
    for section in ["ous", "accounts"] {
        if let Some(all) = doc[section].as_table_like_mut() {
            for (_, item) in all.iter_mut() {
                if let Some(t) = item.as_table_like_mut() {
                    unlist(t);
                }
            }
        }
    }
    doc.to_string()
}

/// A policy import took over (made in the console, so unmarked) and the config later drops
/// is detached everywhere and deleted, like one guardrail created: import lists it in
/// `organization.owned_policy_ids`. Another environment's policy stays.
#[test]
fn an_imported_policy_dropped_from_the_config_is_deleted_on_moto() {
    let org = Org::seed_with(&["--world", "--accounts", "6"]);
    expect_code(&org.guardrail(&["import", "--env", "d"]), 0);
    let before = org.read_live();
    let id = |live: &LiveOrg, name: &str| {
        live.policies
            .values()
            .find(|p| p.name == name)
            .map(|p| p.id.clone())
    };
    let limit = id(&before, "limit-06").expect("the world has limit-06");
    let config = std::fs::read_to_string(org.path("environments/d.toml")).unwrap();
    assert!(
        config.contains("owned_policy_ids") && config.contains(&format!("\"{limit}\"")),
        "{config}"
    );
    edit(&org.path("environments/d.toml"), |s| {
        drop_policy(&s, "limit-06")
    });
    let out = org.guardrail(&["plan", "--env", "d"]);
    expect_code(&out, 0);
    assert!(
        text(&out.stdout).contains("limit-06"),
        "{}",
        text(&out.stdout)
    );
    expect_code(
        &org.guardrail(&["apply", "--env", "d", "--auto-approve"]),
        0,
    );
    let after = org.read_live();
    assert_eq!(id(&after, "limit-06"), None, "limit-06 was deleted");
    assert!(
        id(&after, "staging-guard").is_some(),
        "another environment's policy stays"
    );
    expect_code(
        &org.guardrail(&["plan", "--env", "d", "--detailed-exitcode"]),
        0,
    );
}
