//! Lint for the management policy types: an example document of each type, written for
//! guardrail from AWS's published syntax (`tests/fixtures/lint/management/<TYPE>.json`), draws
//! no finding at all; broken documents draw the rule that names their mistake; a mistake in a
//! config's tag policy is a config error with file, line and key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use guardrail::config::ErrorKind;
use guardrail::model::PolicyType;
use guardrail::policy::lint::{lint, management_syntax, Finding, LintContext};
use serde_json::{json, Value};

use crate::support::parse_with;

fn example(ty: PolicyType) -> Value {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lint/management")
        .join(format!("{}.json", ty.api_name()));
    let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()))
}

fn findings(doc: &Value, ty: PolicyType) -> Vec<Finding> {
    lint(doc, ty, &LintContext::default())
}

fn codes(doc: Value, ty: PolicyType) -> Vec<&'static str> {
    findings(&doc, ty).iter().map(|f| f.code).collect()
}

#[test]
fn every_management_type_has_a_syntax_and_its_example_lints_clean() {
    let management: Vec<PolicyType> = PolicyType::MANAGED
        .into_iter()
        .filter(|t| !t.is_authorization())
        .collect();
    assert_eq!(management.len(), 11);
    for ty in management {
        assert!(
            management_syntax::syntax(ty).is_some(),
            "{ty:?} has no syntax"
        );
        let got = findings(&example(ty), ty);
        assert!(got.is_empty(), "{ty:?}: {got:#?}");
    }
}

#[test]
fn an_example_of_one_type_is_unknown_keys_for_another() {
    let got = codes(example(PolicyType::TagPolicy), PolicyType::BackupPolicy);
    assert_eq!(got, vec!["GR027"]);
}

#[test]
fn unknown_keys_draw_gr027() {
    use PolicyType::*;
    let cases = [
        (
            TagPolicy,
            json!({"tags":{"cc":{"tag_keys":{"@@assign":"CostCenter"}}}}),
        ),
        (
            DeclarativePolicyEc2,
            json!({"ec2_attributes":{"instance_metadata_defaults":{"http_token":{"@@assign":"required"}}}}),
        ),
        (
            AiServicesOptOutPolicy,
            json!({"services":{"rekognitoin":{"opt_out_policy":{"@@assign":"optOut"}}}}),
        ),
        (
            S3Policy,
            json!({"s3_attributes":{"public_access_block_configuration":{"mode":"all"}}}),
        ),
        (
            NetworkSecurityDirectorPolicy,
            json!({"network_security_director":{"enablement":{"scan":{}}}}),
        ),
    ];
    for (ty, doc) in cases {
        let got = findings(&doc, ty);
        assert_eq!(
            got.iter().map(|f| f.code).collect::<Vec<_>>(),
            vec!["GR027"],
            "{ty:?}: {got:#?}"
        );
    }
}

#[test]
fn misplaced_and_unknown_operators_draw_gr028() {
    use PolicyType::*;
    let cases = [
        // @@append on a single-valued setting.
        (
            AiServicesOptOutPolicy,
            json!({"services":{"default":{"opt_out_policy":{"@@append":["optOut"]}}}}),
            "applies to lists only",
        ),
        // A value-setting operator on an object that holds settings.
        (
            DeclarativePolicyEc2,
            json!({"ec2_attributes":{"serial_console_access":{"@@assign":{"status":"disabled"}}}}),
            "not a setting",
        ),
        // An operator that does not exist.
        (
            TagPolicy,
            json!({"tags":{"cc":{"tag_value":{"@@replace":["a"]}}}}),
            "not an inheritance operator",
        ),
        // Child control: unknown value, and @@none beside another.
        (
            BackupPolicy,
            json!({"plans":{"p":{"regions":{"@@operators_allowed_for_child_policies":["@@none","@@append"]}}}}),
            "stand alone",
        ),
        (
            SecurityhubPolicy,
            json!({"securityhub":{"@@operators_allowed_for_child_policies":"@@none"}}),
            "takes a list",
        ),
        // @@remove needs a list.
        (
            InspectorPolicy,
            json!({"inspector":{"enablement":{"ec2_scanning":{"enable_in_regions":{"@@remove":"eu-west-1"}}}}}),
            "takes a list",
        ),
    ];
    for (ty, doc, says) in cases {
        let got = findings(&doc, ty);
        assert_eq!(got.len(), 1, "{ty:?}: {got:#?}");
        assert_eq!(got[0].code, "GR028", "{ty:?}: {got:#?}");
        assert!(got[0].message.contains(says), "{ty:?}: {}", got[0].message);
    }
}

#[test]
fn values_a_type_does_not_accept_draw_gr029() {
    use PolicyType::*;
    let cases = [
        (
            AiServicesOptOutPolicy,
            json!({"services":{"default":{"opt_out_policy":{"@@assign":"optout"}}}}),
            "`services.default.opt_out_policy`",
        ),
        (
            DeclarativePolicyEc2,
            json!({"ec2_attributes":{"instance_metadata_defaults":{"http_put_response_hop_limit":{"@@assign":"65"}}}}),
            "from -1 to 64",
        ),
        (
            DeclarativePolicyEc2,
            json!({"ec2_attributes":{"vpc_block_public_access":{"internet_gateway_block":{"mode":"block_all"}}}}),
            "block_bidirectional",
        ),
        (
            TagPolicy,
            json!({"tags":{"cc":{"tag_value":{"@@assign":"100"}}}}),
            "takes a list",
        ),
        (
            TagPolicy,
            json!({"tags":{"cc":{"tag_key":{"@@assign":["CostCenter"]}}}}),
            "takes one value",
        ),
        (
            ChatbotPolicy,
            json!({"chatbot":{"platforms":{"slack":{"default":{"supported_channel_types":{"@@append":["secret"]}}}}}}),
            "public, private",
        ),
        (
            UpgradeRolloutPolicy,
            json!({"upgrade_rollout":{"default":{"patch_order":{"@@assign":"third"}}}}),
            "first, second, last",
        ),
        (
            BedrockPolicy,
            json!({"bedrock":{"guardrail_inference":{"eu-west-1":{"c":{"input_tags":{"@@assign":"Honor"}}}}}}),
            "case matters",
        ),
        (
            S3Policy,
            json!({"s3_attributes":"all"}),
            "must be an object",
        ),
        (TagPolicy, json!(["tags"]), "JSON object"),
    ];
    for (ty, doc, says) in cases {
        let got = findings(&doc, ty);
        assert_eq!(got.len(), 1, "{ty:?}: {got:#?}");
        assert_eq!(got[0].code, "GR029", "{ty:?}: {got:#?}");
        assert!(got[0].message.contains(says), "{ty:?}: {}", got[0].message);
    }
}

#[test]
fn an_open_subtree_gets_the_operator_rules_only() {
    // Security Hub's `features` entries are written from examples: any key is accepted
    // below them, a broken operator is not.
    let ok = json!({"securityhub":{"features":{"some_feature":{"enable_in_regions":{"@@assign":["eu-west-1"]}}}}});
    assert!(findings(&ok, PolicyType::SecurityhubPolicy).is_empty());
    let open_ok = json!({"plans":{"p":{"scan_settings":{"anything":{"deep":{"@@assign":"x"}}}}}});
    assert!(findings(&open_ok, PolicyType::BackupPolicy).is_empty());
    let open_bad = json!({"plans":{"p":{"scan_settings":{"anything":{"@@appendd":["x"]}}}}});
    assert_eq!(codes(open_bad, PolicyType::BackupPolicy), vec!["GR028"]);
}

#[test]
fn the_built_in_management_templates_lint_clean() {
    // Every management-policy template instantiated with its defaults: not one finding.
    let text = r#"[organization]
management_account = "123456789012"

[guardrails.imds]
template = "ec2-imdsv2-default"
[guardrails.images]
template = "ec2-image-block-public-access"
[guardrails.snapshots]
template = "ec2-snapshot-block-public-access"
[guardrails.vpc]
template = "ec2-vpc-block-public-access"
[guardrails.serial]
template = "ec2-serial-console-off"
[guardrails.ai]
template = "ai-opt-out-all-services"
"#;
    let d = parse_with(text, &BTreeMap::new()).expect("config parses");
    let management: Vec<_> = d.lint.iter().filter(|n| n.code >= "GR027").collect();
    assert!(management.is_empty(), "{management:#?}");
    assert_eq!(d.guardrails.len(), 6);
}

fn config_with_tag_policy(
    doc: &str,
) -> Result<guardrail::model::Desired, guardrail::config::ConfigErrors> {
    let text = r#"[organization]
management_account = "123456789012"

[policies.cost]
type = "TAG_POLICY"
document = "test/cost.json"
"#;
    let mut docs = BTreeMap::new();
    docs.insert(PathBuf::from("test/cost.json"), doc.to_owned());
    parse_with(text, &docs)
}

#[test]
fn a_broken_tag_policy_in_a_config_is_an_error_with_file_line_and_key() {
    let errs = config_with_tag_policy(r#"{"tags":{"cc":{"tag_key":{"@@append":["CostCenter"]}}}}"#)
        .expect_err("the operator is refused");
    assert_eq!(errs.0.len(), 1, "{errs:?}");
    let e = &errs.0[0];
    assert_eq!(e.kind, ErrorKind::Lint);
    assert_eq!(e.key, "policies.cost.document");
    assert_eq!(e.line, 6);
    assert!(e.to_string().contains("GR028"), "{e}");
    // An unknown key is a warning: the config loads and carries the note.
    let d = config_with_tag_policy(r#"{"tags":{"cc":{"tag_kee":{"@@assign":"CostCenter"}}}}"#)
        .expect("a warning does not stop the config");
    assert!(
        d.lint
            .iter()
            .any(|n| n.code == "GR027" && n.subject == "policy cost"),
        "{:?}",
        d.lint
    );
}

#[test]
fn a_management_policy_over_its_size_limit_is_refused_with_the_limit() {
    // AI opt-out policies hold at most 2,500 characters (the limits table).
    let services: serde_json::Map<String, Value> = (0..120)
        .map(|i| {
            (
                format!("service{i:03}"),
                json!({"opt_out_policy":{"@@assign":"optOut"}}),
            )
        })
        .collect();
    let doc = json!({ "services": services }).to_string();
    let text = r#"[organization]
management_account = "123456789012"

[policies.ai]
type = "AISERVICES_OPT_OUT_POLICY"
document = "test/ai.json"
"#;
    let mut docs = BTreeMap::new();
    docs.insert(PathBuf::from("test/ai.json"), doc);
    let errs = parse_with(text, &docs).expect_err("too big");
    let limit: Vec<_> = errs
        .0
        .iter()
        .filter(|e| e.kind == ErrorKind::Limit)
        .collect();
    assert_eq!(limit.len(), 1, "{errs:?}");
    assert!(
        limit[0].to_string().contains("2500") || limit[0].to_string().contains("2,500"),
        "{}",
        limit[0]
    );
    assert_eq!(limit[0].key, "policies.ai.document");
}

#[test]
fn every_management_types_size_limit_is_checked_at_its_boundary() {
    let table = guardrail::policy::limits::LimitsTable::default();
    for row in &table.management {
        let api = row.policy_type.api_name();
        let limit = row.max_document_chars.value;
        let sized = |n: usize| {
            let doc = format!(r#"{{"k":"{}"}}"#, "x".repeat(n - r#"{"k":""}"#.len()));
            assert_eq!(doc.len(), n);
            let text = format!(
                "[organization]\nmanagement_account = \"123456789012\"\n\n[policies.p]\ntype = \"{api}\"\ndocument = \"test/p.json\"\n"
            );
            let docs = BTreeMap::from([(PathBuf::from("test/p.json"), doc)]);
            // `k` is no key of any type: lint errors come too; only the limit matters here.
            parse_with(&text, &docs)
                .err()
                .map(|errs| {
                    errs.0
                        .into_iter()
                        .filter(|e| e.kind == ErrorKind::Limit)
                        .count()
                })
                .unwrap_or(0)
        };
        assert_eq!(sized(limit), 0, "{api}: {limit} characters fit");
        assert_eq!(
            sized(limit + 1),
            1,
            "{api}: {} characters do not",
            limit + 1
        );
    }
}
