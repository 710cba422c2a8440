//! The ownership marker: how guardrail tells the policies it created from everyone else's
//! without an extra request. The marker is a suffix of the policy description, which
//! `ListPolicies` returns with every policy summary, so recognising ownership costs nothing.
//!
//! The marker names the organization and the environment that own the policy:
//! `[managed-by:guardrail o-abc123/prod]`. A policy marked by another environment (or copied
//! from another organization) is *foreign*: never changed, never deleted. The first version's
//! bare `[managed-by:guardrail]` says nothing about its owner; it is [`Owner::Legacy`], adopted
//! only through a visible plan step when the config names the policy.

/// The fixed part of the marker.
pub const MARKER_PREFIX: &str = "[managed-by:guardrail";

/// Who a live description says owns the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// No marker: someone else's policy (console, another tool).
    None,
    /// The first version's marker, without organization and environment.
    Legacy,
    /// Marked by guardrail for this organization and environment.
    Marked { org: String, env: String },
}

impl Owner {
    /// Whether the marker names exactly this organization and environment.
    pub fn is(&self, org: &str, env: &str) -> bool {
        matches!(self, Owner::Marked { org: o, env: e } if o == org && e == env)
    }
}

/// The marker for an organization and environment.
pub fn marker(org: &str, env: &str) -> String {
    format!("{MARKER_PREFIX} {org}/{env}]")
}

/// The longest organization id (`o-` and up to 32 characters).
const MAX_ORG_ID_CHARS: usize = 34;

/// How many characters of a description fit beside the marker of environment `env` under a
/// description limit of `max` (the organization id counted at its longest).
pub fn room(max: usize, env: &str) -> usize {
    let marker_len = MARKER_PREFIX.len() + 1 + MAX_ORG_ID_CHARS + 1 + env.chars().count() + 1;
    max.saturating_sub(marker_len + 1)
}

/// The description to send for a config description.
pub fn mark(description: &str, org: &str, env: &str) -> String {
    let m = marker(org, env);
    if description.is_empty() {
        m
    } else {
        format!("{description} {m}")
    }
}

/// Where the marker starts in a description, if it ends with one.
fn marker_start(description: &str) -> Option<usize> {
    if !description.ends_with(']') {
        return None;
    }
    description.rfind(MARKER_PREFIX)
}

/// The owner a live description names.
pub fn owner(description: &str) -> Owner {
    let Some(start) = marker_start(description) else {
        return Owner::None;
    };
    let inner = &description[start + MARKER_PREFIX.len()..description.len() - 1];
    if inner.is_empty() {
        return Owner::Legacy;
    }
    match inner.strip_prefix(' ').and_then(|r| r.split_once('/')) {
        Some((org, env)) if !org.is_empty() && !env.is_empty() && !env.contains(' ') => {
            Owner::Marked {
                org: org.to_owned(),
                env: env.to_owned(),
            }
        }
        _ => Owner::None,
    }
}

/// Whether a live description carries any guardrail marker.
pub fn is_marked(description: &str) -> bool {
    owner(description) != Owner::None
}

/// The description a person wrote, without the marker.
pub fn strip(description: &str) -> &str {
    match (owner(description), marker_start(description)) {
        (Owner::None, _) | (_, None) => description,
        (_, Some(start)) => {
            let rest = &description[..start];
            rest.strip_suffix(' ').unwrap_or(rest)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_and_strip_round_trip() {
        for d in ["", "Members may not leave", "ends with space ", "[x]"] {
            let m = mark(d, "o-abc", "prod");
            assert!(owner(&m).is("o-abc", "prod"));
            assert!(!owner(&m).is("o-abc", "staging"));
            assert!(!owner(&m).is("o-other", "prod"));
            assert_eq!(strip(&m), d);
        }
        assert_eq!(owner("someone else's"), Owner::None);
        assert_eq!(strip("someone else's"), "someone else's");
        assert_eq!(owner("old [managed-by:guardrail]"), Owner::Legacy);
        assert_eq!(strip("old [managed-by:guardrail]"), "old");
        assert_eq!(owner("x [managed-by:guardrailx]"), Owner::None);
        assert_eq!(owner("x [managed-by:guardrail o-a]"), Owner::None);
    }
}
