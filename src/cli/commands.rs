//! The commands.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::args::{Cli, Command, Format, ReplayArgs, ValidateFormat};
use super::{files, ExitStatus};
use crate::live::aws::{AwsBackend, ConnectOptions};
use crate::live::iam::IamBackend;
use crate::live::iam_aws::AwsIam;
use crate::live::{self, OrgBackend, WalkOptions};
use crate::model::{Desired, IamLive, LiveOrg, PolicyType};
use crate::plan::file::SavedPlan;
use crate::plan::Plan;
use crate::policy::limits::LimitsTable;
use crate::{apply, config, plan, render};

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
        Command::Import { env, force, .. } => import(&cli, &connect, env, *force).await,
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
            plan_cmd(&cli, &connect, env, *format, exit, out.as_deref(), replay).await
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
            apply_locked(&cli, &connect, &opts).await
        }
        Command::Drift { env, format, .. } => drift_cmd(&cli, &connect, env, *format).await,
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
        } => validate_cmd(&cli, env, *format, replay),
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
            let live = if *live {
                let backend = super::report::connect(&connect).await?;
                Some(read_live(&cli, &backend, PolicyType::MANAGED.to_vec()).await?)
            } else {
                None
            };
            explain_cmd(&cli, env, args, (*format).into(), live.as_ref())
        }
    }
}

fn style_for(stream_is_tty: bool) -> render::Style {
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

async fn read_live(
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

async fn import(
    cli: &Cli,
    connect: &ConnectOptions,
    env: &str,
    force: bool,
) -> anyhow::Result<ExitStatus> {
    let path = config_path(&cli.environments, env)?;
    let docs_dir = cli.environments.join(env);
    if !force && (path.exists() || docs_dir.exists()) {
        bail!(
            "{} or {} already exists; pass --force to overwrite it",
            path.display(),
            docs_dir.display()
        );
    }
    let backend = super::report::connect(connect).await?;
    let live = read_live(cli, &backend, PolicyType::MANAGED.to_vec()).await?;
    let emitted = config::emit(env, &live, &LimitsTable::default())
        .with_context(|| format!("cannot write organization {} as a config", live.org_id))?;

    // Only what the previous import wrote is replaced; everything else in the directory is
    // kept, and nothing is in place until every file is written (see `files`).
    let report = files::write_import(&cli.environments, env, &emitted)?;
    if !report.kept.is_empty() {
        eprintln!(
            "kept {} file(s) in {}/ that import did not write: {}",
            report.kept.len(),
            docs_dir.display(),
            report.kept.join(", ")
        );
    }
    if !report.dropped.is_empty() {
        eprintln!(
            "removed {} document(s) of policies that no longer exist: {}",
            report.dropped.len(),
            report.dropped.join(", ")
        );
    }
    eprintln!(
        "imported organization {} ({} OUs, {} accounts, {} policies) into {} and {}/",
        live.org_id,
        live.ous.len(),
        live.accounts.len(),
        emitted.documents.len(),
        path.display(),
        docs_dir.display()
    );
    Ok(ExitStatus::Success)
}

/// Everything a plan is made from.
struct Planned {
    desired: Desired,
    live: LiveOrg,
    iam: IamLive,
    plan: Plan,
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
/// already reported (config errors, refusals).
async fn load_and_plan(
    cli: &Cli,
    backend: &AwsBackend,
    env: &str,
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
            eprint!(
                "{}",
                render::refusals_human(&refused, style_for(std::io::stderr().is_terminal()))
            );
            Ok(Err(ExitStatus::Failure))
        }
    }
}

fn print_plan(
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
struct PlanExit {
    detailed: bool,
    fail_on_new_access: bool,
}

async fn plan_cmd(
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
    } = match load_and_plan(cli, &backend, env).await? {
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

async fn drift_cmd(
    cli: &Cli,
    connect: &ConnectOptions,
    env: &str,
    format: Format,
) -> anyhow::Result<ExitStatus> {
    let backend = super::report::connect(connect).await?;
    let Planned { plan, live, .. } = match load_and_plan(cli, &backend, env).await? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    // What AWS itself found invalid in the effective management policies (docs/drift.md).
    let effective =
        live::effective_check::check_effective_policies(&backend, &live.root.enabled_policy_types)
            .await?;
    match format {
        Format::Human => emit(&format!(
            "{}{}",
            render::drift_human(env, &plan),
            render::effective_human(&effective)
        ))?,
        Format::Json => {
            let mut v = render::drift_json(env, &plan);
            v["effective_policies"] = render::effective_json(&effective);
            v["drifted"] =
                serde_json::json!(render::drifted(&plan) || !effective.invalid.is_empty());
            emit(&format!("{}\n", serde_json::to_string_pretty(&v)?))?
        }
        Format::Markdown => emit(&format!(
            "{}{}",
            render::drift_markdown(env, &plan),
            render::effective_markdown(&effective)
        ))?,
    }
    Ok(if render::drifted(&plan) || !effective.invalid.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

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

struct ApplyOpts<'a> {
    env: &'a str,
    plan_file: Option<&'a Path>,
    auto_approve: bool,
    format: Format,
    lock_timeout: std::time::Duration,
    lock_ttl: std::time::Duration,
    break_lock: bool,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Takes the organization lock (`crate::lock`), plans and applies under it, releases it.
async fn apply_locked(
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
    let result = apply_cmd(cli, &backend, opts).await;
    if let Err(e) = crate::lock::release(&backend, &lock, &pause).await {
        eprintln!("could not release the organization lock {} ({e}); it expires by itself, or remove it with --break-lock", lock.key);
    }
    result
}

async fn apply_cmd(
    cli: &Cli,
    backend: &AwsBackend,
    opts: &ApplyOpts<'_>,
) -> anyhow::Result<ExitStatus> {
    let (env, format) = (opts.env, opts.format);
    let (plan, live) = match opts.plan_file {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let saved = match SavedPlan::from_json(&text) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("refusing {}: {e}", file.display());
                    return Ok(ExitStatus::StalePlan);
                }
            };
            let Planned {
                desired,
                live,
                iam,
                plan,
            } = match load_and_plan(cli, backend, env).await? {
                Ok(p) => p,
                Err(status) => return Ok(status),
            };
            if let Err(e) = saved.compare(env, &plan, &desired.inputs, &live, &iam) {
                eprintln!("refusing {}: {e}", file.display());
                return Ok(ExitStatus::StalePlan);
            }
            (plan, live)
        }
        None => {
            let Planned {
                live,
                plan,
                desired,
                ..
            } = match load_and_plan(cli, backend, env).await? {
                Ok(p) => p,
                Err(status) => return Ok(status),
            };
            if format == Format::Human {
                print_plan(env, (&plan, &desired.rollout), Format::Human, None)?;
            }
            if plan.is_empty() {
                return Ok(ExitStatus::Success);
            }
            if !opts.auto_approve {
                if !std::io::stdin().is_terminal() {
                    bail!("no terminal to confirm on; review the plan and pass --auto-approve, or apply a saved plan (`plan --out FILE`, then `apply --env {env} FILE`)");
                }
                if !confirm(&plan)? {
                    eprintln!("Apply cancelled; nothing was changed.");
                    return Ok(ExitStatus::Failure);
                }
            }
            (plan, live)
        }
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
        backend,
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
    if cli.aws().stats {
        eprint!("{}", render::stats_human(&backend.stats(), None));
    }
    Ok(if outcome.succeeded() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
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

fn validate_cmd(
    cli: &Cli,
    env: &str,
    format: ValidateFormat,
    replay: &ReplayArgs,
) -> anyhow::Result<ExitStatus> {
    if format == ValidateFormat::Sarif {
        if replay.replay.is_some() {
            bail!("--replay has no SARIF form (it reports requests, not lines); use --format human or json");
        }
        return super::tooling::validate_sarif(cli, env);
    }
    let desired = match load_desired(cli, env)? {
        Ok(d) => d,
        Err(s) => return Ok(s),
    };
    let report = plan::verify::validate(&desired);
    let replayed = super::replay::report(replay, None, &desired)?;
    match format {
        ValidateFormat::Json => {
            let mut v = render::validation_json(env, &desired, &report);
            if let Some(r) = &replayed {
                v["replay"] = render::replay_json(r);
            }
            emit(&format!("{}\n", serde_json::to_string_pretty(&v)?))?
        }
        // (SARIF returned above.)
        ValidateFormat::Human | ValidateFormat::Sarif => emit(&format!(
            "{}{}",
            render::validation_human(env, &desired, &report),
            replayed
                .as_ref()
                .map(render::replay_human)
                .unwrap_or_default()
        ))?,
    }
    Ok(if !report.is_clean() {
        ExitStatus::Failure
    } else if super::replay::fails(replay, replayed.as_ref()) {
        ExitStatus::NewlyDenied
    } else {
        ExitStatus::Success
    })
}

struct ExplainArgs<'a> {
    account: &'a str,
    action: Option<&'a str>,
    policy_type: Option<&'a str>,
    region: Option<&'a str>,
    principal: Option<&'a str>,
    resource: Option<&'a str>,
    context: &'a [String],
}

/// Explains one request; with `live`, on what will really be attached after an apply.
fn explain_cmd(
    cli: &Cli,
    env: &str,
    args: ExplainArgs<'_>,
    format: Format,
    live: Option<&LiveOrg>,
) -> anyhow::Result<ExitStatus> {
    let desired = match load_desired(cli, env)? {
        Ok(d) => d,
        Err(s) => return Ok(s),
    };
    let desired = match live {
        Some(live) => plan::projected(&desired, live),
        None => desired,
    };
    if let Some(ty) = args.policy_type {
        return effective_cmd(&desired, env, args.account, ty, format);
    }
    let Some(action) = args.action else {
        bail!("explain needs --action (or --policy-type)");
    };
    let mut context = Vec::new();
    for kv in args.context {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--context takes key=value, not `{kv}`");
        };
        context.push((k.to_owned(), v.to_owned()));
    }
    let (id, levels) = match plan::verify::account_levels(&desired, args.account) {
        Some(x) => x,
        None => bail!(
            "account `{}` is neither a config key nor an account id in environments/{env}.toml",
            args.account
        ),
    };
    let req = plan::verify::request(
        &id,
        action,
        args.region,
        args.principal,
        args.resource,
        &context,
    )?;
    let decision = plan::verify::decide(&levels, &req);
    match format {
        Format::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&render::explain_json(&decision))?
        ))?,
        _ => emit(&format!(
            "{} in account {} ({id}){}{}: {}\n",
            action,
            args.account,
            args.region.map(|r| format!(" in {r}")).unwrap_or_default(),
            args.principal
                .map(|p| format!(" by {p}"))
                .unwrap_or_default(),
            plan::verify::describe_decision(&decision)
        ))?,
    }
    Ok(ExitStatus::Success)
}

/// `explain --policy-type`: the account's effective management policy (the document on
/// stdout; the levels it came from and the findings on stderr, or all of it as JSON).
fn effective_cmd(
    desired: &Desired,
    env: &str,
    account: &str,
    ty: &str,
    format: Format,
) -> anyhow::Result<ExitStatus> {
    use crate::policy::effective;
    let Some(ty) = PolicyType::from_api_name(ty).filter(|t| !t.is_authorization()) else {
        bail!(
            "`{ty}` is not a management policy type (TAG_POLICY, BACKUP_POLICY, ...); \
             SCPs and RCPs are explained with --action"
        );
    };
    let Some((id, levels)) = effective::account_levels(desired, account, ty) else {
        bail!("account `{account}` is neither a config key nor an account id in environments/{env}.toml");
    };
    let result = effective::effective(&levels);
    let findings: Vec<String> = result.findings.iter().map(|f| f.to_string()).collect();
    if format == Format::Json {
        let levels: Vec<serde_json::Value> = levels
            .iter()
            .map(|l| {
                let names: Vec<&str> = l.policies.iter().map(|p| p.name.as_str()).collect();
                serde_json::json!({"target": l.target, "policies": names})
            })
            .collect();
        let out = serde_json::json!({
            "account": id,
            "policy_type": ty.api_name(),
            "levels": levels,
            "effective_policy": result.document,
            "findings": findings,
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    } else {
        for l in &levels {
            let names: Vec<&str> = l.policies.iter().map(|p| p.name.as_str()).collect();
            let line = format!("{} {}: {}", ty.api_name(), l.target, names.join(", "));
            eprintln!("{}", render::visible(&line));
        }
        for f in &findings {
            eprintln!("warning: {}", render::visible(f));
        }
        emit(&crate::policy::doc::pretty(&result.document))?;
    }
    Ok(ExitStatus::Success)
}
