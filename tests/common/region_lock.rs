//! The region-lock scenario both replay tests use (`tests/e2e/cloudtrail_replay.rs` on moto,
//! `tests/it/replay_synth.rs` on generated logs): the config's head, with the `eu-only`
//! region lock defined and OUs Locked and Open.

/// The regions the lock allows (as in the config's `allowed_regions`).
pub const ALLOWED: [&str; 2] = ["eu-west-1", "eu-central-1"];

/// The config up to its accounts: management account `mgmt`, deployer, break-glass role
/// exempt, the `eu-only` guardrail, FullAWSAccess on the root and both OUs, and the lock on
/// OU Locked when `locked`.
pub fn config_head(mgmt: &str, locked: bool) -> String {
    let lock = if locked {
        "guardrails = [\"eu-only\"]\n"
    } else {
        ""
    };
    format!(
        r#"[organization]
management_account = "{mgmt}"
deployer = "arn:aws:iam::{mgmt}:role/guardrail-deployer"
break_glass = ["arn:aws:iam::*:role/BreakGlass"]

[guardrails.eu-only]
template = "region-lock"
allowed_regions = ["eu-west-1", "eu-central-1"]

[root]
policies = ["FullAWSAccess"]
[ous.Locked]
policies = ["FullAWSAccess"]
{lock}[ous.Open]
policies = ["FullAWSAccess"]
"#
    )
}
