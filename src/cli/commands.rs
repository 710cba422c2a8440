//! The commands.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::args::{Cli, Command, Format};
use super::ExitStatus;
use crate::live::aws::{AwsBackend, ConnectOptions};
use crate::live::{self, OrgBackend, WalkOptions};
use crate::model::{LiveOrg, PolicyType};
use crate::policy::limits::LimitsTable;
use crate::{config, plan, render};

/// Runs one command; errors that reach here are printed once by `main`.
pub async fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let connect = ConnectOptions {
        profile: cli.profile.clone(),
        region: cli.region.clone(),
        endpoint_url: cli.endpoint_url.clone().filter(|s| !s.is_empty()),
        max_attempts: None,
        concurrency: cli.concurrency,
    };
    match &cli.command {
        Command::Import { env, force } => import(&cli, &connect, env, *force).await,
        Command::Plan {
            env,
            format,
            detailed_exitcode,
        } => plan_cmd(&cli, &connect, env, *format, *detailed_exitcode).await,
    }
}

fn style_for(stream_is_tty: bool) -> render::Style {
    render::Style {
        color: stream_is_tty && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn config_path(dir: &Path, env: &str) -> anyhow::Result<PathBuf> {
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
        concurrency: cli.concurrency,
        policy_types: types,
    };
    let live = live::read_organization(backend, &opts)
        .await
        .context("could not read the organization")?;
    if cli.stats {
        eprint!(
            "{}",
            render::stats_human(&backend.stats(), Some(live::request_budget(&live)))
        );
    }
    Ok(live)
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
    let backend = AwsBackend::connect(connect).await;
    let live = read_live(cli, &backend, vec![PolicyType::ServiceControlPolicy]).await?;
    let emitted = config::emit(env, &live, &LimitsTable::default())
        .with_context(|| format!("cannot write organization {} as a config", live.org_id))?;

    std::fs::create_dir_all(&docs_dir)
        .with_context(|| format!("cannot create {}", docs_dir.display()))?;
    let mut written = std::collections::BTreeSet::new();
    for (rel, text) in &emitted.documents {
        let p = cli.environments.join(rel);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
        written.insert(p);
    }
    // With --force, documents of policies that no longer exist would linger and mislead.
    if force {
        for entry in std::fs::read_dir(&docs_dir)?.flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "json") && !written.contains(&p) {
                std::fs::remove_file(&p)
                    .with_context(|| format!("cannot remove stale {}", p.display()))?;
            }
        }
    }
    std::fs::write(&path, &emitted.config)
        .with_context(|| format!("cannot write {}", path.display()))?;
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

async fn plan_cmd(
    cli: &Cli,
    connect: &ConnectOptions,
    env: &str,
    format: Format,
    detailed: bool,
) -> anyhow::Result<ExitStatus> {
    let path = config_path(&cli.environments, env)?;
    let desired = match config::load(&path) {
        Ok(d) => d,
        Err(errors) => {
            eprint!(
                "{}",
                render::config_errors(&errors, style_for(std::io::stderr().is_terminal()))
            );
            return Ok(ExitStatus::Failure);
        }
    };
    let backend = AwsBackend::connect(connect).await;
    let mut types = vec![PolicyType::ServiceControlPolicy];
    if desired
        .policies
        .values()
        .any(|p| p.policy_type == PolicyType::ResourceControlPolicy)
    {
        types.push(PolicyType::ResourceControlPolicy);
    }
    let live = read_live(cli, &backend, types).await?;
    let plan = match plan::plan(&desired, &live) {
        Ok(p) => p,
        Err(refused) => {
            eprint!(
                "{}",
                render::refusals_human(&refused, style_for(std::io::stderr().is_terminal()))
            );
            return Ok(ExitStatus::Failure);
        }
    };
    match format {
        Format::Human => print!(
            "{}",
            render::plan_human(env, &plan, style_for(std::io::stdout().is_terminal()))
        ),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&render::plan_json(env, &plan))?
        ),
    }
    Ok(if detailed && !plan.is_empty() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
