//! The pull-request comment: a summary table, changes grouped by target, and each policy diff
//! in a collapsible section; capped below GitHub's 65,536-character comment limit with a note
//! when cut.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape::{visible, visible_lines};
use crate::plan::{Change, Group, Plan};

/// Comments longer than this are cut (GitHub refuses bodies over 65,536 characters).
pub const MAX_COMMENT_CHARS: usize = 65_000;

const CUT_NOTE: &str = "\n\n_This comment was cut to stay under GitHub's size limit; run `guardrail plan` for the full plan._\n";

/// Escapes the characters Markdown would interpret in free text, after showing control
/// characters and direction marks visibly ([`visible`]), so no name can end a line or a table
/// cell early.
pub fn escape(s: &str) -> String {
    let s = visible(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Cuts at a line boundary below the cap, closing an open code block and details section.
pub fn cap(s: String) -> String {
    if s.len() <= MAX_COMMENT_CHARS {
        return s;
    }
    let budget = MAX_COMMENT_CHARS - CUT_NOTE.len() - 32;
    let mut end = budget;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let cut = match s[..end].rfind('\n') {
        Some(i) => &s[..i],
        None => &s[..end],
    };
    let mut out = cut.to_owned();
    if out.matches("```").count() % 2 == 1 {
        out.push_str("\n```");
    }
    if out.matches("<details>").count() > out.matches("</details>").count() {
        out.push_str("\n</details>");
    }
    out.push_str(CUT_NOTE);
    out
}

fn line(c: &Change) -> String {
    let sym = match c {
        Change::EnablePolicyType { .. }
        | Change::CreateOu { .. }
        | Change::CreatePolicy { .. }
        | Change::CreateAccount { .. }
        | Change::Attach { .. } => "➕",
        Change::UpdatePolicy { .. }
        | Change::MoveAccount { .. }
        | Change::DeployBoundary { create: false, .. } => "✏️",
        Change::DeployBoundary { .. } | Change::AttachRoleBoundary { .. } => "➕",
        Change::DeleteOu { .. }
        | Change::DeletePolicy { .. }
        | Change::Detach { .. }
        | Change::DisablePolicyType { .. } => "🗑️",
    };
    format!("{sym} {}", escape(&super::human::describe(c)))
}

/// The plan as a PR comment.
pub fn plan_markdown(env: &str, plan: &Plan) -> String {
    plan_markdown_with(env, plan, None)
}

/// The plan as a PR comment, with the CloudTrail replay (`--replay`): its one-line verdict
/// after the access proof's, and its section after the effects.
pub fn plan_markdown_with(
    env: &str,
    plan: &Plan,
    replay: Option<&crate::replay::Report>,
) -> String {
    let mut out = String::new();
    if let Some(p) = &plan.access_proof {
        let _ = writeln!(
            out,
            "{}",
            super::access_proof::access_proof_markdown_opener(p)
        );
    }
    if let Some(r) = replay {
        let _ = writeln!(out, "{}\n", super::replay::replay_markdown_opener(r));
    }
    let _ = writeln!(out, "### guardrail plan: `{env}`\n");
    if plan.is_empty() {
        let _ = writeln!(out, "No changes. The organization matches the config.");
        return out;
    }
    summary_table(&mut out, plan);
    out.push_str(&super::graph_plan::plan_diagram_markdown(plan));
    changes_by_target(&mut out, plan);
    policy_documents(&mut out, plan);
    effects_table(&mut out, plan);
    if let Some(p) = &plan.access_proof {
        out.push_str(&super::access_proof::access_proof_markdown(p));
    }
    if let Some(r) = replay {
        out.push_str(&super::replay::replay_markdown(r));
    }
    audit_and_warnings(&mut out, plan);
    let _ = writeln!(out, "\n{}", escape(&super::human::summary_line(plan)));
    cap(out)
}

/// The count of each kind of change, the kinds with none left out.
fn summary_table(out: &mut String, plan: &Plan) {
    let s = plan.summary();
    let _ = writeln!(out, "| change | count |\n|---|---:|");
    for (label, n) in [
        ("policy types to enable", s.types_to_enable),
        ("policy types to disable", s.types_to_disable),
        ("OUs to create", s.ous_to_create),
        ("OUs to delete", s.ous_to_delete),
        ("accounts to create", s.accounts_to_create),
        ("accounts to move", s.accounts_to_move),
        ("boundaries to create", s.boundaries_to_create),
        ("boundaries to update", s.boundaries_to_update),
        ("roles to put under a boundary", s.roles_to_bound),
        ("policies to create", s.policies_to_create),
        ("policies to update", s.policies_to_update),
        ("policies to delete", s.policies_to_delete),
        ("attachments to add", s.attachments_to_add),
        ("attachments to remove", s.attachments_to_remove),
    ] {
        if n > 0 {
            let _ = writeln!(out, "| {label} | {n} |");
        }
    }
}

fn changes_by_target(out: &mut String, plan: &Plan) {
    let mut groups: BTreeMap<Group, Vec<&Change>> = BTreeMap::new();
    for c in &plan.changes {
        groups.entry(c.group()).or_default().push(c);
    }
    let _ = writeln!(out, "\n#### Changes by target\n");
    for (g, changes) in &groups {
        let _ = writeln!(out, "- **{}**", escape(&super::human::group_title(g, plan)));
        for c in changes {
            let _ = writeln!(out, "  - {}", line(c));
        }
    }
}

/// Each created policy's document and each updated one's diff, collapsed.
fn policy_documents(out: &mut String, plan: &Plan) {
    let mut diffs = String::new();
    for c in &plan.changes {
        match c {
            Change::UpdatePolicy {
                name,
                content_diff: Some(d),
                new_content,
                size_limit,
                ..
            } => {
                let size = new_content.as_ref().map_or(0, String::len);
                let _ = writeln!(diffs, "\n<details><summary>update {} ({size} of {size_limit} characters)</summary>\n\n```diff\n{}```\n</details>", escape(name), visible_lines(d));
            }
            Change::CreatePolicy {
                name,
                pretty,
                content,
                size_limit,
                ..
            } => {
                let _ = writeln!(diffs, "\n<details><summary>create {} ({} of {size_limit} characters)</summary>\n\n```json\n{}```\n</details>", escape(name), content.len(), visible_lines(pretty));
            }
            _ => {}
        }
    }
    if !diffs.is_empty() {
        let _ = writeln!(out, "\n#### Policy documents");
        out.push_str(&diffs);
    }
}

/// The effect diff: the probe requests whose decision the change flips.
fn effects_table(out: &mut String, plan: &Plan) {
    if plan.effects.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n#### What changes for requests\n\n| target | request | before | after |\n|---|---|---|---|");
    for e in &plan.effects {
        let _ = writeln!(
            out,
            "| {} | `{}` in {} by {} | {} | {} |",
            escape(&e.target.to_string()),
            visible(&e.action),
            escape(&e.region),
            escape(&e.principal),
            escape(&e.before),
            escape(&e.after)
        );
    }
}

/// The boundary audit (at most 200 roles) and the warnings.
fn audit_and_warnings(out: &mut String, plan: &Plan) {
    if !plan.audit.is_empty() {
        let _ = writeln!(
            out,
            "\n#### Roles outside their boundary ({})\n",
            plan.audit.len()
        );
        for f in plan.audit.iter().take(200) {
            let _ = writeln!(out, "- {}", escape(&super::human::audit_text(f)));
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "\n#### Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(out, "- {}", escape(&super::human::warning_text(w)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_comments_are_cut_with_a_note_and_closed_blocks() {
        let body = format!("<details>\n```diff\n{}", "+ line\n".repeat(20_000));
        let out = cap(body);
        assert!(out.len() <= MAX_COMMENT_CHARS);
        assert!(out.ends_with(CUT_NOTE));
        assert_eq!(out.matches("```").count() % 2, 0);
        assert!(out.contains("</details>"));
    }
}
