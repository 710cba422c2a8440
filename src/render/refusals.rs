//! A refused plan as data: `plan`, `drift` and `apply` with `--format json` or `markdown` put
//! it on stdout in that format (the stream convention: data on stdout, diagnostics on stderr),
//! beside the human lines on stderr. Lockouts come grouped, one entry per principal and cause,
//! as in the human report. docs/plan-json.md describes the JSON.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::json::target_json;
use super::markdown::escape;
use crate::model::{LiveOrg, TargetRef};
use crate::plan::{Refusal, Refused};

/// A lockout group's accounts and actions.
type GroupLists<'a> = (Vec<&'a str>, Vec<&'a str>);

/// The refusals in the order found, each lockout group folded into one [`Refusal::Lockout`]
/// whose `account` and `action` join the group's accounts and actions with `, `; beside each,
/// for a lockout group, its accounts and actions as lists.
pub(crate) fn grouped(refused: &Refused) -> Vec<(Refusal, Option<GroupLists<'_>>)> {
    let mut out = Vec::new();
    let mut lockouts = Vec::new();
    for r in &refused.0 {
        match r {
            Refusal::Lockout {
                principal,
                account,
                action,
                by,
            } => lockouts.push((
                principal.as_str(),
                by.as_str(),
                action.as_str(),
                "",
                account.as_str(),
            )),
            other => out.push((other.clone(), None)),
        }
    }
    for g in super::human::group_lockouts(lockouts) {
        let one = Refusal::Lockout {
            principal: g.principal.to_owned(),
            account: g.accounts.join(", "),
            action: g.actions.join(", "),
            by: g.by.to_owned(),
        };
        out.push((one, Some((g.accounts, g.actions))));
    }
    out
}

/// A target as in the plan's JSON, with its AWS id when it exists (root and OUs; an account's
/// id is its key).
fn target_with_id(t: &TargetRef, live: &LiveOrg) -> Value {
    let mut v = target_json(t);
    let id = match t {
        TargetRef::Root => Some(live.root.id.clone()),
        TargetRef::Ou(p) => live.ou_ids_by_path().remove(p),
        _ => None,
    };
    if let Some(id) = id.filter(|id| !id.is_empty()) {
        v["id"] = json!(id);
    }
    v
}

/// The fields of a refusal about a target: its limits and what fills it.
fn target_fields(r: &Refusal, live: &LiveOrg) -> Value {
    match r {
        Refusal::TooManyAttachments {
            target,
            policy_type,
            count,
            unmanaged,
            limit,
            limit_source,
        } => json!({
            "target": target_with_id(target, live), "policy_type": policy_type.api_name(),
            "count": count, "unmanaged": unmanaged, "limit": limit, "limit_source": limit_source,
        }),
        Refusal::ZeroPolicies {
            target,
            policy_type,
            min,
            limit_source,
            example,
        } => json!({
            "target": target_with_id(target, live), "policy_type": policy_type.api_name(),
            "min": min, "limit_source": limit_source, "example": example,
        }),
        Refusal::NoSafeOrder {
            target,
            policy_type,
            holding,
            limit,
            waiting,
            blocked,
        } => json!({
            "target": target_with_id(target, live), "policy_type": policy_type.api_name(),
            "holding": holding, "limit": limit, "waiting": waiting, "blocked": blocked,
        }),
        Refusal::OuNotEmpty {
            path,
            account_id,
            account_name,
        } => json!({
            "path": path.to_string(), "ou_id": live.ou_ids_by_path().remove(path),
            "account_id": account_id, "account_name": account_name,
        }),
        _ => json!({}),
    }
}

/// One refusal's own fields, by kind (`kind` and `message` are added by the caller); a
/// lockout group's accounts and actions come from `lists`.
fn fields(r: &Refusal, lists: Option<&GroupLists<'_>>, live: &LiveOrg) -> Value {
    match r {
        Refusal::TooManyAttachments { .. }
        | Refusal::ZeroPolicies { .. }
        | Refusal::NoSafeOrder { .. }
        | Refusal::OuNotEmpty { .. } => target_fields(r, live),
        Refusal::ManagementAccountMismatch {
            config,
            live: found,
        } => {
            json!({"config_management_account": config, "live_management_account": found})
        }
        Refusal::PolicyTypeNotEnabled { policy_type } => {
            json!({"policy_type": policy_type.api_name()})
        }
        Refusal::DisableWouldDetach {
            policy_type,
            attached,
        } => {
            json!({"policy_type": policy_type.api_name(), "attached": attached})
        }
        Refusal::Lockout {
            principal,
            by,
            account,
            action,
        } => {
            let (accounts, actions) = match lists {
                Some((accounts, actions)) => (accounts.clone(), actions.clone()),
                None => (vec![account.as_str()], vec![action.as_str()]),
            };
            json!({"principal": principal, "by": by, "accounts": accounts, "actions": actions})
        }
        Refusal::AssertionFailed {
            location,
            description,
            expected,
            got,
        } => json!({
            "location": location, "assertion": description, "expected": expected, "got": got,
        }),
        Refusal::ForeignPolicy { name, owner } => json!({"policy": name, "owner": owner}),
        Refusal::PinMismatch { name, id, found } => {
            json!({"policy": name, "policy_id": id, "found": found})
        }
        Refusal::AccountMatchedTwice { id, keys } => json!({"account_id": id, "keys": keys}),
        Refusal::TooManyPolicies {
            policy_type,
            held,
            unmanaged,
            creates,
            limit,
            limit_source,
        } => json!({
            "policy_type": policy_type.api_name(), "held": held, "unmanaged": unmanaged,
            "creates": creates, "limit": limit, "limit_source": limit_source,
        }),
        Refusal::DocumentTooLarge {
            name,
            policy_type,
            size,
            limit,
            over,
            limit_source,
        } => json!({
            "policy": name, "policy_type": policy_type.api_name(), "size": size,
            "limit": limit, "over": over, "limit_source": limit_source,
        }),
    }
}

/// A refused plan as JSON: `refused: true` and `refusals`, each with `kind`, `message` and
/// its own fields; no `changes`, since nothing will be done.
pub fn refusals_json(env: &str, refused: &Refused, live: &LiveOrg) -> Value {
    let refusals: Vec<Value> = grouped(refused)
        .iter()
        .map(|(r, lists)| {
            let mut v = json!({"kind": r.kind(), "message": r.to_string()});
            if let (Value::Object(m), Value::Object(f)) = (&mut v, fields(r, lists.as_ref(), live))
            {
                m.extend(f);
            }
            v
        })
        .collect();
    json!({
        "format_version": super::PLAN_FORMAT_VERSION,
        "environment": env,
        "organization_id": live.org_id,
        "management_account": live.management_account,
        "refused": true,
        "refusals": refusals,
        "writes_sent": 0,
    })
}

/// A refused plan as the pull-request comment: each reason on one line, capped like a plan.
pub fn refusals_markdown(env: &str, refused: &Refused) -> String {
    let mut out = format!("### guardrail plan: `{env}`\n\n");
    out.push_str("**Refused.** Nothing was changed: no write was sent to AWS (only reads).\n\n");
    for (r, _) in grouped(refused) {
        let _ = writeln!(out, "- ⛔ `{}`: {}", r.kind(), escape(&r.to_string()));
    }
    super::markdown::cap(out)
}
