//! The templates of issue 15: `protect-critical-resources` (an SCP whose statements follow the
//! `services` list and whose condition key carries the tag parameter) and the management-policy
//! templates (a `document` body, one policy per instance).

use std::collections::BTreeMap;

use guardrail::policy::template::{self, ParamValue};
use serde_json::json;

fn values(pairs: &[(&str, ParamValue)]) -> BTreeMap<String, ParamValue> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[test]
fn protect_critical_resources_follows_its_parameters() {
    let t = template::parse(
        "protect-critical-resources",
        template::builtin("protect-critical-resources").unwrap(),
    )
    .unwrap();
    let v = values(&[
        ("tag_key", ParamValue::String("tier".into())),
        ("tag_value", ParamValue::String("gold".into())),
        (
            "services",
            ParamValue::List(vec!["rds".into(), "kms".into()]),
        ),
    ]);
    let exempt = vec!["arn:aws:iam::*:role/pipeline".to_owned()];
    let s = template::instantiate(&t, &v, &exempt).unwrap();
    let sids: Vec<&str> = s.iter().filter_map(|x| x["Sid"].as_str()).collect();
    assert_eq!(sids, vec!["ProtectCriticalRds", "ProtectCriticalKmsKeys"]);
    for st in &s {
        assert_eq!(
            st["Condition"]["StringEquals"],
            json!({"aws:ResourceTag/tier": "gold"})
        );
        assert_eq!(
            st["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
            json!(["arn:aws:iam::*:role/pipeline"])
        );
    }
    assert!(s[1]["Action"]
        .as_array()
        .unwrap()
        .contains(&json!("kms:ScheduleKeyDeletion")));
    // Defaults: every service, `critical = "true"`.
    let defaults: BTreeMap<String, ParamValue> = t
        .parameters
        .iter()
        .filter_map(|(n, p)| p.default.clone().map(|d| (n.clone(), d)))
        .collect();
    let all = template::instantiate(&t, &defaults, &exempt).unwrap();
    assert_eq!(all.len(), 6);
    assert!(all
        .iter()
        .all(|st| st["Condition"]["StringEquals"] == json!({"aws:ResourceTag/critical": "true"})));
}

#[test]
fn a_management_template_needs_a_document_and_an_scp_template_statements() {
    let err = template::parse(
        "t",
        "description = \"d\"\npolicy_type = \"TAG_POLICY\"\n[[statement]]\nEffect = \"Deny\"\n",
    )
    .unwrap_err();
    assert!(err.contains("needs a [document] table"), "{err}");
    let err = template::parse("t", "description = \"d\"\n[document.a]\nb = 1\n").unwrap_err();
    assert!(err.contains("needs at least one [[statement]]"), "{err}");
    let t = template::parse(
        "t",
        "description = \"d\"\npolicy_type = \"BACKUP_POLICY\"\n[parameters.r]\ntype = \"string_list\"\n[document.plans.p]\n\"aws:tag/${k}\" = { \"@@assign\" = \"${r}\" }\n[parameters.k]\ntype = \"string\"\n",
    )
    .unwrap();
    let v = values(&[
        ("r", ParamValue::List(vec!["eu-west-1".into()])),
        ("k", ParamValue::String("tier".into())),
    ]);
    assert_eq!(
        template::instantiate_document(&t, &v, &[]).unwrap(),
        Some(json!({"plans": {"p": {"aws:tag/tier": {"@@assign": ["eu-west-1"]}}}}))
    );
    assert!(template::instantiate(&t, &v, &[]).unwrap().is_empty());
}

#[test]
fn declarative_and_ai_opt_out_guardrails_plan_and_apply_on_the_fake() {
    use guardrail::apply;
    use guardrail::live::fake::FakeOrg;
    use guardrail::live::OrgBackend;
    use guardrail::model::PolicyType;
    use guardrail::plan::{self, Change};
    use guardrail::policy::effective;

    use crate::support::{import, parse_with, read, rt};

    rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let ou = f.create_organizational_unit(&root, "Prod").await.unwrap();
        let acct = f.add_account("web", "web@example.com", &ou).await.unwrap();
        let (live, _, emitted) = import(&f).await;
        let docs: BTreeMap<std::path::PathBuf, String> = emitted.documents.iter().cloned().collect();
        let config = emitted
            .config
            .replace(
                "[ous.Prod]\npolicies = [\"FullAWSAccess\"]",
                "[ous.Prod]\npolicies = [\"FullAWSAccess\"]\nguardrails = [\"imds\", \"vpc-bpa\"]",
            )
            + "\n[guardrails.imds]\ntemplate = \"ec2-imdsv2-default\"\n"
            + "\n[guardrails.vpc-bpa]\ntemplate = \"ec2-vpc-block-public-access\"\nmode = \"block_bidirectional\"\n"
            + "\n[guardrails.no-ai-training]\ntemplate = \"ai-opt-out-all-services\"\n";
        let config = config.replacen(
            "[root]\npolicies = [\"FullAWSAccess\"]",
            "[root]\npolicies = [\"FullAWSAccess\"]\nguardrails = [\"no-ai-training\"]",
            1,
        );
        let desired = parse_with(&config, &docs).unwrap_or_else(|e| panic!("{e}\n{config}"));
        let imds = &desired.policies["gr-imds"];
        assert_eq!(imds.policy_type, PolicyType::DeclarativePolicyEc2);
        assert_eq!(
            imds.document["ec2_attributes"]["instance_metadata_defaults"]["http_tokens"],
            json!({"@@assign": "required"})
        );
        assert_eq!(
            desired.policies["gr-no-ai-training"].policy_type,
            PolicyType::AiServicesOptOutPolicy
        );
        let p = plan::plan(&desired, &live).unwrap();
        let enabled: Vec<PolicyType> = p
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::EnablePolicyType { policy_type } => Some(*policy_type),
                _ => None,
            })
            .collect();
        assert_eq!(enabled.len(), 2, "{:?}", p.changes);
        assert!(enabled.contains(&PolicyType::DeclarativePolicyEc2));
        let out = apply::execute(&p, &live, &f).await;
        assert!(out.succeeded(), "{:?}", out.steps);
        let after = read(&f).await;
        assert!(plan::plan(&desired, &after).unwrap().is_empty());
        assert!(f.violations().is_empty(), "{:?}", f.violations());

        let (_, levels) =
            effective::account_levels(&desired, &acct, PolicyType::DeclarativePolicyEc2).unwrap();
        let e = effective::effective(&levels);
        assert_eq!(
            e.document["ec2_attributes"]["vpc_block_public_access"],
            json!({"internet_gateway_block": {"mode": "block_bidirectional", "exclusions_allowed": "enabled"}})
        );
        let (_, levels) =
            effective::account_levels(&desired, &acct, PolicyType::AiServicesOptOutPolicy).unwrap();
        assert_eq!(
            effective::effective(&levels).document,
            json!({"services": {"default": {"opt_out_policy": "optOut"}}})
        );
    });
}

#[test]
fn a_service_protect_critical_resources_does_not_cover_is_an_error_not_a_silent_gap() {
    let t = template::parse(
        "protect-critical-resources",
        template::builtin("protect-critical-resources").unwrap(),
    )
    .unwrap();
    // `dynamo` is a typo for `dynamodb`: without the check it would quietly protect nothing.
    let v = values(&[(
        "services",
        ParamValue::List(vec!["rds".into(), "dynamo".into()]),
    )]);
    let err = template::instantiate(&t, &v, &[]).unwrap_err().to_string();
    assert!(
        err.contains("`services` lists `dynamo`")
            && err.contains("ec2, rds, s3, dynamodb, kms, backup"),
        "{err}"
    );
    // Through a config: an error at the parameter's key.
    let config = "[organization]\nmanagement_account = \"123456789012\"\n\n[guardrails.critical]\ntemplate = \"protect-critical-resources\"\nservices = [\"rds\", \"dynamo\"]\n\n[root]\npolicies = [\"FullAWSAccess\"]\nguardrails = [\"critical\"]\n";
    let errs = crate::support::parse_with(config, &BTreeMap::new()).unwrap_err();
    assert!(
        errs.0
            .iter()
            .any(|e| e.key == "guardrails.critical.services"
                && e.message.contains("dynamo")
                && e.line == 6),
        "{errs}"
    );
}
