//! `[boundaries.NAME]`: a permissions-boundary policy kept in every covered member account,
//! with the require-boundary and protect-boundary SCPs generated as guardrail instances on the
//! covered OUs and accounts (so they compile, lint, evaluate and order like every guardrail).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml_edit::TableLike;

use super::error::ErrorKind;
use super::guardrails::exempt_principals;
use super::parse::{join, Walker};
use crate::model::{Desired, DesiredBoundary, DesiredGuardrail, OuPath};
use crate::policy::doc;
use crate::policy::template::{self, ParamValue};

const BOUNDARY_KEYS: &[&str] = &[
    "policy_name",
    "path",
    "document",
    "ous",
    "accounts",
    "member_role",
    "exempt_roles",
    "enforce",
];
const ENFORCE: &[&str] = &["deploy", "require", "protect", "audit", "attach-existing"];

/// A boundary's coverage as the config lists it: OUs (inherited down the tree; the root for
/// `"/"`) and account keys.
struct Coverage {
    ous: Vec<OuPath>,
    listed: Vec<String>,
}

impl Walker<'_> {
    /// Parses `[boundaries.*]` after the targets, and adds the require/protect guardrails.
    pub(super) fn boundaries(&mut self, top: &dyn TableLike, d: &mut Desired) {
        for (name, path, span, t) in self.named_tables(top, "boundaries", "boundary") {
            self.check_keys(t, BOUNDARY_KEYS, &path);
            if let Some((b, coverage)) = self.boundary(&name, t, &path, span, d) {
                add_guardrails(d, &b, &coverage);
                d.boundaries.insert(name, b);
            }
        }
    }

    /// One `[boundaries.NAME]` table, or `None` when a required key is missing or unusable
    /// (the error is recorded).
    fn boundary(
        &mut self,
        name: &str,
        t: &dyn TableLike,
        path: &str,
        span: Option<Range<usize>>,
        d: &Desired,
    ) -> Option<(DesiredBoundary, Coverage)> {
        let (policy_name, _) = self.required_string(t, span.clone(), "policy_name", path)?;
        let iam_path = self.iam_path(t, path)?;
        let document = self.boundary_document(t, span, path, d)?;
        let member_role = self
            .string(t, "member_role", path)
            .map(|(s, _)| s)
            .unwrap_or_else(|| d.member_role.clone());
        let exempt_roles = self.exempt_roles(t, path, d, &member_role);
        let enforce = self.enforcements(t, path);
        let coverage = self.coverage(t, path, d);
        let b = DesiredBoundary {
            name: name.to_owned(),
            policy_name,
            path: iam_path,
            document,
            member_role,
            exempt_roles,
            accounts: covered_accounts(d, &coverage),
            deploy: enforce.contains("deploy"),
            require: enforce.contains("require"),
            protect: enforce.contains("protect"),
            audit: enforce.contains("audit"),
            attach_existing: enforce.contains("attach-existing"),
        };
        Some((b, coverage))
    }

    /// `path`: an IAM path, `/guardrail/` when absent; `None` when it is not one.
    fn iam_path(&mut self, t: &dyn TableLike, path: &str) -> Option<String> {
        let Some((p, sp)) = self.string(t, "path", path) else {
            return Some("/guardrail/".to_owned());
        };
        if p.starts_with('/') && p.ends_with('/') {
            return Some(p);
        }
        self.err(
            ErrorKind::InvalidValue,
            sp,
            &join(path, "path"),
            format!("an IAM path starts and ends with `/`, not `{p}`"),
        );
        None
    }

    /// `document`: the boundary's JSON policy, checked against IAM's managed-policy size
    /// (an oversized document is an error, and is still returned).
    fn boundary_document(
        &mut self,
        t: &dyn TableLike,
        span: Option<Range<usize>>,
        path: &str,
        d: &Desired,
    ) -> Option<serde_json::Value> {
        let (doc_path, doc_span) = self.required_string(t, span, "document", path)?;
        let doc_key = join(path, "document");
        let document = self.json_document(&doc_path, doc_span.clone(), &doc_key)?;
        let size = doc::sent_size(&document);
        let lim = d.limits.iam.max_managed_policy_chars;
        if size > lim.value {
            self.err(ErrorKind::Limit, doc_span, &doc_key, format!("`{doc_path}` is {size} characters without whitespace; an IAM managed policy may have {} ({}), {} over", lim.value, lim.source, size - lim.value));
        }
        Some(document)
    }

    /// `exempt_roles` (default: the organization's access role and IAM Identity Center's),
    /// plus the member role and the deployer's role, sorted, without repeats.
    fn exempt_roles(
        &mut self,
        t: &dyn TableLike,
        path: &str,
        d: &Desired,
        member_role: &str,
    ) -> Vec<String> {
        let mut roles: Vec<String> = match t.get("exempt_roles") {
            Some(_) => self
                .string_list(t, "exempt_roles", path)
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
            None => vec![
                "OrganizationAccountAccessRole".to_owned(),
                "AWSReservedSSO_*".to_owned(),
            ],
        };
        roles.push(member_role.to_owned());
        if let Some(dep) = &d.deployer {
            if let Some(role) = dep.rsplit('/').next() {
                roles.push(role.to_owned());
            }
        }
        roles.sort();
        roles.dedup();
        roles
    }

    /// `enforce`: the known enforcements listed (default: all but `attach-existing`).
    fn enforcements(&mut self, t: &dyn TableLike, path: &str) -> BTreeSet<String> {
        if t.get("enforce").is_none() {
            return ["deploy", "require", "protect", "audit"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        }
        let mut set = BTreeSet::new();
        for (e, sp) in self.string_list(t, "enforce", path) {
            if ENFORCE.contains(&e.as_str()) {
                set.insert(e);
            } else {
                self.err_help(
                    ErrorKind::InvalidValue,
                    sp,
                    &join(path, "enforce"),
                    format!("unknown enforcement `{e}`"),
                    format!("known: {}", ENFORCE.join(", ")),
                );
            }
        }
        set
    }

    /// `ous` (declared OUs, or `"/"` for the root) and `accounts` (config keys or ids).
    fn coverage(&mut self, t: &dyn TableLike, path: &str, d: &Desired) -> Coverage {
        let mut ous: Vec<OuPath> = Vec::new();
        for (o, sp) in self.string_list(t, "ous", path) {
            match OuPath::parse(&o) {
                // "/" is the root: every member account.
                _ if o == "/" => ous.push(OuPath::root()),
                Some(p) if d.ous.contains_key(&p) => ous.push(p),
                _ => self.err(
                    ErrorKind::Dangling,
                    sp,
                    &join(path, "ous"),
                    format!("the OU `{o}` is not declared (\"/\" covers the whole organization)"),
                ),
            }
        }
        let mut listed: Vec<String> = Vec::new();
        for (a, sp) in self.string_list(t, "accounts", path) {
            if d.accounts.contains_key(&a) {
                listed.push(a);
            } else if let Some((k, _)) = d
                .accounts
                .iter()
                .find(|(_, x)| x.id.as_deref() == Some(a.as_str()))
            {
                listed.push(k.clone());
            } else {
                self.err(
                    ErrorKind::Dangling,
                    sp,
                    &join(path, "accounts"),
                    format!("account `{a}` is not in the config"),
                );
            }
        }
        Coverage { ous, listed }
    }
}

/// The ids of the member accounts a boundary covers: under a covered OU or listed; never the
/// management account.
fn covered_accounts(d: &Desired, c: &Coverage) -> BTreeSet<String> {
    let under = |p: &OuPath| c.ous.iter().any(|o| p.segments().starts_with(o.segments()));
    d.accounts
        .iter()
        .filter(|(k, a)| under(&a.ou) || c.listed.contains(k))
        .filter_map(|(_, a)| a.id.clone())
        .filter(|id| id != &d.management_account)
        .collect()
}

/// The require/protect SCPs, as guardrail instances `NAME-require` and `NAME-protect` on the
/// covered root, OUs and listed accounts.
fn add_guardrails(d: &mut Desired, b: &DesiredBoundary, c: &Coverage) {
    let exempt = exempt_principals(d);
    for (flag, tname, suffix) in [
        (b.require, "require-boundary", "require"),
        (b.protect, "protect-boundary", "protect"),
    ] {
        if !flag {
            continue;
        }
        let Some(text) = template::builtin(tname) else {
            continue;
        };
        let Ok(tpl) = template::parse(tname, text) else {
            continue;
        };
        let values: BTreeMap<String, ParamValue> = [(
            "boundary_policy".to_owned(),
            ParamValue::String(b.path_and_name()),
        )]
        .into();
        let Ok(statements) = template::instantiate(&tpl, &values, &exempt) else {
            continue;
        };
        let gname = format!("{}-{suffix}", b.name);
        d.guardrails.insert(
            gname.clone(),
            DesiredGuardrail {
                name: gname.clone(),
                template: tname.to_owned(),
                policy_type: tpl.policy_type,
                statements,
                document: None,
            },
        );
        attach_guardrail(d, &gname, c);
    }
}

/// Lists guardrail `gname` on the covered root, OUs and listed accounts.
fn attach_guardrail(d: &mut Desired, gname: &str, c: &Coverage) {
    for o in &c.ous {
        if o.is_root() {
            d.root.guardrails.insert(gname.to_owned());
        } else if let Some(x) = d.ous.get_mut(o) {
            x.guardrails.insert(gname.to_owned());
        }
    }
    for k in &c.listed {
        if let Some(x) = d.accounts.get_mut(k) {
            x.guardrails.insert(gname.to_owned());
        }
    }
}
