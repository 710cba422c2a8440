//! The TOML walk's entry points and its reader: [`parse`] and [`parse_confined`], the
//! [`Walker`] that every section of the config is read through, and the typed readers it
//! offers them (tables, strings, lists, name references, unknown keys). Uses `toml_edit`'s
//! span-preserving document so every error points at the exact key or value. The sections
//! live beside it: `sections.rs` (the walk's order, `[organization]`, `[limits]`),
//! `policies.rs`, `targets.rs` (`[root]`, `[ous]`, `[accounts]`) and `json_doc.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use toml_edit::{ImDocument, Item, TableLike, Value};

use super::docpath::Confine;
use super::error::{ConfigErrors, ErrorKind, Sink};
use crate::model::sha256_hex;
use crate::model::Desired;

/// Reads policy documents by path relative to the config file.
pub type ReadDoc<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

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
