//! Hostile names from AWS: an OU, account, policy or description carrying newlines, escape
//! sequences or direction overrides must not reach a terminal as such, nor forge a line of
//! ours. Every human and Markdown rendering (plan, drift, refusals, apply outcome, warnings) is
//! checked; JSON keeps the value as it is.

use guardrail::apply::{Outcome, StepStatus};
use guardrail::live::fake::FakeOrg;
use guardrail::live::{Error, OrgBackend};
use guardrail::model::{OuPath, PolicyType::ServiceControlPolicy as SCP};
use guardrail::plan::{self, Change, Plan};
use guardrail::render::{self, is_hostile, Style};

use crate::plan_props::doc;
use crate::support::{import, read, rt};

/// The same through the commands added later (validate, explain, graph, observe).
#[path = "hostile_reports.rs"]
mod reports;

/// An OU name that, printed raw, would end the drift line and print our "all clear".
const FORGED_OU: &str = "fake\n\nNo drift: organization matches.\x1b[8m";
const BIDI_OU: &str = "\u{202e}evil\u{2066}";
const ACCOUNT: &str = "acct\r\nwarning: forged\u{9b}2J";
/// AWS documents policy names as ASCII; the config takes printable ASCII only, so this one is
/// never imported: it is someone else's policy, named in a warning.
const POLICY: &str = "pol\x1b[2J\u{7f}";
const MANAGED: &str = "team policy";
const DESCRIPTION: &str = "desc\n\nNo changes. The organization matches the config.\u{2028}";

/// Lines a hostile name would print on their own if it were not escaped.
const FORGED_LINES: &[&str] = &[
    "No drift: organization matches.",
    "No changes. The organization matches the config.",
    "warning: forged",
];

/// Checks one rendering: no hostile character (but our own line breaks), no forged line.
pub(crate) fn assert_clean(what: &str, out: &str) {
    for (i, c) in out.char_indices() {
        assert!(
            c == '\n' || !is_hostile(c),
            "{what}: {c:?} at byte {i} reached the output:\n{out}"
        );
    }
    for line in out.lines() {
        let t = line.trim_start_matches(|c: char| " -+~!*|".contains(c));
        for forged in FORGED_LINES {
            assert!(
                !t.starts_with(forged),
                "{what}: forged line {line:?}\n{out}"
            );
        }
    }
}

/// The fake with every hostile name, imported; then a desired state that changes each of them
/// (so each appears in a change, a warning or a diff), and one that is refused.
fn plans() -> (Plan, Plan, plan::Refused) {
    rt().block_on(async {
        let f = FakeOrg::new("111122223333");
        let root = f.root_id();
        let forged = f
            .create_organizational_unit(&root, FORGED_OU)
            .await
            .unwrap();
        let bidi = f
            .create_organizational_unit(&forged, BIDI_OU)
            .await
            .unwrap();
        let pol = f
            .create_policy(SCP, MANAGED, DESCRIPTION, &doc(1))
            .await
            .unwrap();
        f.attach_policy(&pol, &forged).await.unwrap();
        f.add_account(ACCOUNT, "hostile@example.com", &bidi)
            .await
            .unwrap();
        let (live, desired, emitted) = import(&f).await;
        assert!(
            plan::plan(&desired, &live).unwrap().is_empty(),
            "hostile names load back unchanged:\n{}",
            emitted.config
        );
        let theirs = f
            .create_policy(SCP, POLICY, DESCRIPTION, &doc(2))
            .await
            .unwrap();
        f.attach_policy(&theirs, &forged).await.unwrap();
        let live = read(&f).await;

        // Changed: the policy edited and described anew, the account moved out of the bidi
        // OU, which is then dropped; the account also left out of the config once (warning).
        let mut changed = desired.clone();
        let p = changed.policies.get_mut(MANAGED).unwrap();
        p.document["Statement"][0]["Action"] = serde_json::json!(["s3:DeleteBucket"]);
        p.description = format!("{DESCRIPTION}!");
        let forged_path = OuPath::parse(FORGED_OU).unwrap();
        let bidi_path = forged_path.child(BIDI_OU);
        let key = changed.accounts.keys().next().unwrap().clone();
        changed.accounts.get_mut(&key).unwrap().ou = forged_path.clone();
        changed.ous.remove(&bidi_path);
        changed
            .ous
            .get_mut(&forged_path)
            .unwrap()
            .policies
            .remove(MANAGED);
        let changed = plan::plan(&changed, &live).unwrap();

        // Refused: the OU named by both hostile names would be left without an SCP.
        let mut refused = desired.clone();
        refused.ous.get_mut(&bidi_path).unwrap().policies.clear();
        let refused = plan::plan(&refused, &live).unwrap_err();
        (changed, plan::plan(&desired, &live).unwrap(), refused)
    })
}

/// The output with the colour sequences `render` itself writes removed.
fn without_our_colours(s: &str) -> String {
    let mut s = s.to_owned();
    for code in ["1", "31", "31;1", "32", "33", "36", "0"] {
        s = s.replace(&format!("\x1b[{code}m"), "");
    }
    s
}

#[test]
fn every_human_and_markdown_rendering_escapes_hostile_names() {
    let (changed, clean, refused) = plans();
    assert!(!changed.is_empty());
    assert!(changed
        .changes
        .iter()
        .any(|c| matches!(c, Change::DeleteOu { .. })));
    let human = render::plan_human("prod", &changed, Style::default());
    let drift = render::drift_human("prod", &changed);
    for (what, out) in [
        ("plan human", human.clone()),
        (
            "plan human (colour)",
            without_our_colours(&render::plan_human("prod", &changed, Style { color: true })),
        ),
        ("plan markdown", render::plan_markdown("prod", &changed)),
        ("drift human", drift.clone()),
        ("drift markdown", render::drift_markdown("prod", &changed)),
        ("drift human clean", render::drift_human("prod", &clean)),
        (
            "refusals",
            render::refusals_human(&refused, Style::default()),
        ),
    ] {
        assert_clean(what, &out);
    }
    // The names are still there, shown visibly.
    assert!(
        drift.contains("fake\\n\\nNo drift: organization matches.\\x1b[8m"),
        "{drift}"
    );
    assert!(drift.contains("\\u{202e}evil\\u{2066}"), "{drift}");
    assert!(human.contains("pol\\x1b[2J\\x7f"), "{human}");
    let refusals = render::refusals_human(&refused, Style::default());
    assert!(
        refusals.contains("\\n\\nNo drift: organization matches.\\x1b[8m/\\u{202e}evil"),
        "{refusals}"
    );
}

#[test]
fn warnings_and_apply_outcomes_escape_hostile_names_and_errors() {
    let (changed, _, _) = plans();
    let with_warning = changed.clone();
    assert!(with_warning
        .warnings
        .iter()
        .any(|w| matches!(w, plan::Warning::UnmanagedPolicy { name, .. } if name == POLICY)));
    let human = render::plan_human("prod", &with_warning, Style::default());
    assert_clean("warnings", &human);
    assert!(human.contains(" pol\\x1b[2J\\x7f ("), "{human}");
    assert_clean(
        "warnings markdown",
        &render::plan_markdown("prod", &with_warning),
    );

    let steps = changed
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let status = if i == 0 {
                StepStatus::Failed(Error::AccessDenied(
                    "denied\n\nApply: 9 done, 0 failed, 0 not attempted.\x1b[0m".into(),
                ))
            } else {
                StepStatus::Done
            };
            (c.clone(), status)
        })
        .collect();
    let out = render::outcome_human(&Outcome { steps }, Style::default());
    assert_clean("outcome", &out);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("Apply:")).count(),
        1,
        "{out}"
    );
    assert!(out.contains("denied\\n\\nApply: 9 done"), "{out}");
}

#[test]
fn json_keeps_the_names_as_they_are() {
    let (changed, _, _) = plans();
    let json = render::plan_json("prod", &changed).to_string();
    let drift = render::drift_json("prod", &changed).to_string();
    let quoted = serde_json::to_string(FORGED_OU).unwrap();
    for out in [&json, &drift] {
        // serde_json escapes control characters itself, and the value is the name as it is.
        assert!(!out.contains('\x1b') && !out.contains('\n'), "{out}");
        assert!(out.contains(quoted.trim_matches('"')), "{out}");
    }
}

#[test]
fn config_errors_escape_the_values_they_quote() {
    let text = "[organization]\nmanagement_account = \"123456789012\"\n[policies.\"pol\\u001b[2J\\n\\nNo changes. The organization matches the config.\"]\ndocument = \"p.json\"\n";
    let errs = crate::support::parse_with(text, &Default::default()).unwrap_err();
    assert!(errs.0.iter().any(|e| e.message.contains('\x1b')));
    let out = render::config_errors(&errs, Style::default());
    assert_clean("config errors", &out);
    assert!(out.contains("pol\\x1b[2J\\n\\nNo changes."), "{out}");
}
