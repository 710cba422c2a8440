//! The real binary at AWS's rates (`GUARDRAIL_RATE_SCALE=1`) against moto behind the test
//! proxy's AWS-rate mode (`rate_proxy`): AWS's token buckets enforced exactly, listings paged
//! as AWS pages them, `Paths` added on request. No timing is asserted (speed lives in
//! `guardrail-bench`); what is asserted is that neither read nor an apply draws a
//! TooManyRequests, that each read is the one `--stats` names, that `--stats` gives both
//! reads' budget and lower bound and the budget is exactly what the proxy answered, and that
//! the proxy's count of requests is the binary's.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use guardrail::live::{walk_requests, ReadPath, RequestStats, WalkEstimate};

use crate::rate_proxy::RateProxy;
use crate::{edit, expect_code, moto, set_account_ou, stats, text, Org};

/// Runs the binary at AWS's own rates through `proxy`, from full buckets.
fn at_aws_rates(org: &Org, proxy: &RateProxy, args: &[&str]) -> std::process::Output {
    proxy.reset();
    let mut cmd = org.command_via(&proxy.endpoint, args);
    cmd.env("GUARDRAIL_RATE_SCALE", "1").arg("--stats");
    cmd.output().unwrap()
}

/// One read's line of `--stats`: `(taken, read, budget, lower bound in seconds)`.
fn walk_costs(stderr: &str) -> Vec<(bool, String, u64, f64)> {
    stderr
        .lines()
        .filter_map(|l| {
            let (head, rest) = l.split_once(": budget ")?;
            let taken = head.starts_with("read ");
            let read = head.trim_start().trim_start_matches("other read, ");
            let read = read.trim_start_matches("read ").to_owned();
            let (budget, rest) = rest.split_once(" requests, lower bound at AWS's rates ")?;
            let bound = rest.split_once(" s (")?.0;
            Some((taken, read, budget.parse().ok()?, bound.parse().ok()?))
        })
        .collect()
}

/// The walk's operations among `forwarded` (the lock's tag requests left out).
fn walk_only(forwarded: &BTreeMap<String, u64>, predicted: &RequestStats) -> RequestStats {
    RequestStats {
        by_operation: forwarded
            .iter()
            .filter(|(op, _)| predicted.by_operation.contains_key(*op))
            .map(|(op, n)| (op.clone(), *n))
            .collect(),
    }
}

/// `--stats` names the read taken first and the other after it, each with its budget and
/// lower bound, as `WalkEstimate` gives them for the organization read; and the budget of the
/// read taken is exactly the walk's requests the proxy answered, by operation.
fn assert_stats_show_both_reads(stderr: &str, forwarded: &BTreeMap<String, u64>, org: &Org) {
    let live = org.read_live();
    let costs = walk_costs(stderr);
    assert_eq!(costs.len(), 2, "{stderr}");
    let names = ["ListAccounts with Paths", "per parent ("];
    for (path, name) in ReadPath::ALL.iter().zip(names) {
        let (_, _, budget, bound) = costs
            .iter()
            .find(|c| c.1.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line: {stderr}"));
        let e = WalkEstimate::of(&live, *path);
        assert_eq!(*budget, e.budget, "{path:?}: {stderr}");
        assert!(
            (bound - e.bound.as_secs_f64()).abs() < 0.051,
            "{path:?}: {stderr}"
        );
        assert!(*bound > 0.0, "{path:?}: {stderr}");
    }
    assert!(costs[0].0 && !costs[1].0, "the read taken first: {stderr}");
    let taken = ReadPath::ALL[usize::from(!costs[0].1.starts_with(names[0]))];
    let predicted = walk_requests(&live, taken);
    assert_eq!(walk_only(forwarded, &predicted), predicted, "{stderr}");
}

#[test]
fn neither_read_draws_a_throttle_at_awss_rates() {
    let org = Org::seed(60, 6, 6);
    let proxy = RateProxy::start(&moto::moto().endpoint).unwrap();

    // moto answers ListAccounts without Paths: the per-parent read.
    let out = at_aws_rates(&org, &proxy, &["import", "--env", "r"]);
    expect_code(&out, 0);
    let err = text(&out.stderr);
    assert!(err.contains("\nread per parent"), "{err}");
    assert_eq!(proxy.throttled(), Default::default(), "{err}");
    let (total, budget) = stats(&err);
    assert!(total <= budget, "{err}");
    assert_eq!(total, proxy.forwarded().values().sum::<u64>(), "{err}");
    assert_stats_show_both_reads(&err, &proxy.forwarded(), &org);
    assert!(
        proxy.forwarded()["ListTargetsForPolicy"] > 6,
        "FullAWSAccess's 67 targets come in pages of 20: {:?}",
        proxy.forwarded()
    );

    // With Paths, as AWS answers: ListAccounts places every account.
    proxy.set_paths(crate::rate_proxy::paths_of(&org.read_live()));
    let out = at_aws_rates(&org, &proxy, &["plan", "--env", "r", "--detailed-exitcode"]);
    expect_code(&out, 0);
    let err = text(&out.stderr);
    assert!(err.contains("\nread ListAccounts with Paths"), "{err}");
    assert_eq!(proxy.throttled(), Default::default(), "{err}");
    let forwarded = proxy.forwarded();
    assert!(
        !forwarded.contains_key("ListAccountsForParent"),
        "{forwarded:?}"
    );
    assert_eq!(forwarded["ListAccounts"], 4, "61 accounts, pages of 20");
    assert_eq!(stats(&err).0, forwarded.values().sum::<u64>(), "{err}");
    assert_stats_show_both_reads(&err, &forwarded, &org);
}

#[test]
fn an_apply_at_awss_rates_draws_no_throttle() {
    let org = Org::seed(40, 6, 5);
    expect_code(&org.guardrail(&["import", "--env", "w"]), 0);
    // Six accounts from Infrastructure and Security (no policies of their own there) to
    // Sandbox, and three new OUs: more writes of each family than its burst holds
    // (MoveAccount 3, CreateOrganizationalUnit 2).
    let keys = ["0002", "0004", "0008", "0010", "0014", "0016"];
    edit(&org.path("environments/w.toml"), |mut s| {
        for k in keys {
            s = set_account_ou(&s, &format!("acct-{k}"), "Sandbox");
        }
        for i in 0..3 {
            s.push_str(&format!(
                "\n[ous.Rated{i}]\npolicies = [\"FullAWSAccess\"]\n"
            ));
        }
        s
    });
    let proxy = RateProxy::start(&moto::moto().endpoint).unwrap();
    let out = at_aws_rates(&org, &proxy, &["apply", "--env", "w", "--auto-approve"]);
    expect_code(&out, 0);
    let err = text(&out.stderr);
    assert_eq!(proxy.throttled(), Default::default(), "{err}");
    let forwarded = proxy.forwarded();
    assert_eq!(forwarded.get("MoveAccount"), Some(&6), "{forwarded:?}");
    assert_eq!(
        forwarded.get("CreateOrganizationalUnit"),
        Some(&3),
        "{forwarded:?}"
    );
    // apply's last `--stats` counts the whole run: writes, and the lock's release.
    let last: u64 = err
        .lines()
        .rfind(|l| l.trim_start().starts_with("total"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or_else(|| panic!("no total: {err}"));
    assert_eq!(forwarded.get("UntagResource"), Some(&1), "{forwarded:?}");
    assert_eq!(last, forwarded.values().sum::<u64>(), "{err}");
    let out = org.guardrail(&["plan", "--env", "w", "--detailed-exitcode"]);
    expect_code(&out, 0);
}

/// One raw `DescribePolicy` through the proxy, signed as `key`: the status line and the body.
fn describe_policy(endpoint: &str, key: &str) -> (String, String) {
    let mut s = std::net::TcpStream::connect(endpoint.trim_start_matches("http://")).unwrap();
    let body = r#"{"PolicyId":"p-FullAWSAccess"}"#;
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSOrganizationsV20161128.DescribePolicy\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={key}/20261123/us-east-1/organizations/aws4_request\r\n\
         Content-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

#[test]
fn the_proxy_throttles_each_caller_as_aws_does() {
    let proxy = RateProxy::start(&moto::moto().endpoint).unwrap();
    // DescribePolicy: 2 per second, a burst of 2, per calling account.
    let answers: Vec<_> = (0..8)
        .map(|_| describe_policy(&proxy.endpoint, "AKIDONE"))
        .collect();
    let throttled: Vec<_> = answers
        .iter()
        .filter(|(_, b)| b.contains(r#""__type":"TooManyRequestsException""#))
        .collect();
    // The burst reaches moto (which answers as it will, here PolicyNotFound: this caller has
    // no organization); the rest are refused as AWS refuses them, HTTP 400.
    assert!(throttled.len() >= 5, "{answers:?}");
    assert!(
        throttled.iter().all(|(s, _)| s.contains(" 400 ")),
        "{throttled:?}"
    );
    assert!(!answers[0].1.contains("TooManyRequests"), "{answers:?}");
    assert_eq!(
        proxy.throttled()["DescribePolicy"],
        throttled.len() as u64,
        "counted"
    );
    // Another caller has its own bucket.
    let (status, body) = describe_policy(&proxy.endpoint, "AKIDTWO");
    assert!(!body.contains("TooManyRequests"), "{status} {body}");
}
