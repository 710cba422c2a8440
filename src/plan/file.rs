//! Saved plans (`plan --out FILE`, `apply FILE`): the changes plus what they were computed
//! from.
//!
//! `apply FILE` never trusts the file's changes: it plans again from the config and the live
//! organization and refuses unless the fresh changes equal the saved ones, step for step
//! ([`SavedPlan::compare`]). So an edited plan is refused even when its digest was recomputed
//! (the digest is a plain SHA-256 anyone can recompute: it catches corruption, not forgery),
//! and staleness is exact: a comment added to the config, an unrelated policy or another
//! spelling of the environments directory does not make a plan stale; only a different set of
//! changes does. The config digests and the live fingerprint are kept to say *what moved*.
//!
//! Format: one JSON object, `format_version` "2". The digest is the SHA-256 of the JSON
//! serialization of the file with `digest` set to the empty string.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Change, Plan};
use crate::model::{sha256_hex, IamLive, LiveOrg};

pub const FORMAT_VERSION: &str = "2";
const KIND: &str = "guardrail-plan";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format_version: String,
    pub kind: String,
    pub environment: String,
    pub guardrail_version: String,
    /// SHA-256 of each config input (the config file and every document), by path.
    pub config_digests: BTreeMap<String, String>,
    /// The live state the plan was computed from, as a map (see [`fingerprint`]).
    pub live_fingerprint: BTreeMap<String, String>,
    pub org_id: String,
    pub management_account: String,
    pub changes: Vec<Change>,
    pub account_names: BTreeMap<String, String>,
    pub digest: String,
}

/// Why a saved plan cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanFileError {
    #[error("not a guardrail plan file: {0}")]
    Unreadable(String),
    #[error(
        "plan file format {found} is not supported (this guardrail reads format {FORMAT_VERSION})"
    )]
    Version { found: String },
    #[error("the plan file was modified after it was written (its digest does not match); make a new plan")]
    Tampered,
    #[error("the plan was made for organization {planned}, but these credentials reach {given}")]
    WrongOrganization { planned: String, given: String },
    #[error("the plan was made for environment `{planned}`, not `{given}`")]
    WrongEnvironment { planned: String, given: String },
    #[error("the plan is stale; make a new plan. What moved since it was made:\n{}", .0.iter().map(|l| format!("  - {l}")).collect::<Vec<_>>().join("\n"))]
    Stale(Vec<String>),
}

/// The live state as `key → value`: OUs by path, each account's parent, each policy's content
/// and description, each attachment. Two snapshots with equal fingerprints plan the same.
pub fn fingerprint(live: &LiveOrg) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(
        "organization".to_owned(),
        format!("{} {}", live.org_id, live.root.id),
    );
    let mut types: Vec<&str> = live
        .root
        .enabled_policy_types
        .iter()
        .map(|t| t.api_name())
        .collect();
    types.sort_unstable();
    m.insert("enabled policy types".to_owned(), types.join(" "));
    for (path, id) in live.ou_ids_by_path() {
        m.insert(format!("OU {path}"), id);
    }
    for a in live.accounts.values() {
        let path = live
            .path_of(&a.parent_id)
            .map(|p| p.to_string())
            .unwrap_or_default();
        m.insert(
            format!("account {} ({})", a.name, a.id),
            format!("in {path}, {}", a.state.api_name()),
        );
    }
    for p in live.policies.values() {
        let digest = sha256_hex(format!("{}\n{}", p.content, p.description).as_bytes());
        m.insert(
            format!("{} {} ({})", p.policy_type, p.name, p.id),
            digest[..16].to_owned(),
        );
        for t in &p.targets {
            let target = live
                .target_of(t)
                .map(|t| t.to_string())
                .unwrap_or_else(|| t.clone());
            m.insert(
                format!("attachment of {} to {target}", p.name),
                "attached".into(),
            );
        }
    }
    m
}

/// The IAM side of the fingerprint: each boundary policy's default version and document, and
/// each audited role's boundary.
pub fn fingerprint_iam(iam: &IamLive) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for ((b, account), st) in &iam.accounts {
        if let Some(p) = &st.policy {
            let v = match p {
                Some(p) => format!(
                    "{} {}",
                    p.default_version,
                    &sha256_hex(p.document.as_bytes())[..16]
                ),
                None => "absent".into(),
            };
            m.insert(format!("boundary {b} in account {account}"), v);
        }
        for r in st.roles.iter().flatten() {
            let kind = if r.is_user { "user" } else { "role" };
            m.insert(
                format!("{kind} {} in account {account}", r.name),
                r.boundary.clone().unwrap_or_else(|| "no boundary".into()),
            );
        }
    }
    m
}

/// What differs between two fingerprints, in words; at most `max` lines.
pub fn describe_moves(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    max: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in before {
        match after.get(k) {
            None => out.push(format!("{k}: gone")),
            Some(w) if w != v => {
                if k.starts_with("account ") {
                    out.push(format!("{k}: was {v}, now {w}"));
                } else {
                    out.push(format!("{k}: changed"));
                }
            }
            _ => {}
        }
    }
    for (k, v) in after {
        if !before.contains_key(k) {
            out.push(format!("{k}: new ({v})"));
        }
    }
    let n = out.len();
    if n > max {
        out.truncate(max);
        out.push(format!("... and {} more", n - max));
    }
    out
}

impl SavedPlan {
    pub fn new(
        env: &str,
        plan: &Plan,
        config_digests: BTreeMap<String, String>,
        live: &LiveOrg,
        iam: &IamLive,
    ) -> SavedPlan {
        let mut live_fingerprint = fingerprint(live);
        live_fingerprint.extend(fingerprint_iam(iam));
        let mut s = SavedPlan {
            format_version: FORMAT_VERSION.into(),
            kind: KIND.into(),
            environment: env.into(),
            guardrail_version: env!("CARGO_PKG_VERSION").into(),
            config_digests,
            live_fingerprint,
            org_id: plan.org_id.clone(),
            management_account: plan.management_account.clone(),
            changes: plan.changes.clone(),
            account_names: plan.account_names.clone(),
            digest: String::new(),
        };
        s.digest = s.compute_digest();
        s
    }

    /// The same plan with its digest computed again: what anyone who edits a plan file can do.
    /// The digest catches corruption only; `apply FILE` never trusts the changes (see the
    /// module docs).
    pub fn resealed(mut self) -> SavedPlan {
        self.digest = self.compute_digest();
        self
    }

    fn compute_digest(&self) -> String {
        let mut copy = self.clone();
        copy.digest = String::new();
        // Serializing plain data (strings, maps, enums of strings) cannot fail.
        sha256_hex(serde_json::to_string(&copy).unwrap_or_default().as_bytes())
    }

    /// The file's text.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Reads and verifies a plan file's text.
    pub fn from_json(text: &str) -> Result<SavedPlan, PlanFileError> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| PlanFileError::Unreadable(e.to_string()))?;
        if v.get("kind").and_then(|k| k.as_str()) != Some(KIND) {
            return Err(PlanFileError::Unreadable(
                "no `\"kind\": \"guardrail-plan\"`".into(),
            ));
        }
        let found = v
            .get("format_version")
            .and_then(|k| k.as_str())
            .unwrap_or("?")
            .to_owned();
        if found != FORMAT_VERSION {
            return Err(PlanFileError::Version { found });
        }
        let s: SavedPlan =
            serde_json::from_value(v).map_err(|e| PlanFileError::Unreadable(e.to_string()))?;
        if s.compute_digest() != s.digest {
            return Err(PlanFileError::Tampered);
        }
        Ok(s)
    }

    /// Refuses the saved plan unless `fresh` (planned again now, from the config and the live
    /// organization) makes exactly the saved changes. On refusal, says which steps differ and
    /// what moved in the config and the organization since the plan was made.
    pub fn compare(
        &self,
        env: &str,
        fresh: &Plan,
        config_digests: &BTreeMap<String, String>,
        live: &LiveOrg,
        iam: &IamLive,
    ) -> Result<(), PlanFileError> {
        if self.environment != env {
            return Err(PlanFileError::WrongEnvironment {
                planned: self.environment.clone(),
                given: env.into(),
            });
        }
        if self.org_id != fresh.org_id {
            return Err(PlanFileError::WrongOrganization {
                planned: self.org_id.clone(),
                given: fresh.org_id.clone(),
            });
        }
        if self.changes == fresh.changes {
            return Ok(());
        }
        let mut moved = Vec::new();
        let line = |c: &Change| format!("{} {:?}", c.action(), c.group());
        for c in &self.changes {
            if !fresh.changes.contains(c) {
                moved.push(format!("saved step no longer planned: {}", line(c)));
            }
        }
        for c in &fresh.changes {
            if !self.changes.contains(c) {
                moved.push(format!("step planned now but not saved: {}", line(c)));
            }
        }
        if moved.is_empty() {
            moved.push("the same steps, in another order".into());
        }
        moved.truncate(20);
        for (path, d) in &self.config_digests {
            match config_digests.get(path) {
                None => moved.push(format!("config input {path}: no longer read")),
                Some(now) if now != d => moved.push(format!("config input {path}: edited")),
                _ => {}
            }
        }
        let mut now = fingerprint(live);
        now.extend(fingerprint_iam(iam));
        moved.extend(describe_moves(&self.live_fingerprint, &now, 20));
        Err(PlanFileError::Stale(moved))
    }

    /// The plan to execute, exactly as saved.
    pub fn plan(&self) -> Plan {
        Plan {
            org_id: self.org_id.clone(),
            management_account: self.management_account.clone(),
            changes: self.changes.clone(),
            warnings: Vec::new(),
            account_names: self.account_names.clone(),
            effects: Vec::new(),
            headroom: Vec::new(),
            audit: Vec::new(),
            unmanaged: Vec::new(),
            account_paths: Default::default(),
            policy_ids: Default::default(),
            ou_ids: Default::default(),
            access_proof: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BoundaryState, PolicyType, RoleInfo};

    #[test]
    fn the_fingerprint_covers_enabled_policy_types() {
        let mut live = LiveOrg::default();
        live.root.enabled_policy_types = vec![PolicyType::ServiceControlPolicy];
        let before = fingerprint(&live);
        live.root
            .enabled_policy_types
            .push(PolicyType::ResourceControlPolicy);
        let moved = describe_moves(&before, &fingerprint(&live), 10);
        assert!(
            moved.iter().any(|m| m.starts_with("enabled policy types")),
            "{moved:?}"
        );
    }

    #[test]
    fn the_fingerprint_tells_a_user_from_a_role_of_the_same_name() {
        let person = |is_user: bool| RoleInfo {
            name: "deploy".into(),
            path: "/".into(),
            arn: String::new(),
            boundary: None,
            is_user,
        };
        let mut iam = IamLive::default();
        iam.accounts.insert(
            ("b".into(), "111122223333".into()),
            BoundaryState {
                policy: None,
                roles: Some(vec![person(false), person(true)]),
            },
        );
        let f = fingerprint_iam(&iam);
        assert!(f.contains_key("role deploy in account 111122223333"));
        assert!(f.contains_key("user deploy in account 111122223333"));
    }
}
