//! The effective management policy against a second, deliberately simple implementation
//! written here from the same rules (AWS's "Inheritance operators" page and examples), for
//! random small policies on random levels. AWS's documented inheritance examples are fixtures
//! for both: `effective.rs` runs each through `agrees_with_simple` before checking the
//! documented result.

use std::collections::{BTreeMap, BTreeSet};

use guardrail::policy::effective::{effective, Attached, Level, Problem};
use proptest::prelude::*;
use serde_json::{json, Value};

// ---- the second implementation ----------------------------------------------------------
//
// Written directly from the rules, on flat maps: every policy becomes a list of instructions
// (path, operator, values), the effective policy is a map from path to value, the limits a map
// from path to the set of operators children may use.

type Path = Vec<String>;

#[derive(Debug, Clone)]
enum Instr {
    Set(Value),
    Add(Vec<Value>),
    Take(Vec<Value>),
    Limit(BTreeSet<&'static str>),
}

fn instructions(v: &Value, path: &mut Path, out: &mut Vec<(Path, Instr)>) {
    let Some(obj) = v.as_object() else {
        out.push((path.clone(), Instr::Set(v.clone())));
        return;
    };
    if let Some(x) = obj.get("@@assign") {
        out.push((path.clone(), Instr::Set(x.clone())));
    }
    if let Some(Value::Array(x)) = obj.get("@@append") {
        out.push((path.clone(), Instr::Add(x.clone())));
    }
    if let Some(Value::Array(x)) = obj.get("@@remove") {
        out.push((path.clone(), Instr::Take(x.clone())));
    }
    if let Some(Value::Array(x)) = obj.get("@@operators_allowed_for_child_policies") {
        let names: Vec<&str> = x.iter().filter_map(Value::as_str).collect();
        let set: BTreeSet<&'static str> = if names.contains(&"@@all") {
            ["@@assign", "@@append", "@@remove"].into()
        } else {
            ["@@assign", "@@append", "@@remove"]
                .into_iter()
                .filter(|o| names.contains(o))
                .collect()
        };
        out.push((path.clone(), Instr::Limit(set)));
    }
    let mut keys: Vec<&String> = obj.keys().filter(|k| !k.starts_with("@@")).collect();
    keys.sort();
    for k in keys {
        path.push(k.clone());
        instructions(&obj[k], path, out);
        path.pop();
    }
}

/// Returns the effective document and the refused (policy, path, operator) triples.
fn simple(levels: &[Vec<(String, Value)>]) -> (Value, Vec<(String, String, &'static str)>) {
    let mut values: BTreeMap<Path, Value> = BTreeMap::new();
    let mut limits: BTreeMap<Path, BTreeSet<&'static str>> = BTreeMap::new();
    let mut refused = Vec::new();
    for level in levels {
        let mut new_limits: Vec<(Path, BTreeSet<&'static str>)> = Vec::new();
        let mut first_assign: BTreeMap<Path, Value> = BTreeMap::new();
        for (name, doc) in level {
            let mut list = Vec::new();
            instructions(doc, &mut Vec::new(), &mut list);
            for (path, instr) in list {
                let op = match &instr {
                    Instr::Set(_) => "@@assign",
                    Instr::Add(_) => "@@append",
                    Instr::Take(_) => "@@remove",
                    Instr::Limit(set) => {
                        new_limits.push((path, set.clone()));
                        continue;
                    }
                };
                let allowed =
                    (0..=path.len()).all(|n| limits.get(&path[..n]).is_none_or(|s| s.contains(op)));
                if !allowed {
                    refused.push((name.clone(), path.join("."), op));
                    continue;
                }
                match instr {
                    Instr::Set(v) => {
                        if !first_assign.contains_key(&path) {
                            first_assign.insert(path.clone(), v.clone());
                            values.insert(path, v);
                        }
                    }
                    Instr::Add(items) => {
                        let cur = values.entry(path).or_insert_with(|| json!([]));
                        if let Value::Array(list) = cur {
                            for i in items {
                                if !list.contains(&i) {
                                    list.push(i);
                                }
                            }
                        }
                    }
                    Instr::Take(items) => {
                        if let Some(Value::Array(list)) = values.get_mut(&path) {
                            list.retain(|v| !items.contains(v));
                            if list.is_empty() {
                                values.remove(&path);
                            }
                        }
                    }
                    Instr::Limit(_) => {}
                }
            }
        }
        for (path, set) in new_limits {
            let cur = limits
                .entry(path)
                .or_insert_with(|| ["@@assign", "@@append", "@@remove"].into());
            *cur = cur.intersection(&set).copied().collect();
        }
    }
    let mut doc = json!({});
    for (path, v) in values {
        let mut node = &mut doc;
        for seg in &path[..path.len() - 1] {
            node = node
                .as_object_mut()
                .expect("the generator puts values at leaves only")
                .entry(seg.clone())
                .or_insert_with(|| json!({}));
        }
        node.as_object_mut()
            .expect("the generator puts values at leaves only")
            .insert(path[path.len() - 1].clone(), v);
    }
    (doc, refused)
}

// ---- random small policies ----------------------------------------------------------------

fn word() -> impl Strategy<Value = Value> {
    prop_oneof![Just(json!("v1")), Just(json!("v2")), Just(json!("v3"))]
}

fn words() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(word(), 0..3)
}

fn child_control() -> impl Strategy<Value = Option<Value>> {
    let ops = prop::sample::subsequence(vec!["@@assign", "@@append", "@@remove"], 0..=3);
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(json!(["@@all"]))),
        1 => Just(Some(json!(["@@none"]))),
        2 => ops.prop_map(|o| Some(json!(o))),
    ]
}

/// A leaf setting: some operators (or a plain value), perhaps a limit.
fn leaf() -> impl Strategy<Value = Option<Value>> {
    let assign = prop_oneof![word(), words().prop_map(Value::Array)];
    (
        prop::option::of(assign),
        prop::option::of(words()),
        prop::option::of(words()),
        child_control(),
        prop::option::weighted(0.1, word()),
        0..4u8,
    )
        .prop_map(|(assign, append, remove, limit, plain, absent)| {
            if absent == 0 {
                return None;
            }
            if let Some(p) = plain {
                return Some(p);
            }
            let mut m = serde_json::Map::new();
            if let Some(a) = assign {
                m.insert("@@assign".into(), a);
            }
            if let Some(a) = append {
                m.insert("@@append".into(), Value::Array(a));
            }
            if let Some(r) = remove {
                m.insert("@@remove".into(), Value::Array(r));
            }
            if let Some(l) = limit {
                m.insert("@@operators_allowed_for_child_policies".into(), l);
            }
            Some(Value::Object(m))
        })
}

/// An inner node with leaves `x` and `y`, perhaps a limit.
fn inner() -> impl Strategy<Value = Value> {
    (leaf(), leaf(), child_control()).prop_map(|(x, y, limit)| {
        let mut m = serde_json::Map::new();
        if let Some(x) = x {
            m.insert("x".into(), x);
        }
        if let Some(y) = y {
            m.insert("y".into(), y);
        }
        if let Some(l) = limit {
            m.insert("@@operators_allowed_for_child_policies".into(), l);
        }
        Value::Object(m)
    })
}

fn policy() -> impl Strategy<Value = Value> {
    (inner(), prop::option::of(inner()), child_control()).prop_map(|(a, b, limit)| {
        let mut m = serde_json::Map::new();
        m.insert("a".into(), a);
        if let Some(b) = b {
            m.insert("b".into(), b);
        }
        if let Some(l) = limit {
            m.insert("@@operators_allowed_for_child_policies".into(), l);
        }
        Value::Object(m)
    })
}

fn levels() -> impl Strategy<Value = Vec<Vec<(String, Value)>>> {
    prop::collection::vec(prop::collection::vec(policy(), 0..3), 1..5).prop_map(|levels| {
        levels
            .into_iter()
            .enumerate()
            .map(|(l, ps)| {
                ps.into_iter()
                    .enumerate()
                    .map(|(i, d)| (format!("L{l}P{i}"), d))
                    .collect()
            })
            .collect()
    })
}

/// The effective policy of `levels` (root first), and what it refuses, equal the simple
/// implementation's; `case` names the case in a failure.
pub(crate) fn agrees_with_simple(
    levels: &[Vec<(String, Value)>],
    case: &str,
) -> Result<(), TestCaseError> {
    let typed: Vec<Level> = levels
        .iter()
        .enumerate()
        .map(|(i, ps)| Level {
            target: format!("level {i}"),
            policies: ps
                .iter()
                .map(|(n, d)| Attached {
                    name: n.clone(),
                    document: d.clone(),
                })
                .collect(),
        })
        .collect();
    let got = effective(&typed);
    let (want, mut want_refused) = simple(levels);
    prop_assert_eq!(&got.document, &want, "{}", case);
    let mut got_refused: Vec<(String, String, &'static str)> = got
        .findings
        .iter()
        .filter_map(|f| match f.problem {
            Problem::NotAllowed(op) => Some((f.policy.clone(), f.path.clone(), op.key())),
            _ => None,
        })
        .collect();
    got_refused.sort();
    want_refused.sort();
    prop_assert_eq!(got_refused, want_refused, "{}", case);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_effective_policy_equals_the_simple_implementation(levels in levels()) {
        agrees_with_simple(&levels, "random operators")?;
    }
}

// ---- every type, on its own keys -----------------------------------------------------------
//
// The same comparison on documents shaped like each management type's real policies: the
// settings come from the type's syntax table (`policy::lint::management_syntax`), names the
// author chooses as `k1`/`k2`, listed names (AI services) as the first two.

use guardrail::policy::lint::management_syntax::{Node, SYNTAXES};

fn leaf_paths(node: &Node, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut descend = |k: &str, n: &Node, out: &mut Vec<Vec<String>>| {
        path.push(k.to_owned());
        leaf_paths(n, path, out);
        path.pop();
    };
    match node {
        Node::Fields(fields) => fields.iter().for_each(|(k, n)| descend(k, n, out)),
        Node::Named(n) => ["k1", "k2"].iter().for_each(|k| descend(k, n, out)),
        Node::Listed(names, n) => names.iter().take(2).for_each(|k| descend(k, n, out)),
        Node::Value(_) | Node::Open => out.push(path.clone()),
    }
}

fn insert_at(doc: &mut Value, path: &[String], v: Value) {
    let mut node = doc;
    for seg in path {
        node = node
            .as_object_mut()
            .expect("leaves are never prefixes of one another")
            .entry(seg.clone())
            .or_insert_with(|| json!({}));
    }
    *node = v;
}

fn typed_policy(paths: Vec<Vec<String>>) -> impl Strategy<Value = Value> {
    let most = paths.len().min(4);
    (
        prop::sample::subsequence(paths, 1..=most),
        prop::collection::vec(leaf(), 4),
        child_control(),
    )
        .prop_map(|(chosen, leaves, top_limit)| {
            let mut doc = json!({});
            for (p, l) in chosen.iter().zip(leaves) {
                if let Some(l) = l {
                    insert_at(&mut doc, p, l);
                }
            }
            if let (Some(l), Some(first)) = (top_limit, chosen.first()) {
                if let Some(top) = doc.get_mut(&first[0]).and_then(Value::as_object_mut) {
                    top.insert("@@operators_allowed_for_child_policies".into(), l);
                }
            }
            doc
        })
}

fn typed_levels() -> impl Strategy<Value = (String, Vec<Vec<(String, Value)>>)> {
    (0..SYNTAXES.len()).prop_flat_map(|i| {
        let mut paths = Vec::new();
        leaf_paths(&SYNTAXES[i].root, &mut Vec::new(), &mut paths);
        let name = SYNTAXES[i].policy_type.api_name().to_owned();
        let levels = prop::collection::vec(prop::collection::vec(typed_policy(paths), 0..3), 1..5)
            .prop_map(|levels| {
                levels
                    .into_iter()
                    .enumerate()
                    .map(|(l, ps)| {
                        ps.into_iter()
                            .enumerate()
                            .map(|(i, d)| (format!("L{l}P{i}"), d))
                            .collect()
                    })
                    .collect()
            });
        (Just(name), levels)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_types_effective_policy_equals_the_simple_implementation((ty, levels) in typed_levels()) {
        agrees_with_simple(&levels, &ty)?;
    }
}
