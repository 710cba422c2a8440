//! `observe` and staged rollout on the fakes: a canary-stage guardrail applied only on the
//! canary OU; generated access-denied records attributed to the guardrail that denied them (by
//! the policy ARN in AWS's message, and by re-evaluation when there is none); the deployer and
//! break-glass flag; promote's decision and its edit of the config; CloudTrail's event history
//! through the fake.

use guardrail::apply;
use guardrail::live::cloudtrail::{read_events, EventHistory, Scope};
use guardrail::live::cloudtrail_fake::FakeEventHistory;
use guardrail::live::fake::FakeOrg;
use guardrail::model::{Desired, LiveOrg, OuPath};
use guardrail::observe::{Observer, Report, Via};
use guardrail::plan;
use guardrail::replay::{parse_time, Window};
use guardrail::rollout::{self, Verdict};
use serde_json::{json, Value};

use crate::support::{parse_with, read, rt};

const MANAGEMENT: &str = "123456789012";

/// The config, with the two member accounts' ids.
fn config(canary: &str, prod: &str, stage: &str) -> String {
    format!(
        r#"
[organization]
management_account = "{MANAGEMENT}"
deployer = "arn:aws:iam::{MANAGEMENT}:role/guardrail-deployer"
break_glass = ["arn:aws:iam::*:role/BreakGlass"]

[rollout]
canary = ["Workloads/Canary"]
min_days = 7

[guardrails.eu-only]
template = "region-lock"
stage = "{stage}"  # canary first
allowed_regions = ["eu-west-1"]

[guardrails.no-root]
template = "root-user-deny"

[root]
policies = ["FullAWSAccess"]
guardrails = ["no-root"]

[ous."Workloads"]
policies = ["FullAWSAccess"]
guardrails = ["eu-only"]

[ous."Workloads/Canary"]
policies = ["FullAWSAccess"]

[ous."Workloads/Prod"]
policies = ["FullAWSAccess"]

[accounts.canary-1]
id = "{canary}"
ou = "Workloads/Canary"
policies = ["FullAWSAccess"]

[accounts.prod-1]
id = "{prod}"
ou = "Workloads/Prod"
policies = ["FullAWSAccess"]
"#
    )
}

struct World {
    live: LiveOrg,
    desired: Desired,
    canary: String,
    prod: String,
}

/// An organization with the config applied at the given stage.
fn world(stage: &str) -> World {
    rt().block_on(async {
        let f = FakeOrg::new(MANAGEMENT);
        let root = f.root_id();
        let canary = f
            .add_account("canary-1", "c@example.com", &root)
            .await
            .unwrap();
        let prod = f
            .add_account("prod-1", "p@example.com", &root)
            .await
            .unwrap();
        let desired = parse_with(&config(&canary, &prod, stage), &Default::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let live = read(&f).await;
        let p = plan::plan(&desired, &live).unwrap_or_else(|r| panic!("{r:?}"));
        let out = apply::execute_all(
            &p,
            &live,
            &f,
            None,
            apply::RetryPolicy::default(),
            &|_, _, _| {},
        )
        .await;
        assert!(out.succeeded(), "{:?}", out.steps);
        let live = read(&f).await;
        assert!(plan::plan(&desired, &live).unwrap().is_empty());
        World {
            live,
            desired,
            canary,
            prod,
        }
    })
}

/// The live policy whose compiled guardrails include `g`.
fn policy_of<'a>(w: &'a World, g: &str) -> &'a guardrail::model::LivePolicy {
    let name = w
        .desired
        .policies
        .values()
        .find(|p| p.guardrails.iter().flatten().any(|x| x == g))
        .map(|p| p.name.clone())
        .unwrap_or_else(|| panic!("no policy for {g}"));
    w.live
        .policies
        .values()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} not live"))
}

/// Where a policy is attached, as OU paths and account ids.
fn attached(w: &World, g: &str) -> Vec<String> {
    let mut v: Vec<String> = policy_of(w, g)
        .targets
        .iter()
        .map(|t| match w.live.path_of(t) {
            Some(p) if !p.is_root() => p.to_string(),
            Some(_) => "/".into(),
            None => t.clone(),
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_canary_guardrail_is_attached_only_on_the_canary_ou_and_everywhere_after_promotion() {
    let w = world("canary");
    assert_eq!(attached(&w, "eu-only"), vec!["Workloads/Canary"]);
    assert_eq!(attached(&w, "no-root"), vec!["/"]);
    let canary = OuPath::parse("Workloads/Canary").unwrap();
    assert!(w.desired.ous[&canary].guardrails.contains("eu-only"));
    let all = world("all");
    assert_eq!(attached(&all, "eu-only"), vec!["Workloads"]);
    // Promotion's edit, parsed back, is the stage-all config.
    let text = config(&w.canary, &w.prod, "canary");
    let promoted = rollout::promote_text(&text, "eu-only").unwrap();
    assert_eq!(promoted, config(&w.canary, &w.prod, "all"));
}

/// `promote` needs the canary stage applied: a quiet canary without the guardrail on it
/// shows nothing.
#[test]
fn promotion_needs_the_guardrail_attached_on_the_canary() {
    let w = world("canary");
    assert!(rollout::applied_on_canary(&w.desired, &w.live, "eu-only"));
    let mut not_applied = w.live.clone();
    let id = policy_of(&w, "eu-only").id.clone();
    not_applied.policies.get_mut(&id).unwrap().targets.clear();
    assert!(!rollout::applied_on_canary(
        &w.desired,
        &not_applied,
        "eu-only"
    ));
    assert!(!rollout::applied_on_canary(
        &w.desired,
        &w.live,
        "no-such-guardrail"
    ));
}

#[test]
fn canary_stage_without_canary_ous_and_unknown_stages_are_config_errors() {
    let text = config("111111111111", "222222222222", "canary")
        .replace("canary = [\"Workloads/Canary\"]", "canary = [\"Nowhere\"]");
    let e = parse_with(&text, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("rollout.canary"), "{e}");
    let text = config("111111111111", "222222222222", "later");
    let e = parse_with(&text, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("guardrails.eu-only.stage"), "{e}");
    // An empty observation window would let promote pass on no evidence.
    let text = config("111111111111", "222222222222", "canary");
    assert!(text.contains("min_days = 7"));
    let e = parse_with(
        &text.replace("min_days = 7", "min_days = 0"),
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("rollout.min_days"), "{e}");
}

/// One access-denied record, in CloudTrail's format.
fn denial(account: &str, region: &str, who: &Value, event: (&str, &str), message: &str) -> Value {
    json!({
        "eventVersion": "1.11",
        "userIdentity": who,
        "eventTime": "2026-11-20T10:00:00Z",
        "eventSource": event.0,
        "eventName": event.1,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.9",
        "errorCode": if event.0 == "ec2.amazonaws.com" { "Client.UnauthorizedOperation" } else { "AccessDenied" },
        "errorMessage": message,
        "eventType": "AwsApiCall",
        "eventCategory": "Management",
        "recipientAccountId": account,
    })
}

fn role(account: &str, name: &str) -> Value {
    json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{account}:assumed-role/{name}/s"),
        "accountId": account,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{account}:role/{name}"), "accountId": account}}})
}

fn root_user(account: &str) -> Value {
    json!({"type": "Root", "arn": format!("arn:aws:iam::{account}:root"), "accountId": account})
}

fn scp_message(w: &World, g: &str) -> String {
    let p = policy_of(w, g);
    format!(
        "You are not authorized to perform this operation. User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: ec2:RunInstances with an explicit deny in a service control policy: arn:aws:organizations::{MANAGEMENT}:policy/{}/service_control_policy/{}",
        w.live.org_id, p.id
    )
}

fn window() -> Window {
    Window {
        since: Some(parse_time("2026-11-13T00:00:00Z").unwrap()),
        until: None,
    }
}

fn observe(w: &World, records: Vec<Value>) -> Report {
    let mut o = Observer::new(&w.live, &w.desired, window());
    for r in records {
        o.add_value(r);
    }
    o.finish()
}

#[test]
fn generated_denials_are_attributed_to_the_guardrail_that_denied_them() {
    let w = world("canary");
    let run = ("ec2.amazonaws.com", "RunInstances");
    let bucket = ("s3.amazonaws.com", "CreateBucket");
    let lock = scp_message(&w, "eu-only");
    let no_root = scp_message(&w, "no-root");
    let implicit = "User: x is not authorized to perform: ec2:RunInstances";
    // (record, expected guardrail, expected attribution), built from what each guardrail denies.
    let mut cases: Vec<(Value, Option<&str>, Via)> = Vec::new();
    for i in 0..6 {
        let region = ["us-west-2", "ap-south-1", "sa-east-1"][i % 3];
        let dev = role(&w.canary, &format!("dev{i}"));
        cases.push((
            denial(&w.canary, region, &dev, run, &lock),
            Some("eu-only"),
            Via::Message,
        ));
        cases.push((
            denial(&w.canary, region, &dev, run, implicit),
            Some("eu-only"),
            Via::Reevaluated,
        ));
        let rootu = root_user(&w.prod);
        cases.push((
            denial(&w.prod, "eu-west-1", &rootu, bucket, &no_root),
            Some("no-root"),
            Via::Message,
        ));
        cases.push((
            denial(&w.prod, "eu-west-1", &rootu, bucket, "Access Denied"),
            Some("no-root"),
            Via::Reevaluated,
        ));
        // Outside the canary the region lock is not attached: an IAM denial, not the org's.
        // (The caller must be outside too: SCPs apply in the caller's account.)
        let prod_dev = role(&w.prod, &format!("dev{i}"));
        cases.push((
            denial(&w.prod, region, &prod_dev, run, implicit),
            None,
            Via::AllowedByOrganization,
        ));
        cases.push((
            denial(&w.prod, region, &dev, run, &format!("with an explicit deny in an identity-based policy: arn:aws:iam::{}:policy/NoEc2", w.prod)),
            None,
            Via::NotOrganization,
        ));
    }
    for (record, guardrail, via) in cases {
        let r = observe(&w, vec![record.clone()]);
        assert_eq!(r.groups.len(), 1, "{record}");
        let g = &r.groups[0];
        assert_eq!(
            g.guardrails.first().map(String::as_str),
            guardrail,
            "{record}\n{g:?}"
        );
        assert_eq!(g.via, via, "{record}");
        assert!(!g.protected);
    }
    assert_eq!(observe(&w, Vec::new()).denials, 0);
}

#[test]
fn summaries_count_by_guardrail_account_and_principal_and_promote_is_refused_on_canary_denials() {
    let w = world("canary");
    let run = ("ec2.amazonaws.com", "RunInstances");
    let lock = scp_message(&w, "eu-only");
    let mut records = Vec::new();
    for i in 0..5 {
        records.push(denial(
            &w.canary,
            "us-west-2",
            &role(&w.canary, "Dev"),
            run,
            &lock,
        ));
        let mut old = denial(&w.canary, "us-west-2", &role(&w.canary, "Dev"), run, &lock);
        old["eventTime"] = json!(format!("2026-10-0{}T00:00:00Z", i + 1));
        records.push(old);
    }
    records.push(json!({"eventTime": "2026-11-20T00:00:00Z", "errorCode": "AccessDenied", "userIdentity": "not an object"}));
    records.push(
        denial(&w.canary, "us-west-2", &role(&w.canary, "Dev"), run, &lock)
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o.remove("errorCode");
                Value::Object(o)
            })
            .unwrap(),
    );
    let r = observe(&w, records);
    assert_eq!(r.denials, 5);
    assert_eq!(r.outside_window, 5);
    assert_eq!(r.bad_records, 1);
    assert_eq!(
        r.by(|g| g.guardrails.clone()),
        vec![("eu-only".to_owned(), 5)]
    );
    assert_eq!(
        r.by(|g| vec![g.ou.clone()]),
        vec![("Workloads/Canary".to_owned(), 5)]
    );
    assert_eq!(
        r.by(|g| vec![g.principal.clone()]),
        vec![(format!("arn:aws:iam::{}:role/Dev", w.canary), 5)]
    );
    let canary = rollout::canary_accounts(&w.desired, &w.live);
    assert_eq!(canary, vec![w.canary.clone()]);
    assert_eq!(
        rollout::decide(&r, "eu-only", &canary),
        Verdict::Refused { denials: 5 }
    );
    assert_eq!(rollout::decide(&r, "no-root", &canary), Verdict::Allowed);
    assert_eq!(
        rollout::decide(&observe(&w, Vec::new()), "eu-only", &canary),
        Verdict::Allowed
    );
}

#[test]
fn a_denial_of_the_deployer_or_break_glass_by_an_organization_policy_is_flagged() {
    let w = world("canary");
    let run = ("ec2.amazonaws.com", "RunInstances");
    let lock = scp_message(&w, "eu-only");
    let glass = denial(
        &w.canary,
        "us-west-2",
        &role(&w.canary, "BreakGlass"),
        run,
        &lock,
    );
    let member = denial(
        &w.canary,
        "us-west-2",
        &role(&w.canary, "OrganizationAccountAccessRole"),
        run,
        &lock,
    );
    let iam_only = denial(
        &w.canary,
        "us-west-2",
        &role(&w.canary, "BreakGlass"),
        run,
        "no identity-based policy allows the ec2:RunInstances action",
    );
    let dev = denial(&w.canary, "us-west-2", &role(&w.canary, "Dev"), run, &lock);
    let r = observe(&w, vec![glass, member, iam_only, dev]);
    let protected: Vec<&str> = r.protected().map(|g| g.principal.as_str()).collect();
    assert_eq!(
        protected,
        vec![
            format!("arn:aws:iam::{}:role/BreakGlass", w.canary).as_str(),
            format!(
                "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
                w.canary
            )
            .as_str(),
        ]
    );
    // The break-glass role is exempt in the template: re-evaluated, the organization allows
    // it, so the IAM-only denial is not the organization's.
    assert!(r
        .groups
        .iter()
        .any(|g| !g.protected && g.via == Via::AllowedByOrganization));
}

#[test]
fn the_event_history_reads_every_scope_in_pages_within_the_window() {
    rt().block_on(async {
        let h = FakeEventHistory::new();
        let who = role("210987654321", "Dev");
        for i in 0..120 {
            let mut e = denial(
                "210987654321",
                "us-west-2",
                &who,
                ("ec2.amazonaws.com", "RunInstances"),
                "x",
            );
            e["eventTime"] = json!(format!("2026-11-{:02}T00:00:00Z", 1 + i % 28));
            h.record(&e).unwrap();
        }
        let e = denial(
            "210987654322",
            "eu-west-1",
            &who,
            ("ec2.amazonaws.com", "RunInstances"),
            "x",
        );
        h.record(&e).unwrap();
        h.refuse("210987654399");
        let scopes = vec![
            Scope {
                account: "210987654321".into(),
                region: "us-west-2".into(),
            },
            Scope {
                account: "210987654322".into(),
                region: "eu-west-1".into(),
            },
            Scope {
                account: "210987654322".into(),
                region: "us-west-2".into(),
            },
        ];
        let (start, end) = (
            parse_time("2026-11-15T00:00:00Z").unwrap(),
            parse_time("2026-11-30T00:00:00Z").unwrap(),
        );
        let got: Vec<(Scope, Vec<String>)> = read_events(&h, &scopes, start, end, 2)
            .await
            .unwrap()
            .into_iter()
            .map(|(s, r)| (s, r.unwrap()))
            .collect();
        // Days 15..=28 of 28: 14 days × 120/28 events each (4 or 5).
        let expected = (0..120).filter(|i| 1 + i % 28 >= 15).count();
        assert_eq!(got[0].1.len(), expected);
        assert_eq!(got[1].1.len(), 1, "2026-11-20 is in the window");
        assert_eq!(got[2].1.len(), 0);
        assert_eq!(got.iter().map(|g| g.1.len()).sum::<usize>(), expected + 1);
        // Pages of 50, one (empty) page for an empty history.
        assert_eq!(
            h.stats().get("cloudtrail:LookupEvents"),
            expected.div_ceil(50) as u64 + 2
        );
        let refused = Scope {
            account: "210987654399".into(),
            region: "us-west-2".into(),
        };
        // One refusing account spoils only itself; all refusing is the run's error.
        let mixed = read_events(&h, &[refused.clone(), scopes[1].clone()], start, end, 1)
            .await
            .unwrap();
        assert!(mixed[0].1.is_ok() && mixed[1].1.is_err(), "{mixed:?}");
        assert!(read_events(&h, &[refused], start, end, 1).await.is_err());
    });
}

/// A canary principal denied on another account's resource: AWS evaluates the caller's SCPs,
/// so the canary's region lock decided, and the denial counts against the canary account
/// (where promote looks), not against the account that logged it. The reverse, a prod
/// principal on a canary resource, is not the lock's doing: SCPs do not follow the resource.
#[test]
fn a_cross_account_denial_counts_against_the_callers_account() {
    let w = world("canary");
    let get = ("s3.amazonaws.com", "GetObject");
    let on = |owner: &str, who: &str, message: &str| {
        let mut v = denial(owner, "us-west-2", &role(who, "Dev"), get, message);
        v["resources"] = json!([{"type": "AWS::S3::Bucket",
            "ARN": format!("arn:aws:s3:::data-{owner}"), "accountId": owner}]);
        v
    };
    let implicit = on(&w.prod, &w.canary, "Access Denied");
    let named = on(&w.prod, &w.canary, &scp_message(&w, "eu-only"));
    for (record, via) in [(implicit.clone(), Via::Reevaluated), (named, Via::Message)] {
        let r = observe(&w, vec![record]);
        assert_eq!(r.groups.len(), 1);
        let g = &r.groups[0];
        assert_eq!(g.guardrails, vec!["eu-only".to_owned()], "{g:?}");
        assert_eq!(g.via, via);
        assert_eq!(
            (g.account.as_str(), g.ou.as_str()),
            (w.canary.as_str(), "Workloads/Canary")
        );
    }
    let canary = rollout::canary_accounts(&w.desired, &w.live);
    assert_eq!(
        rollout::decide(&observe(&w, vec![implicit]), "eu-only", &canary),
        Verdict::Refused { denials: 1 }
    );
    let reverse = observe(&w, vec![on(&w.canary, &w.prod, "Access Denied")]);
    assert_eq!(reverse.groups[0].via, Via::AllowedByOrganization);
    assert_eq!(
        reverse.groups[0].account, w.canary,
        "the account that logged it"
    );
}

/// AWS delivers a cross-account denial to the caller's account and to the resource owner's,
/// each copy with its own `eventID` and one `sharedEventID`: it is one denial. The same
/// `eventID` read again (a second trail) is one too; another denial with its own ids counts.
#[test]
fn a_denial_logged_in_two_accounts_counts_once() {
    let w = world("canary");
    let copy = |logged: &str, id: &str| {
        let who = role(&w.canary, "Dev");
        let get = ("s3.amazonaws.com", "GetObject");
        let mut v = denial(logged, "us-west-2", &who, get, "Access Denied");
        v["resources"] = json!([{"type": "AWS::S3::Bucket",
            "ARN": format!("arn:aws:s3:::data-{}", w.prod), "accountId": w.prod}]);
        v["eventID"] = json!(id);
        v["sharedEventID"] = json!(format!("shared-{}", &id[..3]));
        v
    };
    let r = observe(
        &w,
        vec![
            copy(&w.canary, "one-a"),
            copy(&w.prod, "one-b"),
            copy(&w.canary, "one-a"),
            copy(&w.canary, "two-a"),
        ],
    );
    assert_eq!((r.denials, r.duplicates), (2, 2), "{r:#?}");
    assert_eq!(r.denials_by("eu-only", None), 2);
    let src = guardrail::render::observe::Source {
        env: "prod",
        from: "log files".into(),
    };
    let json = guardrail::render::observe::observe_json(&src, &r);
    assert_eq!(
        (&json["denials"], &json["duplicates"]),
        (&json!(2), &json!(2))
    );
    let human = guardrail::render::observe::observe_human(&src, &r);
    assert!(
        human.contains("2 access-denied event(s) read again"),
        "{human}"
    );
}
