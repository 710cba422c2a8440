//! `guardrail drift`: the plan read as drift (what changed out of band), with what AWS itself
//! finds invalid in the effective management policies.

use super::args::{Cli, Format};
use super::commands::emit;
use super::plan::{load_and_plan, Planned};
use super::ExitStatus;
use crate::live::{self, aws::ConnectOptions};
use crate::render;

pub(super) async fn drift_cmd(
    cli: &Cli,
    connect: &ConnectOptions,
    env: &str,
    format: Format,
) -> anyhow::Result<ExitStatus> {
    let backend = super::report::connect(connect).await?;
    let Planned { plan, live, .. } = match load_and_plan(cli, &backend, env, format).await? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    // What AWS itself found invalid in the effective management policies (docs/plan-json.md,
    // `effective_policies`).
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
