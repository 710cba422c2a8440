//! The SDK backend's writes: policy types enabled (waiting until the root reports it), OUs,
//! policies, attachments, account moves and account creation (polled until AWS finishes).
//! Each write is one request within a lane (`listing.rs`).

use std::time::Duration;

use super::{map_err, org, sdk_type, AwsBackend};
use crate::live::{Error, Result};
use crate::model::PolicyType;

impl AwsBackend {
    pub(super) async fn sdk_enable_policy_type(
        &self,
        root_id: &str,
        policy_type: PolicyType,
    ) -> Result<()> {
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
                .sdk_list_roots()
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

    pub(super) async fn sdk_create_organizational_unit(
        &self,
        parent_id: &str,
        name: &str,
    ) -> Result<String> {
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

    pub(super) async fn sdk_delete_organizational_unit(&self, ou_id: &str) -> Result<()> {
        let _lane = self.lane("DeleteOrganizationalUnit").await;
        self.client
            .delete_organizational_unit()
            .organizational_unit_id(ou_id)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    pub(super) async fn sdk_create_policy(
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

    pub(super) async fn sdk_update_policy(
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

    pub(super) async fn sdk_delete_policy(&self, policy_id: &str) -> Result<()> {
        let _lane = self.lane("DeletePolicy").await;
        self.client
            .delete_policy()
            .policy_id(policy_id)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    pub(super) async fn sdk_attach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
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

    pub(super) async fn sdk_detach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
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

    pub(super) async fn sdk_move_account(
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

    pub(super) async fn sdk_create_account(&self, name: &str, email: &str) -> Result<String> {
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
}
