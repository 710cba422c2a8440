//! An in-memory organization that behaves like AWS Organizations, including the rules moto
//! skips: the last SCP on a target cannot be detached, attachments per target and document
//! size are capped by the limits table, attaching twice or detaching what is not attached
//! fails, OU depth and duplicate sibling names are refused, non-empty OUs cannot be deleted,
//! AWS-managed policies are immutable, a policy in use cannot be deleted, and MoveAccount
//! checks its source parent. Errors are the same [`Error`] kinds AWS raises.
//!
//! Listings count one request per page of [`PAGE_SIZE`](super::walk::PAGE_SIZE), like AWS.
//!
//! The requests are served in `reads.rs`, `tree.rs` (OUs and accounts), `policies.rs`,
//! `tags.rs` and `mgmt.rs` (management types); the rules they share in `rules.rs`; test
//! support in `faults.rs`.

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
mod policies;
mod reads;
mod rules;
mod tags;
mod tree;

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

/// Each operation is `serve_<operation>` in `reads.rs`, `tree.rs`, `policies.rs` or `tags.rs`,
/// or one of `mgmt.rs`.
#[async_trait]
impl OrgBackend for FakeOrg {
    async fn list_roots(&self) -> Result<Vec<RootInfo>> {
        self.serve_list_roots().await
    }

    async fn list_organizational_units_for_parent(&self, parent_id: &str) -> Result<Vec<OuInfo>> {
        self.serve_list_organizational_units_for_parent(parent_id)
            .await
    }

    async fn list_accounts_for_parent(&self, parent_id: &str) -> Result<Vec<AccountInfo>> {
        self.serve_list_accounts_for_parent(parent_id).await
    }

    async fn list_accounts_with_paths(&self) -> Result<Option<Vec<super::PlacedAccount>>> {
        self.serve_list_accounts_with_paths().await
    }

    async fn list_policies(&self, policy_type: PolicyType) -> Result<Vec<PolicyInfo>> {
        self.serve_list_policies(policy_type).await
    }

    async fn describe_policy(&self, policy_id: &str) -> Result<String> {
        self.serve_describe_policy(policy_id).await
    }

    async fn list_targets_for_policy(&self, policy_id: &str) -> Result<Vec<String>> {
        self.serve_list_targets_for_policy(policy_id).await
    }

    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()> {
        self.serve_enable_policy_type(root_id, policy_type).await
    }

    async fn create_organizational_unit(&self, parent_id: &str, name: &str) -> Result<String> {
        self.serve_create_organizational_unit(parent_id, name).await
    }

    async fn delete_organizational_unit(&self, ou_id: &str) -> Result<()> {
        self.serve_delete_organizational_unit(ou_id).await
    }

    async fn create_policy(
        &self,
        policy_type: PolicyType,
        name: &str,
        description: &str,
        content: &str,
    ) -> Result<String> {
        self.serve_create_policy(policy_type, name, description, content)
            .await
    }

    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> Result<()> {
        self.serve_update_policy(policy_id, description, content)
            .await
    }

    async fn delete_policy(&self, policy_id: &str) -> Result<()> {
        self.serve_delete_policy(policy_id).await
    }

    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        self.serve_attach_policy(policy_id, target_id).await
    }

    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        self.serve_detach_policy(policy_id, target_id).await
    }

    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> Result<()> {
        self.serve_move_account(account_id, source_parent_id, destination_parent_id)
            .await
    }

    async fn create_account(&self, name: &str, email: &str) -> Result<String> {
        self.serve_create_account(name, email).await
    }

    async fn list_tags_for_resource(&self, resource_id: &str) -> Result<Vec<(String, String)>> {
        self.serve_list_tags_for_resource(resource_id).await
    }

    async fn tag_resource(&self, resource_id: &str, key: &str, value: &str) -> Result<()> {
        self.serve_tag_resource(resource_id, key, value).await
    }

    async fn untag_resource(&self, resource_id: &str, key: &str) -> Result<()> {
        self.serve_untag_resource(resource_id, key).await
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
