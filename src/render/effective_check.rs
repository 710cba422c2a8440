//! Drift's section on what AWS found invalid in the accounts' effective management policies
//! (`live::effective_check`), in human, JSON and Markdown.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::escape::visible;
use crate::model::{EffectiveValidation, InvalidEffectivePolicy};

fn account(i: &InvalidEffectivePolicy) -> String {
    if i.account_name.is_empty() {
        format!("account {}", i.account_id)
    } else {
        format!("account {} ({})", i.account_name, i.account_id)
    }
}

/// One line per invalid effective policy, then one per error under it.
fn lines(v: &EffectiveValidation) -> Vec<(String, Vec<String>)> {
    v.invalid
        .iter()
        .map(|i| {
            let head = format!(
                "AWS reports the effective {} of {} as invalid",
                i.policy_type,
                account(i)
            );
            let errs = i
                .errors
                .iter()
                .map(|e| {
                    let at = if e.path.is_empty() {
                        String::new()
                    } else {
                        format!(" at `{}`", e.path)
                    };
                    let from = if e.contributing_policies.is_empty() {
                        String::new()
                    } else {
                        format!(" (policies {})", e.contributing_policies.join(", "))
                    };
                    format!("{}{at}: {}{from}", e.code, e.message)
                })
                .collect();
            (head, errs)
        })
        .collect()
}

/// The note when nothing could be checked.
fn note(v: &EffectiveValidation) -> Option<String> {
    v.unsupported.as_ref().map(|why| {
        format!("Effective policies not validated: {why}. Drift covers the config only.")
    })
}

pub fn effective_human(v: &EffectiveValidation) -> String {
    let mut out = String::new();
    if let Some(n) = note(v) {
        let _ = writeln!(out, "\nNote: {}", visible(&n));
    }
    if v.invalid.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\n{} invalid effective polic(ies) reported by AWS:",
        v.invalid.len()
    );
    for (head, errs) in lines(v) {
        let _ = writeln!(out, "  - {}", visible(&head));
        for e in errs {
            let _ = writeln!(out, "      {}", visible(&e));
        }
    }
    out
}

pub fn effective_markdown(v: &EffectiveValidation) -> String {
    let mut out = String::new();
    if let Some(n) = note(v) {
        let _ = writeln!(out, "\n> {}", super::markdown::escape(&n));
    }
    if v.invalid.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n#### Invalid effective policies (reported by AWS)\n");
    for (head, errs) in lines(v) {
        let _ = writeln!(out, "- {}", super::markdown::escape(&head));
        for e in errs {
            let _ = writeln!(out, "  - {}", super::markdown::escape(&e));
        }
    }
    out
}

/// `effective_policies` in drift's JSON.
pub fn effective_json(v: &EffectiveValidation) -> Value {
    json!({
        "validated": v.unsupported.is_none(),
        "note": v.unsupported,
        "checked_types": v.checked.iter().map(|t| t.api_name()).collect::<Vec<_>>(),
        "invalid": v.invalid.iter().map(|i| json!({
            "kind": "invalid_effective_policy",
            "policy_type": i.policy_type.api_name(),
            "account_id": i.account_id,
            "account_name": i.account_name,
            "errors": i.errors.iter().map(|e| json!({
                "code": e.code,
                "message": e.message,
                "path": e.path,
                "contributing_policies": e.contributing_policies,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
