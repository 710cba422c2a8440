//! The suggestion as a ready-to-paste `[guardrails.NAME]` table: every value a TOML string
//! written by `toml_edit` (so any character is escaped), the entries' evidence and the unused
//! entries as comments, which TOML allows between array elements. Comments carry only dates,
//! counts and values that were escaped or checked first, never a raw value from AWS.

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::{Suggestion, TEMPLATE};
use crate::model::OuPath;

/// A one-line TOML basic string for `s`: quotes and backslashes escaped, every control,
/// line-separator and direction-formatting character as `\uXXXX` (or its short escape), so
/// a value can never end the line, the string or the comment it stands in.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || is_invisible(c) => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Zero-width, line-separator and bidirectional formatting characters.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn date(t: Option<OffsetDateTime>) -> String {
    t.map_or_else(|| "never".to_owned(), |t| t.date().to_string())
}

/// A region as AWS writes one (`eu-west-1`); anything else is not shown.
fn region(r: Option<&str>) -> Option<&str> {
    r.filter(|r| {
        !r.is_empty() && r.len() <= 32 && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// Where the attach line goes: `[root]` or `[ous."PATH"]`.
fn target_table(ou: &OuPath) -> String {
    if ou.is_root() {
        "[root]".into()
    } else {
        format!("[ous.{}]", quoted(&ou.segments().join("/")))
    }
}

fn header(s: &Suggestion, out: &mut String) {
    let _ = writeln!(
        out,
        "# Suggested by `guardrail suggest service-allowlist` for {} ({}),",
        if s.ou.is_root() {
            "the root".to_owned()
        } else {
            format!("OU {}", quoted(&s.ou.segments().join("/")))
        },
        quoted(&s.entity_path)
    );
    let _ = writeln!(
        out,
        "# from IAM's organizations access report: services used from {} to {} ({} days).",
        s.since.date(),
        s.until.date(),
        s.days
    );
    if !s.always.is_empty() {
        let _ = writeln!(
            out,
            "# Also used, and allowed by always_allowed whatever the list: {}.",
            s.always
                .iter()
                .map(|a| quoted(a))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

fn entries(s: &Suggestion, out: &mut String) {
    out.push_str("allowed_services = [\n");
    for k in &s.kept {
        let mut note = format!("last used {}", date(k.last_used));
        if let Some(r) = region(k.region.as_deref()) {
            let _ = write!(note, " in {r}");
        }
        let _ = write!(note, ", {} principal(s)", k.principals);
        if k.added {
            note.push_str("; not on the current list");
        }
        let _ = writeln!(out, "    {}, # {note}", quoted(&k.pattern));
    }
    if !s.unused.is_empty() {
        let _ = writeln!(
            out,
            "    # Allowed by the current list, not used in these {} days (uncomment to keep):",
            s.days
        );
        for u in &s.unused {
            let when = match u.last_used {
                Some(t) => format!("last used {}", t.date()),
                None => "no use in IAM's tracking period".to_owned(),
            };
            let _ = writeln!(out, "    # {}, # {when}", quoted(&u.pattern));
        }
    }
    out.push_str("]\n");
}

/// The suggestion as TOML text: comments, then the instance's table, then how to attach it.
pub fn render(s: &Suggestion) -> String {
    let mut out = String::new();
    header(s, &mut out);
    let _ = writeln!(out, "[guardrails.{}]", s.name);
    let _ = writeln!(out, "template = {}", quoted(TEMPLATE));
    entries(s, &mut out);
    if let Some(always) = &s.always_allowed {
        let list: Vec<String> = always.iter().map(|a| quoted(a)).collect();
        let _ = writeln!(out, "always_allowed = [{}]", list.join(", "));
    }
    if s.attached {
        let _ = writeln!(
            out,
            "# Already attached to {}: replace its table above.",
            target_table(&s.ou)
        );
    } else {
        let _ = writeln!(
            out,
            "# Attach it: add {} to `guardrails` in {}.",
            quoted(&s.name),
            target_table(&s.ou)
        );
        if s.not_used_count > 0 {
            let _ = writeln!(
                out,
                "# No allow-list on it today: the report lists {} other service(s) nobody used.",
                s.not_used_count
            );
        }
    }
    out
}
