//! The throttled path: the real `guardrail` binary, through the real SDK, against moto behind
//! the test proxy's AWS-rate mode (`tests/e2e/rate_proxy.rs`: AWS's token buckets, exactly,
//! per calling account). Each size in one or both shapes ([`ShapeKind`]): OUs and SCPs scaled
//! with the accounts, or issue 13's fixed 15 OUs and 8 SCPs. For each size and shape, two
//! organizations seeded alike: one read with the `Paths` AWS returns (added by the proxy; moto
//! 5.2 sends none), one read per parent (moto as it is). For each: import, plan with no change,
//! plan of a 10-change edit, apply of it, drift; wall time, requests, throttles received, and
//! the ratio to the lower bound. Then the start-up of a plan of an empty organization.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use guardrail::live::demo::{self, Shape};
use guardrail::live::limiter::{family_bounds, lower_bound};
use guardrail::live::{read_organization, RequestStats, WalkOptions};
use guardrail::model::LiveOrg;

use super::rate_proxy::RateProxy;

/// How an organization's OUs and SCPs grow with its accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShapeKind {
    /// The bench's own shape: N/20 OUs (at least 6), max(N/50, 5) + 5 SCPs.
    Scaled,
    /// Issue 13's measured organization: 15 OUs and 8 SCPs, whatever the accounts.
    Issue,
}

impl ShapeKind {
    fn shape(self, n: usize) -> Shape {
        match self {
            ShapeKind::Scaled => super::shape(n),
            ShapeKind::Issue => Shape {
                accounts: n,
                ous: 15,
                policies: 8,
                bare: false,
            },
        }
    }
}

/// The table's first column: accounts, then (OUs, SCPs + `FullAWSAccess`).
fn label(s: &Shape) -> String {
    format!("{} ({}, {} + 1)", s.accounts, s.ous, s.policies)
}

/// One organization in moto and the working directory the binary runs in.
struct Org {
    env: Vec<(String, String)>,
    dir: PathBuf,
    conf: aws_config::SdkConfig,
}

/// What one run of the binary cost.
struct Run {
    wall: Duration,
    code: Option<i32>,
    requests: RequestStats,
    throttled: u64,
    stderr: String,
}

impl Run {
    /// The least time these requests take at AWS's rates: the reads' slowest family, then
    /// the writes' (a write waits for the plan, which waits for the reads).
    fn bound(&self) -> Duration {
        let (reads, writes): (BTreeMap<String, u64>, BTreeMap<String, u64>) = self
            .requests
            .by_operation
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .partition(|(op, _)| is_read(op));
        lower_bound(&RequestStats {
            by_operation: reads,
        }) + lower_bound(&RequestStats {
            by_operation: writes,
        })
    }

    fn row(&self, size: &str, read: &str, what: &str) -> String {
        let bound = self.bound().as_secs_f64();
        format!(
            "| {size} | {read} | {what} | {:.2} s | {} | {} | {bound:.2} s | {} |",
            self.wall.as_secs_f64(),
            self.requests.total(),
            self.throttled,
            if bound > 0.0 {
                format!("{:.2}×", self.wall.as_secs_f64() / bound)
            } else {
                "n/a".into()
            }
        )
    }
}

impl Org {
    async fn new(moto: &str, shape: Shape, account: u64, work: &Path) -> anyhow::Result<Org> {
        let account = format!("{account:012}");
        let new = demo::new_organization(moto, &account).await?;
        demo::seed(&demo::emulator_backend(&new.conf), shape, 8).await?;
        let dir = work.join(&account);
        std::fs::create_dir_all(&dir)?;
        Ok(Org {
            env: vec![
                ("AWS_ACCESS_KEY_ID".into(), new.access_key_id),
                ("AWS_SECRET_ACCESS_KEY".into(), new.secret_access_key),
                ("AWS_SESSION_TOKEN".into(), new.session_token),
                ("AWS_REGION".into(), "us-east-1".into()),
            ],
            dir,
            conf: new.conf,
        })
    }

    /// The organization as moto holds it now, read directly (not through the proxy).
    async fn live(&self) -> anyhow::Result<LiveOrg> {
        let b = demo::emulator_backend(&self.conf);
        Ok(read_organization(&b, &WalkOptions::default()).await?)
    }

    /// Runs the binary through `proxy`, from full buckets.
    fn run(&self, bin: &Path, proxy: &RateProxy, args: &[&str]) -> anyhow::Result<Run> {
        proxy.reset();
        let mut cmd = Command::new(bin);
        cmd.current_dir(&self.dir)
            .env_remove("AWS_PROFILE")
            .env_remove("GUARDRAIL_RATE_SCALE")
            .env("NO_COLOR", "1")
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args)
            .arg("--stats");
        let t = Instant::now();
        let out = cmd
            .output()
            .with_context(|| format!("running {}", bin.display()))?;
        let wall = t.elapsed();
        Ok(Run {
            wall,
            code: out.status.code(),
            requests: RequestStats {
                by_operation: proxy.forwarded(),
            },
            throttled: proxy.throttled().values().sum(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Expects exit `code` from `run`, else fails with its stderr.
fn expect(run: &Run, code: i32, what: &str) -> anyhow::Result<()> {
    if run.code != Some(code) {
        bail!("{what} exited {:?}:\n{}", run.code, run.stderr);
    }
    Ok(())
}

/// The 10-change edit on the imported files: move 5 accounts from Infrastructure to
/// Sandbox, add a statement to 2 policies, add 3 OUs.
fn edit(dir: &Path) -> anyhow::Result<()> {
    let cfg_path = dir.join("environments/bench.toml");
    let mut doc: toml_edit::DocumentMut = std::fs::read_to_string(&cfg_path)?.parse()?;
    let mut moved = 0;
    if let Some(accounts) = doc.get_mut("accounts").and_then(|a| a.as_table_like_mut()) {
        for (_, a) in accounts.iter_mut() {
            if moved < 5 && a.get("ou").and_then(|o| o.as_str()) == Some("Infrastructure") {
                a["ou"] = toml_edit::value("Sandbox");
                moved += 1;
            }
        }
    }
    let mut docs = Vec::new();
    if let Some(policies) = doc.get("policies").and_then(|p| p.as_table_like()) {
        for (_, p) in policies.iter() {
            if let Some(d) = p.get("document").and_then(|d| d.as_str()) {
                docs.push(d.to_owned());
            }
        }
    }
    for d in docs.iter().take(2) {
        let path = dir.join("environments").join(d);
        let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        if let Some(s) = v["Statement"].as_array_mut() {
            s.push(serde_json::json!({"Sid": "BenchEdit", "Effect": "Deny",
                "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}));
        }
        std::fs::write(&path, serde_json::to_string_pretty(&v)?)?;
    }
    for i in 0..3 {
        doc["ous"][&format!("Bench{i}")]["policies"] =
            toml_edit::value(toml_edit::Array::from_iter(["FullAWSAccess"]));
    }
    if moved < 5 || docs.len() < 2 {
        bail!("the bench organization is too small for the 10-change edit");
    }
    std::fs::write(&cfg_path, doc.to_string())?;
    Ok(())
}

/// Whether `op` is a read (the walk, the lock's look-up) rather than a write.
fn is_read(op: &str) -> bool {
    op.starts_with("List") || op.starts_with("Describe")
}

/// Where a plan's time at AWS's rates goes: each API family's requests and bound, slowest
/// first.
fn families(run: &Run) -> String {
    family_bounds(&run.requests)
        .iter()
        .map(|f| {
            format!(
                "{} {} → {:.2} s",
                f.operations.join(" + "),
                f.requests,
                f.bound.as_secs_f64()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every command on one organization (`size`: its label), read with or without Paths; prints
/// a row for each and returns the notes to print after the table (the plan's families, the
/// apply's writes).
async fn one_org(
    org: &Org,
    bin: &Path,
    proxy: &RateProxy,
    size: &str,
    paths: bool,
) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    let read = if paths { "Paths" } else { "per parent" };
    let set_paths = |live: &LiveOrg| {
        proxy.set_paths(if paths {
            super::rate_proxy::paths_of(live)
        } else {
            HashMap::new()
        })
    };
    set_paths(&org.live().await?);
    let r = org.run(bin, proxy, &["import", "--env", "bench"])?;
    expect(&r, 0, "import")?;
    println!("{}", r.row(size, read, "import"));
    let r = org.run(
        bin,
        proxy,
        &["plan", "--env", "bench", "--detailed-exitcode"],
    )?;
    expect(&r, 0, "plan, no change")?;
    println!("{}", r.row(size, read, "plan, no change"));
    notes.push(format!(
        "- {size}, {read}, plan with no change, by family: {}",
        families(&r)
    ));
    edit(&org.dir)?;
    let edit_plan = org.run(
        bin,
        proxy,
        &["plan", "--env", "bench", "--detailed-exitcode"],
    )?;
    expect(&edit_plan, 2, "plan, 10-change edit")?;
    println!("{}", edit_plan.row(size, read, "plan, 10-change edit"));
    let r = org.run(bin, proxy, &["apply", "--env", "bench", "--auto-approve"])?;
    expect(&r, 0, "apply")?;
    let writes: u64 = r
        .requests
        .by_operation
        .iter()
        .filter(|(op, _)| !is_read(op))
        .map(|(_, n)| n)
        .sum();
    println!("{}", r.row(size, read, &format!("apply ({writes} writes)")));
    // The apply reads what the plan of the same edit read, then writes: the difference is
    // the writes' time (and the lock's look-ups), against N/2 s at the shared 2/s rate.
    notes.push(format!(
        "- {size}, {read}, apply: {writes} writes in {:.2} s after the reads (apply {:.2} s − plan of the edit {:.2} s; N/2 = {:.1} s), {} throttled",
        r.wall.saturating_sub(edit_plan.wall).as_secs_f64(),
        r.wall.as_secs_f64(),
        edit_plan.wall.as_secs_f64(),
        writes as f64 / 2.0,
        r.throttled
    ));
    set_paths(&org.live().await?);
    let r = org.run(bin, proxy, &["drift", "--env", "bench"])?;
    expect(&r, 0, "drift")?;
    println!("{}", r.row(size, read, "drift"));
    Ok(notes)
}

/// The throttled table for each size in each shape, then the start-up figure.
pub async fn run(moto: &str, sizes: &[usize], shapes: &[ShapeKind]) -> anyhow::Result<()> {
    let bin = std::env::current_exe()?.with_file_name("guardrail");
    if !bin.exists() {
        bail!(
            "{} is missing: cargo build --release --bin guardrail",
            bin.display()
        );
    }
    let proxy = RateProxy::start(moto)?;
    let work = std::env::temp_dir().join(format!("guardrail-bench-{}", std::process::id()));
    let base = 400_000_000_000u64 + u64::from(std::process::id() % 100_000) * 100_000;
    println!("\n## real binary, moto behind the AWS-rate proxy\n");
    println!("| accounts (OUs, SCPs + `FullAWSAccess`) | read | command | wall | requests | throttled | lower bound | ratio |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut notes = Vec::new();
    for (i, n) in sizes.iter().enumerate() {
        for (k, kind) in shapes.iter().enumerate() {
            let shape = kind.shape(*n);
            for paths in [true, false] {
                let account = base + (i as u64) * 10 + (k as u64) * 2 + u64::from(paths);
                let org = Org::new(moto, shape, account, &work).await?;
                notes.extend(one_org(&org, &bin, &proxy, &label(&shape), paths).await?);
            }
        }
    }
    println!();
    for note in notes {
        println!("{note}");
    }
    startup(moto, &bin, &proxy, base + 9_999, &work).await?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// CPU time (user + system) of this process's waited-for children so far.
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at `state`, field 3;
    // cutime and cstime are fields 16 and 17, in clock ticks of 1/100 s on Linux.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(13).copied().unwrap_or(0) + f.get(14).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Start-up: plans of an empty organization (SCPs enabled, nothing else), median of 5.
async fn startup(
    moto: &str,
    bin: &Path,
    proxy: &RateProxy,
    account: u64,
    work: &Path,
) -> anyhow::Result<()> {
    let shape = Shape {
        bare: true,
        ..super::shape(0)
    };
    let org = Org::new(moto, shape, account, work).await?;
    proxy.set_paths(HashMap::new());
    expect(
        &org.run(bin, proxy, &["import", "--env", "bench"])?,
        0,
        "import",
    )?;
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut requests = 0;
    for _ in 0..5 {
        let cpu = children_cpu();
        let r = org.run(
            bin,
            proxy,
            &["plan", "--env", "bench", "--detailed-exitcode"],
        )?;
        expect(&r, 0, "plan of an empty organization")?;
        cpus.push(children_cpu().saturating_sub(cpu));
        walls.push(r.wall);
        requests = r.requests.total();
    }
    walls.sort();
    cpus.sort();
    println!(
        "\n- start-up: plan of an empty organization, {requests} requests: wall {:.0} ms, process CPU (user + system) {:.0} ms (medians of 5; CPU in 10 ms ticks)",
        walls[2].as_secs_f64() * 1000.0,
        cpus[2].as_secs_f64() * 1000.0
    );
    Ok(())
}
