//! `guardrail explain`: one request decided on an account's SCP and RCP path (on the config,
//! or with `--live` on what will really be attached after an apply), or with `--policy-type`
//! the account's effective management policy.

use anyhow::bail;

use super::args::{Cli, Format};
use super::commands::{emit, load_desired, read_live};
use super::ExitStatus;
use crate::live::aws::ConnectOptions;
use crate::model::{Desired, LiveOrg, PolicyType};
use crate::{plan, render};

pub(super) struct ExplainArgs<'a> {
    pub(super) account: &'a str,
    pub(super) action: Option<&'a str>,
    pub(super) policy_type: Option<&'a str>,
    pub(super) region: Option<&'a str>,
    pub(super) principal: Option<&'a str>,
    pub(super) resource: Option<&'a str>,
    pub(super) context: &'a [String],
}

/// `explain`; with `--live`, after reading the organization.
pub(super) async fn explain(
    cli: &Cli,
    connect: &ConnectOptions,
    env: &str,
    args: ExplainArgs<'_>,
    format: Format,
    live: bool,
) -> anyhow::Result<ExitStatus> {
    let live = if live {
        let backend = super::report::connect(connect).await?;
        Some(read_live(cli, &backend, PolicyType::MANAGED.to_vec()).await?)
    } else {
        None
    };
    explain_cmd(cli, env, args, format, live.as_ref())
}

/// Explains one request; with `live`, on what will really be attached after an apply.
fn explain_cmd(
    cli: &Cli,
    env: &str,
    args: ExplainArgs<'_>,
    format: Format,
    live: Option<&LiveOrg>,
) -> anyhow::Result<ExitStatus> {
    let desired = match load_desired(cli, env)? {
        Ok(d) => d,
        Err(s) => return Ok(s),
    };
    let desired = match live {
        Some(live) => plan::projected(&desired, live),
        None => desired,
    };
    if let Some(ty) = args.policy_type {
        return effective_cmd(&desired, env, args.account, ty, format);
    }
    let Some(action) = args.action else {
        bail!("explain needs --action (or --policy-type)");
    };
    let mut context = Vec::new();
    for kv in args.context {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--context takes key=value, not `{kv}`");
        };
        context.push((k.to_owned(), v.to_owned()));
    }
    let (id, levels) = match plan::verify::account_levels(&desired, args.account) {
        Some(x) => x,
        None => bail!(
            "account `{}` is neither a config key nor an account id in environments/{env}.toml",
            args.account
        ),
    };
    let req = plan::verify::request(
        &id,
        action,
        args.region,
        args.principal,
        args.resource,
        &context,
    )?;
    let decision = plan::verify::decide(&levels, &req);
    match format {
        Format::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&render::explain_json(&decision))?
        ))?,
        // The account key and the OUs in the decision may carry what AWS allowed in a name
        // (import keeps it): one line, shown visibly.
        _ => emit(&format!(
            "{}\n",
            render::visible(&format!(
                "{} in account {} ({id}){}{}: {}",
                action,
                args.account,
                args.region.map(|r| format!(" in {r}")).unwrap_or_default(),
                args.principal
                    .map(|p| format!(" by {p}"))
                    .unwrap_or_default(),
                plan::verify::describe_decision(&decision)
            ))
        ))?,
    }
    Ok(ExitStatus::Success)
}

/// `explain --policy-type`: the account's effective management policy (the document on
/// stdout; the levels it came from and the findings on stderr, or all of it as JSON).
fn effective_cmd(
    desired: &Desired,
    env: &str,
    account: &str,
    ty: &str,
    format: Format,
) -> anyhow::Result<ExitStatus> {
    use crate::policy::effective;
    let Some(ty) = PolicyType::from_api_name(ty).filter(|t| !t.is_authorization()) else {
        bail!(
            "`{ty}` is not a management policy type (TAG_POLICY, BACKUP_POLICY, ...); \
             SCPs and RCPs are explained with --action"
        );
    };
    let Some((id, levels)) = effective::account_levels(desired, account, ty) else {
        bail!("account `{account}` is neither a config key nor an account id in environments/{env}.toml");
    };
    let result = effective::effective(&levels);
    let findings: Vec<String> = result.findings.iter().map(|f| f.to_string()).collect();
    if format == Format::Json {
        let levels: Vec<serde_json::Value> = levels
            .iter()
            .map(|l| {
                let names: Vec<&str> = l.policies.iter().map(|p| p.name.as_str()).collect();
                serde_json::json!({"target": l.target, "policies": names})
            })
            .collect();
        let out = serde_json::json!({
            "account": id,
            "policy_type": ty.api_name(),
            "levels": levels,
            "effective_policy": result.document,
            "findings": findings,
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    } else {
        for l in &levels {
            let names: Vec<&str> = l.policies.iter().map(|p| p.name.as_str()).collect();
            let line = format!("{} {}: {}", ty.api_name(), l.target, names.join(", "));
            eprintln!("{}", render::visible(&line));
        }
        for f in &findings {
            eprintln!("warning: {}", render::visible(f));
        }
        emit(&crate::policy::doc::pretty(&result.document))?;
    }
    Ok(ExitStatus::Success)
}
