//! The guardrail half of the config: `[guardrails.NAME]` instances of templates (a template
//! found in `guardrails_dir` or among the built-in ones, its parameters checked and expanded)
//! and `guardrails = [...]` on targets. `[[assert]]` is in `assertions.rs`; the steps after the
//! walk that compile the guardrails into policies, count attachments and lint every document
//! are in `compile.rs`, `counts.rs` and `lint.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use toml_edit::TableLike;

use super::error::ErrorKind;
use super::parse::{item_span, join, key_span, seg, Walker};
use crate::model::{sha256_hex, Desired, DesiredGuardrail};
use crate::policy::template::{self, ParamValue, Template};

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
    ) -> Option<Template> {
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
            if let Some(g) = self.guardrail_instance(&name, &path, span, t, &exempt) {
                d.guardrails.insert(name, g);
            }
        }
    }

    /// One instance: its template loaded, its parameters given or defaulted, the template
    /// expanded; `None` when any of it fails (reported).
    fn guardrail_instance(
        &mut self,
        name: &str,
        path: &str,
        span: Option<Range<usize>>,
        t: &dyn TableLike,
        exempt: &[String],
    ) -> Option<DesiredGuardrail> {
        let (tname, tspan) = self.required_string(t, span.clone(), "template", path)?;
        let tpl = self.load_template(&tname, tspan.clone(), &join(path, "template"))?;
        let values = self.template_values(&tname, &tpl, path, span, t)?;
        let expanded = template::instantiate(&tpl, &values, exempt).and_then(|s| {
            template::instantiate_document(&tpl, &values, exempt).map(|doc| (s, doc))
        });
        match expanded {
            Ok((statements, document)) => Some(DesiredGuardrail {
                name: name.to_owned(),
                template: tname,
                policy_type: tpl.policy_type,
                statements,
                document,
            }),
            Err(e) => {
                // A bad list item is the parameter's error; the others the template's.
                let (span, key) = match &e {
                    template::InstanceError::UnknownListItem { param, .. } => {
                        (key_span(t, param).or(tspan), join(path, param))
                    }
                    _ => (tspan, join(path, "template")),
                };
                self.err(
                    ErrorKind::Template,
                    span,
                    &key,
                    format!("template `{tname}`: {e}"),
                );
                None
            }
        }
    }

    /// The instance's parameter values: each key a parameter of the template with a value of
    /// its kind, every parameter without a default given; `None` when any is not (reported).
    fn template_values(
        &mut self,
        tname: &str,
        tpl: &Template,
        path: &str,
        span: Option<Range<usize>>,
        t: &dyn TableLike,
    ) -> Option<BTreeMap<String, ParamValue>> {
        let mut values: BTreeMap<String, ParamValue> = BTreeMap::new();
        let mut ok = true;
        for (k, v) in t.iter() {
            if k == "template" || k == "stage" {
                // `stage` is the rollout's (`rollout.rs`), not a template parameter.
                continue;
            }
            let key = join(path, k);
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
                        &join(path, pname),
                        format!("template `{tname}` needs parameter `{pname}`"),
                        format!("{pname}: {} ({})", p.description, p.kind.name()),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(values)
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
}
