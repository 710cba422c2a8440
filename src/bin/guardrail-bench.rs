//! `guardrail-bench`: figures for BENCHMARKS.md. Builds organizations of several sizes in the
//! fake (and, with `--moto URL`, in moto), and reports for import, plan (no change and a
//! 10-change edit), apply and drift: wall time, requests by operation against the walk's
//! request budget, and peak memory; then the time a walk takes at AWS's documented rates
//! (virtual time, the fake enforcing AWS's token buckets) beside the lower bound. With
//! `--moto`, also moto's own speed, and the real `guardrail` binary through moto behind the
//! AWS-rate proxy (`throttled`): wall time, requests, throttles received and the ratio to the
//! lower bound, with and without `Paths`, in the bench's scaled shape and in issue 13's fixed
//! one (15 OUs, 8 SCPs), and the start-up of a plan of an empty organization. Prints
//! figures; asserts nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use guardrail::live::demo::{self, Shape};
use guardrail::live::fake::FakeOrg;
use guardrail::live::limiter::{lower_bound, RateLimiter};
use guardrail::live::{read_organization, request_budget, OrgBackend, RequestStats, WalkOptions};
use guardrail::model::{Desired, LiveOrg, OuPath};
use guardrail::policy::limits::LimitsTable;
use guardrail::{apply, config, plan, render};

#[path = "guardrail-bench/access_proof.rs"]
mod access_proof;
#[path = "../../tests/common/account_path.rs"]
mod account_path;
#[path = "../../tests/e2e/rate_proxy.rs"]
mod rate_proxy;
#[path = "guardrail-bench/replay.rs"]
mod replay_bench;
#[path = "guardrail-bench/throttled.rs"]
mod throttled;

#[derive(Debug, Parser)]
#[command(
    name = "guardrail-bench",
    about = "Benchmark figures for BENCHMARKS.md"
)]
struct Args {
    /// Organization sizes (accounts) to build in the fake.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,5000")]
    sizes: Vec<usize>,
    /// Also measure against moto at this endpoint (loopback only).
    #[arg(long)]
    moto: Option<String>,
    /// Sizes for moto (seeding moto is slow: a request per account and move).
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    moto_sizes: Vec<usize>,
    /// Sizes for the real binary against moto behind the AWS-rate proxy (with --moto; each
    /// size seeds two organizations per shape and runs five commands at AWS's rates on each).
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    throttled_sizes: Vec<usize>,
    /// Shapes for the throttled section: scaled (N/20 OUs, about N/50 + 5 SCPs), issue (issue
    /// 13's organization: 15 OUs, 8 SCPs, at every size).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "scaled,issue"
    )]
    throttled_shapes: Vec<throttled::ShapeKind>,
    /// Sections to run: fake, moto (moto's own speed), throttled (the real binary at AWS's
    /// rates), replay (CloudTrail replay speed on generated logs).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "fake,moto,throttled,replay"
    )]
    sections: Vec<String>,
    /// Records to replay in the replay section.
    #[arg(long, default_value_t = 1_000_000)]
    replay_records: usize,
}

/// Peak resident memory of this process so far (VmHWM), in MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn shape(n: usize) -> Shape {
    Shape {
        accounts: n,
        ous: (n / 20).max(6),
        policies: (n / 50).max(5) + 5,
        bare: false,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn stats_line(s: &RequestStats) -> String {
    s.by_operation
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The offline proofs on an imported config with a deployer and a break-glass role: the
/// lockout proof and assertions over every account (target: under 1 s at 5,000 accounts), and
/// one `explain` (target: under 20 ms).
fn offline_proofs(desired: &guardrail::model::Desired, live: &LiveOrg) -> anyhow::Result<()> {
    let mut proving = desired.clone();
    proving.deployer = Some(format!(
        "arn:aws:iam::{}:role/guardrail-deployer",
        proving.management_account
    ));
    proving.break_glass = vec!["arn:aws:iam::*:role/BreakGlass".into()];
    let t = Instant::now();
    let v = plan::verify::validate(&proving);
    let proofs = t.elapsed();
    let member = live
        .accounts
        .keys()
        .find(|a| **a != live.management_account)
        .cloned()
        .unwrap_or_default();
    let t = Instant::now();
    let decided = match plan::verify::account_levels(&proving, &member) {
        Some((id, path)) => {
            let req =
                plan::verify::request(&id, "ec2:RunInstances", Some("us-east-1"), None, None, &[])
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            plan::verify::describe_decision(&plan::verify::decide(&path, &req))
        }
        None => "account not in the config".to_owned(),
    };
    println!(
        "- offline proofs: lockout proof and {} assertions over every account {} ({} lockouts); explain of one request {} ({decided})",
        v.assertions_checked,
        ms(proofs),
        v.lockouts.len(),
        ms(t.elapsed())
    );
    Ok(())
}

/// CPU time (user + system) of the calling thread so far, in ticks of 10 ms (Linux; zero
/// elsewhere): on a shared machine, the pure part's wall time moves with the other loads, its
/// CPU time much less.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // After the command name (which may hold spaces): utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// The pure part of a plan: parse the config, compile, diff, render.
fn pure_plan(
    cfg: &str,
    docs: &BTreeMap<PathBuf, String>,
    live: &LiveOrg,
) -> anyhow::Result<(Desired, plan::Plan, Duration)> {
    let cpu = thread_cpu();
    let t = Instant::now();
    let d = config::parse(Path::new("environments/bench.toml"), cfg, &|p: &Path| {
        docs.get(p)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "missing"))
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let parsed = t.elapsed();
    let p = plan::plan(&d, live).map_err(|e| anyhow::anyhow!("{e}"))?;
    let planned = t.elapsed();
    let _human = render::plan_human("bench", &p, render::Style::default());
    let _json = render::plan_json("bench", &p);
    let all = t.elapsed();
    println!(
        "  - of which parse and compile {}, plan (diff, proofs) {}, render {}; CPU time of the thread {} (10 ms ticks)",
        ms(parsed),
        ms(planned - parsed),
        ms(all - planned),
        ms(thread_cpu().saturating_sub(cpu))
    );
    Ok((d, p, all))
}

/// The 10-change edit: move 5 accounts, change 2 policies, add 3 OUs.
fn edit(d: &mut Desired) {
    let paths: Vec<OuPath> = d.ous.keys().cloned().collect();
    for (i, a) in d
        .accounts
        .values_mut()
        .filter(|a| !a.ou.is_root())
        .take(5)
        .enumerate()
    {
        a.ou = paths[(i * 7 + 3) % paths.len()].clone();
        if a.ou == paths[0] {
            a.ou = paths[1].clone();
        }
    }
    for p in d.policies.values_mut().take(2) {
        if let Some(s) = p.document["Statement"].as_array_mut() {
            s.push(serde_json::json!({"Effect":"Deny","Action":"kms:ScheduleKeyDeletion","Resource":"*"}));
        }
    }
    for i in 0..3 {
        d.ous.insert(
            OuPath::parse(&format!("Bench{i}")).unwrap_or_default(),
            guardrail::model::DesiredOu {
                policies: ["FullAWSAccess".to_owned()].into(),
                guardrails: Default::default(),
            },
        );
    }
}

async fn fake_size(n: usize) -> anyhow::Result<()> {
    println!("\n## fake, {n} accounts");
    let f = FakeOrg::new("999999999999");
    demo::seed(&f, shape(n), 16).await?;
    f.reset_stats();

    // Import: walk + emit.
    let t = Instant::now();
    let live = read_organization(&f, &WalkOptions::default()).await?;
    let walk = t.elapsed();
    let emitted = config::emit("bench", &live, &LimitsTable::default())?;
    let import = t.elapsed();
    let st = f.stats();
    println!(
        "- shape: {} accounts, {} OUs, {} SCPs",
        live.accounts.len(),
        live.ous.len(),
        live.policies.len()
    );
    println!(
        "- import: {} (walk {}), {} requests, budget {} ({})",
        ms(import),
        ms(walk),
        st.total(),
        request_budget(&live),
        stats_line(&st)
    );

    // Plan, no change: the pure part, then walk + pure.
    let docs: BTreeMap<PathBuf, String> = emitted.documents.iter().cloned().collect();
    let (desired, p, pure) = pure_plan(&emitted.config, &docs, &live)?;
    println!("- plan, no change: pure part (parse, compile, diff, render) {} for {} config bytes; {} changes; peak memory so far {:.0} MiB", ms(pure), emitted.config.len(), p.changes.len(), peak_mib());

    offline_proofs(&desired, &live)?;
    access_proof::run(&desired, &live)?;

    // A 10-change edit.
    let mut edited = desired.clone();
    edit(&mut edited);
    let t = Instant::now();
    let p = plan::plan(&edited, &live).map_err(|e| anyhow::anyhow!("{e}"))?;
    let _ = render::plan_human("bench", &p, render::Style::default());
    println!(
        "- plan, 10-change edit: diff + render {}; {} changes ({})",
        ms(t.elapsed()),
        p.changes.len(),
        render::plan_json("bench", &p)["summary"]
    );

    // Apply it, then drift (walk + plan).
    f.reset_stats();
    let t = Instant::now();
    let out = apply::execute(&p, &live, &f).await;
    println!(
        "- apply: {} for {} steps, all done: {} ({})",
        ms(t.elapsed()),
        out.steps.len(),
        out.succeeded(),
        stats_line(&f.stats())
    );
    f.reset_stats();
    let t = Instant::now();
    let after = read_organization(&f, &WalkOptions::default()).await?;
    let drift = plan::plan(&edited, &after).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "- drift: {} ({} requests, budget {}), drifted: {}",
        ms(t.elapsed()),
        f.stats().total(),
        request_budget(&after),
        !drift.is_empty()
    );

    // The walk at AWS's rates, in virtual time: the client limiter paces, the fake enforces
    // AWS's buckets (a TooManyRequests would fail the walk). With Paths, then without.
    let paced = f.with_rates(Some(Arc::new(RateLimiter::client(1.0))), true);
    virtual_walk(&paced, "ListAccounts with Paths")?;
    let paced = paced
        .without_paths()
        .with_rates(Some(Arc::new(RateLimiter::client(1.0))), true);
    virtual_walk(&paced, "per parent (no Paths)")?;
    println!(
        "- peak memory of the process after this size: {:.0} MiB",
        peak_mib()
    );
    Ok(())
}

/// One walk of `paced` at AWS's rates in tokio's paused clock (virtual time on the fake).
fn virtual_walk(paced: &FakeOrg, read: &str) -> anyhow::Result<()> {
    paced.reset_stats();
    let (virt, st) = std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()?;
            rt.block_on(async {
                let t = tokio::time::Instant::now();
                read_organization(paced, &WalkOptions::default()).await?;
                Ok::<_, anyhow::Error>((t.elapsed(), paced.stats()))
            })
        })
        .join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the virtual-time walk panicked")))
    })
    .context("walk at AWS rates")?;
    let bound = lower_bound(&st);
    println!(
        "- walk at AWS's rates, {read}: {:.2} s (virtual time on the fake), {} requests, lower bound {:.2} s (slowest API family), ratio {:.2}",
        virt.as_secs_f64(),
        st.total(),
        bound.as_secs_f64(),
        if bound.is_zero() { 1.0 } else { virt.as_secs_f64() / bound.as_secs_f64() }
    );
    Ok(())
}

async fn moto_size(endpoint: &str, n: usize) -> anyhow::Result<()> {
    println!("\n## moto at {endpoint}, {n} accounts");
    let account = format!(
        "{:012}",
        300_000_000_000u64 + (std::process::id() as u64 % 1_000_000) * 10_000 + n as u64 % 10_000
    );
    let conf = demo::new_organization(endpoint, &account).await?.conf;
    let seed = demo::emulator_backend(&conf);
    let t = Instant::now();
    demo::seed(&seed, shape(n), 8).await?;
    println!(
        "- seeding: {:.1} s, {} requests",
        t.elapsed().as_secs_f64(),
        seed.stats().total()
    );
    let b = demo::emulator_backend(&conf);
    let t = Instant::now();
    let live = read_organization(&b, &WalkOptions::default()).await?;
    let walk = t.elapsed();
    let st = b.stats();
    let emitted = config::emit("bench", &live, &LimitsTable::default())?;
    let docs: BTreeMap<PathBuf, String> = emitted.documents.iter().cloned().collect();
    let (_, p, pure) = pure_plan(&emitted.config, &docs, &live)?;
    let per_request = walk.as_secs_f64() / st.total().max(1) as f64;
    println!(
        "- plan: walk {:.2} s for {} requests (budget {}), {:.1} ms per request; pure part {}; {} changes",
        walk.as_secs_f64(),
        st.total(),
        request_budget(&live),
        per_request * 1000.0,
        ms(pure),
        p.changes.len()
    );
    println!(
        "- moto's own speed times the budget: {:.2} s (plan is bounded by moto when walk ≈ this)",
        per_request * request_budget(&live) as f64
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    println!(
        "# guardrail-bench\n\nmachine: {} cores; profile: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    let section = |s: &str| args.sections.iter().any(|x| x == s);
    if section("fake") {
        access_proof::per_class()?;
        for n in &args.sizes {
            fake_size(*n).await?;
        }
    }
    if section("replay") {
        replay_bench::run(args.replay_records)?;
    }
    if let Some(endpoint) = &args.moto {
        if !(endpoint.contains("127.0.0.1") || endpoint.contains("localhost")) {
            anyhow::bail!("--moto must be a loopback endpoint");
        }
        if section("moto") {
            for n in &args.moto_sizes {
                moto_size(endpoint, *n).await?;
            }
        }
        if section("throttled") {
            throttled::run(endpoint, &args.throttled_sizes, &args.throttled_shapes).await?;
        }
    }
    Ok(())
}
