//! The parser takes what AWS writes: tests/fixtures/cloudtrail-reference/every-field.json holds
//! records written by us from AWS's CloudTrail record contents and `userIdentity` references,
//! covering every documented record field (`apiVersion`, `addendum`, `edgeDeviceDetails`,
//! `eventContext`, `insightDetails`, `serviceEventDetails`, `sessionCredentialFromConsole`,
//! `sharedEventID`, `tlsDetails`, `vpcEndpointAccountId`, ...) and every `userIdentity` type
//! (`Root`, `IAMUser`, `AssumedRole`, `Role`, `FederatedUser`, `Directory`, `AWSAccount`,
//! `AWSService`, `IdentityCenterUser`, `Unknown`, `SAMLUser`, `WebIdentityUser`) with their
//! sub-elements (`sessionContext` with `webIdFederationData`, `sourceIdentity`,
//! `ec2RoleDelivery`, `assumedRoot`; `onBehalfOf`, `inScopeOf`, `credentialId`), and the event
//! types (API calls, console actions and sign-ins, service events, Insights, network activity).

use std::collections::BTreeSet;
use std::path::Path;

use guardrail::policy::eval::{EvalPolicy, Level, Path as EvalPath};
use guardrail::replay::{map, read, record, Replayer, Report, Window};

const A: &str = "444455556666";

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cloudtrail-reference")
}

fn path(deny_all: bool) -> EvalPath {
    let mut policies = vec![EvalPolicy::allow_all("FullAWSAccess")];
    if deny_all {
        policies.push(EvalPolicy::new(
            "deny-all",
            &serde_json::json!({"Statement": [{"Sid": "DenyAll", "Effect": "Deny",
                "Action": "*", "Resource": "*"}]}),
            vec![None],
        ));
    }
    EvalPath {
        scp: vec![Level {
            name: "root".into(),
            policies,
        }],
        rcp: Vec::new(),
        management: false,
    }
}

fn run() -> Report {
    let before = |_: &str| Some(path(false));
    let after = |_: &str| Some(path(true));
    let mut r = Replayer::new(Window::default(), Some(&before), &after);
    read::read_logs(&fixture(), &mut r).unwrap();
    r.finish()
}

#[test]
fn every_documented_field_and_identity_type_parses() {
    let r = run();
    assert_eq!(r.files_read, 1, "{:?}", r.file_errors);
    assert_eq!(r.records_read, 17);
    assert_eq!(r.bad_records, 0, "every record parses");
    assert!(r.unmappable.is_empty(), "{:?}", r.unmappable);
}

#[test]
fn each_identity_type_is_evaluated_or_counted_as_aws_treats_it() {
    let r = run();
    let denied: BTreeSet<(&str, &str)> = r
        .newly_denied
        .iter()
        .map(|f| (f.principal.as_str(), f.action.as_str()))
        .collect();
    let user = format!("arn:aws:iam::{A}:user/Alice");
    let root = format!("arn:aws:iam::{A}:root");
    let role = format!("arn:aws:iam::{A}:role/service/WebServer");
    let fed = format!("arn:aws:sts::{A}:federated-user/bob");
    let want: BTreeSet<(&str, &str)> = [
        (user.as_str(), "ec2:RunInstances"),
        (root.as_str(), "s3:DeleteBucketPolicy"),
        (role.as_str(), "dynamodb:PutItem"),
        (fed.as_str(), "sqs:SendMessage"),
    ]
    .into();
    assert_eq!(denied, want);
    let n = |label: &str| {
        r.skipped
            .iter()
            .find(|(k, _)| k.label() == label)
            .map_or(0, |(_, n)| *n)
    };
    for kind in [
        "Role",
        "AWSAccount",
        "Directory",
        "IdentityCenterUser",
        "Unknown",
        "SAMLUser",
        "WebIdentityUser",
    ] {
        assert_eq!(
            n(&format!("no IAM principal ({kind})")),
            1,
            "{kind}: {:?}",
            r.skipped
        );
    }
    assert_eq!(n("AWS service principal"), 1);
    // A service event, a console sign-in, an Insights event, a network activity event.
    assert_eq!(n("not an API call"), 4);
    // The console action AWS refused.
    assert_eq!(n("already denied"), 1);
}

#[test]
fn the_assumed_role_record_gives_its_role_path_and_context() {
    let text = std::fs::read_to_string(fixture().join("every-field.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rec = record::parse(v["Records"][2].clone()).unwrap();
    let m = map::map(&rec).unwrap();
    assert_eq!(
        m.principal,
        format!("arn:aws:iam::{A}:role/service/WebServer")
    );
    assert_eq!(
        m.request.values("aws:SourceIdentity"),
        Some(&["deploy-bot".to_owned()][..])
    );
    assert_eq!(
        m.request.resource.as_deref(),
        Some("arn:aws:dynamodb:us-west-2:444455556666:table/orders")
    );
    let first = record::parse(v["Records"][0].clone()).unwrap();
    let m = map::map(&first).unwrap();
    assert_eq!(
        m.request.values("aws:SourceVpce"),
        Some(&["vpce-0123456789abcdef0".to_owned()][..])
    );
    assert_eq!(
        m.request.values("aws:SecureTransport"),
        Some(&["true".to_owned()][..])
    );
}
