//! What the binary's logs never carry: no credential, even at trace level.

use crate::{expect_code, text, Org};

#[test]
fn logs_never_carry_a_credential_even_at_trace_level() {
    let org = Org::seed(3, 6, 5);
    let out = org
        .command_via(
            &org.var("AWS_ENDPOINT_URL"),
            &["plan", "--env", "none", "--stats"],
        )
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    // The config does not exist: the run fails after setting up logging; make one that works.
    assert_eq!(out.status.code(), Some(1));
    expect_code(&org.guardrail(&["import", "--env", "c"]), 0);
    let out = org
        .command_via(
            &org.var("AWS_ENDPOINT_URL"),
            &["plan", "--env", "c", "--stats"],
        )
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    expect_code(&out, 0);
    let err = text(&out.stderr);
    assert!(
        err.lines().count() > 20,
        "trace logging is on: {} lines",
        err.lines().count()
    );
    for secret in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
        let value = org.var(secret);
        assert!(!err.contains(&value), "{secret} appears in the logs");
    }
}
