//! Errors that name the cause (issue 16): a target without `policies` plans as AWS's default;
//! a lockout by an implicit deny advises an Allow at that level, of that layer, never an
//! exemption; one by an explicit deny advises the exemption.

use std::collections::BTreeMap;
use std::path::PathBuf;

use guardrail::plan::{self, Refusal};

use crate::support::parse_with;

/// A config whose OU `Locked` lists only an allow-list SCP: nothing there allows IAM.
const ALLOW_LIST: &str = r#"[organization]
management_account = "123456789012"
deployer = "arn:aws:iam::123456789012:role/guardrail-deployer"

[policies.ec2-only]
document = "t/ec2-only.json"

[ous.Locked]
policies = ["ec2-only"]
"#;

const EC2_ONLY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;

fn lockout_text(by: &str) -> String {
    Refusal::Lockout {
        principal: "arn:aws:iam::*:role/OrganizationAccountAccessRole".into(),
        account: "a member account in ou Locked".into(),
        action: "iam:CreatePolicy".into(),
        by: by.into(),
    }
    .to_string()
}

#[test]
fn an_implicit_deny_lockout_advises_an_allow_at_that_level_not_an_exemption() {
    let docs: BTreeMap<PathBuf, String> =
        [(PathBuf::from("t/ec2-only.json"), EC2_ONLY.to_owned())].into();
    let d = parse_with(ALLOW_LIST, &docs).unwrap_or_else(|e| panic!("{e}"));
    let report = plan::verify::validate(&d);
    let l = report
        .lockouts
        .iter()
        .find(|l| l.action == "iam:CreatePolicy")
        .unwrap_or_else(|| panic!("{:?}", report.lockouts));
    assert!(l.by.contains("no SCP at ou Locked allows it"), "{}", l.by);
    let text = lockout_text(&l.by);
    assert!(
        text.contains("nothing at that level allows it") && text.contains("FullAWSAccess"),
        "{text}"
    );
    assert!(!text.contains("exempt"), "{text}");
}

#[test]
fn each_layer_and_kind_of_deny_gets_its_own_advice() {
    let rcp = lockout_text("denied: no RCP at root allows it");
    assert!(rcp.contains("RCPFullAWSAccess"), "{rcp}");
    let scp = lockout_text("denied: no SCP at ou Locked allows it");
    assert!(
        scp.contains("(FullAWSAccess,") && !scp.contains("RCPFullAWSAccess"),
        "{scp}"
    );
    let explicit = lockout_text("denied by SCP no-iam, statement NoIam, attached to ou Locked");
    assert!(explicit.contains("exempt the principal"), "{explicit}");
}

/// A target without a `policies` key carries AWS's default: import an organization, drop
/// every `policies = ["FullAWSAccess"]` line, and the plan stays empty (were a missing key
/// "no SCP", every such target would be refused, or lose FullAWSAccess).
#[test]
fn targets_without_a_policies_key_plan_as_awss_default() {
    let shape = guardrail::live::demo::Shape {
        accounts: 4,
        ous: 6,
        policies: 5,
        bare: false,
    };
    let (live, emitted) = crate::support::rt().block_on(async {
        let fake = guardrail::live::fake::FakeOrg::new("999999999999");
        guardrail::live::demo::seed(&fake, shape, 4).await.unwrap();
        let (live, _, emitted) = crate::support::import(&fake).await;
        (live, emitted)
    });
    let full = "policies = [\"FullAWSAccess\"]\n";
    let dropped = emitted.config.matches(full).count();
    assert!(dropped >= 3, "{}", emitted.config);
    let text = emitted.config.replace(full, "");
    let docs: BTreeMap<PathBuf, String> = emitted.documents.iter().cloned().collect();
    let d = parse_with(&text, &docs).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let p = plan::plan(&d, &live).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.changes.is_empty(), "{:?}", p.changes);
}
