//! `guardrail apply`: under the organization lock (`crate::lock`), a saved plan checked
//! against a fresh one, or a fresh plan shown and confirmed, executed with progress on stderr
//! and the outcome on stdout.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{bail, Context};

use super::args::{Cli, Format};
use super::commands::{emit, style_for};
use super::plan::{load_and_plan, print_plan, Planned};
use super::ExitStatus;
use crate::live::aws::{AwsBackend, ConnectOptions};
use crate::live::iam_aws::AwsIam;
use crate::live::{self, OrgBackend};
use crate::model::LiveOrg;
use crate::plan::file::SavedPlan;
use crate::plan::Plan;
use crate::{apply, render};

/// Asks on the terminal; only `yes` proceeds.
fn confirm(plan: &Plan) -> anyhow::Result<bool> {
    use std::io::Write as _;
    eprint!(
        "\nApply these {} change(s) to organization {}?\nOnly 'yes' will be accepted: ",
        plan.changes.len(),
        plan.org_id
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

pub(super) struct ApplyOpts<'a> {
    pub(super) env: &'a str,
    pub(super) plan_file: Option<&'a Path>,
    pub(super) auto_approve: bool,
    pub(super) format: Format,
    pub(super) lock_timeout: std::time::Duration,
    pub(super) lock_ttl: std::time::Duration,
    pub(super) break_lock: bool,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Takes the organization lock (`crate::lock`), plans and applies under it, releases it.
pub(super) async fn apply_locked(
    cli: &Cli,
    connect: &ConnectOptions,
    opts: &ApplyOpts<'_>,
) -> anyhow::Result<ExitStatus> {
    let backend = super::report::connect(connect).await?;
    let pause = |d: std::time::Duration| -> futures::future::BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    };
    let root = crate::lock::retrying(&pause, || live::the_root(&backend))
        .await
        .context("could not read the organization's root")?;
    if opts.break_lock {
        let removed = crate::lock::break_all(&backend, &root.id, &pause).await?;
        eprintln!(
            "removed {} lock tag(s) from the root: {}",
            removed.len(),
            removed.join(", ")
        );
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let run_id = format!("{:x}-{:x}-{nanos:x}", unix_now(), std::process::id());
    let lock_opts = crate::lock::LockOptions {
        run_id,
        env: opts.env.to_owned(),
        ttl: opts.lock_ttl,
        timeout: opts.lock_timeout,
        now: &unix_now,
        pause: &pause,
    };
    let lock = crate::lock::acquire(&backend, &root.id, &lock_opts).await?;
    tracing::info!(key = %lock.key, "took the organization lock");
    // Every write goes through the lock's guard, which renews it during a long run and
    // stops writing once another run has taken it over.
    let guarded = crate::lock::Guarded::new(&backend, lock.clone(), &lock_opts);
    let result = apply_cmd(cli, &backend, &guarded, opts).await;
    if let Err(e) = crate::lock::release(&backend, &lock, &pause).await {
        eprintln!("could not release the organization lock {} ({e}); it expires by itself, or remove it with --break-lock", lock.key);
    }
    if cli.aws().stats {
        // After the lock's release, so that every request of the run is counted.
        eprint!("{}", render::stats_human(&backend.stats(), None));
    }
    result
}

/// The plan to apply and the organization it was made against; `Err(status)` when there is
/// nothing to apply (already reported, refused, empty or cancelled).
async fn plan_to_apply(
    cli: &Cli,
    backend: &AwsBackend,
    opts: &ApplyOpts<'_>,
) -> anyhow::Result<Result<(Plan, LiveOrg), ExitStatus>> {
    match opts.plan_file {
        Some(file) => saved_plan(cli, backend, opts, file).await,
        None => confirmed_plan(cli, backend, opts).await,
    }
}

/// A saved plan, applied only when planning again makes exactly it (`StalePlan` otherwise).
async fn saved_plan(
    cli: &Cli,
    backend: &AwsBackend,
    opts: &ApplyOpts<'_>,
    file: &Path,
) -> anyhow::Result<Result<(Plan, LiveOrg), ExitStatus>> {
    let env = opts.env;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let saved = match SavedPlan::from_json(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("refusing {}: {e}", file.display());
            return Ok(Err(ExitStatus::StalePlan));
        }
    };
    let Planned {
        desired,
        live,
        iam,
        plan,
    } = match load_and_plan(cli, backend, env, opts.format).await? {
        Ok(p) => p,
        Err(status) => return Ok(Err(status)),
    };
    if let Err(e) = saved.compare(env, &plan, &desired.inputs, &live, &iam) {
        eprintln!("refusing {}: {e}", file.display());
        return Ok(Err(ExitStatus::StalePlan));
    }
    Ok(Ok((plan, live)))
}

/// A fresh plan, shown (human format) and confirmed on the terminal unless `--auto-approve`.
async fn confirmed_plan(
    cli: &Cli,
    backend: &AwsBackend,
    opts: &ApplyOpts<'_>,
) -> anyhow::Result<Result<(Plan, LiveOrg), ExitStatus>> {
    let env = opts.env;
    let Planned {
        live,
        plan,
        desired,
        ..
    } = match load_and_plan(cli, backend, env, opts.format).await? {
        Ok(p) => p,
        Err(status) => return Ok(Err(status)),
    };
    if opts.format == Format::Human {
        print_plan(env, (&plan, &desired.rollout), Format::Human, None)?;
    }
    if plan.is_empty() {
        return Ok(Err(ExitStatus::Success));
    }
    if !opts.auto_approve {
        if !std::io::stdin().is_terminal() {
            bail!("no terminal to confirm on; review the plan and pass --auto-approve, or apply a saved plan (`plan --out FILE`, then `apply --env {env} FILE`)");
        }
        if !confirm(&plan)? {
            eprintln!("Apply cancelled; nothing was changed.");
            return Ok(Err(ExitStatus::Failure));
        }
    }
    Ok(Ok((plan, live)))
}

async fn apply_cmd(
    cli: &Cli,
    backend: &AwsBackend,
    writes: &crate::lock::Guarded<'_>,
    opts: &ApplyOpts<'_>,
) -> anyhow::Result<ExitStatus> {
    let format = opts.format;
    let (plan, live) = match plan_to_apply(cli, backend, opts).await? {
        Ok(x) => x,
        Err(status) => return Ok(status),
    };
    let iam = AwsIam::new(backend.sdk_config(), &live.partition, cli.aws().concurrency);
    let total = plan.changes.len();
    let phase = super::progress::Phase::start(
        &format!(
            "applying {total} change(s) to organization {}",
            render::visible(&plan.org_id)
        ),
        total,
    );
    let outcome = apply::execute_all(
        &plan,
        &live,
        writes,
        Some(&iam),
        apply::RetryPolicy::default(),
        &|i, c, e| phase.on_step(total, i, c, e),
    )
    .await;
    phase.finish(&format!(
        "applied: {} of {total} step(s) done",
        outcome.count(|s| *s == apply::StepStatus::Done)
    ));
    // The outcome is data: stdout, in the chosen format (progress went to stderr).
    match format {
        Format::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&render::outcome_json(&outcome))?
        ))?,
        _ => emit(&render::outcome_human(
            &outcome,
            style_for(std::io::stdout().is_terminal()),
        ))?,
    }
    super::report::after_stopped_apply(cli, &outcome).await;
    Ok(if outcome.succeeded() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
