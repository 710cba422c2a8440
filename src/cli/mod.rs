//! The command line: clap types, the resolve step that turns them into settings, the
//! commands, and the one place that picks exit codes ([`ExitStatus`]).
//!
//! Architecture invariant: thin. Every decision lives in `config`, `plan`, `apply`; every
//! layout in `render`; every AWS call in `live`.

mod access_proof;
mod apply;
mod args;
mod commands;
mod drift;
mod explain;
pub mod files;
mod graph;
mod import;
mod observe;
mod plan;
mod progress;
mod replay;
mod report;
mod suggest;
mod tooling;
mod validate;

pub use args::Cli;
pub use report::run;

/// How a run ended. Converted to a process exit code in `main` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done; with `--detailed-exitcode`, also "no changes".
    Success,
    /// An error (config, AWS, refusal).
    Failure,
    /// With `--detailed-exitcode`: there are changes.
    Changes,
    /// `apply FILE`: the saved plan is stale or was modified (planning again makes other
    /// changes); nothing was written.
    StalePlan,
    /// `observe`: the deployer or a break-glass principal was denied by an organization policy.
    ProtectedDenied,
    /// `plan --fail-on-new-access`: the access proof did not say PROVED.
    NewAccess,
    /// `--replay-fail-on-deny`: the CloudTrail replay found requests the change newly denies.
    NewlyDenied,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes | ExitStatus::ProtectedDenied => 2,
            ExitStatus::StalePlan | ExitStatus::NewAccess | ExitStatus::NewlyDenied => 3,
        }
    }
}
