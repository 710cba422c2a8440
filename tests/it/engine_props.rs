//! The policy engine's promises: compiled SCPs evaluate exactly like the guardrails they came
//! from, never exceed a limit, and compilation is deterministic.

use std::collections::{BTreeMap, BTreeSet};

use guardrail::model::PolicyType;
use guardrail::policy::compile::{self, GuardrailInstance};
use guardrail::policy::doc;
use guardrail::policy::eval::{self, EvalPolicy, Level, Request};
use guardrail::policy::limits::LimitsTable;
use guardrail::policy::template::{self, ParamKind, ParamValue};
use proptest::prelude::*;

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
        req = req.with("ec2:MetadataHttpTokens", "required");
    }
    req
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn compiled_policies_decide_like_their_guardrails(
        pick in prop::collection::btree_set(0usize..10, 1..8),
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
        let cmp = Level { name: "ou".into(), policies: std::iter::once(full()).chain(compiled.policies.iter().map(|p| EvalPolicy::new(&p.name, &p.document, p.guardrails.clone()))).collect() };
        for (a, r, p, b, t) in reqs {
            let req = request(a, r, p, b, t);
            let (x, y) = (eval::evaluate(std::slice::from_ref(&raw), &req), eval::evaluate(std::slice::from_ref(&cmp), &req));
            prop_assert_eq!(x.is_denied(), y.is_denied(), "{:?}: {:?} vs {:?}", req, x, y);
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
