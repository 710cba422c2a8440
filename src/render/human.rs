//! The human plan: changes grouped by target (then by policy), deletions marked plainly, a
//! summary line at the end; a refused plan (lockouts grouped by principal and cause); one step
//! in a few words. Reads correctly without colour. Config errors, `--stats` and an apply's
//! outcome are in `config_errors.rs`, `stats.rs` and `outcome.rs`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape::visible;
use super::Style;
use crate::model::TargetRef;
use crate::plan::{Change, Group, Plan, Refused, Warning};

fn symbol(c: &Change) -> (&'static str, &'static str) {
    match c {
        Change::EnablePolicyType { .. }
        | Change::CreateOu { .. }
        | Change::CreatePolicy { .. }
        | Change::CreateAccount { .. }
        | Change::Attach { .. } => ("+", "32"),
        Change::UpdatePolicy { .. }
        | Change::MoveAccount { .. }
        | Change::DeployBoundary { create: false, .. } => ("~", "33"),
        Change::DeployBoundary { .. } | Change::AttachRoleBoundary { .. } => ("+", "32"),
        Change::DeleteOu { .. }
        | Change::DeletePolicy { .. }
        | Change::Detach { .. }
        | Change::DisablePolicyType { .. } => ("-", "31"),
    }
}

pub(crate) fn describe(c: &Change) -> String {
    match c {
        Change::EnablePolicyType { policy_type } => format!(
            "enable the {policy_type} type on the root ({})",
            policy_type.api_name()
        ),
        Change::DisablePolicyType { policy_type } => format!(
            "DISABLE the {policy_type} type on the root ({}); AWS detaches what is left of it",
            policy_type.api_name()
        ),
        Change::CreateOu { path } => format!("create OU {path}"),
        Change::DeployBoundary {
            boundary,
            arn,
            create: true,
            ..
        } => format!("create boundary {boundary} ({arn})"),
        Change::DeployBoundary { boundary, arn, .. } => {
            format!("update boundary {boundary} ({arn}): new default version")
        }
        Change::AttachRoleBoundary { boundary, role, .. } => {
            format!("put boundary {boundary} on role {role}")
        }
        Change::CreateAccount { key, email, ou } => {
            format!("create account {key} <{email}> in {ou}")
        }
        Change::DeleteOu { path, id } => format!("DELETE OU {path} ({id})"),
        Change::MoveAccount { key, from, to, .. } => {
            format!("move account {key} from {from} to {to}")
        }
        Change::CreatePolicy {
            name, policy_type, ..
        } => format!("create {policy_type} {name}"),
        Change::UpdatePolicy {
            name,
            policy_type,
            id,
            adopt: true,
            ..
        } => format!("ADOPT {policy_type} {name} ({id}): it exists unmarked; guardrail writes its ownership marker and manages it from now on"),
        Change::UpdatePolicy {
            name,
            policy_type,
            id,
            ..
        } => format!("update {policy_type} {name} ({id})"),
        Change::DeletePolicy {
            name,
            policy_type,
            id,
        } => format!("DELETE {policy_type} {name} ({id})"),
        Change::Attach {
            policy,
            policy_type,
            ..
        } => format!("attach {policy_type} {policy}"),
        Change::Detach {
            policy,
            policy_type,
            ..
        } => format!("DETACH {policy_type} {policy}"),
    }
}

/// Each line of `text` (a diff or a document, whose strings came from AWS) escaped, padded and
/// coloured by its first character.
fn indent(text: &str, pad: &str, style: Style) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = visible(line);
        let line = line.as_ref();
        let colored = match line.chars().next() {
            Some('+') if !line.starts_with("+++") => style.paint("32", line),
            Some('-') if !line.starts_with("---") => style.paint("31", line),
            Some('@') => style.paint("36", line),
            _ => line.to_owned(),
        };
        let _ = writeln!(out, "{pad}{colored}");
    }
    out
}

pub(crate) fn group_title(g: &Group, plan: &Plan) -> String {
    match g {
        Group::Policy(name) => format!("policy {name}"),
        Group::Target(TargetRef::Account(id)) => match plan.account_names.get(id) {
            Some(name) => format!("account {name} ({id})"),
            None => format!("account {id}"),
        },
        Group::Target(t) => t.to_string(),
    }
}

fn size_line(size: usize, limit: usize) -> String {
    format!(
        "({size} of {limit} characters minified, {} left)",
        limit.saturating_sub(size)
    )
}

/// The plan for people.
pub fn plan_human(env: &str, plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "guardrail plan for environment `{env}` (organization {}, management account {})",
        visible(&plan.org_id),
        visible(&plan.management_account)
    );
    change_lines(&mut out, plan, style);
    effect_lines(&mut out, plan, style);
    if let Some(p) = &plan.access_proof {
        out.push_str(&super::access_proof::access_proof_human(p, style));
    }
    headroom_lines(&mut out, plan, style);
    audit_lines(&mut out, plan, style);
    warning_lines(&mut out, plan, style);
    let _ = writeln!(out);
    out.push_str(&summary_line(plan));
    out.push('\n');
    out
}

/// The changes, grouped by target (then by policy).
fn change_lines(out: &mut String, plan: &Plan, style: Style) {
    let mut groups: BTreeMap<Group, Vec<&Change>> = BTreeMap::new();
    for c in &plan.changes {
        groups.entry(c.group()).or_default().push(c);
    }
    for (g, changes) in &groups {
        let _ = writeln!(
            out,
            "\n  {}",
            style.paint("1", &visible(&group_title(g, plan)))
        );
        for c in changes {
            let (sym, color) = symbol(c);
            let _ = writeln!(
                out,
                "    {} {}",
                style.paint(color, sym),
                visible(&describe(c))
            );
            change_detail(out, c, style);
        }
    }
}

/// Under a change: a new policy's size and document, a boundary's or an updated policy's diff.
fn change_detail(out: &mut String, c: &Change, style: Style) {
    match c {
        Change::CreatePolicy {
            pretty,
            content,
            size_limit,
            ..
        } => {
            let _ = writeln!(out, "      {}", size_line(content.len(), *size_limit));
            out.push_str(&indent(pretty, "      + ", Style::default()));
        }
        Change::DeployBoundary {
            diff: Some(d),
            document,
            ..
        } => {
            let _ = writeln!(out, "      ({} characters)", document.len());
            out.push_str(&indent(d, "      ", style));
        }
        Change::UpdatePolicy {
            description,
            content_diff,
            new_content,
            size_limit,
            ..
        } => {
            if let Some((old, new)) = description {
                let line = format!("description: {old:?} -> {new:?}");
                let _ = writeln!(out, "      {}", visible(&line));
            }
            if let Some(d) = content_diff {
                if let Some(n) = new_content {
                    let _ = writeln!(out, "      {}", size_line(n.len(), *size_limit));
                }
                out.push_str(&indent(d, "      ", style));
            }
        }
        _ => {}
    }
}

/// What changes for requests: the probe decisions that flip.
fn effect_lines(out: &mut String, plan: &Plan, style: Style) {
    if plan.effects.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n  {}",
        style.paint("1", "what changes for requests (probe decisions that flip)")
    );
    for e in &plan.effects {
        let arrow = if e.denied_after {
            style.paint("31", "now denied")
        } else {
            style.paint("32", "now allowed")
        };
        let request = format!(
            "{}: {} in {} by {}",
            e.target, e.action, e.region, e.principal
        );
        let was = format!("was {}, will be {}", e.before, e.after);
        let _ = writeln!(
            out,
            "    {} {}: {arrow}; {}",
            if e.denied_after { "-" } else { "+" },
            visible(&request),
            visible(&was)
        );
    }
}

/// Each target's slots and characters left after the plan.
fn headroom_lines(out: &mut String, plan: &Plan, style: Style) {
    if plan.headroom.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n  {}", style.paint("1", "headroom after the plan"));
    for h in &plan.headroom {
        let chars = h
            .chars_left
            .map(|c| {
                format!(
                    ", {c} characters left in its fullest managed {}",
                    h.policy_type
                )
            })
            .unwrap_or_default();
        let target = h.target.to_string();
        let _ = writeln!(
            out,
            "    {}: {} of {} {} slots used{chars}",
            visible(&target),
            h.slots_used,
            h.slots_limit,
            h.policy_type
        );
    }
}

/// Roles and users outside their boundary.
fn audit_lines(out: &mut String, plan: &Plan, style: Style) {
    if plan.audit.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n  {}",
        style.paint(
            "1",
            &format!("roles outside their boundary ({})", plan.audit.len())
        )
    );
    for f in &plan.audit {
        let _ = writeln!(out, "    ! {}", visible(&audit_text(f)));
    }
}

fn warning_lines(out: &mut String, plan: &Plan, style: Style) {
    if plan.warnings.is_empty() {
        return;
    }
    let _ = writeln!(out);
    for w in &plan.warnings {
        let _ = writeln!(
            out,
            "{} {}",
            style.paint("33", "warning:"),
            visible(&warning_text(w))
        );
    }
}

pub(crate) fn warning_text(w: &Warning) -> String {
    match w {
        Warning::AccountNotInConfig { id, name, path } => {
            format!("account {name} ({id}) in {path} is not in the config; it is left where it is")
        }
        Warning::AccountNotInOrganization { key, id } => {
            format!("[accounts.{key}] names account {id}, which is not in this organization; nothing is planned for it")
        }
        Warning::Lint { subject, code, severity, statement, message } => {
            let st = statement.as_ref().map(|s| format!(" statement {s}")).unwrap_or_default();
            format!("{code} ({severity}) {subject}{st}: {message}")
        }
        Warning::ControlTower { policies } => format!(
            "this organization is governed by AWS Control Tower ({policies} aws-guardrails-* SCPs); guardrail leaves Control Tower's policies alone"
        ),
        Warning::ControlTowerMove { key, id, from, to } => format!(
            "account {key} ({id}) moves from {from} to {to}, and Control Tower has registered one of them: update the account in Control Tower afterwards so its enrollment and baseline follow"
        ),
        Warning::UnmanagedPolicy { name, id, policy_type, targets } => format!(
            "{policy_type} {name} ({id}) is not managed by guardrail (attached to {targets} targets); it is never touched but counts against the limits"
        ),
        Warning::AccountNotActive { id, name, state, path } => format!(
            "account {name} ({id}) in {path} is {state}; it is shown but never moved or re-attached"
        ),
        Warning::OuKept { path, account } => format!(
            "OU {path} is not in the config but is kept: it holds account {account}, which cannot be moved"
        ),
        Warning::LegacyMarker { name, id } => format!(
            "policy {name} ({id}) carries guardrail's first-version marker, which names no environment; it is left alone (name it in the config to adopt it)"
        ),
    }
}

pub(crate) fn audit_text(f: &crate::plan::AuditFinding) -> String {
    let kind = if f.is_user { "user" } else { "role" };
    match &f.found {
        None => format!(
            "{kind} {} in account {} has no permissions boundary (boundary {})",
            f.role, f.account, f.boundary
        ),
        Some(other) => format!(
            "{kind} {} in account {} carries boundary {other} instead of {}",
            f.role, f.account, f.boundary
        ),
    }
}

/// `Plan: ...` summary line.
pub fn summary_line(plan: &Plan) -> String {
    if plan.is_empty() {
        return "No changes. The organization matches the config.".to_owned();
    }
    let s = plan.summary();
    let boundaries = if s.boundaries_to_create + s.boundaries_to_update + s.roles_to_bound > 0 {
        format!(
            " Boundaries: {} to create, {} to update; {} role(s) to put under a boundary.",
            s.boundaries_to_create, s.boundaries_to_update, s.roles_to_bound
        )
    } else {
        String::new()
    };
    let types = if s.types_to_enable + s.types_to_disable > 0 {
        format!(
            " Policy types: {} to enable, {} to disable.",
            s.types_to_enable, s.types_to_disable
        )
    } else {
        String::new()
    };
    let boundaries = boundaries + &types;
    boundaries_suffix(format!(
        "Plan: {} OU(s) to create, {} to delete; {} account(s) to create, {} to move; {} policy(ies) to create, {} to update, {} to delete; {} attachment(s) to add, {} to remove.",
        s.ous_to_create,
        s.ous_to_delete,
        s.accounts_to_create,
        s.accounts_to_move,
        s.policies_to_create,
        s.policies_to_update,
        s.policies_to_delete,
        s.attachments_to_add,
        s.attachments_to_remove
    ), &boundaries)
}

fn boundaries_suffix(mut line: String, extra: &str) -> String {
    line.push_str(extra);
    line
}

/// Lockouts of one principal by one cause, with the distinct actions, resources and accounts
/// in the order met.
pub(crate) struct LockoutGroup<'a> {
    pub principal: &'a str,
    pub by: &'a str,
    pub actions: Vec<&'a str>,
    pub resources: Vec<&'a str>,
    pub accounts: Vec<&'a str>,
}

/// [`group_lockouts`] for the lockout proof's findings (`validate`'s report, SARIF).
pub(crate) fn group_proved_lockouts(
    lockouts: &[crate::plan::verify::Lockout],
) -> Vec<LockoutGroup<'_>> {
    group_lockouts(lockouts.iter().map(|l| {
        (
            l.principal.as_str(),
            l.by.as_str(),
            l.action.as_str(),
            l.resource.as_str(),
            l.account.as_str(),
        )
    }))
}

/// Groups `(principal, cause, action, resource, account)` lockouts by principal and cause, so
/// one edit reads as a few lines, not hundreds.
pub(crate) fn group_lockouts<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str, &'a str, &'a str, &'a str)>,
) -> Vec<LockoutGroup<'a>> {
    let mut out: Vec<LockoutGroup<'a>> = Vec::new();
    for (principal, by, action, resource, account) in items {
        let i = match out
            .iter()
            .position(|g| g.principal == principal && g.by == by)
        {
            Some(i) => i,
            None => {
                out.push(LockoutGroup {
                    principal,
                    by,
                    actions: Vec::new(),
                    resources: Vec::new(),
                    accounts: Vec::new(),
                });
                out.len() - 1
            }
        };
        let g = &mut out[i];
        for (list, item) in [
            (&mut g.actions, action),
            (&mut g.resources, resource),
            (&mut g.accounts, account),
        ] {
            if !item.is_empty() && !list.contains(&item) {
                list.push(item);
            }
        }
    }
    out
}

/// A refused plan: each reason on one line, lockouts grouped by principal and cause.
pub fn refusals_human(refused: &Refused, style: Style) -> String {
    let mut out = String::new();
    for (r, _) in super::refusals::grouped(refused) {
        let _ = writeln!(
            out,
            "{} {}",
            style.paint("31;1", "refused:"),
            visible(&r.to_string())
        );
    }
    let _ = writeln!(
        out,
        "Nothing was changed: no write was sent to AWS (only reads)."
    );
    out
}

/// One step in a few words, its target included, escaped for a terminal:
/// `attach SCP gr-base to OU Workloads`.
pub fn step_summary(c: &Change) -> String {
    let target = match c {
        Change::Attach { target, .. } => format!(" to {target}"),
        Change::Detach { target, .. } => format!(" from {target}"),
        _ => String::new(),
    };
    visible(&format!("{}{target}", describe(c))).into_owned()
}
