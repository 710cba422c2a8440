//! The ownership marker: how guardrail tells the policies it created from everyone else's
//! without an extra request. The marker is a suffix of the policy description, which
//! `ListPolicies` returns with every policy summary, so recognising ownership costs nothing.

/// Appended to the description of every policy guardrail creates or updates.
pub const MARKER: &str = "[managed-by:guardrail]";

/// The description to send for a config description.
pub fn mark(description: &str) -> String {
    if description.is_empty() {
        MARKER.to_owned()
    } else {
        format!("{description} {MARKER}")
    }
}

/// Whether a live description carries the marker.
pub fn is_marked(description: &str) -> bool {
    description.ends_with(MARKER)
}

/// The description a person wrote, without the marker.
pub fn strip(description: &str) -> &str {
    match description.strip_suffix(MARKER) {
        Some(rest) => rest.strip_suffix(' ').unwrap_or(rest),
        None => description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_and_strip_round_trip() {
        for d in ["", "Members may not leave", "ends with space "] {
            let m = mark(d);
            assert!(is_marked(&m));
            assert_eq!(strip(&m), d);
        }
        assert!(!is_marked("someone else's"));
        assert_eq!(strip("someone else's"), "someone else's");
    }
}
