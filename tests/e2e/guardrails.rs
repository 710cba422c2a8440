//! Guardrails against moto: compiled policies land byte-identical and plan clean; a plan that
//! would lock out the deployer is refused before any request (in JSON too, on stdout).

use crate::{expect_code, text, Org};

fn guardrail_config(mgmt: &str, extra: &str) -> String {
    format!(
        r#"[organization]
management_account = "{mgmt}"
deployer = "arn:aws:iam::{mgmt}:role/guardrail-deployer"
break_glass = ["arn:aws:iam::*:role/BreakGlass"]

[guardrails.eu-only]
template = "region-lock"
allowed_regions = ["eu-west-1", "eu-central-1"]
[guardrails.no-root]
template = "root-user-deny"
[guardrails.audit]
template = "cloudtrail-protection"
[guardrails.detective]
template = "protect-security-services"

[root]
policies = ["FullAWSAccess"]
guardrails = ["audit", "no-root"]
[ous.Workloads]
policies = ["FullAWSAccess"]
guardrails = ["detective"]
[ous."Workloads/Prod"]
policies = ["FullAWSAccess"]
guardrails = ["eu-only", "detective"]
[ous.Sandbox]
policies = ["FullAWSAccess"]
guardrails = ["detective"]

[[assert]]
ou = "Workloads/Prod"
action = "ec2:RunInstances"
region = "us-west-2"
expect = "deny"
{extra}"#
    )
}

#[test]
fn compiled_guardrails_land_byte_identical_and_plan_clean() {
    let org = Org::bare();
    let mgmt = org.var("GUARDRAIL_DEMO_ACCOUNT");
    std::fs::create_dir_all(org.path("environments")).unwrap();
    std::fs::write(org.path("environments/g.toml"), guardrail_config(&mgmt, "")).unwrap();
    let out = org.guardrail(&["validate", "--env", "g"]);
    expect_code(&out, 0);
    let out = org.guardrail(&["apply", "--env", "g", "--auto-approve"]);
    expect_code(&out, 0);
    let desired = guardrail::config::load(&org.path("environments/g.toml")).unwrap();
    let live = org.read_live();
    let compiled: Vec<_> = desired
        .policies
        .values()
        .filter(|p| !p.guardrails.is_empty())
        .collect();
    assert_eq!(compiled.len(), 3, "root, Workloads+Sandbox (shared), Prod");
    for p in compiled {
        let l = live
            .policy_by_name(&p.name)
            .unwrap_or_else(|| panic!("{} not in moto", p.name));
        assert_eq!(
            l.content,
            guardrail::policy::doc::minify(&p.document),
            "{} byte-identical",
            p.name
        );
        assert!(guardrail::policy::marker::is_marked(&l.description));
    }
    let shared = live.policy_by_name("gr-detective").unwrap();
    assert_eq!(
        shared.targets.len(),
        2,
        "one policy shared by Workloads and Sandbox"
    );
    expect_code(
        &org.guardrail(&["plan", "--env", "g", "--detailed-exitcode"]),
        0,
    );
    let out = org.guardrail(&[
        "explain",
        "--env",
        "g",
        "--account",
        &mgmt,
        "--action",
        "ec2:RunInstances",
        "--region",
        "us-west-2",
        "--format",
        "json",
    ]);
    expect_code(&out, 0);
    assert!(
        text(&out.stdout).contains("\"decision\": \"allow\""),
        "management account unaffected"
    );
}

#[test]
fn a_plan_that_locks_out_the_deployer_is_refused_before_any_request() {
    let org = Org::bare();
    let mgmt = org.var("GUARDRAIL_DEMO_ACCOUNT");
    std::fs::create_dir_all(org.path("environments/l")).unwrap();
    std::fs::write(
        org.path("environments/l/no-iam.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoIam","Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#,
    )
    .unwrap();
    let extra = "\n[policies.no-iam]\ndocument = \"l/no-iam.json\"\n[ous.Locked]\npolicies = [\"FullAWSAccess\", \"no-iam\"]\n";
    std::fs::write(
        org.path("environments/l.toml"),
        guardrail_config(&mgmt, extra),
    )
    .unwrap();
    let out = org.guardrail(&["validate", "--env", "l"]);
    expect_code(&out, 1);
    assert!(text(&out.stdout).contains("LOCKOUT arn:aws:iam::*:role/OrganizationAccountAccessRole would be denied iam:CreatePolicy"), "{}", text(&out.stdout));
    let out = org.guardrail(&["apply", "--env", "l", "--auto-approve"]);
    expect_code(&out, 1);
    let err = text(&out.stderr);
    assert!(
        err.contains("lockout:") && err.contains("SCP no-iam, statement NoIam"),
        "{err}"
    );
    assert!(
        err.contains("Nothing was changed: no write was sent to AWS"),
        "{err}"
    );
    // The same refusal as data: JSON on stdout, lockouts grouped with arrays; stderr as above.
    let out = org.guardrail(&["plan", "--env", "l", "--format", "json"]);
    expect_code(&out, 1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    assert_eq!(
        (&v["refused"], &v["writes_sent"]),
        (&true.into(), &0.into()),
        "{v:#}"
    );
    let lockout = v["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "lockout" && r["principal"].to_string().contains("AccessRole"))
        .unwrap_or_else(|| panic!("{v:#}"));
    let actions = lockout["actions"].as_array().unwrap();
    assert!(
        actions.len() > 1 && actions.contains(&"iam:CreatePolicy".into()),
        "one entry lists the actions: {v:#}"
    );
    assert!(
        lockout["by"]
            .to_string()
            .contains("SCP no-iam, statement NoIam"),
        "{v:#}"
    );
    assert!(
        text(&out.stderr).contains("lockout:"),
        "{}",
        text(&out.stderr)
    );
    // Nothing was created.
    let live = org.read_live();
    assert!(
        live.ous.is_empty() && live.policies.len() == 1,
        "{:?}",
        live.ous
    );
}
