//! `guardrail observe`: the denials after apply, by guardrail, policy, OU, account and
//! principal, in human, JSON (docs/observe.md) and Markdown. Values from the logs pass through
//! `visible` (and Markdown's `escape`). Also the plan's staged-rollout section: the targets
//! each canary guardrail is held back from until `guardrail promote` (`held_back_*`).

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::escape::visible;
use super::markdown::{cap, escape};
use crate::model::Rollout;
use crate::observe::{Group, Report};

/// What a run read and how far back (for the heading).
pub struct Source<'a> {
    pub env: &'a str,
    /// `log files below PATH` or `CloudTrail event history, last N day(s)`.
    pub from: String,
}

fn guardrails(g: &Group) -> String {
    if g.guardrails.is_empty() {
        "(no guardrail)".into()
    } else {
        g.guardrails.join(", ")
    }
}

/// The summaries: (title, key of a group).
type Dimension = (&'static str, fn(&Group) -> Vec<String>);

const DIMENSIONS: &[Dimension] = &[
    ("guardrail", |g| {
        if g.guardrails.is_empty() {
            vec!["(no guardrail)".into()]
        } else {
            g.guardrails.clone()
        }
    }),
    ("policy", |g| {
        vec![g
            .policy
            .clone()
            .unwrap_or_else(|| "(not attributed)".into())]
    }),
    ("OU", |g| vec![g.ou.clone()]),
    ("account", |g| vec![g.account.clone()]),
    ("principal", |g| vec![g.principal.clone()]),
];

fn group_line(out: &mut String, g: &Group) {
    let _ = writeln!(
        out,
        "  {}{} × {} by {} in account {} (ou {}){}, {} .. {}",
        if g.protected {
            "PROTECTED PRINCIPAL: "
        } else {
            ""
        },
        g.count,
        visible(&g.action),
        visible(&g.principal),
        visible(&g.account),
        visible(&g.ou),
        if g.regions.is_empty() {
            String::new()
        } else {
            format!(" ({})", visible(&g.regions.join(", ")))
        },
        visible(&g.first_seen),
        visible(&g.last_seen),
    );
    let _ = writeln!(
        out,
        "      guardrail {}, policy {} ({})",
        visible(&guardrails(g)),
        visible(g.policy.as_deref().unwrap_or("?")),
        g.via.label()
    );
}

/// The human report.
pub fn observe_human(src: &Source<'_>, r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Access denied in environment {} ({}):",
        visible(src.env),
        visible(&src.from)
    );
    if r.groups.is_empty() {
        let _ = writeln!(out, "  no access-denied event");
    }
    for (title, key) in DIMENSIONS {
        let rows = r.by(key);
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  by {title}:");
        for (k, n) in rows {
            let _ = writeln!(out, "    {n:>6}  {}", visible(&k));
        }
    }
    if !r.groups.is_empty() {
        let _ = writeln!(out, "  denials:");
    }
    for g in &r.groups {
        group_line(&mut out, g);
    }
    let protected = r.protected().count();
    if protected > 0 {
        let _ = writeln!(
            out,
            "  THE DEPLOYER OR A BREAK-GLASS PRINCIPAL WAS DENIED by an organization policy ({protected} group(s)): check the guardrail's exemptions"
        );
    }
    totals(&mut out, r);
    out
}

fn totals(out: &mut String, r: &Report) {
    let _ = writeln!(
        out,
        "  {} file(s), {} record(s) read, {} access-denied event(s) in the window, {} outside it, {} not CloudTrail records",
        r.files_read, r.records_read, r.denials, r.outside_window, r.bad_records
    );
    if r.duplicates > 0 {
        let _ = writeln!(
            out,
            "  {} access-denied event(s) read again (same eventID or sharedEventID), counted once",
            r.duplicates
        );
    }
    for (f, e) in &r.file_errors {
        let _ = writeln!(out, "  could not read {}: {}", visible(f), visible(e));
    }
}

fn group_json(g: &Group) -> Value {
    json!({
        "guardrails": g.guardrails,
        "policy": g.policy,
        "managed": g.managed,
        "ou": g.ou,
        "account": g.account,
        "principal": g.principal,
        "action": g.action,
        "attributed": g.via.label(),
        "protected_principal": g.protected,
        "regions": g.regions,
        "count": g.count,
        "first_seen": g.first_seen,
        "last_seen": g.last_seen,
    })
}

/// The JSON report.
pub fn observe_json(src: &Source<'_>, r: &Report) -> Value {
    let mut summary = serde_json::Map::new();
    for (title, key) in DIMENSIONS {
        let rows: Vec<Value> = r
            .by(key)
            .into_iter()
            .map(|(k, n)| json!({"name": k, "count": n}))
            .collect();
        summary.insert(format!("by_{}", title.to_ascii_lowercase()), rows.into());
    }
    json!({
        "format_version": 1,
        "environment": src.env,
        "source": src.from,
        "files_read": r.files_read,
        "file_errors": r.file_errors.iter().map(|(f, e)| json!({"file": f, "error": e})).collect::<Vec<_>>(),
        "events_read": r.records_read,
        "denials": r.denials,
        "outside_window": r.outside_window,
        "duplicates": r.duplicates,
        "summary": summary,
        "groups": r.groups.iter().map(group_json).collect::<Vec<_>>(),
        "protected_principal_denied": r.protected().count() > 0,
    })
}

/// The Markdown report (a pull-request or issue comment).
pub fn observe_markdown(src: &Source<'_>, r: &Report) -> String {
    let mut out = String::new();
    let principals = r.by(|g| vec![g.principal.clone()]).len();
    let accounts = r.by(|g| vec![g.account.clone()]).len();
    let _ = writeln!(
        out,
        "### guardrail observe: {}\n\n{} access-denied request(s) from {principals} principal(s) in {accounts} account(s) ({}).\n",
        escape(src.env),
        r.denials,
        escape(&src.from)
    );
    if r.protected().count() > 0 {
        let _ = writeln!(
            out,
            "> **The deployer or a break-glass principal was denied by an organization policy.**\n"
        );
    }
    for (title, key) in DIMENSIONS {
        let rows = r.by(key);
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "| {title} | denials |\n|---|---:|");
        for (k, n) in rows {
            let _ = writeln!(out, "| {} | {n} |", escape(&k));
        }
        out.push('\n');
    }
    if !r.groups.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Every group</summary>\n\n| guardrail | policy | account | principal | action | count | last seen |\n|---|---|---|---|---|---:|---|"
        );
        for g in &r.groups {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                escape(&guardrails(g)),
                escape(g.policy.as_deref().unwrap_or("?")),
                escape(&g.account),
                escape(&g.principal),
                escape(&g.action),
                g.count,
                escape(&g.last_seen)
            );
        }
        out.push_str("\n</details>\n");
    }
    cap(out)
}

/// The canary OUs, for the held-back sections.
fn canary_ous(r: &Rollout) -> String {
    let v: Vec<String> = r.canary.iter().map(ToString::to_string).collect();
    v.join(", ")
}

/// The plan's held-back section for people: each canary guardrail and the targets it does not
/// reach until `guardrail promote` (empty when none is held back).
pub fn held_back_human(env: &str, r: &Rollout) -> String {
    if r.held_back.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n  held back until `guardrail promote --env {}` (stage = \"canary\": only on the canary OUs {})\n",
        visible(env),
        visible(&canary_ous(r))
    );
    for (g, targets) in &r.held_back {
        let t: Vec<String> = targets.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "    {}: not yet on {}",
            visible(g),
            visible(&t.join(", "))
        );
    }
    out
}

/// The plan JSON's `held_back` list (docs/plan-json.md).
pub fn held_back_json(r: &Rollout) -> Value {
    let canary: Vec<String> = r.canary.iter().map(ToString::to_string).collect();
    let items: Vec<Value> = r
        .held_back
        .iter()
        .map(|(g, targets)| {
            json!({
                "guardrail": g,
                "targets": targets.iter().map(super::json::target_json).collect::<Vec<_>>(),
                "canary_ous": canary,
            })
        })
        .collect();
    Value::Array(items)
}

/// The plan comment's held-back section (empty when none is held back).
pub fn held_back_markdown(env: &str, r: &Rollout) -> String {
    if r.held_back.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n#### Held back until `guardrail promote`\n\nAt `stage = \"canary\"` these guardrails are attached only on the canary OUs ({}); after `guardrail promote --env {}` the next plan attaches them to:\n\n| guardrail | not yet on |\n|---|---|\n",
        escape(&canary_ous(r)),
        escape(env).replace('`', "")
    );
    for (g, targets) in &r.held_back {
        let t: Vec<String> = targets.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "| {} | {} |", escape(g), escape(&t.join(", ")));
    }
    out
}
