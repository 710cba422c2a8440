//! `--replay`: CloudTrail records written by us in AWS's record format
//! (tests/fixtures/cloudtrail/, made by its `make.py`: an organization trail's folders, gzip
//! and plain files, a digest, a file that is not a log) replayed against
//! environments/example.toml, from an organization with FullAWSAccess alone.

use std::path::{Path, PathBuf};

use guardrail::model::Desired;
use guardrail::policy::eval::{EvalPolicy, Level, Path as EvalPath};
use guardrail::replay::{
    self, map, parse_time, read, record, Flip, Replayer, Report, Skip, Window,
};

const PROD: &str = "210987654321";
const SANDBOX: &str = "210987654322";
const MANAGEMENT: &str = "123456789012";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn example() -> Desired {
    guardrail::config::load(&root().join("environments/example.toml"))
        .unwrap_or_else(|e| panic!("{e:?}"))
}

/// Before the change: FullAWSAccess alone, the management account exempt.
fn bare(account: &str) -> Option<EvalPath> {
    full_access_only(account == MANAGEMENT)
}

/// A path with FullAWSAccess alone on the root (the management account's when `management`).
pub(crate) fn full_access_only(management: bool) -> Option<EvalPath> {
    Some(EvalPath {
        scp: vec![Level {
            name: "root".into(),
            policies: vec![EvalPolicy::allow_all("FullAWSAccess")],
        }],
        rcp: Vec::new(),
        management,
    })
}

fn run(window: Window, with_before: bool) -> Report {
    let desired = example();
    let after = replay::desired_side(&desired);
    let before: Option<&replay::Resolve<'_>> = if with_before { Some(&bare) } else { None };
    let mut r = Replayer::new(window, before, &after);
    read::read_logs(&root().join("tests/fixtures/cloudtrail"), &mut r).unwrap();
    r.finish()
}

fn since_november() -> Window {
    Window {
        since: Some(parse_time("2026-11-01T00:00:00Z").unwrap()),
        until: None,
    }
}

fn group<'a>(flips: &'a [Flip], account: &str, action: &str) -> &'a Flip {
    flips
        .iter()
        .find(|f| f.account == account && f.action == action)
        .unwrap_or_else(|| panic!("no {action} in {account}: {flips:#?}"))
}

#[test]
fn reads_gzip_and_plain_logs_below_an_organization_trail_and_reports_bad_files() {
    let r = run(Window::default(), true);
    assert_eq!(r.files_read, 3, "{r:#?}");
    assert_eq!(r.records_read, 13);
    assert_eq!(r.file_errors.len(), 1, "{:?}", r.file_errors);
    assert!(r.file_errors[0].0.ends_with("not-cloudtrail.json"));
    assert_eq!(r.bad_records, 0);
}

#[test]
fn a_region_lock_and_a_root_deny_are_newly_denied_with_counts_and_first_and_last_seen() {
    let r = run(since_november(), true);
    let run_instances = group(&r.newly_denied, PROD, "ec2:RunInstances");
    assert_eq!(run_instances.count, 2);
    assert_eq!(
        run_instances.principal,
        "arn:aws:iam::210987654321:role/app/Dev"
    );
    assert_eq!(run_instances.first_seen, "2026-11-01T09:00:00Z");
    assert_eq!(run_instances.last_seen, "2026-11-01T09:30:00Z");
    assert_eq!(run_instances.regions, vec!["us-east-1".to_owned()]);

    let table = group(&r.newly_denied, PROD, "dynamodb:CreateTable");
    assert!(table.decided_by.contains("eu-only"), "{}", table.decided_by);
    assert!(table
        .statement
        .as_deref()
        .is_some_and(|s| s.contains("DenyOutsideAllowedRegions")));

    let bucket = group(&r.newly_denied, SANDBOX, "s3:CreateBucket");
    assert_eq!(bucket.principal, "arn:aws:iam::210987654322:root");
    assert_eq!(bucket.count, 1, "the October event is outside the window");
    assert!(
        bucket.decided_by.contains("no-root"),
        "{}",
        bucket.decided_by
    );

    assert_eq!(r.newly_denied.len(), 3, "{:#?}", r.newly_denied);
    assert!(r.newly_allowed.is_empty());
}

#[test]
fn a_session_arn_never_becomes_the_principal() {
    let r = run(Window::default(), true);
    assert!(group(&r.newly_denied, PROD, "ec2:RunInstances").count > 0);
    for f in r.newly_denied.iter().chain(&r.newly_allowed) {
        assert!(!f.principal.contains(":sts:"), "{}", f.principal);
        assert!(!f.principal.contains("assumed-role"), "{}", f.principal);
    }
}

#[test]
fn exemptions_services_errors_window_and_unmappable_events_are_counted() {
    let r = run(since_november(), true);
    let n = |s: Skip| r.skipped.get(&s).copied().unwrap_or(0);
    assert_eq!(n(Skip::Exempt("service-linked role")), 1, "{:?}", r.skipped);
    assert_eq!(n(Skip::Exempt("management account")), 1);
    assert_eq!(n(Skip::AwsServicePrincipal), 1);
    assert_eq!(n(Skip::NotApiCall), 1);
    assert_eq!(n(Skip::OutsideWindow), 1);
    assert_eq!(n(Skip::AlreadyDenied), 1);
    assert_eq!(
        r.unmappable
            .get(&("sso-oauth.amazonaws.com".into(), "CreateToken".into())),
        Some(&1)
    );
    // 13 records: 1 outside the window, 2 not evaluated before mapping, 1 unmappable.
    assert_eq!(r.events_mapped, 9);
    // Mapped but not evaluated: the two exempt ones and the one already denied.
    assert_eq!(r.evaluated, 6);
}

#[test]
fn the_window_keeps_since_and_drops_until() {
    let only_first = Window {
        since: Some(parse_time("2026-11-01T09:00:00Z").unwrap()),
        until: Some(parse_time("2026-11-01T09:30:00Z").unwrap()),
    };
    let r = run(only_first, true);
    assert_eq!(group(&r.newly_denied, PROD, "ec2:RunInstances").count, 1);
    assert_eq!(r.newly_denied.len(), 1, "{:#?}", r.newly_denied);
    assert!(parse_time("yesterday").is_err());
}

/// validate: "before" is what the log recorded; the result for allowed events is the same.
#[test]
fn without_a_before_side_the_logged_outcome_is_the_baseline() {
    let r = run(since_november(), false);
    assert_eq!(r.newly_denied.len(), 3, "{:#?}", r.newly_denied);
    assert!(r.newly_allowed.is_empty());
    assert_eq!(r.skipped.get(&Skip::AlreadyDenied), Some(&1));
}

/// A request the live organization denied and the change allows is newly allowed.
#[test]
fn an_event_denied_before_and_allowed_after_is_newly_allowed() {
    let desired = example();
    let before = replay::desired_side(&desired);
    let after = |a: &str| bare(a);
    let mut r = Replayer::new(since_november(), Some(&before), &after);
    read::read_logs(&root().join("tests/fixtures/cloudtrail"), &mut r).unwrap();
    let r = r.finish();
    assert!(r.newly_denied.is_empty(), "{:#?}", r.newly_denied);
    let bucket = group(&r.newly_allowed, SANDBOX, "s3:CreateBucket");
    assert!(bucket.decided_by.contains("no-root"));
    assert_eq!(r.newly_allowed.len(), 3);
}

#[test]
fn an_assumed_role_record_maps_to_the_role_and_its_context() {
    let rec = record::parse(serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::210987654321:assumed-role/Dev/alice",
            "accountId": "210987654321",
            "sessionContext": {"sessionIssuer": {"type": "Role",
                "arn": "arn:aws:iam::210987654321:role/app/Dev", "accountId": "210987654321"},
                "attributes": {"mfaAuthenticated": "true"}, "sourceIdentity": "alice"}},
        "eventTime": "2026-11-01T09:00:00Z", "eventSource": "s3.amazonaws.com",
        "eventName": "ListObjectsV2", "awsRegion": "eu-west-1",
        "sourceIPAddress": "2001:db8::1", "vpcEndpointId": "vpce-0abc",
        "resources": [{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::data"}],
        "recipientAccountId": "210987654321", "eventCategory": "Data",
        "someFieldAwsAddsLater": {"x": 1}
    }))
    .unwrap();
    let m = map::map(&rec).unwrap();
    let v = |k: &str| m.request.values(k).map(<[String]>::to_vec);
    assert_eq!(m.action, "s3:ListBucket");
    assert_eq!(m.account, "210987654321");
    assert_eq!(m.principal, "arn:aws:iam::210987654321:role/app/Dev");
    assert_eq!(v("aws:PrincipalArn"), Some(vec![m.principal.clone()]));
    assert_eq!(v("aws:PrincipalType"), Some(vec!["AssumedRole".to_owned()]));
    assert_eq!(
        v("aws:PrincipalAccount"),
        Some(vec!["210987654321".to_owned()])
    );
    assert_eq!(v("aws:RequestedRegion"), Some(vec!["eu-west-1".to_owned()]));
    assert_eq!(v("aws:SourceIp"), Some(vec!["2001:db8::1".to_owned()]));
    assert_eq!(v("aws:ViaAWSService"), Some(vec!["false".to_owned()]));
    assert_eq!(
        v("aws:MultiFactorAuthPresent"),
        Some(vec!["true".to_owned()])
    );
    assert_eq!(v("aws:SourceVpce"), Some(vec!["vpce-0abc".to_owned()]));
    assert_eq!(m.request.resource.as_deref(), Some("arn:aws:s3:::data"));
}

#[test]
fn a_call_through_a_service_is_via_aws_service_and_a_session_without_issuer_is_not_guessed() {
    let via = record::parse(serde_json::json!({
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::210987654322:user/ci",
            "userName": "ci", "invokedBy": "cloudformation.amazonaws.com"},
        "eventTime": "2026-11-01T09:00:00Z", "eventSource": "lambda.amazonaws.com",
        "eventName": "CreateFunction20150331", "awsRegion": "eu-west-1",
        "sourceIPAddress": "cloudformation.amazonaws.com", "recipientAccountId": "210987654322"
    }))
    .unwrap();
    let m = map::map(&via).unwrap();
    assert_eq!(m.action, "lambda:CreateFunction");
    assert_eq!(
        m.request.values("aws:ViaAWSService"),
        Some(&["true".to_owned()][..])
    );
    assert_eq!(
        m.request.values("aws:CalledVia"),
        Some(&["cloudformation.amazonaws.com".to_owned()][..])
    );
    assert_eq!(m.request.values("aws:SourceIp"), None);
    assert_eq!(
        m.request.values("aws:PrincipalType"),
        Some(&["User".to_owned()][..])
    );

    let no_issuer = record::parse(serde_json::json!({
        "userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::210987654321:assumed-role/Dev/alice"},
        "eventTime": "2026-11-01T09:00:00Z", "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject", "awsRegion": "eu-west-1", "recipientAccountId": "210987654321"
    }))
    .unwrap();
    assert_eq!(
        map::map(&no_issuer),
        Err(map::NotMapped::NoPrincipal("AssumedRole".into()))
    );
}

/// Through the binary: `validate --replay --format json` carries the replay section, and a
/// bad `--replay-since` is refused by the argument parser.
#[test]
fn validate_replay_through_the_binary() {
    let out = assert_cmd::Command::cargo_bin("guardrail")
        .unwrap()
        .current_dir(root())
        .args([
            "validate", "--env", "example", "--format", "json", "--replay",
        ])
        .arg(root().join("tests/fixtures/cloudtrail"))
        .args(["--replay-since", "2026-11-01T00:00:00Z"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        v["replay"]["newly_denied"].as_array().map(Vec::len),
        Some(3),
        "{v:#}"
    );
    assert_eq!(v["replay"]["events_read"], 13);

    let human = assert_cmd::Command::cargo_bin("guardrail")
        .unwrap()
        .current_dir(root())
        .args(["validate", "--env", "example", "--replay"])
        .arg(root().join("tests/fixtures/cloudtrail"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("What this change would have blocked"),
        "{text}"
    );
    assert!(text.contains("NEWLY DENIED"), "{text}");

    let bad = assert_cmd::Command::cargo_bin("guardrail")
        .unwrap()
        .current_dir(root())
        .args([
            "validate",
            "--env",
            "example",
            "--replay",
            "x",
            "--replay-since",
            "soon",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// plan's sides: the live organization (a fake's, imported) before, and `plan::projected`
/// with a root-user deny added at the root after.
#[test]
fn plan_replays_between_the_live_organization_and_the_projected_one() {
    use guardrail::live::fake::FakeOrg;
    use guardrail::model::{DesiredPolicy, PolicyType};

    crate::support::rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let app = f
            .add_account("app", "app@example.com", &f.root_id())
            .await
            .unwrap();
        let (live, mut desired, _) = crate::support::import(&f).await;
        desired.policies.insert(
            "deny-root".into(),
            DesiredPolicy {
                name: "deny-root".into(),
                pinned_id: None,
                policy_type: PolicyType::ServiceControlPolicy,
                description: "no root user".into(),
                document: serde_json::json!({"Version": "2012-10-17", "Statement": [{
                    "Sid": "DenyRootUser", "Effect": "Deny", "Action": "*", "Resource": "*",
                    "Condition": {"StringLike": {"aws:PrincipalArn": "arn:*:iam::*:root"}}}]}),
                source: PathBuf::from("deny-root.json"),
                guardrails: vec![None],
            },
        );
        desired.root.policies.insert("deny-root".into());
        let projected = guardrail::plan::projected(&desired, &live);
        let before = replay::live_side(&live);
        let after = replay::desired_side(&projected);
        let mut r = Replayer::new(Window::default(), Some(&before), &after);
        let call = |account: &str, identity: serde_json::Value| {
            record::parse(serde_json::json!({
                "userIdentity": identity, "eventTime": "2026-11-01T09:00:00Z",
                "eventSource": "s3.amazonaws.com", "eventName": "CreateBucket",
                "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.1",
                "recipientAccountId": account, "eventType": "AwsApiCall"
            }))
            .unwrap()
        };
        let root =
            |a: &str| serde_json::json!({"type": "Root", "arn": format!("arn:aws:iam::{a}:root")});
        r.add(&call(&app, root(&app)));
        r.add(&call(&app, root(&app)));
        r.add(&call("999999999999", root("999999999999")));
        r.add(&call(
            &app,
            serde_json::json!({"type": "IAMUser",
            "arn": format!("arn:aws:iam::{app}:user/ci"), "userName": "ci"}),
        ));
        r.add(&call("000000000000", root("000000000000")));
        let r = r.finish();
        let bucket = group(&r.newly_denied, &app, "s3:CreateBucket");
        assert_eq!(bucket.count, 2);
        assert_eq!(bucket.policy.as_deref(), Some("deny-root"));
        assert_eq!(bucket.statement.as_deref(), Some("DenyRootUser"));
        assert_eq!(r.newly_denied.len(), 1, "{:#?}", r.newly_denied);
        assert_eq!(r.skipped.get(&Skip::Exempt("management account")), Some(&1));
        assert_eq!(r.skipped.get(&Skip::UnknownAccount), Some(&1));
        assert_eq!(r.evaluated, 3);
    });
}

/// The PR comment's opening line: the totals of what would have been denied, over the days of
/// CloudTrail replayed; when nothing would, how many requests were replayed.
#[test]
fn the_markdown_opener_counts_requests_principals_accounts_and_days() {
    let r = run(since_november(), true);
    assert_eq!(
        guardrail::render::replay_markdown_opener(&r),
        "⛔ **CloudTrail replay:** this change would have denied 4 request(s) from 2 principal(s) \
         in 2 account(s) over 2 day(s) of CloudTrail (2026-11-01 .. 2026-11-02)."
    );
    let mut unchanged = Replayer::new(since_november(), Some(&bare), &bare);
    read::read_logs(&root().join("tests/fixtures/cloudtrail"), &mut unchanged).unwrap();
    let unchanged = unchanged.finish();
    assert!(unchanged.newly_denied.is_empty() && unchanged.evaluated > 0);
    assert_eq!(
        guardrail::render::replay_markdown_opener(&unchanged),
        format!(
            "✅ **CloudTrail replay:** this change would have denied none of the {} request(s) \
             replayed over 2 day(s) of CloudTrail (2026-11-01 .. 2026-11-02).",
            unchanged.evaluated
        )
    );
}
