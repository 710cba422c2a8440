//! The docs page of a guardrail template (`docs/guardrails/<name>.md`), generated from the
//! template itself: its description, intent, parameters, statements or document, and an
//! example instance. `tests/it/docs.rs` keeps the committed pages equal to it.

use serde_json::Value;

use super::template::{ParamKind, ParamValue, Template, EXEMPT_PRINCIPALS};

/// The docs page of a template, generated from the template itself.
pub fn docs_page(t: &Template) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "# `{}`\n\n{}\n", t.name, t.description);
    let _ = writeln!(out, "Policy type: {}.\n", t.policy_type.short());
    if !t.intent.is_empty() {
        let _ = writeln!(out, "{}\n", t.intent);
    }
    let _ = writeln!(out, "## Parameters\n");
    if t.parameters.is_empty() {
        let _ = writeln!(out, "None.\n");
    } else {
        let _ = writeln!(
            out,
            "| name | type | default | meaning |\n|---|---|---|---|"
        );
        for (n, p) in &t.parameters {
            let default = match &p.default {
                None => "required".to_owned(),
                Some(ParamValue::String(s)) => format!("`\"{s}\"`"),
                Some(ParamValue::Bool(b)) => format!("`{b}`"),
                Some(ParamValue::List(l)) if l.len() > 6 => {
                    format!("{} entries (see the template)", l.len())
                }
                Some(ParamValue::List(l)) => format!("`{l:?}`"),
            };
            let _ = writeln!(
                out,
                "| `{n}` | {} | {default} | {} |",
                p.kind.name(),
                p.description.replace('|', "\\|")
            );
        }
        out.push('\n');
    }
    if let Some(doc) = &t.document {
        let _ = writeln!(
            out,
            "## Document\n\nOne {} per instance, named `gr-<instance>`, attached to every target that lists the instance:\n\n```json\n{}```",
            t.policy_type.short(),
            crate::policy::doc::pretty(doc)
        );
    } else {
        let _ = writeln!(out, "Every template also receives `{EXEMPT_PRINCIPALS}`: the deployer principals and the organization's `break_glass` principals. Statements using it exempt them.\n");
        let _ = writeln!(out, "## Statements\n");
    }
    for s in &t.statements {
        let sid = s.get("Sid").and_then(Value::as_str).unwrap_or("(no Sid)");
        let when = s
            .get("when")
            .and_then(Value::as_str)
            .map(|w| match w.split_once(':') {
                Some((list, item)) => format!(" (only when `{list}` includes `\"{item}\"`)"),
                None => format!(" (only when `{w}` is true)"),
            })
            .unwrap_or_default();
        let _ = writeln!(out, "- `{sid}`{when}");
    }
    let _ = writeln!(
        out,
        "\n## Example\n\n```toml\n[guardrails.my-{}]\ntemplate = \"{}\"",
        t.name, t.name
    );
    for (n, p) in &t.parameters {
        if p.default.is_none() {
            let v = match p.kind {
                ParamKind::String => "\"...\"".to_owned(),
                ParamKind::StringList => "[\"...\"]".to_owned(),
                ParamKind::Bool => "true".to_owned(),
            };
            let _ = writeln!(out, "{n} = {v}");
        }
    }
    let _ = writeln!(out, "```");
    out
}
