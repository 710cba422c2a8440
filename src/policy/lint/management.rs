//! Lint for the management policy types (every type but SCPs and RCPs): the document is walked
//! beside its type's syntax (`management_syntax.rs`, data only) and the inheritance operators
//! are checked where they stand. GR027: a key the type does not have there; GR028: an operator
//! that is unknown, misplaced (a value-setting operator on a container, `@@append`/`@@remove`
//! on a single-valued setting) or malformed (`@@operators_allowed_for_child_policies`); GR029:
//! a value the setting does not accept. A type or subtree without published syntax
//! ([`Node::Open`]) gets the operator rules only.

use serde_json::{Map, Value};

use super::management_syntax::{syntax, Node, Setting, Values};
use super::{finding, Finding, Rule, MGMT_KEY, MGMT_OPERATOR, MGMT_VALUE};
use crate::model::PolicyType;

const ASSIGN: &str = "@@assign";
const APPEND: &str = "@@append";
const REMOVE: &str = "@@remove";
const CHILD_CONTROL: &str = "@@operators_allowed_for_child_policies";
const CHILD_OPERATORS: &[&str] = &["@@all", "@@none", ASSIGN, APPEND, REMOVE];

/// Lints one management policy document of type `ty`.
pub fn lint(doc: &Value, ty: PolicyType) -> Vec<Finding> {
    let mut w = Walk { out: Vec::new() };
    let root = syntax(ty).map_or(Node::Open, |s| s.root);
    if !doc.is_object() {
        w.push(MGMT_VALUE, "", "the document must be a JSON object");
        return w.out;
    }
    w.node(&root, doc, "");
    w.out
}

struct Walk {
    out: Vec<Finding>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => other.to_string(),
    }
}

impl Walk {
    fn push(&mut self, rule: Rule, path: &str, message: impl AsRef<str>) {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!("`{path}`: ")
        };
        self.out
            .push(finding(rule, None, format!("{at}{}", message.as_ref())));
    }

    fn node(&mut self, node: &Node, v: &Value, path: &str) {
        match node {
            Node::Open => self.open(v, path),
            Node::Value(setting) => self.setting(*setting, v, path),
            Node::Fields(_) | Node::Named(_) | Node::Listed(..) => {
                let Some(obj) = v.as_object() else {
                    self.push(
                        MGMT_VALUE,
                        path,
                        format!("holds settings, so it must be an object, not {}", show(v)),
                    );
                    return;
                };
                self.container(node, obj, path);
            }
        }
    }

    fn container(&mut self, node: &Node, obj: &Map<String, Value>, path: &str) {
        for (k, x) in obj {
            let here = join(path, k);
            if k.starts_with("@@") {
                self.container_operator(k, x, path, &here);
                continue;
            }
            let child = match node {
                Node::Fields(fields) => match fields.iter().find(|(name, _)| name == k) {
                    Some((_, n)) => *n,
                    None => {
                        let known: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
                        self.push(
                            MGMT_KEY,
                            &here,
                            format!(
                                "not a key of this policy type here; expected one of {}",
                                known.join(", ")
                            ),
                        );
                        Node::Open
                    }
                },
                Node::Named(n) => **n,
                Node::Listed(names, n) => {
                    if !names.contains(&k.as_str()) {
                        self.push(
                            MGMT_KEY,
                            &here,
                            format!(
                                "`{k}` is not in AWS's published list ({})",
                                names.join(", ")
                            ),
                        );
                    }
                    **n
                }
                Node::Value(_) | Node::Open => Node::Open,
            };
            self.node(&child, x, &here);
        }
    }

    fn container_operator(&mut self, op: &str, x: &Value, path: &str, here: &str) {
        match op {
            CHILD_CONTROL => self.child_control(x, here),
            ASSIGN | APPEND | REMOVE => {
                let at = if path.is_empty() {
                    "the document"
                } else {
                    path
                };
                self.push(
                    MGMT_OPERATOR,
                    here,
                    format!("`{op}` sets a setting's value, and {at} is not a setting but holds settings"),
                );
            }
            _ => self.push(
                MGMT_OPERATOR,
                here,
                format!("`{op}` is not an inheritance operator"),
            ),
        }
    }

    /// Below an [`Node::Open`] node: only the operators are checked.
    fn open(&mut self, v: &Value, path: &str) {
        let Some(obj) = v.as_object() else { return };
        for (k, x) in obj {
            let here = join(path, k);
            match k.as_str() {
                CHILD_CONTROL => self.child_control(x, &here),
                APPEND | REMOVE if !x.is_array() => self.push(
                    MGMT_OPERATOR,
                    &here,
                    format!("`{k}` takes a list of values"),
                ),
                ASSIGN | APPEND | REMOVE => {}
                o if o.starts_with("@@") => self.push(
                    MGMT_OPERATOR,
                    &here,
                    format!("`{o}` is not an inheritance operator"),
                ),
                _ => self.open(x, &here),
            }
        }
    }

    fn setting(&mut self, setting: Setting, v: &Value, path: &str) {
        let Some(obj) = v.as_object() else {
            // A value written without an operator is read as `@@assign`.
            self.assigned(setting, v, path);
            return;
        };
        for (k, x) in obj {
            let here = join(path, k);
            match (k.as_str(), setting) {
                (CHILD_CONTROL, _) => self.child_control(x, &here),
                (ASSIGN, _) => self.assigned(setting, x, path),
                (APPEND | REMOVE, Setting::One(_)) => self.push(
                    MGMT_OPERATOR,
                    &here,
                    format!(
                        "`{k}` applies to lists only, and `{path}` holds one value; use `@@assign`"
                    ),
                ),
                (APPEND | REMOVE, Setting::Many(values)) => match x.as_array() {
                    Some(items) => self.items(values, items, path),
                    None => self.push(
                        MGMT_OPERATOR,
                        &here,
                        format!("`{k}` takes a list of values"),
                    ),
                },
                (o, _) if o.starts_with("@@") => self.push(
                    MGMT_OPERATOR,
                    &here,
                    format!("`{o}` is not an inheritance operator"),
                ),
                _ => self.push(
                    MGMT_KEY,
                    &here,
                    format!(
                        "`{path}` is a setting: it takes inheritance operators, not the key `{k}`"
                    ),
                ),
            }
        }
    }

    fn assigned(&mut self, setting: Setting, x: &Value, path: &str) {
        match (setting, x) {
            (Setting::One(_), Value::Array(_) | Value::Object(_)) => self.push(
                MGMT_VALUE,
                path,
                format!("takes one value, not {}", show(x)),
            ),
            (Setting::One(values), _) => self.value(values, x, path),
            (Setting::Many(values), Value::Array(items)) => self.items(values, items, path),
            (Setting::Many(_), _) => self.push(
                MGMT_VALUE,
                path,
                format!("takes a list of values, not {}", show(x)),
            ),
        }
    }

    fn items(&mut self, values: Values, items: &[Value], path: &str) {
        for item in items {
            if item.is_array() || item.is_object() {
                self.push(
                    MGMT_VALUE,
                    path,
                    format!("a list item must be a single value, not {}", show(item)),
                );
            } else {
                self.value(values, item, path);
            }
        }
    }

    fn value(&mut self, values: Values, x: &Value, path: &str) {
        match values {
            Values::Any => {}
            Values::OneOf(accepted) => {
                if !x.as_str().is_some_and(|s| accepted.contains(&s)) {
                    self.push(
                        MGMT_VALUE,
                        path,
                        format!(
                            "{} is not accepted; use one of {} (case matters)",
                            show(x),
                            accepted.join(", ")
                        ),
                    );
                }
            }
            Values::Integer { min, max } => {
                let n = match x {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.parse::<i64>().ok(),
                    _ => None,
                };
                if !n.is_some_and(|n| (min..=max).contains(&n)) {
                    self.push(
                        MGMT_VALUE,
                        path,
                        format!(
                            "{} is not accepted; use a whole number from {min} to {max}",
                            show(x)
                        ),
                    );
                }
            }
        }
    }

    fn child_control(&mut self, x: &Value, here: &str) {
        let Some(items) = x.as_array() else {
            self.push(
                MGMT_OPERATOR,
                here,
                "takes a list such as [\"@@none\"] or [\"@@append\"]",
            );
            return;
        };
        let names: Vec<Option<&str>> = items.iter().map(Value::as_str).collect();
        for (item, name) in items.iter().zip(&names) {
            if !name.is_some_and(|n| CHILD_OPERATORS.contains(&n)) {
                self.push(
                    MGMT_OPERATOR,
                    here,
                    format!(
                        "{} is not one of {}",
                        show(item),
                        CHILD_OPERATORS.join(", ")
                    ),
                );
            }
        }
        if names.len() > 1 && names.iter().any(|n| matches!(n, Some("@@all" | "@@none"))) {
            self.push(MGMT_OPERATOR, here, "`@@all` and `@@none` stand alone");
        }
    }
}
