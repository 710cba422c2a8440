//! The compiler: the guardrails attached to each target → physical policies.
//!
//! For every distinct *set* of guardrail instances attached directly to some target, and for
//! each policy type in it: gather the instances' statements (Sids prefixed with the instance
//! name so they stay unique and traceable), merge statements that differ only in their
//! `Action` list (same Effect, Resource, NotResource, Principal and Condition), and pack them,
//! first-fit by decreasing size, into as few documents as fit the type's size limit. Targets
//! with the same set share the same policies (one policy, many attachments). Everything is
//! sorted, so the same config always yields the same names and bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::doc;
use super::limits::LimitsTable;
use crate::model::{sha256_hex, PolicyType};

/// One configured guardrail, expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailInstance {
    pub name: String,
    pub policy_type: PolicyType,
    pub statements: Vec<Value>,
}

/// One physical policy.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledPolicy {
    pub name: String,
    pub policy_type: PolicyType,
    pub description: String,
    pub document: Value,
    /// Per statement: the guardrail(s) it came from (`a, b` when merged).
    pub guardrails: Vec<Option<String>>,
}

/// The result: the policies, and which policies stand for each set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compilation {
    pub policies: Vec<CompiledPolicy>,
    pub by_set: BTreeMap<Vec<String>, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("statement {statement} of guardrail `{guardrail}` is {size} characters minified; alone it exceeds the {policy_type} limit of {limit} ({limit_source}) by {over}")]
    StatementTooLarge {
        guardrail: String,
        statement: String,
        policy_type: PolicyType,
        size: usize,
        limit: usize,
        over: usize,
        limit_source: String,
    },
}

fn camel(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The document AWS receives for a list of statements.
pub fn envelope(statements: &[Value]) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Merge key: everything but Sid and Action, for Action statements only.
fn merge_key(s: &Value) -> Option<String> {
    let m = s.as_object()?;
    if !m.contains_key("Action") || m.contains_key("NotAction") {
        return None;
    }
    let mut rest = m.clone();
    rest.remove("Sid");
    rest.remove("Action");
    Some(doc::normalize(&json!({"Statement": [Value::Object(rest)]})).to_string())
}

/// The statements a compiled statement came from, the inverse of the merge: of the
/// instances it names (`CompiledPolicy::guardrails`), each statement that merged into it (the
/// same merge key) or, for one that never merges, the one whose prefixed Sid it carries. Each
/// as (instance, the Sid as the template wrote it, or `S<n>`, the statement).
pub fn origins<'a>(
    compiled: &Value,
    instances: impl IntoIterator<Item = (&'a str, &'a [Value])>,
) -> Vec<(String, String, Value)> {
    let sid = compiled.get("Sid").and_then(Value::as_str);
    // Only a statement whose actions the compiled one lists can have merged into it, so the
    // (costly) merge keys are computed for those alone.
    let listed: BTreeSet<String> = actions(compiled).into_iter().collect();
    let mut key: Option<Option<String>> = None;
    let mut out = Vec::new();
    for (name, statements) in instances {
        for (i, s) in statements.iter().enumerate() {
            let own = s
                .get("Sid")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("S{}", i + 1));
            let hit = if compiled.get("Action").is_some() && s.get("Action").is_some() {
                actions(s).iter().all(|a| listed.contains(a)) && {
                    let k = merge_key(s);
                    k.is_some() && key.get_or_insert_with(|| merge_key(compiled)) == &k
                }
            } else {
                sid == Some(format!("{}{}", camel(name), camel(&own)).as_str())
            };
            if hit {
                out.push((name.to_owned(), own, s.clone()));
            }
        }
    }
    out
}

fn actions(s: &Value) -> Vec<String> {
    match s.get("Action") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Compiles every set. `sets` are sorted lists of instance names.
pub fn compile(
    sets: &BTreeSet<Vec<String>>,
    instances: &BTreeMap<String, GuardrailInstance>,
    limits: &LimitsTable,
) -> Result<Compilation, Vec<CompileError>> {
    let mut out = Compilation::default();
    let mut errors = Vec::new();
    for set in sets {
        let mut names_for_set = Vec::new();
        let types: BTreeSet<PolicyType> = set
            .iter()
            .filter_map(|n| instances.get(n))
            .map(|i| i.policy_type)
            .collect();
        for ty in types {
            let merged = merge(gather(set, instances, ty));
            let bins = pack(&merged, ty, limits, &mut errors);
            for policy in emit(set, ty, &merged, bins) {
                names_for_set.push(policy.name.clone());
                out.policies.push(policy);
            }
        }
        out.by_set.insert(set.clone(), names_for_set);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The statements of the set's instances of one type, each with its instance's name and a
/// Sid prefixed by it (`S<n>` for a statement without one).
fn gather(
    set: &[String],
    instances: &BTreeMap<String, GuardrailInstance>,
    ty: PolicyType,
) -> Vec<(Value, String)> {
    let mut stmts = Vec::new();
    for inst in set
        .iter()
        .filter_map(|n| instances.get(n))
        .filter(|i| i.policy_type == ty)
    {
        for (i, s) in inst.statements.iter().enumerate() {
            let mut s = s.clone();
            let sid = s
                .get("Sid")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("S{}", i + 1));
            s["Sid"] = Value::String(format!("{}{}", camel(&inst.name), camel(&sid)));
            stmts.push((s, inst.name.clone()));
        }
    }
    stmts
}

/// Merges statements that differ only in Action, keeping the first one's Sid and every
/// guardrail it came from.
fn merge(stmts: Vec<(Value, String)>) -> Vec<(Value, Vec<String>)> {
    let mut merged: Vec<(Value, Vec<String>)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (s, g) in stmts {
        match merge_key(&s).and_then(|k| index.get(&k).copied().map(|i| (k, i))) {
            Some((_, i)) => {
                let mut acts: BTreeSet<String> = actions(&merged[i].0).into_iter().collect();
                acts.extend(actions(&s));
                merged[i].0["Action"] = json!(acts.into_iter().collect::<Vec<_>>());
                if !merged[i].1.contains(&g) {
                    merged[i].1.push(g);
                }
            }
            None => {
                if let Some(k) = merge_key(&s) {
                    index.insert(k, merged.len());
                }
                merged.push((s, vec![g]));
            }
        }
    }
    merged
}

/// Packs the merged statements, first fit by decreasing size (ties broken by content for
/// determinism), into bins of indices that each fit the type's size limit. A statement too
/// large alone is an error and goes in no bin.
fn pack(
    merged: &[(Value, Vec<String>)],
    ty: PolicyType,
    limits: &LimitsTable,
    errors: &mut Vec<CompileError>,
) -> Vec<Vec<usize>> {
    let lim = limits.for_type(ty);
    let limit = lim.max_document_chars.value;
    let overhead = doc::minify(&envelope(&[])).len();
    let mut order: Vec<usize> = (0..merged.len()).collect();
    let size = |i: usize| doc::minify(&merged[i].0).len();
    order.sort_by_key(|i| (std::cmp::Reverse(size(*i)), merged[*i].0.to_string()));
    let mut bins: Vec<(usize, Vec<usize>)> = Vec::new();
    for i in order {
        let sz = size(i);
        if overhead + sz > limit {
            errors.push(CompileError::StatementTooLarge {
                guardrail: merged[i].1.join(", "),
                statement: merged[i]
                    .0
                    .get("Sid")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
                policy_type: ty,
                size: overhead + sz,
                limit,
                over: overhead + sz - limit,
                limit_source: lim.max_document_chars.source.to_string(),
            });
            continue;
        }
        match bins
            .iter_mut()
            .find(|(used, items)| used + sz + usize::from(!items.is_empty()) <= limit)
        {
            Some((used, items)) => {
                *used += sz + usize::from(!items.is_empty());
                items.push(i);
            }
            None => bins.push((overhead + sz, vec![i])),
        }
    }
    bins.into_iter().map(|(_, items)| items).collect()
}

/// The name of a set's first policy of one type: `gr-<names joined by +>` (a digest when
/// that is long or not printable), with the type's short name after it unless it is an SCP.
fn base_name(set: &[String], ty: PolicyType) -> String {
    let joined = set.join("+");
    let base = if joined.len() <= 100 && joined.chars().all(|c| c.is_ascii_graphic()) {
        format!("gr-{joined}")
    } else {
        format!("gr-{}", &sha256_hex(joined.as_bytes())[..12])
    };
    if ty == PolicyType::ServiceControlPolicy {
        base
    } else {
        format!("{base}-{}", ty.short().to_ascii_lowercase())
    }
}

/// One policy per bin: `base`, `base-2`, ..., each bin's statements in their merged order.
fn emit(
    set: &[String],
    ty: PolicyType,
    merged: &[(Value, Vec<String>)],
    bins: Vec<Vec<usize>>,
) -> Vec<CompiledPolicy> {
    let base = base_name(set, ty);
    let n = bins.len();
    let mut out = Vec::with_capacity(n);
    for (b, mut items) in bins.into_iter().enumerate() {
        items.sort();
        let name = if b == 0 {
            base.clone()
        } else {
            format!("{base}-{}", b + 1)
        };
        let statements: Vec<Value> = items.iter().map(|i| merged[*i].0.clone()).collect();
        let guardrails = items
            .iter()
            .map(|i| Some(merged[*i].1.join(", ")))
            .collect();
        let part = if n > 1 {
            format!(" (part {} of {n})", b + 1)
        } else {
            String::new()
        };
        out.push(CompiledPolicy {
            name,
            policy_type: ty,
            description: format!("guardrails {}{part}", set.join(", ")),
            document: envelope(&statements),
            guardrails,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(name: &str, stmts: Vec<Value>) -> GuardrailInstance {
        GuardrailInstance {
            name: name.into(),
            policy_type: PolicyType::ServiceControlPolicy,
            statements: stmts,
        }
    }

    #[test]
    fn merges_action_only_differences_and_shares_policies() {
        let a = inst(
            "a",
            vec![json!({"Sid":"X","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"})],
        );
        let b = inst(
            "b",
            vec![json!({"Sid":"Y","Effect":"Deny","Action":["ec2:DeleteVpc"],"Resource":"*"})],
        );
        let instances: BTreeMap<String, GuardrailInstance> =
            [("a".into(), a), ("b".into(), b)].into();
        let sets: BTreeSet<Vec<String>> = [vec!["a".into(), "b".into()], vec!["a".into()]].into();
        let c = compile(&sets, &instances, &LimitsTable::default()).unwrap();
        assert_eq!(
            c.by_set[&vec!["a".to_owned(), "b".to_owned()]],
            vec!["gr-a+b".to_owned()]
        );
        let ab = c.policies.iter().find(|p| p.name == "gr-a+b").unwrap();
        assert_eq!(ab.document["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(
            ab.document["Statement"][0]["Action"],
            json!(["ec2:DeleteVpc", "s3:DeleteBucket"])
        );
        assert_eq!(ab.guardrails, vec![Some("a, b".to_owned())]);
        assert_eq!(
            c.policies
                .iter()
                .find(|p| p.name == "gr-a")
                .unwrap()
                .document["Statement"][0]["Sid"],
            "AX"
        );
    }

    #[test]
    fn packs_into_as_few_policies_as_fit_and_is_deterministic() {
        let mut limits = LimitsTable::default();
        limits.scp.set("max_document_chars", 400);
        let stmts: Vec<Value> = (0..10)
            .map(|i| json!({"Sid": format!("S{i}"), "Effect":"Deny","NotAction":[format!("svc{i}:*")],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/t": format!("v{i}")}}}))
            .collect();
        let instances: BTreeMap<String, GuardrailInstance> =
            [("g".into(), inst("g", stmts))].into();
        let sets: BTreeSet<Vec<String>> = [vec!["g".into()]].into();
        let c1 = compile(&sets, &instances, &limits).unwrap();
        let c2 = compile(&sets, &instances, &limits).unwrap();
        assert_eq!(c1, c2);
        let total: usize = c1
            .policies
            .iter()
            .map(|p| doc::minify(&p.document).len())
            .sum();
        assert!(c1
            .policies
            .iter()
            .all(|p| doc::minify(&p.document).len() <= 400));
        assert!(
            c1.policies.len() <= total.div_ceil(400) + 1,
            "{} policies for {total}",
            c1.policies.len()
        );
        assert_eq!(c1.policies[1].name, "gr-g-2");
    }

    #[test]
    fn a_statement_too_large_alone_says_by_how_much() {
        let mut limits = LimitsTable::default();
        limits.scp.set("max_document_chars", 100);
        let s = json!({"Sid":"Big","Effect":"Deny","Action":["a:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","b:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"],"Resource":"*"});
        let instances: BTreeMap<String, GuardrailInstance> =
            [("g".into(), inst("g", vec![s]))].into();
        let err = compile(&[vec!["g".to_owned()]].into(), &instances, &limits).unwrap_err();
        assert!(
            matches!(&err[0], CompileError::StatementTooLarge { over, .. } if *over > 0),
            "{err:?}"
        );
        assert!(err[0]
            .to_string()
            .contains("exceeds the SCP limit of 100 (set in config) by"));
    }

    /// `origins` undoes the merge: a merged statement names each statement it came from,
    /// with the Sid its template wrote; a NotAction statement (never merged) names its own.
    #[test]
    fn origins_name_the_statements_a_merged_statement_came_from() {
        let a = inst(
            "a",
            vec![
                json!({"Sid":"Ec2","Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*"}),
                json!({"Sid":"Bucket","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}),
                json!({"Effect":"Deny","NotAction":"iam:*","Resource":"*"}),
            ],
        );
        let stmts = a.statements.clone();
        let instances: BTreeMap<String, GuardrailInstance> = [("a".into(), a)].into();
        let c = compile(
            &[vec!["a".into()]].into(),
            &instances,
            &LimitsTable::default(),
        );
        let c = c.unwrap_or_else(|e| panic!("{e:?}"));
        let doc = &c.policies[0].document["Statement"];
        let names = |i: usize| -> Vec<String> {
            origins(&doc[i], [("a", stmts.as_slice())])
                .into_iter()
                .map(|(g, sid, _)| format!("{g}/{sid}"))
                .collect()
        };
        let all: Vec<Vec<String>> = (0..doc.as_array().map_or(0, Vec::len)).map(names).collect();
        assert_eq!(all.len(), 2, "{all:?}");
        let merged = vec!["a/Ec2".to_owned(), "a/Bucket".to_owned()];
        // The third statement has no Sid: `S3`, as the compiled Sid `AS3` has it.
        let not_action = vec!["a/S3".to_owned()];
        assert!(
            all.contains(&merged) && all.contains(&not_action),
            "{all:?}"
        );
    }
}
