//! The SDK side of [`IamBackend`]: AssumeRole into each member account's role (credentials
//! cached per account and role), one IAM client per account, a semaphore bounding the IAM
//! requests in flight, the SDK's adaptive retry mode (from the shared config) for IAM's
//! throttling. Translation only.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_iam as iam;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use tokio::sync::{Mutex, Semaphore};

use super::iam::{decode_document, IamAccount, IamBackend, IamPolicyState, RoleInfo};
use super::stats::Counter;
use super::{Error, RequestStats, Result};

/// IAM across member accounts through the SDK.
#[derive(Debug, Clone)]
pub struct AwsIam {
    base: SdkConfig,
    clients: Arc<Mutex<HashMap<IamAccount, iam::Client>>>,
    counter: Counter,
    lanes: Arc<Semaphore>,
}

fn map_err<E, R>(err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(_) => Error::from_code(
            err.code().unwrap_or("UnknownError"),
            err.message().unwrap_or_default(),
        ),
        _ => Error::Transport(iam::error::DisplayErrorContext(&err).to_string()),
    }
}

impl AwsIam {
    pub fn new(base: &SdkConfig, concurrency: usize) -> Self {
        AwsIam {
            base: base.clone(),
            clients: Arc::new(Mutex::new(HashMap::new())),
            counter: Counter::default(),
            lanes: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// The IAM client for an account, assuming its role once.
    async fn client(&self, account: &IamAccount) -> Result<iam::Client> {
        if let Some(c) = self.clients.lock().await.get(account) {
            return Ok(c.clone());
        }
        let role_arn = format!("arn:aws:iam::{}:role/{}", account.id, account.role);
        self.counter.bump("sts:AssumeRole");
        let out = aws_sdk_sts::Client::new(&self.base)
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("guardrail")
            .send()
            .await
            .map_err(|e| match map_err(e) {
                Error::AccessDenied(m) => Error::AccessDenied(format!(
                    "cannot assume {role_arn} in account {}: {m}",
                    account.id
                )),
                other => other,
            })?;
        let c = out.credentials().ok_or_else(|| {
            Error::AccessDenied(format!("AssumeRole {role_arn} returned no credentials"))
        })?;
        let creds = iam::config::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "guardrail-member-role",
        );
        let conf = iam::config::Builder::from(&self.base)
            .credentials_provider(creds)
            .build();
        let client = iam::Client::from_conf(conf);
        self.clients
            .lock()
            .await
            .insert(account.clone(), client.clone());
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
