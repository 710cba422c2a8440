//! Output: plans and drift in human, JSON and Markdown form, apply outcomes, request statistics, and config
//! error reports; one line per failure class, and an apply's retry and step lines (`failure.rs`). The only module that decides layout and colour, and, with the plan file, the
//! only one that produces serialized output.
//!
//! Every value that came from AWS (names, descriptions, emails, error messages) passes through
//! [`visible`] (`escape.rs`) before it reaches a terminal; Markdown's escaping includes it.
//!
//! Architecture invariant: renders what it is given; never reads config or AWS.

mod access_proof;
mod config_errors;
mod drift;
mod effective_check;
mod escape;
mod failure;
pub mod graph;
mod graph_plan;
mod human;
mod json;
mod markdown;
pub mod observe;
mod outcome;
mod refusals;
mod replay;
pub mod sarif;
mod stats;
mod validate;

pub use access_proof::{
    access_proof_human, access_proof_json, access_proof_markdown, access_proof_markdown_opener,
};
pub use config_errors::config_errors;
pub use drift::{drift_human, drift_item, drift_json, drift_markdown, drifted};
pub use effective_check::{effective_human, effective_json, effective_markdown};
pub use escape::{is_hostile, visible, visible_lines};
pub use failure::{failure_line, retry_line, sdk_retry_line, step_line, FailureContext};
pub use graph_plan::{affected_graph, collapse, plan_diagram_markdown, MAX_NODES};
pub use human::{plan_human, refusals_human};
pub use json::{outcome_json, plan_json, PLAN_FORMAT_VERSION};
pub use markdown::{plan_markdown, plan_markdown_with, MAX_COMMENT_CHARS};
pub use outcome::outcome_human;
pub use refusals::{refusals_json, refusals_markdown};
pub use replay::{replay_human, replay_json, replay_markdown, replay_markdown_opener};
pub use stats::{stats_human, walk_costs_human, WalkCost};
pub use validate::{explain_json, validation_human, validation_json};

/// Output styling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub(crate) fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}
