//! One convention for streams and formats, through the real binary: offline commands offer no
//! AWS option, each command accepts only the formats it implements, `graph` prints data on
//! stdout, against a loopback endpoint at AWS's pacing one `hint:` line on stderr names
//! `--rate-scale`, and a refused plan is data in JSON and Markdown (with the ids it concerns,
//! lockouts grouped) beside its lines on stderr.

use std::process::Output;

use clap::CommandFactory as _;
use guardrail::cli::Cli;

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("guardrail").unwrap();
    cmd.current_dir(dir.path())
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("GUARDRAIL_RATE_SCALE")
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const AWS_OPTIONS: &[&str] = &[
    "profile",
    "region",
    "endpoint-url",
    "stats",
    "request-timeout",
    "concurrency",
    "rate-scale",
];

fn longs(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter_map(|a| a.get_long().map(str::to_owned))
        .collect()
}

#[test]
fn offline_commands_offer_no_aws_option() {
    let cli = Cli::command();
    for name in ["validate", "graph"] {
        let sub = cli.find_subcommand(name).expect(name);
        let longs = longs(sub);
        for o in AWS_OPTIONS {
            assert!(!longs.iter().any(|l| l == o), "{name} offers --{o}");
        }
        let out = run(&[name, "--env", "x", "--profile", "p"], &[]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("unexpected argument '--profile'"));
    }
    for name in ["import", "plan", "apply", "drift"] {
        let longs = longs(cli.find_subcommand(name).expect(name));
        for o in AWS_OPTIONS {
            assert!(longs.iter().any(|l| l == o), "{name} lacks --{o}");
        }
    }
    // explain reads AWS only with --live; its --region is the request's.
    let explain = longs(cli.find_subcommand("explain").unwrap());
    assert!(explain.iter().any(|l| l == "live") && explain.iter().any(|l| l == "profile"));
    assert_eq!(explain.iter().filter(|l| *l == "region").count(), 1);
}

/// The values `--format` takes for one subcommand.
fn formats(name: &str) -> Vec<String> {
    let cli = Cli::command();
    let sub = cli.find_subcommand(name).expect(name);
    let arg = sub
        .get_arguments()
        .find(|a| a.get_long() == Some("format"))
        .expect("--format");
    arg.get_possible_values()
        .iter()
        .map(|v| v.get_name().to_owned())
        .collect()
}

#[test]
fn each_command_accepts_only_the_formats_it_implements() {
    for (name, implemented) in [
        ("plan", &["human", "json", "markdown"][..]),
        ("drift", &["human", "json", "markdown"]),
        ("apply", &["human", "json"]),
        ("explain", &["human", "json"]),
        ("graph", &["mermaid", "dot"]),
    ] {
        assert_eq!(formats(name), implemented, "{name}");
    }
    // validate: human and JSON at least (SARIF where implemented), never Markdown.
    let v = formats("validate");
    assert!(
        v.starts_with(&["human".to_owned(), "json".to_owned()])
            && !v.contains(&"markdown".to_owned())
    );
    for args in [
        &["apply", "--env", "x", "--format", "markdown"][..],
        &["validate", "--env", "x", "--format", "markdown"],
        &["graph", "--env", "x", "--format", "json"],
    ] {
        let out = run(args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("invalid value"), "{}", stderr(&out));
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_loopback_endpoint_at_awss_pacing_gets_one_hint() {
    let endpoint = closed_port();
    let env = [("AWS_ENDPOINT_URL", endpoint.as_str())];
    let hints = |out: &Output| {
        stderr(out)
            .lines()
            .filter(|l| l.starts_with("hint: ") && l.contains("--rate-scale"))
            .count()
    };
    let out = run(&["drift", "--env", "x"], &env);
    assert_eq!(hints(&out), 1, "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "no data on stdout when nothing was read"
    );
    let scaled = [env[0], ("GUARDRAIL_RATE_SCALE", "1000")];
    let out = run(&["drift", "--env", "x"], &scaled);
    assert_eq!(hints(&out), 0, "{}", stderr(&out));
    let out = run(&["drift", "--env", "x", "--rate-scale", "0.5"], &env);
    assert_eq!(hints(&out), 0, "{}", stderr(&out));
}

/// An RCP-enabled fake organization whose OU `R` holds RCPFullAWSAccess and four RCPs, and a
/// config that lists a fifth: refused, the OU over its limit of five.
fn refused_rcp_limit() -> (guardrail::model::LiveOrg, guardrail::plan::Refused) {
    use guardrail::live::{fake::FakeOrg, OrgBackend as _};
    use guardrail::model::{DesiredPolicy, OuPath, PolicyType};
    let rcp = |a: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"{a}","Resource":"*"}}]}}"#
        )
    };
    crate::support::rt().block_on(async {
        let f = FakeOrg::new("999999999999");
        let root = f.root_id();
        let ty = PolicyType::ResourceControlPolicy;
        f.enable_policy_type(&root, ty).await.unwrap();
        let ou = f.create_organizational_unit(&root, "R").await.unwrap();
        for (i, a) in ["s3:*", "sqs:*", "kms:*", "sts:*"].iter().enumerate() {
            let p = f
                .create_policy(ty, &format!("r{i}"), "", &rcp(a))
                .await
                .unwrap();
            f.attach_policy(&p, &ou).await.unwrap();
        }
        let (live, mut desired, _) = crate::support::import(&f).await;
        let extra = DesiredPolicy {
            name: "r9".into(),
            pinned_id: None,
            policy_type: ty,
            description: String::new(),
            document: serde_json::from_str(&rcp("dynamodb:*")).unwrap(),
            source: "x.json".into(),
            guardrails: Vec::new(),
        };
        desired.policies.insert("r9".into(), extra);
        let r = OuPath::parse("R").unwrap();
        desired
            .ous
            .get_mut(&r)
            .unwrap()
            .policies
            .insert("r9".into());
        let refused = guardrail::plan::plan(&desired, &live).unwrap_err();
        (live, refused)
    })
}

#[test]
fn a_refused_plan_is_data_in_json_with_the_ids_it_concerns() {
    let (live, refused) = refused_rcp_limit();
    let v = guardrail::render::refusals_json("test", &refused, &live);
    assert_eq!(v["format_version"], guardrail::render::PLAN_FORMAT_VERSION);
    assert_eq!(v["refused"], true);
    assert_eq!(v["writes_sent"], 0);
    assert_eq!(v["organization_id"], live.org_id.as_str());
    assert!(
        v.get("changes").is_none(),
        "a refusal carries no changes: {v:#}"
    );
    let refusals = v["refusals"].as_array().unwrap();
    let over = refusals
        .iter()
        .find(|r| r["kind"] == "too_many_attachments")
        .unwrap_or_else(|| panic!("{v:#}"));
    let ou_id = live.ou_ids_by_path()[&guardrail::model::OuPath::parse("R").unwrap()].clone();
    assert_eq!(
        over["target"],
        serde_json::json!({"kind": "ou", "path": "R", "id": ou_id})
    );
    assert_eq!(over["policy_type"], "RESOURCE_CONTROL_POLICY");
    assert_eq!(
        (over["count"].as_u64(), over["limit"].as_u64()),
        (Some(6), Some(5))
    );
    // The message is the line stderr shows.
    let human = guardrail::render::refusals_human(&refused, guardrail::render::Style::default());
    let message = over["message"].as_str().unwrap();
    assert!(
        human.contains(&format!("refused: {message}\n")),
        "{human}\n{message}"
    );
    assert_eq!(refusals.len(), human.matches("refused:").count());
}

#[test]
fn refused_lockouts_are_grouped_in_json_with_arrays_and_listed_in_markdown() {
    use guardrail::plan::{Refusal, Refused};
    let l = |action: &str, account: &str| Refusal::Lockout {
        principal: "arn:aws:iam::*:role/Deployer".into(),
        account: account.into(),
        action: action.into(),
        by: "denied by SCP no-iam, statement NoIam".into(),
    };
    let refused = Refused(vec![
        l("iam:CreateRole", "account 111111111111"),
        Refusal::AccountMatchedTwice {
            id: "333333333333".into(),
            keys: vec!["a".into(), "b".into()],
        },
        l("iam:PutRolePolicy", "account 111111111111"),
        l("iam:CreateRole", "account 222222222222"),
    ]);
    let live = guardrail::model::LiveOrg::default();
    let v = guardrail::render::refusals_json("test", &refused, &live);
    let refusals = v["refusals"].as_array().unwrap();
    assert_eq!(
        refusals.len(),
        2,
        "one lockout entry per principal and cause: {v:#}"
    );
    assert_eq!(refusals[0]["kind"], "account_matched_twice");
    assert_eq!(refusals[0]["keys"], serde_json::json!(["a", "b"]));
    let lockout = &refusals[1];
    assert_eq!(lockout["kind"], "lockout");
    assert_eq!(lockout["principal"], "arn:aws:iam::*:role/Deployer");
    assert_eq!(
        lockout["actions"],
        serde_json::json!(["iam:CreateRole", "iam:PutRolePolicy"])
    );
    assert_eq!(
        lockout["accounts"],
        serde_json::json!(["account 111111111111", "account 222222222222"])
    );
    let md = guardrail::render::refusals_markdown("test", &refused);
    assert!(md.starts_with("### guardrail plan: `test`\n"), "{md}");
    assert!(md.contains("**Refused.**"), "{md}");
    assert_eq!(md.matches("\n- ⛔ ").count(), 2, "{md}");
    assert!(
        md.contains("`lockout`") && md.contains("iam:CreateRole, iam:PutRolePolicy"),
        "{md}"
    );
}

/// Every object of `v` (nested) for which `f` holds.
fn objects<'a>(
    v: &'a serde_json::Value,
    f: &dyn Fn(&serde_json::Value) -> bool,
    out: &mut Vec<&'a serde_json::Value>,
) {
    if f(v) {
        out.push(v);
    }
    match v {
        serde_json::Value::Array(items) => items.iter().for_each(|i| objects(i, f, out)),
        serde_json::Value::Object(m) => m.values().for_each(|i| objects(i, f, out)),
        _ => {}
    }
}

#[test]
fn plan_and_drift_json_carry_the_ids_of_every_existing_ou_root_and_move_and_parent() {
    use guardrail::model::OuPath;
    let shape = guardrail::live::demo::Shape {
        accounts: 4,
        ous: 6,
        policies: 5,
        bare: false,
    };
    let (live, plan) = crate::support::rt().block_on(async {
        let fake = guardrail::live::fake::FakeOrg::new("999999999999");
        guardrail::live::demo::seed(&fake, shape, 4).await.unwrap();
        let (live, mut desired, _) = crate::support::import(&fake).await;
        // Move one account to Sandbox, attach a policy to Security and the root (on neither yet).
        let account = desired
            .accounts
            .values_mut()
            .find(|a| a.ou.to_string() != "Sandbox")
            .unwrap();
        account.ou = OuPath::parse("Sandbox").unwrap();
        let security = OuPath::parse("Security").unwrap();
        let policy = desired
            .policies
            .keys()
            .find(|p| {
                !desired.root.policies.contains(*p) && !desired.ous[&security].policies.contains(*p)
            })
            .unwrap()
            .clone();
        let ou = desired.ous.get_mut(&security).unwrap();
        ou.policies.insert(policy.clone());
        desired.root.policies.insert(policy);
        // A new OU under Sandbox, and a new account in Sandbox.
        let new_ou = OuPath::parse("Sandbox/New").unwrap();
        desired.ous.insert(new_ou, desired.ous[&security].clone());
        let new_account = guardrail::model::DesiredAccount {
            key: "newcomer".into(),
            id: None,
            email: Some("newcomer@example.com".into()),
            ou: OuPath::parse("Sandbox").unwrap(),
            policies: ["FullAWSAccess".to_owned()].into(),
            guardrails: Default::default(),
        };
        desired.accounts.insert("newcomer".into(), new_account);
        let plan = guardrail::plan::plan(&desired, &live).unwrap_or_else(|e| panic!("{e}"));
        (live, plan)
    });
    let ids = live.ou_ids_by_path();
    let id_of = |path: &str| match path {
        "" | "(root)" => Some(live.root.id.clone()),
        p => ids.get(&OuPath::parse(p).unwrap()).cloned(),
    };
    let sandbox = id_of("Sandbox").unwrap();
    for v in [
        guardrail::render::plan_json("t", &plan),
        guardrail::render::drift_json("t", &plan),
    ] {
        let mut targets = Vec::new();
        objects(
            &v,
            &|o| o["kind"] == "ou" || o["kind"] == "root",
            &mut targets,
        );
        assert!(
            targets.len() >= 2,
            "an attach to an OU and to the root: {v:#}"
        );
        for t in targets {
            // The new OU has no id yet, and says none.
            let path = t["path"].as_str().unwrap_or("");
            assert_eq!(
                t.get("id").and_then(|i| i.as_str()),
                id_of(path).as_deref(),
                "{t}"
            );
        }
        let mut created = Vec::new();
        objects(
            &v,
            &|o| o["action"] == "create_ou" || o["action"] == "create_account",
            &mut created,
        );
        assert_eq!(created.len(), 2, "{v:#}");
        for c in created {
            let parent = if c["action"] == "create_ou" {
                "parent_id"
            } else {
                "ou_id"
            };
            assert_eq!(c[parent], sandbox.as_str(), "{c}");
        }
        let mut moves = Vec::new();
        objects(&v, &|o| o["action"] == "move_account", &mut moves);
        assert_eq!(moves.len(), 1, "{v:#}");
        for m in moves {
            assert_eq!(m["to_id"], sandbox.as_str(), "{m}");
            let from = id_of(m["from"].as_str().unwrap()).unwrap();
            assert_eq!(m["from_id"], from.as_str(), "{m}");
            assert!(m["account_id"].is_string(), "{m}");
        }
    }
}
