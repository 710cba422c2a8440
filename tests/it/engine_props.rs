//! The policy engine's promises: compiled SCPs evaluate exactly like the guardrails they came
//! from (and a deny names the guardrails and statements of theirs that deny), never exceed a
//! limit, and compilation is deterministic; and `explain`, through the binary, names the
//! guardrail's own statement inside a merged one and the RCP layer when an RCP decides, as
//! `[[assert]]` is decided on the RCP layer too.

use std::collections::{BTreeMap, BTreeSet};

use guardrail::model::PolicyType;
use guardrail::policy::compile::{self, GuardrailInstance};
use guardrail::policy::doc;
use guardrail::policy::eval::{
    self, Decider, Decision, Effect, EvalPolicy, Level, Request, Statement,
};
use guardrail::policy::limits::LimitsTable;
use guardrail::policy::template::{self, ParamKind, ParamValue};
use proptest::prelude::*;
use serde_json::Value;

const EXEMPT: &[&str] = &[
    "arn:aws:iam::*:role/guardrail-deployer",
    "arn:aws:iam::*:role/BreakGlass",
];

/// Every shipped SCP template, instantiated with its defaults (and simple required values).
fn instances() -> Vec<GuardrailInstance> {
    let mut out = Vec::new();
    for (name, text) in template::BUILTIN {
        let t = template::parse(name, text).unwrap();
        if t.policy_type != PolicyType::ServiceControlPolicy {
            continue;
        }
        let mut values = BTreeMap::new();
        for (n, p) in &t.parameters {
            let v = p.default.clone().unwrap_or(match p.kind {
                ParamKind::String => ParamValue::String("guardrail/Boundary".into()),
                ParamKind::StringList if n == "allowed_regions" => {
                    ParamValue::List(vec!["eu-west-1".into(), "eu-central-1".into()])
                }
                ParamKind::StringList => ParamValue::List(vec!["s3:*".into(), "ec2:*".into()]),
                ParamKind::Bool => ParamValue::Bool(true),
            });
            values.insert(n.clone(), v);
        }
        let exempt: Vec<String> = EXEMPT.iter().map(|s| s.to_string()).collect();
        let statements = template::instantiate(&t, &values, &exempt).unwrap();
        out.push(GuardrailInstance {
            name: (*name).to_owned(),
            policy_type: t.policy_type,
            statements,
        });
    }
    out
}

fn full() -> EvalPolicy {
    EvalPolicy::allow_all("FullAWSAccess")
}

const ACTIONS: &[&str] = &[
    "ec2:RunInstances",
    "s3:PutObject",
    "iam:CreateRole",
    "iam:CreateUser",
    "iam:DeleteRolePermissionsBoundary",
    "cloudtrail:StopLogging",
    "cloudtrail:LookupEvents",
    "organizations:LeaveOrganization",
    "guardduty:DeleteDetector",
    "sts:AssumeRole",
    "s3:PutAccountPublicAccessBlock",
    "ec2:ModifyInstanceMetadataOptions",
    "iam:CreatePolicyVersion",
    "lambda:CreateFunction",
    "config:StopConfigurationRecorder",
    "ec2:DescribeInstances",
    "account:CloseAccount",
    "s3:DeleteBucket",
    "kms:ScheduleKeyDeletion",
    "ec2:TerminateInstances",
    "rds:DeleteDBInstance",
];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"];
const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::210987654321:role/app",
    "arn:aws:iam::210987654321:role/guardrail-deployer",
    "arn:aws:iam::210987654321:role/BreakGlass",
    "arn:aws:iam::210987654321:root",
];

fn request(a: usize, r: usize, p: usize, with_boundary: bool, tokens: bool) -> Request {
    let mut req = Request::new(ACTIONS[a % ACTIONS.len()])
        .region(REGIONS[r % REGIONS.len()])
        .principal(PRINCIPALS[p % PRINCIPALS.len()]);
    if with_boundary {
        req = req.with(
            "iam:PermissionsBoundary",
            "arn:aws:iam::210987654321:policy/guardrail/Boundary",
        );
    }
    if tokens {
        req = req
            .with("ec2:MetadataHttpTokens", "required")
            .with("aws:ResourceTag/critical", "true");
    }
    req
}

/// For each statement of a compiled policy, the instance statements it came from.
fn origins(
    p: &compile::CompiledPolicy,
    map: &BTreeMap<String, GuardrailInstance>,
) -> Vec<Vec<(String, String, Value)>> {
    let statements = p.document["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    statements
        .iter()
        .zip(&p.guardrails)
        .map(|(s, g)| {
            let names = g.as_deref().unwrap_or_default().split(", ");
            let instances = names
                .filter_map(|n| map.get(n))
                .map(|i| (i.name.as_str(), i.statements.as_slice()));
            compile::origins(s, instances)
        })
        .collect()
}

/// Every guardrail a compiled deny names has a Deny statement of its own that matches the
/// request, and every statement it names (`origin`, for a merged statement) is one of those.
fn names_its_own_denying_statement(
    d: &Decider,
    map: &BTreeMap<String, GuardrailInstance>,
    req: &Request,
) -> bool {
    let Some(named) = &d.guardrail else {
        return false;
    };
    let denying: Vec<(String, String)> = named
        .split(", ")
        .filter_map(|g| map.get(g))
        .flat_map(|inst| {
            inst.statements.iter().enumerate().filter_map(|(i, s)| {
                let st = Statement::parse(s, i);
                let sid = s["Sid"]
                    .as_str()
                    .map_or(format!("S{}", i + 1), str::to_owned);
                (st.effect == Effect::Deny && st.matches(req)).then(|| (inst.name.clone(), sid))
            })
        })
        .collect();
    let every_guardrail = named
        .split(", ")
        .all(|g| denying.iter().any(|(n, _)| n == g));
    let every_origin = d.origin.as_deref().is_none_or(|o| {
        o.split(", ")
            .all(|sid| denying.iter().any(|(_, s)| s == sid))
    });
    every_guardrail && every_origin
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn compiled_policies_decide_like_their_guardrails(
        pick in prop::collection::btree_set(0usize..16, 1..8),
        limit in 1200usize..10_240,
        reqs in prop::collection::vec((0usize..50, 0usize..4, 0usize..4, any::<bool>(), any::<bool>()), 1..40),
    ) {
        let all = instances();
        let chosen: Vec<GuardrailInstance> = pick.iter().filter_map(|i| all.get(*i).cloned()).collect();
        let set: Vec<String> = chosen.iter().map(|i| i.name.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let map: BTreeMap<String, GuardrailInstance> = chosen.iter().map(|i| (i.name.clone(), i.clone())).collect();
        let mut limits = LimitsTable::default();
        limits.scp.set("max_document_chars", limit);
        let compiled = match compile::compile(&[set.clone()].into(), &map, &limits) {
            Ok(c) => c,
            // Only a statement larger than the limit alone may fail, and it says so.
            Err(errs) => {
                prop_assert!(errs.iter().all(|e| e.to_string().contains("exceeds the SCP limit")));
                return Ok(());
            }
        };
        // Deterministic.
        prop_assert_eq!(&compiled, &compile::compile(&[set.clone()].into(), &map, &limits).unwrap());
        // Within the limit, and no more policies than needed plus one.
        let total: usize = compiled.policies.iter().map(|p| doc::sent_size(&p.document)).sum();
        for p in &compiled.policies {
            prop_assert!(doc::sent_size(&p.document) <= limit, "{} is {}", p.name, doc::sent_size(&p.document));
        }
        prop_assert!(compiled.policies.len() <= total.div_ceil(limit) + 1);
        // Same decisions.
        let raw = Level { name: "ou".into(), policies: std::iter::once(full()).chain(chosen.iter().map(|i| EvalPolicy::new(&i.name, &compile::envelope(&i.statements), vec![Some(i.name.clone()); i.statements.len()]))).collect() };
        let cmp = Level { name: "ou".into(), policies: std::iter::once(full()).chain(compiled.policies.iter().map(|p| EvalPolicy::new(&p.name, &p.document, p.guardrails.clone()).with_origins(origins(p, &map)))).collect() };
        for (a, r, p, b, t) in reqs {
            let req = request(a, r, p, b, t);
            let (x, y) = (eval::evaluate(std::slice::from_ref(&raw), &req), eval::evaluate(std::slice::from_ref(&cmp), &req));
            prop_assert_eq!(x.is_denied(), y.is_denied(), "{:?}: {:?} vs {:?}", req, x, y);
            // The compiled deny names guardrails, and statements of theirs, that deny it.
            if let Decision::Deny(d) = &y {
                prop_assert!(names_its_own_denying_statement(d, &map, &req), "{:?}: {:?}", req, d);
            }
        }
    }
}

#[test]
fn an_ou_with_every_shipped_guardrail_packs_tightly() {
    let all = instances();
    let set: Vec<String> = all.iter().map(|i| i.name.clone()).collect();
    let map: BTreeMap<String, GuardrailInstance> =
        all.iter().map(|i| (i.name.clone(), i.clone())).collect();
    let limits = LimitsTable::default();
    let c = compile::compile(&[set].into(), &map, &limits).unwrap();
    let limit = limits.scp.max_document_chars.value;
    let total: usize = all
        .iter()
        .map(|i| doc::sent_size(&compile::envelope(&i.statements)))
        .sum();
    let bound = total.div_ceil(limit) + 1;
    assert!(
        c.policies.len() <= bound,
        "{} policies; bound {bound} (total {total})",
        c.policies.len()
    );
    assert!(
        c.policies.len() < limits.scp.max_attachments_per_target.value,
        "fits beside FullAWSAccess"
    );
}

/// `explain` through the binary: protect-critical-resources' statements differ only in
/// `Action`, so the compiled policy merges them under the first one's Sid; the deny names the
/// guardrail and the statement of its own that matched (`ProtectCriticalS3` for
/// s3:DeleteBucket), beside the policy's Sid. An instance with one statement left has nothing
/// merged, and says nothing more.
#[test]
fn explain_names_the_guardrails_own_statement_inside_a_merged_one() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = r#"[organization]
management_account = "123456789012"

[guardrails.critical]
template = "protect-critical-resources"

[guardrails.critical-s3]
template = "protect-critical-resources"
services = ["s3"]

[root]
policies = ["FullAWSAccess"]

[ous."Apps"]
policies = ["FullAWSAccess"]
guardrails = ["critical"]

[accounts.app]
id = "210987654321"
ou = "Apps"
policies = ["FullAWSAccess"]

[accounts.data]
id = "210987654322"
policies = ["FullAWSAccess"]
guardrails = ["critical-s3"]
"#;
    std::fs::write(tmp.path().join("test.toml"), config).unwrap_or_else(|e| panic!("{e}"));
    let explain = |account: &str, action: &str| -> Value {
        let out = assert_cmd::Command::cargo_bin("guardrail")
            .unwrap_or_else(|e| panic!("{e}"))
            .arg("--environments")
            .arg(tmp.path())
            .args(["explain", "--env", "test", "--account", account])
            .args(["--action", action, "--format", "json"])
            .args(["--context", "aws:ResourceTag/critical=true"])
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"))
    };
    for (action, own) in [
        ("s3:DeleteBucket", "ProtectCriticalS3"),
        ("kms:ScheduleKeyDeletion", "ProtectCriticalKmsKeys"),
        ("ec2:TerminateInstances", "ProtectCriticalEc2"),
    ] {
        let v = explain("app", action);
        assert_eq!(v["decision"], "deny", "{action}: {v}");
        assert_eq!(v["guardrail"], "critical", "{action}: {v}");
        assert_eq!(v["guardrail_statement"], own, "{action}: {v}");
        // The policy's own Sid is the merged statement's, the first one merged.
        assert_eq!(
            v["statement"], "CriticalProtectCriticalEc2",
            "{action}: {v}"
        );
    }
    let v = explain("data", "s3:DeleteBucket");
    assert_eq!(v["guardrail"], "critical-s3", "{v}");
    assert_eq!(v["statement"], "CriticalS3ProtectCriticalS3", "{v}");
    assert!(
        v.get("guardrail_statement").is_none(),
        "nothing merged: {v}"
    );
}

/// An organization whose root carries the RCP guardrail `s3-perimeter` (outsiders may not
/// read the organization's S3 data), and one member account, `data`.
const PERIMETER: &str = r#"[organization]
management_account = "123456789012"

[guardrails.s3-perimeter]
template = "rcp-deny-external-s3-access"
organization_id = "o-a1b2c3d4e5"

[root]
policies = ["FullAWSAccess"]
guardrails = ["s3-perimeter"]

[accounts.data]
id = "210987654322"
policies = ["FullAWSAccess"]
"#;

/// `explain` names the RCP layer when an RCP decides: the caller is outside the organization
/// (`aws:PrincipalOrgID` of another), the resource is the account's, no SCP denies.
#[test]
fn explain_names_the_rcp_layer_when_an_rcp_decides() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(tmp.path().join("test.toml"), PERIMETER).unwrap_or_else(|e| panic!("{e}"));
    let explain = |org: &str, format: &str| -> String {
        let out = assert_cmd::Command::cargo_bin("guardrail")
            .unwrap_or_else(|e| panic!("{e}"))
            .arg("--environments")
            .arg(tmp.path())
            .args(["explain", "--env", "test", "--account", "data"])
            .args(["--action", "s3:GetObject", "--format", format])
            .args(["--resource", "arn:aws:s3:::data-bucket/report.csv"])
            .args(["--principal", "arn:aws:iam::999999999999:role/outsider"])
            .args(["--context", &format!("aws:PrincipalOrgID={org}")])
            .env_remove("AWS_ENDPOINT_URL")
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let v: Value =
        serde_json::from_str(&explain("o-zzzzzzzzzz", "json")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["decision"], "deny", "{v}");
    assert_eq!(v["layer"], "RCP", "{v}");
    assert_eq!(v["guardrail"], "s3-perimeter", "{v}");
    let human = explain("o-zzzzzzzzzz", "human");
    assert!(human.contains("RCP gr-s3-perimeter-rcp"), "{human}");
    // A caller of the organization is not denied.
    let v: Value =
        serde_json::from_str(&explain("o-a1b2c3d4e5", "json")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["decision"], "allow", "{v}");
}

/// `[[assert]]` is decided on both layers: an outsider's read of the account's bucket is
/// denied by the RCP guardrail (the assertion that says so holds; the one that says allow
/// fails, naming the RCP), an insider's is allowed.
#[test]
fn assertions_are_decided_by_rcps_too() {
    let config = format!(
        "{PERIMETER}{}",
        r#"
[[assert]]
account = "data"
action = "s3:GetObject"
principal = "arn:aws:iam::999999999999:role/outsider"
resource = "arn:aws:s3:::data-bucket/report.csv"
context = { "aws:PrincipalOrgID" = "o-zzzzzzzzzz" }
expect = "deny"

[[assert]]
account = "data"
action = "s3:GetObject"
principal = "arn:aws:iam::999999999999:role/outsider"
resource = "arn:aws:s3:::data-bucket/report.csv"
context = { "aws:PrincipalOrgID" = "o-zzzzzzzzzz" }
expect = "allow"

[[assert]]
account = "data"
action = "s3:GetObject"
resource = "arn:aws:s3:::data-bucket/report.csv"
context = { "aws:PrincipalOrgID" = "o-a1b2c3d4e5" }
expect = "allow"
"#
    );
    let no_docs = |_: &std::path::Path| -> std::io::Result<String> {
        Err(std::io::ErrorKind::NotFound.into())
    };
    let d = guardrail::config::parse(std::path::Path::new("test.toml"), &config, &no_docs)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.assertions.len(), 3);
    let failed = guardrail::plan::verify::check_assertions(&d);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].expected, "allow");
    assert!(
        failed[0].got.contains("RCP gr-s3-perimeter-rcp"),
        "{:?}",
        failed[0]
    );
}
