//! The statement rules of SCPs and RCPs: one function per group of rules, each reading the
//! statement and pushing its findings in a fixed order (elements, actions, the policy type's
//! grammar, conditions, the catalogue checks, then the Deny checks that need all of them).
//! The key lists the rules read are data, in `rules.rs`.

use serde_json::{Map, Value};

use super::catalogue_checks;
use super::rules::*;
use super::{finding, Finding, LintContext};
use crate::model::PolicyType;
use crate::policy::eval::{parse_operator, Operator, SetQualifier};
use crate::policy::iam::catalogue;

/// What the conditions of a statement look at, for the Deny checks.
#[derive(Debug, Default)]
struct Scope {
    /// A key that names the principal (`aws:PrincipalArn`, ...): the statement can exempt.
    principal: bool,
    /// `aws:RequestedRegion`: a region lock.
    region: bool,
    /// A network-origin key (`aws:SourceVpc`, ...).
    network: bool,
}

/// One statement, read once.
struct Stmt<'a> {
    m: &'a Map<String, Value>,
    st: Option<&'a str>,
    effect: Option<&'a str>,
    action: Option<&'a Value>,
    not_action: Option<&'a Value>,
    /// The patterns of `Action` or `NotAction`.
    acts: Vec<String>,
}

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

/// Lints one statement of an SCP or RCP.
pub(super) fn lint_statement(
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
    let (action, not_action) = (m.get("Action"), m.get("NotAction"));
    let s = Stmt {
        m,
        st,
        effect: m.get("Effect").and_then(Value::as_str),
        action,
        not_action,
        acts: action.or(not_action).map(strings).unwrap_or_default(),
    };
    elements(&s, out);
    for a in &s.acts {
        action_shape(a, st, out);
    }
    if m.contains_key("Resource") && m.contains_key("NotResource") {
        out.push(finding(
            RESOURCE_ELEMENT,
            st,
            "use `Resource` or `NotResource`, not both",
        ));
    }
    match ty {
        PolicyType::ServiceControlPolicy => scp_grammar(&s, out),
        PolicyType::ResourceControlPolicy => rcp_grammar(&s, out),
        // The management policy types (tag, backup, ...) are not IAM policy documents:
        // `lint` hands them to `management::lint` before any statement is read.
        _ => {}
    }
    let scope = conditions(&s, out);
    catalogue_checks::check(m, &s.acts, not_action.is_some(), ty, st, out);
    if s.effect == Some("Deny") {
        deny(&s, &scope, ty, ctx, out);
    }
}

/// GR015 unknown elements, GR005 the effect, GR006 `Action`/`NotAction`.
fn elements(s: &Stmt, out: &mut Vec<Finding>) {
    for k in s.m.keys() {
        if !STATEMENT_ELEMENTS.contains(&k.as_str()) {
            out.push(finding(
                STATEMENT_ELEMENT,
                s.st,
                format!("unknown statement element `{k}`"),
            ));
        }
    }
    if !matches!(s.effect, Some("Allow") | Some("Deny")) {
        let got =
            s.m.get("Effect")
                .map_or("missing".to_owned(), |v| v.to_string());
        out.push(finding(
            EFFECT,
            s.st,
            format!("`Effect` must be `Allow` or `Deny`, not {got}"),
        ));
    }
    match (s.action, s.not_action) {
        (Some(_), Some(_)) => out.push(finding(
            ACTION_ELEMENT,
            s.st,
            "use `Action` or `NotAction`, not both",
        )),
        (None, None) => out.push(finding(
            ACTION_ELEMENT,
            s.st,
            "the statement has neither `Action` nor `NotAction`",
        )),
        _ => {}
    }
}

/// GR008 the shape of an action, GR009 its service prefix, GR022 the prefix's case.
fn action_shape(a: &str, st: Option<&str>, out: &mut Vec<Finding>) {
    if a == "*" {
        return;
    }
    // AWS matches actions case-insensitively (`EC2:TerminateInstances` is valid), so the
    // shape check and the known-prefix lookup ignore case; only GR022 mentions it.
    let prefix_ok = |svc: &str| {
        svc.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '?')
    };
    let Some((svc, act)) = a
        .split_once(':')
        .filter(|(svc, act)| !svc.is_empty() && !act.is_empty() && prefix_ok(svc))
    else {
        out.push(finding(
            ACTION_SHAPE,
            st,
            format!("`{a}` is not `service:Action`"),
        ));
        return;
    };
    if !svc.contains(['*', '?']) && catalogue().service(svc).is_none() {
        out.push(finding(
            SERVICE_PREFIX,
            st,
            format!("`{svc}` in `{a}` is not a known service prefix"),
        ));
    }
    let lower = svc.to_ascii_lowercase();
    if lower != svc {
        out.push(finding(
            ACTION_CASE,
            st,
            format!("`{a}`: AWS writes the service prefix in lower case (`{lower}:{act}`); it matches either way"),
        ));
    }
}

/// GR007 no principal element, GR017 a resource element.
fn scp_grammar(s: &Stmt, out: &mut Vec<Finding>) {
    if s.m.contains_key("Principal") || s.m.contains_key("NotPrincipal") {
        out.push(finding(
            PRINCIPAL,
            s.st,
            "SCPs cannot name `Principal` or `NotPrincipal`; use an `aws:PrincipalArn` condition",
        ));
    }
    if !s.m.contains_key("Resource") && !s.m.contains_key("NotResource") {
        out.push(finding(
            NO_RESOURCE,
            s.st,
            "no `Resource`; add `\"Resource\": \"*\"`",
        ));
    }
}

/// GR007 `Principal: "*"` and no `NotPrincipal`, GR018 deny-only with a named service,
/// GR016 a resource element.
fn rcp_grammar(s: &Stmt, out: &mut Vec<Finding>) {
    let st = s.st;
    if s.m.get("Principal") != Some(&Value::String("*".into())) {
        out.push(finding(
            PRINCIPAL,
            st,
            "an RCP statement needs `\"Principal\": \"*\"`",
        ));
    }
    if s.m.contains_key("NotPrincipal") {
        out.push(finding(PRINCIPAL, st, "RCPs do not support `NotPrincipal`"));
    }
    if s.effect == Some("Allow") {
        out.push(finding(
            RCP_GRAMMAR,
            st,
            "RCPs allow only `Deny` statements",
        ));
    }
    if s.not_action.is_some() {
        out.push(finding(RCP_GRAMMAR, st, "RCPs do not support `NotAction`"));
    }
    if s.acts.iter().any(|a| a == "*") {
        out.push(finding(
            RCP_GRAMMAR,
            st,
            "an RCP action must name a service (`s3:*`), not `*`",
        ));
    }
    if !s.m.contains_key("Resource") && !s.m.contains_key("NotResource") {
        out.push(finding(
            RESOURCE_ELEMENT,
            st,
            "an RCP statement needs `Resource` or `NotResource`",
        ));
    }
}

/// GR010 operators, then each key's rules; returns what the keys look at.
fn conditions(s: &Stmt, out: &mut Vec<Finding>) -> Scope {
    let mut scope = Scope::default();
    let ops = match s.m.get("Condition") {
        None => return scope,
        Some(Value::Object(ops)) => ops,
        Some(_) => {
            out.push(finding(OPERATOR, s.st, "`Condition` must be an object"));
            return scope;
        }
    };
    for (op, keys) in ops {
        let parsed = parse_operator(op);
        if parsed.is_none() {
            out.push(finding(
                OPERATOR,
                s.st,
                format!("`{op}` is not a condition operator"),
            ));
        }
        let Value::Object(keys) = keys else {
            out.push(finding(
                OPERATOR,
                s.st,
                format!("`{op}` must map condition keys to values"),
            ));
            continue;
        };
        for key in keys.keys() {
            condition_key(key, parsed, s.st, out);
            let lower = key.to_ascii_lowercase();
            scope.principal |= PRINCIPAL_KEYS.contains(&lower.as_str())
                || PRINCIPAL_KEY_FAMILIES.iter().any(|f| lower.starts_with(f));
            scope.region |= lower == REGION_KEY;
            scope.network |= NETWORK_KEYS.contains(&lower.as_str());
        }
    }
    scope
}

/// GR011 the key's shape, GR012 a global key the catalogue knows, GR019 a set qualifier on
/// a single-valued key.
fn condition_key(key: &str, op: Option<Operator>, st: Option<&str>, out: &mut Vec<Finding>) {
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
    let Some(set) = op.and_then(|o| o.set) else {
        return;
    };
    if SINGLE_VALUED.contains(&lower.as_str()) {
        let q = if set == SetQualifier::ForAllValues {
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

/// GR014 an unconditioned Deny of everything, GR013 a region lock over the global services,
/// GR020 no exemption for the deployer and break-glass.
fn deny(s: &Stmt, scope: &Scope, ty: PolicyType, ctx: &LintContext, out: &mut Vec<Finding>) {
    let every_action = s.acts.iter().any(|a| a == "*");
    if s.action.is_some() && every_action && !s.m.contains_key("Condition") {
        out.push(finding(
            DENY_ALL,
            s.st,
            "denies every action to every principal, with no condition",
        ));
    }
    if scope.region && !scope.network {
        let missing = catalogue_checks::global_services_denied(&s.acts, s.not_action.is_some());
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|s| format!("`{s}:*`")).collect();
            out.push(finding(
                REGION_LOCK_GLOBALS,
                s.st,
                format!(
                    "a region lock that does not exempt the global services {}",
                    list.join(", ")
                ),
            ));
        }
    }
    if ctx.has_exempt_principals && !scope.principal && ty == PolicyType::ServiceControlPolicy {
        out.push(finding(
            NO_EXEMPTION,
            s.st,
            "no exemption for the deployer and break-glass principals",
        ));
    }
}
