//! `validate --format sarif`: the findings as a SARIF 2.1.0 log, which GitHub code scanning
//! (and other SARIF viewers) show inline on the lines that cause them.
//!
//! Every result names its rule (a lint code `GR0xx`, `LOCKOUT`, `ASSERT`, or a config error
//! kind `config::UnknownKey`, ...), its level, and where it is written: the config's line and
//! column, or the statement's line in the policy's JSON document when the finding is about
//! one. Paths are relative to the working directory (the repository root in CI), with `/`.
//! The renderer reads nothing: the caller hands in the config's text and the documents'.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::config::{key_location, ConfigError, ConfigErrors, ErrorKind};
use crate::model::{Desired, LintNote};
use crate::plan::verify::Validation;
use crate::policy::lint::{Severity, RULES};

/// The SARIF schema this log follows.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The rule of a lockout of the deployer, the member role or a break-glass principal.
pub const LOCKOUT_RULE: &str = "LOCKOUT";
/// The rule of an `[[assert]]` that does not hold.
pub const ASSERT_RULE: &str = "ASSERT";

/// What the SARIF log points into: the config as given and read, and each policy document's
/// text by the path the config names it with (relative to the config's directory).
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub config: &'a Path,
    pub config_text: &'a str,
    pub documents: &'a BTreeMap<PathBuf, String>,
}

/// The log of a config that loaded: lint notes, failed assertions, lockouts.
pub fn validation_sarif(src: &Sources<'_>, d: &Desired, v: &Validation) -> Value {
    let mut results: Vec<Value> = d.lint.iter().map(|n| lint_result(src, n)).collect();
    for f in &v.failed_assertions {
        let (file, line) = match f.location.rsplit_once(':') {
            Some((file, line)) => (Path::new(file), line.parse().unwrap_or(1)),
            None => (src.config, 1),
        };
        let text = format!(
            "{} should be {}, but is {}",
            f.description, f.expected, f.got
        );
        results.push(result(ASSERT_RULE, "error", &text, location(file, line, 1)));
    }
    // One result per principal and cause, as the human report groups them.
    let groups = super::human::group_proved_lockouts(&v.lockouts);
    for g in groups {
        // The principal's key: the deployer, break-glass, else the member role (or the
        // `[organization]` table, where its default applies).
        let key = if d.deployer.as_deref() == Some(g.principal) {
            "deployer"
        } else if d.break_glass.iter().any(|b| b == g.principal) {
            "break_glass"
        } else {
            "member_role"
        };
        let (line, column) =
            key_location(src.config_text, &["organization", key]).unwrap_or((1, 1));
        let text = format!(
            "{} would be denied {} on {} in account(s) {}: {}",
            g.principal,
            g.actions.join(", "),
            g.resources.join(", "),
            g.accounts.join(", "),
            g.by
        );
        results.push(result(
            LOCKOUT_RULE,
            "error",
            &text,
            location(src.config, line, column),
        ));
    }
    log(results)
}

/// The log of a config that did not load: one result per config error.
pub fn config_errors_sarif(errors: &ConfigErrors) -> Value {
    log(errors.0.iter().map(error_result).collect())
}

fn error_result(e: &ConfigError) -> Value {
    let rule = match e.rule {
        Some(code) => code.to_owned(),
        None => kind_rule(e.kind),
    };
    let text = match &e.help {
        Some(h) => format!("{}: {} ({h})", e.key, e.message),
        None => format!("{}: {}", e.key, e.message),
    };
    result(&rule, "error", &text, location(&e.file, e.line, e.column))
}

/// `config::UnknownKey`, as the human report's code.
fn kind_rule(kind: ErrorKind) -> String {
    format!("config::{kind:?}")
}

fn lint_result(src: &Sources<'_>, n: &LintNote) -> Value {
    let severity = [
        Severity::Error,
        Severity::Security,
        Severity::Warning,
        Severity::Suggestion,
    ]
    .into_iter()
    .find(|s| s.name() == n.severity)
    .unwrap_or(Severity::Warning);
    let statement = n
        .statement
        .as_ref()
        .map(|s| format!(" (statement {s})"))
        .unwrap_or_default();
    let text = format!("{}{statement}: {}", n.subject, n.message);
    let in_document = n.document.as_ref().and_then(|doc| {
        let text = src.documents.get(doc)?;
        let (line, column) = n
            .statement
            .as_deref()
            .and_then(|s| sid_location(text, s))
            .unwrap_or((1, 1));
        let dir = src.config.parent().unwrap_or(Path::new(""));
        Some(location(&dir.join(doc), line, column))
    });
    let at = in_document.unwrap_or_else(|| location(src.config, n.line, n.column));
    result(n.code, level(severity), &text, at)
}

/// Line and column of the statement whose `Sid` is `sid` (a `#N` label has no Sid to find).
fn sid_location(text: &str, sid: &str) -> Option<(usize, usize)> {
    let quoted = format!("\"{sid}\"");
    let mut from = 0;
    while let Some(i) = text[from..].find("\"Sid\"") {
        let key = from + i;
        let rest = text[key + 5..].trim_start();
        if let Some(after_colon) = rest.strip_prefix(':') {
            if after_colon.trim_start().starts_with(&quoted) {
                let before = &text[..key];
                let line = before.matches('\n').count() + 1;
                let line_start = before.rfind('\n').map_or(0, |p| p + 1);
                return Some((line, text[line_start..key].chars().count() + 1));
            }
        }
        from = key + 5;
    }
    None
}

/// A lint severity as a SARIF level; security findings are errors (GitHub also reads the
/// rule's `security-severity`).
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error | Severity::Security => "error",
        Severity::Warning => "warning",
        Severity::Suggestion => "note",
    }
}

fn location(file: &Path, line: usize, column: usize) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(file) },
            "region": { "startLine": line.max(1), "startColumn": column.max(1) },
        }
    })
}

/// A relative path as a SARIF URI reference: `/` separators, no leading `./`, spaces and
/// other characters a URI cannot hold percent-encoded.
fn uri(file: &Path) -> String {
    let s = file.to_string_lossy().replace('\\', "/");
    let s = s.trim_start_matches("./");
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn result(rule: &str, level: &str, text: &str, at: Value) -> Value {
    json!({
        "ruleId": rule,
        "level": level,
        "message": { "text": text },
        "locations": [at],
    })
}

fn log(results: Vec<Value>) -> Value {
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver() },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// guardrail as a SARIF tool: every rule a result can name, with its documentation.
fn driver() -> Value {
    let repo = env!("CARGO_PKG_REPOSITORY");
    let docs = |page: &str| format!("{repo}/blob/main/docs/{page}");
    let mut rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            let mut rule = json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": r.what },
                "fullDescription": { "text": r.why },
                "helpUri": docs(&format!("lint.md#{}", r.code.to_ascii_lowercase())),
                "defaultConfiguration": { "level": level(r.severity) },
            });
            if r.severity == Severity::Security {
                rule["properties"] = json!({ "tags": ["security"], "security-severity": "7.5" });
            }
            rule
        })
        .collect();
    rules.push(json!({
        "id": LOCKOUT_RULE,
        "name": "lockout",
        "shortDescription": { "text": "The deployer, the member role or a break-glass principal would be denied what it needs." },
        "helpUri": docs("config.md"),
        "defaultConfiguration": { "level": "error" },
    }));
    rules.push(json!({
        "id": ASSERT_RULE,
        "name": "assertion",
        "shortDescription": { "text": "An [[assert]] of the config does not hold." },
        "helpUri": docs("config.md"),
        "defaultConfiguration": { "level": "error" },
    }));
    for kind in ErrorKind::ALL {
        rules.push(json!({
            "id": kind_rule(*kind),
            "name": format!("config-{kind:?}"),
            "shortDescription": { "text": kind.describe() },
            "helpUri": docs("config.md"),
            "defaultConfiguration": { "level": "error" },
        }));
    }
    json!({
        "name": "guardrail",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "informationUri": repo,
        "rules": rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_are_found_by_key_and_value() {
        let doc =
            "{\n  \"Statement\": [\n    {\"Sid\": \"A\"},\n    { \"Sid\" :\"DenyAll\" }\n  ]\n}";
        assert_eq!(sid_location(doc, "DenyAll"), Some((4, 7)));
        assert_eq!(sid_location(doc, "A"), Some((3, 6)));
        assert_eq!(sid_location(doc, "Deny"), None);
        assert_eq!(sid_location(doc, "#1"), None);
    }

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(
            uri(Path::new("./environments/prod/a b.json")),
            "environments/prod/a%20b.json"
        );
        assert_eq!(
            uri(Path::new("environments/é.toml")),
            "environments/%C3%A9.toml"
        );
    }
}
