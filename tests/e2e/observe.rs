//! Staged rollout and `observe` through the real binary on moto: a canary-stage guardrail is
//! applied only on the canary OU; `observe` attributes access-denied records (CloudTrail log
//! files: moto does not implement LookupEvents) to it and exits 2 when a break-glass principal
//! was denied; `promote` is refused while the canary shows its denials and rewrites the stage
//! when it shows none; the next plan attaches the guardrail everywhere it is listed.

use serde_json::{json, Value};

use super::{expect_code, text, Org};

fn config(mgmt: &str, stage: &str) -> String {
    format!(
        r#"[organization]
management_account = "{mgmt}"
deployer = "arn:aws:iam::{mgmt}:role/guardrail-deployer"
break_glass = ["arn:aws:iam::*:role/BreakGlass"]

# The canary: new guardrails land here first.
[rollout]
canary = ["Workloads/Canary"]
min_days = 7

[guardrails.eu-only]
template = "region-lock"
stage = "{stage}" # promote moves it on
allowed_regions = ["eu-west-1"]

[root]
policies = ["FullAWSAccess"]

[ous.Workloads]
policies = ["FullAWSAccess"]
guardrails = ["eu-only"]

[ous."Workloads/Canary"]
policies = ["FullAWSAccess"]

[ous."Workloads/Prod"]
policies = ["FullAWSAccess"]

[accounts.canary-1]
email = "canary-1@example.com"
ou = "Workloads/Canary"

[accounts.prod-1]
email = "prod-1@example.com"
ou = "Workloads/Prod"
"#
    )
}

/// `eventTime` an hour ago, RFC 3339 in UTC.
fn an_hour_ago() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    guardrail::replay::synth::rfc3339(now as i64 - 3600)
}

/// An access-denied RunInstances in us-west-2 by `role` in `account`, naming `policy_arn`.
fn denial(account: &str, role: &str, policy_arn: &str) -> Value {
    json!({
        "eventVersion": "1.11",
        "userIdentity": {"type": "AssumedRole",
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/s"), "accountId": account,
            "sessionContext": {"sessionIssuer": {"type": "Role",
                "arn": format!("arn:aws:iam::{account}:role/{role}"), "accountId": account}}},
        "eventTime": an_hour_ago(),
        "eventSource": "ec2.amazonaws.com",
        "eventName": "RunInstances",
        "awsRegion": "us-west-2",
        "sourceIPAddress": "203.0.113.9",
        "errorCode": "Client.UnauthorizedOperation",
        "errorMessage": format!("You are not authorized to perform this operation. User: arn:aws:sts::{account}:assumed-role/{role}/s is not authorized to perform: ec2:RunInstances with an explicit deny in a service control policy: {policy_arn}"),
        "eventType": "AwsApiCall",
        "eventCategory": "Management",
        "recipientAccountId": account,
    })
}

fn write_logs(org: &Org, dir: &str, records: &[Value]) {
    let path = org.path(dir);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(
        path.join("trail.json"),
        json!({ "Records": records }).to_string(),
    )
    .unwrap();
}

/// Where the live policy compiled from `eu-only` is attached, as OU paths.
fn eu_only_targets(org: &Org) -> (Vec<String>, String, String) {
    let live = org.read_live();
    let p = live
        .policy_by_name("gr-eu-only")
        .expect("gr-eu-only in moto");
    let mut at: Vec<String> = p
        .targets
        .iter()
        .filter_map(|t| live.path_of(t).map(|p| p.to_string()))
        .collect();
    at.sort();
    let arn = format!(
        "arn:aws:organizations::{}:policy/{}/service_control_policy/{}",
        live.management_account, live.org_id, p.id
    );
    let canary = live
        .accounts
        .values()
        .find(|a| a.email == "canary-1@example.com")
        .map(|a| a.id.clone())
        .expect("canary-1 created");
    (at, arn, canary)
}

#[test]
fn a_canary_guardrail_rolls_out_through_observe_and_promote() {
    let org = Org::bare();
    let mgmt = org.var("GUARDRAIL_DEMO_ACCOUNT");
    std::fs::create_dir_all(org.path("environments")).unwrap();
    let cfg_path = org.path("environments/r.toml");
    std::fs::write(&cfg_path, config(&mgmt, "canary")).unwrap();
    expect_code(
        &org.guardrail(&["apply", "--env", "r", "--auto-approve"]),
        0,
    );
    let (at, arn, canary) = eu_only_targets(&org);
    assert_eq!(at, vec!["Workloads/Canary"], "the canary OU only");

    // The plan says where it is held back until promotion, in JSON and in the PR comment.
    let out = org.guardrail(&["plan", "--env", "r", "--format", "json"]);
    expect_code(&out, 0);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["held_back"],
        json!([{"guardrail": "eu-only", "targets": [{"kind": "ou", "path": "Workloads"}],
            "canary_ous": ["Workloads/Canary"]}])
    );
    let out = org.guardrail(&["plan", "--env", "r", "--format", "markdown"]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("| eu-only | ou Workloads |"), "{md}");

    // The canary's developers hit the region lock.
    let dev = denial(&canary, "Dev", &arn);
    write_logs(&org, "logs/dev", &[dev.clone(), dev.clone()]);
    let out = org.guardrail(&[
        "observe",
        "--env",
        "r",
        "--cloudtrail",
        "logs/dev",
        "--format",
        "json",
    ]);
    expect_code(&out, 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["denials"], 2, "{v:#}");
    assert_eq!(v["groups"][0]["guardrails"], json!(["eu-only"]));
    assert_eq!(v["groups"][0]["ou"], "Workloads/Canary");
    assert_eq!(v["groups"][0]["attributed"], "named by AWS");
    assert_eq!(
        v["summary"]["by_guardrail"][0],
        json!({"name": "eu-only", "count": 2})
    );

    // A break-glass principal denied by it: exit 2, in every format.
    write_logs(&org, "logs/glass", &[denial(&canary, "BreakGlass", &arn)]);
    for format in ["human", "json", "markdown"] {
        let out = org.guardrail(&[
            "observe",
            "--env",
            "r",
            "--cloudtrail",
            "logs/glass",
            "--format",
            format,
        ]);
        expect_code(&out, 2);
    }

    // Promotion is refused while the canary shows denials, and nothing is written.
    let before = std::fs::read_to_string(&cfg_path).unwrap();
    let out = org.guardrail(&[
        "promote",
        "--env",
        "r",
        "eu-only",
        "--cloudtrail",
        "logs/dev",
    ]);
    expect_code(&out, 1);
    assert!(
        text(&out.stderr).contains("refusing to promote"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&cfg_path).unwrap(), before);

    // A quiet canary: promoted, only the stage changed, and the plan attaches it everywhere.
    write_logs(&org, "logs/quiet", &[]);
    let out = org.guardrail(&[
        "promote",
        "--env",
        "r",
        "eu-only",
        "--cloudtrail",
        "logs/quiet",
    ]);
    expect_code(&out, 0);
    assert_eq!(
        std::fs::read_to_string(&cfg_path).unwrap(),
        config(&mgmt, "all")
    );
    let out = org.guardrail(&["plan", "--env", "r", "--format", "json"]);
    expect_code(&out, 0);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["held_back"], json!([]), "promoted: held back nowhere");
    let moves: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["action"].as_str().unwrap_or("?"),
                c["target"]["path"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert!(moves.contains(&"attach Workloads".to_owned()), "{moves:?}");
    assert!(
        moves.contains(&"detach Workloads/Canary".to_owned()),
        "{moves:?}"
    );
    expect_code(
        &org.guardrail(&["apply", "--env", "r", "--auto-approve"]),
        0,
    );
    assert_eq!(eu_only_targets(&org).0, vec!["Workloads"]);
}

/// Reads one HTTP request (headers and a Content-Length body) from a connection.
fn read_request(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                break;
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// The SDK side of LookupEvents (moto has none): a loopback CloudTrail answering two pages;
/// the reader sends the window and the page size, follows NextToken, and keeps each event's
/// `CloudTrailEvent`.
#[test]
fn the_sdk_event_history_pages_through_lookup_events() {
    use guardrail::live::cloudtrail::{EventHistory, Scope};
    use guardrail::live::cloudtrail_aws::AwsEventHistory;
    use std::io::Write;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let mut bodies = Vec::new();
        for page in 0..2 {
            let (mut s, _) = listener.accept().unwrap();
            let req = read_request(&mut s);
            assert!(req.contains("CloudTrail_20131101.LookupEvents"), "{req}");
            bodies.push(req.split("\r\n\r\n").nth(1).unwrap_or("").to_owned());
            let record = json!({"eventName": format!("Call{page}")}).to_string();
            let mut answer = json!({"Events": [
                {"EventId": format!("e{page}"), "CloudTrailEvent": record},
                {"EventId": "without-record"},
            ]});
            if page == 0 {
                answer["NextToken"] = json!("page-2");
            }
            let body = answer.to_string();
            write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
        bodies
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let events = rt.block_on(async {
        let creds =
            aws_sdk_organizations::config::Credentials::new("AKIDTEST", "secret", None, None, "t");
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(creds)
            .load()
            .await;
        let h = AwsEventHistory::new(
            &conf,
            "aws",
            "111122223333",
            "OrganizationAccountAccessRole",
            1000.0,
        );
        let scope = Scope {
            account: "111122223333".into(),
            region: "eu-west-1".into(),
        };
        let start = guardrail::replay::parse_time("2026-11-01T00:00:00Z").unwrap();
        let end = guardrail::replay::parse_time("2026-11-08T00:00:00Z").unwrap();
        let got = h.lookup_events(&scope, start, end).await.unwrap();
        assert_eq!(h.stats().get("cloudtrail:LookupEvents"), 2);
        got
    });
    let bodies = server.join().unwrap();
    let names: Vec<String> = events
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(e).unwrap()["eventName"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names, vec!["Call0", "Call1"]);
    let first: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(first["MaxResults"], 50);
    assert_eq!(first["StartTime"].as_f64(), Some(1_793_491_200.0));
    assert_eq!(first["EndTime"].as_f64(), Some(1_794_096_000.0));
    assert!(first.get("NextToken").is_none());
    let second: Value = serde_json::from_str(&bodies[1]).unwrap();
    assert_eq!(second["NextToken"], "page-2");
}
