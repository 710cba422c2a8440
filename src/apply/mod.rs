//! `apply`: runs a [`Plan`]'s changes, in the plan's order, on an [`OrgBackend`], and records
//! what was done, what failed and what was not attempted.
//!
//! Architecture invariant: does only what the plan lists; never re-plans. Ids the plan could
//! not know (a new OU's, a new policy's) are resolved from the results of earlier steps.
//!
//! Today the executor stops at the first failed step (everything after it is reported as not
//! attempted) and treats AWS's "already so" answers (DuplicatePolicyAttachment,
//! PolicyNotAttached, DuplicateAccount) as success, so a re-run converges. The `apply`
//! command, confirmation, saved plans and dependency-aware continuation come with issue 4.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::live::{Error, OrgBackend};
use crate::model::{LiveOrg, OuPath, TargetRef};
use crate::plan::{Change, Plan};

/// The result of an apply.
#[derive(Debug, Default)]
pub struct Outcome {
    pub done: Vec<Change>,
    pub failed: Option<(Change, Error)>,
    pub not_attempted: Vec<Change>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.failed.is_none() && self.not_attempted.is_empty()
    }
}

struct Ids {
    ous: BTreeMap<OuPath, String>,
    policies: BTreeMap<String, String>,
    root: String,
}

impl Ids {
    fn target(&self, t: &TargetRef) -> Result<String, Error> {
        match t {
            TargetRef::Root => Ok(self.root.clone()),
            TargetRef::Ou(p) => self.ou(p),
            TargetRef::Account(id) => Ok(id.clone()),
        }
    }

    fn ou(&self, p: &OuPath) -> Result<String, Error> {
        if p.is_root() {
            return Ok(self.root.clone());
        }
        self.ous.get(p).cloned().ok_or_else(|| Error::NotFound {
            code: "OrganizationalUnitNotFoundException".into(),
            message: format!("OU {p} has no id (was it created?)"),
        })
    }

    fn policy(&self, name: &str) -> Result<String, Error> {
        self.policies
            .get(name)
            .cloned()
            .ok_or_else(|| Error::NotFound {
                code: "PolicyNotFoundException".into(),
                message: format!("policy {name} has no id (was it created?)"),
            })
    }
}

/// Attempts per step for transient errors the SDK's own retries did not absorb
/// (ConcurrentModification in particular).
const STEP_ATTEMPTS: u32 = 5;

/// Runs the plan.
pub async fn execute(plan: &Plan, live: &LiveOrg, backend: &dyn OrgBackend) -> Outcome {
    let mut ids = Ids {
        ous: live.ou_ids_by_path(),
        policies: live
            .policies
            .values()
            .map(|p| (p.name.clone(), p.id.clone()))
            .collect(),
        root: live.root.id.clone(),
    };
    let mut out = Outcome::default();
    let mut iter = plan.changes.iter();
    for change in iter.by_ref() {
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            match step(change, &mut ids, backend).await {
                Err(e) if e.is_transient() && attempt < STEP_ATTEMPTS => {
                    // Jittered exponential backoff; the jitter comes from the clock's
                    // sub-second part, which is enough to de-synchronise concurrent runs.
                    let jitter = u64::from(
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.subsec_millis())
                            .unwrap_or(0)
                            % 100,
                    );
                    tokio::time::sleep(Duration::from_millis(200 * (1 << attempt) + jitter)).await;
                }
                other => break other,
            }
        };
        match result {
            Ok(()) => out.done.push(change.clone()),
            Err(e) => {
                out.failed = Some((change.clone(), e));
                break;
            }
        }
    }
    out.not_attempted = iter.cloned().collect();
    out
}

async fn step(change: &Change, ids: &mut Ids, b: &dyn OrgBackend) -> Result<(), Error> {
    match change {
        Change::CreateOu { path } => {
            let parent = ids.ou(&path.parent().unwrap_or_default())?;
            let name = path.name().unwrap_or_default();
            let id = b.create_organizational_unit(&parent, name).await?;
            ids.ous.insert(path.clone(), id);
        }
        Change::CreatePolicy {
            name,
            policy_type,
            description,
            content,
            ..
        } => {
            let id = b
                .create_policy(*policy_type, name, description, content)
                .await?;
            ids.policies.insert(name.clone(), id);
        }
        Change::UpdatePolicy {
            id,
            new_description,
            new_content,
            ..
        } => {
            b.update_policy(id, Some(new_description), new_content.as_deref())
                .await?;
        }
        Change::Attach { policy, target, .. } => {
            match b
                .attach_policy(&ids.policy(policy)?, &ids.target(target)?)
                .await
            {
                Ok(()) | Err(Error::DuplicatePolicyAttachment(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Change::MoveAccount { id, from, to, .. } => {
            match b.move_account(id, &ids.ou(from)?, &ids.ou(to)?).await {
                Ok(()) | Err(Error::DuplicateAccount(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Change::Detach { policy, target, .. } => {
            match b
                .detach_policy(&ids.policy(policy)?, &ids.target(target)?)
                .await
            {
                Ok(()) | Err(Error::PolicyNotAttached(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Change::DeleteOu { id, path } => {
            b.delete_organizational_unit(id).await?;
            ids.ous.remove(path);
        }
        Change::DeletePolicy { id, name, .. } => {
            b.delete_policy(id).await?;
            ids.policies.remove(name);
        }
    }
    Ok(())
}
