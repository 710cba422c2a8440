//! What an apply did, for people: each step done, failed or skipped (and why), then a count
//! line.

use std::fmt::Write as _;

use super::escape::visible;
use super::human::step_summary;
use super::Style;

/// What an apply did, step by step, then a count line.
pub fn outcome_human(outcome: &crate::apply::Outcome, style: Style) -> String {
    use crate::apply::StepStatus;
    let mut out = String::new();
    for (i, (c, s)) in outcome.steps.iter().enumerate() {
        let step = step_summary(c);
        let line = match s {
            StepStatus::Done => format!("{} {}. {step}", style.paint("32", "done   "), i + 1),
            StepStatus::Failed(e) => format!(
                "{} {}. {step}: {}",
                style.paint("31;1", "FAILED "),
                i + 1,
                visible(&e.to_string())
            ),
            StepStatus::Skipped { because_of } => format!(
                "{} {}. {step} (depends on step {})",
                style.paint("33", "skipped"),
                i + 1,
                because_of
                    .iter()
                    .map(|d| (d + 1).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            StepStatus::Stopped { .. } => format!(
                "{} {}. {step} (the run stopped)",
                style.paint("33", "skipped"),
                i + 1
            ),
        };
        let _ = writeln!(out, "{line}");
    }
    let done = outcome.count(|s| *s == StepStatus::Done);
    let failed = outcome.count(|s| matches!(s, StepStatus::Failed(_)));
    let skipped =
        outcome.count(|s| matches!(s, StepStatus::Skipped { .. } | StepStatus::Stopped { .. }));
    if let Some((_, StepStatus::Stopped { after })) = outcome
        .steps
        .iter()
        .find(|(_, s)| matches!(s, StepStatus::Stopped { .. }))
    {
        let steps: Vec<String> = after.iter().map(|d| (d + 1).to_string()).collect();
        let _ = writeln!(
            out,
            "\nStopped: steps {} in a row could not reach AWS, so the rest was not attempted.",
            steps.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\nApply: {done} done, {failed} failed, {skipped} not attempted."
    );
    if failed + skipped > 0 {
        let _ = writeln!(out, "Fix the cause and run plan and apply again: done steps are not repeated, the rest converge.");
    }
    out
}
