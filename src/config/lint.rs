//! The config's lint step: every hand-written document and every guardrail instance through
//! `policy::lint`; an error-severity finding is a config error (file, line, key, rule), the
//! others become [`LintNote`]s in `Desired::lint`.

use std::ops::Range;

use toml_edit::{Item, TableLike};

use super::error::ErrorKind;
use super::parse::{item_span, join, key_span, Walker};
use crate::model::{Desired, LintNote};
use crate::policy::compile;
use crate::policy::lint::{self, LintContext, Severity};

impl Walker<'_> {
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

    /// One finding: a config error when its severity is error, else a note.
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
