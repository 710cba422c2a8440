//! `guardrail-demo cloudtrail`: writes synthetic CloudTrail logs (`guardrail::replay::synth`)
//! for an organization's accounts, as an organization trail delivers them, and optionally
//! the generator's facts about every record (`--truth`, JSON lines) so a test can compute the
//! answer it expects without the replay code.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use guardrail::replay::synth::{Generator, Options};
use guardrail::replay::{parse_time, synth_write};

#[derive(Debug, clap::Args)]
pub struct CloudtrailArgs {
    /// Directory to write the logs below (`AWSLogs/o-…/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`).
    #[arg(long)]
    out: PathBuf,
    /// The management account id.
    #[arg(long, value_parser = account_id)]
    management: String,
    /// Member account ids.
    #[arg(long, value_delimiter = ',', required = true, value_parser = account_id)]
    accounts: Vec<String>,
    /// The organization id (the trail's folder).
    #[arg(long, default_value = "o-synthetic01")]
    org_id: String,
    /// Regions the activity happens in (global services log us-east-1).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "us-east-1,eu-west-1,eu-central-1,us-west-2,ap-southeast-2"
    )]
    regions: Vec<String>,
    /// A role in every account that the guardrails exempt (break-glass).
    #[arg(long, default_value = "BreakGlass")]
    exempt_role: String,
    /// Log files to write.
    #[arg(long, default_value_t = 200)]
    files: usize,
    /// Records per file.
    #[arg(long, default_value_t = 50)]
    records_per_file: usize,
    /// Seed: the same seed and options write the same logs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The first day (RFC 3339 midnight).
    #[arg(long, default_value = "2026-10-01T00:00:00Z")]
    start: String,
    /// Days of activity.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Plain `.json` files instead of gzip.
    #[arg(long)]
    plain: bool,
    /// Also write the generator's facts about every record here, as JSON lines.
    #[arg(long)]
    truth: Option<PathBuf>,
}

/// A 12-digit account id (the generator builds ARNs and names from it).
fn account_id(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(format!("`{s}` is not a 12-digit account id"))
    }
}

pub fn run(a: &CloudtrailArgs) -> anyhow::Result<()> {
    let start = parse_time(&a.start)?.unix_timestamp();
    let generator = Generator::new(Options {
        seed: a.seed,
        org_id: a.org_id.clone(),
        management: a.management.clone(),
        accounts: a.accounts.clone(),
        regions: a.regions.clone(),
        exempt_role: a.exempt_role.clone(),
        files: a.files,
        records_per_file: a.records_per_file,
        start,
        days: a.days,
    });
    let mut truth = match &a.truth {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let mut records = 0;
    for file in generator {
        synth_write::write(&a.out, &file, !a.plain)
            .with_context(|| format!("writing {}", file.path))?;
        records += file.records.len();
        if let Some(t) = truth.as_mut() {
            for e in &file.events {
                let line = serde_json::json!({
                    "account": e.account, "identity": format!("{:?}", e.identity),
                    "principal": e.principal, "action": e.action, "regional": e.regional,
                    "region": e.region, "time": e.time, "denied_in_log": e.denied_in_log,
                    "api_call": e.api_call, "copy": e.copy,
                });
                writeln!(t, "{line}")?;
            }
        }
    }
    if let Some(mut t) = truth {
        t.flush()?;
    }
    eprintln!(
        "wrote {} file(s), {records} record(s) below {}",
        a.files,
        a.out.display()
    );
    Ok(())
}
