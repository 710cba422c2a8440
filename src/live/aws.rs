//! The SDK backend: one Organizations client built from the standard credential and region
//! chain (profile, region, `--endpoint-url` / `AWS_ENDPOINT_URL`), the SDK's adaptive retry
//! mode, paginators for every listing (pages of 20, AWS's maximum), and one semaphore that
//! bounds the Organizations requests in flight. Translation only: errors become
//! [`Error`] by AWS error code, results become `model`-level infos.
//!
//! How each request is paced, bounded and counted is in `listing.rs`; the reads, writes and
//! tags behind [`OrgBackend`] in `read.rs`, `write.rs` and `tags.rs`; the management types'
//! operations in `effective.rs`.

mod effective;
mod listing;
mod read;
mod tags;
mod write;

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
                    .interceptor(super::sdk_error::RetryNotifier::for_config(conf))
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

/// Each operation is the SDK call `sdk_<operation>` in `read.rs`, `write.rs` or `tags.rs`, or
/// one of `effective.rs`.
#[async_trait]
impl OrgBackend for AwsBackend {
    async fn list_roots(&self) -> Result<Vec<RootInfo>> {
        self.sdk_list_roots().await
    }

    async fn list_organizational_units_for_parent(&self, parent_id: &str) -> Result<Vec<OuInfo>> {
        self.sdk_list_organizational_units_for_parent(parent_id)
            .await
    }

    async fn list_accounts_for_parent(&self, parent_id: &str) -> Result<Vec<AccountInfo>> {
        self.sdk_list_accounts_for_parent(parent_id).await
    }

    async fn list_accounts_with_paths(&self) -> Result<Option<Vec<PlacedAccount>>> {
        self.sdk_list_accounts_with_paths().await
    }

    async fn list_policies(&self, policy_type: PolicyType) -> Result<Vec<PolicyInfo>> {
        self.sdk_list_policies(policy_type).await
    }

    async fn describe_policy(&self, policy_id: &str) -> Result<String> {
        self.sdk_describe_policy(policy_id).await
    }

    async fn list_targets_for_policy(&self, policy_id: &str) -> Result<Vec<String>> {
        self.sdk_list_targets_for_policy(policy_id).await
    }

    async fn enable_policy_type(&self, root_id: &str, policy_type: PolicyType) -> Result<()> {
        self.sdk_enable_policy_type(root_id, policy_type).await
    }

    async fn create_organizational_unit(&self, parent_id: &str, name: &str) -> Result<String> {
        self.sdk_create_organizational_unit(parent_id, name).await
    }

    async fn delete_organizational_unit(&self, ou_id: &str) -> Result<()> {
        self.sdk_delete_organizational_unit(ou_id).await
    }

    async fn create_policy(
        &self,
        policy_type: PolicyType,
        name: &str,
        description: &str,
        content: &str,
    ) -> Result<String> {
        self.sdk_create_policy(policy_type, name, description, content)
            .await
    }

    async fn update_policy(
        &self,
        policy_id: &str,
        description: Option<&str>,
        content: Option<&str>,
    ) -> Result<()> {
        self.sdk_update_policy(policy_id, description, content)
            .await
    }

    async fn delete_policy(&self, policy_id: &str) -> Result<()> {
        self.sdk_delete_policy(policy_id).await
    }

    async fn attach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        self.sdk_attach_policy(policy_id, target_id).await
    }

    async fn detach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        self.sdk_detach_policy(policy_id, target_id).await
    }

    async fn move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> Result<()> {
        self.sdk_move_account(account_id, source_parent_id, destination_parent_id)
            .await
    }

    async fn create_account(&self, name: &str, email: &str) -> Result<String> {
        self.sdk_create_account(name, email).await
    }

    async fn list_tags_for_resource(&self, resource_id: &str) -> Result<Vec<(String, String)>> {
        self.sdk_list_tags_for_resource(resource_id).await
    }

    async fn tag_resource(&self, resource_id: &str, key: &str, value: &str) -> Result<()> {
        self.sdk_tag_resource(resource_id, key, value).await
    }

    async fn untag_resource(&self, resource_id: &str, key: &str) -> Result<()> {
        self.sdk_untag_resource(resource_id, key).await
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
