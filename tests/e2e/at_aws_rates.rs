//! The real binary at AWS's rates (`GUARDRAIL_RATE_SCALE=1`) against moto behind the test
//! proxy's AWS-rate mode (`rate_proxy`): AWS's token buckets enforced exactly, listings paged
//! as AWS pages them, `Paths` added on request. No timing is asserted (speed lives in
//! `guardrail-bench`); what is asserted is that neither read draws a TooManyRequests, that
//! each read is the one `--stats` names, and that the proxy's count of requests is the
//! binary's.

use std::io::{Read, Write};

use crate::rate_proxy::RateProxy;
use crate::{expect_code, moto, stats, text, Org};

/// Runs the binary at AWS's own rates through `proxy`, from full buckets.
fn at_aws_rates(org: &Org, proxy: &RateProxy, args: &[&str]) -> std::process::Output {
    proxy.reset();
    let mut cmd = org.command_via(&proxy.endpoint, args);
    cmd.env("GUARDRAIL_RATE_SCALE", "1").arg("--stats");
    cmd.output().unwrap()
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
