//! `validate` and `explain` output.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::escape::visible;
use crate::model::Desired;
use crate::plan::verify::Validation;
use crate::policy::eval::{Decision, Exemption};

pub fn validation_human(env: &str, d: &Desired, v: &Validation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "guardrail validate for environment `{env}`: {} policies ({} compiled from {} guardrails), {} assertions", d.policies.len(), d.policies.values().filter(|p| !p.guardrails.is_empty()).count(), d.guardrails.len(), v.assertions_checked);
    for n in &d.lint {
        let st = n
            .statement
            .as_ref()
            .map(|s| format!(" statement {s}"))
            .unwrap_or_default();
        let line = format!(
            "{} {:<10} {}{st}: {}",
            n.code, n.severity, n.subject, n.message
        );
        let _ = writeln!(out, "  {}", visible(&line));
    }
    for f in &v.failed_assertions {
        let line = format!(
            "FAILED assertion at {}: {} should be {}, but is {}",
            f.location, f.description, f.expected, f.got
        );
        let _ = writeln!(out, "  {}", visible(&line));
    }
    // One line per principal and cause, listing the actions, resources and accounts.
    let groups = super::human::group_proved_lockouts(&v.lockouts);
    for g in groups {
        let line = format!(
            "LOCKOUT {} would be denied {} on {} in {}: {}",
            g.principal,
            g.actions.join(", "),
            g.resources.join(", "),
            g.accounts.join(", "),
            g.by
        );
        let _ = writeln!(out, "  {}", visible(&line));
    }
    let _ = writeln!(
        out,
        "{}: {} lint note(s), {} of {} assertion(s) failed, {} lockout(s).",
        if v.is_clean() { "Clean" } else { "Not clean" },
        d.lint.len(),
        v.failed_assertions.len(),
        v.assertions_checked,
        v.lockouts.len()
    );
    out
}

pub fn validation_json(env: &str, d: &Desired, v: &Validation) -> Value {
    json!({
        "format_version": super::PLAN_FORMAT_VERSION,
        "environment": env,
        "clean": v.is_clean(),
        "lint": d.lint.iter().map(|n| json!({"code": n.code, "severity": n.severity, "subject": n.subject, "statement": n.statement, "message": n.message})).collect::<Vec<_>>(),
        "assertions_checked": v.assertions_checked,
        "failed_assertions": v.failed_assertions.iter().map(|f| json!({"location": f.location, "assertion": f.description, "expected": f.expected, "got": f.got})).collect::<Vec<_>>(),
        "lockouts": v.lockouts.iter().map(|l| json!({"principal": l.principal, "account": l.account, "action": l.action, "resource": l.resource, "denied_by": l.by})).collect::<Vec<_>>(),
    })
}

/// `explain --format json`: `{"decision", "layer", "policy", "guardrail", "statement",
/// "target"}`; `layer` is `SCP` or `RCP` when a layer decided a deny; a deny by a statement
/// that merges several guardrail statements adds `guardrail_statement`, the Sid (as the
/// template wrote it) of the one that matched.
pub fn explain_json(d: &Decision) -> Value {
    match d {
        Decision::Allow => {
            json!({"decision": "allow", "layer": null, "policy": null, "guardrail": null, "statement": null, "target": null})
        }
        Decision::NotAffected(why) => {
            let reason = match why {
                Exemption::ManagementAccount => "management account: SCPs and RCPs do not apply",
                Exemption::ServiceLinkedRole => "service-linked role: SCPs and RCPs do not apply",
            };
            json!({"decision": "allow", "layer": null, "policy": null, "guardrail": null, "statement": null, "target": null, "reason": reason})
        }
        Decision::Deny(by) => {
            let mut v = json!({"decision": "deny", "layer": by.layer.name(), "policy": by.policy, "guardrail": by.guardrail, "statement": by.statement, "target": by.level});
            if let Some(own) = &by.origin {
                v["guardrail_statement"] = json!(own);
            }
            v
        }
        Decision::NoAllow { layer, level } => {
            json!({"decision": "deny", "layer": layer.name(), "policy": null, "guardrail": null, "statement": null, "target": level, "reason": format!("no {} at this level allows the action", layer.name())})
        }
    }
}
