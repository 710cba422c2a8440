//! The guardrail half of the config: `[guardrails.NAME]` instances of templates,
//! `guardrails = [...]` on targets, `[[assert]]`, and the step after the walk that compiles the
//! guardrails into policies (`policy::compile`) and lints every document (`policy::lint`).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use toml_edit::{Item, TableLike};

use super::error::ErrorKind;
use super::parse::{item_span, join, key_span, seg, Walker};
use crate::model::{
    sha256_hex, AssertSubject, Assertion, Desired, DesiredGuardrail, DesiredPolicy, LintNote,
    OuPath, PolicyType,
};
use crate::policy::compile::{self, GuardrailInstance};
use crate::policy::lint::{self, LintContext, Severity};
use crate::policy::template::{self, ParamValue};

const ASSERT_KEYS: &[&str] = &[
    "account",
    "ou",
    "action",
    "region",
    "principal",
    "resource",
    "context",
    "expect",
];

/// The principals every template exempts: the deployer (its role in any account), the role
/// guardrail assumes in member accounts, and the break-glass principals.
pub fn exempt_principals(d: &Desired) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(dep) = &d.deployer {
        let parts: Vec<&str> = dep.splitn(6, ':').collect();
        if parts.len() == 6 && parts[4].len() == 12 {
            out.push(format!(
                "{}:{}:{}:{}:*:{}",
                parts[0], parts[1], parts[2], parts[3], parts[5]
            ));
        } else {
            out.push(dep.clone());
        }
    }
    if d.deployer.is_some() || !d.break_glass.is_empty() {
        // Any partition: the same config serves aws, aws-us-gov and aws-cn organizations.
        out.push(format!("arn:*:iam::*:role/{}", d.member_role));
    }
    for b in &d.break_glass {
        if !out.contains(b) {
            out.push(b.clone());
        }
    }
    out
}

/// `(name, dotted key path, span of the name, the table)`.
pub(super) type NamedTable<'t> = (String, String, Option<Range<usize>>, &'t dyn TableLike);

impl Walker<'_> {
    /// The `[KEY.NAME]` tables of a section, with names restricted to letters, digits, `-` and
    /// `_` (they end up in policy names); reports the ones that are not tables.
    pub(super) fn named_tables<'t>(
        &mut self,
        top: &'t dyn TableLike,
        key: &str,
        what: &str,
    ) -> Vec<NamedTable<'t>> {
        let Some(section) = self.table(top, key, "") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, item) in section.iter() {
            let path = join(key, name);
            let span = key_span(section, name);
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                self.err(
                    ErrorKind::InvalidValue,
                    span,
                    &path,
                    format!("{what} name `{name}` may use only letters, digits, `-` and `_`"),
                );
                continue;
            }
            match item.as_table_like() {
                Some(t) => out.push((name.to_owned(), path, span, t)),
                None => self.err(
                    ErrorKind::InvalidValue,
                    item_span(item),
                    &path,
                    format!("a {what} must be a table"),
                ),
            }
        }
        out
    }

    fn load_template(
        &mut self,
        name: &str,
        span: Option<Range<usize>>,
        key: &str,
    ) -> Option<template::Template> {
        let path = Path::new(&self.guardrails_dir).join(format!("{name}.toml"));
        let text = match (self.read)(&path) {
            Ok(t) => {
                self.inputs
                    .insert(path.display().to_string(), sha256_hex(t.as_bytes()));
                t
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match template::builtin(name) {
                Some(t) => t.to_owned(),
                None => {
                    let known: Vec<&str> = template::BUILTIN.iter().map(|(n, _)| *n).collect();
                    self.err_help(
                        ErrorKind::Template,
                        span,
                        key,
                        format!(
                            "no template `{name}` in {} or among the built-in templates",
                            self.guardrails_dir
                        ),
                        format!("built-in templates: {}", known.join(", ")),
                    );
                    return None;
                }
            },
            Err(e) => {
                self.err(
                    ErrorKind::Template,
                    span,
                    key,
                    format!("cannot read {}: {e}", path.display()),
                );
                return None;
            }
        };
        match template::parse(name, &text) {
            Ok(t) => Some(t),
            Err(e) => {
                self.err(ErrorKind::Template, span, key, e);
                None
            }
        }
    }

    /// `[guardrails.NAME]`: template instances with their parameters.
    pub(super) fn guardrail_instances(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let exempt = exempt_principals(d);
        for (name, path, span, t) in self.named_tables(top, "guardrails", "guardrail") {
            let name = name.as_str();
            let Some((tname, tspan)) = self.required_string(t, span.clone(), "template", &path)
            else {
                continue;
            };
            let Some(tpl) = self.load_template(&tname, tspan.clone(), &join(&path, "template"))
            else {
                continue;
            };
            let mut values: BTreeMap<String, ParamValue> = BTreeMap::new();
            let mut ok = true;
            for (k, v) in t.iter() {
                if k == "template" || k == "stage" {
                    // `stage` is the rollout's (`rollout.rs`), not a template parameter.
                    continue;
                }
                let key = join(&path, k);
                let Some(p) = tpl.parameters.get(k) else {
                    let known: Vec<&str> = tpl.parameters.keys().map(String::as_str).collect();
                    self.err_help(
                        ErrorKind::UnknownKey,
                        key_span(t, k),
                        &key,
                        format!("template `{tname}` has no parameter `{k}`"),
                        if known.is_empty() {
                            "this template takes no parameters".to_owned()
                        } else {
                            format!("its parameters: {}", known.join(", "))
                        },
                    );
                    ok = false;
                    continue;
                };
                match template::param_from_toml(v, p.kind) {
                    Some(val) => {
                        values.insert(k.to_owned(), val);
                    }
                    None => {
                        self.err(
                            ErrorKind::InvalidValue,
                            item_span(v),
                            &key,
                            format!("`{k}` must be a {}", p.kind.name()),
                        );
                        ok = false;
                    }
                }
            }
            for (pname, p) in &tpl.parameters {
                if values.contains_key(pname) || t.contains_key(pname) {
                    continue;
                }
                match &p.default {
                    Some(def) => {
                        values.insert(pname.clone(), def.clone());
                    }
                    None => {
                        self.err_help(
                            ErrorKind::MissingKey,
                            span.clone(),
                            &join(&path, pname),
                            format!("template `{tname}` needs parameter `{pname}`"),
                            format!("{pname}: {} ({})", p.description, p.kind.name()),
                        );
                        ok = false;
                    }
                }
            }
            if !ok {
                continue;
            }
            let expanded = template::instantiate(&tpl, &values, &exempt).and_then(|s| {
                template::instantiate_document(&tpl, &values, &exempt).map(|doc| (s, doc))
            });
            match expanded {
                Ok((statements, document)) => {
                    d.guardrails.insert(
                        name.to_owned(),
                        DesiredGuardrail {
                            name: name.to_owned(),
                            template: tname,
                            policy_type: tpl.policy_type,
                            statements,
                            document,
                        },
                    );
                }
                Err(e) => self.err(
                    ErrorKind::Template,
                    tspan,
                    &join(&path, "template"),
                    format!("template `{tname}`: {e}"),
                ),
            }
        }
    }

    /// `guardrails = [...]` on a target.
    pub(super) fn guardrail_refs(
        &mut self,
        t: &dyn TableLike,
        path: &str,
        d: &Desired,
    ) -> BTreeSet<String> {
        self.name_refs(
            t,
            path,
            ("guardrails", "guardrail"),
            &|n| d.guardrails.contains_key(n),
            &|n| format!("declare it under [guardrails.{}] with a template", seg(n)),
        )
    }

    /// `[[assert]]` tables.
    pub(super) fn assertions(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let Some(item) = top.get("assert") else {
            return;
        };
        let Some(arr) = item.as_array_of_tables() else {
            self.err(
                ErrorKind::InvalidValue,
                item_span(item).or_else(|| key_span(top, "assert")),
                "assert",
                "write assertions as [[assert]] tables",
            );
            return;
        };
        for (i, t) in arr.iter().enumerate() {
            let path = format!("assert[{i}]");
            let span = t.span();
            self.check_keys(t, ASSERT_KEYS, &path);
            let (line, _) = self.sink.line_col(span.clone().map_or(0, |s| s.start));
            let location = format!("{}:{line}", self.sink.file_name());
            let subject = match (
                self.string(t, "account", &path),
                self.string(t, "ou", &path),
            ) {
                (Some((a, sp)), None) => {
                    if let Some(acct) = d.accounts.get(&a) {
                        match &acct.id {
                            Some(id) => AssertSubject::Account(id.clone()),
                            None => AssertSubject::Ou(acct.ou.clone()),
                        }
                    } else if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) {
                        AssertSubject::Account(a)
                    } else {
                        self.err(
                            ErrorKind::Dangling,
                            sp,
                            &join(&path, "account"),
                            format!("account `{a}` is neither a config key nor an account id"),
                        );
                        continue;
                    }
                }
                (None, Some((o, sp))) => match OuPath::parse(&o) {
                    Some(p) if d.ous.contains_key(&p) => AssertSubject::Ou(p),
                    _ => {
                        self.err(
                            ErrorKind::Dangling,
                            sp,
                            &join(&path, "ou"),
                            format!("the OU `{o}` is not declared"),
                        );
                        continue;
                    }
                },
                _ => {
                    self.err(
                        ErrorKind::MissingKey,
                        span,
                        &path,
                        "an assertion needs exactly one of `account` and `ou`",
                    );
                    continue;
                }
            };
            let Some((action, _)) = self.required_string(t, span.clone(), "action", &path) else {
                continue;
            };
            let expect_deny = match self.required_string(t, span.clone(), "expect", &path) {
                Some((e, _)) if e == "deny" => true,
                Some((e, _)) if e == "allow" => false,
                Some((e, sp)) => {
                    self.err(
                        ErrorKind::InvalidValue,
                        sp,
                        &join(&path, "expect"),
                        format!("`expect` is `deny` or `allow`, not `{e}`"),
                    );
                    continue;
                }
                None => continue,
            };
            let mut context = Vec::new();
            if let Some(c) = t.get("context") {
                match c.as_table_like() {
                    Some(ct) => {
                        for (k, v) in ct.iter() {
                            match v.as_str() {
                                Some(s) => context.push((k.to_owned(), s.to_owned())),
                                None => self.err(
                                    ErrorKind::InvalidValue,
                                    item_span(v),
                                    &join(&join(&path, "context"), k),
                                    "context values are strings",
                                ),
                            }
                        }
                    }
                    None => self.err(
                        ErrorKind::InvalidValue,
                        item_span(c),
                        &join(&path, "context"),
                        "`context` is a table of condition keys to values",
                    ),
                }
            }
            d.assertions.push(Assertion {
                location,
                subject,
                action,
                region: self.string(t, "region", &path).map(|(s, _)| s),
                principal: self.string(t, "principal", &path).map(|(s, _)| s),
                resource: self.string(t, "resource", &path).map(|(s, _)| s),
                context,
                expect_deny,
            });
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

    /// Compiles guardrail sets into policies and attaches them; checks slots per target.
    pub(super) fn compile(&mut self, top: &dyn TableLike, d: &mut Desired) {
        self.compile_documents(top, d);
        let instances: BTreeMap<String, GuardrailInstance> = d
            .guardrails
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
            .collect();
        // (kind, key) of every target with its set.
        let mut targets: Vec<(&str, String, Vec<String>)> = Vec::new();
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
                let gs = top.get("guardrails").and_then(Item::as_table_like);
                for e in errors {
                    let compile::CompileError::StatementTooLarge { guardrail, .. } = &e;
                    let first = guardrail.split(", ").next().unwrap_or_default().to_owned();
                    let span = gs.and_then(|g| key_span(g, &first));
                    self.err(
                        ErrorKind::Limit,
                        span,
                        &join("guardrails", &first),
                        e.to_string(),
                    );
                }
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
        for (kind, key, set) in &targets {
            if set.is_empty() {
                continue;
            }
            let names = compiled.by_set.get(set).cloned().unwrap_or_default();
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
                let all_known = Self::listed_names(top, kind, &key).is_some_and(|names| {
                    names.iter().all(|n| {
                        d.policies.contains_key(n) || d.limits.aws_managed_type(n).is_some()
                    })
                });
                if count < min.value && ty == PolicyType::ServiceControlPolicy && all_known {
                    self.zero_policies(top, kind, &key, ty, min.value);
                    continue;
                }
                if count <= lim.value {
                    continue;
                }
                let from_guardrails = of_type
                    .iter()
                    .filter(|n| {
                        d.policies
                            .get(**n)
                            .is_some_and(|p| !p.guardrails.is_empty())
                    })
                    .count();
                let (span, path) = Self::target_location(top, kind, &key);
                let table = Self::target_table(top, kind, &key);
                // Point at the guardrails when some of the policies come from them, else at
                // the `policies` list.
                let policies_span = table
                    .filter(|_| from_guardrails == 0)
                    .and_then(|t| key_span(t, "policies"));
                let (span, path) = match policies_span {
                    Some(sp) => {
                        let base = if kind == "root" {
                            "root".to_owned()
                        } else {
                            join(kind, &key)
                        };
                        (Some(sp), join(&base, "policies"))
                    }
                    None => (span, path),
                };
                self.err(
                    ErrorKind::Limit,
                    span,
                    &path,
                    format!(
                        "would carry {count} {ty}s ({from_guardrails} compiled from its guardrails); the limit is {} ({}), {} over",
                        lim.value,
                        lim.source,
                        count - lim.value
                    ),
                );
            }
        }
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
        let base = if kind == "root" {
            "root".to_owned()
        } else {
            join(kind, key)
        };
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
        for ty in [
            PolicyType::ServiceControlPolicy,
            PolicyType::ResourceControlPolicy,
        ] {
            let lim = d.limits.for_type(ty).max_policies_per_org;
            let count = d.policies.values().filter(|p| p.policy_type == ty).count();
            if count > lim.value {
                self.err(
                    ErrorKind::Limit,
                    key_span(top, "policies"),
                    "policies",
                    format!(
                        "{count} {ty}s; an organization holds at most {} ({}), {} over",
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

    /// Lints every plain document and every guardrail instance.
    pub(super) fn lint(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let ctx = LintContext {
            has_exempt_principals: d.deployer.is_some() || !d.break_glass.is_empty(),
        };
        let mut notes = Vec::new();
        let pols = top.get("policies").and_then(Item::as_table_like);
        // Management policies (tag, backup, ...) are linted against their type's syntax.
        for p in d.policies.values().filter(|p| p.guardrails.is_empty()) {
            let span = pols
                .and_then(|t| t.get(&p.name))
                .and_then(Item::as_table_like)
                .and_then(|t| t.get("document"))
                .and_then(item_span);
            for f in lint::lint(&p.document, p.policy_type, &ctx) {
                self.report(
                    f,
                    (&format!("policy {}", p.name), Some(&p.source)),
                    span.clone(),
                    &join(&join("policies", &p.name), "document"),
                    &mut notes,
                );
            }
        }
        let gs = top.get("guardrails").and_then(Item::as_table_like);
        for g in d.guardrails.values() {
            let span = gs.and_then(|t| key_span(t, &g.name));
            let doc = g
                .document
                .clone()
                .unwrap_or_else(|| compile::envelope(&g.statements));
            for f in lint::lint(&doc, g.policy_type, &ctx) {
                self.report(
                    f,
                    (
                        &format!("guardrail {} (template {})", g.name, g.template),
                        None,
                    ),
                    span.clone(),
                    &join("guardrails", &g.name),
                    &mut notes,
                );
            }
        }
        d.lint = notes;
    }

    fn report(
        &mut self,
        f: lint::Finding,
        (subject, document): (&str, Option<&std::path::PathBuf>),
        span: Option<Range<usize>>,
        key: &str,
        notes: &mut Vec<LintNote>,
    ) {
        if f.severity == Severity::Error {
            let st = f
                .statement
                .as_deref()
                .map(|s| format!(" in statement {s}"))
                .unwrap_or_default();
            self.err_help(
                ErrorKind::Lint,
                span,
                key,
                format!("{} {}{st}: {}", f.code, subject, f.message),
                format!("see docs/lint.md#{}", f.code.to_ascii_lowercase()),
            );
            if let Some(e) = self.sink.errors.last_mut() {
                e.rule = Some(f.code);
            }
        } else {
            let (line, column) = self.sink.line_col(span.map_or(0, |s| s.start));
            notes.push(LintNote {
                subject: subject.to_owned(),
                code: f.code,
                severity: f.severity.name(),
                statement: f.statement,
                message: f.message,
                line,
                column,
                document: document.cloned(),
            });
        }
    }
}
