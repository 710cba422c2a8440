//! Lint: every document, templated or plain, is checked before anything else. Each finding has
//! a stable code (`GR0xx`), a severity graded like AWS's own policy validation (error,
//! security, warning, suggestion) and names the statement. The rule table [`RULES`] carries
//! each rule's documentation; `docs/lint.md` is generated from it. Management policy documents
//! (tag, backup, declarative, ...) are checked by `management.rs` against their type's
//! published syntax, kept as data in [`management_syntax`].

use serde_json::Value;

use super::eval::{parse_operator, SetQualifier};
use super::iam::catalogue;
use crate::model::PolicyType;

mod catalogue_checks;
mod management;
pub mod management_syntax;
mod rules;

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

/// Single-valued keys on which a set qualifier is a mistake.
const SINGLE_VALUED: &[&str] = &[
    "aws:requestedregion",
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principaltype",
    "aws:sourceip",
    "aws:securetransport",
    "iam:permissionsboundary",
];

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "Principal",
    "NotPrincipal",
];

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect(),
        other => vec![other.to_string()],
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
        lint_statement(s, &name, ty, ctx, &mut out);
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

fn lint_statement(
    s: &Value,
    name: &str,
    ty: PolicyType,
    ctx: &LintContext,
    out: &mut Vec<Finding>,
) {
    let st = Some(name);
    let Some(m) = s.as_object() else {
        out.push(finding(STATEMENT, st, "a statement must be an object"));
        return;
    };
    for k in m.keys() {
        if !STATEMENT_ELEMENTS.contains(&k.as_str()) {
            out.push(finding(
                STATEMENT_ELEMENT,
                st,
                format!("unknown statement element `{k}`"),
            ));
        }
    }
    let effect = m.get("Effect").and_then(Value::as_str);
    if !matches!(effect, Some("Allow") | Some("Deny")) {
        out.push(finding(
            EFFECT,
            st,
            format!(
                "`Effect` must be `Allow` or `Deny`, not {}",
                m.get("Effect")
                    .map_or("missing".to_owned(), |v| v.to_string())
            ),
        ));
    }
    let (action, not_action) = (m.get("Action"), m.get("NotAction"));
    match (action, not_action) {
        (Some(_), Some(_)) => out.push(finding(
            ACTION_ELEMENT,
            st,
            "use `Action` or `NotAction`, not both",
        )),
        (None, None) => out.push(finding(
            ACTION_ELEMENT,
            st,
            "the statement has neither `Action` nor `NotAction`",
        )),
        _ => {}
    }
    let acts: Vec<String> = action.or(not_action).map(strings).unwrap_or_default();
    for a in &acts {
        if a == "*" {
            continue;
        }
        // AWS matches actions case-insensitively (`EC2:TerminateInstances` is valid), so the
        // shape check and the known-prefix lookup ignore case; only GR022 mentions it.
        match a.split_once(':') {
            Some((svc, act))
                if !svc.is_empty()
                    && !act.is_empty()
                    && svc
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '?') =>
            {
                let lower = svc.to_ascii_lowercase();
                if !svc.contains(['*', '?']) && catalogue().service(svc).is_none() {
                    out.push(finding(
                        SERVICE_PREFIX,
                        st,
                        format!("`{svc}` in `{a}` is not a known service prefix"),
                    ));
                }
                if lower != svc {
                    out.push(finding(
                        ACTION_CASE,
                        st,
                        format!("`{a}`: AWS writes the service prefix in lower case (`{lower}:{act}`); it matches either way"),
                    ));
                }
            }
            _ => out.push(finding(
                ACTION_SHAPE,
                st,
                format!("`{a}` is not `service:Action`"),
            )),
        }
    }
    let (res, not_res) = (m.get("Resource"), m.get("NotResource"));
    if res.is_some() && not_res.is_some() {
        out.push(finding(
            RESOURCE_ELEMENT,
            st,
            "use `Resource` or `NotResource`, not both",
        ));
    }
    match ty {
        PolicyType::ServiceControlPolicy => {
            if m.contains_key("Principal") || m.contains_key("NotPrincipal") {
                out.push(finding(PRINCIPAL, st, "SCPs cannot name `Principal` or `NotPrincipal`; use an `aws:PrincipalArn` condition"));
            }
            if res.is_none() && not_res.is_none() {
                out.push(finding(
                    NO_RESOURCE,
                    st,
                    "no `Resource`; add `\"Resource\": \"*\"`",
                ));
            }
        }
        PolicyType::ResourceControlPolicy => {
            if m.get("Principal") != Some(&Value::String("*".into())) {
                out.push(finding(
                    PRINCIPAL,
                    st,
                    "an RCP statement needs `\"Principal\": \"*\"`",
                ));
            }
            if m.contains_key("NotPrincipal") {
                out.push(finding(PRINCIPAL, st, "RCPs do not support `NotPrincipal`"));
            }
            if effect == Some("Allow") {
                out.push(finding(
                    RCP_GRAMMAR,
                    st,
                    "RCPs allow only `Deny` statements",
                ));
            }
            if not_action.is_some() {
                out.push(finding(RCP_GRAMMAR, st, "RCPs do not support `NotAction`"));
            }
            if acts.iter().any(|a| a == "*") {
                out.push(finding(
                    RCP_GRAMMAR,
                    st,
                    "an RCP action must name a service (`s3:*`), not `*`",
                ));
            }
            if res.is_none() && not_res.is_none() {
                out.push(finding(
                    RESOURCE_ELEMENT,
                    st,
                    "an RCP statement needs `Resource` or `NotResource`",
                ));
            }
        }
        // The management policy types (tag, backup, ...) are not IAM policy documents:
        // `lint` hands them to `management::lint` before any statement is read.
        _ => {}
    }

    let mut principal_scoped = false;
    let mut region_conditioned = false;
    let mut network_scoped = false;
    match m.get("Condition") {
        None => {}
        Some(Value::Object(ops)) => {
            for (op, keys) in ops {
                let parsed = parse_operator(op);
                if parsed.is_none() {
                    out.push(finding(
                        OPERATOR,
                        st,
                        format!("`{op}` is not a condition operator"),
                    ));
                }
                let Value::Object(keys) = keys else {
                    out.push(finding(
                        OPERATOR,
                        st,
                        format!("`{op}` must map condition keys to values"),
                    ));
                    continue;
                };
                for key in keys.keys() {
                    let lower = key.to_ascii_lowercase();
                    match key.split_once(':') {
                        Some((p, n)) if !p.is_empty() && !n.is_empty() => {}
                        _ => out.push(finding(
                            CONDITION_KEY,
                            st,
                            format!("condition key `{key}` is not `prefix:name`"),
                        )),
                    }
                    if lower.starts_with("aws:") && catalogue().global_key(key).is_none() {
                        let hint = catalogue_checks::closest_global_key(key)
                            .map(|g| format!("; did you mean `{g}`?"))
                            .unwrap_or_default();
                        out.push(finding(
                            GLOBAL_KEY,
                            st,
                            format!("`{key}` is not a global condition key{hint}"),
                        ));
                    }
                    if let Some(o) = parsed {
                        if o.set.is_some() && SINGLE_VALUED.contains(&lower.as_str()) {
                            let q = if o.set == Some(SetQualifier::ForAllValues) {
                                "ForAllValues"
                            } else {
                                "ForAnyValue"
                            };
                            out.push(finding(
                                SET_QUALIFIER,
                                st,
                                format!("`{q}:` on the single-valued key `{key}`"),
                            ));
                        }
                    }
                    if lower == "aws:principalarn"
                        || lower == "aws:principaltag"
                        || lower.starts_with("aws:principaltag/")
                        || lower == "aws:principaltype"
                        || lower == "aws:assumedroot"
                    {
                        principal_scoped = true;
                    }
                    if lower == "aws:requestedregion" {
                        region_conditioned = true;
                    }
                    if ["aws:sourcevpc", "aws:sourcevpce", "aws:sourcevpcarn"]
                        .contains(&lower.as_str())
                    {
                        network_scoped = true;
                    }
                }
            }
        }
        Some(_) => out.push(finding(OPERATOR, st, "`Condition` must be an object")),
    }

    catalogue_checks::check(m, &acts, not_action.is_some(), ty, st, out);

    if effect == Some("Deny") {
        if action.is_some() && acts.iter().any(|a| a == "*") && m.get("Condition").is_none() {
            out.push(finding(
                DENY_ALL,
                st,
                "denies every action to every principal, with no condition",
            ));
        }
        if region_conditioned && !network_scoped {
            let missing = catalogue_checks::global_services_denied(&acts, not_action.is_some());
            if !missing.is_empty() {
                out.push(finding(
                    REGION_LOCK_GLOBALS,
                    st,
                    format!(
                        "a region lock that does not exempt the global services {}",
                        missing
                            .iter()
                            .map(|s| format!("`{s}:*`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        if ctx.has_exempt_principals && !principal_scoped && ty == PolicyType::ServiceControlPolicy
        {
            out.push(finding(
                NO_EXEMPTION,
                st,
                "no exemption for the deployer and break-glass principals",
            ));
        }
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
