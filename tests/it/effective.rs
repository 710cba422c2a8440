//! The effective management policy (`policy::effective`): AWS's documented inheritance
//! examples as fixtures (reworded), and an account's effective tag policy through an imported
//! and edited config, `plan::projected` and the binary. The property test against a second
//! implementation is in `effective_props.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use guardrail::live::fake::FakeOrg;
use guardrail::live::OrgBackend;
use guardrail::model::PolicyType;
use guardrail::policy::effective::{effective, Attached, Effective, Level, Operator, Problem};
use serde_json::{json, Value};

use crate::support::{import, parse_with, rt};

fn level(target: &str, policies: &[(&str, Value)]) -> Level {
    Level {
        target: target.to_owned(),
        policies: policies
            .iter()
            .map(|(n, d)| Attached {
                name: (*n).to_owned(),
                document: d.clone(),
            })
            .collect(),
    }
}

/// The effective policy of one of AWS's documented examples, after checking that the second
/// implementation (`effective_props::simple`, written from the same rules) gives the same
/// document and refuses the same operators: the documented examples are fixtures for both,
/// so the property test compares two implementations that each reproduce AWS's results.
fn documented(levels: &[Level]) -> Effective {
    let plain: Vec<Vec<(String, Value)>> = levels
        .iter()
        .map(|l| {
            l.policies
                .iter()
                .map(|p| (p.name.clone(), p.document.clone()))
                .collect()
        })
        .collect();
    if let Err(e) = crate::effective_props::agrees_with_simple(&plain, "documented example") {
        panic!("the two implementations disagree on a documented example: {e}");
    }
    effective(levels)
}

/// The root policy most examples start from: one tag key, two accepted values.
fn team_root() -> Value {
    json!({"tags": {"team": {
        "tag_key": {"@@assign": "Team"},
        "tag_value": {"@@assign": ["Blue", "Green"]}
    }}})
}

#[test]
fn a_child_assign_replaces_inherited_values_and_adds_new_settings() {
    let child = json!({"tags": {"team": {
        "tag_key": {"@@assign": "Team"},
        "tag_value": {"@@assign": ["Red"]},
        "enforced_for": {"@@assign": ["ec2:instance", "s3:bucket"]}
    }}});
    let e = documented(&[
        level("root", &[("root-tags", team_root())]),
        level("ou /Dev", &[("dev-tags", child)]),
        level("account 111111111111", &[]),
    ]);
    assert_eq!(
        e.document,
        json!({"tags": {"team": {
            "tag_key": "Team",
            "tag_value": ["Red"],
            "enforced_for": ["ec2:instance", "s3:bucket"]
        }}})
    );
    assert!(e.findings.is_empty(), "{:?}", e.findings);
}

#[test]
fn append_adds_to_inherited_lists_and_creates_missing_ones() {
    let child = json!({"tags": {"team": {
        "tag_value": {"@@append": ["Yellow", "Blue"]},
        "enforced_for": {"@@append": ["ec2:volume"]}
    }}});
    let e = documented(&[
        level("root", &[("root-tags", team_root())]),
        level("ou /Ops", &[("ops-tags", child)]),
    ]);
    assert_eq!(
        e.document,
        json!({"tags": {"team": {
            "tag_key": "Team",
            "tag_value": ["Blue", "Green", "Yellow"],
            "enforced_for": ["ec2:volume"]
        }}})
    );
}

#[test]
fn remove_takes_values_out_and_an_emptied_list_disappears() {
    // AWS's third example: the OU appended a value and an enforcement, the account removes
    // one inherited value, one value it never had, and the whole enforcement.
    let ou = json!({"tags": {"team": {
        "tag_value": {"@@append": ["Yellow"]},
        "enforced_for": {"@@append": ["ec2:volume", "s3:bucket"]}
    }}});
    let account = json!({"tags": {"team": {
        "tag_value": {"@@remove": ["Blue", "Yellow", "Purple"]},
        "enforced_for": {"@@remove": ["ec2:volume", "s3:bucket"]}
    }}});
    let e = documented(&[
        level("root", &[("root-tags", team_root())]),
        level("ou /Ops", &[("ops-tags", ou)]),
        level("account 999999999999", &[("acct-tags", account)]),
    ]);
    assert_eq!(
        e.document,
        json!({"tags": {"team": {"tag_key": "Team", "tag_value": ["Green"]}}})
    );
}

#[test]
fn a_parent_locks_a_setting_and_allows_only_appends_to_another() {
    let root = json!({"tags": {"project": {
        "tag_key": {"@@operators_allowed_for_child_policies": ["@@none"], "@@assign": "Project"},
        "tag_value": {
            "@@operators_allowed_for_child_policies": ["@@append"],
            "@@assign": ["Upkeep", "Incidents"]
        }
    }}});
    let child = json!({"tags": {"project": {
        "tag_key": {"@@assign": "PROJECT"},
        "tag_value": {"@@append": ["Incidents - research"], "@@remove": ["Upkeep"]}
    }}});
    let e = documented(&[
        level("root", &[("root-tags", root)]),
        level("ou /Research", &[("research-tags", child)]),
    ]);
    assert_eq!(
        e.document,
        json!({"tags": {"project": {
            "tag_key": "Project",
            "tag_value": ["Upkeep", "Incidents", "Incidents - research"]
        }}})
    );
    let refused: Vec<(&str, &Problem)> = e
        .findings
        .iter()
        .map(|f| (f.path.as_str(), &f.problem))
        .collect();
    assert_eq!(
        refused,
        vec![
            (
                "tags.project.tag_key",
                &Problem::NotAllowed(Operator::Assign)
            ),
            (
                "tags.project.tag_value",
                &Problem::NotAllowed(Operator::Remove)
            ),
        ]
    );
    assert!(e.findings.iter().all(|f| f.policy == "research-tags"));
}

#[test]
fn limits_set_at_one_level_intersect_and_bind_only_the_levels_below() {
    // Two root policies: one allows appends only, the other appends and removes. Children may
    // append, not remove; the two root policies do not limit each other.
    let g = json!({"tags": {"project": {"tag_value": {
        "@@operators_allowed_for_child_policies": ["@@append"],
        "@@assign": ["Upkeep"]
    }}}});
    let h = json!({"tags": {"project": {"tag_value": {
        "@@operators_allowed_for_child_policies": ["@@append", "@@remove"],
        "@@append": ["Audit"]
    }}}});
    let child = json!({"tags": {"project": {"tag_value": {
        "@@append": ["Research"],
        "@@remove": ["Upkeep"]
    }}}});
    let e = documented(&[
        level("root", &[("g", g), ("h", h)]),
        level("account 111111111111", &[("child", child)]),
    ]);
    assert_eq!(
        e.document,
        json!({"tags": {"project": {"tag_value": ["Upkeep", "Audit", "Research"]}}})
    );
    assert_eq!(e.findings.len(), 1, "{:?}", e.findings);
    assert_eq!(e.findings[0].problem, Problem::NotAllowed(Operator::Remove));
}

#[test]
fn at_one_level_the_first_policy_attached_wins_a_conflict() {
    let j = json!({"tags": {"project": {
        "tag_key": {"@@assign": "PROJECT"},
        "tag_value": {"@@append": ["Upkeep"]}
    }}});
    let k = json!({"tags": {"project": {"tag_key": {"@@assign": "project"}}}});
    let e = documented(&[level("root", &[("j", j), ("k", k)])]);
    assert_eq!(
        e.document,
        json!({"tags": {"project": {"tag_key": "PROJECT", "tag_value": ["Upkeep"]}}})
    );
    assert_eq!(
        e.findings[0].problem,
        Problem::ConflictAtLevel { kept: "j".into() }
    );
    assert_eq!(e.findings[0].policy, "k");
}

#[test]
fn a_lock_on_an_inner_node_covers_everything_beneath_it() {
    // Backup-policy shape: the root locks one plan; a child may still add another plan.
    let root = json!({"plans": {"pii": {
        "@@operators_allowed_for_child_policies": ["@@none"],
        "regions": {"@@assign": ["eu-west-1"]},
        "rules": {"daily": {"schedule_expression": {"@@assign": "cron(0 5 ? * * *)"}}}
    }}});
    let child = json!({"plans": {
        "pii": {
            "regions": {"@@append": ["us-east-1"]},
            "rules": {"hourly": {"schedule_expression": {"@@assign": "cron(0 * ? * * *)"}}}
        },
        "logs": {"regions": {"@@assign": ["us-east-1"]}}
    }});
    let e = documented(&[
        level("root", &[("root-backup", root)]),
        level("ou /Data", &[("data-backup", child)]),
    ]);
    assert_eq!(
        e.document,
        json!({"plans": {
            "pii": {
                "regions": ["eu-west-1"],
                "rules": {"daily": {"schedule_expression": "cron(0 5 ? * * *)"}}
            },
            "logs": {"regions": ["us-east-1"]}
        }})
    );
    assert_eq!(e.findings.len(), 2, "{:?}", e.findings);
}

#[test]
fn malformed_operators_are_findings_and_a_plain_value_is_an_assign() {
    let doc = json!({"ai": {
        "opt_out_policy": "optOut",
        "x": {"@@append": "one", "@@merge": ["a"]},
        "y": {"@@operators_allowed_for_child_policies": ["@@everything"]}
    }});
    let e = effective(&[level("root", &[("p", doc)])]);
    assert_eq!(e.document, json!({"ai": {"opt_out_policy": "optOut"}}));
    let problems: BTreeSet<String> = e.findings.iter().map(|f| f.problem.to_string()).collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    let scalar = effective(&[
        level("root", &[("a", json!({"k": {"@@assign": "v"}}))]),
        level("account 1", &[("b", json!({"k": {"@@append": ["w"]}}))]),
    ]);
    assert_eq!(scalar.document, json!({"k": "v"}));
    assert_eq!(
        scalar.findings[0].problem,
        Problem::NotMultiValued(Operator::Append)
    );
    let not_object = effective(&[level("root", &[("c", json!(["x"]))])]);
    assert_eq!(not_object.document, json!({}));
    assert_eq!(not_object.findings[0].problem, Problem::NotAnObject);
}

// ---- through the config ---------------------------------------------------------------------

#[test]
fn an_accounts_effective_tag_policy_from_the_config() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.enable_policy_type(&root, PolicyType::TagPolicy)
            .await
            .unwrap();
        let ou = f.create_organizational_unit(&root, "Prod").await.unwrap();
        let acct = f.add_account("web", "web@example.com", &ou).await.unwrap();
        let (_live, _, emitted) = import(&f).await;
        let mut docs: BTreeMap<PathBuf, String> = emitted.documents.iter().cloned().collect();
        docs.insert("test/root-tags.json".into(), team_root().to_string());
        docs.insert(
            "test/prod-tags.json".into(),
            json!({"tags": {"team": {"tag_value": {"@@append": ["Prod"]}}}}).to_string(),
        );
        let config = emitted
            .config
            .replace(
                "[ous.Prod]\npolicies = [\"FullAWSAccess\"]",
                "[ous.Prod]\npolicies = [\"FullAWSAccess\", \"prod-tags\"]",
            )
            .replacen(
                "policies = [\"FullAWSAccess\"]",
                "policies = [\"FullAWSAccess\", \"root-tags\"]",
                1,
            )
            + "\n[policies.root-tags]\ntype = \"TAG_POLICY\"\ndocument = \"test/root-tags.json\"\n"
            + "\n[policies.prod-tags]\ntype = \"TAG_POLICY\"\ndocument = \"test/prod-tags.json\"\n";
        let desired = parse_with(&config, &docs).unwrap_or_else(|e| panic!("{e}\n{config}"));
        let (id, levels) =
            guardrail::policy::effective::account_levels(&desired, &acct, PolicyType::TagPolicy)
                .expect("the account is in the config");
        assert_eq!(id, acct);
        let targets: Vec<&str> = levels.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(targets, vec!["root", "ou Prod", &format!("account {acct}")]);
        let e = effective(&levels);
        assert_eq!(
            e.document,
            json!({"tags": {"team": {"tag_key": "Team", "tag_value": ["Blue", "Green", "Prod"]}}})
        );
        // SCPs on the same levels are not part of it.
        assert!(levels
            .iter()
            .flat_map(|l| &l.policies)
            .all(|p| p.name.ends_with("-tags")));
    });
}

// ---- through the binary, offline --------------------------------------------------------------

#[test]
fn explain_prints_an_accounts_effective_tag_policy_without_aws() {
    let tmp = tempfile::tempdir().unwrap();
    let env = tmp.path().join("environments");
    std::fs::create_dir_all(env.join("docs")).unwrap();
    std::fs::write(env.join("docs/root.json"), team_root().to_string()).unwrap();
    std::fs::write(
        env.join("docs/prod.json"),
        json!({"tags": {"team": {"tag_key": {"@@assign": "TEAM"}, "tag_value": {"@@append": ["Prod"]}}}})
            .to_string(),
    )
    .unwrap();
    let root_lock = json!({"tags": {"team": {
        "tag_key": {"@@operators_allowed_for_child_policies": ["@@none"], "@@assign": "Team"}
    }}});
    std::fs::write(env.join("docs/lock.json"), root_lock.to_string()).unwrap();
    std::fs::write(
        env.join("test.toml"),
        r#"[organization]
management_account = "123456789012"

[policies.a-root-tags]
type = "TAG_POLICY"
document = "docs/root.json"

[policies.b-root-lock]
type = "TAG_POLICY"
document = "docs/lock.json"

[policies.prod-tags]
type = "TAG_POLICY"
document = "docs/prod.json"

[root]
policies = ["FullAWSAccess", "a-root-tags", "b-root-lock"]

[ous."Prod"]
policies = ["FullAWSAccess", "prod-tags"]

[accounts.web]
id = "210987654321"
ou = "Prod"
policies = ["FullAWSAccess"]
"#,
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut cmd = assert_cmd::Command::cargo_bin("guardrail").unwrap();
        cmd.arg("--environments")
            .arg(&env)
            .args(["explain", "--env", "test", "--account", "web"])
            .args(extra)
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_ACCESS_KEY_ID", "none")
            .env("AWS_SECRET_ACCESS_KEY", "none");
        cmd.output().unwrap()
    };
    let out = run(&["--policy-type", "TAG_POLICY"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc,
        json!({"tags": {"team": {"tag_key": "Team", "tag_value": ["Blue", "Green", "Prod"]}}})
    );
    assert!(stderr.contains("TAG_POLICY ou Prod: prod-tags"), "{stderr}");
    assert!(
        stderr.contains("warning: policy `prod-tags`, tags.team.tag_key"),
        "{stderr}"
    );

    let out = run(&["--policy-type", "TAG_POLICY", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account"], "210987654321");
    assert_eq!(
        v["levels"][0]["policies"],
        json!(["a-root-tags", "b-root-lock"])
    );
    assert_eq!(v["effective_policy"]["tags"]["team"]["tag_key"], "Team");
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(1));

    let out = run(&["--policy-type", "SERVICE_CONTROL_POLICY"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a management policy type"));
    let out = run(&[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap requires --action or --policy-type"
    );
}

#[test]
fn with_live_an_unmanaged_tag_policy_that_stays_is_part_of_the_effective_policy() {
    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        f.enable_policy_type(&root, PolicyType::TagPolicy)
            .await
            .unwrap();
        let acct = f
            .add_account("web", "web@example.com", &root)
            .await
            .unwrap();
        let (_, desired, _) = import(&f).await;
        // Attached by hand after the import: unmanaged, and apply never detaches it.
        let console = json!({"tags": {"owner": {"tag_key": {"@@assign": "Owner"}}}});
        let p = f
            .create_policy(
                PolicyType::TagPolicy,
                "console-tags",
                "",
                &console.to_string(),
            )
            .await
            .unwrap();
        f.attach_policy(&p, &root).await.unwrap();
        let live = crate::support::read(&f).await;
        let offline =
            guardrail::policy::effective::account_levels(&desired, &acct, PolicyType::TagPolicy)
                .unwrap()
                .1;
        assert_eq!(effective(&offline).document, json!({}));
        let projected = guardrail::plan::projected(&desired, &live);
        let (_, levels) =
            guardrail::policy::effective::account_levels(&projected, &acct, PolicyType::TagPolicy)
                .unwrap();
        assert_eq!(
            effective(&levels).document,
            json!({"tags": {"owner": {"tag_key": "Owner"}}})
        );
    });
}
