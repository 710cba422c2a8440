//! Permissions boundaries across member accounts (AssumeRole into each): deployed to 50
//! accounts, audited, and attached where roles already exist.

use guardrail::live::aws::AwsBackend;
use serde_json::Value;

use crate::{edit, expect_code, Org};

/// An IAM client in a member account, through AssumeRole of its OrganizationAccountAccessRole.
async fn member_iam(b: &AwsBackend, account: &str) -> aws_sdk_iam::Client {
    let out = aws_sdk_sts::Client::new(b.sdk_config())
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("test")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let creds = aws_sdk_iam::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "t",
    );
    aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(b.sdk_config())
            .credentials_provider(creds)
            .build(),
    )
}

const WORKLOAD_BOUNDARY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowAll","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoOrg","Effect":"Deny","Action":"organizations:*","Resource":"*"}]}"#;

#[test]
fn boundaries_deploy_to_50_accounts_audit_and_attach_existing() {
    let org = Org::seed(50, 6, 5);
    expect_code(&org.guardrail(&["import", "--env", "b"]), 0);
    let mgmt = org.var("GUARDRAIL_DEMO_ACCOUNT");
    std::fs::write(
        org.path("environments/b/workload-boundary.json"),
        WORKLOAD_BOUNDARY,
    )
    .unwrap();
    let boundary = |enforce: &str| {
        format!("\n[boundaries.workload]\npolicy_name = \"WorkloadBoundary\"\npath = \"/guardrail/\"\ndocument = \"b/workload-boundary.json\"\nous = [\"Infrastructure\", \"Sandbox\", \"Security\", \"Workloads\"]\naccounts = [\"acct-0000\", \"acct-0001\"]\nenforce = {enforce}\n")
    };
    edit(&org.path("environments/b.toml"), |s| {
        s.replacen(
            &format!("management_account = \"{mgmt}\""),
            &format!("management_account = \"{mgmt}\"\ndeployer = \"arn:aws:iam::{mgmt}:role/guardrail-deployer\""),
            1,
        ) + &boundary(r#"["deploy", "require", "protect", "audit"]"#)
    });

    // One apply: the boundary in every member account, then the SCPs that require and protect it.
    let out = org.guardrail(&["plan", "--env", "b", "--format", "json"]);
    expect_code(&out, 0);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["boundaries_to_create"], 50);
    let out = org.guardrail(&["apply", "--env", "b", "--auto-approve", "--format", "json"]);
    expect_code(&out, 0);
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions: Vec<&str> = outcome["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["change"]["action"].as_str().unwrap())
        .collect();
    let last_deploy = actions
        .iter()
        .rposition(|a| *a == "create_boundary")
        .unwrap();
    let first_attach = actions.iter().position(|a| *a == "attach").unwrap();
    assert!(last_deploy < first_attach, "{actions:?}");
    expect_code(&org.guardrail(&["drift", "--env", "b"]), 0);

    let live = org.read_live();
    let members: Vec<String> = live
        .accounts
        .keys()
        .filter(|a| **a != mgmt)
        .cloned()
        .collect();
    assert_eq!(members.len(), 50);
    let arn = |a: &str| format!("arn:aws:iam::{a}:policy/guardrail/WorkloadBoundary");

    // A changed boundary: a new default version everywhere.
    std::fs::write(
        org.path("environments/b/workload-boundary.json"),
        WORKLOAD_BOUNDARY.replace(
            r#""Action":"organizations:*""#,
            r#""Action":["organizations:*","account:*"]"#,
        ),
    )
    .unwrap();
    let out = org.guardrail(&["apply", "--env", "b", "--auto-approve"]);
    expect_code(&out, 0);
    let (a0, a1) = (members[0].clone(), members[1].clone());
    let default = org.out_of_band(async |b| {
        let iam = member_iam(b, &a0).await;
        iam.get_policy()
            .policy_arn(arn(&a0))
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap()
            .default_version_id()
            .unwrap()
            .to_owned()
    });
    assert_eq!(default, "v2");

    // Out of band: a role created without the boundary, and one whose boundary is removed.
    org.out_of_band(async |b| {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        member_iam(b, &a0).await.create_role().role_name("no-boundary").assume_role_policy_document(doc).send().await.unwrap();
        let i1 = member_iam(b, &a1).await;
        i1.create_role().role_name("stripped").assume_role_policy_document(doc).permissions_boundary(arn(&a1)).send().await.unwrap();
        i1.delete_role_permissions_boundary().role_name("stripped").send().await.unwrap();
    });
    let out = org.guardrail(&["drift", "--env", "b", "--format", "json"]);
    expect_code(&out, 2);
    let drift: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<String> = drift["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["account_id"].as_str().unwrap(),
                f["role"].as_str().unwrap()
            )
        })
        .collect();
    found.sort();
    let mut want = vec![format!("{a0} no-boundary"), format!("{a1} stripped")];
    want.sort();
    assert_eq!(found, want);

    // attach-existing brings them back under the boundary.
    edit(&org.path("environments/b.toml"), |s| {
        s.replace(
            r#"enforce = ["deploy", "require", "protect", "audit"]"#,
            r#"enforce = ["deploy", "require", "protect", "audit", "attach-existing"]"#,
        )
    });
    let out = org.guardrail(&["plan", "--env", "b", "--format", "json"]);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["roles_to_bound"], 2);
    expect_code(
        &org.guardrail(&["apply", "--env", "b", "--auto-approve"]),
        0,
    );
    expect_code(&org.guardrail(&["drift", "--env", "b"]), 0);
}
