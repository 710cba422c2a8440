//! How the config's accounts map onto the live ones: matched by id, else by email (two
//! entries matching one account are refused); an email with no live match is a
//! `CreateAccount`; an ACTIVE account in the wrong OU is moved. Accounts that are not ACTIVE
//! are shown (a warning) and never moved or placed.

use std::collections::BTreeMap;

use crate::model::{Desired, DesiredAccount, LiveOrg};
use crate::plan::{Change, Refusal, Warning};

/// How the config's accounts map onto the live ones.
pub(super) struct Accounts<'a> {
    /// Live id -> config entry, ACTIVE accounts only.
    pub placed: BTreeMap<&'a str, &'a DesiredAccount>,
    /// Config entries with no live account, to create (with their email).
    pub creates: Vec<(&'a DesiredAccount, &'a str)>,
    pub moves: Vec<Change>,
}

/// Resolves each config account to a live one (by id, else by email); ACTIVE accounts in the
/// wrong OU are moved, accounts with no live match and an email are created.
pub(super) fn resolve_accounts<'a>(
    desired: &'a Desired,
    live: &'a LiveOrg,
    warnings: &mut Vec<Warning>,
    refusals: &mut Vec<Refusal>,
) -> Accounts<'a> {
    let mut out = Accounts {
        placed: BTreeMap::new(),
        creates: Vec::new(),
        moves: Vec::new(),
    };
    let matched = match_entries(desired, live, &mut out, warnings);
    for (id, entries) in matched {
        place(live, id, &entries, &mut out, warnings, refusals);
    }
    warn_unplaced(desired, live, &out, warnings);
    out
}

/// Each config entry's live account (by id, else by email), grouped by live id; entries
/// with an email and no match go to `out.creates`, entries with an unknown id are warned of.
fn match_entries<'a>(
    desired: &'a Desired,
    live: &'a LiveOrg,
    out: &mut Accounts<'a>,
    warnings: &mut Vec<Warning>,
) -> BTreeMap<&'a str, Vec<&'a DesiredAccount>> {
    let by_email: BTreeMap<String, &str> = live
        .accounts
        .values()
        .map(|a| (a.email.to_ascii_lowercase(), a.id.as_str()))
        .collect();
    let mut matched: BTreeMap<&str, Vec<&DesiredAccount>> = BTreeMap::new();
    for a in desired.accounts.values() {
        let resolved: Option<&str> = match (&a.id, &a.email) {
            (Some(id), _) => live.accounts.get_key_value(id).map(|(k, _)| k.as_str()),
            (None, Some(email)) => by_email.get(&email.to_ascii_lowercase()).copied(),
            (None, None) => None,
        };
        match (resolved, &a.id, &a.email) {
            (Some(id), _, _) => matched.entry(id).or_default().push(a),
            (None, Some(id), _) => warnings.push(Warning::AccountNotInOrganization {
                key: a.key.clone(),
                id: id.clone(),
            }),
            (None, None, Some(email)) => out.creates.push((a, email.as_str())),
            (None, None, None) => {}
        }
    }
    matched
}

/// Places one matched live account: refused when two entries match it, shown and left
/// alone when it is not ACTIVE, otherwise placed and moved when its OU differs.
fn place<'a>(
    live: &'a LiveOrg,
    id: &'a str,
    entries: &[&'a DesiredAccount],
    out: &mut Accounts<'a>,
    warnings: &mut Vec<Warning>,
    refusals: &mut Vec<Refusal>,
) {
    if entries.len() > 1 {
        refusals.push(Refusal::AccountMatchedTwice {
            id: id.to_owned(),
            keys: entries
                .iter()
                .map(|e| format!("[accounts.{}]", e.key))
                .collect(),
        });
        return;
    }
    let (Some(have), Some(a)) = (live.accounts.get(id), entries.first()) else {
        return;
    };
    let from = live.path_of(&have.parent_id).unwrap_or_default();
    if !have.state.is_active() {
        warnings.push(Warning::AccountNotActive {
            id: id.to_owned(),
            name: have.name.clone(),
            state: have.state.api_name().to_owned(),
            path: from,
        });
        return;
    }
    out.placed.insert(id, a);
    if from != a.ou {
        out.moves.push(Change::MoveAccount {
            id: id.to_owned(),
            key: a.key.clone(),
            from,
            to: a.ou.clone(),
        });
    }
}

/// Warns of every live account the config does not place: ACTIVE ones are left where they
/// are, the others are shown with their state (once, even when the config names them).
fn warn_unplaced(
    desired: &Desired,
    live: &LiveOrg,
    out: &Accounts<'_>,
    warnings: &mut Vec<Warning>,
) {
    for a in live.accounts.values() {
        if out.placed.contains_key(a.id.as_str())
            || !a.state.is_active()
                && desired
                    .accounts
                    .values()
                    .any(|d| d.id.as_deref() == Some(a.id.as_str()))
        {
            continue;
        }
        let path = live.path_of(&a.parent_id).unwrap_or_default();
        if a.state.is_active() {
            warnings.push(Warning::AccountNotInConfig {
                id: a.id.clone(),
                name: a.name.clone(),
                path,
            });
        } else {
            warnings.push(Warning::AccountNotActive {
                id: a.id.clone(),
                name: a.name.clone(),
                state: a.state.api_name().to_owned(),
                path,
            });
        }
    }
}
