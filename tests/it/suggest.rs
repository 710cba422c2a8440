//! `suggest service-allowlist` end to end on the fake: an organization, activity in IAM's
//! access report, the config's current allow-list; the suggestion's exact lists, and its TOML
//! pasted into the environment parses and plans.

use std::collections::BTreeMap;
use std::path::PathBuf;

use guardrail::live::access_report::{entity_path, read_report, Polling};
use guardrail::live::access_report_fake::FakeAccessReport;
use guardrail::model::{AccessReport, Desired, LiveOrg, OuPath};
use guardrail::suggest::{self, Suggestion};
use toml_edit::{Array, DocumentMut};

use crate::access_report::{days_ago, now, org, recorder, Org};
use crate::support::{import, parse_with, rt};

const NO_DOCS: BTreeMap<PathBuf, String> = BTreeMap::new();

fn parse(text: &str) -> Desired {
    let docs: BTreeMap<PathBuf, String> = NO_DOCS;
    parse_with(text, &docs).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Replaces (or adds) the suggested instance's table in the config, as a user pasting it
/// would, and attaches it to the OU.
fn paste(config: &str, suggested: &str, ou: &str) -> String {
    let mut doc: DocumentMut = config.parse().unwrap();
    let fragment: DocumentMut = suggested.parse().unwrap();
    let (name, table) = fragment["guardrails"]
        .as_table()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    if doc.get("guardrails").is_none() {
        doc["guardrails"] = toml_edit::table();
        doc["guardrails"].as_table_mut().unwrap().set_implicit(true);
    }
    doc["guardrails"][name] = table.clone();
    let target = &mut doc["ous"][ou];
    if target.get("guardrails").is_none() {
        target["guardrails"] = toml_edit::value(Array::new());
    }
    let list = target["guardrails"].as_array_mut().unwrap();
    if !list.iter().any(|v| v.as_str() == Some(name)) {
        list.push(name);
    }
    doc.to_string()
}

/// Prod's accounts used s3, ec2 and lambda in the last 90 days, iam too (always allowed);
/// sqs only 200 days ago; the Sandbox account used cloudformation.
fn seed(o: &Org, iam: &FakeAccessReport) {
    let [a, b] = &o.prod_accounts;
    iam.record_use(a, "s3", "eu-west-1", days_ago(3), 2);
    iam.record_use(b, "ec2", "eu-central-1", days_ago(10), 1);
    iam.record_use(b, "lambda", "eu-west-1", days_ago(89), 4);
    iam.record_use(a, "iam", "us-east-1", days_ago(1), 1);
    iam.record_use(a, "sqs", "eu-west-1", days_ago(200), 1);
    iam.record_use(
        &o.sandbox_account,
        "cloudformation",
        "eu-west-1",
        days_ago(2),
        1,
    );
}

/// The report for Workloads/Prod.
async fn report_for(o: &Org) -> AccessReport {
    let iam = FakeAccessReport::new(o.fake.clone(), now());
    seed(o, &iam);
    let ou = OuPath::parse("Workloads/Prod").unwrap();
    let path = entity_path(o.fake.as_ref(), &ou).await.unwrap().unwrap();
    let (_, pause) = recorder();
    read_report(&iam, &path, Polling::default(), &pause)
        .await
        .unwrap()
}

/// The suggestion for Workloads/Prod over 90 days, with the config's current allow-list.
async fn suggest_for(o: &Org, desired: &Desired, text: &str) -> Suggestion {
    let report = report_for(o).await;
    let ou = OuPath::parse("Workloads/Prod").unwrap();
    let current = suggest::current_allowlist(desired, text, &ou);
    suggest::service_allowlist(&report, &ou, 90, current.as_ref())
}

fn allowed_services(toml: &str, name: &str) -> Vec<String> {
    let doc: DocumentMut = toml.parse().unwrap_or_else(|e| panic!("{e}\n{toml}"));
    doc["guardrails"][name]["allowed_services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn plans(text: &str, live: &LiveOrg) -> guardrail::plan::Plan {
    let desired = parse(text);
    guardrail::plan::plan(&desired, live).unwrap_or_else(|r| panic!("{r:?}\n{text}"))
}

const CURRENT: &str = r#"[guardrails.prod-services]
template = "service-allowlist"
allowed_services = ["s3:*", "ec2:RunInstances", "ec2:Describe*", "sqs:*", "dynamodb:GetItem"]
"#;

#[test]
fn narrows_the_current_allowlist_to_what_the_ou_used() {
    rt().block_on(async {
        let o = org().await;
        let (live, _, emitted) = import(&o.fake).await;
        let text = paste(&emitted.config, CURRENT, "Workloads/Prod");
        let desired = parse(&text);
        let s = suggest_for(&o, &desired, &text).await;
        assert_eq!(s.name, "prod-services");
        assert!(s.attached);
        let kept: Vec<(&str, bool)> = s
            .kept
            .iter()
            .map(|k| (k.pattern.as_str(), k.added))
            .collect();
        assert_eq!(
            kept,
            [
                ("ec2:RunInstances", false),
                ("ec2:Describe*", false),
                ("lambda:*", true),
                ("s3:*", false),
            ]
        );
        let unused: Vec<(&str, Option<_>)> = s
            .unused
            .iter()
            .map(|u| (u.pattern.as_str(), u.last_used))
            .collect();
        assert_eq!(
            unused,
            [("sqs:*", Some(days_ago(200))), ("dynamodb:GetItem", None)]
        );
        assert_eq!(s.always, ["iam"]);

        let out = suggest::render(&s);
        assert_eq!(
            allowed_services(&out, "prod-services"),
            ["ec2:RunInstances", "ec2:Describe*", "lambda:*", "s3:*"]
        );
        // Uncommenting the unused entries puts them back in the list.
        let restored = out.replace("    # \"", "    \"");
        assert_eq!(allowed_services(&restored, "prod-services").len(), 6);

        let pasted = paste(&text, &out, "Workloads/Prod");
        let plan = plans(&pasted, &live);
        let before = plans(&text, &live);
        assert_ne!(
            plan.changes, before.changes,
            "the narrowed list changes the policy"
        );
        let d = parse(&pasted);
        let statements = serde_json::to_string(&d.guardrails["prod-services"].statements).unwrap();
        assert!(
            statements.contains("lambda:*") && !statements.contains("sqs:*"),
            "{statements}"
        );
    });
}

#[test]
fn without_an_allowlist_it_writes_a_new_instance_to_attach() {
    rt().block_on(async {
        let o = org().await;
        let (live, desired, emitted) = import(&o.fake).await;
        let s = suggest_for(&o, &desired, &emitted.config).await;
        assert_eq!(s.name, "service-allowlist-workloads-prod");
        assert!(!s.attached && s.unused.is_empty());
        let out = suggest::render(&s);
        assert_eq!(
            allowed_services(&out, &s.name),
            ["ec2:*", "lambda:*", "s3:*"],
            "{out}"
        );
        assert!(out.contains(r#"add "service-allowlist-workloads-prod" to `guardrails` in [ous."Workloads/Prod"]"#), "{out}");
        let used = 4; // s3, ec2, lambda, iam
        assert_eq!(s.not_used_count, guardrail::policy::iam::catalogue().services().len() - used);

        let pasted = paste(&emitted.config, &out, "Workloads/Prod");
        let plan = plans(&pasted, &live);
        let text = format!("{:?}", plan.changes);
        assert!(text.contains("gr-"), "the guardrail's policy is created and attached: {text}");
    });
}

#[test]
fn a_hostile_value_stays_inside_its_toml_string() {
    rt().block_on(async {
        let o = org().await;
        let report = report_for(&o).await;
        let hostile = "x\"]\n[evil]\u{202e}\n:*";
        let current = suggest::Current {
            name: "prod-services".into(),
            allowed_services: vec!["s3:*".into(), hostile.into()],
            always_allowed: Some(vec!["iam:*".into(), "y\"]\n[worse]".into()]),
        };
        let ou = OuPath::parse("Work\"loads/Prod\n[ou]").unwrap();
        let s = suggest::service_allowlist(&report, &ou, 90, Some(&current));
        let out = suggest::render(&s);
        let doc: DocumentMut = out.parse().unwrap_or_else(|e| panic!("{e}\n{out}"));
        let tables: Vec<&str> = doc.iter().map(|(k, _)| k).collect();
        assert_eq!(tables, ["guardrails"], "{out}");
        assert_eq!(s.unused[0].pattern, hostile);
        assert!(!out.contains('\u{202e}'), "shown escaped: {out}");
        let always = doc["guardrails"]["prod-services"]["always_allowed"]
            .as_array()
            .unwrap();
        assert_eq!(
            always.get(1).and_then(|v| v.as_str()),
            Some("y\"]\n[worse]")
        );
    });
}

/// The binary refuses a bad window or OU path before reading anything.
#[test]
fn the_command_checks_its_options_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    for (days, code, needle) in [
        ("0", 2, "--days"),
        ("401", 2, "--days"),
        ("ninety", 2, "--days"),
    ] {
        let out = assert_cmd::Command::cargo_bin("guardrail")
            .unwrap()
            .args(["suggest", "service-allowlist", "--env", "x", "--ou", "A"])
            .args(["--days", days, "--environments"])
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{days}: {stderr}");
        assert!(
            stderr.contains(needle) && stderr.contains("1 to 400"),
            "{stderr}"
        );
    }
    let out = assert_cmd::Command::cargo_bin("guardrail")
        .unwrap()
        .args(["suggest", "service-allowlist", "--env", "x", "--ou", "A//B"])
        .arg("--environments")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not an OU path"), "{stderr}");
}
