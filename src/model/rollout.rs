//! Staged rollout: the canary OUs, how long a canary must stay quiet, and which guardrail
//! instances are still at the canary stage (`[rollout]`, `stage = "canary"`).

use std::collections::{BTreeMap, BTreeSet};

use super::{OuPath, TargetRef};

/// How far back CloudTrail's event history (`LookupEvents`) reaches, in days: the longest
/// `min_days` and `observe --days`.
pub const EVENT_HISTORY_DAYS: u32 = 90;

/// `[rollout] min_days` when the config does not say.
pub const DEFAULT_MIN_DAYS: u32 = 7;

/// The rollout settings of a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// `[rollout] canary`: the canary OUs (each declared under `[ous]`).
    pub canary: Vec<OuPath>,
    /// `[rollout] min_days`: the days `promote` looks back for denials on the canary.
    pub min_days: u32,
    /// Guardrail instances with `stage = "canary"`.
    pub canary_guardrails: BTreeSet<String>,
    /// For each canary instance, the targets the config lists it on that do not get it until
    /// `guardrail promote` (the root, OUs and accounts outside the canary OUs), in config order.
    pub held_back: BTreeMap<String, Vec<TargetRef>>,
}

impl Default for Rollout {
    fn default() -> Self {
        Rollout {
            canary: Vec::new(),
            min_days: DEFAULT_MIN_DAYS,
            canary_guardrails: BTreeSet::new(),
            held_back: BTreeMap::new(),
        }
    }
}

impl Rollout {
    /// Whether `ou` is a canary OU or lies below one.
    pub fn in_canary(&self, ou: &OuPath) -> bool {
        self.canary
            .iter()
            .any(|c| ou.segments().starts_with(c.segments()))
    }
}
