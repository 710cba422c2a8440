//! Staged rollout in the plan's output: a guardrail at `stage = "canary"` names the targets it
//! is held back from until `guardrail promote` (human, JSON `held_back`, Markdown).

use guardrail::model::{OuPath, TargetRef};
use guardrail::render::observe::{held_back_human, held_back_json, held_back_markdown};
use serde_json::json;

use crate::support::parse_with;

const PROD: &str = "210987654321";
const CANARY: &str = "210987654399";

/// `eu-only` on the root, on the Workloads OU (which holds the canary) and on one account in
/// and one outside the canary; `no-root` at the canary stage only on the canary OU itself.
fn config(stage: &str) -> String {
    format!(
        r#"
[organization]
management_account = "123456789012"

[rollout]
canary = ["Workloads/Canary"]

[guardrails.eu-only]
template = "region-lock"
stage = "{stage}"
allowed_regions = ["eu-west-1"]

[guardrails.no-root]
template = "root-user-deny"
stage = "{stage}"

[root]
policies = ["FullAWSAccess"]
guardrails = ["eu-only"]

[ous."Workloads"]
policies = ["FullAWSAccess"]
guardrails = ["eu-only"]

[ous."Workloads/Canary"]
policies = ["FullAWSAccess"]
guardrails = ["no-root"]

[ous."Workloads/Prod"]
policies = ["FullAWSAccess"]

[accounts.prod-1]
id = "{PROD}"
ou = "Workloads/Prod"
policies = ["FullAWSAccess"]
guardrails = ["eu-only"]

[accounts.canary-1]
id = "{CANARY}"
ou = "Workloads/Canary"
policies = ["FullAWSAccess"]
guardrails = ["eu-only"]
"#
    )
}

#[test]
fn a_canary_guardrail_names_every_target_it_is_held_back_from() {
    let d = parse_with(&config("canary"), &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    let held = &d.rollout.held_back;
    assert_eq!(
        held.get("eu-only"),
        Some(&vec![
            TargetRef::Root,
            TargetRef::Ou(OuPath::parse("Workloads").unwrap()),
            TargetRef::Account(PROD.into()),
        ]),
        "{held:?}"
    );
    assert!(
        !held.contains_key("no-root"),
        "listed only inside the canary: held back from nothing"
    );

    let human = held_back_human("prod", &d.rollout);
    assert!(human.contains("guardrail promote --env prod"), "{human}");
    assert!(human.contains("Workloads/Canary"), "{human}");
    assert!(
        human.contains(&format!(
            "eu-only: not yet on root, ou Workloads, account {PROD}"
        )),
        "{human}"
    );
    assert!(!human.contains(CANARY), "{human}");

    assert_eq!(
        held_back_json(&d.rollout),
        json!([{"guardrail": "eu-only",
            "targets": [{"kind": "root"}, {"kind": "ou", "path": "Workloads"},
                {"kind": "account", "id": PROD}],
            "canary_ous": ["Workloads/Canary"]}])
    );

    let md = held_back_markdown("prod", &d.rollout);
    assert!(
        md.contains("#### Held back until `guardrail promote`"),
        "{md}"
    );
    assert!(
        md.contains(&format!("| eu-only | root, ou Workloads, account {PROD} |")),
        "{md}"
    );
}

#[test]
fn after_promotion_nothing_is_held_back_and_the_sections_are_empty() {
    let d = parse_with(&config("all"), &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(d.rollout.held_back.is_empty());
    assert_eq!(held_back_human("prod", &d.rollout), "");
    assert_eq!(held_back_markdown("prod", &d.rollout), "");
    assert_eq!(held_back_json(&d.rollout), json!([]));
}
