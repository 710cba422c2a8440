//! `[boundaries.NAME]`: a permissions-boundary policy kept in every covered member account,
//! with the require-boundary and protect-boundary SCPs generated as guardrail instances on the
//! covered OUs and accounts (so they compile, lint, evaluate and order like every guardrail).

use std::collections::{BTreeMap, BTreeSet};

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

impl Walker<'_> {
    /// Parses `[boundaries.*]` after the targets, and adds the require/protect guardrails.
    pub(super) fn boundaries(&mut self, top: &dyn TableLike, d: &mut Desired) {
        for (name, path, span, t) in self.named_tables(top, "boundaries", "boundary") {
            let name = name.as_str();
            self.check_keys(t, BOUNDARY_KEYS, &path);
            let Some((policy_name, _)) =
                self.required_string(t, span.clone(), "policy_name", &path)
            else {
                continue;
            };
            let iam_path = match self.string(t, "path", &path) {
                Some((p, sp)) => {
                    if !(p.starts_with('/') && p.ends_with('/')) {
                        self.err(
                            ErrorKind::InvalidValue,
                            sp,
                            &join(&path, "path"),
                            format!("an IAM path starts and ends with `/`, not `{p}`"),
                        );
                        continue;
                    }
                    p
                }
                None => "/guardrail/".to_owned(),
            };
            let Some((doc_path, doc_span)) =
                self.required_string(t, span.clone(), "document", &path)
            else {
                continue;
            };
            let doc_key = join(&path, "document");
            let Some(document) = self.json_document(&doc_path, doc_span.clone(), &doc_key) else {
                continue;
            };
            let size = doc::sent_size(&document);
            let lim = d.limits.iam.max_managed_policy_chars;
            if size > lim.value {
                self.err(ErrorKind::Limit, doc_span.clone(), &doc_key, format!("`{doc_path}` is {size} characters without whitespace; an IAM managed policy may have {} ({}), {} over", lim.value, lim.source, size - lim.value));
            }
            let member_role = self
                .string(t, "member_role", &path)
                .map(|(s, _)| s)
                .unwrap_or_else(|| d.member_role.clone());
            let mut exempt_roles: Vec<String> = match t.get("exempt_roles") {
                Some(_) => self
                    .string_list(t, "exempt_roles", &path)
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect(),
                None => vec![
                    "OrganizationAccountAccessRole".to_owned(),
                    "AWSReservedSSO_*".to_owned(),
                ],
            };
            exempt_roles.push(member_role.clone());
            if let Some(dep) = &d.deployer {
                if let Some(role) = dep.rsplit('/').next() {
                    exempt_roles.push(role.to_owned());
                }
            }
            exempt_roles.sort();
            exempt_roles.dedup();
            let enforce: BTreeSet<String> = match t.get("enforce") {
                Some(_) => {
                    let mut set = BTreeSet::new();
                    for (e, sp) in self.string_list(t, "enforce", &path) {
                        if ENFORCE.contains(&e.as_str()) {
                            set.insert(e);
                        } else {
                            self.err_help(
                                ErrorKind::InvalidValue,
                                sp,
                                &join(&path, "enforce"),
                                format!("unknown enforcement `{e}`"),
                                format!("known: {}", ENFORCE.join(", ")),
                            );
                        }
                    }
                    set
                }
                None => ["deploy", "require", "protect", "audit"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            };
            // Coverage: OUs (inherited down the tree) and accounts.
            let mut ous: Vec<OuPath> = Vec::new();
            for (o, sp) in self.string_list(t, "ous", &path) {
                match OuPath::parse(&o) {
                    // "/" is the root: every member account.
                    _ if o == "/" => ous.push(OuPath::root()),
                    Some(p) if d.ous.contains_key(&p) => ous.push(p),
                    _ => self.err(
                        ErrorKind::Dangling,
                        sp,
                        &join(&path, "ous"),
                        format!(
                            "the OU `{o}` is not declared (\"/\" covers the whole organization)"
                        ),
                    ),
                }
            }
            let mut listed: Vec<String> = Vec::new();
            for (a, sp) in self.string_list(t, "accounts", &path) {
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
                        &join(&path, "accounts"),
                        format!("account `{a}` is not in the config"),
                    );
                }
            }
            let under = |p: &OuPath| ous.iter().any(|o| p.segments().starts_with(o.segments()));
            let accounts: BTreeSet<String> = d
                .accounts
                .iter()
                .filter(|(k, a)| under(&a.ou) || listed.contains(k))
                .filter_map(|(_, a)| a.id.clone())
                .filter(|id| id != &d.management_account)
                .collect();
            let b = DesiredBoundary {
                name: name.to_owned(),
                policy_name,
                path: iam_path,
                document,
                member_role,
                exempt_roles,
                accounts,
                deploy: enforce.contains("deploy"),
                require: enforce.contains("require"),
                protect: enforce.contains("protect"),
                audit: enforce.contains("audit"),
                attach_existing: enforce.contains("attach-existing"),
            };
            // The require/protect SCPs, as guardrail instances on the covered targets.
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
                let gname = format!("{name}-{suffix}");
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
                for o in &ous {
                    if o.is_root() {
                        d.root.guardrails.insert(gname.clone());
                    } else if let Some(x) = d.ous.get_mut(o) {
                        x.guardrails.insert(gname.clone());
                    }
                }
                for k in &listed {
                    if let Some(x) = d.accounts.get_mut(k) {
                        x.guardrails.insert(gname.clone());
                    }
                }
            }
            d.boundaries.insert(name.to_owned(), b);
        }
    }
}
