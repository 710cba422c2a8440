//! The plan's access proof (`plan::access_proof`) in the three plan formats: the verdict,
//! up to ten counterexample requests with the statement that no longer denies each, the
//! classes left undecided and why, and what each class newly loses. The Markdown verdict line
//! opens the PR comment. Names and ids pass through `visible` (human) or Markdown's `escape`.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::escape::visible;
use super::markdown::escape;
use super::Style;
use crate::plan::access_proof::{
    AccessProof, Counterexample, DeniedPatterns, ProofVerdict, Subject, Undecided,
};
use crate::plan::verify::describe_decision;
use crate::policy::eval::{Decision, Request};
use crate::policy::reason::Unknown;

/// Context keys shown in their own column rather than in `context`.
const OWN_COLUMNS: &[&str] = &["aws:principalarn", "aws:requestedregion"];

fn label(v: ProofVerdict) -> &'static str {
    match v {
        ProofVerdict::Proved => "PROVED",
        ProofVerdict::NewAccess => "NEW ACCESS",
        ProofVerdict::Unknown => "UNKNOWN",
    }
}

/// The sentence after the verdict.
fn headline(p: &AccessProof) -> String {
    let scope = format!(
        "{} account class(es) the change touches ({} account(s), a new account in {} OU(s))",
        p.classes, p.accounts, p.fresh_ous
    );
    match p.verdict {
        ProofVerdict::Proved if p.classes == 0 => {
            "the change alters no account's SCPs or RCPs".to_owned()
        }
        ProofVerdict::Proved => format!("no request is newly allowed in the {scope}"),
        ProofVerdict::NewAccess => format!(
            "requests newly allowed in {} of the {scope}",
            p.classes_with_new_access
        ),
        ProofVerdict::Unknown => format!(
            "{} of the {scope} could not be decided; nothing newly allowed was found in the others",
            p.undecided.len()
        ),
    }
}

fn subject_text(s: &Subject, accounts: usize) -> String {
    match s {
        Subject::Account(id) if accounts > 1 => {
            format!("account {id} (and {} more like it)", accounts - 1)
        }
        Subject::Account(id) => format!("account {id}"),
        Subject::FreshAccount(ou) if accounts > 0 => {
            format!("a new account in {ou} ({accounts} existing account(s) like it)")
        }
        Subject::FreshAccount(ou) => format!("a new account in {ou}"),
        Subject::CreatedAccount { email, ou } if accounts > 1 => format!(
            "the account {email} the plan creates in {ou} (and {} more like it)",
            accounts - 1
        ),
        Subject::CreatedAccount { email, ou } => {
            format!("the account {email} the plan creates in {ou}")
        }
    }
}

/// Why a class was not decided, as a sentence.
pub fn undecided_text(u: &Undecided) -> String {
    match u {
        Undecided::Reason(Unknown::Unsupported {
            construct,
            statement,
        }) if statement.is_empty() => format!("{construct} is outside the decided fragment"),
        Undecided::Reason(Unknown::Unsupported {
            construct,
            statement,
        }) => format!("{construct} in {statement} is outside the decided fragment"),
        Undecided::Reason(Unknown::Budget) => "the search ran out of its step budget".to_owned(),
        Undecided::TooManyClasses { limit } => {
            format!("not searched: the change touches more than {limit} account classes")
        }
    }
}

fn value(r: &Request, key: &str) -> Option<String> {
    r.values(key).map(|v| v.join(", "))
}

fn context_pairs(r: &Request) -> Vec<(String, String)> {
    r.context
        .iter()
        .filter(|(k, _)| !OWN_COLUMNS.contains(&k.as_str()))
        .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
        .collect()
}

/// `s3:DeleteBucket on ARN in REGION by PRINCIPAL`.
fn request_text(r: &Request) -> String {
    let mut s = r.action.clone();
    if let Some(res) = &r.resource {
        let _ = write!(s, " on {res}");
    }
    if let Some(region) = value(r, "aws:RequestedRegion") {
        let _ = write!(s, " in {region}");
    }
    if let Some(p) = value(r, "aws:PrincipalArn") {
        let _ = write!(s, " by {p}");
    }
    s
}

/// The request, with the notes on values that could not be made concrete.
fn request_cell(c: &Counterexample) -> String {
    let mut s = request_text(&c.request);
    for n in &c.notes {
        let _ = write!(s, " (note: {n})");
    }
    s
}

fn context_text(r: &Request) -> String {
    context_pairs(r)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The human section.
pub fn access_proof_human(p: &AccessProof, style: Style) -> String {
    let mut out = String::new();
    let color = match p.verdict {
        ProofVerdict::Proved => "32",
        ProofVerdict::NewAccess => "31",
        ProofVerdict::Unknown => "33",
    };
    let _ = writeln!(
        out,
        "\n  {} {}: {}",
        style.paint("1", "access proof:"),
        style.paint(color, label(p.verdict)),
        headline(p)
    );
    for c in &p.counterexamples {
        let _ = writeln!(out, "    + {}", visible(&request_text(&c.request)));
        let _ = writeln!(
            out,
            "        {}",
            visible(&subject_text(&c.subject, c.accounts))
        );
        let ctx = context_text(&c.request);
        if !ctx.is_empty() {
            let _ = writeln!(out, "        context: {}", visible(&ctx));
        }
        let was = format!(
            "was {}; now {}",
            describe_decision(&c.old),
            describe_decision(&c.new)
        );
        let _ = writeln!(out, "        {}", visible(&was));
        for n in &c.notes {
            let _ = writeln!(out, "        note: {}", visible(n));
        }
    }
    for u in &p.undecided {
        let line = format!(
            "{}: {}",
            subject_text(&u.subject, u.accounts),
            undecided_text(&u.why)
        );
        let _ = writeln!(out, "    ? {}", visible(&line));
    }
    if !p.newly_denied.is_empty() {
        let _ = writeln!(
            out,
            "\n  {}",
            style.paint("1", "requests newly denied (by account class)")
        );
        for d in &p.newly_denied {
            for line in denied_lines(d) {
                let _ = writeln!(out, "    - {}", visible(&line));
            }
        }
    }
    out
}

/// Who loses: one class as its example, several as counts with the first example.
fn denied_who(d: &DeniedPatterns) -> String {
    if d.classes == 1 {
        return subject_text(&d.subject, d.accounts);
    }
    // Zero: the example alone, without the count of the accounts like it.
    let example = subject_text(&d.subject, 0);
    format!(
        "{} account classes ({} account(s), a new account in {} OU(s); for example {example})",
        d.classes, d.accounts, d.fresh_ous
    )
}

fn denied_lines(d: &DeniedPatterns) -> Vec<String> {
    let who = denied_who(d);
    let mut out: Vec<String> = d
        .patterns
        .iter()
        .map(|(actions, by)| format!("{who}: {}; {by}", actions.join(", ")))
        .collect();
    if let Some(u) = &d.incomplete {
        out.push(format!("{who}: not fully searched ({})", undecided_text(u)));
    }
    out
}

/// `account_id`, `new_account_in_ou` and `created_account_email` of a class's example.
fn subject_json(s: &Subject) -> serde_json::Map<String, Value> {
    let (ou, email) = match s {
        Subject::Account(_) => (Value::Null, Value::Null),
        Subject::FreshAccount(ou) => (json!(ou.to_string()), Value::Null),
        Subject::CreatedAccount { email, ou } => (json!(ou.to_string()), json!(email)),
    };
    let mut m = serde_json::Map::new();
    m.insert("account_id".into(), json!(s.account_id()));
    m.insert("new_account_in_ou".into(), ou);
    m.insert("created_account_email".into(), email);
    m
}

/// `object` with the example's fields first.
fn with_subject(s: &Subject, object: Value) -> Value {
    let mut m = subject_json(s);
    if let Value::Object(rest) = object {
        m.extend(rest);
    }
    Value::Object(m)
}

fn responsible_json(d: &Decision) -> Value {
    match d {
        Decision::Deny(by) => json!({
            "layer": by.layer.name(), "level": by.level, "policy": by.policy,
            "statement": by.statement, "guardrail": by.guardrail,
        }),
        Decision::NoAllow { layer, level } => {
            json!({"layer": layer.name(), "level": level, "missing_allow": true})
        }
        _ => Value::Null,
    }
}

fn counterexample_json(c: &Counterexample) -> Value {
    let mut context = serde_json::Map::new();
    for (k, vs) in &c.request.context {
        if !OWN_COLUMNS.contains(&k.as_str()) {
            context.insert(k.clone(), json!(vs));
        }
    }
    with_subject(
        &c.subject,
        json!({
            "accounts_in_class": c.accounts,
            "principal": value(&c.request, "aws:PrincipalArn"), "action": c.request.action,
            "resource": c.request.resource, "region": value(&c.request, "aws:RequestedRegion"),
            "context": context, "before": describe_decision(&c.old), "after": describe_decision(&c.new),
            "responsible": responsible_json(&c.old), "notes": c.notes,
        }),
    )
}

/// The plan JSON's `access_proof` object (docs/plan-json.md).
pub fn access_proof_json(p: &AccessProof) -> Value {
    let reason = (p.verdict == ProofVerdict::Unknown).then(|| {
        p.undecided
            .iter()
            .map(|u| {
                format!(
                    "{}: {}",
                    subject_text(&u.subject, u.accounts),
                    undecided_text(&u.why)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    });
    json!({
        "verdict": p.verdict.name(),
        "classes": p.classes, "accounts": p.accounts, "new_account_ous": p.fresh_ous,
        "classes_with_new_access": p.classes_with_new_access,
        "counterexamples": p.counterexamples.iter().map(counterexample_json).collect::<Vec<_>>(),
        "reason": reason,
        "undecided": p.undecided.iter().map(|u| {
            with_subject(&u.subject, json!({
                   "accounts_in_class": u.accounts, "reason": undecided_text(&u.why)}))
        }).collect::<Vec<_>>(),
        "newly_denied": p.newly_denied.iter().map(|d| {
            with_subject(&d.subject, json!({
                   "classes": d.classes, "accounts": d.accounts, "new_account_ous": d.fresh_ous,
                   "patterns": d.patterns.iter().map(|(a, by)| json!({"actions": a, "denied_by": by})).collect::<Vec<_>>(),
                   "complete": d.incomplete.is_none()}))
        }).collect::<Vec<_>>(),
    })
}

/// The line that opens the PR comment.
pub fn access_proof_markdown_opener(p: &AccessProof) -> String {
    let icon = match p.verdict {
        ProofVerdict::Proved => "✅",
        ProofVerdict::NewAccess => "⚠️",
        ProofVerdict::Unknown => "❔",
    };
    format!(
        "{icon} **Access proof: {}**: {}\n",
        label(p.verdict),
        escape(&headline(p))
    )
}

/// The comment's `Access proof` section (empty when there is nothing beyond the verdict).
pub fn access_proof_markdown(p: &AccessProof) -> String {
    let mut out = String::new();
    if !p.counterexamples.is_empty() {
        let _ = writeln!(out, "\n#### Access proof: requests newly allowed\n\n| account | request | context | was denied by |\n|---|---|---|---|");
        for c in &p.counterexamples {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                escape(&subject_text(&c.subject, c.accounts)),
                escape(&request_cell(c)),
                escape(&context_text(&c.request)),
                escape(&describe_decision(&c.old))
            );
        }
    }
    if !p.undecided.is_empty() {
        let _ = writeln!(out, "\n#### Access proof: not decided\n");
        for u in &p.undecided {
            let line = format!(
                "{}: {}",
                subject_text(&u.subject, u.accounts),
                undecided_text(&u.why)
            );
            let _ = writeln!(out, "- {}", escape(&line));
        }
    }
    if !p.newly_denied.is_empty() {
        let _ = writeln!(out, "\n#### Requests newly denied (by account class)\n");
        for d in &p.newly_denied {
            for line in denied_lines(d) {
                let _ = writeln!(out, "- {}", escape(&line));
            }
        }
    }
    out
}
