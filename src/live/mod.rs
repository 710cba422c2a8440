//! Everything that talks to AWS, behind the [`OrgBackend`] trait: the SDK implementation
//! ([`aws::AwsBackend`]), an in-memory fake that enforces AWS's rules the way AWS does
//! ([`fake::FakeOrg`]), and the walk that reads a whole organization with the fewest requests
//! ([`read_organization`]).
//!
//! Architecture invariant: this is the only module that knows the AWS SDK. It speaks `model`
//! types outward and makes no decisions: what to change is `plan`'s job.

pub mod access_report;
pub mod access_report_aws;
pub mod access_report_fake;
pub mod aws;
pub mod cloudtrail;
pub mod cloudtrail_aws;
pub mod cloudtrail_fake;
pub mod demo;
pub mod effective_check;
pub mod endpoint;
mod error;
pub mod fake;
pub mod iam;
pub mod iam_aws;
pub mod iam_fake;
pub mod limiter;
mod sdk_error;
mod stats;
mod walk;
pub mod world;

pub use error::{classify, Error, ErrorClass, Unreachable};
pub use sdk_error::{check_profile, on_sdk_retry, CredentialSource, SdkRetry};
pub use stats::RequestStats;
pub use walk::{
    read_organization, request_budget, the_root, walk_requests, ReadPath, WalkEstimate, WalkOptions,
};

use async_trait::async_trait;

use crate::model::PolicyType;

pub type Result<T> = std::result::Result<T, Error>;

/// The longest one write may take: `create_account` waits this long, at most, for AWS's
/// asynchronous account creation to finish (polling `DescribeCreateAccountStatus`). The
/// apply lock is kept at least one and a half times as long for that write
/// (`lock::Guarded`).
pub const CREATE_ACCOUNT_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// A root as `ListRoots` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootInfo {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub enabled_policy_types: Vec<PolicyType>,
}

impl RootInfo {
    /// The management account id and organization id, read from the root ARN
    /// (`arn:aws:organizations::<management-account>:root/<org-id>/<root-id>`), which saves a
    /// `DescribeOrganization` call.
    pub fn owner(&self) -> Option<(String, String)> {
        let mut parts = self.arn.splitn(6, ':');
        let (_arn, _partition, _svc, _region) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let account = parts.next()?;
        let resource = parts.next()?;
        let org = resource.strip_prefix("root/")?.split('/').next()?;
        Some((account.to_owned(), org.to_owned()))
    }

    /// The AWS partition (`aws`, `aws-us-gov`, `aws-cn`, ...), the ARN's second field, which
    /// every ARN guardrail builds for this organization must use.
    pub fn partition(&self) -> Option<&str> {
        let mut parts = self.arn.split(':');
        (parts.next()? == "arn")
            .then(|| parts.next())
            .flatten()
            .filter(|p| !p.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuInfo {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    pub id: String,
    pub name: String,
    pub email: String,
    pub state: crate::model::AccountState,
}

/// An account as `ListAccounts` returns it, with its parent read from its `Paths`
/// (`o-x/r-y/ou-a/ou-b/111122223333/`, returned since 2026-03-31).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedAccount {
    pub info: AccountInfo,
    pub parent_id: String,
}

impl PlacedAccount {
    /// The parent named by an account's path: the id before the account's own id.
    pub fn parent_from_path(account_id: &str, path: &str) -> Option<String> {
        let mut ids = path.split('/').filter(|s| !s.is_empty()).rev();
        (ids.next()? == account_id)
            .then(|| ids.next())
            .flatten()
            .map(str::to_owned)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo {
    pub id: String,
    pub name: String,
    pub description: String,
    pub policy_type: PolicyType,
    pub aws_managed: bool,
}

/// The Organizations operations guardrail uses. Listing methods return every page; each
/// implementation counts one request per page in [`OrgBackend::stats`].
#[async_trait]
pub trait OrgBackend: Send + Sync {
    async fn list_roots(&self) -> Result<Vec<RootInfo>>;
    async fn list_organizational_units_for_parent(&self, parent_id: &str) -> Result<Vec<OuInfo>>;
    async fn list_accounts_for_parent(&self, parent_id: &str) -> Result<Vec<AccountInfo>>;
    /// Every account of the organization with its parent (`ListAccounts`, every page), or
    /// `None` as soon as a page answers an account without `Paths` (an emulator, or a service
    /// that does not return them yet): the caller then reads placement per parent. The
    /// default is `None` without a request.
    async fn list_accounts_with_paths(&self) -> Result<Option<Vec<PlacedAccount>>> {
        Ok(None)
    }
    async fn list_policies(&self, policy_type: PolicyType) -> Result<Vec<PolicyInfo>>;
    /// The policy's content.
    async fn describe_policy(&self, policy_id: &str) -> Result<String>;
    /// Ids of the roots, OUs and accounts the policy is attached to.
    async fn list_targets_for_policy(&self, policy_id: &str) -> Result<Vec<String>>;

    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()>;
    async fn create_organizational_unit(&self, parent_id: &str, name: &str) -> Result<String>;
    async fn delete_organizational_unit(&self, ou_id: &str) -> Result<()>;
    /// Creates a policy; returns its id.
    async fn create_policy(
        &self,
        policy_type: PolicyType,
        name: &str,
        description: &str,
        content: &str,
    ) -> Result<String>;
    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> Result<()>;
    async fn delete_policy(&self, policy_id: &str) -> Result<()>;
    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> Result<()>;
    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> Result<()>;
    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> Result<()>;
    /// Creates an account and waits for it; returns its id.
    async fn create_account(&self, name: &str, email: &str) -> Result<String>;

    /// Tags of a root, OU, account or policy (`ListTagsForResource`, every page).
    async fn list_tags_for_resource(&self, resource_id: &str) -> Result<Vec<(String, String)>>;
    async fn tag_resource(&self, resource_id: &str, key: &str, value: &str) -> Result<()>;
    async fn untag_resource(&self, resource_id: &str, key: &str) -> Result<()>;

    /// The disabling of a policy type on the root; waits until AWS reports it disabled.
    /// AWS detaches every policy of the type everywhere.
    async fn disable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()>;

    /// Accounts whose effective policy of a management type AWS found invalid
    /// (`ListAccountsWithInvalidEffectivePolicy`, every page). SCPs and RCPs have no
    /// effective policy: InvalidInputException.
    async fn list_accounts_with_invalid_effective_policy(
        &self,
        policy_type: PolicyType,
    ) -> Result<Vec<AccountInfo>>;
    /// What is invalid in one account's effective policy of a type
    /// (`ListEffectivePolicyValidationErrors`, every page).
    async fn list_effective_policy_validation_errors(
        &self,
        account_id: &str,
        policy_type: PolicyType,
    ) -> Result<Vec<crate::model::EffectivePolicyError>>;

    /// Requests made so far, by operation (one per page).
    fn stats(&self) -> RequestStats;
}
