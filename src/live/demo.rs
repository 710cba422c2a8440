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
    let ou_paths = ou_paths(shape.ous);
    out.ous = create_ous(b, &root.id, &ou_paths).await?;
    let names = policy_names(shape.policies);
    out.policies = create_policies(b, &names).await?;
    attach_to_ous(b, &out, &ou_paths, &names[FIXED_POLICIES.len()..]).await?;
    out.accounts = create_accounts(b, &out, &ou_paths, shape.accounts, concurrency).await?;
    let deny_root = out.policy("deny-root-user");
    for (k, id) in &out.accounts {
        if k % 10 == 3 {
            b.attach_policy(&deny_root, id).await?;
        }
    }
    Ok(out)
}

impl Seeded {
    /// The id of the demo policy `name` (empty if there is none).
    fn policy(&self, name: &str) -> String {
        self.policies.get(name).cloned().unwrap_or_default()
    }
}

/// The OU paths: the base OUs, then team OUs alternating under `Workloads/Dev` and
/// `Workloads/Prod` until there are `n`.
fn ou_paths(n: usize) -> Vec<String> {
    let mut paths: Vec<String> = BASE_OUS.iter().map(|s| s.to_string()).collect();
    let mut i = 1;
    while paths.len() < n {
        let parent = if i % 2 == 0 {
            "Workloads/Dev"
        } else {
            "Workloads/Prod"
        };
        paths.push(format!("{parent}/Team-{i:04}"));
        i += 1;
    }
    paths
}

/// Creates the OUs, parents first: path → id.
async fn create_ous(
    b: &dyn OrgBackend,
    root: &str,
    paths: &[String],
) -> Result<BTreeMap<String, String>> {
    let mut sorted = paths.to_vec();
    sorted.sort_by_key(|p| p.matches('/').count());
    let mut ous = BTreeMap::new();
    for p in &sorted {
        let (parent, name) = match p.rsplit_once('/') {
            Some((parent, name)) => (
                ous.get(parent).cloned().unwrap_or_else(|| root.to_owned()),
                name,
            ),
            None => (root.to_owned(), p.as_str()),
        };
        let id = b.create_organizational_unit(&parent, name).await?;
        ous.insert(p.clone(), id);
    }
    Ok(ous)
}

/// The named guardrails every demo organization has (with a document each in [`policy_doc`]).
const FIXED_POLICIES: [&str; 5] = [
    "deny-leave-org",
    "deny-root-user",
    "protect-cloudtrail",
    "region-lock",
    "deny-s3-public",
];

/// The demo policy names: the five named guardrails, then `scp-extra-NNN` until there are
/// `n`.
fn policy_names(n: usize) -> Vec<String> {
    let mut names: Vec<String> = FIXED_POLICIES.iter().map(|s| s.to_string()).collect();
    let mut j = 1;
    while names.len() < n {
        names.push(format!("scp-extra-{j:03}"));
        j += 1;
    }
    names
}

/// Creates one SCP per name, in order: name → id.
async fn create_policies(b: &dyn OrgBackend, names: &[String]) -> Result<BTreeMap<String, String>> {
    let mut policies = BTreeMap::new();
    for (i, n) in names.iter().enumerate() {
        let id = b
            .create_policy(
                PolicyType::ServiceControlPolicy,
                n,
                &format!("Demo policy {n}"),
                &policy_doc(i, n),
            )
            .await?;
        policies.insert(n.clone(), id);
    }
    Ok(policies)
}

/// Attaches the named guardrails to the root and the workload OUs, and each of `extras` to
/// a team OU (or, without any, a base OU), one each in turn.
async fn attach_to_ous(
    b: &dyn OrgBackend,
    out: &Seeded,
    ou_paths: &[String],
    extras: &[String],
) -> Result<()> {
    let fixed = [
        ("deny-leave-org", out.root.as_str()),
        ("protect-cloudtrail", out.root.as_str()),
        ("deny-root-user", out.ous["Workloads"].as_str()),
        ("deny-s3-public", out.ous["Workloads"].as_str()),
        ("region-lock", out.ous["Workloads/Prod"].as_str()),
    ];
    for (policy, target) in fixed {
        b.attach_policy(&out.policy(policy), target).await?;
    }
    let teams = if ou_paths.len() > BASE_OUS.len() {
        &ou_paths[BASE_OUS.len()..]
    } else {
        ou_paths
    };
    for (k, n) in extras.iter().enumerate() {
        if let Some(t) = teams
            .get(k % teams.len().max(1))
            .and_then(|p| out.ous.get(p))
        {
            b.attach_policy(&out.policy(n), t).await?;
        }
    }
    Ok(())
}

/// Creates `n` accounts, `concurrency` at a time, spread over the OUs in turn (two stay in
/// the root): (index, id), in the order they were created.
async fn create_accounts(
    b: &dyn OrgBackend,
    out: &Seeded,
    ou_paths: &[String],
    n: usize,
    concurrency: usize,
) -> Result<Vec<(usize, String)>> {
    let root = out.root.as_str();
    stream::iter(0..n)
        .map(|k| {
            let dest = if k < 2 {
                root.to_owned()
            } else {
                out.ous[&ou_paths[(k - 2) % ou_paths.len()]].clone()
            };
            async move {
                let id = b
                    .create_account(&format!("acct-{k:04}"), &format!("acct-{k:04}@example.com"))
                    .await?;
                if dest != root {
                    b.move_account(&id, root, &dest).await?;
                }
                Ok::<_, super::Error>((k, id))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::fake::FakeOrg;

    /// The layout the benchmark's figures and the e2e tests rely on, pinned.
    #[tokio::test]
    async fn the_demo_layout_is_the_documented_one() {
        let f = FakeOrg::new("999999999999");
        let shape = Shape {
            accounts: 25,
            ous: 8,
            policies: 7,
            bare: false,
        };
        let seeded = seed(&f, shape, 4).await.unwrap();
        let live = f.snapshot();
        let ou = |path: &str| seeded.ous[path].clone();
        let parent_of = |path: &str| live.ous[&ou(path)].parent_id.clone();
        assert_eq!(seeded.ous.len(), 8);
        assert_eq!(parent_of("Workloads/Prod/Team-0001"), ou("Workloads/Prod"));
        assert_eq!(parent_of("Workloads/Dev/Team-0002"), ou("Workloads/Dev"));
        assert_eq!(parent_of("Workloads"), seeded.root);

        let targets = |name: &str| -> std::collections::BTreeSet<String> {
            live.policies[&seeded.policies[name]]
                .targets
                .iter()
                .cloned()
                .collect()
        };
        let account = |k: usize| {
            seeded
                .accounts
                .iter()
                .find(|(i, _)| *i == k)
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(targets("deny-leave-org"), [seeded.root.clone()].into());
        assert_eq!(targets("protect-cloudtrail"), [seeded.root.clone()].into());
        assert_eq!(targets("region-lock"), [ou("Workloads/Prod")].into());
        assert_eq!(targets("deny-s3-public"), [ou("Workloads")].into());
        assert_eq!(
            targets("deny-root-user"),
            [ou("Workloads"), account(3), account(13), account(23)].into()
        );
        // The extras go to the team OUs in turn.
        assert_eq!(
            targets("scp-extra-001"),
            [ou("Workloads/Prod/Team-0001")].into()
        );
        assert_eq!(
            targets("scp-extra-002"),
            [ou("Workloads/Dev/Team-0002")].into()
        );

        // Two accounts stay in the root; the rest go round the OUs in their listed order.
        assert_eq!(seeded.accounts.len(), 25);
        let parent = |k: usize| live.accounts[&account(k)].parent_id.clone();
        assert_eq!(parent(0), seeded.root);
        assert_eq!(parent(1), seeded.root);
        assert_eq!(parent(2), ou("Infrastructure"));
        assert_eq!(parent(9), ou("Workloads/Dev/Team-0002"));
        assert_eq!(parent(10), ou("Infrastructure"));
    }
}
