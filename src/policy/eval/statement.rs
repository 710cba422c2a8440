//! A policy document parsed once into typed statements, and whether a statement applies to a
//! request. Nothing here walks JSON per request.

use serde_json::Value;

use super::condition::{parse_operator, Condition};
use super::pattern::{arn_head_like, arn_like, glob, resolve_resource};
use super::request::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
    /// Anything else: AWS rejects the policy; the statement never applies.
    Invalid,
}

/// `Action` or `NotAction` (patterns lower-cased: AWS matches actions case-insensitively).
#[derive(Debug, Clone, PartialEq)]
pub enum Actions {
    Action(Vec<String>),
    NotAction(Vec<String>),
    /// Neither element: the statement matches nothing.
    Missing,
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub enum Resources {
    Resource(Vec<String>),
    NotResource(Vec<String>),
    /// Neither element: every resource.
    Any,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The Sid, or `#N` (1-based) when it has none.
    pub name: String,
    pub effect: Effect,
    pub actions: Actions,
    pub resources: Resources,
    pub conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

impl Policy {
    /// Parses a document; whatever is malformed becomes a statement that never applies.
    pub fn parse(doc: &Value) -> Policy {
        let raw: Vec<&Value> = match doc.get("Statement") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            _ => Vec::new(),
        };
        Policy {
            statements: raw
                .into_iter()
                .enumerate()
                .map(|(i, s)| Statement::parse(s, i))
                .collect(),
        }
    }
}

impl Statement {
    pub fn parse(s: &Value, index: usize) -> Statement {
        let name = s
            .get("Sid")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("#{}", index + 1));
        let effect = match s.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            _ => Effect::Invalid,
        };
        let lower = |v: &Value| strings(v).iter().map(|a| a.to_ascii_lowercase()).collect();
        let actions = match (s.get("Action"), s.get("NotAction")) {
            (Some(a), None) => Actions::Action(lower(a)),
            (None, Some(na)) => Actions::NotAction(lower(na)),
            _ => Actions::Missing,
        };
        let resources = match (s.get("Resource"), s.get("NotResource")) {
            (Some(r), None) => Resources::Resource(strings(r)),
            (None, Some(nr)) => Resources::NotResource(strings(nr)),
            (None, None) => Resources::Any,
            // Both: AWS rejects the policy; match nothing.
            (Some(_), Some(_)) => Resources::Resource(Vec::new()),
        };
        let mut conditions = Vec::new();
        match s.get("Condition") {
            None => {}
            Some(Value::Object(ops)) => {
                for (op, keys) in ops {
                    let parsed = parse_operator(op);
                    let Value::Object(keys) = keys else {
                        conditions.push(Condition {
                            op: None,
                            key: String::new(),
                            values: Vec::new(),
                            multivalued: false,
                        });
                        continue;
                    };
                    for (key, values) in keys {
                        conditions.push(Condition {
                            op: parsed,
                            key: key.clone(),
                            values: strings(values),
                            multivalued: crate::policy::iam::is_multivalued_key(key),
                        });
                    }
                }
            }
            // A malformed Condition never holds.
            Some(_) => conditions.push(Condition {
                op: None,
                key: String::new(),
                values: Vec::new(),
                multivalued: false,
            }),
        }
        Statement {
            name,
            effect,
            actions,
            resources,
            conditions,
        }
    }

    /// Whether the statement applies to a request (effect aside).
    pub fn matches(&self, req: &Request) -> bool {
        let action = req.action.to_ascii_lowercase();
        let action_ok = match &self.actions {
            Actions::Action(p) => p.iter().any(|p| glob(p, &action)),
            Actions::NotAction(p) => !p.iter().any(|p| glob(p, &action)),
            Actions::Missing => false,
        };
        if !action_ok {
            return false;
        }
        let matches_any = |pats: &[String], r: &str| {
            pats.iter()
                .any(|p| resolve_resource(p, req).is_some_and(|p| arn_like(&p, r)))
        };
        let resource_ok = match (&req.resource, &self.resources) {
            (None, _) | (_, Resources::Any) => true,
            (Some(r), Resources::Resource(p)) => matches_any(p, r),
            // AWS: a policy variable it cannot resolve can make the whole statement invalid
            // (IAM User Guide, "Policy variables with no value"). For NotResource, reading the
            // entry as "matches nothing" would make a Deny apply to every resource, so a
            // NotResource entry with an unresolvable variable keeps the statement from
            // applying, unless the ARN segments before the variable already rule the
            // resource out (then no value of the variable could have matched it).
            (Some(r), Resources::NotResource(p)) => !p.iter().any(|pat| {
                resolve_resource(pat, req)
                    .map_or_else(|| arn_head_like(pat, r), |pat| arn_like(&pat, r))
            }),
        };
        resource_ok && self.conditions.iter().all(|c| c.holds(req))
    }
}
