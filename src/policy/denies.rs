//! The Deny statements of a policy as comparable values, and when one statement is known to
//! deny at least what another denies. The planner uses this to decide whether a policy may be
//! detached from a target before its replacement is attached (when the target is at its
//! limit): only when every Deny it carries is still covered by a statement that stays, or is
//! wanted nowhere by the new config.
//!
//! Coverage is deliberately syntactic and sound, never complete: `r` covers `s` when both are
//! Deny statements that agree on everything but `Sid` and `Action` (in normal form), and every
//! action pattern of `s` is matched by one of `r`'s as a whole (`*`, `svc:*`, the same pattern
//! ignoring case, or a pattern of `r` whose only wildcard is a trailing `*` and is a prefix of
//! `s`'s). When coverage cannot be shown, the statement counts as not covered, which can only
//! make the planner more careful.

use serde_json::{Map, Value};

use super::doc;

/// The Deny statements of a document in normal form, each without its `Sid` (a name, not a
/// meaning). A document that is not an object yields none.
pub fn deny_statements(document: &Value) -> Vec<Value> {
    statements(document)
        .into_iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Deny"))
        .collect()
}

/// Whether a document holds an Allow statement.
pub fn has_allow(document: &Value) -> bool {
    statements(document)
        .iter()
        .any(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
}

fn statements(document: &Value) -> Vec<Value> {
    let normal = doc::normalize(document);
    let list = match normal.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    };
    list.into_iter()
        .map(|s| match s {
            Value::Object(mut m) => {
                m.remove("Sid");
                Value::Object(m)
            }
            other => other,
        })
        .collect()
}

/// The `Action` patterns of a statement, lower-cased (AWS matches actions ignoring case).
fn actions(stmt: &Map<String, Value>) -> Option<Vec<String>> {
    match stmt.get("Action")? {
        Value::String(s) => Some(vec![s.to_ascii_lowercase()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_ascii_lowercase))
            .collect(),
        _ => None,
    }
}

/// Whether pattern `r` matches every action pattern `s` matches.
fn pattern_covers(r: &str, s: &str) -> bool {
    if r == "*" || r == s {
        return true;
    }
    match r.strip_suffix('*') {
        Some(prefix) if !prefix.contains(['*', '?']) => s.starts_with(prefix),
        _ => false,
    }
}

/// Whether Deny statement `r` denies at least every request Deny statement `s` denies (both as
/// returned by [`deny_statements`]).
pub fn covers(r: &Value, s: &Value) -> bool {
    if r == s {
        return true;
    }
    let (Value::Object(r), Value::Object(s)) = (r, s) else {
        return false;
    };
    let rest = |m: &Map<String, Value>| -> Map<String, Value> {
        m.iter()
            .filter(|(k, _)| k.as_str() != "Action")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    if rest(r) != rest(s) {
        return false;
    }
    match (actions(r), actions(s)) {
        (Some(ra), Some(sa)) => sa
            .iter()
            .all(|sp| ra.iter().any(|rp| pattern_covers(rp, sp))),
        _ => false,
    }
}

/// Whether some statement in `pool` covers `s`.
pub fn covered_by<'a>(s: &Value, mut pool: impl Iterator<Item = &'a Value>) -> bool {
    pool.any(|r| covers(r, s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deny(actions: Value) -> Value {
        deny_statements(&json!({"Version":"2012-10-17","Statement":[
            {"Sid":"X","Effect":"Deny","Action":actions,"Resource":"*"}]}))
        .remove(0)
    }

    #[test]
    fn coverage_is_sound_and_ignores_sid_and_case() {
        let a = deny(json!(["s3:DeleteBucket"]));
        assert!(covers(&deny(json!("S3:deletebucket")), &a));
        assert!(covers(&deny(json!(["s3:*"])), &a));
        assert!(covers(&deny(json!(["s3:Delete*", "ec2:*"])), &a));
        assert!(covers(&deny(json!("*")), &a));
        assert!(!covers(&deny(json!("s3:Get*")), &a));
        assert!(!covers(
            &deny(json!("s3:Delete?ucket")),
            &deny(json!("s3:Delete*"))
        ));
        assert!(!covers(&a, &deny(json!("s3:*"))));
        let conditioned = deny_statements(
            &json!({"Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}),
        );
        assert!(!covers(&conditioned[0], &a), "a condition narrows the deny");
        assert!(has_allow(
            &json!({"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})
        ));
        assert!(deny_statements(
            &json!({"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})
        )
        .is_empty());
    }
}
