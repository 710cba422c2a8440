//! `guardrail-demo`: builds demo organizations in an emulator (moto) for `scripts/sandbox`, the
//! end-to-end tests and benchmarks. It refuses any endpoint that is not on loopback, so it can
//! never write to a real organization.
//!
//! `guardrail-demo seed --new-org --accounts 100 --ous 20 --policies 10 --env-file F` assumes a
//! role in a random 12-digit account, creates a fresh organization there (so tests can share
//! one moto server), writes that account's credentials to F as `export` lines, and seeds the
//! tree through the same `OrgBackend` the product uses.

use std::io::Write as _;

use anyhow::{bail, Context};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_organizations::config::Credentials;
use clap::Parser;
use futures::stream::{self, StreamExt, TryStreamExt};
use guardrail::live::aws::AwsBackend;
use guardrail::live::OrgBackend;
use guardrail::model::PolicyType;

#[derive(Debug, Parser)]
#[command(
    name = "guardrail-demo",
    about = "Seed demo organizations in a local emulator"
)]
enum Cmd {
    /// Create (optionally) and populate a demo organization.
    Seed(SeedArgs),
}

#[derive(Debug, clap::Args)]
struct SeedArgs {
    /// Emulator endpoint (loopback only).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    endpoint_url: String,
    /// Create a new organization in a fresh random account first.
    #[arg(long)]
    new_org: bool,
    /// Where to write the new organization's credentials (`export` lines); stdout if absent.
    #[arg(long)]
    env_file: Option<std::path::PathBuf>,
    /// Member accounts to create.
    #[arg(long, default_value_t = 12)]
    accounts: usize,
    /// OUs to create (at least 6).
    #[arg(long, default_value_t = 6)]
    ous: usize,
    /// SCPs to create (at least 5).
    #[arg(long, default_value_t = 5)]
    policies: usize,
    /// Seed for the random account id.
    #[arg(long)]
    seed: Option<u64>,
    /// Create nothing in the organization (an empty organization to build with apply).
    #[arg(long)]
    bare: bool,
}

fn random_account(seed: Option<u64>) -> String {
    let s = seed.unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        t ^ (u64::from(std::process::id()) << 20)
    });
    // splitmix64: a well-spread 12-digit id from any seed.
    let mut z = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    format!("{:012}", 200_000_000_000 + z % 700_000_000_000)
}

const BASE_OUS: &[&str] = &[
    "Infrastructure",
    "Sandbox",
    "Security",
    "Workloads",
    "Workloads/Dev",
    "Workloads/Prod",
];

fn policy_doc(i: usize, name: &str) -> String {
    match name {
        "deny-leave-org" => r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#.into(),
        "deny-root-user" => r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyRoot","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}"#.into(),
        "protect-cloudtrail" => r#"{"Version":"2012-10-17","Statement":[{"Sid":"ProtectTrail","Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:DeleteTrail","cloudtrail:UpdateTrail"],"Resource":"*"}]}"#.into(),
        "region-lock" => r#"{"Version":"2012-10-17","Statement":[{"Sid":"RegionLock","Effect":"Deny","NotAction":["iam:*","organizations:*","sts:*","support:*","cloudfront:*","route53:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}"#.into(),
        "deny-s3-public" => r#"{"Version":"2012-10-17","Statement":[{"Sid":"KeepBlock","Effect":"Deny","Action":"s3:PutAccountPublicAccessBlock","Resource":"*"}]}"#.into(),
        _ => format!(r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Extra{i}","Effect":"Deny","Action":"ec2:DeleteVpc","Resource":"arn:aws:ec2:*:*:vpc/vpc-{i:08}"}}]}}"#),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cmd::Seed(args) = Cmd::parse();
    let host = args
        .endpoint_url
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .split([':', '/'])
        .next()
        .unwrap_or_default()
        .to_owned();
    if !(host == "127.0.0.1" || host == "localhost" || host == "[::1]") {
        bail!(
            "guardrail-demo only talks to an emulator on loopback; `{}` is not",
            args.endpoint_url
        );
    }
    let region = Region::new("us-east-1");
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(region.clone())
        .endpoint_url(&args.endpoint_url)
        .credentials_provider(Credentials::new(
            "demo",
            "demo",
            None,
            None,
            "guardrail-demo",
        ))
        .load()
        .await;

    let conf = if args.new_org {
        let account = random_account(args.seed);
        let sts = aws_sdk_sts::Client::new(&base);
        let out = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/guardrail-demo"))
            .role_session_name("guardrail-demo")
            .send()
            .await
            .context("AssumeRole into the demo account")?;
        let c = out
            .credentials()
            .context("AssumeRole returned no credentials")?;
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "demo-org",
        );
        let exports = format!(
            "export AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\nexport AWS_SESSION_TOKEN={}\nexport AWS_REGION=us-east-1\nexport AWS_ENDPOINT_URL={}\nexport GUARDRAIL_DEMO_ACCOUNT={account}\n",
            c.access_key_id(),
            c.secret_access_key(),
            c.session_token(),
            args.endpoint_url
        );
        match &args.env_file {
            Some(p) => {
                std::fs::write(p, exports).with_context(|| format!("writing {}", p.display()))?
            }
            None => std::io::stdout().write_all(exports.as_bytes())?,
        }
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .region(region)
            .endpoint_url(&args.endpoint_url)
            .credentials_provider(creds)
            .load()
            .await;
        aws_sdk_organizations::Client::new(&conf)
            .create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .context("CreateOrganization")?;
        conf
    } else {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&args.endpoint_url)
            .load()
            .await
    };

    // An emulator: no need to pace at AWS's rates.
    let b = AwsBackend::with_limiter(
        &conf,
        8,
        std::sync::Arc::new(guardrail::live::limiter::RateLimiter::scaled(1e6)),
    );
    let roots = b.list_roots().await?;
    let root = roots.first().context("no root")?.clone();
    if !root
        .enabled_policy_types
        .contains(&PolicyType::ServiceControlPolicy)
    {
        b.enable_policy_type(&root.id, PolicyType::ServiceControlPolicy)
            .await?;
    }

    if args.bare {
        eprintln!("created an empty organization");
        return Ok(());
    }

    // OUs, parent first.
    let mut ou_paths: Vec<String> = BASE_OUS.iter().map(|s| s.to_string()).collect();
    let mut i = 1;
    while ou_paths.len() < args.ous {
        ou_paths.push(format!("Workloads/Prod/Team-{i:03}"));
        i += 1;
    }
    let mut ou_ids: std::collections::BTreeMap<String, String> = Default::default();
    let mut sorted = ou_paths.clone();
    sorted.sort_by_key(|p| p.matches('/').count());
    for p in &sorted {
        let (parent, name) = match p.rsplit_once('/') {
            Some((parent, name)) => (ou_ids.get(parent).cloned().context("parent OU")?, name),
            None => (root.id.clone(), p.as_str()),
        };
        let id = b.create_organizational_unit(&parent, name).await?;
        ou_ids.insert(p.clone(), id);
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
    while names.len() < args.policies {
        names.push(format!("scp-extra-{j:03}"));
        j += 1;
    }
    let mut pol_ids = std::collections::BTreeMap::new();
    for (i, n) in names.iter().enumerate() {
        let id = b
            .create_policy(
                PolicyType::ServiceControlPolicy,
                n,
                &format!("Demo policy {n}"),
                &policy_doc(i, n),
            )
            .await?;
        pol_ids.insert(n.clone(), id);
    }
    let attach = |p: &str, t: &str| {
        let pid = pol_ids.get(p).cloned();
        let t = t.to_owned();
        let b = &b;
        async move {
            if let Some(pid) = pid {
                b.attach_policy(&pid, &t).await?;
            }
            Ok::<_, anyhow::Error>(())
        }
    };
    attach("deny-leave-org", &root.id).await?;
    attach("protect-cloudtrail", &root.id).await?;
    attach("deny-root-user", &ou_ids["Workloads"]).await?;
    attach("deny-s3-public", &ou_ids["Workloads"]).await?;
    attach("region-lock", &ou_ids["Workloads/Prod"]).await?;
    for (k, n) in names.iter().skip(5).enumerate() {
        let target = &ou_paths[6 + k % (ou_paths.len() - 6).max(1)];
        if let Some(t) = ou_ids.get(target) {
            attach(n, t).await?;
        }
    }

    // Accounts, spread over the OUs (two stay in the root), created with bounded concurrency.
    let ou_list: Vec<String> = ou_paths.clone();
    let created: Vec<(usize, String)> = stream::iter(0..args.accounts)
        .map(|k| {
            let b = &b;
            let dest = if k < 2 {
                root.id.clone()
            } else {
                ou_ids[&ou_list[(k - 2) % ou_list.len()]].clone()
            };
            let root_id = root.id.clone();
            async move {
                let id = b
                    .create_account(&format!("acct-{k:04}"), &format!("acct-{k:04}@example.com"))
                    .await?;
                if dest != root_id {
                    b.move_account(&id, &root_id, &dest).await?;
                }
                Ok::<_, anyhow::Error>((k, id))
            }
        })
        .buffer_unordered(8)
        .try_collect()
        .await?;
    for (k, id) in &created {
        if k % 10 == 3 {
            attach("deny-root-user", id).await?;
        }
    }
    eprintln!(
        "seeded organization: {} OUs, {} accounts, {} SCPs ({} requests)",
        ou_paths.len(),
        created.len(),
        names.len(),
        b.stats().total()
    );
    Ok(())
}
