//! `apply`: runs a [`Plan`]'s changes, in the plan's order, on an [`OrgBackend`], and records
//! for every step whether it was done, failed (with the AWS error) or not attempted (and why).
//!
//! Architecture invariant: does only what the plan lists; never re-plans. Ids the plan could
//! not know (a new OU's, a new policy's) are resolved from the results of earlier steps.
//!
//! Failure: transient errors are retried with jittered backoff (on top of the SDK's own
//! retries). When a step still fails, every step that depends on it is skipped, and the rest
//! run: a step depends on the steps that create what it uses (the OU, the policy), a detach
//! from a target depends on every attach to that target (so a failed attach never leaves a
//! target with fewer guardrails, or none), deleting an OU depends on every move out of it and
//! every deletion below it, and deleting a policy depends on every detach of it. AWS's "already
//! so" answers (DuplicatePolicyAttachment, PolicyNotAttached, DuplicateAccount) count as done,
//! so running plan and apply again converges. When several attempted steps in a row fail
//! without reaching AWS at all (a dead endpoint), the run stops and the rest is reported as
//! not attempted. Each retry and each finished step is told to an observer ([`Event`]).

mod deps;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::live::iam::{IamAccount, IamBackend};
use crate::live::{Error, OrgBackend};
use crate::model::{LiveOrg, OuPath, TargetRef};
use crate::plan::{Change, Plan};

pub use deps::dependencies;

/// What happened to one step.
#[derive(Debug, Clone, PartialEq)]
pub enum StepStatus {
    Done,
    Failed(Error),
    /// Not attempted because the listed earlier steps failed or were skipped.
    Skipped {
        because_of: Vec<usize>,
    },
    /// Not attempted because the run stopped: the listed steps, attempted one after the
    /// other, all failed without reaching AWS (see [`MAX_CONSECUTIVE_CONNECTION_FAILURES`]).
    Stopped {
        after: Vec<usize>,
    },
}

/// The result of an apply, one status per plan step, in plan order.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub steps: Vec<(Change, StepStatus)>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.steps.iter().all(|(_, s)| *s == StepStatus::Done)
    }

    pub fn count(&self, f: impl Fn(&StepStatus) -> bool) -> usize {
        self.steps.iter().filter(|(_, s)| f(s)).count()
    }
}

struct Ids {
    ous: BTreeMap<OuPath, String>,
    policies: BTreeMap<String, String>,
    /// Ids of accounts created in this run, by email.
    accounts: BTreeMap<String, String>,
    root: String,
}

impl Ids {
    fn target(&self, t: &TargetRef) -> Result<String, Error> {
        match t {
            TargetRef::Root => Ok(self.root.clone()),
            TargetRef::Ou(p) => self.ou(p),
            TargetRef::Account(id) => Ok(id.clone()),
            TargetRef::NewAccount(email) => {
                self.accounts
                    .get(email)
                    .cloned()
                    .ok_or_else(|| Error::NotFound {
                        code: "AccountNotFoundException".into(),
                        message: format!("account <{email}> has no id (was it created?)"),
                    })
            }
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

/// Retry policy for one step, beyond the SDK's own retries.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(200),
        }
    }
}

/// What the observer hears about a step.
#[derive(Debug)]
pub enum Event<'a> {
    /// The step ended: done, failed, or not attempted.
    Finished(&'a StepStatus),
    /// The step's attempt `attempt` of `attempts` failed with a transient error; the next one
    /// starts after `wait`.
    Retrying {
        error: &'a Error,
        attempt: u32,
        attempts: u32,
        wait: Duration,
    },
}

/// Calls `observer` for each retry and after each step, for progress output (the library
/// prints nothing itself).
pub type Observer<'a> = &'a (dyn Fn(usize, &Change, &Event<'_>) + Sync);

/// After this many attempted steps in a row failed without reaching AWS
/// ([`Error::is_connection_failure`], after their retries), the endpoint is taken for dead:
/// the rest of the plan is not attempted ([`StepStatus::Stopped`]).
pub const MAX_CONSECUTIVE_CONNECTION_FAILURES: usize = 3;

/// Runs the plan.
pub async fn execute(plan: &Plan, live: &LiveOrg, backend: &dyn OrgBackend) -> Outcome {
    execute_with(plan, live, backend, RetryPolicy::default(), &|_, _, _| {}).await
}

/// Runs the plan with a retry policy and a per-step observer, without IAM (a plan with
/// boundary steps needs [`execute_all`]).
pub async fn execute_with(
    plan: &Plan,
    live: &LiveOrg,
    backend: &dyn OrgBackend,
    retry: RetryPolicy,
    observer: Observer<'_>,
) -> Outcome {
    execute_all(plan, live, backend, None, retry, observer).await
}

/// Runs the plan on Organizations and, for boundary steps, IAM in the member accounts.
pub async fn execute_all(
    plan: &Plan,
    live: &LiveOrg,
    backend: &dyn OrgBackend,
    iam: Option<&dyn IamBackend>,
    retry: RetryPolicy,
    observer: Observer<'_>,
) -> Outcome {
    let mut ids = Ids {
        ous: live.ou_ids_by_path(),
        policies: live
            .policies
            .values()
            .map(|p| (p.name.clone(), p.id.clone()))
            .collect(),
        accounts: BTreeMap::new(),
        root: live.root.id.clone(),
    };
    let deps = dependencies(&plan.changes, &plan.account_paths);
    let mut statuses: Vec<StepStatus> = Vec::with_capacity(plan.changes.len());
    // The attempted steps that failed in a row without reaching AWS.
    let mut dead: Vec<usize> = Vec::new();
    for (i, change) in plan.changes.iter().enumerate() {
        let blocked: Vec<usize> = deps[i]
            .iter()
            .copied()
            .filter(|d| statuses[*d] != StepStatus::Done)
            .collect();
        let status = if dead.len() >= MAX_CONSECUTIVE_CONNECTION_FAILURES {
            StepStatus::Stopped {
                after: dead.clone(),
            }
        } else if !blocked.is_empty() {
            StepStatus::Skipped {
                because_of: blocked,
            }
        } else {
            let on_retry = |e: &Event<'_>| observer(i, change, e);
            match run_with_retry(change, &mut ids, backend, iam, retry, &on_retry).await {
                Ok(()) => {
                    dead.clear();
                    StepStatus::Done
                }
                Err(e) => {
                    if e.is_connection_failure() {
                        dead.push(i);
                    } else {
                        dead.clear();
                    }
                    StepStatus::Failed(e)
                }
            }
        };
        observer(i, change, &Event::Finished(&status));
        statuses.push(status);
    }
    Outcome {
        steps: plan.changes.iter().cloned().zip(statuses).collect(),
    }
}

/// A small jitter from the clock's sub-second part: enough to de-synchronise concurrent runs.
fn jitter_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos() % 1000) / 10)
        .unwrap_or(0)
}

async fn run_with_retry(
    change: &Change,
    ids: &mut Ids,
    b: &dyn OrgBackend,
    iam: Option<&dyn IamBackend>,
    retry: RetryPolicy,
    on_retry: &(dyn Fn(&Event<'_>) + Sync),
) -> Result<(), Error> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let r = match change {
            Change::DeployBoundary { .. } | Change::AttachRoleBoundary { .. } => match iam {
                Some(iam) => boundary_step(change, iam).await,
                None => Err(Error::Service {
                    code: "NoIamBackend".into(),
                    message: "boundary steps need IAM access to member accounts".into(),
                }),
            },
            _ => step(change, ids, b).await,
        };
        match r {
            Err(e) if e.is_transient() && attempt < retry.attempts => {
                let wait = retry.base * (1 << attempt.min(6)) + Duration::from_millis(jitter_ms());
                on_retry(&Event::Retrying {
                    error: &e,
                    attempt: attempt + 1,
                    attempts: retry.attempts,
                    wait,
                });
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}

/// IAM keeps this many versions of a managed policy (AWS's value).
fn max_versions() -> usize {
    crate::policy::limits::LimitsTable::default()
        .iam
        .max_policy_versions
        .value
}

async fn deploy_update(
    iam: &dyn IamBackend,
    acct: &IamAccount,
    arn: &str,
    document: &str,
) -> Result<(), Error> {
    let versions = iam.list_policy_versions(acct, arn).await?;
    if versions.len() >= max_versions() {
        // Make room: the oldest version that is not the default (the default is never
        // deleted, so the account always keeps a usable boundary).
        if let Some((oldest, _)) = versions.iter().find(|(_, default)| !default) {
            iam.delete_policy_version(acct, arn, oldest).await?;
        }
    }
    iam.create_policy_version(acct, arn, document).await?;
    Ok(())
}

async fn boundary_step(change: &Change, iam: &dyn IamBackend) -> Result<(), Error> {
    match change {
        Change::DeployBoundary {
            account,
            member_role,
            policy_name,
            path,
            arn,
            document,
            create,
            ..
        } => {
            let acct = IamAccount {
                id: account.clone(),
                role: member_role.clone(),
            };
            if *create {
                match iam.create_policy(&acct, policy_name, path, document).await {
                    Ok(_) => Ok(()),
                    // Created by a run that died before finishing: bring it up to date.
                    Err(Error::Service { code, .. }) if code == "EntityAlreadyExists" => {
                        deploy_update(iam, &acct, arn, document).await
                    }
                    Err(e) => Err(e),
                }
            } else {
                deploy_update(iam, &acct, arn, document).await
            }
        }
        Change::AttachRoleBoundary {
            account,
            member_role,
            role,
            arn,
            ..
        } => {
            let acct = IamAccount {
                id: account.clone(),
                role: member_role.clone(),
            };
            iam.put_role_permissions_boundary(&acct, role, arn).await
        }
        _ => Ok(()),
    }
}

/// A write whose "already so" answer (`already`) counts as done: an earlier attempt whose
/// answer was lost, or another run, did it.
fn done_if(r: Result<(), Error>, already: impl Fn(&Error) -> bool) -> Result<(), Error> {
    match r {
        Err(e) if !already(&e) => Err(e),
        _ => Ok(()),
    }
}

async fn step(change: &Change, ids: &mut Ids, b: &dyn OrgBackend) -> Result<(), Error> {
    match change {
        Change::DeployBoundary { .. } | Change::AttachRoleBoundary { .. } => Ok(()),
        Change::EnablePolicyType { policy_type } => done_if(
            b.enable_policy_type(&ids.root, *policy_type).await,
            |e| matches!(e, Error::Service { code, .. } if code == "PolicyTypeAlreadyEnabledException"),
        ),
        // Already disabled (an earlier attempt whose answer was lost, or another run).
        Change::DisablePolicyType { policy_type } => {
            done_if(b.disable_policy_type(&ids.root, *policy_type).await, |e| {
                matches!(e, Error::PolicyTypeNotEnabled(_))
            })
        }
        Change::CreateOu { path } => create_ou(path, ids, b).await,
        Change::CreatePolicy {
            name,
            policy_type,
            description,
            content,
            ..
        } => {
            let id = match b
                .create_policy(*policy_type, name, description, content)
                .await
            {
                Ok(id) => id,
                Err(Error::DuplicatePolicy(m)) => {
                    adopt_duplicate(b, *policy_type, name, description, content, m).await?
                }
                Err(e) => return Err(e),
            };
            ids.policies.insert(name.clone(), id);
            Ok(())
        }
        Change::CreateAccount { key, email, ou } => create_account(key, email, ou, ids, b).await,
        Change::UpdatePolicy {
            id,
            new_description,
            new_content,
            ..
        } => {
            b.update_policy(id, Some(new_description), new_content.as_deref())
                .await
        }
        Change::Attach { policy, target, .. } => done_if(
            b.attach_policy(&ids.policy(policy)?, &ids.target(target)?)
                .await,
            |e| matches!(e, Error::DuplicatePolicyAttachment(_)),
        ),
        Change::MoveAccount { id, from, to, .. } => done_if(
            b.move_account(id, &ids.ou(from)?, &ids.ou(to)?).await,
            |e| matches!(e, Error::DuplicateAccount(_)),
        ),
        Change::Detach { policy, target, .. } => done_if(
            b.detach_policy(&ids.policy(policy)?, &ids.target(target)?)
                .await,
            |e| matches!(e, Error::PolicyNotAttached(_)),
        ),
        Change::DeleteOu { id, path } => {
            done_if(b.delete_organizational_unit(id).await, |e| {
                matches!(e, Error::NotFound { .. })
            })?;
            ids.ous.remove(path);
            Ok(())
        }
        Change::DeletePolicy { id, name, .. } => {
            done_if(b.delete_policy(id).await, |e| {
                matches!(e, Error::NotFound { .. })
            })?;
            ids.policies.remove(name);
            Ok(())
        }
    }
}

/// CreateOrganizationalUnit; DuplicateOrganizationalUnit (an earlier attempt whose answer was
/// lost) adopts the sibling of that name.
async fn create_ou(path: &OuPath, ids: &mut Ids, b: &dyn OrgBackend) -> Result<(), Error> {
    let parent = ids.ou(&path.parent().unwrap_or_default())?;
    let name = path.name().unwrap_or_default();
    let id = match b.create_organizational_unit(&parent, name).await {
        Ok(id) => id,
        Err(Error::DuplicateOrganizationalUnit(m)) => b
            .list_organizational_units_for_parent(&parent)
            .await?
            .into_iter()
            .find(|o| o.name == name)
            .map(|o| o.id)
            .ok_or(Error::DuplicateOrganizationalUnit(m))?,
        Err(e) => return Err(e),
    };
    ids.ous.insert(path.clone(), id);
    Ok(())
}

/// AWS creates the account in the root (CreateAccount is polled until it is done by the
/// backend), then one MoveAccount puts it in its OU. A retry after the creation succeeded only
/// moves; EMAIL_ALREADY_EXISTS after a lost answer finds the account in the root.
async fn create_account(
    key: &str,
    email: &str,
    ou: &OuPath,
    ids: &mut Ids,
    b: &dyn OrgBackend,
) -> Result<(), Error> {
    let id = match ids.accounts.get(email) {
        Some(id) => id.clone(),
        None => {
            let id = match b.create_account(key, email).await {
                Ok(id) => id,
                Err(Error::ConstraintViolation { reason, message })
                    if reason == "EMAIL_ALREADY_EXISTS" =>
                {
                    created_by_email(b, &ids.root, email)
                        .await?
                        .ok_or(Error::ConstraintViolation { reason, message })?
                }
                Err(e) => return Err(e),
            };
            ids.accounts.insert(email.to_owned(), id.clone());
            id
        }
    };
    if ou.is_root() {
        return Ok(());
    }
    done_if(b.move_account(&id, &ids.root, &ids.ou(ou)?).await, |e| {
        matches!(e, Error::DuplicateAccount(_))
    })
}

/// CreatePolicy answered DuplicatePolicy: adopt the existing policy only when it is exactly
/// what this step would have created (an earlier attempt whose answer was lost): same
/// description (so the same owner's marker) and equivalent content. Anything else is someone
/// else's policy, and the step fails.
async fn adopt_duplicate(
    b: &dyn OrgBackend,
    policy_type: crate::model::PolicyType,
    name: &str,
    description: &str,
    content: &str,
    message: String,
) -> Result<String, Error> {
    let refuse = |why: &str| {
        Error::DuplicatePolicy(format!(
            "{message}; it is not the policy this plan creates ({why}), so it was left alone"
        ))
    };
    let Some(found) = b
        .list_policies(policy_type)
        .await?
        .into_iter()
        .find(|p| p.name == name)
    else {
        return Err(refuse("not found by name"));
    };
    if found.description != description {
        return Err(refuse("another description and owner"));
    }
    let live = b.describe_policy(&found.id).await?;
    let same = match (
        crate::policy::doc::parse(&live),
        crate::policy::doc::parse(content),
    ) {
        (Ok(a), Ok(b)) => crate::policy::doc::equivalent(&a, &b),
        _ => false,
    };
    if same {
        Ok(found.id)
    } else {
        Err(refuse("other content"))
    }
}

/// The id of an account in the root with this email (CreateAccount answered
/// EMAIL_ALREADY_EXISTS after an earlier attempt whose answer was lost).
async fn created_by_email(
    b: &dyn OrgBackend,
    root: &str,
    email: &str,
) -> Result<Option<String>, Error> {
    Ok(b.list_accounts_for_parent(root)
        .await?
        .into_iter()
        .find(|a| a.email.eq_ignore_ascii_case(email))
        .map(|a| a.id))
}
