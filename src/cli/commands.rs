//! The commands: [`run`] hands each to its file (`import.rs`, `plan.rs`, `drift.rs`,
//! `apply.rs`, `validate.rs`, `explain.rs`, `graph.rs`, `observe.rs`, `suggest.rs`,
//! `tooling.rs`), and the plumbing they share: stdout, the color style, the config's path, the
//! config loaded alone, and the organization read with its `--stats`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::apply::ApplyOpts;
use super::args::{Cli, Command};
use super::explain::ExplainArgs;
use super::plan::PlanExit;
use super::ExitStatus;
use crate::live::{self, OrgBackend, WalkOptions};
use crate::model::{Desired, LiveOrg, PolicyType};
use crate::{config, render};

/// Writes data to stdout. A closed pipe (`guardrail plan | head`) is not an error: the
/// reader has what it wanted, and the exit code still tells the result.
pub(super) fn emit(s: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Runs one command; errors that reach here are told by `report::run` (a known class) or
/// printed once by `main`.
pub async fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let connect = super::report::connect_options(&cli);
    match &cli.command {
        Command::Import { env, force, .. } => {
            super::import::import(&cli, &connect, env, *force).await
        }
        Command::Plan {
            env,
            format,
            detailed_exitcode,
            fail_on_new_access,
            out,
            replay,
            ..
        } => {
            let exit = PlanExit {
                detailed: *detailed_exitcode,
                fail_on_new_access: *fail_on_new_access,
            };
            super::plan::plan_cmd(&cli, &connect, env, *format, exit, out.as_deref(), replay).await
        }
        Command::Apply {
            env,
            plan_file,
            auto_approve,
            format,
            lock_timeout,
            lock_ttl,
            break_lock,
            ..
        } => {
            let opts = ApplyOpts {
                env,
                plan_file: plan_file.as_deref(),
                auto_approve: *auto_approve,
                format: (*format).into(),
                lock_timeout: std::time::Duration::from_secs(*lock_timeout),
                lock_ttl: std::time::Duration::from_secs(*lock_ttl),
                break_lock: *break_lock,
            };
            super::apply::apply_locked(&cli, &connect, &opts).await
        }
        Command::Drift { env, format, .. } => {
            super::drift::drift_cmd(&cli, &connect, env, *format).await
        }
        Command::Graph { env, format } => super::graph::graph_cmd(&cli, env, *format),
        Command::Tool(tool) => super::tooling::run(tool),
        Command::Suggest(what) => super::suggest::run(&cli, &connect, what).await,
        Command::Observe { args, .. } => {
            super::observe::observe_cmd(&cli.environments, &connect, args).await
        }
        Command::Promote { args, .. } => {
            super::observe::promote_cmd(&cli.environments, &connect, args).await
        }
        Command::Validate {
            env,
            format,
            replay,
        } => super::validate::validate_cmd(&cli, env, *format, replay),
        Command::Explain {
            env,
            account,
            action,
            policy_type,
            region,
            principal,
            resource,
            context,
            format,
            live,
            ..
        } => {
            let args = ExplainArgs {
                account,
                action: action.as_deref(),
                policy_type: policy_type.as_deref(),
                region: region.as_deref(),
                principal: principal.as_deref(),
                resource: resource.as_deref(),
                context,
            };
            super::explain::explain(&cli, &connect, env, args, (*format).into(), *live).await
        }
    }
}

pub(super) fn style_for(stream_is_tty: bool) -> render::Style {
    render::Style {
        color: stream_is_tty && std::env::var_os("NO_COLOR").is_none(),
    }
}

pub(super) fn config_path(dir: &Path, env: &str) -> anyhow::Result<PathBuf> {
    if env.is_empty()
        || !env
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("environment name `{env}` must be letters, digits, `-` and `_`");
    }
    Ok(dir.join(format!("{env}.toml")))
}

pub(super) async fn read_live(
    cli: &Cli,
    backend: &dyn OrgBackend,
    types: Vec<PolicyType>,
) -> anyhow::Result<LiveOrg> {
    let opts = WalkOptions {
        concurrency: cli.aws().concurrency,
        policy_types: types,
    };
    let phase = super::progress::Phase::start("reading the organization", 0);
    let live = live::read_organization(backend, &opts)
        .await
        .context("could not read the organization")?;
    phase.finish(&format!(
        "read organization {}: {} OUs, {} accounts, {} policies, {} requests",
        render::visible(&live.org_id),
        live.ous.len(),
        live.accounts.len(),
        live.policies.len(),
        backend.stats().total()
    ));
    if cli.aws().stats {
        eprint!("{}", walk_stats(&backend.stats(), &live));
    }
    Ok(live)
}

/// `--stats` after a walk: requests by operation against the budget of the read taken, then
/// each read's budget and lower bound at AWS's rates.
fn walk_stats(stats: &live::RequestStats, live: &LiveOrg) -> String {
    let taken = live::ReadPath::taken(stats);
    let mut costs: Vec<render::WalkCost> = live::ReadPath::ALL
        .iter()
        .map(|path| {
            let e = live::WalkEstimate::of(live, *path);
            render::WalkCost {
                read: match path {
                    live::ReadPath::Paths => "ListAccounts with Paths".into(),
                    live::ReadPath::PerParent => {
                        "per parent (ListAccounts answered without Paths)".into()
                    }
                },
                taken: *path == taken,
                budget: e.budget,
                bound: e.bound,
                bottleneck: e.bottleneck,
            }
        })
        .collect();
    costs.sort_by_key(|c| !c.taken);
    let budget = costs.first().map(|c| c.budget);
    render::stats_human(stats, budget) + &render::walk_costs_human(&costs)
}

/// Loads the config only; `Err(status)` when errors were reported.
pub(super) fn load_desired(cli: &Cli, env: &str) -> anyhow::Result<Result<Desired, ExitStatus>> {
    let path = config_path(&cli.environments, env)?;
    match config::load(&path) {
        Ok(d) => Ok(Ok(d)),
        Err(errors) => {
            eprint!(
                "{}",
                render::config_errors(&errors, style_for(std::io::stderr().is_terminal()))
            );
            Ok(Err(ExitStatus::Failure))
        }
    }
}
