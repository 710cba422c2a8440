//! Guardrail templates: parameterised policy statements, one TOML file per template in
//! `guardrails/` (compiled into the binary, so a config can use them anywhere; a file of the
//! same name next to the config's `guardrails_dir` overrides the built-in one).
//!
//! A template has a `description`, an `intent` (the docs page), a `policy_type`, typed
//! `[parameters.NAME]` (`string`, `string_list`, `bool`; with or without `default`), and
//! `[[statement]]` tables written as the policy JSON would be, with placeholders:
//! a string that is exactly `"${name}"` becomes the parameter's value (a list element that is a
//! list placeholder is spliced in); `${name}` inside a longer string interpolates a string
//! parameter. `${exempt_principals}` is always available: the organization's deployer
//! principals and break-glass principals. A statement with `when = "flag"` is kept only when
//! the bool parameter `flag` is true (`when = "list:item"`: when the string list `list`
//! contains `item`). Placeholders work in object keys too (`"aws:ResourceTag/${tag_key}"`). After substitution, condition keys left with no values
//! (no exempt principals, say) are dropped, then empty operators and an empty `Condition`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use super::template_docs::docs_page;
use toml_edit::{ImDocument, Item};

use crate::model::PolicyType;

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    StringList,
    Bool,
}

impl ParamKind {
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::StringList => "string_list",
            ParamKind::Bool => "bool",
        }
    }
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    String(String),
    List(Vec<String>),
    Bool(bool),
}

impl ParamValue {
    pub fn kind(&self) -> ParamKind {
        match self {
            ParamValue::String(_) => ParamKind::String,
            ParamValue::List(_) => ParamKind::StringList,
            ParamValue::Bool(_) => ParamKind::Bool,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            ParamValue::String(s) => Value::String(s.clone()),
            ParamValue::List(l) => Value::Array(l.iter().cloned().map(Value::String).collect()),
            ParamValue::Bool(b) => Value::Bool(*b),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub kind: ParamKind,
    pub description: String,
    pub default: Option<ParamValue>,
}

/// One template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    pub description: String,
    pub intent: String,
    pub policy_type: PolicyType,
    pub parameters: BTreeMap<String, Param>,
    /// Statements as written, placeholders and `when` included (SCP and RCP templates).
    pub statements: Vec<Value>,
    /// The document as written, placeholders included (management policy templates: a
    /// `[document]` table instead of statements; each instance becomes one policy).
    pub document: Option<Value>,
}

/// The name of the built-in placeholder for exempt principals.
pub const EXEMPT_PRINCIPALS: &str = "exempt_principals";

macro_rules! builtins {
    ($($name:literal),* $(,)?) => {
        /// The templates shipped in `guardrails/`, compiled in.
        pub const BUILTIN: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../guardrails/", $name, ".toml")))),*
        ];
    };
}

builtins!(
    "ai-opt-out-all-services",
    "change-lock",
    "cloudtrail-protection",
    "deny-leave-organization",
    "ec2-image-block-public-access",
    "ec2-imdsv2-default",
    "ec2-serial-console-off",
    "ec2-snapshot-block-public-access",
    "ec2-vpc-block-public-access",
    "protect-boundary",
    "protect-critical-resources",
    "protect-s3-public-access-block",
    "protect-security-services",
    "rcp-deny-external-s3-access",
    "region-lock",
    "require-boundary",
    "require-imdsv2",
    "root-user-deny",
    "service-allowlist",
);

/// The text of a built-in template.
pub fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// TOML → JSON, for statements written as TOML tables.
pub fn toml_to_json(item: &Item) -> Value {
    match item {
        Item::None => Value::Null,
        Item::Value(v) => value_to_json(v),
        Item::Table(t) => {
            let mut m = Map::new();
            for (k, v) in t.iter() {
                m.insert(k.to_owned(), toml_to_json(v));
            }
            Value::Object(m)
        }
        Item::ArrayOfTables(a) => Value::Array(
            a.iter()
                .map(|t| toml_to_json(&Item::Table(t.clone())))
                .collect(),
        ),
    }
}

fn value_to_json(v: &toml_edit::Value) -> Value {
    use toml_edit::Value as V;
    match v {
        V::String(s) => Value::String(s.value().clone()),
        V::Integer(i) => Value::from(*i.value()),
        V::Float(f) => serde_json::Number::from_f64(*f.value()).map_or(Value::Null, Value::Number),
        V::Boolean(b) => Value::Bool(*b.value()),
        V::Datetime(d) => Value::String(d.value().to_string()),
        V::Array(a) => Value::Array(a.iter().map(value_to_json).collect()),
        V::InlineTable(t) => {
            let mut m = Map::new();
            for (k, v) in t.iter() {
                m.insert(k.to_owned(), value_to_json(v));
            }
            Value::Object(m)
        }
    }
}

/// Reads a TOML value as a parameter value of `kind`.
pub fn param_from_toml(v: &Item, kind: ParamKind) -> Option<ParamValue> {
    match kind {
        ParamKind::String => v.as_str().map(|s| ParamValue::String(s.to_owned())),
        ParamKind::Bool => v.as_bool().map(ParamValue::Bool),
        ParamKind::StringList => {
            let a = v.as_array()?;
            a.iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(ParamValue::List)
        }
    }
}

/// Parses a template; errors say what and where (line) in the template file.
pub fn parse(name: &str, text: &str) -> Result<Template, String> {
    let doc = ImDocument::parse(text)
        .map_err(|e| format!("template `{name}`: {}", e.message().trim()))?;
    let top = doc.as_table();
    let known = [
        "description",
        "intent",
        "policy_type",
        "parameters",
        "statement",
        "document",
    ];
    if let Some((k, _)) = top.iter().find(|(k, _)| !known.contains(k)) {
        return Err(format!("template `{name}`: unknown key `{k}`"));
    }
    let description = top
        .get("description")
        .and_then(Item::as_str)
        .ok_or_else(|| format!("template `{name}`: missing `description`"))?;
    let intent = top.get("intent").and_then(Item::as_str).unwrap_or_default();
    let type_name = top
        .get("policy_type")
        .and_then(Item::as_str)
        .unwrap_or("scp");
    let Some(policy_type) = PolicyType::from_config(type_name) else {
        return Err(format!(
            "template `{name}`: unknown policy_type `{type_name}`"
        ));
    };
    let parameters = parameters(name, top)?;
    let (statements, document) = body(name, top, policy_type)?;
    Ok(Template {
        name: name.to_owned(),
        description: description.to_owned(),
        intent: intent.trim().to_owned(),
        policy_type,
        parameters,
        statements,
        document,
    })
}

/// `[parameters.X]`: each parameter's type, default (of that type) and description.
fn parameters(name: &str, top: &toml_edit::Table) -> Result<BTreeMap<String, Param>, String> {
    let mut parameters = BTreeMap::new();
    if let Some(params) = top.get("parameters").and_then(Item::as_table_like) {
        for (pname, p) in params.iter() {
            let t = p
                .as_table_like()
                .ok_or_else(|| format!("template `{name}`: parameter `{pname}` must be a table"))?;
            let kind = match t.get("type").and_then(Item::as_str) {
                Some("string") => ParamKind::String,
                Some("string_list") => ParamKind::StringList,
                Some("bool") => ParamKind::Bool,
                other => {
                    return Err(format!(
                        "template `{name}`: parameter `{pname}` has unknown type {other:?}"
                    ))
                }
            };
            let default = match t.get("default") {
                Some(d) => Some(param_from_toml(d, kind).ok_or_else(|| {
                    format!(
                        "template `{name}`: default of `{pname}` is not a {}",
                        kind.name()
                    )
                })?),
                None => None,
            };
            if pname == EXEMPT_PRINCIPALS || pname == "template" {
                return Err(format!("template `{name}`: `{pname}` is reserved"));
            }
            parameters.insert(
                pname.to_owned(),
                Param {
                    kind,
                    description: t
                        .get("description")
                        .and_then(Item::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    default,
                },
            );
        }
    }
    Ok(parameters)
}

/// `[[statement]]` tables for SCP and RCP templates, one `[document]` table for the others.
fn body(
    name: &str,
    top: &toml_edit::Table,
    ty: PolicyType,
) -> Result<(Vec<Value>, Option<Value>), String> {
    match (
        ty.is_authorization(),
        top.get("statement"),
        top.get("document"),
    ) {
        (true, Some(item @ Item::ArrayOfTables(_)), None) => match toml_to_json(item) {
            Value::Array(a) => Ok((a, None)),
            _ => Ok((Vec::new(), None)),
        },
        (true, _, _) => Err(format!(
            "template `{name}`: needs at least one [[statement]] (and no [document])"
        )),
        (false, None, Some(item @ Item::Table(_))) => Ok((Vec::new(), Some(toml_to_json(item)))),
        (false, _, _) => Err(format!(
            "template `{name}`: a {} template needs a [document] table (and no [[statement]])",
            ty.api_name()
        )),
    }
}

/// Why an instance cannot be expanded (the config reports these with locations).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceError {
    #[error("placeholder `${{{0}}}` names no parameter")]
    UnknownPlaceholder(String),
    #[error("`${{{0}}}` is a list and cannot be part of a longer string")]
    ListInString(String),
    /// A list parameter that picks statements (`when = "list:item"`) names an item no
    /// statement is for: a typo there would silently leave something unprotected.
    #[error("`{param}` lists `{item}`, which this template does not cover (it covers: {known})")]
    UnknownListItem {
        param: String,
        item: String,
        known: String,
    },
}

/// Expands a template with parameter values (defaults already merged) and the exempt
/// principals; returns the statements.
pub fn instantiate(
    t: &Template,
    values: &BTreeMap<String, ParamValue>,
    exempt: &[String],
) -> Result<Vec<Value>, InstanceError> {
    let mut all = values.clone();
    all.insert(
        EXEMPT_PRINCIPALS.to_owned(),
        ParamValue::List(exempt.to_vec()),
    );
    check_list_items(t, values)?;
    let mut out = Vec::new();
    for s in &t.statements {
        let mut s = s.clone();
        if let Some(flag) = s.as_object_mut().and_then(|m| m.remove("when")) {
            if !when_holds(flag.as_str().unwrap_or_default(), &all) {
                continue;
            }
        }
        let mut s = substitute(&s, &all)?;
        prune_conditions(&mut s);
        out.push(s);
    }
    Ok(out)
}

/// Every item of a list parameter that picks statements (`when = "list:item"`) is one some
/// statement is for.
fn check_list_items(
    t: &Template,
    values: &BTreeMap<String, ParamValue>,
) -> Result<(), InstanceError> {
    let mut known: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &t.statements {
        if let Some((list, item)) = s
            .get("when")
            .and_then(Value::as_str)
            .and_then(|w| w.split_once(':'))
        {
            known.entry(list).or_default().push(item);
        }
    }
    for (list, items) in known {
        let Some(ParamValue::List(given)) = values.get(list) else {
            continue;
        };
        if let Some(item) = given.iter().find(|g| !items.contains(&g.as_str())) {
            return Err(InstanceError::UnknownListItem {
                param: list.to_owned(),
                item: item.clone(),
                known: items.join(", "),
            });
        }
    }
    Ok(())
}

/// `when = "flag"`: the bool parameter `flag` is true; `when = "list:item"`: the string list
/// parameter `list` contains `item`.
fn when_holds(when: &str, params: &BTreeMap<String, ParamValue>) -> bool {
    match when.split_once(':') {
        Some((list, item)) => {
            matches!(params.get(list), Some(ParamValue::List(l)) if l.iter().any(|x| x == item))
        }
        None => params.get(when) == Some(&ParamValue::Bool(true)),
    }
}

/// Expands a management policy template's document (`None` for SCP and RCP templates).
pub fn instantiate_document(
    t: &Template,
    values: &BTreeMap<String, ParamValue>,
    exempt: &[String],
) -> Result<Option<Value>, InstanceError> {
    let Some(doc) = &t.document else {
        return Ok(None);
    };
    let mut all = values.clone();
    all.insert(
        EXEMPT_PRINCIPALS.to_owned(),
        ParamValue::List(exempt.to_vec()),
    );
    substitute(doc, &all).map(Some)
}

fn placeholder(s: &str) -> Option<&str> {
    s.strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .filter(|n| !n.contains("${"))
}

fn substitute(v: &Value, params: &BTreeMap<String, ParamValue>) -> Result<Value, InstanceError> {
    Ok(match v {
        Value::String(s) => {
            if let Some(name) = placeholder(s) {
                params
                    .get(name)
                    .ok_or_else(|| InstanceError::UnknownPlaceholder(name.to_owned()))?
                    .to_json()
            } else {
                Value::String(interpolate(s, params)?)
            }
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for i in items {
                match substitute(i, params)? {
                    Value::Array(inner) if matches!(i, Value::String(s) if placeholder(s).is_some()) => {
                        out.extend(inner)
                    }
                    other => out.push(other),
                }
            }
            Value::Array(out)
        }
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(interpolate(k, params)?, substitute(v, params)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn interpolate(s: &str, params: &BTreeMap<String, ParamValue>) -> Result<String, InstanceError> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        match params.get(name) {
            Some(ParamValue::String(v)) => out.push_str(v),
            Some(ParamValue::Bool(b)) => out.push_str(&b.to_string()),
            Some(ParamValue::List(_)) => return Err(InstanceError::ListInString(name.to_owned())),
            None => return Err(InstanceError::UnknownPlaceholder(name.to_owned())),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Drops condition keys with no values, then empty operators, then an empty `Condition`.
fn prune_conditions(s: &mut Value) {
    let Some(obj) = s.as_object_mut() else { return };
    let empty = if let Some(Value::Object(ops)) = obj.get_mut("Condition") {
        for keys in ops.values_mut() {
            if let Value::Object(k) = keys {
                k.retain(|_, v| !matches!(v, Value::Array(a) if a.is_empty()));
            }
        }
        ops.retain(|_, keys| !matches!(keys, Value::Object(k) if k.is_empty()));
        ops.is_empty()
    } else {
        false
    };
    if empty {
        obj.remove("Condition");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_instantiates() {
        for (name, text) in BUILTIN {
            let t = parse(name, text).unwrap_or_else(|e| panic!("{e}"));
            let mut values = BTreeMap::new();
            for (n, p) in &t.parameters {
                let v = p.default.clone().unwrap_or(match p.kind {
                    ParamKind::String => ParamValue::String("x".into()),
                    ParamKind::StringList => ParamValue::List(vec!["eu-west-1".into()]),
                    ParamKind::Bool => ParamValue::Bool(true),
                });
                values.insert(n.clone(), v);
            }
            let stmts = instantiate(&t, &values, &["arn:aws:iam::*:role/Deployer".into()]).unwrap();
            let doc = instantiate_document(&t, &values, &[]).unwrap();
            assert_ne!(!stmts.is_empty(), doc.is_some(), "{name}");
            if let Some(doc) = doc {
                assert!(!doc.to_string().contains("${"), "{name}: {doc}");
                assert!(!t.policy_type.is_authorization(), "{name}");
            }
            for s in &stmts {
                assert!(!s.to_string().contains("${"), "{name}: {s}");
                assert!(s.get("when").is_none());
            }
        }
    }

    #[test]
    fn placeholders_splice_interpolate_and_prune() {
        let t = parse(
            "t",
            r#"
description = "d"
[parameters.regions]
type = "string_list"
[parameters.name]
type = "string"
[parameters.flag]
type = "bool"
default = false
[[statement]]
Sid = "A"
Effect = "Deny"
NotAction = ["iam:*", "${regions}"]
Resource = "arn:aws:iam::*:policy/${name}"
[statement.Condition.ArnNotLike]
"aws:PrincipalArn" = "${exempt_principals}"
[[statement]]
Sid = "B"
when = "flag"
Effect = "Deny"
Action = "*"
"#,
        )
        .unwrap();
        let mut v = BTreeMap::new();
        v.insert(
            "regions".into(),
            ParamValue::List(vec!["a".into(), "b".into()]),
        );
        v.insert("name".into(), ParamValue::String("p/B".into()));
        v.insert("flag".into(), ParamValue::Bool(false));
        let s = instantiate(&t, &v, &[]).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0]["NotAction"], serde_json::json!(["iam:*", "a", "b"]));
        assert_eq!(s[0]["Resource"], "arn:aws:iam::*:policy/p/B");
        assert!(
            s[0].get("Condition").is_none(),
            "empty exemption pruned: {}",
            s[0]
        );
        v.insert("flag".into(), ParamValue::Bool(true));
        let s = instantiate(&t, &v, &["arn:x".into()]).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
            serde_json::json!(["arn:x"])
        );
    }
}
