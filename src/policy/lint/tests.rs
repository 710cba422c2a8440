//! One case per rule, and the corpus of realistic documents.
use super::*;
use serde_json::json;

fn codes(doc: Value, ty: PolicyType, exempt: bool) -> Vec<&'static str> {
    let mut c: Vec<&str> = lint(
        &doc,
        ty,
        &LintContext {
            has_exempt_principals: exempt,
        },
    )
    .iter()
    .map(|f| f.code)
    .collect();
    c.sort();
    c.dedup();
    c
}

const SCP: PolicyType = PolicyType::ServiceControlPolicy;
const RCP: PolicyType = PolicyType::ResourceControlPolicy;

/// One case per rule that must fire, and a clean document that must not.
#[test]
fn rules_table() {
    let ok = json!({"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/D"}}}]});
    assert_eq!(codes(ok, SCP, true), Vec::<&str>::new());
    let cases: Vec<(Value, PolicyType, &str)> = vec![
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}],"Comment":1}),
            SCP,
            "GR002",
        ),
        (
            json!({"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}),
            SCP,
            "GR003",
        ),
        (json!({"Version":"2012-10-17","Statement":[]}), SCP, "GR004"),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"deny","Action":"s3:*","Resource":"*"}]}),
            SCP,
            "GR005",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Resource":"*"}]}),
            SCP,
            "GR006",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}),
            SCP,
            "GR007",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3 Delete","Resource":"*"}]}),
            SCP,
            "GR008",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"cloudtrial:StopLogging","Resource":"*"}]}),
            SCP,
            "GR009",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEqual":{"aws:RequestedRegion":"x"}}}]}),
            SCP,
            "GR010",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"RequestedRegion":"x"}}}]}),
            SCP,
            "GR011",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestRegion":"x"}}}]}),
            SCP,
            "GR012",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}),
            SCP,
            "GR013",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}),
            SCP,
            "GR014",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Actions":"s3:*","Action":"s3:*","Resource":"*"}]}),
            SCP,
            "GR015",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","NotResource":"x"}]}),
            SCP,
            "GR016",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*"}]}),
            SCP,
            "GR017",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}),
            RCP,
            "GR018",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:RequestedRegion":["x"]}}}]}),
            SCP,
            "GR019",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}),
            SCP,
            "GR020",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Sid":"a-b","Effect":"Deny","Action":"s3:*","Resource":"*"}]}),
            SCP,
            "GR021",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"S3:GetObject","Resource":"*"}]}),
            SCP,
            "GR022",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBuckets","Resource":"*"}]}),
            SCP,
            "GR023",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:TerminateInstance?s","Resource":"*"}]}),
            SCP,
            "GR024",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"ec2:InstanceType":"t2.micro"}}}]}),
            SCP,
            "GR025",
        ),
        (
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ec2:*","Resource":"*"}]}),
            RCP,
            "GR026",
        ),
        (
            json!({"tags":{"cc":{"tag_keys":{"@@assign":"CostCenter"}}}}),
            PolicyType::TagPolicy,
            "GR027",
        ),
        (
            json!({"services":{"default":{"opt_out_policy":{"@@append":["optOut"]}}}}),
            PolicyType::AiServicesOptOutPolicy,
            "GR028",
        ),
        (
            json!({"ec2_attributes":{"instance_metadata_defaults":{"http_tokens":{"@@assign":"require"}}}}),
            PolicyType::DeclarativePolicyEc2,
            "GR029",
        ),
    ];
    for (doc, ty, code) in cases {
        let got = codes(doc.clone(), ty, true);
        assert!(
            got.contains(&code),
            "{code} expected for {doc}, got {got:?}"
        );
    }
    assert_eq!(RULES.len(), 28);
}

/// AWS matches service prefixes and action names case-insensitively: any case is valid,
/// known prefixes are known in any case, and the case is at most a suggestion.
#[test]
fn action_case_is_never_an_error() {
    for action in [
        "S3:GetObject",
        "EC2:TerminateInstances",
        "Ec2:terminateinstances",
        "IAM:*",
        "S3:Get*",
    ] {
        let d = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":action,"Resource":"*"}]});
        let f = lint(&d, SCP, &LintContext::default());
        let not_suggestions: Vec<_> = f
            .iter()
            .filter(|f| f.severity != Severity::Suggestion)
            .collect();
        assert!(not_suggestions.is_empty(), "{action}: {not_suggestions:?}");
        assert_eq!(
            f.iter().map(|f| f.code).collect::<Vec<_>>(),
            vec!["GR022"],
            "{action}"
        );
    }
    // The conventional case draws nothing, and a misspelt prefix is still unknown in
    // upper case.
    let lower = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*"}]});
    assert!(lint(&lower, SCP, &LintContext::default()).is_empty());
    let typo = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"CLOUDTRIAL:StopLogging","Resource":"*"}]});
    assert!(codes(typo, SCP, false).contains(&"GR009"));
    // A malformed action is still an error whatever its case.
    let bad = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"S3 GetObject","Resource":"*"}]});
    assert!(codes(bad, SCP, false).contains(&"GR008"));
}

#[test]
fn region_lock_exemptions_match_any_case() {
    let d = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["IAM:*","STS:*","Organizations:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]});
    assert!(!codes(d, SCP, false).contains(&"GR013"));
}

#[test]
fn misspelt_key_suggests_the_right_one() {
    let d = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestRegion":"x"}}}]});
    let f = lint(&d, SCP, &LintContext::default());
    assert!(
        f.iter()
            .any(|f| f.message.contains("did you mean `aws:RequestedRegion`?")),
        "{f:?}"
    );
}

/// GR012 knows today's global keys (from the catalogue), families included.
#[test]
fn newer_global_keys_are_known() {
    for key in [
        "aws:AssumedRoot",
        "aws:VpceOrgID",
        "aws:VpceAccount",
        "aws:VpceOrgPaths",
        "aws:SourceOrgID",
        "aws:PrincipalTag/team",
        "aws:ResourceTag/cost-center",
        "AWS:REQUESTEDREGION",
    ] {
        let d = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEqualsIfExists":{key:"x"}}}]});
        assert!(!codes(d, SCP, false).contains(&"GR012"), "{key}");
    }
}

/// GR013 fires only on region locks that reach the global services.
#[test]
fn region_lock_rule_fires_only_when_global_services_are_denied() {
    let scoped = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ec2:RunInstances","rds:CreateDBInstance"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]});
    assert!(!codes(scoped, SCP, false).contains(&"GR013"));
    let vpc = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]},"Null":{"aws:SourceVpc":"false"}}}]});
    assert!(!codes(vpc, SCP, false).contains(&"GR013"));
    let all = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]});
    assert!(codes(all, SCP, false).contains(&"GR013"));
    let iam_wild = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:Create*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]});
    assert!(codes(iam_wild, SCP, false).contains(&"GR013"));
}

/// `EC2:TerminateInstances` is accepted: a known action in any case.
#[test]
fn mixed_case_known_actions_are_known() {
    let d = json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["EC2:TerminateInstances","s3:getobject","Bedrock:InvokeModel"],"Resource":"*"}]});
    let c = codes(d, SCP, false);
    assert_eq!(c, vec!["GR022"], "{c:?}");
}

/// The rule data agrees with the IAM catalogue, so the catalogue never contradicts a finding
/// of the rules that read it: GR019's single-valued keys are keys the catalogue knows and
/// types as single values, and the keys GR013 and GR020 look at are global keys.
#[test]
fn the_rule_data_agrees_with_the_catalogue() {
    let cat = catalogue();
    for key in SINGLE_VALUED {
        let prefix = key.split(':').next().unwrap_or_default();
        let known = cat.global_key(key).is_some()
            || cat
                .service(prefix)
                .is_some_and(|s| s.keys.iter().any(|k| k.covers(key)));
        assert!(known, "{key} is not in the catalogue");
        assert!(!cat.is_multivalued_key(key), "{key} is multivalued");
    }
    let stems: Vec<&str> = PRINCIPAL_KEY_FAMILIES
        .iter()
        .map(|f| f.trim_end_matches('/'))
        .collect();
    let keys = PRINCIPAL_KEYS
        .iter()
        .chain(NETWORK_KEYS)
        .chain([&REGION_KEY]);
    for key in keys.filter(|k| !stems.contains(k)) {
        assert!(cat.global_key(key).is_some(), "{key} is not a global key");
    }
    for family in PRINCIPAL_KEY_FAMILIES {
        assert!(cat.global_key(&format!("{family}x")).is_some(), "{family}");
    }
}
