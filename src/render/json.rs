//! The machine plan: a versioned JSON document, documented in docs/plan-json.md. Fields are
//! only ever added within a `format_version`; a removal or change of meaning bumps it.

use serde_json::{json, Value};

use crate::model::TargetRef;
use crate::plan::{Change, Plan, Warning};

/// The version of the JSON plan schema.
pub const PLAN_FORMAT_VERSION: &str = "1.2";

pub(crate) fn target_json(t: &TargetRef) -> Value {
    match t {
        TargetRef::Root => json!({"kind": "root"}),
        TargetRef::Ou(p) => json!({"kind": "ou", "path": p.to_string()}),
        TargetRef::Account(id) => json!({"kind": "account", "id": id}),
        TargetRef::NewAccount(email) => json!({"kind": "new_account", "email": email}),
    }
}

/// A target as JSON with its AWS id when the plan knows it: the root's and an existing OU's
/// `id` (an account's id is already its `id`).
pub(crate) fn target_json_with_id(t: &TargetRef, plan: &Plan) -> Value {
    let mut v = target_json(t);
    let path = match t {
        TargetRef::Root => Some(crate::model::OuPath::root()),
        TargetRef::Ou(p) => Some(p.clone()),
        _ => None,
    };
    if let Some(id) = path.and_then(|p| plan.ou_ids.get(&p)) {
        v["id"] = json!(id);
    }
    v
}

/// A change as JSON with the AWS ids the plan knows: `policy_id` and the target's `id` for
/// attachments, `from_id` / `to_id` (the OUs' or root's ids) for an account move, the existing
/// parent's `parent_id` for a new OU and `ou_id` for a new account (issue: automation needs
/// the ids, not only names and paths).
pub(crate) fn change_json_with_ids(c: &Change, plan: &Plan) -> Value {
    let mut v = change_json(c);
    match c {
        Change::Attach { policy, target, .. } | Change::Detach { policy, target, .. } => {
            if let Some(id) = plan.policy_ids.get(policy) {
                v["policy_id"] = json!(id);
            }
            v["target"] = target_json_with_id(target, plan);
        }
        Change::MoveAccount { from, to, .. } => {
            for (key, path) in [("from_id", from), ("to_id", to)] {
                if let Some(id) = plan.ou_ids.get(path) {
                    v[key] = json!(id);
                }
            }
        }
        Change::CreateOu { path } => {
            if let Some(id) = path.parent().and_then(|p| plan.ou_ids.get(&p)) {
                v["parent_id"] = json!(id);
            }
        }
        Change::CreateAccount { ou, .. } => {
            if let Some(id) = plan.ou_ids.get(ou) {
                v["ou_id"] = json!(id);
            }
        }
        _ => {}
    }
    v
}

pub(crate) fn change_json(c: &Change) -> Value {
    let mut v = match c {
        Change::EnablePolicyType { policy_type } | Change::DisablePolicyType { policy_type } => {
            json!({"policy_type": policy_type.api_name()})
        }
        Change::CreateOu { path } => json!({"path": path.to_string()}),
        Change::DeployBoundary {
            boundary,
            account,
            arn,
            document,
            create,
            diff,
            ..
        } => json!({
            "boundary": boundary, "account_id": account, "policy_arn": arn, "document": document,
            "create": create, "diff": diff, "size": document.len(),
        }),
        Change::AttachRoleBoundary {
            boundary,
            account,
            role,
            arn,
            ..
        } => json!({
            "boundary": boundary, "account_id": account, "role": role, "policy_arn": arn,
        }),
        Change::CreateAccount { key, email, ou } => {
            json!({"account": key, "email": email, "ou": ou.to_string()})
        }
        Change::DeleteOu { path, id } => json!({"path": path.to_string(), "id": id}),
        Change::MoveAccount { id, key, from, to } => {
            json!({"account_id": id, "account": key, "from": from.to_string(), "to": to.to_string()})
        }
        Change::CreatePolicy {
            name,
            policy_type,
            description,
            content,
            size_limit,
            ..
        } => json!({
            "policy": name, "policy_type": policy_type.api_name(), "description": description,
            "content": content, "size": content.len(), "size_limit": size_limit
        }),
        Change::UpdatePolicy {
            name,
            id,
            policy_type,
            description,
            content_diff,
            new_description,
            new_content,
            size_limit,
            adopt,
        } => json!({
            "policy": name, "policy_id": id, "policy_type": policy_type.api_name(), "adopt": adopt,
            "description_change": description.as_ref().map(|(a, b)| json!({"live": a, "desired": b})),
            "content_diff": content_diff, "new_description": new_description, "new_content": new_content,
            "size": new_content.as_ref().map(String::len), "size_limit": size_limit,
        }),
        Change::DeletePolicy {
            name,
            id,
            policy_type,
        } => {
            json!({"policy": name, "policy_id": id, "policy_type": policy_type.api_name()})
        }
        Change::Attach {
            policy,
            policy_type,
            target,
        }
        | Change::Detach {
            policy,
            policy_type,
            target,
        } => {
            json!({"policy": policy, "policy_type": policy_type.api_name(), "target": target_json(target)})
        }
    };
    if let Value::Object(m) = &mut v {
        m.insert("action".into(), json!(c.action()));
        m.insert("deletion".into(), json!(c.is_deletion()));
    }
    v
}

fn warning_json(w: &Warning) -> Value {
    let (kind, mut v) = match w {
        Warning::AccountNotInConfig { id, name, path } => (
            "account_not_in_config",
            json!({"account_id": id, "name": name, "path": path.to_string()}),
        ),
        Warning::AccountNotInOrganization { key, id } => (
            "account_not_in_organization",
            json!({"account": key, "account_id": id}),
        ),
        Warning::Lint {
            subject,
            code,
            severity,
            statement,
            message,
        } => (
            "lint",
            json!({"subject": subject, "code": code, "severity": severity, "statement": statement, "detail": message}),
        ),
        Warning::ControlTower { policies } => ("control_tower", json!({"policies": policies})),
        Warning::ControlTowerMove { key, id, from, to } => (
            "control_tower_move",
            json!({"account": key, "account_id": id, "from": from.to_string(), "to": to.to_string()}),
        ),
        Warning::UnmanagedPolicy {
            name,
            id,
            policy_type,
            targets,
        } => (
            "unmanaged_policy",
            json!({"policy": name, "policy_id": id, "policy_type": policy_type.api_name(), "targets": targets}),
        ),
        Warning::AccountNotActive {
            id,
            name,
            state,
            path,
        } => (
            "account_not_active",
            json!({"account_id": id, "name": name, "state": state, "path": path.to_string()}),
        ),
        Warning::OuKept { path, account } => (
            "ou_kept",
            json!({"path": path.to_string(), "account": account}),
        ),
        Warning::LegacyMarker { name, id } => {
            ("legacy_marker", json!({"policy": name, "policy_id": id}))
        }
    };
    if let Value::Object(m) = &mut v {
        m.insert("kind".into(), json!(kind));
        m.insert("message".into(), json!(super::human::warning_text(w)));
    }
    v
}

/// The plan as JSON.
pub fn plan_json(env: &str, plan: &Plan) -> Value {
    let s = plan.summary();
    let mut v = json!({
        "format_version": PLAN_FORMAT_VERSION,
        "environment": env,
        "organization_id": plan.org_id,
        "management_account": plan.management_account,
        "changes": plan.changes.iter().map(|c| change_json_with_ids(c, plan)).collect::<Vec<_>>(),
        "warnings": plan.warnings.iter().map(warning_json).collect::<Vec<_>>(),
        "effects": plan.effects.iter().map(|e| json!({
            "target": target_json_with_id(&e.target, plan), "action": e.action, "region": e.region,
            "actions": e.action.split(", ").collect::<Vec<_>>(),
            "regions": e.region.split(", ").collect::<Vec<_>>(),
            "principal": e.principal, "before": e.before, "after": e.after, "denied_after": e.denied_after,
        })).collect::<Vec<_>>(),
        "audit": plan.audit.iter().map(|f| json!({"boundary": f.boundary, "is_user": f.is_user, "account_id": f.account, "role": f.role, "role_arn": f.role_arn, "found": f.found})).collect::<Vec<_>>(),
        "headroom": plan.headroom.iter().map(|h| json!({
            "target": target_json_with_id(&h.target, plan), "policy_type": h.policy_type.api_name(),
            "slots_used": h.slots_used, "slots_limit": h.slots_limit, "chars_left": h.chars_left,
        })).collect::<Vec<_>>(),
        "summary": {
            "changes": plan.changes.len(),
            "ous_to_create": s.ous_to_create,
            "ous_to_delete": s.ous_to_delete,
            "accounts_to_move": s.accounts_to_move,
            "accounts_to_create": s.accounts_to_create,
            "boundaries_to_create": s.boundaries_to_create,
            "boundaries_to_update": s.boundaries_to_update,
            "roles_to_bound": s.roles_to_bound,
            "policies_to_create": s.policies_to_create,
            "policies_to_update": s.policies_to_update,
            "policies_to_delete": s.policies_to_delete,
            "attachments_to_add": s.attachments_to_add,
            "attachments_to_remove": s.attachments_to_remove,
        },
    });
    if let Some(p) = &plan.access_proof {
        v["access_proof"] = super::access_proof::access_proof_json(p);
    }
    v
}

/// What an apply did, as JSON.
pub fn outcome_json(outcome: &crate::apply::Outcome) -> Value {
    use crate::apply::StepStatus;
    json!({
        "format_version": PLAN_FORMAT_VERSION,
        "succeeded": outcome.succeeded(),
        "steps": outcome.steps.iter().map(|(c, s)| {
            let (status, extra) = match s {
                StepStatus::Done => ("done", Value::Null),
                StepStatus::Failed(e) => ("failed", json!(e.to_string())),
                StepStatus::Skipped { because_of } => ("not_attempted", json!(because_of)),
                // The steps that could not reach AWS, after which the run stopped.
                StepStatus::Stopped { after } => ("not_attempted", json!(after)),
            };
            json!({"change": change_json(c), "status": status, "error_or_blocking_steps": extra})
        }).collect::<Vec<_>>(),
    })
}
