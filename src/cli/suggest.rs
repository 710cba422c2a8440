//! `guardrail suggest service-allowlist --env NAME --ou PATH [--days N]` (docs/suggest.md):
//! resolves the OU's entity path, reads IAM's organizations access report for it
//! (`live::access_report`), and prints the suggested `service-allowlist` instance
//! (`crate::suggest`) on stdout.

use std::io::IsTerminal;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};

use super::args::{AwsArgs, Cli};
use super::ExitStatus;
use crate::live::access_report::{self, AccessReportBackend, Polling};
use crate::live::access_report_aws::AwsAccessReport;
use crate::live::aws::ConnectOptions;
use crate::model::OuPath;
use crate::policy::limits::ACCESS_REPORT_TRACKING_DAYS;
use crate::{config, render, suggest};

/// What to suggest.
#[derive(Debug, Subcommand)]
pub enum Suggest {
    /// Print a `service-allowlist` guardrail instance that allows the services an OU's
    /// accounts used in the last N days (IAM's organizations access report), with the
    /// services the current allow-list allows but nobody used as comments. Reads AWS (the
    /// management account); writes nothing.
    ServiceAllowlist {
        #[command(flatten)]
        args: ServiceAllowlistArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

impl Suggest {
    pub fn aws(&self) -> &AwsArgs {
        match self {
            Suggest::ServiceAllowlist { aws, .. } => aws,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServiceAllowlistArgs {
    /// Environment name (its config names the current allow-list, if any).
    #[arg(long)]
    pub env: String,
    /// The OU, as the config writes its path (`Workloads/Prod`); `/` for the root.
    #[arg(long, value_name = "PATH")]
    pub ou: String,
    /// The window: services used in the last N days count as used (1 to 400, IAM's tracking
    /// period).
    #[arg(long, default_value_t = 90, value_parser = days)]
    pub days: u32,
}

/// Parses `--days` within IAM's tracking period.
fn days(s: &str) -> Result<u32, String> {
    let max = ACCESS_REPORT_TRACKING_DAYS.value;
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&(n as usize)) => Ok(n),
        _ => Err(format!(
            "`{s}` is not a whole number of days from 1 to {max}"
        )),
    }
}

/// `--ou`: `/` is the root, anything else an OU path.
fn ou_path(s: &str) -> anyhow::Result<OuPath> {
    if s == "/" {
        return Ok(OuPath::root());
    }
    match OuPath::parse(s) {
        Some(p) => Ok(p),
        None => bail!("`{s}` is not an OU path (names separated by `/`, like Workloads/Prod)"),
    }
}

pub(super) async fn run(
    cli: &Cli,
    connect: &ConnectOptions,
    what: &Suggest,
) -> anyhow::Result<ExitStatus> {
    match what {
        Suggest::ServiceAllowlist { args, .. } => service_allowlist(cli, connect, args).await,
    }
}

async fn service_allowlist(
    cli: &Cli,
    connect: &ConnectOptions,
    a: &ServiceAllowlistArgs,
) -> anyhow::Result<ExitStatus> {
    let ou = ou_path(&a.ou)?;
    let path = super::commands::config_path(&cli.environments, &a.env)?;
    let desired = match config::load(&path) {
        Ok(d) => d,
        Err(errors) => {
            let style = render::Style {
                color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            eprint!("{}", render::config_errors(&errors, style));
            return Ok(ExitStatus::Failure);
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let backend = super::report::connect(connect).await?;
    let Some(entity) = access_report::entity_path(&backend, &ou)
        .await
        .context("could not read the organization")?
    else {
        bail!(
            "the organization has no OU {}",
            render::visible(&ou.to_string())
        );
    };
    let iam = AwsAccessReport::new(backend.sdk_config());
    let phase = super::progress::Phase::start(
        &format!(
            "waiting for IAM's access report of {}",
            render::visible(&entity)
        ),
        0,
    );
    let pause = |d: std::time::Duration| -> futures::future::BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    };
    let report = access_report::read_report(&iam, &entity, Polling::default(), &pause)
        .await
        .context("could not read IAM's organizations access report")?;
    phase.finish(&format!(
        "read IAM's access report: {} service(s)",
        report.details.len()
    ));
    if cli.aws().stats {
        eprint!("{}", render::stats_human(&iam.stats(), None));
    }
    let current = suggest::current_allowlist(&desired, &text, &ou);
    let s = suggest::service_allowlist(&report, &ou, a.days, current.as_ref());
    super::commands::emit(&suggest::render(&s))?;
    Ok(ExitStatus::Success)
}
