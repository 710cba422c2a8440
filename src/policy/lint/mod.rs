//! Lint: every document, templated or plain, is checked before anything else. Each finding has
//! a stable code (`GR0xx`), a severity graded like AWS's own policy validation (error,
//! security, warning, suggestion) and names the statement. The rule table [`RULES`] carries
//! each rule's documentation; `docs/lint.md` is generated from it. Management policy documents
//! (tag, backup, declarative, ...) are checked by `management.rs` against their type's
//! published syntax, kept as data in [`management_syntax`].

use serde_json::Value;

use super::iam::catalogue;
use crate::model::PolicyType;

mod catalogue_checks;
mod management;
pub mod management_syntax;
mod rules;
mod statement;

pub use rules::*;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    /// The statement's Sid or `#N`, when the finding is about one.
    pub statement: Option<String>,
    pub message: String,
}

fn finding(rule: Rule, statement: Option<&str>, message: impl Into<String>) -> Finding {
    Finding {
        code: rule.code,
        severity: rule.severity,
        statement: statement.map(str::to_owned),
        message: message.into(),
    }
}

/// Context the lint needs beyond the document.
#[derive(Debug, Clone, Default)]
pub struct LintContext {
    /// Whether the organization configured exempt principals (deployer or break-glass); the
    /// exemption suggestion is only made then.
    pub has_exempt_principals: bool,
}

/// Lints one document of a policy type.
pub fn lint(doc: &Value, ty: PolicyType, ctx: &LintContext) -> Vec<Finding> {
    if !ty.is_authorization() {
        return management::lint(doc, ty);
    }
    let mut out = Vec::new();
    let Some(top) = doc.as_object() else {
        out.push(finding(
            TOP_LEVEL,
            None,
            "the document must be a JSON object",
        ));
        return out;
    };
    top_level(top, &mut out);
    let stmts: Vec<&Value> = match top.get("Statement") {
        Some(Value::Array(a)) if !a.is_empty() => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => {
            out.push(finding(
                STATEMENT,
                None,
                "`Statement` must be a non-empty object or list",
            ));
            return out;
        }
    };
    let mut sids = std::collections::BTreeSet::new();
    for (i, s) in stmts.iter().enumerate() {
        let name = s
            .get("Sid")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("#{}", i + 1));
        statement::lint_statement(s, &name, ty, ctx, &mut out);
        if let Some(sid) = s.get("Sid").and_then(Value::as_str) {
            if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                out.push(finding(
                    SID,
                    Some(&name),
                    format!("Sid `{sid}` must be letters and digits only"),
                ));
            }
            if !sids.insert(sid.to_owned()) {
                out.push(finding(
                    SID,
                    Some(&name),
                    format!("Sid `{sid}` is used twice"),
                ));
            }
        }
    }
    out
}

/// GR002 the top-level elements, GR003 the version.
fn top_level(top: &serde_json::Map<String, Value>, out: &mut Vec<Finding>) {
    for k in top.keys() {
        if !["Version", "Statement", "Id"].contains(&k.as_str()) {
            out.push(finding(
                TOP_LEVEL,
                None,
                format!("unknown top-level element `{k}`"),
            ));
        }
    }
    match top.get("Version").and_then(Value::as_str) {
        Some("2012-10-17") => {}
        Some(v) => out.push(finding(
            VERSION,
            None,
            format!("`Version` is `{v}`; use `2012-10-17`"),
        )),
        None => out.push(finding(
            VERSION,
            None,
            "`Version` is missing; add `\"Version\": \"2012-10-17\"`",
        )),
    }
}

/// `docs/lint.md`, generated from [`RULES`].
pub fn docs_page() -> String {
    use std::fmt::Write as _;
    let mut out = String::from("# Lint rules\n\nGenerated from `src/policy/lint/rules.rs` and the IAM catalogue (do not edit by hand; `tests/it/docs.rs` checks it).\nEvery document, templated or plain, is linted before anything else; errors stop `validate`, `plan` and `apply`.\n\n");
    let cat = catalogue();
    let _ = writeln!(
        out,
        "The catalogue checks (GR009, GR012, GR023-GR026) use `data/iam/catalogue.tsv`: {} services, {} global condition keys, data of {} ({}). Regenerate it with `scripts/gen-iam-catalogue`.\n",
        cat.services().len(),
        cat.globals.len(),
        cat.updated(),
        cat.header.iter().find(|h| h.starts_with("Source:")).copied().unwrap_or("source unknown"),
    );
    out.push_str("| code | name | severity |\n|---|---|---|\n");
    for r in RULES {
        let _ = writeln!(out, "| {} | {} | {} |", r.code, r.name, r.severity.name());
    }
    for r in RULES {
        let _ = writeln!(out, "\n## {} {}\n\n**Severity:** {}\n\n**What it does.** {}\n\n**Why is this bad.** {}\n\n**Example.**\n\n```json\n{}\n```\n\n**Use instead.**\n\n```json\n{}\n```", r.code, r.name, r.severity.name(), r.what, r.why, r.example, r.instead);
    }
    out.push_str("\n## Management policy syntax\n\nGR027-GR029 check tag, backup, AI opt-out, chat applications, declarative (EC2), Security Hub, Inspector, upgrade rollout, Bedrock, S3 and Shield network security director policies against each type's syntax, written from these pages of the AWS Organizations User Guide (`src/policy/lint/management_syntax.rs`). Subtrees a page shows only by example (Security Hub `features` entries excepted, Microsoft Teams tenants and overrides of chat applications policies, backup `index_actions`, `scan_actions`, `scan_settings` and selection `conditions`, allowed-images date conditions) get the operator rules (GR028) only. The size limit of each type is checked with the configuration's limits (docs/config.md).\n\n| type | syntax page |\n|---|---|\n");
    for s in management_syntax::SYNTAXES {
        let _ = writeln!(out, "| `{}` | {} |", s.policy_type.api_name(), s.source);
    }
    let rcp: Vec<String> = cat.rcp_services.iter().map(|s| format!("`{s}`")).collect();
    let _ = writeln!(
        out,
        "\n## Services RCPs cover\n\nFrom the catalogue ({} services; GR026 warns about any other): {}.",
        rcp.len(),
        rcp.join(", ")
    );
    out
}

#[cfg(test)]
mod tests;
