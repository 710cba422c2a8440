//! The SDK side of [`IamBackend`]: AssumeRole into each member account's role, one IAM client
//! per account and role, a semaphore bounding the IAM requests in flight, the SDK's adaptive
//! retry mode (from the shared config) for IAM's throttling. Translation only.
//!
//! Credentials come from the SDK's refreshing [`AssumeRoleProvider`], built from the
//! management account's config (same credentials, region, endpoint and retry settings), behind
//! each client's identity cache: the cache asks the provider again shortly before the assumed
//! credentials expire, so a boundary run longer than the session (an hour) keeps working. The
//! role ARN is built in the organization's partition (`aws`, `aws-us-gov`, `aws-cn`), as the
//! root's ARN gives it.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::sts::AssumeRoleProvider;
use aws_config::SdkConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials};
use aws_sdk_iam as iam;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_async::time::SharedTimeSource;
use tokio::sync::{Mutex, Semaphore};

use super::iam::{decode_document, IamAccount, IamBackend, IamPolicyState, RoleInfo};
use super::stats::Counter;
use super::{Error, RequestStats, Result};

/// The session name member-account sessions carry (CloudTrail shows it in the member account).
pub const SESSION_NAME: &str = "guardrail";

/// IAM across member accounts through the SDK.
#[derive(Debug, Clone)]
pub struct AwsIam {
    base: SdkConfig,
    partition: String,
    clients: Arc<Mutex<HashMap<IamAccount, iam::Client>>>,
    counter: Counter,
    lanes: Arc<Semaphore>,
}

/// The ARN of the role assumed in a member account, in the organization's partition.
pub fn role_arn(partition: &str, account: &IamAccount) -> String {
    format!("arn:{partition}:iam::{}:role/{}", account.id, account.role)
}

/// Why AssumeRole into a member account failed. It travels inside the SDK's credentials error
/// to the IAM call that needed the credentials, where [`map_err`] finds it again.
#[derive(Debug, thiserror::Error)]
#[error("cannot assume {role_arn} in account {account}: {error}")]
struct AssumeFailed {
    role_arn: String,
    account: String,
    error: Error,
}

impl AssumeFailed {
    /// The error the IAM call reports: AWS's kind, the message naming role and account.
    fn to_error(&self) -> Error {
        let context = |m: &str| {
            format!(
                "cannot assume {} in account {}: {m}",
                self.role_arn, self.account
            )
        };
        match &self.error {
            Error::AccessDenied(m) => Error::AccessDenied(context(m)),
            Error::Transport(m) => Error::Transport(context(m)),
            other => other.clone(),
        }
    }
}

/// The first error of type `T` in `err`'s source chain (`err` included).
fn find_in_chain<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

/// One member account's credentials: the SDK's [`AssumeRoleProvider`] (one STS AssumeRole per
/// call; the IAM client's identity cache decides when to call, which is again before expiry),
/// counting each AssumeRole in the stats and turning a refusal into [`AssumeFailed`].
#[derive(Debug)]
struct MemberCredentials {
    provider: AssumeRoleProvider,
    role_arn: String,
    account: String,
    counter: Counter,
}

impl MemberCredentials {
    async fn assume(&self) -> aws_credential_types::provider::Result {
        self.counter.bump("sts:AssumeRole");
        self.provider.provide_credentials().await.map_err(|e| {
            let error = match find_in_chain::<SdkError<AssumeRoleError>>(&e) {
                Some(sts @ SdkError::ServiceError(_)) => Error::from_code(
                    sts.code().unwrap_or("UnknownError"),
                    sts.message().unwrap_or_default(),
                ),
                _ => Error::Transport(iam::error::DisplayErrorContext(&e).to_string()),
            };
            CredentialsError::provider_error(AssumeFailed {
                role_arn: self.role_arn.clone(),
                account: self.account.clone(),
                error,
            })
        })
    }
}

impl ProvideCredentials for MemberCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.assume())
    }
}

/// A config with a time source: `AssumeRoleProvider::build` requires one (it panics without
/// one); a config from `aws_config::load` always has one, a hand-built one may not, so it gets
/// the system clock.
pub(super) fn with_time_source(base: &SdkConfig) -> SdkConfig {
    if base.time_source().is_some() {
        base.clone()
    } else {
        base.to_builder()
            .time_source(SharedTimeSource::default())
            .build()
    }
}

/// Credentials for `account.role` in a member account, for any client built from `base` (IAM,
/// CloudTrail): the SDK's refreshing AssumeRole provider, each AssumeRole counted in `counter`.
/// Nothing is sent until a client first needs them. `base` must have a time source
/// ([`with_time_source`]).
pub(super) async fn member_credentials(
    base: &SdkConfig,
    partition: &str,
    account: &IamAccount,
    counter: &Counter,
) -> impl ProvideCredentials + 'static {
    let role_arn = role_arn(partition, account);
    let provider = AssumeRoleProvider::builder(&role_arn)
        .configure(base)
        .session_name(SESSION_NAME)
        .build()
        .await;
    MemberCredentials {
        provider,
        role_arn,
        account: account.id.clone(),
        counter: counter.clone(),
    }
}

/// AWS's answers by error code, everything else by its class (`sdk_error`).
pub(super) fn map_err<E>(
    err: SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(f) = find_in_chain::<AssumeFailed>(&err) {
        return f.to_error();
    }
    super::sdk_error::map_sdk_error(err)
}

impl AwsIam {
    /// IAM in the member accounts of an organization in `partition` (from the root's ARN:
    /// `aws`, `aws-us-gov`, `aws-cn`), with the management account's config as the base.
    pub fn new(base: &SdkConfig, partition: &str, concurrency: usize) -> Self {
        AwsIam {
            base: with_time_source(base),
            // An empty partition is a snapshot not read by a walk: the commercial one.
            partition: if partition.is_empty() {
                "aws"
            } else {
                partition
            }
            .to_owned(),
            clients: Arc::new(Mutex::new(HashMap::new())),
            counter: Counter::default(),
            lanes: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// The IAM client for an account: one per account and role, whose credentials come from a
    /// refreshing AssumeRole provider (nothing is sent until the first IAM request).
    async fn client(&self, account: &IamAccount) -> Result<iam::Client> {
        // Held across the build (no request is made there), so two tasks never build two
        // providers for one account.
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(account) {
            return Ok(c.clone());
        }
        let creds = member_credentials(&self.base, &self.partition, account, &self.counter).await;
        let conf = iam::config::Builder::from(&self.base)
            .credentials_provider(creds)
            .retry_classifier(super::sdk_error::DeadEndpointClassifier)
            .interceptor(super::sdk_error::RetryNotifier::for_config(&self.base))
            .build();
        let client = iam::Client::from_conf(conf);
        clients.insert(account.clone(), client.clone());
        Ok(client)
    }

    async fn lane(&self, op: &str) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.counter.bump(op);
        self.lanes.acquire().await.ok()
    }
}

#[async_trait]
impl IamBackend for AwsIam {
    async fn get_policy(&self, account: &IamAccount, arn: &str) -> Result<Option<IamPolicyState>> {
        let c = self.client(account).await?;
        let got = {
            let _l = self.lane("iam:GetPolicy").await;
            c.get_policy().policy_arn(arn).send().await
        };
        let policy = match got {
            Ok(o) => o,
            Err(e) => {
                return match map_err(e) {
                    Error::NotFound { .. } => Ok(None),
                    other => Err(other),
                }
            }
        };
        let version = policy
            .policy()
            .and_then(|p| p.default_version_id())
            .unwrap_or("v1")
            .to_owned();
        let _l = self.lane("iam:GetPolicyVersion").await;
        let v = c
            .get_policy_version()
            .policy_arn(arn)
            .version_id(&version)
            .send()
            .await
            .map_err(map_err)?;
        let document = decode_document(
            v.policy_version()
                .and_then(|p| p.document())
                .unwrap_or_default(),
        );
        Ok(Some(IamPolicyState {
            arn: arn.to_owned(),
            default_version: version,
            document,
        }))
    }

    async fn list_policy_versions(
        &self,
        account: &IamAccount,
        arn: &str,
    ) -> Result<Vec<(String, bool)>> {
        let c = self.client(account).await?;
        let _l = self.lane("iam:ListPolicyVersions").await;
        let out = c
            .list_policy_versions()
            .policy_arn(arn)
            .send()
            .await
            .map_err(map_err)?;
        let mut v: Vec<(String, bool)> = out
            .versions()
            .iter()
            .map(|v| {
                (
                    v.version_id().unwrap_or_default().to_owned(),
                    v.is_default_version(),
                )
            })
            .collect();
        v.sort_by_key(|(id, _)| id.trim_start_matches('v').parse::<u64>().unwrap_or(0));
        Ok(v)
    }

    async fn create_policy(
        &self,
        account: &IamAccount,
        name: &str,
        path: &str,
        document: &str,
    ) -> Result<String> {
        let c = self.client(account).await?;
        let _l = self.lane("iam:CreatePolicy").await;
        let out = c
            .create_policy()
            .policy_name(name)
            .path(path)
            .policy_document(document)
            .description("Permissions boundary kept by guardrail")
            .send()
            .await
            .map_err(map_err)?;
        Ok(out
            .policy()
            .and_then(|p| p.arn())
            .unwrap_or_default()
            .to_owned())
    }

    async fn create_policy_version(
        &self,
        account: &IamAccount,
        arn: &str,
        document: &str,
    ) -> Result<String> {
        let c = self.client(account).await?;
        let _l = self.lane("iam:CreatePolicyVersion").await;
        let out = c
            .create_policy_version()
            .policy_arn(arn)
            .policy_document(document)
            .set_as_default(true)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out
            .policy_version()
            .and_then(|v| v.version_id())
            .unwrap_or_default()
            .to_owned())
    }

    async fn delete_policy_version(
        &self,
        account: &IamAccount,
        arn: &str,
        version: &str,
    ) -> Result<()> {
        let c = self.client(account).await?;
        let _l = self.lane("iam:DeletePolicyVersion").await;
        c.delete_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn list_roles_with_boundaries(&self, account: &IamAccount) -> Result<Vec<RoleInfo>> {
        let c = self.client(account).await?;
        let mut out = Vec::new();
        let mut pages = c
            .get_account_authorization_details()
            .filter(iam::types::EntityType::Role)
            .filter(iam::types::EntityType::User)
            .into_paginator()
            .send();
        loop {
            let page = {
                let _l = self.lanes.acquire().await.ok();
                pages.next().await
            };
            let Some(page) = page else { break };
            self.counter.bump("iam:GetAccountAuthorizationDetails");
            let page = page.map_err(map_err)?;
            for u in page.user_detail_list() {
                out.push(RoleInfo {
                    name: u.user_name().unwrap_or_default().to_owned(),
                    path: u.path().unwrap_or("/").to_owned(),
                    arn: u.arn().unwrap_or_default().to_owned(),
                    boundary: u
                        .permissions_boundary()
                        .and_then(|b| b.permissions_boundary_arn())
                        .map(str::to_owned),
                    is_user: true,
                });
            }
            for r in page.role_detail_list() {
                out.push(RoleInfo {
                    is_user: false,
                    name: r.role_name().unwrap_or_default().to_owned(),
                    path: r.path().unwrap_or("/").to_owned(),
                    arn: r.arn().unwrap_or_default().to_owned(),
                    boundary: r
                        .permissions_boundary()
                        .and_then(|b| b.permissions_boundary_arn())
                        .map(str::to_owned),
                });
            }
        }
        Ok(out)
    }

    async fn put_role_permissions_boundary(
        &self,
        account: &IamAccount,
        role: &str,
        boundary_arn: &str,
    ) -> Result<()> {
        let c = self.client(account).await?;
        let _l = self.lane("iam:PutRolePermissionsBoundary").await;
        c.put_role_permissions_boundary()
            .role_name(role)
            .permissions_boundary(boundary_arn)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn stats(&self) -> RequestStats {
        self.counter.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str) -> IamAccount {
        IamAccount {
            id: id.into(),
            role: "OrganizationAccountAccessRole".into(),
        }
    }

    #[test]
    fn role_arns_are_in_the_organizations_partition() {
        for partition in ["aws", "aws-us-gov", "aws-cn"] {
            assert_eq!(
                role_arn(partition, &member("210987654321")),
                format!("arn:{partition}:iam::210987654321:role/OrganizationAccountAccessRole")
            );
        }
        let base = SdkConfig::builder().build();
        assert_eq!(AwsIam::new(&base, "aws-us-gov", 1).partition, "aws-us-gov");
        // A snapshot not read by a walk has no partition: the commercial one.
        assert_eq!(AwsIam::new(&base, "", 1).partition, "aws");
        // A config without a clock gets one, which the AssumeRole provider requires.
        assert!(AwsIam::new(&base, "aws", 1).base.time_source().is_some());
    }

    /// A refused AssumeRole reaches the IAM call's error as AWS's kind, naming role and account.
    #[test]
    fn a_refused_assume_role_names_the_role_and_account() {
        let failed = AssumeFailed {
            role_arn: "arn:aws-cn:iam::210987654321:role/R".into(),
            account: "210987654321".into(),
            error: Error::AccessDenied("not authorized to perform sts:AssumeRole".into()),
        };
        let wrapped = CredentialsError::provider_error(failed);
        let found = find_in_chain::<AssumeFailed>(&wrapped).map(AssumeFailed::to_error);
        assert_eq!(
            found,
            Some(Error::AccessDenied(
                "cannot assume arn:aws-cn:iam::210987654321:role/R in account 210987654321: not authorized to perform sts:AssumeRole".into()
            ))
        );
        let throttled = AssumeFailed {
            role_arn: "r".into(),
            account: "1".into(),
            error: Error::TooManyRequests("slow down".into()),
        };
        assert!(throttled.to_error().is_transient());
    }
}
