//! `import`'s half of the config: a live organization written as a config plus one pretty JSON
//! file per policy, such that parsing the result and planning against the same live state
//! yields no change. Output is deterministic (sorted, no timestamps), so re-importing an
//! unchanged organization rewrites identical bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use toml_edit::{value, Array, DocumentMut, Item, Table};

use crate::model::{LiveAccount, LiveOrg, LivePolicy, OuPath, PolicyType};
use crate::policy::{doc, limits::LimitsTable, marker};

/// What `import` writes: the config text and the documents, with paths relative to the
/// config file's directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted {
    pub config: String,
    pub documents: Vec<(PathBuf, String)>,
}

/// Why a live organization cannot be written as a config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    #[error("OU `{name}` ({id}) has a `/` in its name, which an OU path cannot express")]
    SlashInOuName { id: String, name: String },
    #[error("policy `{name}` ({id}) holds content that is not JSON: {message}")]
    BadContent {
        id: String,
        name: String,
        message: String,
    },
    #[error("OU {id} is not reachable from the root")]
    Orphan { id: String },
}

/// File-system-safe stem for a policy name: letters, digits, `-`, `_` and `.` are kept, every
/// other character (a `/`, `\\`, space, `:`) becomes `_`; a stem that would start with `.`
/// (hidden, or `..`) is prefixed with `policy`. So a stem is one plain file name on every
/// file system, never a path.
fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("policy{s}")
    } else {
        s
    }
}

/// A stem for `name` not in `used` (compared without case, for case-insensitive file
/// systems): the plain stem, else the stem with the policy id, else with a counter as well.
fn unique_stem(name: &str, id: &str, used: &mut BTreeSet<String>) -> String {
    let base = file_stem(name);
    let id = file_stem(id);
    let mut stem = base.clone();
    let mut n = 1;
    while !used.insert(stem.to_ascii_lowercase()) {
        stem = if n == 1 {
            format!("{base}-{id}")
        } else {
            format!("{base}-{id}-{n}")
        };
        n += 1;
    }
    stem
}

fn names_array<'a>(names: impl IntoIterator<Item = &'a String>) -> Array {
    let mut a = Array::new();
    for n in names {
        a.push(n.as_str());
    }
    a
}

/// Names of the SCPs AWS Control Tower creates.
const CONTROL_TOWER_PREFIX: &str = "aws-guardrails-";

/// Which live policies `import` writes into the config of one environment.
struct Selection<'a> {
    env: &'a str,
    live: &'a LiveOrg,
    limits: &'a LimitsTable,
}

impl Selection<'_> {
    /// Whether `p` is imported. Control Tower's SCPs and policies marked by another
    /// environment stay unmanaged: they are not imported, count against the limits, and
    /// Control Tower's are ignored by drift.
    fn imports(&self, p: &LivePolicy) -> bool {
        p.policy_type.is_managed()
            && !p.name.starts_with(CONTROL_TOWER_PREFIX)
            && !matches!(marker::owner(&p.description), marker::Owner::Marked { org, env: e } if org != self.live.org_id || e != self.env)
            && self.limits.undetachable(p.policy_type) != Some(p.name.as_str())
    }

    /// The imported policies attached to `target`, by name.
    fn attached(&self, target: &str) -> BTreeSet<String> {
        self.live
            .policies
            .values()
            .filter(|p| self.imports(p))
            .filter(|p| p.targets.iter().any(|t| t == target))
            .map(|p| p.name.clone())
            .collect()
    }
}

/// Writes the live organization as the config of environment `env`.
pub fn emit(env: &str, live: &LiveOrg, limits: &LimitsTable) -> Result<Emitted, EmitError> {
    if let Some(ou) = live.ous.values().find(|ou| ou.name.contains('/')) {
        return Err(EmitError::SlashInOuName {
            id: ou.id.clone(),
            name: ou.name.clone(),
        });
    }
    let sel = Selection { env, live, limits };
    let mut out = DocumentMut::new();
    // The `#:schema` directive first: taplo (Even Better TOML) then completes and checks keys.
    out.decor_mut().set_prefix(format!(
        "#:schema {}\n\
         # guardrail config for environment `{env}`, imported from organization {}.\n\
         # Every key is documented in docs/config.md.\n",
        super::schema::SCHEMA_URL,
        live.org_id
    ));
    out.insert("organization", Item::Table(organization(&sel)));
    let (policies, documents) = policies(&sel)?;
    out.insert("policies", Item::Table(policies));
    let mut root = Table::new();
    root.insert("policies", value(names_array(&sel.attached(&live.root.id))));
    out.insert("root", Item::Table(root));
    out.insert("ous", Item::Table(ous(&sel)?));
    out.insert("accounts", Item::Table(accounts(&sel)?));
    Ok(Emitted {
        config: out.to_string(),
        documents,
    })
}

/// `[organization]`: the management account; what import leaves unmanaged as the baseline
/// drift ignores (Control Tower's by pattern, other environments' by name; anything unmanaged
/// that appears later is drift); the ids of the policies it takes over.
fn organization(sel: &Selection<'_>) -> Table {
    let mut org = Table::new();
    org.insert(
        "management_account",
        value(sel.live.management_account.as_str()),
    );
    let mut ignore: BTreeSet<String> = BTreeSet::new();
    for p in sel.live.policies.values() {
        if p.aws_managed || !p.policy_type.is_managed() || sel.imports(p) {
            continue;
        }
        if p.name.starts_with(CONTROL_TOWER_PREFIX) {
            ignore.insert(format!("{CONTROL_TOWER_PREFIX}*"));
        } else {
            ignore.insert(p.name.clone());
        }
    }
    if !ignore.is_empty() {
        org.insert("ignore_unmanaged", value(names_array(&ignore)));
    }
    // The policies import takes over without any marker: the config's record that they are
    // this environment's, so dropping one from [policies] deletes it (plan::ownership). A
    // first-version marker (`Owner::Legacy`) names no owner: it may be another environment's,
    // so it is not listed, and stays adopted only through the plan's visible step.
    let owned: BTreeSet<&str> = sel
        .live
        .policies
        .values()
        .filter(|p| sel.imports(p))
        .filter(|p| !p.aws_managed && sel.limits.aws_managed_type(&p.name).is_none())
        .filter(|p| marker::owner(&p.description) == marker::Owner::None)
        .map(|p| p.id.as_str())
        .collect();
    if !owned.is_empty() {
        org.insert("owned_policy_ids", value(Array::from_iter(owned)));
    }
    org
}

/// `[policies.NAME]` for every imported customer policy, sorted by name, with its document
/// (pretty JSON) at a plain, unique file name under `env/`.
fn policies(sel: &Selection<'_>) -> Result<(Table, Vec<(PathBuf, String)>), EmitError> {
    let mut policies = Table::new();
    policies.set_implicit(true);
    let mut documents = Vec::new();
    let mut used_stems = BTreeSet::new();
    let mut live_pols: Vec<_> = sel
        .live
        .policies
        .values()
        .filter(|p| sel.imports(p))
        .collect();
    live_pols.sort_by(|a, b| a.name.cmp(&b.name));
    for p in live_pols {
        if p.aws_managed || sel.limits.aws_managed_type(&p.name).is_some() {
            continue;
        }
        let parsed = doc::parse(&p.content).map_err(|e| EmitError::BadContent {
            id: p.id.clone(),
            name: p.name.clone(),
            message: e.to_string(),
        })?;
        let stem = unique_stem(&p.name, &p.id, &mut used_stems);
        let rel = PathBuf::from(sel.env).join(format!("{stem}.json"));
        policies.insert(&p.name, Item::Table(policy_table(p, &rel)));
        documents.push((rel, doc::pretty(&parsed)));
    }
    Ok((policies, documents))
}

/// One policy's table: its type (SCP is the default), pinned id, description without the
/// marker, and document path.
fn policy_table(p: &LivePolicy, rel: &Path) -> Table {
    let mut t = Table::new();
    match p.policy_type {
        PolicyType::ServiceControlPolicy => {}
        PolicyType::ResourceControlPolicy => {
            t.insert("type", value("rcp"));
        }
        other => {
            t.insert("type", value(other.api_name()));
        }
    }
    // The pinned id makes the imported policy guardrail's without a marker-writing step,
    // and keeps a description that leaves no room for the marker as it is.
    t.insert("id", value(p.id.as_str()));
    let description = marker::strip(&p.description);
    if !description.is_empty() {
        t.insert("description", value(description));
    }
    t.insert("document", value(rel.to_string_lossy().replace('\\', "/")));
    t
}

/// `[ous."PATH"]` for every OU, sorted by path, with its imported policies.
fn ous(sel: &Selection<'_>) -> Result<Table, EmitError> {
    let mut ous = Table::new();
    ous.set_implicit(true);
    let mut by_path: Vec<(OuPath, &str)> = Vec::new();
    for ou in sel.live.ous.values() {
        let path = sel
            .live
            .path_of(&ou.id)
            .ok_or_else(|| EmitError::Orphan { id: ou.id.clone() })?;
        by_path.push((path, &ou.id));
    }
    by_path.sort();
    for (path, id) in &by_path {
        let mut t = Table::new();
        t.insert("policies", value(names_array(&sel.attached(id))));
        ous.insert(&path.to_string(), Item::Table(t));
    }
    Ok(ous)
}

/// `[accounts.KEY]` for every account, sorted by name then id: its id, email, OU (none in the
/// root) and imported policies.
fn accounts(sel: &Selection<'_>) -> Result<Table, EmitError> {
    let mut accounts = Table::new();
    accounts.set_implicit(true);
    let mut name_count: BTreeMap<&str, usize> = BTreeMap::new();
    for a in sel.live.accounts.values() {
        *name_count.entry(a.name.as_str()).or_default() += 1;
    }
    let mut accts: Vec<_> = sel.live.accounts.values().collect();
    accts.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    for a in accts {
        let shared = name_count.get(a.name.as_str()).copied().unwrap_or(0) > 1;
        let mut t = Table::new();
        t.insert("id", value(a.id.as_str()));
        if !a.email.is_empty() {
            t.insert("email", value(a.email.as_str()));
        }
        let path = sel
            .live
            .path_of(&a.parent_id)
            .ok_or_else(|| EmitError::Orphan {
                id: a.parent_id.clone(),
            })?;
        if !path.is_root() {
            t.insert("ou", value(path.to_string()));
        }
        t.insert("policies", value(names_array(&sel.attached(&a.id))));
        accounts.insert(&account_key(a, shared), Item::Table(t));
    }
    Ok(accounts)
}

/// An account's key: its name, or `NAME-ID` when another account has the same name
/// (`account-ID` when it has none).
fn account_key(a: &LiveAccount, shared: bool) -> String {
    if a.name.is_empty() {
        format!("account-{}", a.id)
    } else if shared {
        format!("{}-{}", a.name, a.id)
    } else {
        a.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_plain_names_and_unique_without_case() {
        let mut used = BTreeSet::new();
        assert_eq!(
            unique_stem("../../etc/x", "p-1", &mut used),
            "policy.._.._etc_x"
        );
        assert_eq!(unique_stem("team policy", "p-2", &mut used), "team_policy");
        assert_eq!(
            unique_stem("team/policy", "p-3", &mut used),
            "team_policy-p-3"
        );
        assert_eq!(
            unique_stem("Team_Policy", "p-4", &mut used),
            "Team_Policy-p-4"
        );
        assert_eq!(
            unique_stem("team_policy-p-3", "p-5", &mut used),
            "team_policy-p-3-p-5"
        );
        assert_eq!(unique_stem("..", "p-6", &mut used), "policy..");
        assert_eq!(unique_stem("", "p-7", &mut used), "policy");
        for s in &used {
            assert!(!s.contains('/') && !s.starts_with('.'), "{s}");
        }
    }

    #[test]
    fn an_account_key_is_its_name_unless_shared_or_empty() {
        let a = |name: &str| LiveAccount {
            id: "111122223333".into(),
            name: name.into(),
            email: String::new(),
            parent_id: "r-1".into(),
            state: Default::default(),
        };
        assert_eq!(account_key(&a("prod"), false), "prod");
        assert_eq!(account_key(&a("prod"), true), "prod-111122223333");
        assert_eq!(account_key(&a(""), false), "account-111122223333");
        assert_eq!(account_key(&a(""), true), "account-111122223333");
    }
}
