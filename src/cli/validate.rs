//! `guardrail validate`: the config checked offline (its `[[assert]]`s and lockouts), with
//! `--replay`; SARIF goes through `tooling`.

use anyhow::bail;

use super::args::{Cli, ReplayArgs, ValidateFormat};
use super::commands::{emit, load_desired};
use super::ExitStatus;
use crate::{plan, render};

pub(super) fn validate_cmd(
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
