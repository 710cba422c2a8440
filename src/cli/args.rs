//! clap types: what the user typed, nothing more.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `--concurrency`: at least one request in flight; more than this only queues at AWS's rates.
pub const CONCURRENCY: RangeInclusive<usize> = 1..=64;
/// `--rate-scale`: from a thousandth of AWS's rates (a slow, polite walk) to a million times
/// them (an emulator). Outside it the limiter's waits over- or underflow.
pub const RATE_SCALE: RangeInclusive<f64> = 0.001..=1e6;

/// Parses `--concurrency` within [`CONCURRENCY`].
fn concurrency(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number"))?;
    if CONCURRENCY.contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "{n} is not in {}..={}",
            CONCURRENCY.start(),
            CONCURRENCY.end()
        ))
    }
}

/// Parses `--rate-scale` within [`RATE_SCALE`] (NaN and infinities are not in it).
fn rate_scale(s: &str) -> Result<f64, String> {
    let f: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if RATE_SCALE.contains(&f) {
        Ok(f)
    } else {
        Err(format!(
            "{s} is not within [{}, {}]",
            RATE_SCALE.start(),
            RATE_SCALE.end()
        ))
    }
}

/// Keep an AWS Organization's guardrails (OUs, accounts, SCPs) as code.
#[derive(Debug, Parser)]
#[command(name = "guardrail", version, about)]
pub struct Cli {
    /// Directory holding `<env>.toml` files.
    #[arg(long, global = true, default_value = "environments")]
    pub environments: PathBuf,
    /// On an error, also print the technical detail (the SDK's description), and log
    /// guardrail's debug messages (as RUST_LOG=guardrail=debug).
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// What an offline command reads of the AWS options: nothing it offers, so the defaults
/// (it never connects; `explain` without `--live` included).
const OFFLINE: AwsConn = AwsConn {
    profile: None,
    endpoint_url: None,
    stats: false,
    request_timeout: crate::live::aws::REQUEST_TIMEOUT.as_secs(),
    concurrency: DEFAULT_CONCURRENCY,
    rate_scale: 1.0,
};

impl Cli {
    /// The AWS options of the command: those typed for an online command, the defaults for
    /// an offline one (`validate`, `graph`), which offers none and never connects.
    pub fn aws(&self) -> &AwsConn {
        match &self.command {
            Command::Import { aws, .. }
            | Command::Plan { aws, .. }
            | Command::Apply { aws, .. }
            | Command::Drift { aws, .. }
            | Command::Observe { aws, .. }
            | Command::Promote { aws, .. } => &aws.conn,
            Command::Suggest(what) => &what.aws().conn,
            Command::Explain { aws, .. } => aws,
            Command::Validate { .. } | Command::Graph { .. } | Command::Tool(_) => &OFFLINE,
        }
    }

    /// `--region` of an online command. `explain`'s `--region` is the request's region, not
    /// AWS's: `explain --live` reads in the region of the credential chain (AWS_REGION, the
    /// profile), else us-east-1, where Organizations lives.
    pub fn aws_region(&self) -> Option<&str> {
        match &self.command {
            Command::Import { aws, .. }
            | Command::Plan { aws, .. }
            | Command::Apply { aws, .. }
            | Command::Drift { aws, .. }
            | Command::Observe { aws, .. }
            | Command::Promote { aws, .. } => aws.region.as_deref(),
            Command::Suggest(what) => what.aws().region.as_deref(),
            Command::Explain { .. }
            | Command::Validate { .. }
            | Command::Graph { .. }
            | Command::Tool(_) => None,
        }
    }
}

/// `--concurrency`'s default.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How to reach AWS: offered by the commands that read or write the organization only
/// (`import`, `plan`, `apply`, `drift`, and `explain` for `--live`), never by the offline ones.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "AWS options")]
pub struct AwsArgs {
    /// AWS region (Organizations lives in us-east-1, the default when none is configured).
    #[arg(long)]
    pub region: Option<String>,
    #[command(flatten)]
    pub conn: AwsConn,
}

/// The AWS options but `--region` (which `explain` uses for the request it explains).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "AWS options")]
pub struct AwsConn {
    /// AWS profile to use (default: AWS_PROFILE, else the standard credential chain). Refused
    /// when AWS_ACCESS_KEY_ID is also set, since the SDK would use the keys instead.
    #[arg(long)]
    pub profile: Option<String>,
    /// Endpoint URL for an emulator such as moto (also AWS_ENDPOINT_URL).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Print the AWS requests made, by operation, to stderr.
    #[arg(long)]
    pub stats: bool,
    /// Seconds one AWS request may wait for its answer before it is tried again (1 to 600).
    #[arg(long, default_value_t = crate::live::aws::REQUEST_TIMEOUT.as_secs(), value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub request_timeout: u64,
    /// Organizations requests in flight at once (1 to 64).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = concurrency)]
    pub concurrency: usize,
    /// Multiply AWS's documented request rates by this (1 against AWS; an emulator such as
    /// moto can take far more), from 0.001 to 1000000.
    #[arg(
        long,
        env = "GUARDRAIL_RATE_SCALE",
        default_value_t = 1.0,
        value_parser = rate_scale
    )]
    pub rate_scale: f64,
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
        #[command(flatten)]
        aws: AwsArgs,
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
        /// Exit 3 unless the access proof says PROVED: no request is newly allowed anywhere
        /// the change reaches (NEW ACCESS or UNKNOWN fail). See docs/access-proof.md.
        #[arg(long)]
        fail_on_new_access: bool,
        /// Also save the plan, with digests of the config and the live state, for `apply FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        replay: ReplayArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Make the organization match the config: show the plan, confirm, apply it safely.
    Apply {
        /// Environment name.
        #[arg(long)]
        env: String,
        /// A plan saved by `plan --out`: applied only if planning again now makes exactly the
        /// same changes (exit 3 otherwise).
        plan_file: Option<PathBuf>,
        /// Do not ask for confirmation (required without a terminal, unless a plan file is given).
        #[arg(long)]
        auto_approve: bool,
        /// Seconds to wait for another apply's lock on the organization.
        #[arg(long, default_value_t = 0, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
        lock_timeout: u64,
        /// Seconds a lock stays valid after it was last written: the run renews it between
        /// writes, so it lapses this long after a run that died. Longer than any single step.
        #[arg(long, default_value_t = 3_600, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(60..=86_400))]
        lock_ttl: u64,
        /// Remove every guardrail lock tag from the root first (a lock left by a killed run).
        /// Check that no other apply is running.
        #[arg(long)]
        break_lock: bool,
        /// Output format on stdout: `human` prints the plan, then the outcome; `json` only the
        /// outcome. Progress goes to stderr.
        #[arg(long, value_enum, default_value_t = ResultFormat::Human)]
        format: ResultFormat,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Offline: lint every document, check every [[assert]], prove the deployer and break-glass
    /// principals are not locked out. Exit 0 when clean, 1 otherwise. Sends no request.
    Validate {
        /// Environment name.
        #[arg(long)]
        env: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ValidateFormat::Human)]
        format: ValidateFormat,
        #[command(flatten)]
        replay: ReplayArgs,
    },
    /// Offline: is this request denied in this account by the configured SCPs, and by what?
    Explain {
        /// Environment name.
        #[arg(long)]
        env: String,
        /// The account: its config key or id.
        #[arg(long)]
        account: String,
        /// The action, `service:Action` (required unless `--policy-type` is given).
        #[arg(long, required_unless_present = "policy_type")]
        action: Option<String>,
        /// Instead of a request: print the account's effective policy of this management type
        /// (its API name: `TAG_POLICY`, `BACKUP_POLICY`, `AISERVICES_OPT_OUT_POLICY`,
        /// `DECLARATIVE_POLICY_EC2`, ...), merged from the root, its OUs and the account by
        /// AWS's inheritance operators.
        #[arg(long, value_name = "TYPE", conflicts_with = "action")]
        policy_type: Option<String>,
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
        #[arg(long, value_enum, default_value_t = ResultFormat::Human)]
        format: ResultFormat,
        /// Also read the organization and evaluate what will really be attached after an
        /// apply: the config's policies plus every unmanaged policy that stays (reads AWS;
        /// the AWS options apply only then).
        #[arg(long)]
        live: bool,
        /// Used with `--live` only (`--region` above is the request's region).
        #[command(flatten)]
        aws: AwsConn,
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
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// After apply: the access-denied events of the last days (CloudTrail's event history in
    /// each member account, or log files), attributed to the guardrail that denied them. Exit
    /// 0, or 2 when the deployer or a break-glass principal was denied; 1 on error.
    Observe {
        #[command(flatten)]
        args: super::observe::ObserveArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Move a guardrail from stage "canary" to "all" in the config, unless it denied requests
    /// on the canary within `[rollout] min_days`. Then plan and apply as usual.
    Promote {
        #[command(flatten)]
        args: super::observe::PromoteArgs,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Offline: draw the tree the config describes (root, OUs, accounts) with each target's
    /// guardrails and policies, as a Mermaid or Graphviz DOT graph. Sends no request.
    Graph {
        /// Environment name.
        #[arg(long)]
        env: String,
        /// Output format: `mermaid` (GitHub renders it in Markdown) or `dot` (Graphviz).
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Suggest config from how the organization is used (reads AWS, writes nothing):
    /// `service-allowlist`.
    #[command(subcommand)]
    Suggest(super::suggest::Suggest),
    /// `completions`, `man`, `schema` (`tooling.rs`).
    #[command(flatten)]
    Tool(super::tooling::Tool),
}

/// `--replay PATH [--replay-since T] [--replay-until T]` (plan and validate).
#[derive(Debug, Clone, Default, Args)]
pub struct ReplayArgs {
    /// Replay the CloudTrail log files below this directory (`*.json`, `*.json.gz`,
    /// organization-trail folders too) and report the recorded requests the change would
    /// newly deny or allow. Offline: reads files only.
    #[arg(long, value_name = "PATH")]
    pub replay: Option<PathBuf>,
    /// Replay only events at or after this time (RFC 3339, like 2026-11-01T00:00:00Z).
    #[arg(long, value_name = "TIME", requires = "replay", value_parser = crate::replay::parse_time)]
    pub replay_since: Option<time::OffsetDateTime>,
    /// Replay only events before this time (RFC 3339).
    #[arg(long, value_name = "TIME", requires = "replay", value_parser = crate::replay::parse_time)]
    pub replay_until: Option<time::OffsetDateTime>,
    /// Exit 3 when the replay finds any recorded request the change would newly deny (a hard
    /// gate for pipelines).
    #[arg(long, requires = "replay")]
    pub replay_fail_on_deny: bool,
}

/// Each command accepts only the formats it implements (clap refuses the others instead of
/// printing something else): `Format` for plan and drift, `ResultFormat` for apply's
/// outcome and explain, `ValidateFormat` for validate.
///
/// The formats of a result that is not a plan (apply's outcome, explain): there is no
/// Markdown rendering of those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResultFormat {
    Human,
    Json,
}

impl From<ResultFormat> for Format {
    fn from(f: ResultFormat) -> Format {
        match f {
            ResultFormat::Human => Format::Human,
            ResultFormat::Json => Format::Json,
        }
    }
}

/// `validate --format`: its own enum, so a format only validate implements is added here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning: each finding with its rule, level and line.
    Sarif,
}

/// `graph --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

/// `plan` and `drift`: the reports with a Markdown rendering (for a pull request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_options_are_range_checked() {
        assert_eq!(concurrency("8"), Ok(8));
        assert!(concurrency("0").is_err());
        assert!(concurrency("65").is_err());
        assert!(concurrency("-1").is_err());
        assert_eq!(rate_scale("1000"), Ok(1000.0));
        assert_eq!(rate_scale("0.001"), Ok(0.001));
        for bad in ["1e-20", "0", "-1", "NaN", "inf", "1e7", "fast"] {
            assert!(rate_scale(bad).is_err(), "{bad}");
        }
    }
}
