//! The replay report: "what this change would have blocked" (human) and the plan JSON's
//! `replay` section (docs/plan-json.md). Values from the logs pass through `visible`.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::replay::{Flip, Report};

use super::escape::visible;

fn flip_line(out: &mut String, f: &Flip) {
    let _ = writeln!(
        out,
        "  {} × {} by {} in account {}{}, {} .. {}",
        f.count,
        visible(&f.action),
        visible(&f.principal),
        visible(&f.account),
        if f.regions.is_empty() {
            String::new()
        } else {
            format!(" ({})", visible(&f.regions.join(", ")))
        },
        visible(&f.first_seen),
        visible(&f.last_seen),
    );
    let _ = writeln!(out, "      {}", visible(&f.decided_by));
}

/// The human section.
pub fn replay_human(r: &Report) -> String {
    let mut out = String::new();
    let denied: usize = r.newly_denied.iter().map(|f| f.count).sum();
    let _ = writeln!(
        out,
        "\nWhat this change would have blocked (CloudTrail replay):"
    );
    if r.newly_denied.is_empty() {
        let _ = writeln!(out, "  nothing: no recorded request would be newly denied");
    } else {
        let _ = writeln!(
            out,
            "  NEWLY DENIED: {denied} request(s) in {} group(s)",
            r.newly_denied.len()
        );
        for f in &r.newly_denied {
            flip_line(&mut out, f);
        }
    }
    if !r.newly_allowed.is_empty() {
        let _ = writeln!(out, "  newly allowed:");
        for f in &r.newly_allowed {
            flip_line(&mut out, f);
        }
    }
    let _ = writeln!(
        out,
        "  {} file(s), {} record(s) read, {} event(s) mapped, {} evaluated, {} not evaluated",
        r.files_read,
        r.records_read,
        r.events_mapped,
        r.evaluated,
        r.not_evaluated()
    );
    for (why, n) in &r.skipped {
        let _ = writeln!(out, "    {n} {}", why.label());
    }
    for ((source, name), n) in &r.unmappable {
        let _ = writeln!(
            out,
            "    {n} unmappable {} {}",
            visible(source),
            visible(name)
        );
    }
    if r.bad_records > 0 {
        let _ = writeln!(out, "    {} not a CloudTrail record", r.bad_records);
    }
    for (file, e) in &r.file_errors {
        let _ = writeln!(out, "  skipped file {}: {}", visible(file), visible(e));
    }
    out
}

fn flip_json(f: &Flip) -> Value {
    json!({
        "account": f.account, "action": f.action, "principal": f.principal,
        "regions": f.regions, "count": f.count,
        "first_seen": f.first_seen, "last_seen": f.last_seen,
        "decided_by": f.decided_by, "policy": f.policy, "statement": f.statement,
    })
}

/// The JSON `replay` section.
pub fn replay_json(r: &Report) -> Value {
    let mut not_evaluated = serde_json::Map::new();
    for (why, n) in &r.skipped {
        not_evaluated.insert(why.label(), json!(n));
    }
    if r.bad_records > 0 {
        not_evaluated.insert("not a CloudTrail record".into(), json!(r.bad_records));
    }
    let unmappable: usize = r.unmappable.values().sum();
    if unmappable > 0 {
        not_evaluated.insert("unmappable".into(), json!(unmappable));
    }
    let (requests, principals, accounts) = r.denied_totals();
    let time = |t: Option<time::OffsetDateTime>| t.map(crate::replay::format_time);
    json!({
        "files_read": r.files_read,
        "file_errors": r.file_errors.iter().map(|(f, e)| json!({"file": f, "error": e})).collect::<Vec<_>>(),
        "events_read": r.records_read,
        "events_mapped": r.events_mapped,
        "evaluated": r.evaluated,
        "distinct_requests": r.distinct_requests,
        "first_event": time(r.span.map(|s| s.0)),
        "last_event": time(r.span.map(|s| s.1)),
        "newly_denied_totals": {"requests": requests, "principals": principals, "accounts": accounts},
        "newly_denied": r.newly_denied.iter().map(flip_json).collect::<Vec<_>>(),
        "newly_allowed": r.newly_allowed.iter().map(flip_json).collect::<Vec<_>>(),
        "unmappable": r.unmappable.iter().map(|((s, n), c)| json!({"event_source": s, "event_name": n, "count": c})).collect::<Vec<_>>(),
        "not_evaluated": not_evaluated,
    })
}

/// Whole days the replayed events span (at least one), and the first and last dates.
fn span_text(r: &Report) -> String {
    match r.span {
        Some((first, last)) => {
            let days = ((last - first).whole_seconds() + 86_399) / 86_400;
            let date = |t: time::OffsetDateTime| {
                format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
            };
            format!(
                "over {} day(s) of CloudTrail ({} .. {})",
                days.max(1),
                date(first),
                date(last)
            )
        }
        None => "in CloudTrail (no event in the window)".into(),
    }
}

/// The PR comment's one-line verdict: what the change would have denied.
pub fn replay_markdown_opener(r: &Report) -> String {
    let (requests, principals, accounts) = r.denied_totals();
    if requests == 0 {
        return format!(
            "✅ **CloudTrail replay:** this change would have denied none of the {} request(s) replayed {}.",
            r.evaluated,
            span_text(r)
        );
    }
    format!(
        "⛔ **CloudTrail replay:** this change would have denied {requests} request(s) from {principals} principal(s) in {accounts} account(s) {}.",
        span_text(r)
    )
}

/// The PR comment's replay section: the newly denied and newly allowed groups, the totals.
pub fn replay_markdown(r: &Report) -> String {
    use super::markdown::escape;
    let mut out =
        String::from("\n#### What this change would have blocked (CloudTrail replay)\n\n");
    for (title, flips) in [
        ("Newly denied", &r.newly_denied),
        ("Newly allowed", &r.newly_allowed),
    ] {
        if flips.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{title}:\n\n| requests | action | principal | account | regions | first seen | last seen | decided by |\n|---:|---|---|---|---|---|---|---|"
        );
        for f in flips.iter().take(200) {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} | {} | {} |",
                f.count,
                visible(&f.action).replace('`', "'"),
                escape(&f.principal),
                escape(&f.account),
                escape(&f.regions.join(", ")),
                escape(&f.first_seen),
                escape(&f.last_seen),
                escape(&f.decided_by)
            );
        }
        if flips.len() > 200 {
            let _ = writeln!(
                out,
                "\n_{} more group(s); see `--format json`._",
                flips.len() - 200
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} file(s), {} record(s) read, {} evaluated ({} distinct), {} not evaluated, {} file(s) skipped.",
        r.files_read,
        r.records_read,
        r.evaluated,
        r.distinct_requests,
        r.not_evaluated(),
        r.file_errors.len()
    );
    out
}
