//! Hostile names through the commands added after the first hostile-name suite: `validate`
//! (human, JSON, SARIF, and its CloudTrail replay), `explain` and `graph`, through the real
//! binary on a config whose OU, account and description carry newlines, escape sequences and
//! direction overrides (as `import` writes them from AWS), and CloudTrail records whose
//! principal and region do; and `observe`'s three formats on records just as hostile. Human
//! and Markdown output shows each such character visibly and forges no line; JSON and SARIF
//! keep the value as it is.

use std::path::Path;
use std::process::Output;

use guardrail::live::fake::FakeOrg;
use guardrail::live::OrgBackend;
use guardrail::observe::Observer;
use guardrail::render::observe::{observe_human, observe_json, observe_markdown, Source};
use guardrail::replay::{parse_time, Window};
use serde_json::{json, Value};

use crate::hostile_names::assert_clean;

const ACCOUNT_ID: &str = "222233334444";
const ACCOUNT: &str = "acct\r\nwarning: forged\u{9b}2J\u{202e}";
/// TOML spellings of the hostile names (the config holds them escaped, as import writes them).
const OU_TOML: &str = r"fake\n\nNo drift: organization matches.\u001b[8m";
const OU: &str = "fake\n\nNo drift: organization matches.\x1b[8m";
const ACCOUNT_TOML: &str = r"acct\r\nwarning: forged\u009b2J\u202e";
const DESCRIPTION_TOML: &str = r"desc\n\nNo changes. The organization matches the config.\u2028";
/// A principal in `account` and a region, as a CloudTrail record may carry them.
fn principal(account: &str) -> String {
    format!(
        "arn:aws:iam::{account}:role/ci\n\nNo changes. The organization matches the config.\x1b[8m"
    )
}
const REGION: &str = "eu-west-1\r\nwarning: forged\u{2066}";

fn config(account_id: &str) -> String {
    format!(
        r#"[organization]
management_account = "111122223333"

[policies.no-delete]
description = "{DESCRIPTION_TOML}"
document = "h/no-delete.json"

[root]
policies = ["FullAWSAccess"]

[ous."{OU_TOML}"]
policies = ["FullAWSAccess", "no-delete"]

[accounts."{ACCOUNT_TOML}"]
id = "{account_id}"
ou = "{OU_TOML}"
policies = ["FullAWSAccess"]

[[assert]]
account = "{ACCOUNT_TOML}"
action = "s3:DeleteBucket"
expect = "allow"
"#
    )
}

const DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;

/// A successful DeleteBucket in the hostile account, by the hostile principal: the config
/// newly denies it.
fn record(account_id: &str) -> Value {
    json!({
        "eventVersion": "1.11",
        "userIdentity": {"type": "IAMUser", "arn": principal(account_id), "accountId": account_id},
        "eventTime": "2026-11-20T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "DeleteBucket",
        "awsRegion": REGION,
        "sourceIPAddress": "203.0.113.9",
        "eventType": "AwsApiCall",
        "eventCategory": "Management",
        "recipientAccountId": account_id,
        "requestParameters": {"bucketName": "b"},
    })
}

/// The environment `h` and a log directory, in a fresh directory.
fn setup(dir: &Path) {
    let envs = dir.join("environments");
    std::fs::create_dir_all(envs.join("h")).unwrap();
    std::fs::write(envs.join("h.toml"), config(ACCOUNT_ID)).unwrap();
    std::fs::write(envs.join("h/no-delete.json"), DENY).unwrap();
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let log = json!({ "Records": [record(ACCOUNT_ID)] });
    std::fs::write(dir.join("logs/trail.json"), log.to_string()).unwrap();
}

fn run(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("guardrail")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn offline_commands_show_hostile_names_visibly_in_human_output() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let replay = ["--replay", "logs", "--replay-since", "2026-11-01T00:00:00Z"];
    let validate = run(
        dir.path(),
        &[&["validate", "--env", "h"][..], &replay[..]].concat(),
    );
    let out = text(&validate.stdout);
    // The replay found the hostile principal's request, newly denied, and says who made it.
    assert!(
        out.contains("NEWLY DENIED"),
        "{out}\n{}",
        text(&validate.stderr)
    );
    assert!(
        out.contains(r"role/ci\n\nNo changes. The organization matches the config.\x1b[8m"),
        "{out}"
    );
    assert!(
        out.contains(r"eu-west-1\r\nwarning: forged\u{2066}"),
        "{out}"
    );
    let explain = run(
        dir.path(),
        &[
            "explain",
            "--env",
            "h",
            "--account",
            ACCOUNT,
            "--action",
            "s3:DeleteBucket",
        ],
    );
    let why = text(&explain.stdout);
    assert!(
        why.contains("no-delete"),
        "{why}\n{}",
        text(&explain.stderr)
    );
    assert!(why.contains(r"fake\n\nNo drift"), "{why}");
    // The failed assertion names the OU that denies, visibly.
    assert!(
        out.contains(r"attached to ou fake\n\nNo drift: organization matches.\x1b[8m"),
        "{out}"
    );
    for (what, o) in [("validate", &validate), ("explain", &explain)] {
        assert_clean(what, &text(&o.stdout));
        assert_clean(&format!("{what} (stderr)"), &text(&o.stderr));
    }
    for format in ["mermaid", "dot"] {
        let g = run(dir.path(), &["graph", "--env", "h", "--format", format]);
        assert_eq!(g.status.code(), Some(0), "{}", text(&g.stderr));
        assert_clean(format, &text(&g.stdout));
    }
}

#[test]
fn json_and_sarif_keep_hostile_values_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let replay = ["--replay", "logs", "--replay-since", "2026-11-01T00:00:00Z"];
    for format in ["json", "sarif"] {
        // SARIF reports lines of the config, not requests: no replay there.
        let replay = if format == "json" { &replay[..] } else { &[] };
        let o = run(
            dir.path(),
            &[&["validate", "--env", "h", "--format", format][..], replay].concat(),
        );
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{format}: {e}: {}", text(&o.stderr)));
        let s = v.to_string();
        // The failed assertion names the hostile OU as it is (JSON escapes it itself).
        assert!(
            s.contains(&serde_json::to_string(OU).unwrap()[1..]),
            "{format}: {v:#}"
        );
        assert!(!s.contains('\x1b') && !s.contains('\n'), "{format}: {s}");
        if format == "json" {
            let flips = v["replay"]["newly_denied"].as_array().unwrap();
            assert_eq!(flips[0]["principal"], principal(ACCOUNT_ID), "{v:#}");
        }
    }
    let o = run(
        dir.path(),
        &[
            "explain",
            "--env",
            "h",
            "--account",
            ACCOUNT,
            "--action",
            "s3:DeleteBucket",
            "--format",
            "json",
        ],
    );
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stderr)));
    assert!(
        v.to_string()
            .contains(&serde_json::to_string(OU).unwrap()[1..]),
        "{v:#}"
    );
}

#[test]
fn observe_shows_hostile_records_visibly_and_keeps_them_in_json() {
    let (live, id) = crate::support::rt().block_on(async {
        let f = FakeOrg::new("111122223333");
        let ou = f
            .create_organizational_unit(&f.root_id(), OU)
            .await
            .unwrap();
        let id = f.add_account(ACCOUNT, "a@example.com", &ou).await.unwrap();
        (crate::support::read(&f).await, id)
    });
    let desired = crate::support::parse_with(
        &config(&id),
        &[("h/no-delete.json".into(), DENY.to_owned())].into(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let window = Window {
        since: Some(parse_time("2026-11-13T00:00:00Z").unwrap()),
        until: None,
    };
    let mut o = Observer::new(&live, &desired, window);
    let mut r = record(&id);
    r["errorCode"] = json!("AccessDenied");
    r["errorMessage"] = json!("denied\n\nNo drift: organization matches.\x1b[8m");
    o.add_value(r);
    let report = o.finish();
    assert_eq!(report.denials, 1, "{report:?}");
    let src = Source {
        env: "h",
        from: "log files below logs\x1b[2J".into(),
    };
    let human = observe_human(&src, &report);
    assert_clean("observe human", &human);
    assert!(human.contains(r"role/ci\n\nNo changes."), "{human}");
    assert_clean("observe markdown", &observe_markdown(&src, &report));
    let v = observe_json(&src, &report);
    let quoted = serde_json::to_string(&principal(&id)).unwrap();
    assert!(v.to_string().contains(&quoted), "{v:#}");
}

#[test]
fn the_replay_report_shows_hostile_records_visibly_in_human_and_markdown() {
    use guardrail::render::{replay_human, replay_json, replay_markdown};
    use guardrail::replay::{desired_side, Replayer};
    let desired = crate::support::parse_with(
        &config(ACCOUNT_ID),
        &[("h/no-delete.json".into(), DENY.to_owned())].into(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let after = desired_side(&desired);
    let window = Window {
        since: Some(parse_time("2026-11-01T00:00:00Z").unwrap()),
        until: None,
    };
    // Before: the logged outcome (the request succeeded), as `validate --replay` does.
    let mut r = Replayer::new(window, None, &after);
    r.add_raw(record(ACCOUNT_ID));
    r.file_error(
        "logs/x\x1b[2J.json".into(),
        "bad\n\nNo drift: organization matches.".into(),
    );
    let report = r.finish();
    assert_eq!(report.newly_denied.len(), 1, "{report:?}");
    let human = replay_human(&report);
    assert_clean("replay human", &human);
    assert!(human.contains(r"role/ci\n\nNo changes."), "{human}");
    assert!(human.contains(r"logs/x\x1b[2J.json"), "{human}");
    assert_clean("replay markdown", &replay_markdown(&report));
    let json = replay_json(&report).to_string();
    assert!(
        json.contains(&serde_json::to_string(&principal(ACCOUNT_ID)).unwrap()),
        "{json}"
    );
}
