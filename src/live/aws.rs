//! The SDK backend: one Organizations client built from the standard credential and region
//! chain (profile, region, `--endpoint-url` / `AWS_ENDPOINT_URL`), the SDK's adaptive retry
//! mode, paginators for every listing (pages of 20, AWS's maximum), and one semaphore that
//! bounds the Organizations requests in flight. Translation only: errors become
//! [`Error`] by AWS error code, results become `model`-level infos.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_organizations as org;
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use tokio::sync::Semaphore;

use super::limiter::RateLimiter;
use super::stats::Counter;
use super::{
    AccountInfo, Error, OrgBackend, OuInfo, PlacedAccount, PolicyInfo, RequestStats, Result,
    RootInfo,
};
use crate::model::PolicyType;

/// How to reach AWS (or an emulator).
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Attempts per request, first included (the SDK's adaptive retry mode).
    pub max_attempts: Option<u32>,
    /// How long one attempt may wait for its answer (default [`REQUEST_TIMEOUT`]).
    pub request_timeout: Option<Duration>,
    /// Organizations requests in flight at once.
    pub concurrency: usize,
    /// Multiplies AWS's documented request rates (1.0 against AWS; an emulator can take more).
    pub rate_scale: f64,
}

/// Organizations is a global service homed in us-east-1; used when no region is configured.
const ORGANIZATIONS_HOME_REGION: &str = "us-east-1";

/// Attempts per request at the SDK level, first included. A refused connection, an unknown
/// host, a connect timeout or a web page is never retried (`sdk_error`); apply and the lock
/// retry AWS's transient answers again on top.
pub const SDK_MAX_ATTEMPTS: u32 = 4;
/// The longest pause between two SDK attempts (the SDK's own default is 20 s).
pub const SDK_MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a TCP connection may take: a dead endpoint fails within this (the SDK's default
/// is 3.1 s).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one attempt may wait for its whole answer, unless `--request-timeout` says.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The SDK's retry and timeout settings (see the constants above).
pub fn retry_and_timeouts(opts: &ConnectOptions) -> (RetryConfig, TimeoutConfig) {
    let retry = RetryConfig::adaptive()
        .with_max_attempts(opts.max_attempts.unwrap_or(SDK_MAX_ATTEMPTS))
        .with_max_backoff(SDK_MAX_BACKOFF);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(opts.request_timeout.unwrap_or(REQUEST_TIMEOUT))
        .build();
    (retry, timeouts)
}

/// Builds the shared SDK configuration.
pub async fn sdk_config(opts: &ConnectOptions) -> SdkConfig {
    let (retry, timeouts) = retry_and_timeouts(opts);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts);
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
    /// A backend paced just under AWS's documented rates.
    pub fn new(conf: &SdkConfig, concurrency: usize) -> Self {
        Self::with_limiter(conf, concurrency, Arc::new(RateLimiter::client(1.0)))
    }

    /// A backend sharing `limiter` with other users of the same account.
    pub fn with_limiter(conf: &SdkConfig, concurrency: usize, limiter: Arc<RateLimiter>) -> Self {
        AwsBackend {
            conf: conf.clone(),
            // The SDK retries a refused connection like a dropped one; this classifier stops
            // that, so a dead endpoint fails at once.
            client: org::Client::from_conf(
                org::config::Builder::from(conf)
                    .retry_classifier(super::sdk_error::DeadEndpointClassifier)
                    .build(),
            ),
            counter: Counter::default(),
            lanes: Arc::new(Semaphore::new(concurrency.max(1))),
            limiter,
        }
    }

    /// The shared SDK configuration (for the IAM and STS clients).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.conf
    }

    /// The ARN of the principal these credentials belong to (STS GetCallerIdentity, one
    /// attempt), for naming it in an access-denied message.
    pub async fn caller_arn(&self) -> Option<String> {
        let conf = aws_sdk_sts::config::Builder::from(&self.conf)
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .build();
        let out = aws_sdk_sts::Client::from_conf(conf)
            .get_caller_identity()
            .send()
            .await
            .ok()?;
        out.arn().map(str::to_owned)
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
            Arc::new(RateLimiter::client(scale)),
        )
    }

    /// Takes a lane and counts the request.
    async fn lane(&self, op: &str) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.limiter.acquire(op).await;
        self.counter.bump(op);
        self.permit().await
    }

    /// The next page of a paginated listing, fetched within a lane and counted as one request
    /// of its operation; `None` when the listing is done. A rate-limit token is spent only when
    /// the paginator is about to send a request: its last `next()`, which ends the stream after
    /// a page without a `NextToken`, sends nothing and costs nothing (spending a token there
    /// made every listing cost AWS-time for one request more than it sent, twice the lower
    /// bound on walks of one-page listings).
    async fn next_page<O, E>(&self, listing: &mut Listing<O, E>) -> Option<Result<O>>
    where
        O: Paged,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if listing.cursor.will_send() {
            self.limiter.acquire(listing.op).await;
        }
        let _lane = self.permit().await;
        // Polled even when no request is expected: should the SDK ever send one anyway, the
        // page is still read and counted (only its pacing was missed).
        let page = listing.pages.next().await?;
        self.counter.bump(listing.op);
        listing
            .cursor
            .answered(page.as_ref().ok().and_then(Paged::next_token));
        Some(page.map_err(map_err))
    }

    /// Takes a lane. The semaphore is never closed, so this is always `Some`; were it ever
    /// `None`, running without the bound would still be correct, only less polite.
    async fn permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.lanes.acquire().await.ok()
    }
}

/// A listing's output page: its `NextToken`.
pub(crate) trait Paged {
    fn next_token(&self) -> Option<&str>;
}

macro_rules! paged {
    ($($op:ident :: $out:ident),* $(,)?) => {$(
        impl Paged for org::operation::$op::$out {
            fn next_token(&self) -> Option<&str> {
                org::operation::$op::$out::next_token(self)
            }
        }
    )*};
}

paged!(
    list_roots::ListRootsOutput,
    list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput,
    list_accounts_for_parent::ListAccountsForParentOutput,
    list_accounts::ListAccountsOutput,
    list_policies::ListPoliciesOutput,
    list_targets_for_policy::ListTargetsForPolicyOutput,
    list_accounts_with_invalid_effective_policy::ListAccountsWithInvalidEffectivePolicyOutput,
    list_effective_policy_validation_errors::ListEffectivePolicyValidationErrorsOutput,
    list_tags_for_resource::ListTagsForResourceOutput,
);

/// Whether the SDK paginator's next `next()` sends a request, by the paginator's own rule:
/// the first always does; a later one only when the last page carried a non-empty
/// `NextToken` different from the token sent for that page (the SDK stops on a repeated
/// token, and after an error).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Cursor {
    /// A page (or an error) has been answered.
    started: bool,
    /// The token the next request would carry, when there will be one.
    next: Option<String>,
}

impl Cursor {
    fn will_send(&self) -> bool {
        !self.started || self.next.is_some()
    }

    /// The last request was answered with this `NextToken` (`None` also for an error).
    fn answered(&mut self, token: Option<&str>) {
        // The request just answered carried the token `next` held.
        let sent = self.next.take();
        self.next = token
            .filter(|t| !t.is_empty() && Some(*t) != sent.as_deref())
            .map(str::to_owned);
        self.started = true;
    }
}

type Pages<O, E> = aws_smithy_async::future::pagination_stream::PaginationStream<
    std::result::Result<O, SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>>,
>;

/// One paginated listing in progress: the SDK's page stream, the operation it counts as,
/// and where it stands.
struct Listing<O, E> {
    pages: Pages<O, E>,
    op: &'static str,
    cursor: Cursor,
}

impl<O, E> Listing<O, E> {
    fn new(pages: Pages<O, E>, op: &'static str) -> Self {
        Listing {
            pages,
            op,
            cursor: Cursor::default(),
        }
    }
}

/// Maps an SDK error to [`Error`] by its AWS error code.
/// (Everything else by its class: `sdk_error`.)
fn map_err<E>(err: SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    super::sdk_error::map_sdk_error(err)
}

/// An account as the listings return it. `State` since 2026; emulators (moto) still answer
/// only the retired `Status`.
fn account_info(a: &org::types::Account) -> AccountInfo {
    #[allow(deprecated)]
    let state = a
        .state()
        .map(|s| s.as_str())
        .or_else(|| a.status().map(|s| s.as_str()))
        .and_then(crate::model::AccountState::from_api_name)
        .unwrap_or_default();
    AccountInfo {
        id: a.id().unwrap_or_default().to_owned(),
        name: a.name().unwrap_or_default().to_owned(),
        email: a.email().unwrap_or_default().to_owned(),
        state,
    }
}

fn sdk_type(t: PolicyType) -> org::types::PolicyType {
    org::types::PolicyType::from(t.api_name())
}

const PAGE: i32 = super::walk::PAGE_SIZE as i32;

mod effective;

#[async_trait]
impl OrgBackend for AwsBackend {
    async fn list_roots(&self) -> Result<Vec<RootInfo>> {
        let mut out = Vec::new();
        let pages = self
            .client
            .list_roots()
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListRoots");
        while let Some(page) = self.next_page(&mut pages).await {
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
        let pages = self
            .client
            .list_organizational_units_for_parent()
            .parent_id(parent_id)
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListOrganizationalUnitsForParent");
        while let Some(page) = self.next_page(&mut pages).await {
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
        let pages = self
            .client
            .list_accounts_for_parent()
            .parent_id(parent_id)
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListAccountsForParent");
        while let Some(page) = self.next_page(&mut pages).await {
            out.extend(page?.accounts().iter().map(account_info));
        }
        Ok(out)
    }

    async fn list_accounts_with_paths(&self) -> Result<Option<Vec<PlacedAccount>>> {
        let mut out = Vec::new();
        let pages = self
            .client
            .list_accounts()
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListAccounts");
        while let Some(page) = self.next_page(&mut pages).await {
            for a in page?.accounts() {
                let info = account_info(a);
                let parent = a
                    .paths()
                    .iter()
                    .find_map(|p| PlacedAccount::parent_from_path(&info.id, p));
                // Decided per response: a page without Paths (moto 5.2, or a service that
                // does not send them) ends this read; the rest of the listing is not asked for.
                let Some(parent_id) = parent else {
                    return Ok(None);
                };
                out.push(PlacedAccount { info, parent_id });
            }
        }
        Ok(Some(out))
    }

    async fn list_policies(&self, policy_type: PolicyType) -> Result<Vec<PolicyInfo>> {
        let mut out = Vec::new();
        let pages = self
            .client
            .list_policies()
            .filter(sdk_type(policy_type))
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListPolicies");
        while let Some(page) = self.next_page(&mut pages).await {
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
        let pages = self
            .client
            .list_targets_for_policy()
            .policy_id(policy_id)
            .max_results(PAGE)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListTargetsForPolicy");
        while let Some(page) = self.next_page(&mut pages).await {
            for t in page?.targets() {
                if let Some(id) = t.target_id() {
                    out.push(id.to_owned());
                }
            }
        }
        Ok(out)
    }

    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()> {
        {
            let _lane = self.lane("EnablePolicyType").await;
            self.client
                .enable_policy_type()
                .root_id(root_id)
                .policy_type(sdk_type(policy_type))
                .send()
                .await
                .map_err(map_err)?;
        }
        // EnablePolicyType is asynchronous on AWS (PENDING_ENABLE): wait, reading the root,
        // until the type is enabled, so the attaches that follow do not meet
        // PolicyTypeNotEnabled. At most about two minutes.
        let mut delay = Duration::from_millis(500);
        for _ in 0..20 {
            let enabled = self
                .list_roots()
                .await?
                .iter()
                .any(|r| r.id == root_id && r.enabled_policy_types.contains(&policy_type));
            if enabled {
                return Ok(());
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
        Err(Error::Service {
            code: "PolicyChangesInProgressException".into(),
            message: format!("{} is still being enabled", policy_type.api_name()),
        })
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
        let pages = self
            .client
            .list_tags_for_resource()
            .resource_id(resource_id)
            .into_paginator()
            .send();
        let mut pages = Listing::new(pages, "ListTagsForResource");
        while let Some(page) = self.next_page(&mut pages).await {
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

    async fn disable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()> {
        self.disable_type(root_id, policy_type).await
    }

    async fn list_accounts_with_invalid_effective_policy(
        &self,
        policy_type: PolicyType,
    ) -> Result<Vec<AccountInfo>> {
        self.invalid_accounts(policy_type).await
    }

    async fn list_effective_policy_validation_errors(
        &self,
        account_id: &str,
        policy_type: PolicyType,
    ) -> Result<Vec<crate::model::EffectivePolicyError>> {
        self.validation_errors(account_id, policy_type).await
    }

    fn stats(&self) -> RequestStats {
        self.counter.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn the_cursor_follows_the_sdk_paginators_rule() {
        let mut c = Cursor::default();
        assert!(c.will_send(), "the first next() always sends");
        c.answered(Some("t1"));
        assert!(c.will_send());
        c.answered(Some(""));
        assert!(!c.will_send(), "an empty token ends the listing");
        let mut c = Cursor::default();
        c.answered(Some("same"));
        c.answered(Some("same"));
        assert!(!c.will_send(), "a repeated token ends the listing");
        let mut c = Cursor::default();
        c.answered(None);
        assert!(!c.will_send(), "no token (or an error) ends the listing");
    }

    /// The answer of the stub Organizations endpoint to `op` asked with `token`.
    fn stub_answer(op: &str, token: Option<&str>) -> String {
        match (op, token) {
            ("ListAccountsForParent", None) => {
                r#"{"Accounts":[{"Id":"111111111111"}],"NextToken":"t1"}"#
            }
            ("ListAccountsForParent", Some("t1")) => {
                r#"{"Accounts":[{"Id":"222222222222"}],"NextToken":"t2"}"#
            }
            ("ListAccountsForParent", _) => r#"{"Accounts":[{"Id":"333333333333"}]}"#,
            ("ListOrganizationalUnitsForParent", _) => {
                r#"{"OrganizationalUnits":[{"Id":"ou-a","Name":"A"}]}"#
            }
            ("ListTargetsForPolicy", _) => r#"{"Targets":[],"NextToken":"same"}"#,
            _ => "{}",
        }
        .to_owned()
    }

    /// A loopback endpoint answering [`stub_answer`]; counts the requests it receives.
    fn stub_endpoint() -> (String, Arc<AtomicU64>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(AtomicU64::new(0));
        let count = received.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let (mut op, mut len) = (String::new(), 0);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if lower.starts_with("x-amz-target:") {
                        op = line.rsplit('.').next().unwrap().trim().to_owned();
                    } else if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                let input: serde_json::Value = serde_json::from_slice(&body).unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                let answer = stub_answer(&op, input["NextToken"].as_str());
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        (endpoint, received)
    }

    #[tokio::test]
    async fn a_listing_spends_one_token_per_request_sent() {
        let (endpoint, received) = stub_endpoint();
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(org::config::Credentials::new("a", "b", None, None, "test"))
            .load()
            .await;
        let limiter = Arc::new(RateLimiter::client(1000.0));
        let b = AwsBackend::with_limiter(&conf, 4, limiter.clone());

        let accounts = b.list_accounts_for_parent("r-1").await.unwrap();
        assert_eq!(accounts.len(), 3, "three pages");
        assert_eq!(received.load(Ordering::SeqCst), 3);
        assert_eq!(limiter.taken(), 3, "no token for the final, empty next()");

        b.list_organizational_units_for_parent("r-1").await.unwrap();
        b.list_targets_for_policy("p-1").await.unwrap();
        // One page of OUs; two requests for the targets (the SDK stops on the repeated token).
        assert_eq!(received.load(Ordering::SeqCst), 6);
        assert_eq!(limiter.taken(), 6);
        assert_eq!(b.stats().total(), 6);
    }
}
