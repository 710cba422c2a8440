//! `guardrail promote`: the decision (refused while the canary shows denials from the
//! guardrail within `rollout.min_days`) and the edit (the instance's `stage` becomes `"all"`
//! in the config's text, every other byte kept, comments and formatting included). Promotion
//! itself is then an ordinary plan and apply.
//!
//! Pure: the observation comes in as an `observe::Report`, the config as text.

use toml_edit::{DocumentMut, Item, Value};

use crate::model::{Desired, LiveOrg};
use crate::observe::Report;

/// Why a promotion cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromoteError {
    #[error("the config is not valid TOML: {0}")]
    NotToml(String),
    #[error("there is no [guardrails.{0}] in the config")]
    NoSuchGuardrail(String),
    #[error("guardrail `{0}` is not at the canary stage (nothing to promote)")]
    NotCanary(String),
}

/// The config's text with `[guardrails.NAME] stage = "all"`: only that value changes (its
/// comments stay).
pub fn promote_text(text: &str, guardrail: &str) -> Result<String, PromoteError> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| PromoteError::NotToml(e.message().to_owned()))?;
    let table = doc
        .get_mut("guardrails")
        .and_then(Item::as_table_like_mut)
        .and_then(|g| g.get_mut(guardrail))
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| PromoteError::NoSuchGuardrail(guardrail.to_owned()))?;
    let stage = table.get_mut("stage");
    let Some(item) = stage.filter(|i| i.as_str() == Some("canary")) else {
        return Err(PromoteError::NotCanary(guardrail.to_owned()));
    };
    let decor = item.as_value().map(|v| v.decor().clone());
    let mut all = Value::from("all");
    if let Some(d) = decor {
        *all.decor_mut() = d;
    }
    *item = Item::Value(all);
    Ok(doc.to_string())
}

/// The canary's accounts: the live accounts in or below a canary OU.
pub fn canary_accounts(desired: &Desired, live: &LiveOrg) -> Vec<String> {
    let mut out: Vec<String> = live
        .accounts
        .values()
        .filter(|a| {
            live.path_of(&a.parent_id)
                .is_some_and(|p| desired.rollout.in_canary(&p))
        })
        .map(|a| a.id.clone())
        .collect();
    out.sort();
    out
}

/// Whether the guardrail's compiled policies are attached live on the canary: on an OU in or
/// below a canary OU, or on a canary account. Without that, a quiet canary shows nothing.
pub fn applied_on_canary(desired: &Desired, live: &LiveOrg, guardrail: &str) -> bool {
    let names: std::collections::BTreeSet<&str> = desired
        .policies
        .values()
        .filter(|p| p.guardrails.iter().flatten().any(|g| g == guardrail))
        .map(|p| p.name.as_str())
        .collect();
    let canary = canary_accounts(desired, live);
    live.policies
        .values()
        .filter(|p| names.contains(p.name.as_str()))
        .flat_map(|p| &p.targets)
        .any(|t| {
            canary.contains(t)
                || (live.ous.contains_key(t)
                    && live
                        .path_of(t)
                        .is_some_and(|p| desired.rollout.in_canary(&p)))
        })
}

/// Whether the guardrail may be promoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No denial from it on the canary within the window.
    Allowed,
    /// This many denials from it on the canary within the window.
    Refused { denials: usize },
}

/// Refused while the observation shows denials from `guardrail` on the canary accounts.
pub fn decide(report: &Report, guardrail: &str, canary: &[String]) -> Verdict {
    match report.denials_by(guardrail, Some(canary)) {
        0 => Verdict::Allowed,
        denials => Verdict::Refused { denials },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# top
[guardrails.eu-only]
template = "region-lock"   # the lock
stage = "canary"  # first the canary
allowed_regions = ["eu-west-1"]

[guardrails.other]
template = "root-user-deny"
"#;

    #[test]
    fn promotion_changes_only_the_stage_value() {
        let out = promote_text(TEXT, "eu-only").unwrap();
        assert_eq!(
            out,
            TEXT.replace("stage = \"canary\"  # first", "stage = \"all\"  # first")
        );
    }

    #[test]
    fn promotion_needs_a_canary_guardrail() {
        assert_eq!(
            promote_text(TEXT, "other"),
            Err(PromoteError::NotCanary("other".into()))
        );
        assert_eq!(
            promote_text(TEXT, "nope"),
            Err(PromoteError::NoSuchGuardrail("nope".into()))
        );
    }
}
