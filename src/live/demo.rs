//! Demo organizations for `scripts/sandbox`, the end-to-end tests and the benchmark: a
//! deterministic tree of OUs, SCPs with realistic documents, and accounts spread over the OUs,
//! built through any [`OrgBackend`] (the fake or an emulator; `guardrail-demo` refuses real
//! endpoints).

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};

use super::{OrgBackend, Result};
use crate::model::PolicyType;

/// How big a demo organization is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub accounts: usize,
    /// At least 6.
    pub ous: usize,
    /// At least 5.
    pub policies: usize,
    /// Create nothing but enable SCPs.
    pub bare: bool,
}

/// What was built.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub root: String,
    pub ous: BTreeMap<String, String>,
    pub policies: BTreeMap<String, String>,
    pub accounts: Vec<(usize, String)>,
}

const BASE_OUS: &[&str] = &[
    "Infrastructure",
    "Sandbox",
    "Security",
    "Workloads",
    "Workloads/Dev",
    "Workloads/Prod",
];

/// A realistic document per demo policy name.
pub fn policy_doc(i: usize, name: &str) -> String {
    match name {
        "deny-leave-org" => r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#.into(),
        "deny-root-user" => r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyRoot","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}"#.into(),
        "protect-cloudtrail" => r#"{"Version":"2012-10-17","Statement":[{"Sid":"ProtectTrail","Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:DeleteTrail","cloudtrail:UpdateTrail"],"Resource":"*"}]}"#.into(),
        "region-lock" => r#"{"Version":"2012-10-17","Statement":[{"Sid":"RegionLock","Effect":"Deny","NotAction":["iam:*","organizations:*","sts:*","support:*","cloudfront:*","route53:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}"#.into(),
        "deny-s3-public" => r#"{"Version":"2012-10-17","Statement":[{"Sid":"KeepBlock","Effect":"Deny","Action":"s3:PutAccountPublicAccessBlock","Resource":"*"}]}"#.into(),
        _ => format!(r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Extra{i}","Effect":"Deny","Action":"ec2:DeleteVpc","Resource":"arn:aws:ec2:*:*:vpc/vpc-{i:08}"}}]}}"#),
    }
}

/// Builds the demo organization; `concurrency` accounts are created at a time.
pub async fn seed(b: &dyn OrgBackend, shape: Shape, concurrency: usize) -> Result<Seeded> {
    let root = super::walk::the_root(b).await?;
    if !root
        .enabled_policy_types
        .contains(&PolicyType::ServiceControlPolicy)
    {
        b.enable_policy_type(&root.id, PolicyType::ServiceControlPolicy)
            .await?;
    }
    let mut out = Seeded {
        root: root.id.clone(),
        ..Seeded::default()
    };
    if shape.bare {
        return Ok(out);
    }
    // OUs, parent first.
    let mut ou_paths: Vec<String> = BASE_OUS.iter().map(|s| s.to_string()).collect();
    let mut i = 1;
    while ou_paths.len() < shape.ous {
        let parent = if i % 2 == 0 {
            "Workloads/Dev"
        } else {
            "Workloads/Prod"
        };
        ou_paths.push(format!("{parent}/Team-{i:04}"));
        i += 1;
    }
    let mut sorted = ou_paths.clone();
    sorted.sort_by_key(|p| p.matches('/').count());
    for p in &sorted {
        let (parent, name) = match p.rsplit_once('/') {
            Some((parent, name)) => (
                out.ous
                    .get(parent)
                    .cloned()
                    .unwrap_or_else(|| root.id.clone()),
                name,
            ),
            None => (root.id.clone(), p.as_str()),
        };
        let id = b.create_organizational_unit(&parent, name).await?;
        out.ous.insert(p.clone(), id);
    }
    // Policies.
    let mut names: Vec<String> = [
        "deny-leave-org",
        "deny-root-user",
        "protect-cloudtrail",
        "region-lock",
        "deny-s3-public",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut j = 1;
    while names.len() < shape.policies {
        names.push(format!("scp-extra-{j:03}"));
        j += 1;
    }
    for (i, n) in names.iter().enumerate() {
        let id = b
            .create_policy(
                PolicyType::ServiceControlPolicy,
                n,
                &format!("Demo policy {n}"),
                &policy_doc(i, n),
            )
            .await?;
        out.policies.insert(n.clone(), id);
    }
    let pol = |n: &str| out.policies.get(n).cloned().unwrap_or_default();
    b.attach_policy(&pol("deny-leave-org"), &root.id).await?;
    b.attach_policy(&pol("protect-cloudtrail"), &root.id)
        .await?;
    b.attach_policy(&pol("deny-root-user"), &out.ous["Workloads"])
        .await?;
    b.attach_policy(&pol("deny-s3-public"), &out.ous["Workloads"])
        .await?;
    b.attach_policy(&pol("region-lock"), &out.ous["Workloads/Prod"])
        .await?;
    // Extra policies go to the team OUs (or, without any, the base OUs), one each in turn.
    let teams: Vec<&String> = if ou_paths.len() > BASE_OUS.len() {
        ou_paths[BASE_OUS.len()..].iter().collect()
    } else {
        ou_paths.iter().collect()
    };
    for (k, n) in names.iter().skip(5).enumerate() {
        if let Some(t) = teams
            .get(k % teams.len().max(1))
            .and_then(|p| out.ous.get(*p))
        {
            b.attach_policy(&pol(n), t).await?;
        }
    }
    // Accounts, spread over the OUs (two stay in the root).
    let ou_list = ou_paths.clone();
    let ous = out.ous.clone();
    let root_id = root.id.clone();
    let created: Vec<(usize, String)> = stream::iter(0..shape.accounts)
        .map(|k| {
            let dest = if k < 2 {
                root_id.clone()
            } else {
                ous[&ou_list[(k - 2) % ou_list.len()]].clone()
            };
            let root_id = root_id.clone();
            async move {
                let id = b
                    .create_account(&format!("acct-{k:04}"), &format!("acct-{k:04}@example.com"))
                    .await?;
                if dest != root_id {
                    b.move_account(&id, &root_id, &dest).await?;
                }
                Ok::<_, super::Error>((k, id))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    for (k, id) in &created {
        if k % 10 == 3 {
            b.attach_policy(&pol("deny-root-user"), id).await?;
        }
    }
    out.accounts = created;
    Ok(out)
}

/// A fresh organization in an emulator: the credentials of its management account and the
/// SDK configuration that uses them.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub conf: aws_config::SdkConfig,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

fn emulator_error(what: &str, e: impl std::error::Error) -> super::Error {
    super::Error::Transport(format!(
        "{what}: {}",
        aws_sdk_organizations::error::DisplayErrorContext(&e)
    ))
}

/// Assumes a role in `account` (moto maps the credentials to that account) and creates an
/// all-features organization there, so that tests and benchmarks can share one emulator.
pub async fn new_organization(endpoint: &str, account: &str) -> Result<NewOrganization> {
    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_organizations::config::Credentials;
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "demo",
            "demo",
            None,
            None,
            "guardrail-demo",
        ))
        .load()
        .await;
    let out = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/guardrail-demo"))
        .role_session_name("guardrail-demo")
        .send()
        .await
        .map_err(|e| emulator_error("AssumeRole into the demo account", e))?;
    let c = out
        .credentials()
        .ok_or_else(|| super::Error::AccessDenied("AssumeRole returned no credentials".into()))?;
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "demo-org",
        ))
        .load()
        .await;
    aws_sdk_organizations::Client::new(&conf)
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .map_err(|e| emulator_error("CreateOrganization", e))?;
    Ok(NewOrganization {
        conf,
        access_key_id: c.access_key_id().to_owned(),
        secret_access_key: c.secret_access_key().to_owned(),
        session_token: c.session_token().to_owned(),
    })
}

/// An SDK backend for an emulator: no pacing at AWS's rates.
pub fn emulator_backend(conf: &aws_config::SdkConfig) -> super::aws::AwsBackend {
    super::aws::AwsBackend::with_limiter(
        conf,
        8,
        std::sync::Arc::new(super::limiter::RateLimiter::scaled(1e6)),
    )
}
