//! `guardrail observe` and `guardrail promote`: read the access-denied events (log files, or
//! CloudTrail's event history in each member account and region), attribute them
//! (`crate::observe`), print them (`render::observe`); promote refuses while the canary shows
//! denials from the guardrail and otherwise rewrites its `stage` (`crate::rollout`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;

use super::args::Format;
use super::ExitStatus;
use crate::live::aws::{AwsBackend, ConnectOptions};
use crate::live::cloudtrail::{self, EventHistory as _, Scope};
use crate::live::cloudtrail_aws::AwsEventHistory;
use crate::live::{self, WalkOptions};
use crate::model::{Desired, LiveOrg, PolicyType, EVENT_HISTORY_DAYS};
use crate::observe::{self, Observer, Report};
use crate::render::observe::{observe_human, observe_json, observe_markdown, Source};
use crate::replay::{read, Window};
use crate::{config, render, rollout};

/// Where the access-denied events come from (observe and promote).
#[derive(Debug, Clone, Default, Args)]
pub struct EventsArgs {
    /// Read CloudTrail log files below this directory (`*.json`, `*.json.gz`, organization
    /// trail folders) instead of CloudTrail's event history.
    #[arg(long, value_name = "PATH")]
    pub cloudtrail: Option<PathBuf>,
    /// Regions whose event history is read (comma-separated; default: the configured region).
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Vec<String>,
}

/// `guardrail observe`.
#[derive(Debug, Clone, Args)]
pub struct ObserveArgs {
    /// Environment name.
    #[arg(long)]
    pub env: String,
    /// Look at the last N days (1 to 90, CloudTrail's event history).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=i64::from(EVENT_HISTORY_DAYS)))]
    pub days: u32,
    #[command(flatten)]
    pub events: EventsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `guardrail promote`.
#[derive(Debug, Clone, Args)]
pub struct PromoteArgs {
    /// Environment name.
    #[arg(long)]
    pub env: String,
    /// The guardrail instance (`[guardrails.NAME]`) at stage "canary".
    pub guardrail: String,
    #[command(flatten)]
    pub events: EventsArgs,
}

fn now() -> time::OffsetDateTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(0))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Loads the config; `Err(status)` when its errors were printed.
fn load(dir: &Path, env: &str) -> anyhow::Result<Result<(PathBuf, Desired), ExitStatus>> {
    let path = super::commands::config_path(dir, env)?;
    match config::load(&path) {
        Ok(d) => Ok(Ok((path, d))),
        Err(errors) => {
            let style = render::Style {
                color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            eprint!("{}", render::config_errors(&errors, style));
            Ok(Err(ExitStatus::Failure))
        }
    }
}

async fn read_live(backend: &AwsBackend, concurrency: usize) -> anyhow::Result<LiveOrg> {
    let opts = WalkOptions {
        concurrency,
        policy_types: PolicyType::MANAGED.to_vec(),
    };
    live::read_organization(backend, &opts)
        .await
        .context("could not read the organization")
}

/// The observation over `accounts` (member accounts) in the window, from the log files or the
/// event history; and a description of the source.
async fn observe_events(
    backend: &AwsBackend,
    connect: &ConnectOptions,
    (desired, live): (&Desired, &LiveOrg),
    events: &EventsArgs,
    accounts: &[String],
    days: u32,
) -> anyhow::Result<(Report, String)> {
    let end = now();
    let window: Window = observe::last_days(end, days);
    let mut obs = Observer::new(live, desired, window);
    if let Some(path) = &events.cloudtrail {
        read::read_logs(path, &mut obs)
            .with_context(|| format!("cannot read --cloudtrail {}", path.display()))?;
        let from = format!("log files below {}, last {days} day(s)", path.display());
        return Ok((obs.finish(), from));
    }
    let regions: Vec<String> = if events.regions.is_empty() {
        let r = backend.sdk_config().region().map(|r| r.to_string());
        r.into_iter().collect()
    } else {
        events.regions.clone()
    };
    let scopes: Vec<Scope> = accounts
        .iter()
        .flat_map(|a| {
            regions.iter().map(move |r| Scope {
                account: a.clone(),
                region: r.clone(),
            })
        })
        .collect();
    let history = AwsEventHistory::new(
        backend.sdk_config(),
        &live.partition,
        &live.management_account,
        &desired.member_role,
        connect.rate_scale,
    );
    let start = window.since.unwrap_or(end);
    let found = cloudtrail::read_events(&history, &scopes, start, end, connect.concurrency)
        .await
        .context("could not read CloudTrail's event history")?;
    for (scope, events) in found {
        let events = match events {
            Ok(e) => e,
            Err(e) => {
                let source = format!("event history of {} in {}", scope.account, scope.region);
                obs.source_error(source, e.to_string());
                continue;
            }
        };
        for e in events {
            match serde_json::from_str(&e) {
                Ok(v) => obs.add_value(v),
                Err(err) => obs.note_bad_event(err.to_string()),
            }
        }
    }
    let from = format!(
        "CloudTrail event history of {} account(s) in {}, last {days} day(s), {} request(s)",
        accounts.len(),
        regions.join(", "),
        history.stats().total()
    );
    Ok((obs.finish(), from))
}

/// The ACTIVE member accounts (the management account is exempt from SCPs and RCPs).
fn member_accounts(live: &LiveOrg) -> Vec<String> {
    live.accounts
        .values()
        .filter(|a| a.state.is_active() && a.id != live.management_account)
        .map(|a| a.id.clone())
        .collect()
}

pub(super) async fn observe_cmd(
    dir: &Path,
    connect: &ConnectOptions,
    a: &ObserveArgs,
) -> anyhow::Result<ExitStatus> {
    let (_, desired) = match load(dir, &a.env)? {
        Ok(x) => x,
        Err(s) => return Ok(s),
    };
    let backend = super::report::connect(connect).await?;
    let live = read_live(&backend, connect.concurrency).await?;
    let accounts = member_accounts(&live);
    let (report, from) = observe_events(
        &backend,
        connect,
        (&desired, &live),
        &a.events,
        &accounts,
        a.days,
    )
    .await?;
    let src = Source { env: &a.env, from };
    let text = match a.format {
        Format::Human => observe_human(&src, &report),
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&observe_json(&src, &report))?
        ),
        Format::Markdown => observe_markdown(&src, &report),
    };
    super::commands::emit(&text)?;
    Ok(if report.protected().next().is_some() {
        ExitStatus::ProtectedDenied
    } else {
        ExitStatus::Success
    })
}

pub(super) async fn promote_cmd(
    dir: &Path,
    connect: &ConnectOptions,
    a: &PromoteArgs,
) -> anyhow::Result<ExitStatus> {
    let (path, desired) = match load(dir, &a.env)? {
        Ok(x) => x,
        Err(s) => return Ok(s),
    };
    if !desired.rollout.canary_guardrails.contains(&a.guardrail) {
        bail!(
            "guardrail `{}` is not at stage \"canary\" in {}",
            a.guardrail,
            path.display()
        );
    }
    let backend = super::report::connect(connect).await?;
    let live = read_live(&backend, connect.concurrency).await?;
    let canary = rollout::canary_accounts(&desired, &live);
    // A quiet canary proves something only when the guardrail is on it and it has accounts.
    if canary.is_empty() {
        eprintln!(
            "refusing to promote `{}`: the canary OUs hold no account, so no denial could show; put an account in a canary OU, apply, and observe first",
            a.guardrail
        );
        return Ok(ExitStatus::Failure);
    }
    if !rollout::applied_on_canary(&desired, &live, &a.guardrail) {
        eprintln!(
            "refusing to promote `{}`: its policies are not attached on the canary yet; apply the canary stage, wait rollout.min_days, then promote",
            a.guardrail
        );
        return Ok(ExitStatus::Failure);
    }
    let days = desired.rollout.min_days;
    let (report, from) = observe_events(
        &backend,
        connect,
        (&desired, &live),
        &a.events,
        &canary,
        days,
    )
    .await?;
    if !report.file_errors.is_empty() {
        let src = Source { env: &a.env, from };
        eprint!("{}", observe_human(&src, &report));
        eprintln!(
            "refusing to promote `{}`: {} source(s) of the canary's events could not be read, so its quiet cannot be shown",
            a.guardrail,
            report.file_errors.len()
        );
        return Ok(ExitStatus::Failure);
    }
    if let rollout::Verdict::Refused { denials } = rollout::decide(&report, &a.guardrail, &canary) {
        let src = Source { env: &a.env, from };
        eprint!("{}", observe_human(&src, &report));
        eprintln!(
            "refusing to promote `{}`: it denied {denials} request(s) on the canary ({} account(s)) in the last {days} day(s) (rollout.min_days); fix the guardrail or its exemptions, or wait",
            a.guardrail,
            canary.len()
        );
        return Ok(ExitStatus::Failure);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let promoted = rollout::promote_text(&text, &a.guardrail)?;
    super::files::write_atomic(&path, promoted.as_bytes())?;
    eprintln!(
        "promoted `{}` to stage \"all\" in {} (no denial from it on the canary's {} account(s) in the last {days} day(s), {from}); review it with `guardrail plan --env {}`, then apply",
        a.guardrail,
        path.display(),
        canary.len(),
        a.env
    );
    Ok(ExitStatus::Success)
}
