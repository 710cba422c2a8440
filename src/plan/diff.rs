//! The diff itself. See the module docs of `plan` and `plan::ownership` for ownership rules;
//! the step order is the one ARCHITECTURE.md justifies: create OUs parent-first, create and
//! update policies, create accounts, deploy boundaries, attach (with a detach first where a
//! target at its limit needs the slot, `plan::order`), move accounts, detach, delete OUs
//! child-first, delete policies.

use std::collections::{BTreeMap, BTreeSet};

use super::ownership::{self, Ownership};
use super::targets::{self, Target};
use super::{Change, Plan, Refusal, Refused, Warning};
use crate::model::{Desired, IamLive, LiveOrg, LivePolicy, OuPath, PolicyType, TargetRef};
use crate::policy::{doc, marker};
use accounts::{resolve_accounts, Accounts};

mod accounts;

/// Names of the SCPs AWS Control Tower creates.
const CONTROL_TOWER_PREFIX: &str = "aws-guardrails-";

/// Diffs `desired` against `live`, leaving permissions boundaries alone (IAM not read).
pub fn plan(desired: &Desired, live: &LiveOrg) -> Result<Plan, Refused> {
    plan_with_iam(desired, live, &IamLive::default())
}

/// Diffs `desired` against `live` and the IAM state of the covered member accounts.
pub fn plan_with_iam(desired: &Desired, live: &LiveOrg, iam: &IamLive) -> Result<Plan, Refused> {
    let mut refusals = Vec::new();
    let mut warnings = Vec::new();
    if !desired.management_account.is_empty()
        && desired.management_account != live.management_account
    {
        refusals.push(Refusal::ManagementAccountMismatch {
            config: desired.management_account.clone(),
            live: live.management_account.clone(),
        });
    }
    let enabling = types_to_enable(desired, live, &mut refusals);
    let (owners, owner_refusals) = ownership::classify(desired, live);
    refusals.extend(owner_refusals);
    let disabling = super::disable::types_to_disable(desired, live, &owners, &mut refusals);
    let policy_changes = policy_changes(desired, live, &owners);
    refusals.extend(super::org_count::refusals(
        desired,
        live,
        &policy_changes.creates_updates,
    ));
    policy_warnings(live, &owners, &mut warnings);
    let accounts = resolve_accounts(desired, live, &mut warnings, &mut refusals);
    let ous_to_delete = ous_to_delete(desired, live, &accounts, &mut warnings, &mut refusals);
    let tlist = target_list(desired, live, &accounts);
    let att = targets::plan_attachments(desired, live, &owners, &tlist, &enabling);
    refusals.extend(att.refusals);
    // Offline proofs on what will really be attached: assertions and the lockout proof.
    let projected = super::project::project(desired, live, &att.fixed);
    verify_refusals(&projected, &live.org_id, &mut refusals, &mut warnings);
    if !refusals.is_empty() {
        return Err(Refused(refusals));
    }
    control_tower_warnings(live, &accounts.moves, &mut warnings);
    let mut changes: Vec<Change> = enabling
        .iter()
        .map(|t| Change::EnablePolicyType { policy_type: *t })
        .collect();
    let live_ous = live.ou_ids_by_path();
    changes.extend(
        desired
            .ous
            .keys()
            .filter(|p| !live_ous.contains_key(*p))
            .map(|p| Change::CreateOu { path: p.clone() }),
    );
    changes.extend(policy_changes.creates_updates);
    let (boundary_changes, audit) = super::boundaries::diff(desired, live, iam);
    let phases = Phases {
        boundaries: boundary_changes,
        attach: att.attach_phase,
        detach: att.detach_phase,
        ous_to_delete,
        policy_deletes: policy_changes.deletes,
        disabling,
    };
    phases.append_to(&mut changes, &accounts);
    let mut plan = assemble(changes, warnings, att.unmanaged, live, &accounts);
    plan.audit = audit;
    plan.effects = super::effects::effects(&plan.changes, &projected, live);
    plan.headroom = super::headroom::headroom(&plan.changes, &projected, live);
    Ok(plan)
}

/// The plan's steps from account creation on, in the order ARCHITECTURE.md justifies.
struct Phases<'a> {
    boundaries: Vec<Change>,
    attach: Vec<Change>,
    detach: Vec<Change>,
    ous_to_delete: Vec<(OuPath, &'a String)>,
    policy_deletes: Vec<Change>,
    disabling: Vec<PolicyType>,
}

impl Phases<'_> {
    /// Creates accounts, deploys boundaries, attaches, moves, detaches, deletes OUs
    /// child-first, deletes policies and, last, disables types (after every detach and
    /// deletion of the type's managed policies).
    fn append_to(self, changes: &mut Vec<Change>, accounts: &Accounts<'_>) {
        changes.extend(
            accounts
                .creates
                .iter()
                .map(|(a, email)| Change::CreateAccount {
                    key: a.key.clone(),
                    email: (*email).to_owned(),
                    ou: a.ou.clone(),
                }),
        );
        changes.extend(self.boundaries);
        changes.extend(self.attach);
        changes.extend(accounts.moves.iter().cloned());
        changes.extend(self.detach);
        changes.extend(
            self.ous_to_delete
                .iter()
                .rev()
                .map(|(p, id)| Change::DeleteOu {
                    path: p.clone(),
                    id: (*id).clone(),
                }),
        );
        changes.extend(self.policy_deletes);
        changes.extend(
            self.disabling
                .into_iter()
                .map(|policy_type| Change::DisablePolicyType { policy_type }),
        );
    }
}

/// The plan around its ordered changes: ids and display names for rendering, each account's
/// paths during the apply (for apply's dependencies). Audit, effects and headroom are left
/// empty for the caller.
fn assemble(
    changes: Vec<Change>,
    warnings: Vec<Warning>,
    unmanaged: Vec<super::UnmanagedAttachment>,
    live: &LiveOrg,
    accounts: &Accounts<'_>,
) -> Plan {
    let mut ou_ids = live.ou_ids_by_path();
    ou_ids.insert(OuPath::root(), live.root.id.clone());
    Plan {
        access_proof: None,
        audit: Default::default(),
        effects: Default::default(),
        headroom: Default::default(),
        org_id: live.org_id.clone(),
        management_account: live.management_account.clone(),
        account_paths: account_paths(live, &changes),
        changes,
        warnings,
        unmanaged,
        policy_ids: live
            .policies
            .values()
            .map(|p| (p.name.clone(), p.id.clone()))
            .collect(),
        ou_ids,
        account_names: live
            .accounts
            .values()
            .map(|a| {
                let name = accounts
                    .placed
                    .get(a.id.as_str())
                    .map_or(a.name.clone(), |d| d.key.clone());
                (a.id.clone(), name)
            })
            .collect(),
    }
}

/// Every root, OU and account to plan attachments for: the ones the config describes with
/// their lists, every other live account as it is, and the accounts to create.
fn target_list(desired: &Desired, live: &LiveOrg, accounts: &Accounts<'_>) -> Vec<Target> {
    let live_ous = live.ou_ids_by_path();
    let mut tlist = vec![Target {
        target: TargetRef::Root,
        live_id: Some(live.root.id.clone()),
        want: Some(desired.root.policies.clone()),
    }];
    for (path, ou) in &desired.ous {
        tlist.push(Target {
            target: TargetRef::Ou(path.clone()),
            live_id: live_ous.get(path).cloned(),
            want: Some(ou.policies.clone()),
        });
    }
    for a in live.accounts.values() {
        tlist.push(Target {
            target: TargetRef::Account(a.id.clone()),
            live_id: Some(a.id.clone()),
            want: accounts
                .placed
                .get(a.id.as_str())
                .map(|d| d.policies.clone()),
        });
    }
    for (a, email) in &accounts.creates {
        tlist.push(Target {
            target: TargetRef::NewAccount((*email).to_owned()),
            live_id: None,
            want: Some(a.policies.clone()),
        });
    }
    tlist
}

/// The desired state as it will really be after an apply: the config's lists plus every
/// unmanaged policy that stays attached (for `explain --live`). Whatever the plan would refuse
/// is left out of the question: this only says what would be attached.
pub fn projected(desired: &Desired, live: &LiveOrg) -> Desired {
    let (owners, _) = ownership::classify(desired, live);
    let accounts = resolve_accounts(desired, live, &mut Vec::new(), &mut Vec::new());
    let enabling = types_to_enable(desired, live, &mut Vec::new());
    let att = targets::plan_attachments(
        desired,
        live,
        &owners,
        &target_list(desired, live, &accounts),
        &enabling,
    );
    super::project::project(desired, live, &att.fixed)
}

/// The policy types the config uses that the root does not have enabled: the plan enables
/// them first (`plan::disable` for the other way). SCPs are the exception: enabling them attaches FullAWSAccess to every target at
/// once, which the plan would have to foresee everywhere, so a config with SCPs on an
/// organization without them is refused instead (enable them once by hand).
fn types_to_enable(
    desired: &Desired,
    live: &LiveOrg,
    refusals: &mut Vec<Refusal>,
) -> Vec<PolicyType> {
    let mut enable = Vec::new();
    for ty in desired.used_policy_types() {
        if live.root.enabled_policy_types.contains(&ty) {
            continue;
        }
        if ty == PolicyType::ServiceControlPolicy {
            refusals.push(Refusal::PolicyTypeNotEnabled { policy_type: ty });
        } else {
            enable.push(ty);
        }
    }
    enable
}

#[derive(Default)]
struct PolicyChanges {
    creates_updates: Vec<Change>,
    deletes: Vec<Change>,
}

fn policy_changes(
    desired: &Desired,
    live: &LiveOrg,
    owners: &BTreeMap<String, Ownership>,
) -> PolicyChanges {
    let mut out = PolicyChanges::default();
    let by_name: BTreeMap<&str, &LivePolicy> = live
        .policies
        .values()
        .filter(|p| owners.get(&p.id).is_some_and(Ownership::is_managed))
        .map(|p| (p.name.as_str(), p))
        .collect();
    let mark = |d: &str| marker::mark(d, &live.org_id, &desired.environment);
    for (name, want) in &desired.policies {
        let size_limit = desired
            .limits
            .for_type(want.policy_type)
            .max_document_chars
            .value;
        let Some(have) = by_name.get(name.as_str()) else {
            if live.policy_by_name(name).is_none() {
                let normal = doc::normalize(&want.document);
                out.creates_updates.push(Change::CreatePolicy {
                    name: name.clone(),
                    policy_type: want.policy_type,
                    description: mark(&want.description),
                    content: doc::minify(&want.document),
                    pretty: doc::pretty(&normal),
                    size_limit,
                });
            }
            continue;
        };
        let adopt = owners.get(&have.id) == Some(&Ownership::Adopt);
        out.creates_updates
            .extend(update(desired, &live.org_id, name, want, have, adopt));
    }
    for p in live.policies.values() {
        if owners.get(&p.id) == Some(&Ownership::Orphan) {
            out.deletes.push(Change::DeletePolicy {
                name: p.name.clone(),
                id: p.id.clone(),
                policy_type: p.policy_type,
            });
        }
    }
    out
}

/// The `UpdatePolicy` step of a managed policy whose content or description differs, or that
/// the plan adopts (a marker write); `None` when it is as the config says.
fn update(
    desired: &Desired,
    org_id: &str,
    name: &str,
    want: &crate::model::DesiredPolicy,
    have: &LivePolicy,
    adopt: bool,
) -> Option<Change> {
    let limits = desired.limits.for_type(want.policy_type);
    let live_doc = doc::parse(&have.content).unwrap_or(serde_json::Value::Null);
    let content_diff = (!doc::equivalent(&live_doc, &want.document)).then(|| {
        if live_doc.is_null() {
            format!(
                "--- live (not JSON)\n+++ desired\n{}",
                doc::pretty(&doc::normalize(&want.document))
            )
        } else {
            doc::diff(&live_doc, &want.document)
        }
    });
    let live_desc = marker::strip(&have.description);
    let description =
        (live_desc != want.description).then(|| (live_desc.to_owned(), want.description.clone()));
    if content_diff.is_none() && description.is_none() && !adopt {
        return None;
    }
    // A pinned policy whose description leaves no room for the marker keeps it as it is: the
    // pin (and `owned_policy_ids`) is its ownership record.
    let marked = marker::mark(&want.description, org_id, &desired.environment);
    let new_description = if marked.chars().count() <= limits.max_description_chars.value {
        marked
    } else {
        want.description.clone()
    };
    Some(Change::UpdatePolicy {
        name: name.to_owned(),
        id: have.id.clone(),
        policy_type: want.policy_type,
        description,
        new_content: content_diff.as_ref().map(|_| doc::minify(&want.document)),
        content_diff,
        new_description,
        size_limit: limits.max_document_chars.value,
        adopt,
    })
}

fn policy_warnings(
    live: &LiveOrg,
    owners: &BTreeMap<String, Ownership>,
    warnings: &mut Vec<Warning>,
) {
    for p in live.policies.values() {
        if owners.get(&p.id) != Some(&Ownership::Unmanaged) {
            continue;
        }
        if marker::owner(&p.description) == marker::Owner::Legacy {
            warnings.push(Warning::LegacyMarker {
                name: p.name.clone(),
                id: p.id.clone(),
            });
        } else {
            warnings.push(Warning::UnmanagedPolicy {
                name: p.name.clone(),
                id: p.id.clone(),
                policy_type: p.policy_type,
                targets: p.targets.len(),
            });
        }
    }
}

/// Live OUs the config no longer has, parent-first. An OU that still holds an ACTIVE account
/// the config does not place is refused; one that holds an account that is not ACTIVE (it
/// cannot be moved) is kept, with its ancestors, and said so.
fn ous_to_delete<'a>(
    desired: &Desired,
    live: &'a LiveOrg,
    accounts: &Accounts<'_>,
    warnings: &mut Vec<Warning>,
    refusals: &mut Vec<Refusal>,
) -> Vec<(OuPath, &'a String)> {
    let live_ous = live.ou_ids_by_path();
    let mut kept: BTreeSet<OuPath> = BTreeSet::new();
    for a in live.accounts.values() {
        let Some(path) = live.path_of(&a.parent_id) else {
            continue;
        };
        if path.is_root() || desired.ous.contains_key(&path) {
            continue;
        }
        let moving = accounts.placed.contains_key(a.id.as_str());
        if moving {
            continue;
        }
        if a.state.is_active() {
            refusals.push(Refusal::OuNotEmpty {
                path: path.clone(),
                account_id: a.id.clone(),
                account_name: a.name.clone(),
            });
        } else {
            warnings.push(Warning::OuKept {
                path: path.clone(),
                account: format!("{} ({}, {})", a.name, a.id, a.state.api_name()),
            });
            let mut p = Some(path);
            while let Some(cur) = p {
                if cur.is_root() {
                    break;
                }
                p = cur.parent();
                kept.insert(cur);
            }
        }
    }
    live_ous
        .iter()
        .filter(|(p, _)| !desired.ous.contains_key(*p) && !kept.contains(*p))
        .filter_map(|(p, id)| live.ous.get_key_value(id).map(|(k, _)| (p.clone(), k)))
        .collect()
}

fn verify_refusals(
    projected: &Desired,
    org_id: &str,
    refusals: &mut Vec<Refusal>,
    warnings: &mut Vec<Warning>,
) {
    for f in super::verify::check_assertions(projected) {
        refusals.push(Refusal::AssertionFailed {
            location: f.location,
            description: f.description,
            expected: f.expected.to_owned(),
            got: f.got,
        });
    }
    // The deployer's requests carry the live organization's own id (its resources, its
    // principals), so a data perimeter on that id is no lockout.
    let org = Some(org_id).filter(|o| !o.is_empty());
    for l in super::verify::lockout_in(projected, org) {
        refusals.push(Refusal::Lockout {
            principal: l.principal,
            account: l.account,
            action: l.action,
            by: l.by,
        });
    }
    for n in &projected.lint {
        if n.severity == "security" || n.severity == "warning" {
            warnings.push(Warning::Lint {
                subject: n.subject.clone(),
                code: n.code.to_owned(),
                severity: n.severity.to_owned(),
                statement: n.statement.clone(),
                message: n.message.clone(),
            });
        }
    }
}

/// Control Tower: its SCPs are named `aws-guardrails-*` and attached to the OUs it has
/// registered. guardrail never touches them (they are unmanaged unless the config names
/// them), but moving an account between registered OUs behind Control Tower's back leaves its
/// enrollment inconsistent.
fn control_tower_warnings(live: &LiveOrg, moves: &[Change], warnings: &mut Vec<Warning>) {
    let ct: Vec<&LivePolicy> = live
        .policies
        .values()
        .filter(|p| p.name.starts_with(CONTROL_TOWER_PREFIX))
        .collect();
    if ct.is_empty() {
        return;
    }
    warnings.push(Warning::ControlTower { policies: ct.len() });
    let registered: BTreeSet<OuPath> = ct
        .iter()
        .flat_map(|p| p.targets.iter())
        .filter(|t| live.ous.contains_key(*t))
        .filter_map(|t| live.path_of(t))
        .collect();
    for m in moves {
        if let Change::MoveAccount { id, key, from, to } = m {
            if registered.contains(from) || registered.contains(to) {
                warnings.push(Warning::ControlTowerMove {
                    key: key.clone(),
                    id: id.clone(),
                    from: from.clone(),
                    to: to.clone(),
                });
            }
        }
    }
}

/// The OU paths each account is under during the apply: where it is, and where a move or
/// creation puts it.
fn account_paths(live: &LiveOrg, changes: &[Change]) -> BTreeMap<String, Vec<OuPath>> {
    let mut out: BTreeMap<String, Vec<OuPath>> = live
        .accounts
        .values()
        .map(|a| {
            (
                a.id.clone(),
                vec![live.path_of(&a.parent_id).unwrap_or_default()],
            )
        })
        .collect();
    for c in changes {
        match c {
            Change::MoveAccount { id, to, .. } => {
                out.entry(id.clone()).or_default().push(to.clone())
            }
            Change::CreateAccount { email, ou, .. } => out
                .entry(format!("new:{email}"))
                .or_default()
                .push(ou.clone()),
            _ => {}
        }
    }
    out
}
