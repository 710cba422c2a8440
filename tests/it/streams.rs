//! One convention for streams and formats, through the real binary: offline commands offer no
//! AWS option, each command accepts only the formats it implements, `graph` prints data on
//! stdout, and against a loopback endpoint at AWS's pacing one `hint:` line on stderr names
//! `--rate-scale`.

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
