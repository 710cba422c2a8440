//! One snapshot per config error kind; each names file:line:column and the key.

use std::collections::BTreeMap;
use std::path::PathBuf;

use guardrail::config::ErrorKind;
use guardrail::render::{config_errors, Style};

use crate::support::parse_with;

const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#;

fn docs() -> BTreeMap<PathBuf, String> {
    let mut m = BTreeMap::new();
    m.insert(PathBuf::from("test/deny-leave.json"), DOC.to_owned());
    m.insert(
        PathBuf::from("test/broken.json"),
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n}".to_owned(),
    );
    m
}

const HEAD: &str = r#"[organization]
management_account = "123456789012"

[policies.deny-leave]
document = "test/deny-leave.json"
"#;

/// Parses `HEAD + body`, expects errors of `kind` only, and returns the rendered report.
fn errors(body: &str, kind: ErrorKind) -> String {
    let text = format!("{HEAD}{body}");
    let errs = parse_with(&text, &docs()).expect_err("config should be rejected");
    for e in &errs.0 {
        assert_eq!(e.kind, kind, "unexpected error: {e}");
        let plain = e.to_string();
        assert!(
            plain.starts_with(&format!(
                "environments/test.toml:{}:{}: {}: ",
                e.line, e.column, e.key
            )),
            "{plain}"
        );
    }
    config_errors(&errs, Style::default())
}

#[test]
fn syntax_error() {
    insta::assert_snapshot!(errors(
        "[ous.\"Workloads\"\npolicies = [\"FullAWSAccess\"]\n",
        ErrorKind::Syntax
    ));
}

#[test]
fn unknown_key() {
    insta::assert_snapshot!(errors(
        "[ous.\"Workloads\"]\npolices = [\"deny-leave\"]\n",
        ErrorKind::UnknownKey
    ));
}

#[test]
fn missing_key() {
    insta::assert_snapshot!(errors(
        "[accounts.payments]\nou = \"Workloads\"\n[ous.Workloads]\n",
        ErrorKind::MissingKey
    ));
}

#[test]
fn invalid_value() {
    insta::assert_snapshot!(errors(
        "[ous.Workloads]\npolicies = \"deny-leave\"\n",
        ErrorKind::InvalidValue
    ));
}

#[test]
fn dangling_ou_parent() {
    insta::assert_snapshot!(errors(
        "[ous.\"Workloads/Prod\"]\npolicies = [\"FullAWSAccess\"]\n",
        ErrorKind::Dangling
    ));
}

#[test]
fn dangling_policy() {
    insta::assert_snapshot!(errors(
        "[root]\npolicies = [\"FullAWSAccess\", \"deny-leav\"]\n",
        ErrorKind::Dangling
    ));
}

#[test]
fn dangling_account_ou() {
    insta::assert_snapshot!(errors(
        "[accounts.payments]\nid = \"210987654321\"\nou = \"Workloads/Prod\"\n",
        ErrorKind::Dangling
    ));
}

#[test]
fn duplicate_account_id() {
    insta::assert_snapshot!(errors(
        "[accounts.a]\nid = \"210987654321\"\n[accounts.b]\nid = \"210987654321\"\n",
        ErrorKind::Duplicate
    ));
}

#[test]
fn unreadable_document() {
    insta::assert_snapshot!(errors(
        "[policies.other]\ndocument = \"test/missing.json\"\n",
        ErrorKind::BadDocument
    ));
}

#[test]
fn invalid_json_document() {
    insta::assert_snapshot!(errors(
        "[policies.other]\ndocument = \"test/broken.json\"\n",
        ErrorKind::BadDocument
    ));
}

#[test]
fn ou_too_deep() {
    let body = "[ous.A]\n[ous.\"A/B\"]\n[ous.\"A/B/C\"]\n[ous.\"A/B/C/D\"]\n[ous.\"A/B/C/D/E\"]\n[ous.\"A/B/C/D/E/F\"]\n";
    insta::assert_snapshot!(errors(body, ErrorKind::Limit));
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let body =
        "[ous.\"X/Y\"]\npolices = []\n[root]\npolicies = [\"nope\"]\n[accounts.a]\nid = \"12\"\n";
    let errs = parse_with(&format!("{HEAD}{body}"), &docs()).unwrap_err();
    let kinds: Vec<ErrorKind> = errs.0.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ErrorKind::Dangling,
            ErrorKind::UnknownKey,
            ErrorKind::Dangling,
            ErrorKind::InvalidValue
        ],
        "{errs}"
    );
    // Errors are in source order with increasing lines.
    let lines: Vec<usize> = errs.0.iter().map(|e| e.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn limits_can_be_overridden_and_checked() {
    let body = "[limits.scp]\nmax_document_chars = 50\n";
    let errs = parse_with(&format!("{HEAD}{body}"), &docs()).unwrap_err();
    assert_eq!(errs.0.len(), 1);
    assert_eq!(errs.0[0].kind, ErrorKind::Limit);
    assert!(
        errs.0[0]
            .message
            .contains("the SCP limit is 50 (set in config)"),
        "{}",
        errs.0[0].message
    );
}

#[test]
fn a_valid_config_parses() {
    let body = "[root]\npolicies = [\"FullAWSAccess\", \"deny-leave\"]\n[ous.Workloads]\npolicies = [\"FullAWSAccess\"]\n[ous.\"Workloads/Prod\"]\npolicies = [\"FullAWSAccess\", \"deny-leave\"]\n[accounts.payments-prod]\nid = \"210987654321\"\nou = \"Workloads/Prod\"\n";
    let d = parse_with(&format!("{HEAD}{body}"), &docs()).unwrap();
    assert_eq!(d.management_account, "123456789012");
    assert_eq!(d.ous.len(), 2);
    assert_eq!(d.accounts["payments-prod"].ou.to_string(), "Workloads/Prod");
    assert!(d.root.policies.contains("deny-leave"));
}

#[test]
fn the_example_environment_loads_from_disk() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("environments/example.toml");
    let d = guardrail::config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.policies.len(), 4, "{:?}", d.policies.keys());
    assert_eq!(d.accounts["payments-prod"].ou.to_string(), "Workloads/Prod");
    let w = &d.ous[&guardrail::model::OuPath::parse("Workloads").unwrap()];
    assert!(
        w.policies.contains("gr-critical+detective+s3-bpa"),
        "{:?}",
        w.policies
    );
    assert_eq!(d.assertions.len(), 9);
    // The shipped environment is clean: assertions hold, nobody is locked out.
    let v = guardrail::plan::verify::validate(&d);
    assert!(v.is_clean(), "{v:?}");
}

const GUARD_HEAD: &str = r#"[organization]
management_account = "123456789012"
deployer = "arn:aws:iam::123456789012:role/guardrail-deployer"
break_glass = ["arn:aws:iam::*:role/BreakGlass"]
"#;

fn guard_errors(body: &str, kind: ErrorKind) -> String {
    let text = format!("{GUARD_HEAD}{body}");
    let errs = parse_with(&text, &docs()).expect_err("config should be rejected");
    for e in &errs.0 {
        assert_eq!(e.kind, kind, "unexpected error: {e}");
    }
    config_errors(&errs, Style::default())
}

#[test]
fn guardrail_unknown_parameter() {
    insta::assert_snapshot!(guard_errors(
        "[guardrails.eu-only]\ntemplate = \"region-lock\"\nallowed_regions = [\"eu-west-1\"]\nallowed_region = [\"eu-west-1\"]\n",
        ErrorKind::UnknownKey
    ));
}

#[test]
fn guardrail_missing_parameter() {
    insta::assert_snapshot!(guard_errors(
        "[guardrails.eu-only]\ntemplate = \"region-lock\"\n",
        ErrorKind::MissingKey
    ));
}

#[test]
fn guardrail_parameter_of_the_wrong_type() {
    insta::assert_snapshot!(guard_errors(
        "[guardrails.eu-only]\ntemplate = \"region-lock\"\nallowed_regions = \"eu-west-1\"\n",
        ErrorKind::InvalidValue
    ));
}

#[test]
fn guardrail_unknown_template() {
    insta::assert_snapshot!(guard_errors(
        "[guardrails.x]\ntemplate = \"region-lok\"\n",
        ErrorKind::Template
    ));
}

#[test]
fn guardrail_not_defined_on_a_target() {
    insta::assert_snapshot!(guard_errors(
        "[root]\nguardrails = [\"no-root\"]\n",
        ErrorKind::Dangling
    ));
}

#[test]
fn lint_error_in_a_plain_document() {
    let mut d = docs();
    d.insert(PathBuf::from("test/bad.json"), r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3 DeleteBucket","Resource":"*"}]}"#.into());
    let text = format!("{GUARD_HEAD}[policies.bad]\ndocument = \"test/bad.json\"\n");
    let errs = parse_with(&text, &d).unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs}");
    assert_eq!(errs.0[0].kind, ErrorKind::Lint);
    insta::assert_snapshot!(config_errors(&errs, Style::default()));
}

#[test]
fn guardrails_compile_into_shared_policies_with_exemptions() {
    let body = r#"
[guardrails.eu-only]
template = "region-lock"
allowed_regions = ["eu-west-1", "eu-central-1"]
[guardrails.no-root]
template = "root-user-deny"
[guardrails.trail]
template = "cloudtrail-protection"
[root]
policies = ["FullAWSAccess"]
guardrails = ["trail"]
[ous.Workloads]
policies = ["FullAWSAccess"]
guardrails = ["eu-only", "no-root"]
[ous.Sandbox]
policies = ["FullAWSAccess"]
guardrails = ["eu-only", "no-root"]
"#;
    let d = parse_with(&format!("{GUARD_HEAD}{body}"), &docs()).unwrap_or_else(|e| panic!("{e}"));
    let w = &d.ous[&guardrail::model::OuPath::parse("Workloads").unwrap()];
    let s = &d.ous[&guardrail::model::OuPath::parse("Sandbox").unwrap()];
    assert_eq!(w.policies, s.policies, "same set, same policies");
    assert!(
        w.policies.contains("gr-eu-only+no-root"),
        "{:?}",
        w.policies
    );
    let p = &d.policies["gr-eu-only+no-root"];
    let text = p.document.to_string();
    assert!(
        text.contains("arn:aws:iam::*:role/guardrail-deployer"),
        "deployer exempt: {text}"
    );
    assert!(text.contains("arn:aws:iam::*:role/BreakGlass"));
    assert!(text.contains("EuOnlyDenyOutsideAllowedRegions"));
    assert_eq!(
        p.guardrails.len(),
        p.document["Statement"].as_array().unwrap().len()
    );
    assert!(d.root.policies.contains("gr-trail"));
    // Suggestions and warnings are kept for validate, not errors.
    assert!(d.lint.iter().all(|n| n.severity != "error"));
}

#[test]
fn too_many_slots_says_by_how_many() {
    let mut body = String::from("[limits.scp]\nmax_attachments_per_target = 2\n[policies.deny-leave]\ndocument = \"test/deny-leave.json\"\n[guardrails.a]\ntemplate = \"root-user-deny\"\n[ous.X]\npolicies = [\"FullAWSAccess\", \"deny-leave\"]\nguardrails = [\"a\"]\n");
    body.push('\n');
    let errs = parse_with(&format!("{GUARD_HEAD}{body}"), &docs()).unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs}");
    assert!(errs.0[0].message.contains("would carry 3 SCPs (1 compiled from its guardrails); the limit is 2 (set in config), 1 over"), "{}", errs.0[0].message);
    assert_eq!(errs.0[0].key, "ous.X.guardrails");
}

/// Issue 12, "all at once": an oversized policy, its lint errors and a target over its SCP
/// limit are reported together, each with its key, in one run.
#[test]
fn size_lint_and_attachment_limit_errors_are_reported_together() {
    // Over the 10,240-character SCP limit, with an invalid condition operator (GR010, an error).
    let regions = (0..1600)
        .map(|i| format!("\"r{i}\""))
        .collect::<Vec<_>>()
        .join(",");
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"ec2:*","Resource":"*","Condition":{{"StringNotEquals":{{"aws:RequestedRegion":[{regions}]}}}}}},{{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{{"StringEqualz":{{"aws:RequestedRegion":"x"}}}}}}]}}"#
    );
    let mut files = docs();
    files.insert(PathBuf::from("big.json"), big);
    let mut body = String::from(
        "[limits.scp]\nmax_policies_per_org = 10\n[limits.org]\nmax_ous = 1\n[ous.Y]\n[policies.big]\ndocument = \"big.json\"\n",
    );
    let mut names = vec!["\"FullAWSAccess\"".to_owned(), "\"big\"".to_owned()];
    for i in 0..10 {
        body.push_str(&format!(
            "[policies.p{i}]\ndocument = \"test/deny-leave.json\"\n"
        ));
        names.push(format!("\"p{i}\""));
    }
    body.push_str(&format!("[ous.X]\npolicies = [{}]\n", names.join(", ")));
    let errs = parse_with(&format!("{GUARD_HEAD}{body}"), &files).unwrap_err();
    let keys: Vec<&str> = errs.0.iter().map(|e| e.key.as_str()).collect();
    let size = errs
        .0
        .iter()
        .find(|e| e.message.contains("characters minified"));
    assert!(
        size.is_some_and(|e| e.key == "policies.big.document"),
        "{errs}"
    );
    let count = errs
        .0
        .iter()
        .find(|e| e.message.contains("would carry 12 SCPs"));
    assert!(
        count.is_some_and(|e| e.key == "ous.X.policies" && e.message.contains("2 over")),
        "{errs}"
    );
    assert!(
        errs.0
            .iter()
            .any(|e| e.key == "policies.big.document" && e.message.contains("StringEqualz")),
        "the size error does not hide the document's lint errors: {keys:?}\n{errs}"
    );
    assert!(
        errs.0.iter().any(|e| e.key == "policies"
            && e.message
                .contains("11 SCPs; an organization holds at most 10")),
        "{errs}"
    );
    assert!(
        errs.0
            .iter()
            .any(|e| e.key == "ous" && e.message.contains("2 OUs")),
        "{errs}"
    );
}

#[test]
fn a_target_without_a_policies_key_carries_fullawsaccess() {
    let text =
        format!("{HEAD}\n[ous.Prod]\n\n[accounts.app]\nid = \"210987654321\"\nou = \"Prod\"\n");
    let d = parse_with(&text, &docs()).unwrap_or_else(|e| panic!("{e}"));
    let full: std::collections::BTreeSet<String> = ["FullAWSAccess".to_owned()].into();
    assert_eq!(d.accounts["app"].policies, full);
    assert_eq!(
        d.ous[&guardrail::model::OuPath::parse("Prod").unwrap()].policies,
        full
    );
    assert_eq!(d.root.policies, full, "no [root] table: AWS's default");
}

/// `policies = []` can never be applied while SCPs are enabled: one config error that names
/// AWS's rule, at the `policies` key, instead of a lockout line per principal and action.
#[test]
fn an_empty_policies_list_is_one_error_naming_the_aws_rule() {
    let text = format!("{HEAD}\n[ous.Empty]\npolicies = []\n");
    let errs = parse_with(&text, &docs()).expect_err("policies = [] must be refused");
    assert_eq!(errs.0.len(), 1, "{errs:?}");
    let e = &errs.0[0];
    assert_eq!(e.kind, ErrorKind::Limit);
    assert_eq!(e.key, "ous.Empty.policies");
    let msg = e.to_string();
    assert!(msg.contains("AWS requires at least 1 SCP"), "{msg}");
    assert!(msg.contains("FullAWSAccess"), "{msg}");
    // Listing one SCP: no error.
    let text = format!("{HEAD}\n[ous.Empty]\npolicies = [\"FullAWSAccess\"]\n");
    parse_with(&text, &docs()).unwrap_or_else(|e| panic!("{e}"));
}
