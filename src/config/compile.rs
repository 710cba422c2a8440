//! The step after the walk that compiles the SCP and RCP guardrails into policies
//! (`policy::compile`: one policy set per distinct set of guardrails on a target) and attaches
//! them to the targets carrying the set. Management-policy guardrails go through
//! `documents.rs`.

use std::collections::{BTreeMap, BTreeSet};

use toml_edit::{Item, TableLike};

use super::error::ErrorKind;
use super::parse::{join, key_span, Walker};
use crate::model::{Desired, DesiredPolicy, OuPath};
use crate::policy::compile::{self, CompileError, GuardrailInstance};

/// `(kind, key, set)`: a target (`root`, `ous` or `accounts` and its key) and the sorted names
/// of the compilable guardrails it carries.
type TargetSet = (&'static str, String, Vec<String>);

/// The SCP and RCP guardrails as the compiler takes them.
fn instances(d: &Desired) -> BTreeMap<String, GuardrailInstance> {
    d.guardrails
        .values()
        .filter(|g| g.document.is_none())
        .map(|g| {
            (
                g.name.clone(),
                GuardrailInstance {
                    name: g.name.clone(),
                    policy_type: g.policy_type,
                    statements: g.statements.clone(),
                },
            )
        })
        .collect()
}

/// Every target with its set of compilable guardrails.
fn target_sets(d: &Desired, instances: &BTreeMap<String, GuardrailInstance>) -> Vec<TargetSet> {
    let mut targets: Vec<TargetSet> = Vec::new();
    targets.push((
        "root",
        String::new(),
        d.root.guardrails.iter().cloned().collect(),
    ));
    for (p, o) in &d.ous {
        targets.push(("ous", p.to_string(), o.guardrails.iter().cloned().collect()));
    }
    for (k, a) in &d.accounts {
        targets.push((
            "accounts",
            k.clone(),
            a.guardrails.iter().cloned().collect(),
        ));
    }
    for t in &mut targets {
        t.2.retain(|n| instances.contains_key(n));
    }
    targets
}

/// Adds each target's compiled policies (`by_set`) to its `policies`.
fn attach(d: &mut Desired, targets: &[TargetSet], by_set: &BTreeMap<Vec<String>, Vec<String>>) {
    for (kind, key, set) in targets {
        if set.is_empty() {
            continue;
        }
        let names = by_set.get(set).cloned().unwrap_or_default();
        let policies = match *kind {
            "root" => &mut d.root.policies,
            "ous" => match OuPath::parse(key).and_then(|p| d.ous.get_mut(&p)) {
                Some(o) => &mut o.policies,
                None => continue,
            },
            _ => match d.accounts.get_mut(key) {
                Some(a) => &mut a.policies,
                None => continue,
            },
        };
        policies.extend(names.iter().cloned());
    }
}

impl Walker<'_> {
    /// Compiles guardrail sets into policies and attaches them; checks slots per target.
    pub(super) fn compile(&mut self, top: &dyn TableLike, d: &mut Desired) {
        self.compile_documents(top, d);
        let instances = instances(d);
        let targets = target_sets(d, &instances);
        let sets: BTreeSet<Vec<String>> = targets
            .iter()
            .map(|t| t.2.clone())
            .filter(|s| !s.is_empty())
            .collect();
        if sets.is_empty() {
            return;
        }
        let compiled = match compile::compile(&sets, &instances, &d.limits) {
            Ok(c) => c,
            Err(errors) => {
                self.compile_errors(top, errors);
                return;
            }
        };
        for p in &compiled.policies {
            if d.policies.contains_key(&p.name) {
                self.err(ErrorKind::Duplicate, key_span(top, "policies"), &join("policies", &p.name), format!("`{}` is the name of a compiled guardrail policy; rename the declared policy", p.name));
                return;
            }
        }
        for p in compiled.policies {
            d.policies.insert(
                p.name.clone(),
                DesiredPolicy {
                    pinned_id: None,
                    name: p.name,
                    policy_type: p.policy_type,
                    description: p.description,
                    document: p.document,
                    source: "(compiled from guardrails)".into(),
                    guardrails: p.guardrails,
                },
            );
        }
        attach(d, &targets, &compiled.by_set);
    }

    /// Reports each compile error at the first guardrail it names.
    fn compile_errors(&mut self, top: &dyn TableLike, errors: Vec<CompileError>) {
        let gs = top.get("guardrails").and_then(Item::as_table_like);
        for e in errors {
            let CompileError::StatementTooLarge { guardrail, .. } = &e;
            let first = guardrail.split(", ").next().unwrap_or_default().to_owned();
            let span = gs.and_then(|g| key_span(g, &first));
            self.err(
                ErrorKind::Limit,
                span,
                &join("guardrails", &first),
                e.to_string(),
            );
        }
    }
}
