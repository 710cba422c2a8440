//! An in-memory organization that behaves like AWS Organizations, including the rules moto
//! skips: the last SCP on a target cannot be detached, attachments per target and document
//! size are capped by the limits table, attaching twice or detaching what is not attached
//! fails, OU depth and duplicate sibling names are refused, non-empty OUs cannot be deleted,
//! AWS-managed policies are immutable, a policy in use cannot be deleted, and MoveAccount
//! checks its source parent. Errors are the same [`Error`] kinds AWS raises.
//!
//! Listings count one request per page of [`PAGE_SIZE`](super::walk::PAGE_SIZE), like AWS.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;

use super::limiter::RateLimiter;
use super::stats::Counter;
use super::walk::{FULL_AWS_ACCESS_CONTENT, PAGE_SIZE};
use super::{AccountInfo, Error, OrgBackend, OuInfo, PolicyInfo, RequestStats, Result, RootInfo};
use crate::model::PolicyType;
use crate::policy::limits::LimitsTable;

mod faults;
mod mgmt;
mod rules;

pub use faults::Fault;
use faults::Faults;

#[derive(Debug, Clone)]
struct FakeOu {
    name: String,
    parent: String,
}

#[derive(Debug, Clone)]
struct FakeAccount {
    info: AccountInfo,
    parent: String,
}

#[derive(Debug, Clone)]
struct FakePolicy {
    info: PolicyInfo,
    content: String,
    targets: BTreeSet<String>,
}

#[derive(Debug)]
pub(super) struct State {
    root: RootInfo,
    ous: BTreeMap<String, FakeOu>,
    accounts: BTreeMap<String, FakeAccount>,
    policies: BTreeMap<String, FakePolicy>,
    /// Tags by resource id.
    tags: BTreeMap<String, BTreeMap<String, String>>,
    seq: u64,
}

/// The in-memory organization.
#[derive(Debug)]
pub struct FakeOrg {
    state: Mutex<State>,
    limits: LimitsTable,
    counter: Counter,
    faults: Mutex<Faults>,
    /// Client-side pacing (the same limiter the SDK backend uses), if any.
    client_rates: Option<std::sync::Arc<RateLimiter>>,
    /// AWS's server-side token buckets: TooManyRequests when one is empty.
    server_rates: Option<RateLimiter>,
    /// `ListAccounts` answers each account's `Paths`, as AWS has since 2026-03-31 (off: as
    /// moto 5.2 does, no `Paths`).
    paths: bool,
}

/// The error a caller sees once the process "died" (see [`FakeOrg::die_after_write`]).
pub const DEAD_CODE: &str = "ProcessKilled";

const FULL_ACCESS_ID: &str = "p-FullAWSAccess";
const RCP_FULL_ACCESS_ID: &str = "p-RCPFullAWSAccess";

fn not_found(code: &str, id: &str) -> Error {
    Error::NotFound {
        code: code.to_owned(),
        message: format!("{id} not found"),
    }
}

fn constraint(reason: &str, message: impl Into<String>) -> Error {
    Error::ConstraintViolation {
        reason: reason.to_owned(),
        message: message.into(),
    }
}

fn pages(n: usize) -> usize {
    n.div_ceil(PAGE_SIZE).max(1)
}

impl FakeOrg {
    /// A new organization managed from `management_account`, with SCPs enabled and
    /// `FullAWSAccess` on the root and the management account, as AWS sets it up.
    pub fn new(management_account: &str) -> Self {
        Self::with_limits(management_account, LimitsTable::default())
    }

    /// As [`FakeOrg::new`], enforcing other limits.
    pub fn with_limits(management_account: &str, limits: LimitsTable) -> Self {
        let org_id = format!("o-{}", &format!("{:0>10}", management_account)[..10]);
        let root_id = "r-f4k3".to_owned();
        let root = RootInfo {
            arn: format!("arn:aws:organizations::{management_account}:root/{org_id}/{root_id}"),
            id: root_id.clone(),
            name: "Root".into(),
            enabled_policy_types: vec![PolicyType::ServiceControlPolicy],
        };
        let mut policies = BTreeMap::new();
        policies.insert(
            FULL_ACCESS_ID.to_owned(),
            FakePolicy {
                info: PolicyInfo {
                    id: FULL_ACCESS_ID.into(),
                    name: "FullAWSAccess".into(),
                    description: "Allows access to every operation".into(),
                    policy_type: PolicyType::ServiceControlPolicy,
                    aws_managed: true,
                },
                content: FULL_AWS_ACCESS_CONTENT.into(),
                targets: [root_id.clone(), management_account.to_owned()].into(),
            },
        );
        let mut accounts = BTreeMap::new();
        accounts.insert(
            management_account.to_owned(),
            FakeAccount {
                info: AccountInfo {
                    id: management_account.into(),
                    name: "management".into(),
                    email: format!("management+{management_account}@example.com"),
                    state: crate::model::AccountState::Active,
                },
                parent: root_id,
            },
        );
        FakeOrg {
            state: Mutex::new(State {
                root,
                ous: BTreeMap::new(),
                accounts,
                policies,
                tags: BTreeMap::new(),
                seq: 0,
            }),
            limits,
            counter: Counter::default(),
            faults: Mutex::new(Faults::default()),
            client_rates: None,
            server_rates: None,
            paths: true,
        }
    }

    /// `ListAccounts` answers without `Paths`, as moto 5.2 does.
    pub fn without_paths(mut self) -> Self {
        self.paths = false;
        self
    }

    /// Paces requests with `client` (as the SDK backend does) and, with `enforce`, answers
    /// TooManyRequests whenever AWS's documented bucket for the operation is empty.
    pub fn with_rates(
        mut self,
        client: Option<std::sync::Arc<RateLimiter>>,
        enforce: bool,
    ) -> Self {
        self.client_rates = client;
        self.server_rates = enforce.then(RateLimiter::aws);
        self
    }

    /// One request: client pacing, the server's bucket, the count.
    async fn pace(&self, op: &str) -> Result<()> {
        self.dead()?;
        if let Some(l) = &self.client_rates {
            l.acquire(op).await;
        }
        self.counter.bump(op);
        if let Some(server) = &self.server_rates {
            if !server.try_take(op) {
                return Err(Error::TooManyRequests(format!("Rate exceeded for {op}")));
            }
        }
        Ok(())
    }

    /// The requests for the pages after the first.
    async fn more_pages(&self, op: &str, items: usize) -> Result<()> {
        for _ in 1..pages(items) {
            self.pace(op).await?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is only mutated after every check passed, so a panic elsewhere cannot
        // leave it half-written; recovering from poisoning is safe.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Requests are counted like AWS would see them; tests can reset the counter between
    /// seeding and measuring.
    pub fn reset_stats(&self) {
        self.counter.clear();
    }

    /// The root id.
    pub fn root_id(&self) -> String {
        self.lock().root.id.clone()
    }

    /// Creates an account directly under `parent_id` (test seeding helper: CreateAccount then
    /// MoveAccount, counted as such).
    pub async fn add_account(&self, name: &str, email: &str, parent_id: &str) -> Result<String> {
        let id = self.create_account(name, email).await?;
        let root = self.root_id();
        if parent_id != root {
            self.move_account(&id, &root, parent_id).await?;
        }
        Ok(id)
    }
}
#[async_trait]
impl OrgBackend for FakeOrg {
    async fn list_roots(&self) -> Result<Vec<RootInfo>> {
        self.pace("ListRoots").await?;
        Ok(vec![self.lock().root.clone()])
    }

    async fn list_organizational_units_for_parent(&self, parent_id: &str) -> Result<Vec<OuInfo>> {
        const OP: &str = "ListOrganizationalUnitsForParent";
        self.pace(OP).await?;
        let out: Vec<OuInfo> = {
            let s = self.lock();
            if parent_id != s.root.id && !s.ous.contains_key(parent_id) {
                return Err(not_found("ParentNotFoundException", parent_id));
            }
            s.ous
                .iter()
                .filter(|(_, o)| o.parent == parent_id)
                .map(|(id, o)| OuInfo {
                    id: id.clone(),
                    name: o.name.clone(),
                })
                .collect()
        };
        self.more_pages(OP, out.len()).await?;
        Ok(out)
    }

    async fn list_accounts_for_parent(&self, parent_id: &str) -> Result<Vec<AccountInfo>> {
        const OP: &str = "ListAccountsForParent";
        self.pace(OP).await?;
        let out: Vec<AccountInfo> = {
            let s = self.lock();
            if parent_id != s.root.id && !s.ous.contains_key(parent_id) {
                return Err(not_found("ParentNotFoundException", parent_id));
            }
            s.accounts
                .values()
                .filter(|a| a.parent == parent_id)
                .map(|a| a.info.clone())
                .collect()
        };
        self.more_pages(OP, out.len()).await?;
        Ok(out)
    }

    async fn list_accounts_with_paths(&self) -> Result<Option<Vec<super::PlacedAccount>>> {
        const OP: &str = "ListAccounts";
        self.pace(OP).await?;
        if !self.paths {
            // The first page answered without Paths: the caller reads per parent.
            return Ok(None);
        }
        let out: Vec<super::PlacedAccount> = {
            let s = self.lock();
            s.accounts
                .iter()
                .map(|(id, a)| {
                    let path = s.path_of(id, &a.parent);
                    super::PlacedAccount {
                        info: a.info.clone(),
                        parent_id: super::PlacedAccount::parent_from_path(id, &path)
                            .unwrap_or_default(),
                    }
                })
                .collect()
        };
        self.more_pages(OP, out.len()).await?;
        Ok(Some(out))
    }

    async fn list_policies(&self, policy_type: PolicyType) -> Result<Vec<PolicyInfo>> {
        self.pace("ListPolicies").await?;
        let out: Vec<PolicyInfo> = self
            .lock()
            .policies
            .values()
            .filter(|p| p.info.policy_type == policy_type)
            .map(|p| p.info.clone())
            .collect();
        self.more_pages("ListPolicies", out.len()).await?;
        Ok(out)
    }

    async fn describe_policy(&self, policy_id: &str) -> Result<String> {
        self.pace("DescribePolicy").await?;
        let s = self.lock();
        s.policies
            .get(policy_id)
            .map(|p| p.content.clone())
            .ok_or_else(|| not_found("PolicyNotFoundException", policy_id))
    }

    async fn list_targets_for_policy(&self, policy_id: &str) -> Result<Vec<String>> {
        self.pace("ListTargetsForPolicy").await?;
        let out: Vec<String> = {
            let s = self.lock();
            let Some(p) = s.policies.get(policy_id) else {
                return Err(not_found("PolicyNotFoundException", policy_id));
            };
            p.targets.iter().cloned().collect()
        };
        self.more_pages("ListTargetsForPolicy", out.len()).await?;
        Ok(out)
    }

    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()> {
        self.pace("EnablePolicyType").await?;
        self.write(|| {
            let mut s = self.lock();
            if root_id != s.root.id {
                return Err(not_found("RootNotFoundException", root_id));
            }
            if s.root.enabled_policy_types.contains(&policy_type) {
                return Err(Error::Service {
                    code: "PolicyTypeAlreadyEnabledException".into(),
                    message: format!("{} is already enabled", policy_type.api_name()),
                });
            }
            s.root.enabled_policy_types.push(policy_type);
            // As AWS does: enabling RCPs attaches RCPFullAWSAccess everywhere (it cannot be
            // detached); enabling SCPs again restores FullAWSAccess everywhere.
            let targets = s.all_targets();
            if policy_type == PolicyType::ResourceControlPolicy {
                s.policies.insert(
                    RCP_FULL_ACCESS_ID.to_owned(),
                    FakePolicy {
                        info: PolicyInfo {
                            id: RCP_FULL_ACCESS_ID.into(),
                            name: "RCPFullAWSAccess".into(),
                            description: "Allows access to every resource".into(),
                            policy_type,
                            aws_managed: true,
                        },
                        content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#.into(),
                        targets: targets.into_iter().collect(),
                    },
                );
            } else if let Some(p) = s.policies.get_mut(FULL_ACCESS_ID) {
                p.targets.extend(targets);
            }
            Ok(())
        })
    }

    async fn create_organizational_unit(&self, parent_id: &str, name: &str) -> Result<String> {
        self.pace("CreateOrganizationalUnit").await?;
        self.write(|| {
            let mut s = self.lock();
            if parent_id != s.root.id && !s.ous.contains_key(parent_id) {
                return Err(not_found("ParentNotFoundException", parent_id));
            }
            let max_name = self.limits.org.max_ou_name_chars.value;
            if name.is_empty() || name.chars().count() > max_name {
                return Err(Error::InvalidInput {
                    reason: if name.is_empty() {
                        "MIN_LENGTH_EXCEEDED"
                    } else {
                        "MAX_LENGTH_EXCEEDED"
                    }
                    .into(),
                    message: format!("OU name must be 1-{max_name} characters"),
                });
            }
            if s.depth_of(parent_id) + 1 > self.limits.org.max_ou_depth.value {
                return Err(constraint(
                    "OU_DEPTH_LIMIT_EXCEEDED",
                    "You have exceeded the limit of OU nesting",
                ));
            }
            if s.ous.len() >= self.limits.org.max_ous.value {
                return Err(constraint(
                    "OU_NUMBER_LIMIT_EXCEEDED",
                    "You have exceeded the number of OUs",
                ));
            }
            if s.ous
                .values()
                .any(|o| o.parent == parent_id && o.name == name)
            {
                return Err(Error::DuplicateOrganizationalUnit(format!(
                    "an OU named {name} already exists in {parent_id}"
                )));
            }
            let n = s.next();
            let root_suffix = s.root.id.trim_start_matches("r-").to_owned();
            let id = format!("ou-{root_suffix}-{n:08x}");
            s.ous.insert(
                id.clone(),
                FakeOu {
                    name: name.into(),
                    parent: parent_id.into(),
                },
            );
            s.attach_defaults(&id);
            Ok(id)
        })
    }

    async fn delete_organizational_unit(&self, ou_id: &str) -> Result<()> {
        self.pace("DeleteOrganizationalUnit").await?;
        self.write(|| {
            let mut s = self.lock();
            if !s.ous.contains_key(ou_id) {
                return Err(not_found("OrganizationalUnitNotFoundException", ou_id));
            }
            if s.ous.values().any(|o| o.parent == ou_id)
                || s.accounts.values().any(|a| a.parent == ou_id)
            {
                return Err(Error::OrganizationalUnitNotEmpty(format!(
                    "{ou_id} has children"
                )));
            }
            s.ous.remove(ou_id);
            for p in s.policies.values_mut() {
                p.targets.remove(ou_id);
            }
            Ok(())
        })
    }

    async fn create_policy(
        &self,
        policy_type: PolicyType,
        name: &str,
        description: &str,
        content: &str,
    ) -> Result<String> {
        self.pace("CreatePolicy").await?;
        self.write(|| {
            self.check_document(policy_type, content)?;
            self.check_description(policy_type, description)?;
            let lim = self.limits.for_type(policy_type);
            let mut s = self.lock();
            if name.is_empty() || name.chars().count() > lim.max_name_chars.value {
                return Err(Error::InvalidInput {
                    reason: "MAX_LENGTH_EXCEEDED".into(),
                    message: "policy name length".into(),
                });
            }
            if s.policies.values().any(|p| p.info.name == name) {
                return Err(Error::DuplicatePolicy(format!(
                    "A policy with the name {name} already exists"
                )));
            }
            let count = s
                .policies
                .values()
                .filter(|p| p.info.policy_type == policy_type && !p.info.aws_managed)
                .count();
            if count >= lim.max_policies_per_org.value {
                return Err(constraint(
                    "POLICY_NUMBER_LIMIT_EXCEEDED",
                    "too many policies",
                ));
            }
            let n = s.next();
            let id = format!("p-{n:08x}");
            s.policies.insert(
                id.clone(),
                FakePolicy {
                    info: PolicyInfo {
                        id: id.clone(),
                        name: name.into(),
                        description: description.into(),
                        policy_type,
                        aws_managed: false,
                    },
                    content: content.into(),
                    targets: BTreeSet::new(),
                },
            );
            Ok(id)
        })
    }

    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> Result<()> {
        self.pace("UpdatePolicy").await?;
        self.write(|| {
            let ty = {
                let s = self.lock();
                let p = s
                    .policies
                    .get(policy_id)
                    .ok_or_else(|| not_found("PolicyNotFoundException", policy_id))?;
                if p.info.aws_managed {
                    return Err(Error::InvalidInput {
                        reason: "IMMUTABLE_POLICY".into(),
                        message: "AWS-managed policies cannot be changed".into(),
                    });
                }
                p.info.policy_type
            };
            if let Some(c) = content {
                self.check_document(ty, c)?;
            }
            if let Some(d) = description {
                self.check_description(ty, d)?;
            }
            let mut s = self.lock();
            let p = s
                .policies
                .get_mut(policy_id)
                .ok_or_else(|| not_found("PolicyNotFoundException", policy_id))?;
            if let Some(c) = content {
                p.content = c.into();
            }
            if let Some(d) = description {
                p.info.description = d.into();
            }
            Ok(())
        })
    }

    async fn delete_policy(&self, policy_id: &str) -> Result<()> {
        self.pace("DeletePolicy").await?;
        self.write(|| {
            let mut s = self.lock();
            let p = s
                .policies
                .get(policy_id)
                .ok_or_else(|| not_found("PolicyNotFoundException", policy_id))?;
            if p.info.aws_managed {
                return Err(Error::InvalidInput {
                    reason: "IMMUTABLE_POLICY".into(),
                    message: "AWS-managed policies cannot be deleted".into(),
                });
            }
            if !p.targets.is_empty() {
                return Err(Error::PolicyInUse(format!(
                    "{policy_id} is attached to {} targets",
                    p.targets.len()
                )));
            }
            s.policies.remove(policy_id);
            Ok(())
        })
    }

    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        self.pace("AttachPolicy").await?;
        self.write(|| {
            let mut s = self.lock();
            let ty = s
                .policies
                .get(policy_id)
                .ok_or_else(|| not_found("PolicyNotFoundException", policy_id))?
                .info
                .policy_type;
            if !s.is_target(target_id) {
                return Err(not_found("TargetNotFoundException", target_id));
            }
            if !s.root.enabled_policy_types.contains(&ty) {
                return Err(Error::PolicyTypeNotEnabled(format!(
                    "{} is not enabled on the root",
                    ty.api_name()
                )));
            }
            if s.policies
                .get(policy_id)
                .is_some_and(|p| p.targets.contains(target_id))
            {
                return Err(Error::DuplicatePolicyAttachment(format!(
                    "{policy_id} is already attached to {target_id}"
                )));
            }
            let max = self.limits.for_type(ty).max_attachments_per_target.value;
            if s.attached_count(target_id, ty) >= max {
                return Err(constraint(
                    "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    format!(
                        "{target_id} already has {max} policies of type {}",
                        ty.api_name()
                    ),
                ));
            }
            if let Some(p) = s.policies.get_mut(policy_id) {
                p.targets.insert(target_id.into());
            }
            Ok(())
        })
    }

    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        self.pace("DetachPolicy").await?;
        self.write(|| {
            let mut s = self.lock();
            let p = s
                .policies
                .get(policy_id)
                .ok_or_else(|| not_found("PolicyNotFoundException", policy_id))?;
            let ty = p.info.policy_type;
            if !s.is_target(target_id) {
                return Err(not_found("TargetNotFoundException", target_id));
            }
            if !p.targets.contains(target_id) {
                return Err(Error::PolicyNotAttached(format!(
                    "{policy_id} is not attached to {target_id}"
                )));
            }
            let lim = self.limits.for_type(ty);
            if p.info.aws_managed
                && Some(p.info.name.as_str()) == lim.aws_managed_policy
                && !lim.aws_managed_detachable
            {
                return Err(Error::InvalidInput {
                    reason: "NON_DETACHABLE_POLICY".into(),
                    message: format!("{} cannot be detached", p.info.name),
                });
            }
            if s.attached_count(target_id, ty) <= lim.min_attachments_per_target.value {
                return Err(constraint(
                    "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                    format!(
                        "{target_id} must keep at least {} policy of type {}",
                        lim.min_attachments_per_target.value,
                        ty.api_name()
                    ),
                ));
            }
            if let Some(p) = s.policies.get_mut(policy_id) {
                p.targets.remove(target_id);
            }
            Ok(())
        })
    }

    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> Result<()> {
        self.pace("MoveAccount").await?;
        self.write(|| {
            let mut s = self.lock();
            let is_parent = |s: &State, id: &str| id == s.root.id || s.ous.contains_key(id);
            if !is_parent(&s, source_parent_id) {
                return Err(not_found("SourceParentNotFoundException", source_parent_id));
            }
            if !is_parent(&s, destination_parent_id) {
                return Err(not_found(
                    "DestinationParentNotFoundException",
                    destination_parent_id,
                ));
            }
            let a = s
                .accounts
                .get_mut(account_id)
                .ok_or_else(|| not_found("AccountNotFoundException", account_id))?;
            if a.parent == destination_parent_id {
                return Err(Error::DuplicateAccount(format!(
                    "{account_id} is already in {destination_parent_id}"
                )));
            }
            if a.parent != source_parent_id {
                return Err(not_found("SourceParentNotFoundException", source_parent_id));
            }
            a.parent = destination_parent_id.into();
            Ok(())
        })
    }

    async fn create_account(&self, name: &str, email: &str) -> Result<String> {
        self.pace("CreateAccount").await?;
        self.write(|| {
            let mut s = self.lock();
            if s.accounts.values().any(|a| a.info.email == email) {
                return Err(constraint(
                    "EMAIL_ALREADY_EXISTS",
                    format!("{email} is in use"),
                ));
            }
            let n = s.next();
            let id = format!("{:012}", 100_000_000_000u64 + n);
            let root = s.root.id.clone();
            s.accounts.insert(
                id.clone(),
                FakeAccount {
                    info: AccountInfo {
                        id: id.clone(),
                        name: name.into(),
                        email: email.into(),
                        state: crate::model::AccountState::Active,
                    },
                    parent: root,
                },
            );
            s.attach_defaults(&id);
            Ok(id)
        })
    }

    async fn list_tags_for_resource(&self, resource_id: &str) -> Result<Vec<(String, String)>> {
        self.pace("ListTagsForResource").await?;
        let s = self.lock();
        if !s.is_target(resource_id) && !s.policies.contains_key(resource_id) {
            return Err(not_found("TargetNotFoundException", resource_id));
        }
        Ok(s.tags
            .get(resource_id)
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    async fn tag_resource(&self, resource_id: &str, key: &str, value: &str) -> Result<()> {
        self.pace("TagResource").await?;
        let mut s = self.lock();
        if !s.is_target(resource_id) && !s.policies.contains_key(resource_id) {
            return Err(not_found("TargetNotFoundException", resource_id));
        }
        if key.starts_with("aws:") {
            return Err(Error::InvalidInput {
                reason: "INVALID_SYSTEM_TAGS_PARAMETER".into(),
                message: "aws: tags are reserved".into(),
            });
        }
        let tags = s.tags.entry(resource_id.to_owned()).or_default();
        if !tags.contains_key(key) && tags.len() >= self.limits.org.max_tags_per_resource.value {
            return Err(constraint("MAX_TAG_LIMIT_EXCEEDED", "too many tags"));
        }
        tags.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    async fn untag_resource(&self, resource_id: &str, key: &str) -> Result<()> {
        self.pace("UntagResource").await?;
        let mut s = self.lock();
        if !s.is_target(resource_id) && !s.policies.contains_key(resource_id) {
            return Err(not_found("TargetNotFoundException", resource_id));
        }
        if let Some(t) = s.tags.get_mut(resource_id) {
            t.remove(key);
        }
        Ok(())
    }

    async fn disable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()> {
        self.disable_type(root_id, policy_type).await
    }

    async fn list_accounts_with_invalid_effective_policy(
        &self,
        ty: PolicyType,
    ) -> Result<Vec<AccountInfo>> {
        self.invalid_accounts(ty).await
    }

    async fn list_effective_policy_validation_errors(
        &self,
        account_id: &str,
        ty: PolicyType,
    ) -> Result<Vec<crate::model::EffectivePolicyError>> {
        self.validation_errors(account_id, ty).await
    }

    fn stats(&self) -> RequestStats {
        self.counter.snapshot()
    }
}
