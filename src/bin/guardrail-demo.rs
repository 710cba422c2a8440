//! `guardrail-demo`: builds demo organizations in an emulator (moto) for `scripts/sandbox`, the
//! end-to-end tests and benchmarks. It refuses any endpoint that is not on loopback, so it can
//! never write to a real organization.
//!
//! `guardrail-demo seed --new-org --accounts 100 --ous 20 --policies 10 --env-file F` assumes a
//! role in a random 12-digit account, creates a fresh organization there (so tests can share
//! one moto server), writes that account's credentials to F as `export` lines, and seeds the
//! tree through the same `OrgBackend` the product uses.
//!
//! `guardrail-demo cloudtrail --out DIR --management ID --accounts ID,ID` writes synthetic
//! CloudTrail logs for those accounts (`guardrail::replay::synth`), offline.

use std::io::Write as _;

use anyhow::{bail, Context};
use aws_config::{BehaviorVersion, Region};
use clap::Parser;
use guardrail::live::OrgBackend;

#[path = "guardrail-demo/cloudtrail.rs"]
mod cloudtrail;

#[derive(Debug, Parser)]
#[command(
    name = "guardrail-demo",
    about = "Seed demo organizations in a local emulator"
)]
enum Cmd {
    /// Create (optionally) and populate a demo organization.
    Seed(SeedArgs),
    /// Write synthetic CloudTrail logs for an organization's accounts (offline).
    Cloudtrail(cloudtrail::CloudtrailArgs),
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
    /// Build a realistic world instead (`live::world`: RCPs, tag and AI opt-out policies,
    /// Control Tower SCPs, targets at their limits, foreign policies, names that need quoting).
    #[arg(long)]
    world: bool,
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = match Cmd::parse() {
        Cmd::Seed(args) => args,
        Cmd::Cloudtrail(args) => return cloudtrail::run(&args),
    };
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
    let conf = if args.new_org {
        let account = random_account(args.seed);
        let org = guardrail::live::demo::new_organization(&args.endpoint_url, &account).await?;
        let exports = format!(
            "export AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\nexport AWS_SESSION_TOKEN={}\nexport AWS_REGION=us-east-1\nexport AWS_ENDPOINT_URL={}\nexport GUARDRAIL_DEMO_ACCOUNT={account}\n",
            org.access_key_id, org.secret_access_key, org.session_token, args.endpoint_url
        );
        match &args.env_file {
            Some(p) => {
                std::fs::write(p, exports).with_context(|| format!("writing {}", p.display()))?
            }
            None => std::io::stdout().write_all(exports.as_bytes())?,
        }
        org.conf
    } else {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&args.endpoint_url)
            .load()
            .await
    };

    let b = guardrail::live::demo::emulator_backend(&conf);
    if args.world {
        let w = guardrail::live::world::build(
            &b,
            guardrail::live::world::WorldOptions {
                seed: args.seed.unwrap_or(1),
                accounts: args.accounts,
                team_ous: 2,
                emulator: true,
            },
        )
        .await?;
        eprintln!(
            "built a world: {} OUs, {} accounts, {} policies ({} requests)",
            w.ous.len(),
            w.accounts.len(),
            w.policies.len(),
            b.stats().total()
        );
        return Ok(());
    }
    let seeded = guardrail::live::demo::seed(
        &b,
        guardrail::live::demo::Shape {
            accounts: args.accounts,
            ous: args.ous,
            policies: args.policies,
            bare: args.bare,
        },
        8,
    )
    .await?;
    eprintln!(
        "seeded organization: {} OUs, {} accounts, {} SCPs ({} requests)",
        seeded.ous.len(),
        seeded.accounts.len(),
        seeded.policies.len(),
        b.stats().total()
    );
    Ok(())
}
