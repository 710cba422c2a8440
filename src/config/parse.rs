//! The TOML walk. Uses `toml_edit`'s span-preserving document so every error points at the
//! exact key or value.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{ImDocument, Item, TableLike, Value};

use super::docpath::{self, Confine};
use super::error::{ConfigErrors, ErrorKind, Sink};
use crate::model::sha256_hex;
use crate::model::{
    Desired, DesiredAccount, DesiredOu, DesiredPolicy, DesiredRoot, OuPath, PolicyType,
};
use crate::policy::{doc, limits, limits::LimitsTable, marker};

/// Reads policy documents by path relative to the config file.
pub type ReadDoc<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

const TOP_KEYS: &[&str] = &[
    "documents_root",
    "rollout",
    "boundaries",
    "guardrails",
    "assert",
    "organization",
    "limits",
    "policies",
    "root",
    "ous",
    "accounts",
];
const ORG_KEYS: &[&str] = &[
    "management_account",
    "deployer",
    "break_glass",
    "member_role",
    "guardrails_dir",
    "ignore_unmanaged",
    "disable_policy_types",
];
const POLICY_KEYS: &[&str] = &["description", "document", "type", "id"];
const TARGET_KEYS: &[&str] = &["policies", "guardrails"];
const ACCOUNT_KEYS: &[&str] = &["id", "email", "ou", "policies", "guardrails"];

/// Parses one config. `file` is only used in messages; documents are read through `read`.
/// Document paths are checked as written (see `docpath`); [`parse_confined`] also checks them
/// on the file system.
pub fn parse(file: &Path, text: &str, read: ReadDoc<'_>) -> Result<Desired, ConfigErrors> {
    parse_confined(file, text, read, &|_, _| Ok(()))
}

/// [`parse`], with `confine` deciding where each document resolves (symlinks included).
pub fn parse_confined(
    file: &Path,
    text: &str,
    read: ReadDoc<'_>,
    confine: Confine<'_>,
) -> Result<Desired, ConfigErrors> {
    let mut sink = Sink::new(file, text);
    let doc = match ImDocument::parse(text) {
        Ok(d) => d,
        Err(e) => {
            sink.push(
                ErrorKind::Syntax,
                e.span(),
                "(syntax)",
                format!("invalid TOML: {}", e.message().trim()),
                None,
            );
            return Err(ConfigErrors(sink.into_errors()));
        }
    };
    let mut w = Walker {
        sink,
        read,
        confine,
        documents_root: None,
        inputs: BTreeMap::new(),
        guardrails_dir: "../guardrails".to_owned(),
        environment: file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    w.inputs
        .insert(file.display().to_string(), sha256_hex(text.as_bytes()));
    let mut desired = w.walk(doc.as_table());
    desired.inputs = std::mem::take(&mut w.inputs);
    let errors = w.sink.into_errors();
    if errors.is_empty() {
        Ok(desired)
    } else {
        Err(ConfigErrors(errors))
    }
}

pub(super) struct Walker<'a> {
    pub(super) sink: Sink,
    pub(super) read: ReadDoc<'a>,
    /// Where documents may resolve on disk (see `docpath`).
    pub(super) confine: Confine<'a>,
    /// The top-level `documents_root`: one more directory documents may lie in.
    pub(super) documents_root: Option<String>,
    pub(super) inputs: BTreeMap<String, String>,
    /// Where templates are looked up before the built-in ones, relative to the config.
    pub(super) guardrails_dir: String,
    /// The environment name (the config file's stem), for the ownership marker's room.
    pub(super) environment: String,
}

/// What AWS attaches to every new root, OU and account: FullAWSAccess.
fn aws_default(limits: &LimitsTable) -> BTreeSet<String> {
    limits
        .scp
        .aws_managed_policy
        .map(str::to_owned)
        .into_iter()
        .collect()
}

/// Formats one key segment the way TOML would need it.
pub(super) fn seg(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_owned()
    } else {
        format!("{k:?}")
    }
}

pub(super) fn join(parent: &str, k: &str) -> String {
    if parent.is_empty() {
        seg(k)
    } else {
        format!("{parent}.{}", seg(k))
    }
}

pub(super) fn item_span(item: &Item) -> Option<Range<usize>> {
    match item {
        Item::Value(v) => v.span(),
        other => other.span(),
    }
}

pub(super) fn key_span(t: &dyn TableLike, k: &str) -> Option<Range<usize>> {
    t.get_key_value(k).and_then(|(key, _)| key.span())
}

pub(super) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Walker<'_> {
    pub(super) fn err(
        &mut self,
        kind: ErrorKind,
        span: Option<Range<usize>>,
        key: &str,
        msg: impl Into<String>,
    ) {
        self.sink.push(kind, span, key, msg, None);
    }

    pub(super) fn err_help(
        &mut self,
        kind: ErrorKind,
        span: Option<Range<usize>>,
        key: &str,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.sink.push(kind, span, key, msg, Some(help.into()));
    }

    /// Reports keys not in `allowed`.
    pub(super) fn check_keys(&mut self, t: &dyn TableLike, allowed: &[&str], path: &str) {
        for (k, _) in t.iter() {
            if !allowed.contains(&k) {
                let help = format!("known keys here: {}", allowed.join(", "));
                self.err_help(
                    ErrorKind::UnknownKey,
                    key_span(t, k),
                    &join(path, k),
                    format!("unknown key `{k}`"),
                    help,
                );
            }
        }
    }

    /// The table under `k`, or an error when it is something else.
    pub(super) fn table<'t>(
        &mut self,
        parent: &'t dyn TableLike,
        k: &str,
        path: &str,
    ) -> Option<&'t dyn TableLike> {
        let item = parent.get(k)?;
        match item.as_table_like() {
            Some(t) => Some(t),
            None => {
                self.err(
                    ErrorKind::InvalidValue,
                    item_span(item).or_else(|| key_span(parent, k)),
                    &join(path, k),
                    format!("`{k}` must be a table"),
                );
                None
            }
        }
    }

    pub(super) fn string(
        &mut self,
        t: &dyn TableLike,
        k: &str,
        path: &str,
    ) -> Option<(String, Option<Range<usize>>)> {
        let item = t.get(k)?;
        match item.as_str() {
            Some(s) => Some((s.to_owned(), item_span(item))),
            None => {
                self.err(
                    ErrorKind::InvalidValue,
                    item_span(item),
                    &join(path, k),
                    format!("`{k}` must be a string"),
                );
                None
            }
        }
    }

    pub(super) fn required_string(
        &mut self,
        t: &dyn TableLike,
        table_span: Option<Range<usize>>,
        k: &str,
        path: &str,
    ) -> Option<(String, Option<Range<usize>>)> {
        if t.get(k).is_none() {
            self.err(
                ErrorKind::MissingKey,
                table_span,
                &join(path, k),
                format!("missing required key `{k}`"),
            );
            return None;
        }
        self.string(t, k, path)
    }

    /// A list of strings, each with its span.
    pub(super) fn string_list(
        &mut self,
        t: &dyn TableLike,
        k: &str,
        path: &str,
    ) -> Vec<(String, Option<Range<usize>>)> {
        let Some(item) = t.get(k) else {
            return Vec::new();
        };
        let key = join(path, k);
        let Some(arr) = item.as_array() else {
            self.err(
                ErrorKind::InvalidValue,
                item_span(item),
                &key,
                format!("`{k}` must be a list of strings"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for v in arr.iter() {
            match v {
                Value::String(s) => out.push((s.value().clone(), v.span())),
                other => self.err(
                    ErrorKind::InvalidValue,
                    other.span(),
                    &key,
                    format!(
                        "`{k}` must be a list of strings; found a {}",
                        other.type_name()
                    ),
                ),
            }
        }
        out
    }

    /// Reads a JSON document named by a `document` key: records its digest, and reports an
    /// unreadable file, invalid JSON or a non-object at the key's value.
    pub(super) fn json_document(
        &mut self,
        doc_path: &str,
        doc_span: Option<Range<usize>>,
        doc_key: &str,
    ) -> Option<serde_json::Value> {
        if !self.document_inside_root(doc_path, doc_span.clone(), doc_key) {
            return None;
        }
        let text = match (self.read)(Path::new(doc_path)) {
            Ok(t) => t,
            Err(e) => {
                self.err(
                    ErrorKind::BadDocument,
                    doc_span,
                    doc_key,
                    format!("cannot read `{doc_path}`: {e}"),
                );
                return None;
            }
        };
        self.inputs
            .insert(doc_path.to_owned(), sha256_hex(text.as_bytes()));
        match doc::parse(&text) {
            Ok(v) if v.is_object() => Some(v),
            Ok(_) => {
                self.err(
                    ErrorKind::BadDocument,
                    doc_span,
                    doc_key,
                    format!("`{doc_path}` must hold a JSON object"),
                );
                None
            }
            Err(e) => {
                self.err(
                    ErrorKind::BadDocument,
                    doc_span,
                    doc_key,
                    format!(
                        "`{doc_path}` is not valid JSON: line {}, column {}: {}",
                        e.line, e.column, e.message
                    ),
                );
                None
            }
        }
    }

    /// Whether a document path lies where documents may (the config's directory or
    /// `documents_root`), as written and on disk; reports it at the key when not.
    fn document_inside_root(
        &mut self,
        doc_path: &str,
        doc_span: Option<Range<usize>>,
        doc_key: &str,
    ) -> bool {
        let root = self.documents_root.as_deref();
        let outside = match docpath::lexical(doc_path, root) {
            Err(message) => Some(message),
            Ok(()) => (self.confine)(Path::new(doc_path), root.map(Path::new))
                .err()
                .map(|to| {
                    format!(
                        "`{doc_path}` resolves to {}, outside the config's directory{}",
                        to.display(),
                        root.map(|r| format!(" and documents_root `{r}`"))
                            .unwrap_or_default()
                    )
                }),
        };
        match outside {
            Some(message) => {
                self.err_help(
                    ErrorKind::InvalidValue,
                    doc_span,
                    doc_key,
                    message,
                    docpath::HELP,
                );
                false
            }
            None => true,
        }
    }

    fn walk(&mut self, top: &toml_edit::Table) -> Desired {
        self.check_keys(top, TOP_KEYS, "");
        if let Some((root, sp)) = self.string(top, "documents_root", "") {
            if root.is_empty() {
                self.err(
                    ErrorKind::InvalidValue,
                    sp,
                    "documents_root",
                    "`documents_root` must name a directory",
                );
            } else {
                self.documents_root = Some(root);
            }
        }
        let mut d = Desired {
            limits: self.limits(top),
            environment: self.environment.clone(),
            ..Desired::default()
        };

        // [organization]
        match self.table(top, "organization", "") {
            Some(org) => {
                let span = key_span(top, "organization");
                self.check_keys(org, ORG_KEYS, "organization");
                if let Some((id, sp)) =
                    self.required_string(org, span, "management_account", "organization")
                {
                    if !is_account_id(&id) {
                        self.err(
                            ErrorKind::InvalidValue,
                            sp,
                            "organization.management_account",
                            format!("`{id}` is not a 12-digit account id"),
                        );
                    }
                    d.management_account = id;
                }
                if let Some((arn, sp)) = self.string(org, "deployer", "organization") {
                    if !arn.starts_with("arn:") {
                        self.err(
                            ErrorKind::InvalidValue,
                            sp,
                            "organization.deployer",
                            format!("`{arn}` is not an ARN"),
                        );
                    }
                    d.deployer = Some(arn);
                }
                d.break_glass = self
                    .string_list(org, "break_glass", "organization")
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect();
                d.member_role = self
                    .string(org, "member_role", "organization")
                    .map(|(s, _)| s)
                    .unwrap_or_else(|| "OrganizationAccountAccessRole".to_owned());
                d.ignore_unmanaged = self
                    .string_list(org, "ignore_unmanaged", "organization")
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect();
                if let Some((dir, _)) = self.string(org, "guardrails_dir", "organization") {
                    self.guardrails_dir = dir;
                }
            }
            None => {
                if top.get("organization").is_none() {
                    self.err(
                        ErrorKind::MissingKey,
                        Some(0..0),
                        "organization",
                        "missing required table [organization]",
                    );
                }
            }
        }

        // [policies.NAME]
        if let Some(pols) = self.table(top, "policies", "") {
            for (name, item) in pols.iter() {
                let path = join("policies", name);
                let span = key_span(pols, name);
                let Some(t) = item.as_table_like() else {
                    self.err(
                        ErrorKind::InvalidValue,
                        item_span(item),
                        &path,
                        "a policy must be a table",
                    );
                    continue;
                };
                if let Some(p) = self.policy(name, t, span, &path, &d.limits) {
                    d.policies.insert(name.to_owned(), p);
                }
            }
        }

        // [guardrails.NAME]
        self.guardrail_instances(top, &mut d);

        // [root]
        if let Some(root) = self.table(top, "root", "") {
            self.check_keys(root, TARGET_KEYS, "root");
            d.root = DesiredRoot {
                policies: self.policy_refs(root, "root", &d),
                guardrails: self.guardrail_refs(root, "root", &d),
            };
        } else {
            d.root.policies = aws_default(&d.limits);
        }

        // [ous."PATH"]
        if let Some(ous) = self.table(top, "ous", "") {
            // Paths first, so a child may be declared before its parent.
            let declared: BTreeSet<OuPath> =
                ous.iter().filter_map(|(k, _)| OuPath::parse(k)).collect();
            for (k, item) in ous.iter() {
                let path = join("ous", k);
                let span = key_span(ous, k);
                let Some(ou_path) = OuPath::parse(k) else {
                    self.err_help(
                        ErrorKind::InvalidValue,
                        span,
                        &path,
                        format!("`{k}` is not an OU path"),
                        "write the path from the root with `/` between names, for example \"Workloads/Prod\"",
                    );
                    continue;
                };
                if let Some(parent) = ou_path.parent() {
                    if !parent.is_root() && !declared.contains(&parent) {
                        self.err_help(
                            ErrorKind::Dangling,
                            span.clone(),
                            &path,
                            format!("the parent OU `{parent}` is not declared"),
                            format!("add [ous.\"{parent}\"]"),
                        );
                    }
                }
                let max_depth = d.limits.org.max_ou_depth;
                if ou_path.depth() > max_depth.value {
                    self.err(
                        ErrorKind::Limit,
                        span.clone(),
                        &path,
                        format!(
                            "`{ou_path}` is {} levels deep; the limit is {} ({})",
                            ou_path.depth(),
                            max_depth.value,
                            max_depth.source
                        ),
                    );
                }
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
                let policies = self.policy_refs(t, &path, &d);
                let guardrails = self.guardrail_refs(t, &path, &d);
                d.ous.insert(
                    ou_path,
                    DesiredOu {
                        policies,
                        guardrails,
                    },
                );
            }
        }

        // [accounts.KEY]
        if let Some(accts) = self.table(top, "accounts", "") {
            let mut seen: BTreeMap<String, String> = BTreeMap::new();
            let mut seen_email: BTreeMap<String, String> = BTreeMap::new();
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
                self.check_keys(t, ACCOUNT_KEYS, &path);
                let id = if t.get("id").is_none() && t.get("email").is_some() {
                    None
                } else {
                    self.required_string(t, span.clone(), "id", &path)
                };
                let email = self.string(t, "email", &path);
                let ou = match self.string(t, "ou", &path) {
                    Some((s, sp)) => match OuPath::parse(&s) {
                        Some(p) if d.ous.contains_key(&p) => Some(p),
                        Some(p) => {
                            self.err_help(
                                ErrorKind::Dangling,
                                sp,
                                &join(&path, "ou"),
                                format!("the OU `{p}` is not declared"),
                                format!("add [ous.\"{p}\"] or fix the path"),
                            );
                            None
                        }
                        None => {
                            self.err(
                                ErrorKind::InvalidValue,
                                sp,
                                &join(&path, "ou"),
                                format!("`{s}` is not an OU path"),
                            );
                            None
                        }
                    },
                    None => Some(OuPath::root()),
                };
                let policies = self.policy_refs(t, &path, &d);
                if let Some((e, e_span)) = &email {
                    let lower = e.to_ascii_lowercase();
                    if !e.contains('@') {
                        self.err(
                            ErrorKind::InvalidValue,
                            e_span.clone(),
                            &join(&path, "email"),
                            format!("`{e}` is not an email address"),
                        );
                        continue;
                    }
                    if let Some(first) = seen_email.get(&lower) {
                        self.err(
                            ErrorKind::Duplicate,
                            e_span.clone(),
                            &join(&path, "email"),
                            format!("email {e} is already used by [accounts.{}]", seg(first)),
                        );
                        continue;
                    }
                    seen_email.insert(lower, k.to_owned());
                }
                let id = match id {
                    None if t.get("id").is_some() => continue,
                    None => None,
                    Some((id, id_span)) => {
                        if !is_account_id(&id) {
                            self.err(
                                ErrorKind::InvalidValue,
                                id_span,
                                &join(&path, "id"),
                                format!("`{id}` is not a 12-digit account id"),
                            );
                            continue;
                        }
                        if let Some(first) = seen.get(&id) {
                            self.err(
                                ErrorKind::Duplicate,
                                id_span,
                                &join(&path, "id"),
                                format!(
                                    "account id {id} is already used by [accounts.{}]",
                                    seg(first)
                                ),
                            );
                            continue;
                        }
                        seen.insert(id.clone(), k.to_owned());
                        Some(id)
                    }
                };
                let email = email.map(|(e, _)| e);
                let guardrails = self.guardrail_refs(t, &path, &d);
                if let Some(ou) = ou {
                    d.accounts.insert(
                        k.to_owned(),
                        DesiredAccount {
                            key: k.to_owned(),
                            id,
                            email,
                            ou,
                            policies,
                            guardrails,
                        },
                    );
                }
            }
        }

        // [boundaries.NAME] (adds its require/protect guardrails to the covered targets)
        self.boundaries(top, &mut d);

        // [rollout] and `stage`: canary guardrails only where they reach the canary OUs.
        self.rollout(top, &mut d);

        // [[assert]]
        self.assertions(top, &mut d);

        // Compile the guardrails into policies, then lint every document.
        // Limits and lint run whatever else failed: every finding is reported at once.
        if self.sink.errors.is_empty() {
            self.compile(top, &mut d);
        }
        self.attachment_counts(top, &d);
        self.lint(top, &mut d);
        self.disabled_types(top, &mut d);
        d
    }

    fn limits(&mut self, top: &dyn TableLike) -> LimitsTable {
        let mut table = LimitsTable::default();
        let Some(lims) = self.table(top, "limits", "") else {
            return table;
        };
        for (section, item) in lims.iter() {
            let path = join("limits", section);
            let Some(t) = item.as_table_like() else {
                self.err(
                    ErrorKind::InvalidValue,
                    item_span(item),
                    &path,
                    "must be a table",
                );
                continue;
            };
            let known: &[&str] = match section {
                "scp" | "rcp" => limits::POLICY_LIMIT_KEYS,
                "org" => limits::ORG_LIMIT_KEYS,
                _ => {
                    self.err_help(
                        ErrorKind::UnknownKey,
                        key_span(lims, section),
                        &path,
                        format!("unknown key `{section}`"),
                        "known keys here: scp, rcp, org",
                    );
                    continue;
                }
            };
            self.check_keys(t, known, &path);
            for (k, v) in t.iter() {
                if !known.contains(&k) {
                    continue;
                }
                let Some(n) = v
                    .as_integer()
                    .filter(|n| *n > 0)
                    .and_then(|n| usize::try_from(n).ok())
                else {
                    self.err(
                        ErrorKind::InvalidValue,
                        item_span(v),
                        &join(&path, k),
                        format!("`{k}` must be a positive integer"),
                    );
                    continue;
                };
                let ok = match section {
                    "scp" => table.scp.set(k, n),
                    "rcp" => table.rcp.set(k, n),
                    _ => table.org.set(k, n),
                };
                debug_assert!(ok, "key {k} was checked against the known list");
            }
        }
        table
    }

    fn policy(
        &mut self,
        name: &str,
        t: &dyn TableLike,
        span: Option<Range<usize>>,
        path: &str,
        limits: &LimitsTable,
    ) -> Option<DesiredPolicy> {
        self.check_keys(t, POLICY_KEYS, path);
        let policy_type = match self.string(t, "type", path) {
            None => PolicyType::ServiceControlPolicy,
            Some((s, sp)) => match PolicyType::from_config(&s) {
                Some(ty) => ty,
                None => {
                    self.err(
                        ErrorKind::InvalidValue,
                        sp,
                        &join(path, "type"),
                        format!("unknown policy type `{s}`; use \"scp\", \"rcp\" or an Organizations policy type such as \"TAG_POLICY\""),
                    );
                    return None;
                }
            },
        };
        let lim = limits.for_type(policy_type);
        // AWS: 1 to the limit's characters, printable ASCII, spaces included.
        if name.is_empty()
            || name.chars().count() > lim.max_name_chars.value
            || !name.chars().all(|c| c == ' ' || c.is_ascii_graphic())
        {
            self.err(
                ErrorKind::InvalidValue,
                span.clone(),
                path,
                format!(
                    "policy name `{name}` must be 1-{} printable ASCII characters",
                    lim.max_name_chars.value
                ),
            );
        }
        if limits.aws_managed_type(name).is_some() {
            self.err(
                ErrorKind::InvalidValue,
                span.clone(),
                path,
                format!(
                    "`{name}` is an AWS-managed policy; reference it by name, do not declare it"
                ),
            );
        }
        let pinned_id = match self.string(t, "id", path) {
            Some((id, sp)) => {
                let ok = id.starts_with("p-")
                    && id.len() >= 10
                    && id[2..]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ok {
                    self.err(
                        ErrorKind::InvalidValue,
                        sp,
                        &join(path, "id"),
                        format!("`{id}` is not a policy id (p- followed by 8 or more letters, digits or _)"),
                    );
                }
                Some(id)
            }
            None => None,
        };
        let description = match self.string(t, "description", path) {
            Some((d, sp)) => {
                // A policy adopted by id keeps its description as it is when there is no room
                // for the marker; every other policy carries the marker.
                let room = if pinned_id.is_some() {
                    lim.max_description_chars.value
                } else {
                    marker::room(lim.max_description_chars.value, &self.environment)
                };
                if d.chars().count() > room {
                    self.err(
                        ErrorKind::Limit,
                        sp,
                        &join(path, "description"),
                        format!(
                            "description is {} characters; at most {room} fit beside guardrail's ownership marker (limit {}, {})",
                            d.chars().count(),
                            lim.max_description_chars.value,
                            lim.max_description_chars.source
                        ),
                    );
                }
                d
            }
            None => String::new(),
        };
        let (doc_path, doc_span) = self.required_string(t, span, "document", path)?;
        let doc_key = join(path, "document");
        let document = self.json_document(&doc_path, doc_span.clone(), &doc_key)?;
        let size = doc::sent_size(&document);
        if size > lim.max_document_chars.value {
            self.err(
                ErrorKind::Limit,
                doc_span,
                &doc_key,
                format!(
                    "`{doc_path}` is {size} characters minified; the {} limit is {} ({}), {} over",
                    policy_type,
                    lim.max_document_chars.value,
                    lim.max_document_chars.source,
                    size - lim.max_document_chars.value
                ),
            );
        }
        Some(DesiredPolicy {
            guardrails: Vec::new(),
            pinned_id,
            name: name.to_owned(),
            policy_type,
            description,
            document,
            source: PathBuf::from(doc_path),
        })
    }

    /// The `policies = [...]` of a target, each checked against the declared and AWS-managed
    /// policies. Without the key, the target carries what AWS gives every new root, OU and
    /// account: FullAWSAccess (an empty list is what says "no SCP").
    fn policy_refs(&mut self, t: &dyn TableLike, path: &str, d: &Desired) -> BTreeSet<String> {
        if t.get("policies").is_none() {
            return aws_default(&d.limits);
        }
        self.name_refs(
            t,
            path,
            ("policies", "policy"),
            &|n| d.policies.contains_key(n) || d.limits.aws_managed_type(n).is_some(),
            &|n| format!("declare it under [policies.{}] or use an AWS-managed policy such as FullAWSAccess", seg(n)),
        )
    }

    /// A list of names under `key` of a target, each declared (`exists`) and listed once.
    pub(super) fn name_refs(
        &mut self,
        t: &dyn TableLike,
        path: &str,
        (key, what): (&str, &str),
        exists: &dyn Fn(&str) -> bool,
        help: &dyn Fn(&str) -> String,
    ) -> BTreeSet<String> {
        let full_key = join(path, key);
        let mut out = BTreeSet::new();
        for (name, sp) in self.string_list(t, key, path) {
            if !exists(&name) {
                self.err_help(
                    ErrorKind::Dangling,
                    sp,
                    &full_key,
                    format!("{what} `{name}` is not defined"),
                    help(&name),
                );
                continue;
            }
            if !out.insert(name.clone()) {
                self.err(
                    ErrorKind::Duplicate,
                    sp,
                    &full_key,
                    format!("{what} `{name}` is listed twice"),
                );
            }
        }
        out
    }
}
