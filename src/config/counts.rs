//! The counts the config alone decides, checked against AWS's limits whatever else failed:
//! policies per target and type (at least one SCP, at most the type's limit, compiled
//! guardrail policies included when they compiled), policies and OUs per organization.

use std::collections::BTreeSet;
use std::ops::Range;

use toml_edit::{Item, TableLike};

use super::error::ErrorKind;
use super::parse::{join, key_span, Walker};
use crate::model::{Desired, PolicyType};

/// The dotted key of a target's table: `root`, `ous.KEY` or `accounts.KEY`.
fn target_base(kind: &str, key: &str) -> String {
    if kind == "root" {
        "root".to_owned()
    } else {
        join(kind, key)
    }
}

impl Walker<'_> {
    /// Every target's attachments per type against AWS's per-target limit, counted from the
    /// config's lists (and the compiled guardrail policies when they compiled). Runs whatever
    /// else failed, so a plan's limit breaches show up in one run with the config's other
    /// errors.
    pub(super) fn attachment_counts(&mut self, top: &dyn TableLike, d: &Desired) {
        self.org_counts(top, d);
        let mut targets: Vec<(&str, String, &BTreeSet<String>)> =
            vec![("root", String::new(), &d.root.policies)];
        targets.extend(
            d.ous
                .iter()
                .map(|(p, o)| ("ous", p.to_string(), &o.policies)),
        );
        targets.extend(
            d.accounts
                .iter()
                .map(|(k, a)| ("accounts", k.clone(), &a.policies)),
        );
        for (kind, key, policies) in targets {
            for ty in [
                PolicyType::ServiceControlPolicy,
                PolicyType::ResourceControlPolicy,
            ] {
                self.target_count(top, d, (kind, &key), policies, ty);
            }
        }
    }

    /// One target's policies of type `ty`: none where AWS requires one, or over the limit.
    fn target_count(
        &mut self,
        top: &dyn TableLike,
        d: &Desired,
        (kind, key): (&str, &str),
        policies: &BTreeSet<String>,
        ty: PolicyType,
    ) {
        let lim = d.limits.for_type(ty).max_attachments_per_target;
        let of_type: Vec<&String> = policies
            .iter()
            .filter(|n| {
                d.policies
                    .get(*n)
                    .map(|p| p.policy_type)
                    .or_else(|| d.limits.aws_managed_type(n))
                    == Some(ty)
            })
            .collect();
        let count = of_type.len();
        let min = d.limits.for_type(ty).min_attachments_per_target;
        // An undefined name is its own error; it may well be the missing SCP.
        let all_known = Self::listed_names(top, kind, key).is_some_and(|names| {
            names
                .iter()
                .all(|n| d.policies.contains_key(n) || d.limits.aws_managed_type(n).is_some())
        });
        if count < min.value && ty == PolicyType::ServiceControlPolicy && all_known {
            self.zero_policies(top, kind, key, ty, min.value);
            return;
        }
        if count <= lim.value {
            return;
        }
        let from_guardrails = of_type
            .iter()
            .filter(|n| {
                d.policies
                    .get(**n)
                    .is_some_and(|p| !p.guardrails.is_empty())
            })
            .count();
        let (span, path) = Self::over_limit_location(top, kind, key, from_guardrails);
        self.err(
            ErrorKind::Limit,
            span,
            &path,
            format!(
                "would carry {count} {} ({from_guardrails} compiled from its guardrails); the limit is {} ({}), {} over",
                ty.plural(),
                lim.value,
                lim.source,
                count - lim.value
            ),
        );
    }

    /// Where a target over its limit is reported: at its guardrails when some of the policies
    /// come from them, else at the `policies` list.
    fn over_limit_location(
        top: &dyn TableLike,
        kind: &str,
        key: &str,
        from_guardrails: usize,
    ) -> (Option<Range<usize>>, String) {
        let table = Self::target_table(top, kind, key);
        let policies_span = table
            .filter(|_| from_guardrails == 0)
            .and_then(|t| key_span(t, "policies"));
        match policies_span {
            Some(sp) => (Some(sp), join(&target_base(kind, key), "policies")),
            None => Self::target_location(top, kind, key),
        }
    }

    /// Where a target's `guardrails` list is, for messages.
    fn target_location(
        top: &dyn TableLike,
        kind: &str,
        key: &str,
    ) -> (Option<Range<usize>>, String) {
        let table = top.get(kind).and_then(Item::as_table_like);
        let (span, path) = match (kind, table) {
            ("root", _) => (key_span(top, "root"), "root".to_owned()),
            (_, Some(t)) => (key_span(t, key), join(kind, key)),
            _ => (None, join(kind, key)),
        };
        let span = table
            .and_then(|t| {
                if kind == "root" {
                    Some(t)
                } else {
                    t.get(key).and_then(Item::as_table_like)
                }
            })
            .and_then(|t| key_span(t, "guardrails"))
            .or(span);
        (span, join(&path, "guardrails"))
    }

    /// The TOML table of a target (`root`, `ous.KEY`, `accounts.KEY`), when written.
    fn target_table<'t>(
        top: &'t dyn TableLike,
        kind: &str,
        key: &str,
    ) -> Option<&'t dyn TableLike> {
        if kind == "root" {
            top.get("root").and_then(Item::as_table_like)
        } else {
            top.get(kind)
                .and_then(Item::as_table_like)
                .and_then(|t| t.get(key))
                .and_then(Item::as_table_like)
        }
    }

    /// The names written in a target's `policies` list; `None` when the value is not a list
    /// of strings (its own error) or the target is not written at all.
    fn listed_names(top: &dyn TableLike, kind: &str, key: &str) -> Option<Vec<String>> {
        let Some(list) = Self::target_table(top, kind, key)?.get("policies") else {
            return Some(Vec::new());
        };
        list.as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect()
    }

    /// `policies = []` (and no guardrail) on a target: AWS keeps at least `min` SCPs on every
    /// root, OU and account while SCPs are enabled, so the config can never be applied. One
    /// error naming the rule, instead of a lockout line per principal and action.
    fn zero_policies(
        &mut self,
        top: &dyn TableLike,
        kind: &str,
        key: &str,
        ty: PolicyType,
        min: usize,
    ) {
        let table = Self::target_table(top, kind, key);
        let base = target_base(kind, key);
        let (span, path) = match table.and_then(|t| key_span(t, "policies")) {
            Some(sp) => (Some(sp), join(&base, "policies")),
            None => Self::target_location(top, kind, key),
        };
        self.err(
            ErrorKind::Limit,
            span,
            &path,
            format!(
                "carries no {ty}: AWS requires at least {min} {ty} on every root, OU and account while {ty}s are enabled; list one (\"FullAWSAccess\" allows everything and is AWS's default) or leave out the `policies` key to keep AWS's default"
            ),
        );
    }

    /// The organization-wide counts the config alone decides: policies of each type (declared
    /// and compiled) and OUs, each against its limit.
    fn org_counts(&mut self, top: &dyn TableLike, d: &Desired) {
        for (ty, _, short) in crate::model::POLICY_TYPES {
            let lim = d.limits.for_type(*ty).max_policies_per_org;
            let count = d.policies.values().filter(|p| p.policy_type == *ty).count();
            if count > lim.value {
                let plural = match short.strip_suffix("policy") {
                    Some(stem) => format!("{stem}policies"),
                    None => format!("{short}s"),
                };
                self.err(
                    ErrorKind::Limit,
                    key_span(top, "policies"),
                    "policies",
                    format!(
                        "{count} {plural}; an organization holds at most {} ({}), {} over",
                        lim.value,
                        lim.source,
                        count - lim.value
                    ),
                );
            }
        }
        let lim = d.limits.org.max_ous;
        if d.ous.len() > lim.value {
            self.err(
                ErrorKind::Limit,
                key_span(top, "ous"),
                "ous",
                format!(
                    "{} OUs; an organization holds at most {} ({}), {} over",
                    d.ous.len(),
                    lim.value,
                    lim.source,
                    d.ous.len() - lim.value
                ),
            );
        }
    }
}
