//! Cross-account requests in replay: SCPs apply in the calling principal's account, RCPs in
//! the resource owner's (../shared/reference/aws-rules.md §2, §3). Four accounts: LOCKED (an
//! SCP region lock), GUARDED (an RCP that denies deleting S3 objects), PLAIN (neither) and
//! the management account; OUTSIDE is not in the organization. Before the change every
//! account has FullAWSAccess alone.

use guardrail::plan::verify::management_path;
use guardrail::policy::eval::{self, EvalPolicy, Layer, Level, Path as EvalPath, Request};
use guardrail::replay::{map, record, Flip, Replayer, Report, Skip, Window};
use serde_json::{json, Value};

const LOCKED: &str = "210000000001";
const GUARDED: &str = "210000000002";
const PLAIN: &str = "210000000003";
const MANAGEMENT: &str = "123456789012";
const OUTSIDE: &str = "999999999999";

fn level(name: &str, policies: Vec<EvalPolicy>) -> Level {
    Level {
        name: name.into(),
        policies,
    }
}

/// An account's path: FullAWSAccess on both levels, RCPFullAWSAccess everywhere, plus the
/// account's own SCP and RCP.
fn member(account: &str, scp: Option<Value>, rcp: Option<Value>) -> EvalPath {
    let own = |full: &str, doc: Option<Value>, name: &str| {
        let mut v = vec![EvalPolicy::allow_all(full)];
        v.extend(doc.map(|d| EvalPolicy::new(name, &d, vec![Some(name.to_owned())])));
        v
    };
    EvalPath {
        scp: vec![
            level("root", vec![EvalPolicy::allow_all("FullAWSAccess")]),
            level(
                &format!("account {account}"),
                own("FullAWSAccess", scp, "region-lock"),
            ),
        ],
        rcp: vec![
            level("root", vec![EvalPolicy::allow_all("RCPFullAWSAccess")]),
            level(
                &format!("account {account}"),
                own("RCPFullAWSAccess", rcp, "no-deletes"),
            ),
        ],
        management: false,
    }
}

fn region_lock() -> Value {
    json!({"Statement": [{"Sid": "DenyOutsideEu", "Effect": "Deny", "Action": "*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}}]})
}

fn no_deletes() -> Value {
    json!({"Statement": [{"Sid": "DenyDeletes", "Effect": "Deny", "Principal": "*",
        "Action": "s3:DeleteObject", "Resource": "*"}]})
}

fn before(account: &str) -> Option<EvalPath> {
    match account {
        MANAGEMENT => Some(management_path()),
        LOCKED | GUARDED | PLAIN => Some(member(account, None, None)),
        _ => None,
    }
}

fn after(account: &str) -> Option<EvalPath> {
    match account {
        MANAGEMENT => Some(management_path()),
        LOCKED => Some(member(account, Some(region_lock()), None)),
        GUARDED => Some(member(account, None, Some(no_deletes()))),
        PLAIN => Some(member(account, None, None)),
        _ => None,
    }
}

/// A role in `caller` calling S3 on an object of `owner`'s bucket; logged in `owner`.
fn call(caller: &str, owner: &str, event: &str, region: &str) -> Value {
    json!({
        "userIdentity": {"type": "AssumedRole",
            "arn": format!("arn:aws:sts::{caller}:assumed-role/App/s"), "accountId": caller,
            "sessionContext": {"sessionIssuer": {"type": "Role",
                "arn": format!("arn:aws:iam::{caller}:role/App"), "accountId": caller}}},
        "eventTime": "2026-11-01T09:00:00Z", "eventSource": "s3.amazonaws.com",
        "eventName": event, "awsRegion": region, "sourceIPAddress": "198.51.100.1",
        "eventType": "AwsApiCall", "eventCategory": "Data",
        "resources": [{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::b-{owner}/k")},
            {"type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::b-{owner}"), "accountId": owner}],
        "recipientAccountId": owner
    })
}

fn replay(records: &[Value]) -> Report {
    let mut r = Replayer::new(Window::default(), Some(&before), &after);
    for v in records {
        r.add(&record::parse(v.clone()).unwrap());
    }
    r.finish()
}

fn flips(r: &Report) -> Vec<(String, String, String)> {
    let key = |f: &Flip| {
        let by = f.statement.clone().unwrap_or_default();
        (f.account.clone(), f.principal.clone(), by)
    };
    let mut v: Vec<_> = r.newly_denied.iter().map(key).collect();
    v.sort();
    v
}

fn role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/App")
}

#[test]
fn a_record_maps_to_its_callers_account_and_its_resource_owners() {
    let m =
        map::map(&record::parse(call(LOCKED, PLAIN, "GetObject", "us-east-1")).unwrap()).unwrap();
    assert_eq!(m.account, PLAIN, "recipientAccountId");
    assert_eq!(m.caller_account, LOCKED);
    assert_eq!(m.resource_account, PLAIN, "resources[].accountId");
    // Without resources[], the resource is the recipient's.
    let mut v = call(LOCKED, GUARDED, "ListBuckets", "us-east-1");
    v["resources"] = json!([]);
    let m = map::map(&record::parse(v).unwrap()).unwrap();
    assert_eq!(
        (m.caller_account.as_str(), m.resource_account.as_str()),
        (LOCKED, GUARDED)
    );
}

/// The caller's account has the region lock, the resource's does not: newly denied, by the
/// caller's SCP, counted against the caller's account. The reverse (a caller without the lock
/// on a resource in the locked account) is not denied: SCPs do not follow the resource.
#[test]
fn the_callers_scps_decide_not_the_resource_owners() {
    let r = replay(&[
        call(LOCKED, PLAIN, "GetObject", "us-east-1"),
        call(PLAIN, LOCKED, "GetObject", "us-east-1"),
    ]);
    assert_eq!(
        flips(&r),
        vec![(LOCKED.into(), role(LOCKED), "DenyOutsideEu".into())],
        "{:#?}",
        r.newly_denied
    );
    assert_eq!(r.evaluated, 2);
}

/// The resource owner's RCP denies whoever calls; the caller's RCPs do not apply to another
/// account's resource.
#[test]
fn the_resource_owners_rcps_decide_not_the_callers() {
    let r = replay(&[
        call(PLAIN, GUARDED, "DeleteObject", "eu-west-1"),
        call(GUARDED, PLAIN, "DeleteObject", "eu-west-1"),
    ]);
    assert_eq!(
        flips(&r),
        vec![(GUARDED.into(), role(PLAIN), "DenyDeletes".into())],
        "{:#?}",
        r.newly_denied
    );
    assert_eq!(r.evaluated, 2);
}

/// A caller outside the organization is subject to the owner's RCPs only: the lock never
/// applies to it, the RCP does. A request with neither account in the organization is not
/// evaluated.
#[test]
fn a_caller_outside_the_organization_meets_only_rcps() {
    let r = replay(&[
        call(OUTSIDE, LOCKED, "GetObject", "us-east-1"),
        call(OUTSIDE, GUARDED, "DeleteObject", "us-east-1"),
        call(OUTSIDE, OUTSIDE, "DeleteObject", "us-east-1"),
    ]);
    assert_eq!(
        flips(&r),
        vec![(GUARDED.into(), role(OUTSIDE), "DenyDeletes".into())],
        "{:#?}",
        r.newly_denied
    );
    let d = r.newly_denied[0].decided_by.as_str();
    assert!(d.contains("RCP"), "{d}");
    assert_eq!(r.evaluated, 2);
    assert_eq!(r.skipped.get(&Skip::UnknownAccount), Some(&1));
}

/// The management account's exemption is per layer: its principals meet no SCP but a member's
/// RCPs still guard the member's resources; its resources meet no RCP but a member caller's
/// SCPs still apply. Within the management account neither layer applies.
#[test]
fn the_management_exemption_applies_per_layer() {
    let r = replay(&[
        call(MANAGEMENT, GUARDED, "DeleteObject", "us-east-1"),
        call(LOCKED, MANAGEMENT, "GetObject", "us-east-1"),
        call(MANAGEMENT, MANAGEMENT, "DeleteObject", "us-east-1"),
        call(MANAGEMENT, LOCKED, "GetObject", "us-east-1"),
    ]);
    assert_eq!(
        flips(&r),
        vec![
            (LOCKED.into(), role(LOCKED), "DenyOutsideEu".into()),
            (GUARDED.into(), role(MANAGEMENT), "DenyDeletes".into()),
        ],
        "{:#?}",
        r.newly_denied
    );
    assert_eq!(
        r.skipped.get(&Skip::Exempt("management account")),
        Some(&1),
        "{:?}",
        r.skipped
    );
    assert_eq!(r.evaluated, 3);
}

/// validate reads nothing live: an account the config does not list is unknown, not outside
/// the organization, so the request is not evaluated and the label says why. Without
/// `config_only` the same account counts as outside (no SCP layer for it).
#[test]
fn validate_leaves_accounts_the_config_does_not_list_unevaluated() {
    let records = [
        call(OUTSIDE, LOCKED, "GetObject", "us-east-1"),
        call(LOCKED, OUTSIDE, "GetObject", "us-east-1"),
    ];
    let run = |config_only: bool| {
        let mut r = Replayer::new(Window::default(), None, &after);
        if config_only {
            r = r.config_only();
        }
        for v in &records {
            r.add(&record::parse(v.clone()).unwrap());
        }
        r.finish()
    };
    let offline = run(true);
    assert_eq!(offline.skipped.get(&Skip::NotInConfig), Some(&2));
    assert!(offline.newly_denied.is_empty());
    assert_eq!(
        Skip::NotInConfig.label(),
        "account not in the config (validate is offline)"
    );
    let online = run(false);
    assert_eq!(
        flips(&online),
        vec![(LOCKED.into(), role(LOCKED), "DenyOutsideEu".into())]
    );
}

#[test]
fn across_one_account_is_its_own_path_and_outside_accounts_drop_their_layer() {
    let p = after(LOCKED).unwrap();
    assert_eq!(EvalPath::across(Some(&p), Some(&p)), Some(p.clone()));
    assert_eq!(
        EvalPath::across(Some(&management_path()), Some(&management_path())),
        Some(management_path())
    );
    assert_eq!(EvalPath::across(None, None), None);
    let g = after(GUARDED).unwrap();
    let outside = EvalPath::across(None, Some(&g)).unwrap();
    assert!(outside.scp.is_empty() && !outside.management);
    assert_eq!(outside.rcp, g.rcp);
    let req = Request::new("s3:DeleteObject")
        .principal(&role(OUTSIDE))
        .region("us-east-1");
    match eval::decide(&outside, &req) {
        eval::Decision::Deny(d) => assert_eq!(d.layer, Layer::Rcp),
        other => panic!("{other:?}"),
    }
}

/// One call is counted once. AWS delivers a cross-account call to the caller's account and to
/// the resource owner's, each copy with its own `eventID` and one `sharedEventID` (the record
/// contents reference); two trails, or an overlapping sync, put the same `eventID` in two files.
/// Either copy read again is a duplicate; distinct events that look alike, and records without
/// ids, all count.
#[test]
fn an_event_logged_in_two_accounts_or_read_twice_is_replayed_once() {
    let with_ids = |recipient: &str, id: &str, shared: Option<&str>| {
        let mut v = call(LOCKED, PLAIN, "GetObject", "us-east-1");
        v["recipientAccountId"] = json!(recipient);
        v["eventID"] = json!(id);
        if let Some(s) = shared {
            v["sharedEventID"] = json!(s);
        }
        v
    };
    let tmp = tempfile::tempdir().unwrap();
    let write = |account: &str, name: &str, records: Vec<Value>| {
        let dir = tmp.path().join(format!(
            "AWSLogs/o-aa11bb22cc/{account}/CloudTrail/us-east-1/2026/11/01"
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let body = json!({ "Records": records }).to_string();
        std::fs::write(dir.join(name), body).unwrap();
    };
    // The caller's copy and the owner's copy of one call, then the caller's copy again (a
    // second trail), two alike calls with their own ids, and two alike records without ids.
    write(LOCKED, "a.json", vec![with_ids(LOCKED, "e-1", Some("s-1"))]);
    write(PLAIN, "b.json", vec![with_ids(PLAIN, "e-2", Some("s-1"))]);
    let mut no_id = call(LOCKED, PLAIN, "GetObject", "us-east-1");
    no_id["recipientAccountId"] = json!(LOCKED);
    write(
        LOCKED,
        "c.json",
        vec![
            with_ids(LOCKED, "e-1", Some("s-1")),
            with_ids(LOCKED, "e-3", None),
            with_ids(LOCKED, "e-4", None),
            no_id.clone(),
            no_id,
        ],
    );
    let mut r = Replayer::new(Window::default(), Some(&before), &after);
    guardrail::replay::read::read_logs(tmp.path(), &mut r).unwrap();
    let r = r.finish();
    assert_eq!(r.records_read, 7);
    assert_eq!(r.skipped.get(&Skip::Duplicate), Some(&2), "{:?}", r.skipped);
    assert_eq!(
        flips(&r),
        vec![(LOCKED.into(), role(LOCKED), "DenyOutsideEu".into())]
    );
    assert_eq!(
        r.newly_denied[0].count, 5,
        "one shared call, two alike, two without ids"
    );
    assert_eq!(r.evaluated, 5);
    assert_eq!(
        Skip::Duplicate.label(),
        "duplicate (eventID or sharedEventID seen before)"
    );
}

/// Newly denied requests are grouped by region too (the grouping: statement, account,
/// principal, action and region): the same call in two regions is two groups, each with its
/// own count.
#[test]
fn flips_are_grouped_by_region() {
    let r = replay(&[
        call(LOCKED, PLAIN, "GetObject", "us-east-1"),
        call(LOCKED, PLAIN, "GetObject", "us-west-2"),
        call(LOCKED, PLAIN, "GetObject", "us-east-1"),
    ]);
    let groups: Vec<(Vec<String>, usize)> = r
        .newly_denied
        .iter()
        .map(|f| (f.regions.clone(), f.count))
        .collect();
    assert_eq!(
        groups,
        vec![
            (vec!["us-east-1".to_owned()], 2),
            (vec!["us-west-2".to_owned()], 1)
        ]
    );
    assert!(r.newly_denied.iter().all(|f| f.account == LOCKED));
}

/// Two copies of one cross-account call whose record does not name the resource's account:
/// each copy takes its own recipient as the owner whose RCPs apply, so they are not one
/// request and both are evaluated (deduplicating them would keep whichever copy came first,
/// and with it the wrong account's RCPs).
#[test]
fn shared_copies_that_do_not_name_the_owner_are_both_kept() {
    let named = |recipient: &str, id: &str| {
        let mut v = call(LOCKED, PLAIN, "GetObject", "us-east-1");
        v["recipientAccountId"] = json!(recipient);
        v["eventID"] = json!(id);
        v["sharedEventID"] = json!("s-1");
        v
    };
    let copy = |recipient: &str, id: &str| {
        let mut v = named(recipient, id);
        for res in v["resources"].as_array_mut().unwrap() {
            res.as_object_mut().unwrap().remove("accountId");
        }
        v
    };
    let r = replay(&[copy(LOCKED, "e-1"), copy(PLAIN, "e-2")]);
    assert_eq!(r.skipped.get(&Skip::Duplicate), None, "{:?}", r.skipped);
    assert_eq!(r.evaluated, 2);
    // Named, the owner makes them one request.
    let r = replay(&[named(LOCKED, "e-1"), named(PLAIN, "e-2")]);
    assert_eq!(r.skipped.get(&Skip::Duplicate), Some(&1), "{:?}", r.skipped);
    assert_eq!(r.evaluated, 1);
}
