//! `guardrail import`: the live organization written as a config and its documents, keeping
//! what the previous import did not write.

use anyhow::{bail, Context};

use super::args::Cli;
use super::commands::{config_path, read_live};
use super::{files, ExitStatus};
use crate::config;
use crate::live::aws::ConnectOptions;
use crate::model::PolicyType;
use crate::policy::limits::LimitsTable;

pub(super) async fn import(
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
