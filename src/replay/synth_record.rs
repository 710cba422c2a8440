//! The records of [`super::synth`]: one file's worth of CloudTrail records, each in the shape
//! AWS writes (the CloudTrail record contents and `userIdentity` references), with the
//! generator's facts beside it.

use serde_json::{json, Map, Value};

use super::synth::{rfc3339, Action, Event, File, Identity, Options, Rng, ACTIONS, GLOBAL};

const WORKLOAD_ROLES: &[&str] = &["Developer", "DataPipeline", "Reporting"];
const SSO_ROLE: &str = "AWSReservedSSO_PowerUser_4f1a2b3c4d5e6f70";

/// One file: an account, a region, a five-minute window on a day of the range.
pub fn file(opts: &Options, rng: &mut Rng, index: usize) -> File {
    let members = opts.accounts.len();
    let pick = rng.below(members + 1);
    let account = opts.accounts.get(pick).unwrap_or(&opts.management).clone();
    let region = if opts.regions.is_empty() || rng.chance(30) {
        "us-east-1".to_owned()
    } else {
        opts.regions[rng.below(opts.regions.len())].clone()
    };
    let day = opts.start + 86_400 * rng.below(opts.days.max(1) as usize) as i64;
    let begin = day + 300 * rng.below(288) as i64;
    let stamp = rfc3339(begin);
    let (date, hhmm) = (
        &stamp[..10],
        format!("{}{}", &stamp[11..13], &stamp[14..16]),
    );
    let path = format!(
        "AWSLogs/{org}/{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}T{hhmm}Z_{:016x}.json.gz",
        date.replace('-', "/"),
        date.replace('-', ""),
        rng.next_u64() ^ index as u64,
        org = opts.org_id,
    );
    let mut records = Vec::with_capacity(opts.records_per_file);
    let mut events = Vec::with_capacity(opts.records_per_file);
    let spacing = (300 / opts.records_per_file.max(1) as i64).max(1);
    for i in 0..opts.records_per_file {
        let t = rfc3339(begin + (i as i64 * spacing).min(299));
        let (r, e) = record(opts, rng, &account, &region, t);
        records.push(r);
        events.push(e);
    }
    File {
        path,
        records,
        events,
    }
}

/// Cross-account calls: about one in twenty of a member's `s3:GetObject` and `kms:Decrypt`
/// calls in `file` is made on another member's bucket or key. AWS delivers such a call to both
/// accounts, each copy with its own `eventID` and one `sharedEventID` (the record contents
/// reference): the caller's copies stay in `file`, rewritten to name the owner's resource; the
/// owner's copies come back as a file in the owner's folder for the same region and day.
pub fn owners_copies(opts: &Options, rng: &mut Rng, file: &mut File) -> Option<File> {
    let caller = file.events.first()?.account.clone();
    let others: Vec<&String> = opts.accounts.iter().filter(|a| **a != caller).collect();
    if caller == opts.management || others.is_empty() {
        return None;
    }
    let owner = others[rng.below(others.len())].clone();
    let (mut records, mut events) = (Vec::new(), Vec::new());
    for (r, e) in file.records.iter_mut().zip(&file.events) {
        let shared = e.api_call
            && matches!(e.action, "s3:GetObject" | "kms:Decrypt")
            && r["resources"][0].is_object();
        if !shared || !rng.chance(5) {
            continue;
        }
        let arn = r["resources"][0]["ARN"].as_str().unwrap_or_default();
        r["resources"][0]["ARN"] = json!(arn.replace(&caller, &owner));
        r["resources"][0]["accountId"] = json!(owner);
        r["sharedEventID"] = json!(uuid(rng));
        let mut copy = r.clone();
        copy["eventID"] = json!(uuid(rng));
        copy["recipientAccountId"] = json!(owner);
        records.push(copy);
        events.push(Event {
            account: owner.clone(),
            copy: true,
            ..e.clone()
        });
    }
    (!records.is_empty()).then(|| File {
        path: file.path.replace(&caller, &owner),
        records,
        events,
    })
}

fn identity(rng: &mut Rng) -> Identity {
    match rng.below(100) {
        0..35 => Identity::Workload,
        35..45 => Identity::SsoRole,
        45..57 => Identity::IamUser,
        57..61 => Identity::Root,
        61..65 => Identity::FederatedUser,
        65..71 => Identity::Exempt,
        71..83 => Identity::ServiceLinkedRole,
        83..93 => Identity::AwsService,
        _ => Identity::Saml,
    }
}

fn uuid(rng: &mut Rng) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// The role session's `userIdentity`, and the role ARN it stands for.
fn role_session(a: &str, path: &str, name: &str, session: &str, mfa: bool) -> (Value, String) {
    let role = format!("arn:aws:iam::{a}:role/{path}{name}");
    let v = json!({
        "type": "AssumedRole",
        "principalId": format!("AROA{}:{session}", &a[..8]),
        "arn": format!("arn:aws:sts::{a}:assumed-role/{name}/{session}"),
        "accountId": a,
        "accessKeyId": format!("ASIA{}", &a[..8]),
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": format!("AROA{}", &a[..8]),
                "arn": role, "accountId": a, "userName": name},
            "webIdFederationData": {},
            "attributes": {"creationDate": "2026-11-01T00:00:00Z",
                "mfaAuthenticated": if mfa { "true" } else { "false" }}
        }
    });
    (v, role)
}

/// `userIdentity` and `aws:PrincipalArn` for an identity in account `a`.
fn who(opts: &Options, rng: &mut Rng, id: Identity, a: &str) -> (Value, Option<String>) {
    let (v, arn) = match id {
        Identity::Workload => {
            let name = WORKLOAD_ROLES[rng.below(WORKLOAD_ROLES.len())];
            role_session(
                a,
                "app/",
                name,
                &format!("s{}", rng.below(50)),
                rng.chance(20),
            )
        }
        Identity::SsoRole => role_session(
            a,
            "aws-reserved/sso.amazonaws.com/",
            SSO_ROLE,
            "alice@example.com",
            false,
        ),
        Identity::Exempt => role_session(a, "", &opts.exempt_role, "incident", true),
        Identity::ServiceLinkedRole => role_session(
            a,
            "aws-service-role/autoscaling.amazonaws.com/",
            "AWSServiceRoleForAutoScaling",
            "AutoScaling",
            false,
        ),
        Identity::IamUser => {
            let arn = format!("arn:aws:iam::{a}:user/ci");
            (
                json!({"type": "IAMUser", "principalId": format!("AIDA{}", &a[..8]), "arn": arn,
                "accountId": a, "accessKeyId": format!("AKIA{}", &a[..8]), "userName": "ci"}),
                arn,
            )
        }
        Identity::Root => {
            let arn = format!("arn:aws:iam::{a}:root");
            (
                json!({"type": "Root", "principalId": a, "arn": arn, "accountId": a,
                "accessKeyId": format!("ASIA{}", &a[..8])}),
                arn,
            )
        }
        Identity::FederatedUser => {
            let arn = format!("arn:aws:sts::{a}:federated-user/bob");
            (
                json!({"type": "FederatedUser", "principalId": format!("{a}:bob"), "arn": arn,
                "accountId": a, "accessKeyId": format!("ASIA{}", &a[..8]),
                "sessionContext": {"sessionIssuer": {"type": "IAMUser",
                    "principalId": format!("AIDA{}", &a[..8]),
                    "arn": format!("arn:aws:iam::{a}:user/broker"), "accountId": a,
                    "userName": "broker"},
                    "attributes": {"creationDate": "2026-11-01T00:00:00Z",
                        "mfaAuthenticated": "false"}}}),
                arn,
            )
        }
        Identity::AwsService => {
            return (
                json!({"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}),
                None,
            )
        }
        Identity::Saml => {
            return (
                json!({"type": "SAMLUser", "principalId": "SAMPLE:alice",
                "userName": "alice", "identityProvider": "bdGOnTesti4Hsg7qvsTPfaGL"}),
                None,
            )
        }
    };
    (v, Some(arn))
}

fn resource(a: &Action, account: &str, region: &str, rng: &mut Rng) -> Option<Value> {
    let (kind, pattern) = a.resource?;
    let arn = pattern
        .replace("{r}", region)
        .replace("{a}", account)
        .replace("{n}", &rng.below(20).to_string());
    Some(json!({"accountId": account, "type": kind, "ARN": arn}))
}

/// The action an identity calls in a file's region.
fn action(rng: &mut Rng, id: Identity, region: &str) -> &'static Action {
    const ASSUME: Action = Action {
        source: "sts.amazonaws.com",
        name: "AssumeRole",
        iam: "sts:AssumeRole",
        regional: false,
        data: false,
        resource: None,
    };
    const SAML: Action = Action {
        source: "sts.amazonaws.com",
        name: "AssumeRoleWithSAML",
        iam: "sts:AssumeRoleWithSAML",
        regional: false,
        data: false,
        resource: None,
    };
    match id {
        Identity::AwsService => &ASSUME,
        Identity::Saml => &SAML,
        _ if region == "us-east-1" && rng.chance(25) => &GLOBAL[rng.below(GLOBAL.len())],
        _ => &ACTIONS[rng.below(ACTIONS.len())],
    }
}

/// One record and its facts.
fn record(
    opts: &Options,
    rng: &mut Rng,
    account: &str,
    region: &str,
    time: String,
) -> (Value, Event) {
    if rng.chance(8) {
        return not_a_call(rng, account, region, time);
    }
    let id = identity(rng);
    let (user, principal) = who(opts, rng, id, account);
    let a = action(rng, id, region);
    let region = if a.regional || GLOBAL.iter().all(|g| g.iam != a.iam) {
        region.to_owned()
    } else {
        "us-east-1".to_owned()
    };
    let mut r = Map::new();
    r.insert(
        "eventVersion".into(),
        json!(if rng.chance(50) { "1.11" } else { "1.09" }),
    );
    r.insert("userIdentity".into(), user);
    r.insert("eventTime".into(), json!(time));
    r.insert("eventSource".into(), json!(a.source));
    r.insert("eventName".into(), json!(a.name));
    r.insert("awsRegion".into(), json!(region));
    let ip = match id {
        Identity::ServiceLinkedRole => "autoscaling.amazonaws.com".to_owned(),
        Identity::AwsService => "lambda.amazonaws.com".to_owned(),
        _ => format!("198.51.100.{}", rng.below(250) + 1),
    };
    r.insert("sourceIPAddress".into(), json!(ip));
    r.insert(
        "userAgent".into(),
        json!("aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22"),
    );
    let mut denied = false;
    if principal.is_some() && rng.chance(6) {
        denied = true;
        let code = if a.source == "ec2.amazonaws.com" {
            "Client.UnauthorizedOperation"
        } else {
            "AccessDenied"
        };
        r.insert("errorCode".into(), json!(code));
        r.insert("errorMessage".into(), json!(format!(
            "User: {} is not authorized to perform: {} because no service control policy allows the {} action",
            principal.as_deref().unwrap_or_default(), a.iam, a.iam)));
    } else if rng.chance(3) {
        r.insert("errorCode".into(), json!("ResourceNotFoundException"));
        r.insert("errorMessage".into(), json!("Requested resource not found"));
    }
    r.insert(
        "requestParameters".into(),
        if a.data {
            json!({"key": "k"})
        } else {
            Value::Null
        },
    );
    r.insert("responseElements".into(), Value::Null);
    r.insert("requestID".into(), json!(uuid(rng)));
    r.insert("eventID".into(), json!(uuid(rng)));
    r.insert(
        "readOnly".into(),
        json!(
            a.name.starts_with("Get")
                || a.name.starts_with("Describe")
                || a.name.starts_with("List")
        ),
    );
    if let Some(res) = resource(a, account, &region, rng) {
        r.insert("resources".into(), json!([res]));
    }
    r.insert("eventType".into(), json!("AwsApiCall"));
    r.insert("managementEvent".into(), json!(!a.data));
    r.insert("recipientAccountId".into(), json!(account));
    if a.data && rng.chance(30) {
        r.insert("vpcEndpointId".into(), json!("vpce-0a1b2c3d4e5f60718"));
        r.insert("vpcEndpointAccountId".into(), json!(account));
    }
    r.insert(
        "eventCategory".into(),
        json!(if a.data { "Data" } else { "Management" }),
    );
    r.insert("tlsDetails".into(), json!({"tlsVersion": "TLSv1.3",
        "cipherSuite": "TLS_AES_128_GCM_SHA256",
        "clientProvidedHostHeader": format!("{}.{region}.amazonaws.com", a.source.split('.').next().unwrap_or_default())}));
    let event = Event {
        account: account.to_owned(),
        identity: id,
        principal,
        action: a.iam,
        regional: a.regional,
        region,
        time,
        denied_in_log: denied,
        api_call: true,
        copy: false,
    };
    (Value::Object(r), event)
}

/// A record that is not a call by a principal: a service event or a console sign-in.
fn not_a_call(rng: &mut Rng, account: &str, region: &str, time: String) -> (Value, Event) {
    let (id, action, v) = if rng.chance(60) {
        let v = json!({"eventVersion": "1.11",
            "userIdentity": {"accountId": account, "invokedBy": "ec2.amazonaws.com"},
            "eventTime": time, "eventSource": "ec2.amazonaws.com",
            "eventName": "SharedSnapshotCopyInitiated", "awsRegion": region,
            "sourceIPAddress": "ec2.amazonaws.com", "userAgent": "ec2.amazonaws.com",
            "requestParameters": null, "responseElements": null,
            "eventID": uuid(rng), "readOnly": false, "eventType": "AwsServiceEvent",
            "managementEvent": true, "recipientAccountId": account,
            "serviceEventDetails": {"snapshotId": "snap-0123456789abcdef0"},
            "sharedEventID": uuid(rng), "eventCategory": "Management"});
        (Identity::AwsService, "ec2:SharedSnapshotCopyInitiated", v)
    } else {
        let v = json!({"eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "principalId": format!("AIDA{}", &account[..8]),
                "arn": format!("arn:aws:iam::{account}:user/ci"), "accountId": account,
                "userName": "ci"},
            "eventTime": time, "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "awsRegion": region, "sourceIPAddress": format!("203.0.113.{}", rng.below(250) + 1),
            "userAgent": "Mozilla/5.0", "requestParameters": null,
            "responseElements": {"ConsoleLogin": "Success"},
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/",
                "MobileVersion": "No", "MFAUsed": "No"},
            "eventID": uuid(rng), "readOnly": false, "eventType": "AwsConsoleSignIn",
            "managementEvent": true, "recipientAccountId": account,
            "eventCategory": "Management"});
        (Identity::IamUser, "signin:ConsoleLogin", v)
    };
    let event = Event {
        account: account.to_owned(),
        identity: id,
        principal: None,
        action,
        regional: false,
        region: region.to_owned(),
        time,
        denied_in_log: false,
        api_call: false,
        copy: false,
    };
    (v, event)
}
