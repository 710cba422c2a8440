//! `guardrail plan`, and the planning `drift` and `apply` share: the config loaded, the
//! organization and the covered accounts' IAM read, the plan made ([`load_and_plan`]) and
//! printed with what the rollout holds back; `plan` adds the access proof, the replay and the
//! saved plan file.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::args::{Cli, Format, ReplayArgs};
use super::commands::{config_path, emit, read_live, style_for};
use super::{files, ExitStatus};
use crate::live;
use crate::live::aws::{AwsBackend, ConnectOptions};
use crate::live::iam::IamBackend;
use crate::live::iam_aws::AwsIam;
use crate::model::{Desired, IamLive, LiveOrg, PolicyType};
use crate::plan::file::SavedPlan;
use crate::plan::{self, Plan};
use crate::{config, render};

/// Everything a plan is made from.
pub(super) struct Planned {
    pub(super) desired: Desired,
    pub(super) live: LiveOrg,
    pub(super) iam: IamLive,
    pub(super) plan: Plan,
}

/// Reads the boundary policies and roles of the covered member accounts, when the config has
/// boundaries.
async fn read_iam(
    cli: &Cli,
    backend: &AwsBackend,
    desired: &Desired,
    live: &LiveOrg,
) -> anyhow::Result<IamLive> {
    if desired.boundaries.is_empty() {
        return Ok(IamLive::default());
    }
    let iam = AwsIam::new(backend.sdk_config(), &live.partition, cli.aws().concurrency);
    let total: usize = desired
        .boundaries
        .values()
        .map(|b| {
            b.accounts
                .iter()
                .filter(|a| live.accounts.contains_key(*a))
                .count()
        })
        .sum();
    let phase = super::progress::Phase::start(
        &format!("reading IAM boundaries in {total} member account(s)"),
        total,
    );
    let state = live::iam::read_boundaries(
        desired,
        &|a| live.accounts.contains_key(a),
        &live.partition,
        &iam,
        cli.aws().concurrency,
        &|| phase.inc(),
    )
    .await
    .context("could not read IAM in the member accounts")?;
    phase.finish("read IAM boundaries");
    if cli.aws().stats {
        eprint!("{}", render::stats_human(&iam.stats(), None));
    }
    Ok(state)
}

/// Loads the config, reads the organization and plans. `Err(status)` when the failure was
/// already reported (config errors, refusals: a refusal also goes to stdout as data in a JSON
/// or Markdown `format`).
pub(super) async fn load_and_plan(
    cli: &Cli,
    backend: &AwsBackend,
    env: &str,
    format: Format,
) -> anyhow::Result<Result<Planned, ExitStatus>> {
    let path = config_path(&cli.environments, env)?;
    let desired = match config::load(&path) {
        Ok(d) => d,
        Err(errors) => {
            eprint!(
                "{}",
                render::config_errors(&errors, style_for(std::io::stderr().is_terminal()))
            );
            return Ok(Err(ExitStatus::Failure));
        }
    };
    // Every managed type enabled on the root, whatever the config uses: an organization
    // with RCPs enabled carries RCPFullAWSAccess everywhere, and the plan must see it.
    let types = PolicyType::MANAGED.to_vec();
    let live = read_live(cli, backend, types).await?;
    let iam = read_iam(cli, backend, &desired, &live).await?;
    let phase = super::progress::Phase::start("planning", 0);
    let planned = plan::plan_with_iam(&desired, &live, &iam);
    phase.finish(&match &planned {
        Ok(p) => format!("planned {} change(s)", p.changes.len()),
        Err(_) => "planning refused".to_owned(),
    });
    match planned {
        Ok(plan) => Ok(Ok(Planned {
            desired,
            live,
            iam,
            plan,
        })),
        Err(refused) => {
            print_refused(env, &refused, &live, format)?;
            Ok(Err(ExitStatus::Failure))
        }
    }
}

/// A refused plan: its reasons on stderr, and as data on stdout in a JSON or Markdown `format`
/// (docs/plan-json.md, "A refused plan").
fn print_refused(
    env: &str,
    refused: &plan::Refused,
    live: &LiveOrg,
    format: Format,
) -> anyhow::Result<()> {
    let style = style_for(std::io::stderr().is_terminal());
    eprint!("{}", render::refusals_human(refused, style));
    match format {
        Format::Human => Ok(()),
        Format::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&render::refusals_json(env, refused, live))?
        )),
        Format::Markdown => emit(&render::refusals_markdown(env, refused)),
    }
}

pub(super) fn print_plan(
    env: &str,
    (plan, rollout): (&Plan, &crate::model::Rollout),
    format: Format,
    replay: Option<&crate::replay::Report>,
) -> anyhow::Result<()> {
    use render::observe::{held_back_human, held_back_json, held_back_markdown};
    match format {
        Format::Human => emit(&format!(
            "{}{}{}",
            render::plan_human(env, plan, style_for(std::io::stdout().is_terminal())),
            held_back_human(env, rollout),
            replay.map(render::replay_human).unwrap_or_default()
        ))?,
        Format::Json => {
            let mut v = render::plan_json(env, plan);
            v["held_back"] = held_back_json(rollout);
            if let Some(r) = replay {
                v["replay"] = render::replay_json(r);
            }
            emit(&format!("{}\n", serde_json::to_string_pretty(&v)?))?
        }
        Format::Markdown => emit(&format!(
            "{}{}",
            render::plan_markdown_with(env, plan, replay),
            held_back_markdown(env, rollout)
        ))?,
    }
    Ok(())
}

/// Every file a plan was made from: the config and each input it recorded (documents and
/// templates, relative to the config's directory).
fn plan_inputs(cli: &Cli, env: &str, desired: &Desired) -> anyhow::Result<Vec<PathBuf>> {
    let config = config_path(&cli.environments, env)?;
    let mut inputs = vec![config];
    for key in desired.inputs.keys() {
        inputs.push(PathBuf::from(key));
        inputs.push(cli.environments.join(key));
    }
    Ok(inputs)
}

/// What decides `plan`'s exit code besides errors.
#[derive(Debug, Clone, Copy)]
pub(super) struct PlanExit {
    pub(super) detailed: bool,
    pub(super) fail_on_new_access: bool,
}

pub(super) async fn plan_cmd(
    cli: &Cli,
    connect: &ConnectOptions,
    env: &str,
    format: Format,
    exit: PlanExit,
    out: Option<&Path>,
    replay: &ReplayArgs,
) -> anyhow::Result<ExitStatus> {
    // A saved plan must not overwrite what it is made from: checked before any request, and
    // again against every input the config named once it is loaded.
    if let Some(out) = out {
        files::check_out_path(
            out,
            &cli.environments,
            &[config_path(&cli.environments, env)?],
        )?;
    }
    let backend = super::report::connect(connect).await?;
    let Planned {
        desired,
        live,
        iam,
        mut plan,
    } = match load_and_plan(cli, &backend, env, format).await? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    if let Some(out) = out {
        files::check_out_path(out, &cli.environments, &plan_inputs(cli, env, &desired)?)?;
    }
    let projected = plan::projected(&desired, &live);
    plan.access_proof = Some(super::access_proof::prove(&plan, &projected, &live));
    let replayed = match &replay.replay {
        Some(_) => super::replay::report(replay, Some(&live), &projected)?,
        None => None,
    };
    print_plan(env, (&plan, &desired.rollout), format, replayed.as_ref())?;
    if let Some(out) = out {
        let saved = SavedPlan::new(env, &plan, desired.inputs.clone(), &live, &iam);
        files::write_atomic(out, saved.to_json().as_bytes())?;
        eprintln!(
            "saved the plan to {}; apply it with `guardrail apply --env {env} {}`",
            out.display(),
            out.display()
        );
    }
    Ok(
        if exit.fail_on_new_access && super::access_proof::fails(&plan) {
            ExitStatus::NewAccess
        } else if super::replay::fails(replay, replayed.as_ref()) {
            ExitStatus::NewlyDenied
        } else if exit.detailed && !plan.is_empty() {
            ExitStatus::Changes
        } else {
            ExitStatus::Success
        },
    )
}
