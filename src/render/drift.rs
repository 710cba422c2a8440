//! Drift: the same diff as a plan, told from the organization's side ("an SCP was edited in
//! the console") for the nightly job, in human, JSON and Markdown.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::escape::{visible, visible_lines};
use crate::model::TargetRef;
use crate::plan::{Change, Plan};

fn target_name(t: &TargetRef, plan: &Plan) -> String {
    match t {
        TargetRef::Account(id) => match plan.account_names.get(id) {
            Some(n) => format!("account {n} ({id})"),
            None => format!("account {id}"),
        },
        other => other.to_string(),
    }
}

/// `(kind, sentence)` for one difference between live and config.
pub fn drift_item(c: &Change, plan: &Plan) -> (&'static str, String) {
    match c {
        Change::EnablePolicyType { policy_type } => (
            "policy_type_disabled",
            format!("the {policy_type} type is not enabled on the root, but the config uses it"),
        ),
        Change::DisablePolicyType { policy_type } => (
            "policy_type_enabled",
            format!("the {policy_type} type is enabled on the root, but the config disables it (organization.disable_policy_types)"),
        ),
        Change::UpdatePolicy { name, policy_type, content_diff: Some(_), .. } => {
            ("policy_edited", format!("{policy_type} {name} was edited outside guardrail; its content differs from the config"))
        }
        Change::UpdatePolicy { name, policy_type, adopt: true, .. } => {
            ("policy_not_adopted", format!("{policy_type} {name} exists but is not marked as this environment's; plan adopts it"))
        }
        Change::UpdatePolicy { name, policy_type, .. } => {
            ("policy_description_changed", format!("{policy_type} {name}'s description differs from the config"))
        }
        Change::Detach { policy, policy_type, target } => (
            "attachment_added",
            format!("{policy_type} {policy} is attached to {} but the config does not list it there", target_name(target, plan)),
        ),
        Change::Attach { policy, policy_type, target } => (
            "attachment_removed",
            format!("{policy_type} {policy} is missing from {}, where the config attaches it", target_name(target, plan)),
        ),
        Change::MoveAccount { key, id, from, to } => (
            "account_moved",
            format!("account {key} ({id}) is in {from}; the config places it in {to}"),
        ),
        Change::CreateAccount { key, email, ou } => (
            "account_missing",
            format!("account {key} <{email}> is in the config (in {ou}) but does not exist"),
        ),
        Change::DeployBoundary { boundary, account, create: true, .. } => (
            "boundary_missing",
            format!("boundary {boundary} does not exist in account {account}"),
        ),
        Change::DeployBoundary { boundary, account, .. } => (
            "boundary_edited",
            format!("boundary {boundary} in account {account} differs from the config (edited outside guardrail)"),
        ),
        Change::AttachRoleBoundary { boundary, account, role, .. } => (
            "role_without_boundary",
            format!("role {role} in account {account} lacks boundary {boundary}"),
        ),
        Change::DeleteOu { path, id } => ("ou_added", format!("OU {path} ({id}) exists but is not in the config")),
        Change::CreateOu { path } => ("ou_removed", format!("OU {path} is in the config but does not exist")),
        Change::CreatePolicy { name, policy_type, .. } => {
            ("policy_missing", format!("{policy_type} {name} is in the config but does not exist"))
        }
        Change::DeletePolicy { name, policy_type, id } => (
            "policy_orphaned",
            format!("{policy_type} {name} ({id}) was created by guardrail but the config no longer names it"),
        ),
    }
}

/// Whether drift found anything: a change to make, a role outside its boundary, or an
/// unmanaged policy on a target the config describes (unless `ignore_unmanaged` names it).
pub fn drifted(plan: &Plan) -> bool {
    !plan.is_empty() || !plan.audit.is_empty() || !unmanaged(plan).is_empty()
}

/// One sentence per unmanaged attachment that drift reports.
pub fn unmanaged(plan: &Plan) -> Vec<String> {
    plan.unmanaged
        .iter()
        .filter(|u| !u.ignored)
        .map(|u| {
            format!(
                "{} {} ({}) is attached to {} but not in the config (made outside guardrail); guardrail never detaches it: add it to the config, detach it, or list it in organization.ignore_unmanaged",
                u.policy_type,
                u.policy,
                u.id,
                target_name(&u.target, plan)
            )
        })
        .collect()
}

fn drift_count(plan: &Plan) -> usize {
    plan.changes.len() + plan.audit.len() + unmanaged(plan).len()
}

pub fn drift_human(env: &str, plan: &Plan) -> String {
    let mut out = String::new();
    if !drifted(plan) {
        let _ = writeln!(
            out,
            "No drift: organization {} matches environment `{env}`.",
            visible(&plan.org_id)
        );
        return out;
    }
    let _ = writeln!(
        out,
        "Drift in organization {} against environment `{env}`:",
        visible(&plan.org_id)
    );
    for c in &plan.changes {
        let _ = writeln!(out, "  - {}", visible(&drift_item(c, plan).1));
        if let Change::UpdatePolicy {
            content_diff: Some(d),
            ..
        } = c
        {
            for line in d.lines() {
                let _ = writeln!(out, "      {}", visible(line));
            }
        }
    }
    for f in &plan.audit {
        let _ = writeln!(out, "  - {}", visible(&super::human::audit_text(f)));
    }
    for u in unmanaged(plan) {
        let _ = writeln!(out, "  - {}", visible(&u));
    }
    let _ = writeln!(
        out,
        "\n{} drift(s). `guardrail plan --env {env}` shows the changes that revert them.",
        drift_count(plan)
    );
    out
}

pub fn drift_json(env: &str, plan: &Plan) -> Value {
    json!({
        "format_version": super::PLAN_FORMAT_VERSION,
        "environment": env,
        "organization_id": plan.org_id,
        "drifted": drifted(plan),
        "audit": plan.audit.iter().map(|f| json!({"kind": match (f.is_user, f.found.is_some()) { (false, true) => "role_with_other_boundary", (false, false) => "role_without_boundary", (true, true) => "user_with_other_boundary", (true, false) => "user_without_boundary" }, "boundary": f.boundary, "account_id": f.account, "role": f.role, "role_arn": f.role_arn, "found": f.found, "message": super::human::audit_text(f)})).collect::<Vec<_>>(),
        "unmanaged": plan.unmanaged.iter().filter(|u| !u.ignored).map(|u| json!({"kind": "unmanaged_attachment", "policy": u.policy, "policy_id": u.id, "policy_type": u.policy_type.api_name(), "target": super::json::target_json_with_id(&u.target, plan)})).collect::<Vec<_>>(),
        "drift": plan.changes.iter().map(|c| {
            let (kind, message) = drift_item(c, plan);
            let mut v = json!({"kind": kind, "message": message, "change": super::json::change_json_with_ids(c, plan)});
            if let Change::UpdatePolicy { content_diff: Some(d), .. } = c {
                v["diff"] = json!(d);
            }
            v
        }).collect::<Vec<_>>(),
    })
}

pub fn drift_markdown(env: &str, plan: &Plan) -> String {
    let mut out = String::new();
    if !drifted(plan) {
        let _ = writeln!(
            out,
            "### guardrail drift: `{env}`\n\nNo drift: the organization matches the config."
        );
        return out;
    }
    let _ = writeln!(
        out,
        "### guardrail drift: `{env}`\n\n{} drift(s) in organization `{}`:\n",
        drift_count(plan),
        visible(&plan.org_id)
    );
    for c in &plan.changes {
        let _ = writeln!(out, "- {}", super::markdown::escape(&drift_item(c, plan).1));
    }
    for f in &plan.audit {
        let _ = writeln!(
            out,
            "- {}",
            super::markdown::escape(&super::human::audit_text(f))
        );
    }
    for u in unmanaged(plan) {
        let _ = writeln!(out, "- {}", super::markdown::escape(&u));
    }
    for c in &plan.changes {
        if let Change::UpdatePolicy {
            name,
            content_diff: Some(d),
            ..
        } = c
        {
            let _ = writeln!(
                out,
                "\n<details><summary>{}</summary>\n\n```diff\n{}```\n</details>",
                super::markdown::escape(name),
                visible_lines(d)
            );
        }
    }
    super::markdown::cap(out)
}
