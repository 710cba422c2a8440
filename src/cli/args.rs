//! clap types: what the user typed, nothing more.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Keep an AWS Organization's guardrails (OUs, accounts, SCPs) as code.
#[derive(Debug, Parser)]
#[command(name = "guardrail", version, about)]
pub struct Cli {
    /// AWS profile to use (default: the standard credential chain).
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS region (Organizations lives in us-east-1, the default when none is configured).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Endpoint URL for an emulator such as moto (also AWS_ENDPOINT_URL).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Directory holding `<env>.toml` files.
    #[arg(long, global = true, default_value = "environments")]
    pub environments: PathBuf,
    /// Print the AWS requests made, by operation, to stderr.
    #[arg(long, global = true)]
    pub stats: bool,
    /// Organizations requests in flight at once.
    #[arg(long, global = true, default_value_t = 8)]
    pub concurrency: usize,
    /// Multiply AWS's documented request rates by this (1 against AWS; an emulator such as
    /// moto can take far more).
    #[arg(
        long,
        global = true,
        env = "GUARDRAIL_RATE_SCALE",
        default_value_t = 1.0
    )]
    pub rate_scale: f64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write environments/<env>.toml and its policy documents from the live organization.
    Import {
        /// Environment name.
        #[arg(long)]
        env: String,
        /// Overwrite an existing config and its documents.
        #[arg(long)]
        force: bool,
    },
    /// Show what would change to make the organization match the config.
    Plan {
        /// Environment name.
        #[arg(long)]
        env: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Exit 0 when there are no changes, 2 when there are, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Also save the plan, with digests of the config and the live state, for `apply FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Make the organization match the config: show the plan, confirm, apply it safely.
    Apply {
        /// Environment name.
        #[arg(long)]
        env: String,
        /// A plan saved by `plan --out`: applied exactly, if config and live have not moved.
        plan_file: Option<PathBuf>,
        /// Do not ask for confirmation (required without a terminal, unless a plan file is given).
        #[arg(long)]
        auto_approve: bool,
        /// Output format of the result.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Offline: lint every document, check every [[assert]], prove the deployer and break-glass
    /// principals are not locked out. Exit 0 when clean, 1 otherwise. Sends no request.
    Validate {
        /// Environment name.
        #[arg(long)]
        env: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Offline: is this request denied in this account by the configured SCPs, and by what?
    Explain {
        /// Environment name.
        #[arg(long)]
        env: String,
        /// The account: its config key or id.
        #[arg(long)]
        account: String,
        /// The action, `service:Action`.
        #[arg(long)]
        action: String,
        /// The region the request is sent to (`aws:RequestedRegion`).
        #[arg(long)]
        region: Option<String>,
        /// The calling principal's ARN (`aws:PrincipalArn`); default: a workload role.
        #[arg(long)]
        principal: Option<String>,
        /// The resource ARN.
        #[arg(long)]
        resource: Option<String>,
        /// More condition keys, `key=value` (repeatable).
        #[arg(long, value_name = "KEY=VALUE")]
        context: Vec<String>,
        /// Output format (human or json).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Check whether the organization still matches the config: exit 0 if it does, 2 if it
    /// drifted, 1 on error. Never prompts.
    Drift {
        /// Environment name.
        #[arg(long)]
        env: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}
