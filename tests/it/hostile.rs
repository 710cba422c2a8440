//! Hostile input: arbitrary and mutated bytes into the config parser, the policy parser (and
//! everything downstream of it: normal form, lint, evaluation, compilation) and the saved-plan
//! reader. No panic, no hang; every config error has a location; a tampered plan is refused.

use std::collections::BTreeMap;
use std::path::PathBuf;

use guardrail::model::PolicyType;
use guardrail::plan::file::SavedPlan;
use guardrail::policy::{doc, eval, lint, template};
use proptest::prelude::*;

use crate::support::{import, parse_with, rt};

const VALID: &str = r#"[organization]
management_account = "123456789012"
deployer = "arn:aws:iam::123456789012:role/d"
[policies.p]
document = "p.json"
[guardrails.eu]
template = "region-lock"
allowed_regions = ["eu-west-1"]
[root]
policies = ["FullAWSAccess", "p"]
guardrails = ["eu"]
[ous."A/B"]
policies = ["FullAWSAccess"]
[ous.A]
policies = ["FullAWSAccess"]
[accounts.x]
id = "210987654321"
ou = "A/B"
[[assert]]
ou = "A"
action = "ec2:RunInstances"
region = "us-west-2"
expect = "deny"
"#;

const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Action":["s3:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}"#;

/// A string with random edits: deletions, insertions of TOML/JSON punctuation, duplications.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            0usize..10_000,
            0u8..6,
            prop::sample::select(vec![
                "[", "]", "\"", "=", "{", "}", ",", "\n", "/", "*", "\\", "\u{0}", "é", "${x}",
                "[[", "::",
            ]),
        ),
        0..12,
    )
    .prop_map(move |edits| {
        let mut s: Vec<char> = base.chars().collect();
        for (pos, kind, ins) in edits {
            if s.is_empty() {
                s.extend(ins.chars());
                continue;
            }
            let p = pos % s.len();
            match kind {
                0 | 1 => {
                    let end = (p + 1 + pos % 7).min(s.len());
                    s.drain(p..end);
                }
                2..=4 => {
                    for (i, c) in ins.chars().enumerate() {
                        s.insert(p + i, c);
                    }
                }
                _ => {
                    let end = (p + 12).min(s.len());
                    let chunk: Vec<char> = s[p..end].to_vec();
                    for (i, c) in chunk.into_iter().enumerate() {
                        s.insert(p + i, c);
                    }
                }
            }
        }
        s.into_iter().collect()
    })
}

fn docs(d: &str) -> BTreeMap<PathBuf, String> {
    [(PathBuf::from("p.json"), d.to_owned())].into()
}

fn check_config(text: &str, d: &str) {
    if let Err(errs) = parse_with(text, &docs(d)) {
        assert!(!errs.0.is_empty());
        for e in &errs.0 {
            assert!(e.line >= 1 && e.column >= 1, "{e}");
            assert!(!e.key.is_empty(), "{e}");
            assert!(e.to_string().starts_with("environments/test.toml:"), "{e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn config_parser_never_panics_on_mutations(text in mutated(VALID)) {
        check_config(&text, DOC);
    }

    #[test]
    fn config_parser_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check_config(&String::from_utf8_lossy(&bytes), DOC);
    }

    #[test]
    fn policy_documents_never_panic_downstream(text in mutated(DOC)) {
        check_config(VALID, &text);
        if let Ok(v) = doc::parse(&text) {
            let n = doc::normalize(&v);
            let _ = doc::minify(&n);
            let _ = doc::diff(&v, &n);
            for ty in [PolicyType::ServiceControlPolicy, PolicyType::ResourceControlPolicy] {
                let _ = lint::lint(&v, ty, &lint::LintContext { has_exempt_principals: true });
            }
            let level = eval::Level { name: "ou".into(), policies: vec![eval::EvalPolicy::new("p", &v, vec![])] };
            let _ = eval::evaluate(&[level], &eval::Request::new("s3:GetObject").region("us-east-1"));
        }
    }

    #[test]
    fn templates_never_panic(text in mutated(template::builtin("region-lock").unwrap())) {
        if let Ok(t) = template::parse("x", &text) {
            let _ = template::docs_page(&t);
        }
    }

    #[test]
    fn saved_plan_reader_refuses_every_tampering(edit in mutated("0123456789"), at in 0usize..100_000) {
        let text = saved_plan_text();
        // Arbitrary text is never accepted.
        prop_assert!(SavedPlan::from_json(&edit).is_err());
        // A change anywhere in a real plan file is refused (or, whitespace, still verifies).
        let mut chars: Vec<char> = text.chars().collect();
        let p = at % chars.len();
        let original = chars[p];
        chars[p] = if original == 'x' { 'y' } else { 'x' };
        let tampered: String = chars.into_iter().collect();
        if SavedPlan::from_json(&tampered).is_ok() {
            prop_assert!(original.is_whitespace() || original == 'x', "accepted a change of {:?} at {}", original, p);
        }
    }
}

fn saved_plan_text() -> String {
    use std::sync::OnceLock;
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        rt().block_on(async {
            use guardrail::live::OrgBackend;
            let f = guardrail::live::fake::FakeOrg::new("999999999999");
            let root = f.root_id();
            f.create_organizational_unit(&root, "A").await.unwrap();
            let (live, mut d, _) = import(&f).await;
            d.ous.remove(&guardrail::model::OuPath::parse("A").unwrap());
            let p = guardrail::plan::plan(&d, &live).unwrap();
            SavedPlan::new("t", &p, d.inputs.clone(), &live, &Default::default()).to_json()
        })
    })
    .clone()
}
