//! What a user sees when AWS cannot be reached or does not answer as AWS: the real binary,
//! through the real SDK, against a tiny loopback server that counts its connections (a closed
//! port, a web page, a truncated answer, a silent endpoint, AWS's credential errors), and the
//! profile checks made before any request. Each failure is one `error:` line naming its class,
//! exit code 1, no SDK dump (that only with `--verbose`). Speed is not asserted here; the
//! attempts are, as the server counts them.
//!
//! Then, against moto: an apply without a terminal logs one timestamped line per write (also
//! when killed with SIGKILL), and an apply whose endpoint dies stops and says what was done.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use guardrail::live::aws::{self, ConnectOptions};

use crate::{expect_code, text};

/// How the loopback server answers every request.
#[derive(Clone, Copy)]
enum Answer {
    /// `200 OK` with an 11 KB HTML page.
    Html,
    /// A JSON header announcing 1000 bytes, ten of them, then the connection closes.
    Truncated,
    /// Reads the request and never answers (until the client gives up).
    Silent,
    /// An AWS JSON error: status, `__type`, message.
    AwsError(u16, &'static str, &'static str),
}

/// A loopback HTTP server that answers every request the same way and counts connections.
struct Endpoint {
    url: String,
    connections: Arc<AtomicU64>,
}

fn read_head(stream: &TcpStream) -> bool {
    let mut reader = BufReader::new(stream);
    let mut len = 0;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if line.trim().is_empty() {
            break;
        }
    }
    let mut body = vec![0; len];
    std::io::Read::read_exact(&mut reader, &mut body).is_ok()
}

fn serve(mut stream: TcpStream, answer: Answer) {
    if !read_head(&stream) {
        return;
    }
    let reply = match answer {
        Answer::Html => {
            let page = format!(
                "<!DOCTYPE html><html><head><title>Welcome</title></head><body>{}</body></html>",
                "<p>portal</p>".repeat(800)
            );
            format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}", page.len())
        }
        Answer::Truncated => "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{\"Roots\":[".to_owned(),
        Answer::Silent => {
            // Hold the connection until the client closes it.
            let mut sink = [0u8; 1024];
            while matches!(std::io::Read::read(&mut stream, &mut sink), Ok(n) if n > 0) {}
            return;
        }
        Answer::AwsError(status, kind, message) => {
            let body = format!(r#"{{"__type":"{kind}","message":"{message}"}}"#);
            format!("HTTP/1.1 {status} Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
        }
    };
    let _ = stream.write_all(reply.as_bytes());
}

impl Endpoint {
    fn start(answer: Answer) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicU64::new(0));
        let counted = connections.clone();
        // The thread lives as long as the test process; each test has its own port.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || serve(stream, answer));
            }
        });
        Endpoint { url, connections }
    }

    fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

/// A port nothing listens on: bound, then released.
fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

/// `guardrail ARGS` in a fresh directory with test keys (or none), an empty AWS config and
/// no instance metadata, against `endpoint`.
fn run(
    endpoint: &str,
    keys: bool,
    extra_env: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("aws-config");
    std::fs::write(
        &config,
        "[default]\nregion = us-east-1\n[profile dev]\nregion = us-east-1\n",
    )
    .unwrap();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("guardrail"));
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("NO_COLOR", "1");
    if keys {
        cmd.env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap()
}

/// The one `error:` line of a failed run, after checking the rest of what the user sees:
/// exit 1, exactly one error line, no SDK dump, no overlong line.
fn one_error_line(out: &std::process::Output) -> String {
    expect_code(out, 1);
    let err = text(&out.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "one error line:\n{err}");
    for dump in ["DispatchFailure", "ConnectorError", "SdkBody", "detail:"] {
        assert!(!err.contains(dump), "no SDK dump without --verbose:\n{err}");
    }
    assert!(err.lines().all(|l| l.len() < 500), "short lines:\n{err}");
    errors[0].to_owned()
}

const IMPORT: &[&str] = &["import", "--env", "x"];

#[test]
fn a_closed_port_is_refused_in_one_line_without_retries() {
    let url = closed_port();
    let line = one_error_line(&run(&url, true, &[], IMPORT));
    assert!(
        line.starts_with(&format!(
            "error: could not reach AWS at {url}: connection refused: "
        )) && line.contains("Check --endpoint-url / AWS_ENDPOINT_URL"),
        "{line}"
    );
    // Nothing counts attempts at a closed port; the budget that bounds them is asserted
    // instead, as the SDK is configured: a connect timeout under 5 s (a refused or unanswered
    // connection is never retried: `live::sdk_error`'s unit tests), few attempts, short
    // pauses.
    let (retry, timeouts) = aws::retry_and_timeouts(&ConnectOptions::default());
    let seconds = std::time::Duration::from_secs;
    assert!(timeouts.connect_timeout().is_some_and(|t| t <= seconds(3)));
    assert!((1..=4).contains(&retry.max_attempts()));
    assert!(retry.max_backoff() <= seconds(5));
    assert_eq!(
        timeouts.operation_attempt_timeout(),
        Some(aws::REQUEST_TIMEOUT)
    );
}

#[test]
fn an_endpoint_answering_html_is_not_aws_and_not_retried() {
    let ep = Endpoint::start(Answer::Html);
    let out = run(&ep.url, true, &[], IMPORT);
    let line = one_error_line(&out);
    assert!(
        line.contains(&format!(
            "{} is not an AWS endpoint: it answered HTTP 200 with an HTML page",
            ep.url
        )) && line.contains("Point it at AWS (unset it) or at the emulator"),
        "{line}"
    );
    let err = text(&out.stderr);
    assert!(!err.contains("<p>portal") && err.len() < 2_000, "{err}");
    assert_eq!(ep.connections(), 1, "a web page is not asked twice");
}

#[test]
fn a_truncated_answer_is_retried_within_the_budget_then_told() {
    let ep = Endpoint::start(Answer::Truncated);
    let out = run(&ep.url, true, &[], IMPORT);
    let line = one_error_line(&out);
    assert!(
        line.contains("connection closed before the answer was complete"),
        "{line}"
    );
    // Import reads without apply's retries: the SDK's attempts, no more.
    assert_eq!(ep.connections(), u64::from(aws::SDK_MAX_ATTEMPTS));
    // Each of the SDK's retries is said on stderr, stamped (no terminal), as it starts.
    let err = text(&out.stderr);
    let retries: Vec<&str> = err
        .lines()
        .filter_map(stamped)
        .filter(|l| l.starts_with("retrying "))
        .collect();
    let n = aws::SDK_MAX_ATTEMPTS;
    assert_eq!(retries.len() as u32, n - 1, "{err}");
    for (i, l) in retries.iter().enumerate() {
        assert!(
            l.starts_with("retrying ListRoots (attempt ")
                && l.contains(&format!("(attempt {}/{n}): ", i + 2)),
            "{l}\n{err}"
        );
    }
}

#[test]
fn a_silent_endpoint_times_out_within_the_budget_then_is_told() {
    let ep = Endpoint::start(Answer::Silent);
    let out = run(
        &ep.url,
        true,
        &[],
        &["import", "--env", "x", "--request-timeout", "1"],
    );
    let line = one_error_line(&out);
    assert!(
        line.contains("no answer in time (1 s per attempt"),
        "{line}"
    );
    assert_eq!(ep.connections(), u64::from(aws::SDK_MAX_ATTEMPTS));
}

#[test]
fn aws_credential_errors_name_their_class_and_the_principal() {
    // Each: what AWS answers, the class as the line says it, and the next step it gives.
    let cases = [
        (
            Answer::AwsError(400, "ExpiredTokenException", "The security token included in the request is expired"),
            "the AWS credentials have expired",
            "Get new ones (`aws sso login`, or assume the role again)",
        ),
        (
            Answer::AwsError(400, "UnrecognizedClientException", "The security token included in the request is invalid."),
            "AWS rejected the credentials",
            "Check AWS_ACCESS_KEY_ID or the profile",
        ),
        (
            Answer::AwsError(400, "AccessDeniedException", "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: organizations:ListRoots on resource: *"),
            "access denied: arn:aws:iam::111122223333:user/bob may not call organizations:ListRoots",
            "Run with the management account's (or a delegated administrator's) credentials",
        ),
        (
            Answer::AwsError(400, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization."),
            "is not in an AWS Organization",
            "`aws organizations create-organization --feature-set ALL`",
        ),
        (
            Answer::AwsError(400, "InvalidSignatureException", "Credential should be scoped to a valid region. "),
            "region `eu-west-3` does not serve Organizations for these credentials",
            "Pass --region us-east-1, or leave the region unset.",
        ),
    ];
    for (answer, class, next) in cases {
        let ep = Endpoint::start(answer);
        let line = one_error_line(&run(
            &ep.url,
            true,
            &[],
            &["import", "--env", "x", "--region", "eu-west-3"],
        ));
        assert!(line.contains(class), "{class}: {line}");
        assert!(line.contains(next), "{next}: {line}");
        // An answer from AWS is not asked again; only the line that must name the principal
        // and had none from AWS's message asks STS who the caller is (same endpoint).
        let asked = if class.contains("AWS Organization") {
            2
        } else {
            1
        };
        assert_eq!(ep.connections(), asked, "{class}");
    }
}

#[test]
fn verbose_adds_the_technical_detail() {
    let url = closed_port();
    let out = run(&url, true, &[], &["--verbose", "import", "--env", "x"]);
    expect_code(&out, 1);
    let err = text(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("detail: ") && l.contains("Connection refused")),
        "{err}"
    );
}

#[test]
fn credential_problems_are_told_before_any_request() {
    let ep = Endpoint::start(Answer::Html);
    // No keys, no profile with credentials, no instance metadata.
    let line = one_error_line(&run(&ep.url, false, &[], IMPORT));
    assert!(
        line.starts_with("error: no AWS credentials were found")
            && line.contains("Set one (e.g. `--profile NAME`"),
        "{line}"
    );
    // A profile in neither file, by flag or by AWS_PROFILE.
    let line = one_error_line(&run(
        &ep.url,
        false,
        &[],
        &["import", "--env", "x", "--profile", "nope"],
    ));
    assert!(
        line.contains("profile `nope` does not exist")
            && line.contains("profiles there: default, dev")
            && line.contains("create it with `aws configure --profile nope`"),
        "{line}"
    );
    let line = one_error_line(&run(&ep.url, false, &[("AWS_PROFILE", "nope")], IMPORT));
    assert!(line.contains("profile `nope` does not exist"), "{line}");
    // --profile beside environment keys, which the SDK would silently prefer.
    let line = one_error_line(&run(
        &ep.url,
        true,
        &[],
        &["import", "--env", "x", "--profile", "dev"],
    ));
    assert!(
        line.contains("--profile dev would be ignored")
            && line
                .contains("Unset AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"),
        "{line}"
    );
    assert_eq!(ep.connections(), 0, "no request was sent");
    // AWS_PROFILE beside environment keys: the keys are used, and the run says so.
    let out = run(&ep.url, true, &[("AWS_PROFILE", "dev")], IMPORT);
    assert!(
        text(&out.stderr)
            .contains("note: using the keys in AWS_ACCESS_KEY_ID; AWS_PROFILE=dev is not used"),
        "{}",
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// progress without a terminal, against moto

/// `2026-11-23T11:49:01Z `: a progress line's timestamp.
fn stamped(line: &str) -> Option<&str> {
    let (stamp, rest) = line.split_once(' ')?;
    let ok = stamp.len() == 20
        && stamp.ends_with('Z')
        && stamp.as_bytes()[10] == b'T'
        && stamp[..4].bytes().all(|b| b.is_ascii_digit());
    ok.then_some(rest)
}

/// The `step i/n done: ...` lines in a captured stderr.
fn done_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(stamped)
        .filter(|l| l.starts_with("step ") && l.contains(" done: "))
        .collect()
}

#[test]
fn an_apply_without_a_terminal_logs_each_phase_and_each_write() {
    let (org, _) = crate::org_with_large_change("ci");
    let proxy = crate::proxy::Proxy::start(&crate::moto::moto().endpoint, 11, 0);
    let out = org.guardrail_via(&proxy.endpoint, &["apply", "--env", "ci", "--auto-approve"]);
    expect_code(&out, 0);
    let err = text(&out.stderr);
    for phase in ["reading the organization", "planning", "applying "] {
        assert!(
            err.lines()
                .filter_map(stamped)
                .any(|l| l.starts_with(phase)),
            "a timestamped `{phase}` line:\n{err}"
        );
    }
    let done = done_lines(&err);
    // Every step of this change is one write, and each is logged once: steps 1 to n, in
    // order, no step twice.
    assert_eq!(done.len() as u64, proxy.writes(), "{err}");
    assert!(done.len() > 10, "{err}");
    let total = done.len();
    for (i, line) in done.iter().enumerate() {
        assert!(
            line.starts_with(&format!("step {}/{total} done: ", i + 1)),
            "line {i}: {line}\n{err}"
        );
    }
}

#[test]
fn an_apply_killed_with_sigkill_leaves_a_line_per_write_done() {
    let (org, _) = crate::org_with_large_change("kl");
    let proxy = crate::proxy::Proxy::start(&crate::moto::moto().endpoint, 13, 0);
    let log = tempfile::NamedTempFile::new().unwrap();
    let k = 5;
    let mut child = org
        .command_via(&proxy.endpoint, &["apply", "--env", "kl", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    // Writes are serial, and a step's line is written before the next step starts: once the
    // (k+1)-th write reached moto, the first k lines are in the log.
    assert!(proxy.wait_for_writes(k + 1), "the apply made {k} writes");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let err = std::fs::read_to_string(log.path()).unwrap();
    let done = done_lines(&err);
    assert!(done.len() as u64 >= k, "at least {k} done lines:\n{err}");
    let steps: std::collections::BTreeSet<&str> = done
        .iter()
        .filter_map(|l| l.split_once(" done: ").map(|(s, _)| s))
        .collect();
    assert_eq!(steps.len(), done.len(), "no step logged twice:\n{err}");
    assert!(
        done.len() as u64 <= proxy.writes(),
        "no line claims more than moto did:\n{err}"
    );
}

/// Reads a file that may not end in a newline yet.
fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_apply_whose_endpoint_dies_stops_and_says_what_was_done() {
    let (org, _) = crate::org_with_large_change("dd");
    let proxy = crate::proxy::Proxy::start(&crate::moto::moto().endpoint, 17, 0);
    let log = tempfile::NamedTempFile::new().unwrap();
    let data = tempfile::NamedTempFile::new().unwrap();
    let mut child = org
        .command_via(&proxy.endpoint, &["apply", "--env", "dd", "--auto-approve"])
        .stdout(data.reopen().unwrap())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    assert!(proxy.wait_for_writes(3));
    proxy.die();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let lines = lines_of(log.path());
    let err = lines.join("\n");
    // The outcome is data (stdout); the error line is a diagnostic (stderr).
    let outcome = lines_of(data.path());
    let out = outcome.join("\n");
    assert!(
        outcome.iter().any(|l| l.starts_with("Stopped: steps ")
            && l.ends_with("in a row could not reach AWS, so the rest was not attempted.")),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "error: apply stopped: could not reach AWS at {}: connection refused",
            proxy.endpoint
        ))),
        "{err}"
    );
    let done = outcome.iter().filter(|l| l.starts_with("done ")).count();
    let skipped = outcome
        .iter()
        .filter(|l| l.starts_with("skipped ") && l.ends_with("(the run stopped)"))
        .count();
    assert!(done >= 3 && skipped >= 1, "{out}");
    assert!(done as u64 <= proxy.writes(), "{out}");
}
