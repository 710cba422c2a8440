//! Faults and crashes, through the fault-injecting proxy: apply converges under injected
//! faults, under lost write responses and after being killed at random points, and no write
//! on the way leaves a target without an SCP or over its limit.

use std::collections::BTreeSet;

use crate::{expect_code, moto, org_with_large_change, proxy, replayed_violations, text, Org};

/// Plan through the proxy is empty, and the replay of every write moto accepted shows no
/// target without an SCP or over the limit. Returns the proxy's log.
fn converged(
    org: &Org,
    proxy: &proxy::Proxy,
    env: &str,
    initial: &guardrail::model::LiveOrg,
) -> Vec<proxy::Record> {
    expect_code(
        &org.guardrail_via(
            &proxy.endpoint,
            &["plan", "--env", env, "--detailed-exitcode"],
        ),
        0,
    );
    let log = proxy.log();
    let violations = replayed_violations(org, env, initial, &log);
    assert!(violations.is_empty(), "{violations:#?}");
    log
}

#[test]
fn apply_converges_under_20_percent_injected_faults() {
    let (org, initial) = org_with_large_change("f");
    let proxy = proxy::Proxy::start(&moto::moto().endpoint, 20_261_123, 20);
    let mut runs = 0;
    loop {
        runs += 1;
        let out = org.guardrail_via(&proxy.endpoint, &["apply", "--env", "f", "--auto-approve"]);
        if out.status.code() == Some(0) {
            break;
        }
        assert!(
            runs < 8,
            "apply did not converge in {runs} runs:\n{}",
            text(&out.stderr)
        );
    }
    proxy.set_share(0);
    let log = converged(&org, &proxy, "f", &initial);
    assert!(
        proxy.faults() > 10,
        "faults were injected: {}",
        proxy.faults()
    );
    assert!(
        log.iter()
            .any(|r| r.op == "DetachPolicy" && r.status == 200),
        "the change detached FullAWSAccess somewhere"
    );
}

/// Writes that take effect but whose answer never arrives (the proxy forwards them to moto,
/// then drops the connection): the SDK's and apply's retries meet AWS's "already so" answers
/// (for the writes moto answers as AWS does; see `proxy::LOSABLE`).
/// Re-running apply converges within three runs, the plan is then empty, and no target ever
/// held zero SCPs or more than ten.
#[test]
fn apply_converges_when_write_responses_are_lost() {
    let (org, initial) = org_with_large_change("l");
    let proxy = proxy::Proxy::start_with_lost(&moto::moto().endpoint, 20_260_417, 0, 30);
    let mut runs = 0;
    let mut outputs = Vec::new();
    loop {
        runs += 1;
        let out = org.guardrail_via(&proxy.endpoint, &["apply", "--env", "l", "--auto-approve"]);
        let done = out.status.code() == Some(0);
        outputs.push(format!(
            "run {runs}: exit {:?}\n{}\n{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        ));
        if done {
            break;
        }
        assert!(
            runs < 3,
            "apply did not converge in {runs} runs with lost responses:\n{}",
            outputs.join("\n")
        );
    }
    proxy.set_lost_share(0);
    let log = converged(&org, &proxy, "l", &initial);
    let lost: Vec<&str> = log
        .iter()
        .filter(|r| r.lost)
        .map(|r| r.op.as_str())
        .collect();
    assert!(
        lost.len() >= 3 && proxy.lost() == lost.len() as u64,
        "writes lost their response: {lost:?}"
    );
    let kinds: BTreeSet<&str> = lost.iter().copied().collect();
    assert!(
        kinds.len() >= 2 && !kinds.contains(""),
        "Organizations writes of several kinds lost their response: {lost:?}"
    );
}

#[test]
fn apply_killed_at_random_points_always_converges() {
    let (org, initial) = org_with_large_change("k");
    let proxy = proxy::Proxy::start(&moto::moto().endpoint, 7, 0);
    // Kill after these many more writes reached moto (seeded, so the test is repeatable).
    let mut kills = 0;
    for k in [2u64, 5, 3, 7] {
        let seen = proxy.writes();
        let mut child = org
            // A killed run leaves its lock on the root; the operator who restarts it knows
            // it died and breaks the lock explicitly.
            .command_via(
                &proxy.endpoint,
                &["apply", "--env", "k", "--auto-approve", "--break-lock"],
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let reached = proxy.wait_for_writes(seen + k);
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        if !reached {
            break; // the apply finished before this kill point
        }
        // Killed mid-apply (unless it happened to finish in the same instant).
        if status.code().is_none() {
            kills += 1;
        }
    }
    assert!(kills >= 1, "at least one apply was killed mid-way");
    expect_code(
        &org.guardrail_via(
            &proxy.endpoint,
            &["apply", "--env", "k", "--auto-approve", "--break-lock"],
        ),
        0,
    );
    converged(&org, &proxy, "k", &initial);
}
