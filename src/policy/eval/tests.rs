//! The evaluator's tests: one per AWS rule, named after it.
use super::*;
use serde_json::json;

fn level(name: &str, docs: Vec<Value>) -> Level {
    Level {
        name: name.into(),
        policies: docs
            .into_iter()
            .enumerate()
            .map(|(i, d)| EvalPolicy::new(&format!("p{i}"), &d, vec![Some(format!("g{i}")); 4]))
            .collect(),
    }
}

fn full() -> Value {
    json!({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})
}

#[test]
fn explicit_deny_anywhere_wins_and_names_the_statement() {
    let deny = json!({"Statement":[{"Sid":"NoLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]});
    let levels = vec![
        level("root", vec![full()]),
        level("ou A", vec![full(), deny]),
        level("account 1", vec![full()]),
    ];
    let d = evaluate(&levels, &Request::new("organizations:leaveorganization"));
    assert_eq!(
        d,
        Decision::Deny(Decider {
            layer: Layer::Scp,
            level: "ou A".into(),
            policy: "p1".into(),
            guardrail: Some("g1".into()),
            statement: "NoLeave".into(),
            origin: None,
        })
    );
    assert_eq!(
        evaluate(&levels, &Request::new("s3:GetObject")),
        Decision::Allow
    );
}

#[test]
fn an_allow_is_needed_at_every_level() {
    let s3_only = json!({"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]});
    let levels = vec![
        level("root", vec![full()]),
        level("ou A", vec![s3_only]),
        level("account 1", vec![full()]),
    ];
    assert_eq!(
        evaluate(&levels, &Request::new("ec2:RunInstances")),
        Decision::NoAllow {
            layer: Layer::Scp,
            level: "ou A".into()
        }
    );
    assert_eq!(
        evaluate(&levels, &Request::new("s3:PutObject")),
        Decision::Allow
    );
}

fn cond(op: &str, key: &str, values: Value) -> Value {
    json!({"Effect":"Deny","Action":"*","Resource":"*","Condition":{op:{key:values}}})
}

/// (operator, policy values, request values or None, expected match)
#[test]
fn operators_table() {
    let cases: Vec<(&str, Value, Option<Vec<&str>>, bool)> = vec![
        (
            "StringEquals",
            json!("eu-west-1"),
            Some(vec!["eu-west-1"]),
            true,
        ),
        (
            "StringEquals",
            json!("eu-west-1"),
            Some(vec!["EU-WEST-1"]),
            false,
        ),
        ("StringEquals", json!("eu-west-1"), None, false),
        (
            "StringNotEquals",
            json!(["eu-west-1", "eu-central-1"]),
            Some(vec!["us-east-1"]),
            true,
        ),
        (
            "StringNotEquals",
            json!(["eu-west-1", "eu-central-1"]),
            Some(vec!["eu-central-1"]),
            false,
        ),
        ("StringNotEquals", json!("eu-west-1"), None, true),
        ("StringNotEqualsIfExists", json!("eu-west-1"), None, true),
        ("StringEqualsIfExists", json!("eu-west-1"), None, true),
        (
            "StringEqualsIgnoreCase",
            json!("Prod"),
            Some(vec!["PROD"]),
            true,
        ),
        (
            "StringLike",
            json!("arn:aws:iam::*:root"),
            Some(vec!["arn:aws:iam::123456789012:root"]),
            true,
        ),
        (
            "StringLike",
            json!("arn:aws:iam::*:root"),
            Some(vec!["arn:aws:iam::123456789012:role/x"]),
            false,
        ),
        (
            "StringNotLike",
            json!("arn:aws:iam::*:policy/Boundary"),
            Some(vec!["arn:aws:iam::1:policy/Other"]),
            true,
        ),
        (
            "StringNotLike",
            json!("arn:aws:iam::*:policy/Boundary"),
            None,
            true,
        ),
        (
            "ArnNotLike",
            json!(["arn:aws:iam::*:role/Deployer"]),
            Some(vec!["arn:aws:iam::123456789012:role/Deployer"]),
            false,
        ),
        (
            "ArnNotLike",
            json!(["arn:aws:iam::*:role/Deployer"]),
            Some(vec!["arn:aws:iam::123456789012:role/App"]),
            true,
        ),
        (
            "ArnLike",
            json!("arn:aws:iam::*:role/*"),
            Some(vec!["arn:aws:iam::1:role/a/b"]),
            true,
        ),
        (
            "ArnEquals",
            json!("arn:aws:s3:::bucket"),
            Some(vec!["arn:aws:s3:::bucket"]),
            true,
        ),
        ("Bool", json!("true"), Some(vec!["TRUE"]), true),
        ("Bool", json!(false), Some(vec!["true"]), false),
        ("Null", json!("true"), None, true),
        ("Null", json!("true"), Some(vec!["x"]), false),
        ("Null", json!("false"), Some(vec!["x"]), true),
        ("NumericLessThan", json!("2"), Some(vec!["1.0"]), true),
        ("NumericLessThan", json!("2"), Some(vec!["2"]), false),
        ("NumericGreaterThanEquals", json!(3), Some(vec!["3"]), true),
        (
            "DateLessThan",
            json!("2026-01-01T00:00:00Z"),
            Some(vec!["2025-12-31T23:59:59Z"]),
            true,
        ),
        (
            "IpAddress",
            json!("10.0.0.0/8"),
            Some(vec!["10.1.2.3"]),
            true,
        ),
        (
            "NotIpAddress",
            json!("10.0.0.0/8"),
            Some(vec!["192.168.0.1"]),
            true,
        ),
        (
            "ForAnyValue:StringLike",
            json!("o-abc/*"),
            Some(vec!["o-x/r", "o-abc/r/ou"]),
            true,
        ),
        ("ForAnyValue:StringLike", json!("o-abc/*"), None, false),
        (
            "ForAllValues:StringEquals",
            json!(["a", "b"]),
            Some(vec!["a", "b"]),
            true,
        ),
        (
            "ForAllValues:StringEquals",
            json!(["a", "b"]),
            Some(vec!["a", "c"]),
            false,
        ),
        ("ForAllValues:StringEquals", json!(["a"]), None, true),
        ("NoSuchOperator", json!("x"), Some(vec!["x"]), false),
    ];
    for (op, wanted, have, expect) in cases {
        let mut req = Request::new("ec2:RunInstances");
        if let Some(h) = &have {
            for v in h {
                req = req.with("k:key", v);
            }
        }
        let s = cond(op, "k:Key", wanted.clone());
        assert_eq!(
            statement_matches(&s, &req),
            expect,
            "{op} {wanted} {have:?}"
        );
    }
}

#[test]
fn not_action_and_resources() {
    let s = json!({"Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*"});
    assert!(!statement_matches(&s, &Request::new("iam:CreateRole")));
    assert!(statement_matches(&s, &Request::new("ec2:RunInstances")));
    let r = json!({"Effect":"Deny","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:*:instance/*"});
    let mut req = Request::new("ec2:RunInstances");
    req.resource = Some("arn:aws:ec2:eu-west-1:1:volume/v-1".into());
    assert!(!statement_matches(&r, &req));
    req.resource = Some("arn:aws:ec2:eu-west-1:1:instance/i-1".into());
    assert!(statement_matches(&r, &req));
}

/// AWS matches the service prefix and the action name case-insensitively, in `Action`
/// and `NotAction`, with or without wildcards.
#[test]
fn actions_match_in_any_case() {
    let deny =
        json!({"Effect":"Deny","Action":["EC2:TerminateInstances","S3:Get*"],"Resource":"*"});
    for action in [
        "ec2:TerminateInstances",
        "EC2:terminateinstances",
        "s3:GetObject",
        "S3:GETOBJECT",
    ] {
        assert!(statement_matches(&deny, &Request::new(action)), "{action}");
    }
    assert!(!statement_matches(&deny, &Request::new("s3:PutObject")));
    let not = json!({"Effect":"Deny","NotAction":["IAM:*","Sts:AssumeRole"],"Resource":"*"});
    assert!(!statement_matches(&not, &Request::new("iam:CreateRole")));
    assert!(!statement_matches(&not, &Request::new("sts:assumerole")));
    assert!(statement_matches(&not, &Request::new("ec2:RunInstances")));
}

#[test]
fn policy_variables_take_the_request_values() {
    let s = json!({"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::team-${aws:PrincipalTag/team}-*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"${aws:ResourceAccount}"}}});
    let mut req = Request::new("s3:DeleteBucket")
        .principal("arn:aws:iam::111111111111:role/app")
        .with("aws:PrincipalTag/team", "blue")
        .with("aws:ResourceAccount", "222222222222");
    req.resource = Some("arn:aws:s3:::team-blue-logs".into());
    assert!(
        statement_matches(&s, &req),
        "own team's bucket, other account"
    );
    req.resource = Some("arn:aws:s3:::team-red-logs".into());
    assert!(!statement_matches(&s, &req), "another team's bucket");
    let mut untagged =
        Request::new("s3:DeleteBucket").principal("arn:aws:iam::111111111111:role/app");
    untagged.resource = Some("arn:aws:s3:::team--logs".into());
    assert!(
        !statement_matches(&s, &untagged),
        "a missing variable matches nothing"
    );
}

#[test]
fn operator_parsing() {
    assert_eq!(
        parse_operator("ForAnyValue:StringLikeIfExists").map(|o| (o.base, o.if_exists)),
        Some((Base::StringLike, true))
    );
    assert!(parse_operator("NullIfExists").is_none());
    assert!(parse_operator("StringEqual").is_none());
}

fn holds(op: &str, key: &str, wanted: Value, req: &Request) -> bool {
    statement_matches(&cond(op, key, wanted), req)
}

/// IpAddress / NotIpAddress compare addresses, IPv6 included (CIDR or single address).
#[test]
fn ip_address_operators_compare_ipv6_addresses_and_cidrs() {
    let req = Request::new("s3:GetObject").with("aws:SourceIp", "2001:db8:0:12::5");
    assert!(holds(
        "IpAddress",
        "aws:SourceIp",
        json!("2001:DB8::/32"),
        &req
    ));
    assert!(holds(
        "IpAddress",
        "aws:SourceIp",
        json!("2001:db8:0:12:0:0:0:5"),
        &req
    ));
    assert!(!holds(
        "IpAddress",
        "aws:SourceIp",
        json!("2001:db9::/32"),
        &req
    ));
    assert!(holds(
        "NotIpAddress",
        "aws:SourceIp",
        json!(["10.0.0.0/8", "2001:db9::/32"]),
        &req
    ));
    assert!(!holds("NotIpAddress", "aws:SourceIp", json!("::/0"), &req));
    let v4 = Request::new("s3:GetObject").with("aws:SourceIp", "203.0.113.7");
    assert!(holds("IpAddress", "aws:SourceIp", json!("0.0.0.0/0"), &v4));
    assert!(!holds(
        "IpAddress",
        "aws:SourceIp",
        json!("2001:db8::/32"),
        &v4
    ));
}

/// Date operators compare instants: ISO 8601 with offsets, date-only values and epoch
/// seconds all name points in time.
#[test]
fn date_operators_compare_instants_not_text() {
    let at = |v: &str| Request::new("s3:GetObject").with("aws:CurrentTime", v);
    // 2026-01-01T00:30:00+01:00 is 2025-12-31T23:30:00Z: before midnight UTC.
    assert!(holds(
        "DateLessThan",
        "aws:CurrentTime",
        json!("2026-01-01T00:00:00Z"),
        &at("2026-01-01T00:30:00+01:00")
    ));
    assert!(holds(
        "DateLessThan",
        "aws:CurrentTime",
        json!("2026-01-01"),
        &at("2025-12-31T23:59:59Z")
    ));
    assert!(holds(
        "DateEquals",
        "aws:CurrentTime",
        json!("1767225600"),
        &at("2026-01-01T00:00:00Z")
    ));
    assert!(holds(
        "DateGreaterThanEquals",
        "aws:CurrentTime",
        json!("2026-01-01T00:00:00.000Z"),
        &at("1767225600")
    ));
    assert!(!holds(
        "DateGreaterThan",
        "aws:CurrentTime",
        json!("2026-01-01"),
        &at("2025-06-01T12:00:00-05:00")
    ));
    assert!(!holds(
        "DateLessThan",
        "aws:CurrentTime",
        json!("not a date"),
        &at("2025-06-01")
    ));
}

/// Multivalued context keys need a set operator: without one, the condition does not hold,
/// whatever order the request lists the values in.
#[test]
fn multivalued_keys_without_a_set_operator_do_not_depend_on_value_order() {
    let ab = Request::new("ec2:CreateTags")
        .with("aws:TagKeys", "a")
        .with("aws:TagKeys", "b");
    let ba = Request::new("ec2:CreateTags")
        .with("aws:TagKeys", "b")
        .with("aws:TagKeys", "a");
    for op in ["StringEquals", "StringNotEquals", "StringLike"] {
        assert_eq!(
            holds(op, "aws:TagKeys", json!("a"), &ab),
            holds(op, "aws:TagKeys", json!("a"), &ba),
            "{op}"
        );
    }
    assert!(!holds("StringEquals", "aws:TagKeys", json!("a"), &ab));
    // aws:TagKeys is multivalued in the IAM catalogue even with one value in the request.
    let one = Request::new("ec2:CreateTags").with("aws:TagKeys", "a");
    assert!(!holds("StringEquals", "aws:TagKeys", json!("a"), &one));
    assert!(holds(
        "ForAnyValue:StringEquals",
        "aws:TagKeys",
        json!("a"),
        &one
    ));
}

/// `...IfExists` is true when the key is absent, with a set qualifier too.
#[test]
fn for_any_value_if_exists_on_an_absent_key_is_true() {
    let req = Request::new("ec2:CreateTags");
    assert!(holds(
        "ForAnyValue:StringEqualsIfExists",
        "aws:TagKeys",
        json!("a"),
        &req
    ));
    assert!(!holds(
        "ForAnyValue:StringEquals",
        "aws:TagKeys",
        json!("a"),
        &req
    ));
    assert!(holds(
        "ForAllValues:StringEqualsIfExists",
        "aws:TagKeys",
        json!("a"),
        &req
    ));
}

/// Policy variables resolve after the fifth colon of a Resource ARN only.
#[test]
fn policy_variables_in_the_account_segment_of_a_resource_match_nothing() {
    let s = json!({"Effect":"Deny","Action":"iam:*","Resource":"arn:aws:iam::${aws:PrincipalAccount}:role/*"});
    let mut req = Request::new("iam:DeleteRole").principal("arn:aws:iam::111122223333:role/app");
    req.resource = Some("arn:aws:iam::111122223333:role/victim".into());
    assert!(!statement_matches(&s, &req));
    let own = json!({"Effect":"Deny","Action":"iam:*","Resource":"arn:aws:iam::*:role/${aws:PrincipalTag/team}-*"});
    let req = req.with("aws:PrincipalTag/team", "victim");
    let mut r2 = req.clone();
    r2.resource = Some("arn:aws:iam::111122223333:role/victim-x".into());
    assert!(statement_matches(&own, &r2));
}

fn path(scp: Vec<Level>, rcp: Vec<Level>) -> Path {
    Path {
        scp,
        rcp,
        management: false,
    }
}

/// Service-linked roles are not affected by SCPs or RCPs.
#[test]
fn service_linked_roles_are_exempt_from_scps_and_rcps() {
    let deny_all = json!({"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]});
    let p = path(
        vec![level("root", vec![full(), deny_all.clone()])],
        vec![level("root", vec![full(), deny_all])],
    );
    let slr = Request::new("ec2:RunInstances").principal(
        "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
    );
    assert_eq!(
        decide(&p, &slr),
        Decision::NotAffected(Exemption::ServiceLinkedRole)
    );
    let role = Request::new("ec2:RunInstances").principal("arn:aws:iam::111122223333:role/app");
    assert!(decide(&p, &role).is_denied());
}

/// The management account is affected by neither SCPs nor RCPs.
#[test]
fn the_management_account_is_exempt_from_scps_and_rcps() {
    let deny_all = json!({"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]});
    let mut p = path(
        vec![level("root", vec![deny_all.clone()])],
        vec![level("root", vec![deny_all])],
    );
    p.management = true;
    assert_eq!(
        decide(&p, &Request::new("s3:GetObject")),
        Decision::NotAffected(Exemption::ManagementAccount)
    );
}

/// An RCP's Deny decides, and the decision names the RCP layer.
#[test]
fn an_explicit_deny_in_an_rcp_denies_and_names_the_rcp_layer() {
    let rcp = json!({"Statement":[{"Sid":"Perimeter","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abcdefghij"}}}]});
    let p = path(
        vec![level("root", vec![full()])],
        vec![level("root", vec![full(), rcp])],
    );
    let outsider = Request::new("s3:GetObject").with("aws:PrincipalOrgID", "o-zzzzzzzzzz");
    match decide(&p, &outsider) {
        Decision::Deny(d) => {
            assert_eq!((d.layer, d.statement.as_str()), (Layer::Rcp, "Perimeter"));
        }
        other => panic!("expected an RCP deny, got {other:?}"),
    }
    let insider = Request::new("s3:GetObject").with("aws:PrincipalOrgID", "o-abcdefghij");
    assert_eq!(decide(&p, &insider), Decision::Allow);
    // kms:RetireGrant is outside RCPs.
    let rcp_kms =
        json!({"Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}]});
    let p = path(
        vec![level("root", vec![full()])],
        vec![level("root", vec![full(), rcp_kms])],
    );
    assert_eq!(
        decide(&p, &Request::new("kms:RetireGrant")),
        Decision::Allow
    );
    assert!(decide(&p, &Request::new("kms:Decrypt")).is_denied());
}

/// An explicit Deny in either layer wins over an implicit deny in the other.
#[test]
fn an_explicit_deny_wins_over_a_missing_allow_in_another_layer() {
    let s3_only = json!({"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]});
    let rcp = json!({"Statement":[{"Sid":"NoSqs","Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"*"}]});
    let p = path(
        vec![level("root", vec![s3_only])],
        vec![level("root", vec![full(), rcp])],
    );
    assert!(
        matches!(decide(&p, &Request::new("sqs:SendMessage")), Decision::Deny(d) if d.layer == Layer::Rcp)
    );
    assert_eq!(
        decide(&p, &Request::new("ec2:RunInstances")),
        Decision::NoAllow {
            layer: Layer::Scp,
            level: "root".into()
        }
    );
}

/// IAM User Guide, "Policy variables with no value": a variable AWS cannot resolve can make
/// the whole statement invalid. A Deny whose NotResource uses a tag the principal lacks does
/// not apply (it does not turn into a Deny on every resource).
#[test]
fn a_not_resource_with_an_unresolvable_policy_variable_does_not_apply() {
    let s = json!({"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::data/${aws:PrincipalTag/team}/*","arn:aws:s3:::public/*"]});
    let mut req = Request::new("s3:GetObject").principal("arn:aws:iam::111111111111:role/app");
    req.resource = Some("arn:aws:s3:::data/red/x".into());
    assert!(
        !statement_matches(&s, &req),
        "untagged: the statement does not apply"
    );
    let tagged = req.clone().with("aws:PrincipalTag/team", "blue");
    assert!(
        statement_matches(&s, &tagged),
        "another team's object is denied"
    );
    let mut own = tagged.clone();
    own.resource = Some("arn:aws:s3:::data/blue/x".into());
    assert!(!statement_matches(&s, &own), "the team's own object is not");
    let mut queue = req.clone();
    queue.resource = Some("arn:aws:sqs:eu-west-1:1:q".into());
    assert!(
        statement_matches(&s, &queue),
        "another service is outside the NotResource whatever the variable's value"
    );
}

/// A compiled policy merges guardrail statements that differ only in `Action`; a Deny by the
/// merged statement names the guardrail and the statement of its own that matched, not the
/// first one merged.
#[test]
fn a_deny_by_a_merged_statement_names_the_guardrail_statement_that_matched() {
    let merged = json!({"Statement":[{"Sid":"CriticalEc2","Effect":"Deny","Action":["ec2:TerminateInstances","s3:DeleteBucket"],"Resource":"*"}]});
    let origin = |sid: &str, action: &str| {
        (
            "critical".to_owned(),
            sid.to_owned(),
            json!({"Sid": sid, "Effect":"Deny","Action":[action],"Resource":"*"}),
        )
    };
    let p =
        EvalPolicy::new("gr-critical", &merged, vec![Some("critical".into())]).with_origins(vec![
            vec![
                origin("Ec2", "ec2:TerminateInstances"),
                origin("S3", "s3:DeleteBucket"),
            ],
        ]);
    let levels = vec![Level {
        name: "root".into(),
        policies: vec![EvalPolicy::allow_all("FullAWSAccess"), p],
    }];
    let Decision::Deny(d) = evaluate(&levels, &Request::new("s3:DeleteBucket")) else {
        panic!("s3:DeleteBucket is denied");
    };
    assert_eq!(d.statement, "CriticalEc2", "the policy's own Sid stays");
    assert_eq!(
        (d.guardrail.as_deref(), d.origin.as_deref()),
        (Some("critical"), Some("S3"))
    );
    let Decision::Deny(d) = evaluate(&levels, &Request::new("ec2:TerminateInstances")) else {
        panic!("ec2:TerminateInstances is denied");
    };
    assert_eq!(d.origin.as_deref(), Some("Ec2"));
}
