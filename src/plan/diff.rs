//! The diff itself. See the module docs of `plan` for ownership rules; the step order is the
//! one ARCHITECTURE.md justifies: create OUs parent-first, create and update policies, attach,
//! move accounts, detach, delete OUs child-first, delete policies.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, Plan, Refusal, Refused, Warning};
use crate::model::{Desired, IamLive, LiveOrg, LivePolicy, OuPath, PolicyType, TargetRef};
use crate::policy::{doc, marker};

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
    let mut creates_updates = Vec::new();
    let mut attaches = Vec::new();
    let mut moves = Vec::new();
    let mut detaches = Vec::new();
    let mut policy_deletes = Vec::new();

    if !desired.management_account.is_empty()
        && desired.management_account != live.management_account
    {
        refusals.push(Refusal::ManagementAccountMismatch {
            config: desired.management_account.clone(),
            live: live.management_account.clone(),
        });
    }

    // Which AWS-managed policies the config takes charge of: those it names on some target.
    let referenced: BTreeSet<&str> = std::iter::once(&desired.root.policies)
        .chain(desired.ous.values().map(|o| &o.policies))
        .chain(desired.accounts.values().map(|a| &a.policies))
        .flatten()
        .map(String::as_str)
        .collect();
    let managed_aws: BTreeSet<&str> = referenced
        .iter()
        .copied()
        .filter(|n| desired.limits.aws_managed_type(n).is_some())
        .collect();

    // Policy types in use must be enabled on the root.
    let mut types_used: BTreeSet<PolicyType> =
        desired.policies.values().map(|p| p.policy_type).collect();
    types_used.extend(
        managed_aws
            .iter()
            .filter_map(|n| desired.limits.aws_managed_type(n)),
    );
    for ty in &types_used {
        if !live.root.enabled_policy_types.contains(ty) {
            refusals.push(Refusal::PolicyTypeNotEnabled { policy_type: *ty });
        }
    }

    let live_by_name: BTreeMap<&str, &LivePolicy> = live
        .policies
        .values()
        .map(|p| (p.name.as_str(), p))
        .collect();
    let is_managed = |p: &LivePolicy| -> bool {
        desired.policies.contains_key(&p.name)
            || managed_aws.contains(p.name.as_str())
            || (!p.aws_managed && marker::is_marked(&p.description))
    };
    let to_delete: BTreeSet<&str> = live
        .policies
        .values()
        .filter(|p| is_managed(p) && !p.aws_managed && !desired.policies.contains_key(&p.name))
        .map(|p| p.name.as_str())
        .collect();

    // Policies: create or update.
    for (name, want) in &desired.policies {
        match live_by_name.get(name.as_str()) {
            None => {
                let normal = doc::normalize(&want.document);
                creates_updates.push(Change::CreatePolicy {
                    name: name.clone(),
                    policy_type: want.policy_type,
                    description: marker::mark(&want.description),
                    content: doc::minify(&want.document),
                    pretty: doc::pretty(&normal),
                    size_limit: desired
                        .limits
                        .for_type(want.policy_type)
                        .max_document_chars
                        .value,
                });
            }
            Some(have) => {
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
                let description = (live_desc != want.description)
                    .then(|| (live_desc.to_owned(), want.description.clone()));
                if content_diff.is_some() || description.is_some() {
                    creates_updates.push(Change::UpdatePolicy {
                        name: name.clone(),
                        id: have.id.clone(),
                        policy_type: want.policy_type,
                        description,
                        new_content: content_diff.as_ref().map(|_| doc::minify(&want.document)),
                        content_diff,
                        new_description: marker::mark(&want.description),
                        size_limit: desired
                            .limits
                            .for_type(want.policy_type)
                            .max_document_chars
                            .value,
                    });
                }
            }
        }
    }
    for p in live.policies.values() {
        if !is_managed(p) && !p.aws_managed {
            warnings.push(Warning::UnmanagedPolicy {
                name: p.name.clone(),
                id: p.id.clone(),
                policy_type: p.policy_type,
                targets: p.targets.len(),
            });
        }
    }

    // OUs.
    let live_ous = live.ou_ids_by_path();
    let ous_to_create: Vec<&OuPath> = desired
        .ous
        .keys()
        .filter(|p| !live_ous.contains_key(*p))
        .collect();
    let ous_to_delete: Vec<(&OuPath, &String)> = live_ous
        .iter()
        .filter(|(p, _)| !desired.ous.contains_key(*p))
        .collect();
    let deleted_ou_ids: BTreeSet<&str> = ous_to_delete.iter().map(|(_, id)| id.as_str()).collect();

    // Accounts: resolve each config account to a live one (by id, else by email), then
    // moves, creations and warnings.
    let by_email: BTreeMap<String, &str> = live
        .accounts
        .values()
        .map(|a| (a.email.to_ascii_lowercase(), a.id.as_str()))
        .collect();
    let mut placed: BTreeMap<&str, &crate::model::DesiredAccount> = BTreeMap::new();
    let mut creates: Vec<(&crate::model::DesiredAccount, &str)> = Vec::new();
    for a in desired.accounts.values() {
        let resolved: Option<&str> = match (&a.id, &a.email) {
            (Some(id), _) => live.accounts.get_key_value(id).map(|(k, _)| k.as_str()),
            (None, Some(email)) => by_email.get(&email.to_ascii_lowercase()).copied(),
            (None, None) => None,
        };
        match (resolved, &a.id, &a.email) {
            (Some(id), _, _) => {
                placed.insert(id, a);
            }
            (None, Some(id), _) => warnings.push(Warning::AccountNotInOrganization {
                key: a.key.clone(),
                id: id.clone(),
            }),
            (None, None, Some(email)) => creates.push((a, email.as_str())),
            (None, None, None) => {}
        }
    }
    let account_creates: Vec<Change> = creates
        .iter()
        .map(|(a, email)| Change::CreateAccount {
            key: a.key.clone(),
            email: (*email).to_owned(),
            ou: a.ou.clone(),
        })
        .collect();
    for (id, a) in &placed {
        let Some(have) = live.accounts.get(*id) else {
            continue;
        };
        let from = live.path_of(&have.parent_id).unwrap_or_default();
        if from != a.ou {
            moves.push(Change::MoveAccount {
                id: (*id).to_owned(),
                key: a.key.clone(),
                from,
                to: a.ou.clone(),
            });
        }
    }
    for a in live.accounts.values() {
        if placed.contains_key(a.id.as_str()) {
            continue;
        }
        let path = live.path_of(&a.parent_id).unwrap_or_default();
        if deleted_ou_ids.contains(a.parent_id.as_str()) {
            refusals.push(Refusal::OuNotEmpty {
                path: path.clone(),
                account: format!("{} ({})", a.name, a.id),
            });
        }
        warnings.push(Warning::AccountNotInConfig {
            id: a.id.clone(),
            name: a.name.clone(),
            path,
        });
    }

    // Attachments, per target and policy type.
    let mut targets: Vec<(TargetRef, Option<String>, BTreeSet<&str>)> = Vec::new();
    targets.push((
        TargetRef::Root,
        Some(live.root.id.clone()),
        desired.root.policies.iter().map(String::as_str).collect(),
    ));
    for (path, ou) in &desired.ous {
        targets.push((
            TargetRef::Ou(path.clone()),
            live_ous.get(path).cloned(),
            ou.policies.iter().map(String::as_str).collect(),
        ));
    }
    for (id, a) in &placed {
        targets.push((
            TargetRef::Account((*id).to_owned()),
            Some((*id).to_owned()),
            a.policies.iter().map(String::as_str).collect(),
        ));
    }
    for (a, email) in &creates {
        targets.push((
            TargetRef::NewAccount((*email).to_owned()),
            None,
            a.policies.iter().map(String::as_str).collect(),
        ));
    }
    // Accounts outside the config keep everything but the policies being deleted.
    for a in live.accounts.values() {
        if !placed.contains_key(a.id.as_str()) {
            let keep: BTreeSet<&str> = live
                .policies_on(&a.id)
                .filter(|p| is_managed(p) && !to_delete.contains(p.name.as_str()))
                .map(|p| p.name.as_str())
                .collect();
            targets.push((TargetRef::Account(a.id.clone()), Some(a.id.clone()), keep));
        }
    }

    let enabled: Vec<PolicyType> = live.root.enabled_policy_types.clone();
    for (target, live_id, want_all) in &targets {
        for ty in &enabled {
            let lim = desired.limits.for_type(*ty);
            let type_of = |name: &str| -> Option<PolicyType> {
                desired
                    .policies
                    .get(name)
                    .map(|p| p.policy_type)
                    .or_else(|| desired.limits.aws_managed_type(name))
            };
            let want: BTreeSet<&str> = want_all
                .iter()
                .copied()
                .filter(|n| type_of(n) == Some(*ty))
                .collect();
            // What is attached now; a target about to be created gets the type's AWS-managed
            // policy from AWS, as every new OU does.
            let (have_managed, unmanaged): (BTreeSet<&str>, usize) = match live_id {
                Some(id) => {
                    let on: Vec<&LivePolicy> = live
                        .policies_on(id)
                        .filter(|p| p.policy_type == *ty)
                        .collect();
                    (
                        on.iter()
                            .filter(|p| is_managed(p))
                            .map(|p| p.name.as_str())
                            .collect(),
                        on.iter().filter(|p| !is_managed(p)).count(),
                    )
                }
                None if *ty == PolicyType::ServiceControlPolicy || !lim.aws_managed_detachable => {
                    if managed_aws.contains(lim.aws_managed_policy) {
                        ([lim.aws_managed_policy].into(), 0)
                    } else {
                        (BTreeSet::new(), 1)
                    }
                }
                None => (BTreeSet::new(), 0),
            };
            for name in want.difference(&have_managed) {
                attaches.push(Change::Attach {
                    policy: (*name).to_owned(),
                    policy_type: *ty,
                    target: target.clone(),
                });
            }
            for name in have_managed.difference(&want) {
                detaches.push(Change::Detach {
                    policy: (*name).to_owned(),
                    policy_type: *ty,
                    target: target.clone(),
                });
            }
            let count = want.len() + unmanaged;
            let has_any = live_id.is_some() || !want.is_empty() || unmanaged > 0;
            if has_any && count > lim.max_attachments_per_target.value {
                refusals.push(Refusal::TooManyAttachments {
                    target: target.clone(),
                    policy_type: *ty,
                    count,
                    unmanaged,
                    limit: lim.max_attachments_per_target.value,
                    limit_source: lim.max_attachments_per_target.source.to_string(),
                });
            }
            if count < lim.min_attachments_per_target.value {
                refusals.push(Refusal::ZeroPolicies {
                    target: target.clone(),
                    policy_type: *ty,
                    min: lim.min_attachments_per_target.value,
                    limit_source: lim.min_attachments_per_target.source.to_string(),
                });
            }
        }
    }

    for name in &to_delete {
        if let Some(p) = live_by_name.get(name) {
            policy_deletes.push(Change::DeletePolicy {
                name: p.name.clone(),
                id: p.id.clone(),
                policy_type: p.policy_type,
            });
        }
    }

    // Offline proofs on the desired state: assertions and the lockout proof.
    for f in super::verify::check_assertions(desired) {
        refusals.push(Refusal::AssertionFailed {
            location: f.location,
            description: f.description,
            expected: f.expected.to_owned(),
            got: f.got,
        });
    }
    for l in super::verify::lockout(desired) {
        refusals.push(Refusal::Lockout {
            principal: l.principal,
            account: l.account,
            action: l.action,
            by: l.by,
        });
    }
    for n in &desired.lint {
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

    if !refusals.is_empty() {
        return Err(Refused(refusals));
    }

    // Control Tower: its SCPs are named `aws-guardrails-*` and attached to the OUs it has
    // registered. guardrail never touches them (they are unmanaged unless the config names
    // them), but moving an account between registered OUs behind Control Tower's back leaves
    // its enrollment inconsistent.
    let ct: Vec<&LivePolicy> = live
        .policies
        .values()
        .filter(|p| p.name.starts_with(CONTROL_TOWER_PREFIX))
        .collect();
    if !ct.is_empty() {
        warnings.push(Warning::ControlTower { policies: ct.len() });
        let registered: BTreeSet<OuPath> = ct
            .iter()
            .flat_map(|p| p.targets.iter())
            .filter(|t| live.ous.contains_key(*t))
            .filter_map(|t| live.path_of(t))
            .collect();
        for m in &moves {
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

    let mut changes: Vec<Change> = Vec::new();
    changes.extend(
        ous_to_create
            .into_iter()
            .map(|p| Change::CreateOu { path: p.clone() }),
    );
    changes.extend(creates_updates);
    changes.extend(account_creates);
    let (boundary_changes, audit) = super::boundaries::diff(desired, live, iam);
    changes.extend(boundary_changes);
    changes.extend(attaches);
    changes.extend(moves);
    changes.extend(detaches);
    let mut deletes: Vec<Change> = ous_to_delete
        .into_iter()
        .map(|(p, id)| Change::DeleteOu {
            path: p.clone(),
            id: id.clone(),
        })
        .collect();
    deletes.reverse(); // child-first
    changes.extend(deletes);
    changes.extend(policy_deletes);

    let effects = super::effects::effects(&changes, desired, live);
    let headroom = headroom(&changes, desired, live);
    Ok(Plan {
        audit,
        effects,
        headroom,
        org_id: live.org_id.clone(),
        management_account: live.management_account.clone(),
        changes,
        warnings,
        account_names: live
            .accounts
            .values()
            .map(|a| {
                (
                    a.id.clone(),
                    placed
                        .get(a.id.as_str())
                        .map_or(a.name.clone(), |d| d.key.clone()),
                )
            })
            .collect(),
    })
}

/// Slots and characters left on every target the plan touches.
fn headroom(changes: &[Change], desired: &Desired, live: &LiveOrg) -> Vec<super::Headroom> {
    let mut targets: BTreeSet<TargetRef> = BTreeSet::new();
    for c in changes {
        if let Change::Attach { target, .. } | Change::Detach { target, .. } = c {
            targets.insert(target.clone());
        }
    }
    let mut out = Vec::new();
    for t in targets {
        let Some(want) = desired.attachments_of(&t) else {
            continue;
        };
        let live_id = live.id_of(&t);
        let unmanaged: Vec<&LivePolicy> = match &live_id {
            Some(id) => live
                .policies_on(id)
                .filter(|p| {
                    !desired.policies.contains_key(&p.name)
                        && desired.limits.aws_managed_type(&p.name).is_none()
                })
                .filter(|p| !marker::is_marked(&p.description) || p.aws_managed)
                .collect(),
            None => Vec::new(),
        };
        for ty in &live.root.enabled_policy_types {
            let lim = desired.limits.for_type(*ty);
            let mine: Vec<&String> = want
                .iter()
                .filter(|n| {
                    desired
                        .policies
                        .get(*n)
                        .map(|p| p.policy_type)
                        .or_else(|| desired.limits.aws_managed_type(n))
                        == Some(*ty)
                })
                .collect();
            let used = mine.len() + unmanaged.iter().filter(|p| p.policy_type == *ty).count();
            let chars_left = mine
                .iter()
                .filter_map(|n| desired.policies.get(*n))
                .map(|p| {
                    lim.max_document_chars
                        .value
                        .saturating_sub(doc::sent_size(&p.document))
                })
                .min();
            out.push(super::Headroom {
                target: t.clone(),
                policy_type: *ty,
                slots_used: used,
                slots_limit: lim.max_attachments_per_target.value,
                chars_left,
            });
        }
    }
    out
}
