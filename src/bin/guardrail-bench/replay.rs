//! The replay benchmark: `plan --replay`'s work on generated CloudTrail logs (`replay::synth`,
//! gzip, organization-trail folders) against a region lock on half of 20 accounts, on one
//! thread: read, gunzip, parse, map, evaluate (distinct requests once), group. Reports
//! records per minute (target: at least 1,000,000 on one core), the distinct requests
//! evaluated, and peak memory before and after (the reader streams, so it stays flat).

use std::path::Path;
use std::time::Instant;

use guardrail::policy::eval::{EvalPolicy, Level, Path as EvalPath};
use guardrail::replay::synth::{Generator, Options};
use guardrail::replay::{self, read, synth_write, Replayer, Window};

const MGMT: &str = "100000000000";

fn accounts() -> Vec<String> {
    (1..=20).map(|i| format!("2000000000{i:02}")).collect()
}

fn config(dir: &Path) -> anyhow::Result<guardrail::model::Desired> {
    let mut cfg = format!(
        "[organization]\nmanagement_account = \"{MGMT}\"\nbreak_glass = [\"arn:aws:iam::*:role/BreakGlass\"]\n\n[guardrails.eu-only]\ntemplate = \"region-lock\"\nallowed_regions = [\"eu-west-1\", \"eu-central-1\"]\n\n[root]\npolicies = [\"FullAWSAccess\"]\n[ous.Locked]\npolicies = [\"FullAWSAccess\"]\nguardrails = [\"eu-only\"]\n[ous.Open]\npolicies = [\"FullAWSAccess\"]\n"
    );
    for (i, id) in accounts().iter().enumerate() {
        let ou = if i % 2 == 0 { "Locked" } else { "Open" };
        cfg.push_str(&format!(
            "\n[accounts.a{id}]\nid = \"{id}\"\nou = \"{ou}\"\npolicies = [\"FullAWSAccess\"]\n"
        ));
    }
    let path = dir.join("bench.toml");
    std::fs::write(&path, cfg)?;
    guardrail::config::load(&path).map_err(|e| anyhow::anyhow!("{e:?}"))
}

fn bare(account: &str) -> Option<EvalPath> {
    Some(EvalPath {
        scp: vec![Level {
            name: "root".into(),
            policies: vec![EvalPolicy::allow_all("FullAWSAccess")],
        }],
        rcp: Vec::new(),
        management: account == MGMT,
    })
}

pub fn run(records: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("guardrail-bench-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let desired = config(&dir)?;
    let per_file = 500;
    let t = Instant::now();
    let mut bytes = 0u64;
    for f in Generator::new(Options {
        seed: 2026,
        org_id: "o-benchmark01".into(),
        management: MGMT.into(),
        accounts: accounts(),
        regions: [
            "us-east-1",
            "eu-west-1",
            "eu-central-1",
            "us-west-2",
            "ap-southeast-2",
        ]
        .map(String::from)
        .to_vec(),
        exempt_role: "BreakGlass".into(),
        files: records.div_ceil(per_file),
        records_per_file: per_file,
        start: replay::parse_time("2026-10-01T00:00:00Z")?.unix_timestamp(),
        days: 30,
    }) {
        synth_write::write(&dir.join("logs"), &f, true)?;
        bytes += f.records.len() as u64;
    }
    let generated = t.elapsed();
    let before_mib = super::peak_mib();
    let after = replay::desired_side(&desired);
    let mut r = Replayer::new(Window::default(), Some(&bare), &after);
    let t = Instant::now();
    read::read_logs(&dir.join("logs"), &mut r)?;
    let report = r.finish();
    let took = t.elapsed();
    let peak = super::peak_mib();
    let _ = std::fs::remove_dir_all(&dir);
    let per_minute = report.records_read as f64 / took.as_secs_f64() * 60.0;
    let (denied, principals, accounts) = report.denied_totals();
    println!("\n## Replay (one thread)\n");
    println!(
        "- {} records in {} gzip files (generated in {:.1} s): replayed in {:.2} s, {:.2} million records per minute",
        report.records_read,
        report.files_read,
        generated.as_secs_f64(),
        took.as_secs_f64(),
        per_minute / 1e6
    );
    println!(
        "- {} evaluated, {} distinct requests evaluated ({:.1}% of the mapped events); {denied} newly denied from {principals} principals in {accounts} accounts",
        report.evaluated,
        report.distinct_requests,
        100.0 * report.distinct_requests as f64 / report.events_mapped.max(1) as f64
    );
    println!("- peak memory {before_mib:.0} MiB before the replay, {peak:.0} MiB after ({bytes} records written)");
    Ok(())
}
