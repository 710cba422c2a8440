//! Account classes for the access proof: accounts whose position and policies are the same
//! before and after the change are one class, decided once on an example account. A fresh
//! account in every OU (FullAWSAccess alone at its own level) joins the class of the real
//! accounts that look like it, or forms its own. Only the classes whose policy path changes
//! meaning are kept: an untouched class cannot gain or lose access.
//!
//! OUs and accounts the plan creates have no position today. Their "before" is a fresh
//! account in the nearest OU on their path that exists today (the root at worst): where such
//! an account would sit if it were made now. Their "after" is the new OU's path (a fresh
//! account) or the created account's own path and policies.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Desired, DesiredAccount, LiveOrg, OuPath, PolicyType, TargetRef};
use crate::plan::verify::{desired_path, live_path};
use crate::plan::Change;
use crate::policy::eval::{Level, Path, Resources, Statement};
use crate::policy::reason::{Constants, Unknown};

/// The account id a fresh (hypothetical) account's requests carry.
pub const FRESH_ACCOUNT_ID: &str = "111111111111";

/// Who a class stands for: a real account, an account the plan creates, or a fresh account
/// in an OU (one the plan creates included).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    Account(String),
    /// An account the plan creates (`CreateAccount`): its email and OU.
    CreatedAccount {
        email: String,
        ou: OuPath,
    },
    FreshAccount(OuPath),
}

impl Subject {
    /// The account id in the class's requests.
    pub fn account_id(&self) -> &str {
        match self {
            Subject::Account(id) => id,
            Subject::CreatedAccount { .. } | Subject::FreshAccount(_) => FRESH_ACCOUNT_ID,
        }
    }
}

/// One account class whose paths differ in meaning.
#[derive(Debug, Clone)]
pub struct Class {
    /// The example the class is decided on (a real account when it has one).
    pub example: Subject,
    /// Real accounts in the class, the ones the plan creates included.
    pub accounts: usize,
    /// OUs whose fresh account falls in the class.
    pub fresh_ous: usize,
    pub old: Path,
    pub new: Path,
    pub constants: Constants,
    /// Set when the class cannot be decided at all: its requests carry a different org path
    /// before and after (a move, or a position the plan creates) and a statement reads it.
    /// The procedure compares one request on both sides, so it would miss such a change.
    pub outside: Option<Unknown>,
}

/// Where an account is and what is attached to it, on one side: the class key.
type Position = (String, Vec<String>);

#[derive(Default)]
struct Members {
    accounts: Vec<String>,
    /// Accounts the plan creates: email, OU, policies.
    created: Vec<(String, OuPath, BTreeSet<String>)>,
    fresh: Vec<OuPath>,
}

/// The classes the change touches, in a stable order (by their keys).
pub fn touched(changes: &[Change], projected: &Desired, live: &LiveOrg) -> Vec<Class> {
    let described = described_accounts(projected, live);
    let kept = kept_undescribed(changes, live, &described);
    // Documents of the unmanaged policies an undescribed account keeps.
    let extra: BTreeMap<TargetRef, Vec<String>> = kept
        .iter()
        .map(|(id, (_, names))| (TargetRef::Account(id.clone()), names.clone()))
        .collect();
    let desired: Cow<'_, Desired> = if extra.is_empty() {
        Cow::Borrowed(projected)
    } else {
        Cow::Owned(super::super::project::project(projected, live, &extra))
    };
    let mut groups: BTreeMap<(Position, Position), Members> = BTreeMap::new();
    for a in live.accounts.values() {
        if a.id == live.management_account {
            continue;
        }
        let new = match (described.get(&a.id), kept.get(&a.id)) {
            (Some(d), _) => (d.ou.clone(), d.policies.iter().cloned().collect()),
            (None, Some((ou, names))) => (ou.clone(), names.clone()),
            (None, None) => continue,
        };
        let old = (a.parent_id.clone(), live_names(live, &a.id));
        let key = (old, (new.0.to_string(), new.1));
        groups.entry(key).or_default().accounts.push(a.id.clone());
    }
    let ou_ids = live.ou_ids_by_path();
    add_new_positions(changes, projected, live, &ou_ids, &mut groups);
    groups
        .into_values()
        .filter_map(|m| class(m, &desired, live, &described, &kept, &ou_ids))
        .collect()
}

/// The accounts the plan creates, and a fresh account at the root and in every OU of the
/// config (the ones the plan creates included), each against a fresh account today in the
/// nearest OU on its path that exists.
fn add_new_positions(
    changes: &[Change],
    projected: &Desired,
    live: &LiveOrg,
    ou_ids: &BTreeMap<OuPath, String>,
    groups: &mut BTreeMap<(Position, Position), Members>,
) {
    let today = |ou: &OuPath| (existing_ancestor(live, ou_ids, ou), fresh_live_names(live));
    for c in changes {
        if let Change::CreateAccount { key, email, ou } = c {
            let names = projected
                .accounts
                .get(key)
                .map(|d| d.policies.clone())
                .unwrap_or_default();
            let key = (today(ou), (ou.to_string(), names.iter().cloned().collect()));
            let m = groups.entry(key).or_default();
            m.created.push((email.clone(), ou.clone(), names));
        }
    }
    for path in fresh_positions(projected) {
        let key = (today(&path), (path.to_string(), vec![fresh_scp(projected)]));
        groups.entry(key).or_default().fresh.push(path);
    }
}

/// The example's paths, or `None` when the class's meaning does not change.
fn class(
    m: Members,
    desired: &Desired,
    live: &LiveOrg,
    described: &BTreeMap<String, &DesiredAccount>,
    kept: &BTreeMap<String, (OuPath, Vec<String>)>,
    ou_ids: &BTreeMap<OuPath, String>,
) -> Option<Class> {
    let (example, old, new, ou, before) = match (m.accounts.first(), m.fresh.first()) {
        (None, _) if !m.created.is_empty() && m.fresh.is_empty() => {
            let (email, ou, names) = m.created.first()?;
            let before = existing_ancestor(live, ou_ids, ou);
            let old = live_path(live, &before, None);
            let new = desired_path(desired, ou, Some((email, names)));
            let example = Subject::CreatedAccount {
                email: email.clone(),
                ou: ou.clone(),
            };
            (example, old, new, ou.clone(), before)
        }
        (Some(id), _) => {
            let a = live.accounts.get(id)?;
            let (ou, names): (OuPath, BTreeSet<String>) = match described.get(id) {
                Some(d) => (d.ou.clone(), d.policies.clone()),
                None => {
                    let (ou, names) = kept.get(id)?;
                    (ou.clone(), names.iter().cloned().collect())
                }
            };
            let old = live_path(live, &a.parent_id, Some(id));
            let new = desired_path(desired, &ou, Some((id, &names)));
            (
                Subject::Account(id.clone()),
                old,
                new,
                ou,
                a.parent_id.clone(),
            )
        }
        (None, Some(ou)) => {
            let before = existing_ancestor(live, ou_ids, ou);
            let old = live_path(live, &before, None);
            let new = desired_path(desired, ou, None);
            (
                Subject::FreshAccount(ou.clone()),
                old,
                new,
                ou.clone(),
                before,
            )
        }
        (None, None) => return None,
    };
    let outside = org_path_change(live, ou_ids, (&before, &ou), (&old, &new));
    if outside.is_none() && same_meaning(&old, &new) {
        return None;
    }
    let constants = Constants {
        account_id: example.account_id().to_owned(),
        org_id: Some(live.org_id.clone()).filter(|o| !o.is_empty()),
        org_paths: org_path(live, ou_ids, &ou).into_iter().collect(),
        account_shared: !matches!(example, Subject::Account(_))
            || m.accounts.len() + m.created.len() + m.fresh.len() > 1,
    };
    Some(Class {
        example,
        accounts: m.accounts.len() + m.created.len(),
        fresh_ous: m.fresh.len(),
        old,
        new,
        constants,
        outside,
    })
}

/// Why a class cannot be decided when its position changes (`before`, the live parent id,
/// against `ou`, the new OU) and a statement on either side reads the org path, which then
/// differs between the sides: `Class::outside`.
fn org_path_change(
    live: &LiveOrg,
    ou_ids: &BTreeMap<OuPath, String>,
    (before, ou): (&str, &OuPath),
    (old, new): (&Path, &Path),
) -> Option<Unknown> {
    let moved =
        ou_ids.get(ou).is_none_or(|id| id != before) && !(ou.is_root() && before == live.root.id);
    if !moved {
        return None;
    }
    let statement = reads_org_paths(old).or_else(|| reads_org_paths(new))?;
    Some(Unknown::Unsupported {
        construct: "an org path (aws:PrincipalOrgPaths or aws:ResourceOrgPaths) read across a change of OU: the request's path differs before and after".to_owned(),
        statement,
    })
}

/// The first statement (`policy/Sid`) on `path` that reads an org path, as a condition key
/// or a policy variable.
fn reads_org_paths(path: &Path) -> Option<String> {
    let named = |t: &str| {
        let t = t.to_ascii_lowercase();
        t.contains("aws:principalorgpaths") || t.contains("aws:resourceorgpaths")
    };
    path.scp
        .iter()
        .chain(&path.rcp)
        .flat_map(|l| &l.policies)
        .find_map(|p| {
            p.policy
                .statements
                .iter()
                .find(|s| {
                    let resources = match &s.resources {
                        Resources::Resource(r) | Resources::NotResource(r) => r.as_slice(),
                        Resources::Any => &[],
                    };
                    resources.iter().any(|r| named(r))
                        || s.conditions
                            .iter()
                            .any(|c| named(&c.key) || c.values.iter().any(|v| named(v)))
                })
                .map(|s| format!("{}/{}", p.name, s.name))
        })
}

/// Live accounts the config describes, by id (matched by id, else by email as the planner
/// does).
fn described_accounts<'a>(
    projected: &'a Desired,
    live: &LiveOrg,
) -> BTreeMap<String, &'a DesiredAccount> {
    let mut out = BTreeMap::new();
    for d in projected.accounts.values() {
        let id = match (&d.id, &d.email) {
            (Some(id), _) => live.accounts.get(id).map(|a| a.id.clone()),
            (None, Some(email)) => live
                .accounts
                .values()
                .find(|a| a.email.eq_ignore_ascii_case(email))
                .map(|a| a.id.clone()),
            (None, None) => None,
        };
        if let Some(id) = id {
            out.insert(id, d);
        }
    }
    out
}

/// For each live account the config does not describe: the OU it stays in and the policies
/// it keeps (everything but what the plan detaches from it: guardrail's orphans).
fn kept_undescribed(
    changes: &[Change],
    live: &LiveOrg,
    described: &BTreeMap<String, &DesiredAccount>,
) -> BTreeMap<String, (OuPath, Vec<String>)> {
    let mut detached: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in changes {
        if let Change::Detach {
            policy,
            target: TargetRef::Account(id),
            ..
        } = c
        {
            detached.entry(id).or_default().insert(policy);
        }
    }
    let mut out = BTreeMap::new();
    for a in live.accounts.values() {
        if described.contains_key(&a.id) || a.id == live.management_account {
            continue;
        }
        let Some(ou) = live.path_of(&a.parent_id) else {
            continue;
        };
        let gone = detached.get(a.id.as_str());
        let names = live_names(live, &a.id)
            .into_iter()
            .filter(|n| !gone.is_some_and(|g| g.contains(n.as_str())))
            .collect();
        out.insert(a.id.clone(), (ou, names));
    }
    out
}

/// The names of the live policies attached directly to a target, sorted.
fn live_names(live: &LiveOrg, id: &str) -> Vec<String> {
    let mut v: Vec<String> = live
        .policies_on(id)
        .filter(|p| PolicyType::MANAGED.contains(&p.policy_type))
        .map(|p| p.name.clone())
        .collect();
    v.sort();
    v
}

/// What AWS attaches to a new account today: FullAWSAccess, and RCPFullAWSAccess when RCPs
/// are enabled.
fn fresh_live_names(live: &LiveOrg) -> Vec<String> {
    let mut v = vec!["FullAWSAccess".to_owned()];
    if live
        .root
        .enabled_policy_types
        .contains(&PolicyType::ResourceControlPolicy)
    {
        v.push("RCPFullAWSAccess".to_owned());
    }
    v
}

/// The SCP a fresh account carries in the desired state (`desired_path`'s default).
fn fresh_scp(d: &Desired) -> String {
    d.limits
        .for_type(PolicyType::ServiceControlPolicy)
        .aws_managed_policy
        .unwrap_or("FullAWSAccess")
        .to_owned()
}

/// The root and every OU of the config, the ones the plan creates included.
fn fresh_positions(projected: &Desired) -> Vec<OuPath> {
    std::iter::once(OuPath::root())
        .chain(projected.ous.keys().filter(|p| !p.is_root()).cloned())
        .collect()
}

/// The live id of `ou`, or of its nearest ancestor that exists today (the root at worst): a
/// new account's position if it were made today.
fn existing_ancestor(live: &LiveOrg, ou_ids: &BTreeMap<OuPath, String>, ou: &OuPath) -> String {
    let mut cur = Some(ou.clone());
    while let Some(p) = cur {
        if let Some(id) = ou_ids.get(&p) {
            return id.clone();
        }
        cur = p.parent();
    }
    live.root.id.clone()
}

/// `aws:PrincipalOrgPaths` for an account in `ou` (`o-.../r-.../ou-.../`), when every OU on
/// the way already exists.
fn org_path(live: &LiveOrg, ou_ids: &BTreeMap<OuPath, String>, ou: &OuPath) -> Option<String> {
    if live.org_id.is_empty() || live.root.id.is_empty() {
        return None;
    }
    let mut s = format!("{}/{}/", live.org_id, live.root.id);
    let mut cur = OuPath::root();
    for seg in ou.segments() {
        cur = cur.child(seg);
        s.push_str(ou_ids.get(&cur)?);
        s.push('/');
    }
    Some(s)
}

/// Whether two paths decide every request alike because they hold the same statements at
/// the same levels (names of levels, policies and statements aside).
pub fn same_meaning(a: &Path, b: &Path) -> bool {
    a.management == b.management && same_layer(&a.scp, &b.scp) && same_layer(&a.rcp, &b.rcp)
}

fn same_layer(a: &[Level], b: &[Level]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| statements(x) == statements(y))
}

type Shape<'a> = (
    &'a crate::policy::eval::Effect,
    &'a crate::policy::eval::Actions,
    &'a crate::policy::eval::Resources,
    &'a [crate::policy::eval::Condition],
);

fn shape(s: &Statement) -> Shape<'_> {
    (&s.effect, &s.actions, &s.resources, &s.conditions)
}

fn statements(level: &Level) -> Vec<Shape<'_>> {
    level
        .policies
        .iter()
        .flat_map(|p| p.policy.statements.iter().map(shape))
        .collect()
}
