//! Staged rollout in the config: `[rollout]` (the canary OUs and `min_days`) and `stage` on a
//! guardrail instance.
//!
//! An instance with `stage = "canary"` is attached only where it reaches the canary OUs:
//! - a target that is a canary OU, or lies below one (an OU or an account), keeps it;
//! - a target above canary OUs (the root, or an OU that holds one) gives it to each canary OU
//!   below it instead, so the canary accounts get exactly what they will get after promotion;
//! - every other target does not get it yet.
//!
//! `stage = "all"` (the default, what `guardrail promote` writes) attaches it everywhere it
//! is listed. The step runs before the guardrails are compiled, so the plan, the lockout proof,
//! the assertions and `explain` all see what the canary stage really attaches.

use std::collections::{BTreeMap, BTreeSet};

use toml_edit::TableLike;

use super::error::ErrorKind;
use super::parse::{item_span, join, key_span, Walker};
use crate::model::{Desired, OuPath, Rollout, TargetRef, DEFAULT_MIN_DAYS, EVENT_HISTORY_DAYS};

const ROLLOUT_KEYS: &[&str] = &["canary", "min_days"];

/// The stages a guardrail instance may be at.
pub const STAGES: &[&str] = &["canary", "all"];

impl Walker<'_> {
    /// `[rollout]` and every instance's `stage`, then holds canary guardrails back.
    pub(super) fn rollout(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let mut r = Rollout::default();
        if let Some(t) = self.table(top, "rollout", "") {
            self.check_keys(t, ROLLOUT_KEYS, "rollout");
            for (path, span) in self.string_list(t, "canary", "rollout") {
                match OuPath::parse(&path).filter(|p| !p.is_root() && d.ous.contains_key(p)) {
                    Some(p) => r.canary.push(p),
                    None => self.err(
                        ErrorKind::Dangling,
                        span,
                        "rollout.canary",
                        format!("the canary OU `{path}` is not declared under [ous]"),
                    ),
                }
            }
            r.min_days = self.min_days(t);
        }
        r.canary_guardrails = self.canary_stages(top, !r.canary.is_empty());
        r.held_back = stage(d, &r);
        d.rollout = r;
    }

    fn min_days(&mut self, t: &dyn TableLike) -> u32 {
        let Some(item) = t.get("min_days") else {
            return DEFAULT_MIN_DAYS;
        };
        match item
            .as_integer()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=EVENT_HISTORY_DAYS).contains(n))
        {
            Some(n) => n,
            None => {
                self.err(
                    ErrorKind::InvalidValue,
                    item_span(item),
                    "rollout.min_days",
                    format!(
                        "`min_days` is a whole number of days from 1 to {} (CloudTrail's event history); 0 would let `promote` pass on an empty window",
                        EVENT_HISTORY_DAYS
                    ),
                );
                DEFAULT_MIN_DAYS
            }
        }
    }

    /// The instances with `stage = "canary"`; reports bad stages, and canary stages without
    /// canary OUs.
    fn canary_stages(&mut self, top: &dyn TableLike, have_canary: bool) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let Some(gs) = top.get("guardrails").and_then(|g| g.as_table_like()) else {
            return out;
        };
        for (name, item) in gs.iter() {
            let Some(t) = item.as_table_like() else {
                continue;
            };
            let path = join(&join("guardrails", name), "stage");
            let Some((s, span)) = self.string(t, "stage", &join("guardrails", name)) else {
                continue;
            };
            match s.as_str() {
                "all" => {}
                "canary" if have_canary => {
                    out.insert(name.to_owned());
                }
                "canary" => self.err_help(
                    ErrorKind::MissingKey,
                    span.or_else(|| key_span(t, "stage")),
                    &path,
                    "`stage = \"canary\"` needs canary OUs",
                    "name them in [rollout] canary = [\"OU/PATH\"]",
                ),
                other => self.err(
                    ErrorKind::InvalidValue,
                    span,
                    &path,
                    format!("`stage` is one of {}, not `{other}`", STAGES.join(", ")),
                ),
            }
        }
        out
    }
}

/// Holds canary guardrails back from the targets outside the canary OUs (see the module doc);
/// returns, per guardrail, the targets it was taken off (none: not listed).
pub fn stage(d: &mut Desired, r: &Rollout) -> BTreeMap<String, Vec<TargetRef>> {
    let mut held: BTreeMap<String, Vec<TargetRef>> = BTreeMap::new();
    for g in &r.canary_guardrails {
        let mut off: Vec<TargetRef> = Vec::new();
        let mut gained: BTreeSet<OuPath> = BTreeSet::new();
        if d.root.guardrails.remove(g) {
            off.push(TargetRef::Root);
            gained.extend(r.canary.iter().cloned());
        }
        let paths: Vec<OuPath> = d.ous.keys().cloned().collect();
        for p in paths {
            if r.in_canary(&p) {
                continue;
            }
            let Some(ou) = d.ous.get_mut(&p) else {
                continue;
            };
            if ou.guardrails.remove(g) {
                off.push(TargetRef::Ou(p.clone()));
                gained.extend(
                    r.canary
                        .iter()
                        .filter(|c| c.segments().starts_with(p.segments()))
                        .cloned(),
                );
            }
        }
        for a in d.accounts.values_mut() {
            if !r.in_canary(&a.ou) && a.guardrails.remove(g) {
                let id = a.id.clone().map(TargetRef::Account);
                off.extend(id.or_else(|| a.email.clone().map(TargetRef::NewAccount)));
            }
        }
        for c in gained {
            if let Some(ou) = d.ous.get_mut(&c) {
                ou.guardrails.insert(g.clone());
            }
        }
        if !off.is_empty() {
            held.insert(g.clone(), off);
        }
    }
    held
}
