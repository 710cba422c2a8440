//! The targets: `[root]`, `[ous."PATH"]` and `[accounts.KEY]`, each with the policies and
//! guardrails it carries; OU paths (declared parents, depth) and account ids and emails
//! (well formed, each used once).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml_edit::TableLike;

use super::error::ErrorKind;
use super::parse::{is_account_id, item_span, join, key_span, seg, Walker};
use super::policies::aws_default;
use crate::model::{Desired, DesiredAccount, DesiredOu, DesiredRoot, OuPath};

const TARGET_KEYS: &[&str] = &["policies", "guardrails"];
const ACCOUNT_KEYS: &[&str] = &["id", "email", "ou", "policies", "guardrails"];

/// The account ids and emails (lowercased) seen so far, each with the account that used it.
#[derive(Default)]
struct Seen {
    ids: BTreeMap<String, String>,
    emails: BTreeMap<String, String>,
}

impl Walker<'_> {
    /// `[root]`; without it, the root carries FullAWSAccess only.
    pub(super) fn root(&mut self, top: &dyn TableLike, d: &mut Desired) {
        if let Some(root) = self.table(top, "root", "") {
            self.check_keys(root, TARGET_KEYS, "root");
            d.root = DesiredRoot {
                policies: self.policy_refs(root, "root", d),
                guardrails: self.guardrail_refs(root, "root", d),
            };
        } else {
            d.root.policies = aws_default(&d.limits);
        }
    }

    /// `[ous."PATH"]`, each into `d.ous`.
    pub(super) fn ous(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let Some(ous) = self.table(top, "ous", "") else {
            return;
        };
        // Paths first, so a child may be declared before its parent.
        let declared: BTreeSet<OuPath> = ous.iter().filter_map(|(k, _)| OuPath::parse(k)).collect();
        for (k, item) in ous.iter() {
            let path = join("ous", k);
            let span = key_span(ous, k);
            let Some(ou_path) = self.ou_path(k, span, &path, &declared, d) else {
                continue;
            };
            let Some(t) = item.as_table_like() else {
                self.err(
                    ErrorKind::InvalidValue,
                    item_span(item),
                    &path,
                    "an OU must be a table",
                );
                continue;
            };
            self.check_keys(t, TARGET_KEYS, &path);
            let policies = self.policy_refs(t, &path, d);
            let guardrails = self.guardrail_refs(t, &path, d);
            d.ous.insert(
                ou_path,
                DesiredOu {
                    policies,
                    guardrails,
                },
            );
        }
    }

    /// An `[ous]` key as an OU path (`None` when it is not one); its parent must be declared
    /// and its depth within the limit (both reported, the path kept).
    fn ou_path(
        &mut self,
        k: &str,
        span: Option<Range<usize>>,
        path: &str,
        declared: &BTreeSet<OuPath>,
        d: &Desired,
    ) -> Option<OuPath> {
        let Some(ou_path) = OuPath::parse(k) else {
            self.err_help(
                ErrorKind::InvalidValue,
                span,
                path,
                format!("`{k}` is not an OU path"),
                "write the path from the root with `/` between names, for example \"Workloads/Prod\"",
            );
            return None;
        };
        if let Some(parent) = ou_path.parent() {
            if !parent.is_root() && !declared.contains(&parent) {
                self.err_help(
                    ErrorKind::Dangling,
                    span.clone(),
                    path,
                    format!("the parent OU `{parent}` is not declared"),
                    format!("add [ous.\"{parent}\"]"),
                );
            }
        }
        let max_depth = d.limits.org.max_ou_depth;
        if ou_path.depth() > max_depth.value {
            self.err(
                ErrorKind::Limit,
                span,
                path,
                format!(
                    "`{ou_path}` is {} levels deep; the limit is {} ({})",
                    ou_path.depth(),
                    max_depth.value,
                    max_depth.source
                ),
            );
        }
        Some(ou_path)
    }

    /// `[accounts.KEY]`, each into `d.accounts`.
    pub(super) fn accounts(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let Some(accts) = self.table(top, "accounts", "") else {
            return;
        };
        let mut seen = Seen::default();
        for (k, item) in accts.iter() {
            let path = join("accounts", k);
            let span = key_span(accts, k);
            let Some(t) = item.as_table_like() else {
                self.err(
                    ErrorKind::InvalidValue,
                    item_span(item),
                    &path,
                    "an account must be a table",
                );
                continue;
            };
            if let Some(account) = self.account(k, t, span, &path, d, &mut seen) {
                d.accounts.insert(k.to_owned(), account);
            }
        }
    }

    /// One account; `None` when its id, email or OU is in error (reported). An account
    /// with an email and no id is one to create.
    fn account(
        &mut self,
        k: &str,
        t: &dyn TableLike,
        span: Option<Range<usize>>,
        path: &str,
        d: &Desired,
        seen: &mut Seen,
    ) -> Option<DesiredAccount> {
        self.check_keys(t, ACCOUNT_KEYS, path);
        let id = if t.get("id").is_none() && t.get("email").is_some() {
            None
        } else {
            self.required_string(t, span, "id", path)
        };
        let email = self.string(t, "email", path);
        let ou = self.account_ou(t, path, d);
        let policies = self.policy_refs(t, path, d);
        if let Some((e, e_span)) = &email {
            self.unique_email(k, e, e_span.clone(), path, &mut seen.emails)?;
        }
        let id = match id {
            None if t.get("id").is_some() => return None,
            None => None,
            Some((id, id_span)) => {
                Some(self.unique_account_id(k, id, id_span, path, &mut seen.ids)?)
            }
        };
        let email = email.map(|(e, _)| e);
        let guardrails = self.guardrail_refs(t, path, d);
        Some(DesiredAccount {
            key: k.to_owned(),
            id,
            email,
            ou: ou?,
            policies,
            guardrails,
        })
    }

    /// The account's `ou`, a declared OU; the root without the key.
    fn account_ou(&mut self, t: &dyn TableLike, path: &str, d: &Desired) -> Option<OuPath> {
        let Some((s, sp)) = self.string(t, "ou", path) else {
            return Some(OuPath::root());
        };
        match OuPath::parse(&s) {
            Some(p) if d.ous.contains_key(&p) => Some(p),
            Some(p) => {
                self.err_help(
                    ErrorKind::Dangling,
                    sp,
                    &join(path, "ou"),
                    format!("the OU `{p}` is not declared"),
                    format!("add [ous.\"{p}\"] or fix the path"),
                );
                None
            }
            None => {
                self.err(
                    ErrorKind::InvalidValue,
                    sp,
                    &join(path, "ou"),
                    format!("`{s}` is not an OU path"),
                );
                None
            }
        }
    }

    /// Whether `e` is an email address no other account uses; `None` (reported) when not.
    fn unique_email(
        &mut self,
        k: &str,
        e: &str,
        e_span: Option<Range<usize>>,
        path: &str,
        seen: &mut BTreeMap<String, String>,
    ) -> Option<()> {
        let lower = e.to_ascii_lowercase();
        if !e.contains('@') {
            self.err(
                ErrorKind::InvalidValue,
                e_span,
                &join(path, "email"),
                format!("`{e}` is not an email address"),
            );
            return None;
        }
        if let Some(first) = seen.get(&lower) {
            self.err(
                ErrorKind::Duplicate,
                e_span,
                &join(path, "email"),
                format!("email {e} is already used by [accounts.{}]", seg(first)),
            );
            return None;
        }
        seen.insert(lower, k.to_owned());
        Some(())
    }

    /// `id` when it is a 12-digit account id no other account uses; `None` (reported) when not.
    fn unique_account_id(
        &mut self,
        k: &str,
        id: String,
        id_span: Option<Range<usize>>,
        path: &str,
        seen: &mut BTreeMap<String, String>,
    ) -> Option<String> {
        if !is_account_id(&id) {
            self.err(
                ErrorKind::InvalidValue,
                id_span,
                &join(path, "id"),
                format!("`{id}` is not a 12-digit account id"),
            );
            return None;
        }
        if let Some(first) = seen.get(&id) {
            self.err(
                ErrorKind::Duplicate,
                id_span,
                &join(path, "id"),
                format!(
                    "account id {id} is already used by [accounts.{}]",
                    seg(first)
                ),
            );
            return None;
        }
        seen.insert(id.clone(), k.to_owned());
        Some(id)
    }
}
