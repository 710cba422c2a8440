//! Policy documents: parse, normal form, minify, pretty-print, diff.
//!
//! Two documents are *equivalent* when their normal forms are equal. The normal form makes the
//! things that do not change a policy's meaning disappear, which is what stops the endless
//! diffs other tools show: key order, whitespace, a single value versus a one-element list,
//! the order (and repetition) of values in `Action`, `NotAction`, `Resource`, `NotResource`,
//! principal lists and condition values, and the order of statements; in a management policy
//! (tag, backup, declarative, ...), key order, whitespace and the order and repetition of the
//! operators in `@@operators_allowed_for_child_policies`.

use serde_json::{Map, Value};
use similar::TextDiff;

/// A document that is not valid JSON, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at line {line}, column {column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses a document, keeping its key order.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    serde_json::from_str(text).map_err(|e| ParseError {
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Elements whose value is a set of strings: one value or a list mean the same, order and
/// repetition do not matter.
const SET_ELEMENTS: &[&str] = &["Action", "NotAction", "Resource", "NotResource"];

/// The normal form of a document (see the module docs).
pub fn normalize(doc: &Value) -> Value {
    match doc {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in sorted(map) {
                let v = match k.as_str() {
                    "Statement" => normalize_statements(v),
                    _ => sort_keys(v),
                };
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        other => sort_keys(other),
    }
}

fn normalize_statements(v: &Value) -> Value {
    let list: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut stmts: Vec<Value> = list.into_iter().map(normalize_statement).collect();
    stmts.sort_by_cached_key(statement_sort_key);
    Value::Array(stmts)
}

fn statement_sort_key(s: &Value) -> (String, String) {
    let sid = s
        .get("Sid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    (sid, s.to_string())
}

fn normalize_statement(stmt: &Value) -> Value {
    let Value::Object(map) = stmt else {
        return sort_keys(stmt);
    };
    let mut out = Map::new();
    for (k, v) in sorted(map) {
        let v = if SET_ELEMENTS.contains(&k.as_str()) {
            string_set(v)
        } else if k == "Condition" {
            normalize_condition(v)
        } else if k == "Principal" || k == "NotPrincipal" {
            normalize_principal(v)
        } else {
            sort_keys(v)
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

fn normalize_condition(v: &Value) -> Value {
    let Value::Object(ops) = v else {
        return sort_keys(v);
    };
    let mut out = Map::new();
    for (op, keys) in sorted(ops) {
        let normal = match keys {
            Value::Object(keys) => {
                let mut m = Map::new();
                for (key, values) in sorted(keys) {
                    m.insert(key.clone(), string_set(values));
                }
                Value::Object(m)
            }
            other => sort_keys(other),
        };
        out.insert(op.clone(), normal);
    }
    Value::Object(out)
}

fn normalize_principal(v: &Value) -> Value {
    match v {
        Value::Object(kinds) => {
            let mut m = Map::new();
            for (kind, values) in sorted(kinds) {
                m.insert(kind.clone(), string_set(values));
            }
            Value::Object(m)
        }
        other => other.clone(),
    }
}

/// A value or list of values as a sorted, de-duplicated list.
fn string_set(v: &Value) -> Value {
    let mut items: Vec<Value> = match v {
        Value::Array(items) => items.iter().map(sort_keys).collect(),
        single => vec![sort_keys(single)],
    };
    items.sort_by_cached_key(|i| match i {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    items.dedup();
    Value::Array(items)
}

fn sorted(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// A management policy's child control: a set of operators, so its order and repetition do
/// not matter.
const CHILD_CONTROL: &str = "@@operators_allowed_for_child_policies";

/// Recursively sorts object keys; arrays keep their order, but for the child control's.
fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in sorted(map) {
                let v = match v {
                    Value::Array(_) if k == CHILD_CONTROL => string_set(v),
                    _ => sort_keys(v),
                };
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Whether two documents mean the same.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

/// The document as sent to AWS: no whitespace outside strings, key order as written.
pub fn minify(doc: &Value) -> String {
    doc.to_string()
}

/// The size AWS counts for a document sent as `minify` produces it. AWS's quota is stated in
/// characters; counting UTF-8 bytes is never smaller, so a document that fits here fits there.
pub fn sent_size(doc: &Value) -> usize {
    minify(doc).len()
}

/// Pretty JSON (two-space indent) with a trailing newline, as `import` writes documents.
pub fn pretty(doc: &Value) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|_| doc.to_string());
    s.push('\n');
    s
}

/// A statement-level unified diff of the normal forms, `old` (live) to `new` (desired).
/// Empty when the documents are equivalent.
pub fn diff(old: &Value, new: &Value) -> String {
    let (a, b) = (normalize(old), normalize(new));
    if a == b {
        return String::new();
    }
    let (ta, tb) = (pretty(&a), pretty(&b));
    TextDiff::from_lines(&ta, &tb)
        .unified_diff()
        .context_radius(3)
        .header("live", "desired")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formatting_and_ordering_do_not_matter() {
        let a = json!({"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}});
        let b = json!({"Statement":[{"Resource":["*"],"Action":["organizations:LeaveOrganization","organizations:LeaveOrganization"],"Effect":"Deny"}],"Version":"2012-10-17"});
        assert!(equivalent(&a, &b));
        assert_eq!(diff(&a, &b), "");
    }

    #[test]
    fn action_order_and_statement_order_do_not_matter() {
        let a = json!({"Statement":[{"Sid":"A","Effect":"Deny","Action":["s3:B","s3:A"]},{"Sid":"B","Effect":"Deny","Action":"ec2:*"}]});
        let b = json!({"Statement":[{"Sid":"B","Effect":"Deny","Action":"ec2:*"},{"Sid":"A","Effect":"Deny","Action":["s3:A","s3:B"]}]});
        assert!(equivalent(&a, &b));
    }

    #[test]
    fn condition_values_are_sets() {
        let a = json!({"Statement":[{"Effect":"Deny","Action":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]});
        let b = json!({"Statement":[{"Effect":"Deny","Action":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]}}}]});
        assert!(equivalent(&a, &b));
    }

    #[test]
    fn a_real_change_is_a_diff() {
        let a = json!({"Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]});
        let b = json!({"Statement":[{"Effect":"Deny","Action":["s3:DeleteBucket","s3:PutBucketPolicy"],"Resource":"*"}]});
        assert!(!equivalent(&a, &b));
        let d = diff(&a, &b);
        assert!(d.contains("+        \"s3:PutBucketPolicy\""), "{d}");
        assert!(d.contains("-        \"s3:DeleteBucket\"\n"), "{d}");
        assert!(d.starts_with("--- live\n+++ desired\n"), "{d}");
    }

    #[test]
    fn a_management_policys_child_control_is_a_set_its_values_are_not() {
        let a = json!({"tags":{"cc":{"tag_value":{"@@operators_allowed_for_child_policies":["@@remove","@@append"],"@@assign":["1","2"]}}}});
        let b = json!({"tags":{"cc":{"tag_value":{"@@assign":["1","2"],"@@operators_allowed_for_child_policies":["@@append","@@remove","@@append"]}}}});
        assert!(equivalent(&a, &b));
        let c = json!({"tags":{"cc":{"tag_value":{"@@assign":["1","2"],"@@operators_allowed_for_child_policies":["@@append"]}}}});
        assert!(!equivalent(&a, &c));
        let d = json!({"tags":{"cc":{"tag_value":{"@@assign":["2","1"],"@@operators_allowed_for_child_policies":["@@append","@@remove"]}}}});
        assert!(
            !equivalent(&a, &d),
            "values keep their order: AWS shows them as written"
        );
    }

    #[test]
    fn effect_case_matters_values_are_not_rewritten() {
        let a = json!({"Statement":[{"Effect":"Deny","Action":"s3:GetObject"}]});
        let b = json!({"Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]});
        assert!(!equivalent(&a, &b));
    }

    #[test]
    fn minify_has_no_whitespace_outside_strings() {
        let v = parse("{ \"Statement\" : [ { \"Sid\": \"a b\" } ] }").unwrap();
        assert_eq!(minify(&v), r#"{"Statement":[{"Sid":"a b"}]}"#);
        assert_eq!(sent_size(&v), 29);
    }

    #[test]
    fn parse_error_has_a_position() {
        let e = parse("{\n  \"a\": ,\n}").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.column > 0);
    }
}
