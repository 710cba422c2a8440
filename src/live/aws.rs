//! The SDK backend: one Organizations client built from the standard credential and region
//! chain (profile, region, `--endpoint-url` / `AWS_ENDPOINT_URL`), the SDK's adaptive retry
//! mode, paginators for every listing (pages of 20, AWS's maximum), and one semaphore that
//! bounds the Organizations requests in flight. Translation only: errors become
//! [`Error`] by AWS error code, results become `model`-level infos.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_organizations as org;
use aws_sdk_organizations::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use tokio::sync::Semaphore;

use super::limiter::RateLimiter;
use super::stats::Counter;
use super::{AccountInfo, Error, OrgBackend, OuInfo, PolicyInfo, RequestStats, Result, RootInfo};
use crate::model::PolicyType;

/// How to reach AWS (or an emulator).
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Attempts per request, first included (the SDK's adaptive retry mode).
    pub max_attempts: Option<u32>,
    /// Organizations requests in flight at once.
    pub concurrency: usize,
    /// Multiplies AWS's documented request rates (1.0 against AWS; an emulator can take more).
    pub rate_scale: f64,
}

/// Organizations is a global service homed in us-east-1; used when no region is configured.
const ORGANIZATIONS_HOME_REGION: &str = "us-east-1";

/// Builds the shared SDK configuration.
pub async fn sdk_config(opts: &ConnectOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(opts.max_attempts.unwrap_or(8)));
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(e) = &opts.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    let conf = loader.load().await;
    if conf.region().is_some() {
        conf
    } else {
        conf.into_builder()
            .region(Region::from_static(ORGANIZATIONS_HOME_REGION))
            .build()
    }
}

/// The Organizations backend over the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsBackend {
    conf: SdkConfig,
    client: org::Client,
    counter: Counter,
    lanes: Arc<Semaphore>,
    limiter: Arc<RateLimiter>,
}

impl AwsBackend {
    /// A backend paced at AWS's documented rates.
    pub fn new(conf: &SdkConfig, concurrency: usize) -> Self {
        Self::with_limiter(conf, concurrency, Arc::new(RateLimiter::aws()))
    }

    /// A backend sharing `limiter` with other users of the same account.
    pub fn with_limiter(conf: &SdkConfig, concurrency: usize, limiter: Arc<RateLimiter>) -> Self {
        AwsBackend {
            conf: conf.clone(),
            client: org::Client::new(conf),
            counter: Counter::default(),
            lanes: Arc::new(Semaphore::new(concurrency.max(1))),
            limiter,
        }
    }

    /// The shared SDK configuration (for the IAM and STS clients).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.conf
    }

    pub async fn connect(opts: &ConnectOptions) -> Self {
        let conf = sdk_config(opts).await;
        let scale = if opts.rate_scale > 0.0 {
            opts.rate_scale
        } else {
            1.0
        };
        Self::with_limiter(
            &conf,
            opts.concurrency,
            Arc::new(RateLimiter::scaled(scale)),
        )
    }

    /// Takes a lane and counts the request.
    async fn lane(&self, op: &str) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.limiter.acquire(op).await;
        self.counter.bump(op);
        self.permit().await
    }

    /// The next page of a paginated listing, fetched within a lane and counted as one request
    /// of `op`; `None` when the listing is done.
    async fn next_page<O, E>(
        &self,
        pages: &mut aws_smithy_async::future::pagination_stream::PaginationStream<
            std::result::Result<
                O,
                SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
            >,
        >,
        op: &str,
    ) -> Option<Result<O>>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.limiter.acquire(op).await;
        let _lane = self.permit().await;
        let page = pages.next().await?;
        self.counter.bump(op);
        Some(page.map_err(map_err))
    }

    /// Takes a lane. The semaphore is never closed, so this is always `Some`; were it ever
    /// `None`, running without the bound would still be correct, only less polite.
    async fn permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.lanes.acquire().await.ok()
    }
}

/// Maps an SDK error to [`Error`] by its AWS error code.
fn map_err<E, R>(err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(_) => {
            let code = err.code().unwrap_or("UnknownError").to_owned();
            let message = err.message().unwrap_or_default().to_owned();
            Error::from_code(&code, &message)
        }
        _ => Error::Transport(DisplayErrorContext(&err).to_string()),
    }
}

fn sdk_type(t: PolicyType) -> org::types::PolicyType {
    org::types::PolicyType::from(t.api_name())
}

const PAGE: i32 = super::walk::PAGE_SIZE as i32;

#[async_trait]
impl OrgBackend for AwsBackend {
    async fn list_roots(&self) -> Result<Vec<RootInfo>> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_roots()
            .max_results(PAGE)
            .into_paginator()
            .send();
        while let Some(page) = self.next_page(&mut pages, "ListRoots").await {
            for r in page?.roots() {
                out.push(RootInfo {
                    id: r.id().unwrap_or_default().to_owned(),
                    arn: r.arn().unwrap_or_default().to_owned(),
                    name: r.name().unwrap_or_default().to_owned(),
                    enabled_policy_types: r
                        .policy_types()
                        .iter()
                        .filter(|t| t.status() == Some(&org::types::PolicyTypeStatus::Enabled))
                        .filter_map(|t| {
                            t.r#type()
                                .and_then(|t| PolicyType::from_api_name(t.as_str()))
                        })
                        .collect(),
                });
            }
        }
        Ok(out)
    }

    async fn list_organizational_units_for_parent(&self, parent_id: &str) -> Result<Vec<OuInfo>> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_organizational_units_for_parent()
            .parent_id(parent_id)
            .max_results(PAGE)
            .into_paginator()
            .send();
        while let Some(page) = self
            .next_page(&mut pages, "ListOrganizationalUnitsForParent")
            .await
        {
            for o in page?.organizational_units() {
                out.push(OuInfo {
                    id: o.id().unwrap_or_default().to_owned(),
                    name: o.name().unwrap_or_default().to_owned(),
                });
            }
        }
        Ok(out)
    }

    async fn list_accounts_for_parent(&self, parent_id: &str) -> Result<Vec<AccountInfo>> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_accounts_for_parent()
            .parent_id(parent_id)
            .max_results(PAGE)
            .into_paginator()
            .send();
        while let Some(page) = self.next_page(&mut pages, "ListAccountsForParent").await {
            for a in page?.accounts() {
                // `State` since 2026; emulators (moto) still answer only the retired `Status`.
                #[allow(deprecated)]
                let state = a
                    .state()
                    .map(|s| s.as_str())
                    .or_else(|| a.status().map(|s| s.as_str()))
                    .and_then(crate::model::AccountState::from_api_name)
                    .unwrap_or_default();
                out.push(AccountInfo {
                    id: a.id().unwrap_or_default().to_owned(),
                    name: a.name().unwrap_or_default().to_owned(),
                    email: a.email().unwrap_or_default().to_owned(),
                    state,
                });
            }
        }
        Ok(out)
    }

    async fn list_policies(&self, policy_type: PolicyType) -> Result<Vec<PolicyInfo>> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_policies()
            .filter(sdk_type(policy_type))
            .max_results(PAGE)
            .into_paginator()
            .send();
        while let Some(page) = self.next_page(&mut pages, "ListPolicies").await {
            for p in page?.policies() {
                out.push(PolicyInfo {
                    id: p.id().unwrap_or_default().to_owned(),
                    name: p.name().unwrap_or_default().to_owned(),
                    description: p.description().unwrap_or_default().to_owned(),
                    policy_type,
                    aws_managed: p.aws_managed(),
                });
            }
        }
        Ok(out)
    }

    async fn describe_policy(&self, policy_id: &str) -> Result<String> {
        let _lane = self.lane("DescribePolicy").await;
        let out = self
            .client
            .describe_policy()
            .policy_id(policy_id)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out
            .policy()
            .and_then(|p| p.content())
            .unwrap_or_default()
            .to_owned())
    }

    async fn list_targets_for_policy(&self, policy_id: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_targets_for_policy()
            .policy_id(policy_id)
            .max_results(PAGE)
            .into_paginator()
            .send();
        while let Some(page) = self.next_page(&mut pages, "ListTargetsForPolicy").await {
            for t in page?.targets() {
                if let Some(id) = t.target_id() {
                    out.push(id.to_owned());
                }
            }
        }
        Ok(out)
    }

    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()> {
        let _lane = self.lane("EnablePolicyType").await;
        self.client
            .enable_policy_type()
            .root_id(root_id)
            .policy_type(sdk_type(policy_type))
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn create_organizational_unit(&self, parent_id: &str, name: &str) -> Result<String> {
        let _lane = self.lane("CreateOrganizationalUnit").await;
        let out = self
            .client
            .create_organizational_unit()
            .parent_id(parent_id)
            .name(name)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out
            .organizational_unit()
            .and_then(|o| o.id())
            .unwrap_or_default()
            .to_owned())
    }

    async fn delete_organizational_unit(&self, ou_id: &str) -> Result<()> {
        let _lane = self.lane("DeleteOrganizationalUnit").await;
        self.client
            .delete_organizational_unit()
            .organizational_unit_id(ou_id)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn create_policy(
        &self,
        policy_type: PolicyType,
        name: &str,
        description: &str,
        content: &str,
    ) -> Result<String> {
        let _lane = self.lane("CreatePolicy").await;
        let out = self
            .client
            .create_policy()
            .r#type(sdk_type(policy_type))
            .name(name)
            .description(description)
            .content(content)
            .send()
            .await
            .map_err(map_err)?;
        Ok(out
            .policy()
            .and_then(|p| p.policy_summary())
            .and_then(|s| s.id())
            .unwrap_or_default()
            .to_owned())
    }

    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> Result<()> {
        let _lane = self.lane("UpdatePolicy").await;
        self.client
            .update_policy()
            .policy_id(policy_id)
            .set_description(description.map(str::to_owned))
            .set_content(content.map(str::to_owned))
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_policy(&self, policy_id: &str) -> Result<()> {
        let _lane = self.lane("DeletePolicy").await;
        self.client
            .delete_policy()
            .policy_id(policy_id)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        let _lane = self.lane("AttachPolicy").await;
        self.client
            .attach_policy()
            .policy_id(policy_id)
            .target_id(target_id)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        let _lane = self.lane("DetachPolicy").await;
        self.client
            .detach_policy()
            .policy_id(policy_id)
            .target_id(target_id)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> Result<()> {
        let _lane = self.lane("MoveAccount").await;
        self.client
            .move_account()
            .account_id(account_id)
            .source_parent_id(source_parent_id)
            .destination_parent_id(destination_parent_id)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn create_account(&self, name: &str, email: &str) -> Result<String> {
        let status = {
            let _lane = self.lane("CreateAccount").await;
            self.client
                .create_account()
                .account_name(name)
                .email(email)
                .send()
                .await
                .map_err(map_err)?
        };
        let mut st = status.create_account_status().cloned();
        // CreateAccount is asynchronous on AWS: poll with backoff, for at most ~10 minutes.
        let mut delay = Duration::from_millis(500);
        for _ in 0..40 {
            let Some(s) = &st else { break };
            match s.state() {
                Some(org::types::CreateAccountState::Succeeded) => {
                    return Ok(s.account_id().unwrap_or_default().to_owned());
                }
                Some(org::types::CreateAccountState::Failed) => {
                    return Err(Error::ConstraintViolation {
                        reason: s
                            .failure_reason()
                            .map(|r| r.as_str().to_owned())
                            .unwrap_or_else(|| "UNKNOWN".into()),
                        message: format!("CreateAccount for {email} failed"),
                    });
                }
                _ => {}
            }
            let request_id = s.id().unwrap_or_default().to_owned();
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(15));
            let _lane = self.lane("DescribeCreateAccountStatus").await;
            st = self
                .client
                .describe_create_account_status()
                .create_account_request_id(request_id)
                .send()
                .await
                .map_err(map_err)?
                .create_account_status()
                .cloned();
        }
        Err(Error::Service {
            code: "CreateAccountTimeout".into(),
            message: format!("account creation for {email} is still in progress"),
        })
    }

    async fn list_tags_for_resource(&self, resource_id: &str) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_tags_for_resource()
            .resource_id(resource_id)
            .into_paginator()
            .send();
        while let Some(page) = self.next_page(&mut pages, "ListTagsForResource").await {
            for t in page?.tags() {
                out.push((t.key().to_owned(), t.value().to_owned()));
            }
        }
        Ok(out)
    }

    async fn tag_resource(&self, resource_id: &str, key: &str, value: &str) -> Result<()> {
        let _lane = self.lane("TagResource").await;
        let tag = org::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .map_err(|e| Error::InvalidInput {
                reason: "INPUT_REQUIRED".into(),
                message: e.to_string(),
            })?;
        self.client
            .tag_resource()
            .resource_id(resource_id)
            .tags(tag)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn untag_resource(&self, resource_id: &str, key: &str) -> Result<()> {
        let _lane = self.lane("UntagResource").await;
        self.client
            .untag_resource()
            .resource_id(resource_id)
            .tag_keys(key)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn stats(&self) -> RequestStats {
        self.counter.snapshot()
    }
}
