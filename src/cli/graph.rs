//! `guardrail graph`: the whole tree the config describes, with each target's guardrails and
//! policies, as Mermaid or DOT on stdout. Offline: drawn from the config alone (no AWS option,
//! no request), so it works before the first apply and in any CI job.

use super::args::{Cli, GraphFormat};
use super::commands::{emit, load_desired};
use super::ExitStatus;
use crate::render::graph;

pub(super) fn graph_cmd(cli: &Cli, env: &str, format: GraphFormat) -> anyhow::Result<ExitStatus> {
    let desired = match load_desired(cli, env)? {
        Ok(d) => d,
        Err(status) => return Ok(status),
    };
    let g = graph::config_graph(&desired);
    emit(&match format {
        GraphFormat::Mermaid => graph::mermaid(&g),
        GraphFormat::Dot => graph::dot(&g),
    })?;
    Ok(ExitStatus::Success)
}
