//! The SDK backend's writes: policy types enabled (waiting until the root reports it), OUs,
//! policies, attachments, account moves and account creation (polled until AWS finishes).
//! Each write is one request within a lane (`listing.rs`).

use std::time::Duration;

use super::{org, sdk_type, AwsBackend};
use crate::live::{Error, Result};
use crate::model::PolicyType;

impl AwsBackend {
    pub(super) async fn sdk_enable_policy_type(
        &self,
        root_id: &str,
        policy_type: PolicyType,
    ) -> Result<()> {
        let request = self.client.enable_policy_type().root_id(root_id);
        let request = request.policy_type(sdk_type(policy_type));
        self.send("EnablePolicyType", request.send()).await?;
        // EnablePolicyType is asynchronous on AWS (PENDING_ENABLE): wait until the type is
        // enabled, so the attaches that follow do not meet PolicyTypeNotEnabled.
        self.await_policy_type(root_id, policy_type, true).await
    }

    /// Waits, reading the root, until `policy_type` is enabled on it (`enabled`) or gone
    /// (enabling and disabling are asynchronous on AWS). At most about two minutes.
    pub(super) async fn await_policy_type(
        &self,
        root_id: &str,
        policy_type: PolicyType,
        enabled: bool,
    ) -> Result<()> {
        let mut delay = Duration::from_millis(500);
        for _ in 0..20 {
            let is_enabled = self
                .sdk_list_roots()
                .await?
                .iter()
                .any(|r| r.id == root_id && r.enabled_policy_types.contains(&policy_type));
            if is_enabled == enabled {
                return Ok(());
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
        let state = if enabled { "enabled" } else { "disabled" };
        Err(Error::Service {
            code: "PolicyChangesInProgressException".into(),
            message: format!("{} is still being {state}", policy_type.api_name()),
        })
    }

    pub(super) async fn sdk_create_organizational_unit(
        &self,
        parent_id: &str,
        name: &str,
    ) -> Result<String> {
        let request = self
            .client
            .create_organizational_unit()
            .parent_id(parent_id);
        let out = self
            .send("CreateOrganizationalUnit", request.name(name).send())
            .await?;
        Ok(out
            .organizational_unit()
            .and_then(|o| o.id())
            .unwrap_or_default()
            .to_owned())
    }

    pub(super) async fn sdk_delete_organizational_unit(&self, ou_id: &str) -> Result<()> {
        let request = self.client.delete_organizational_unit();
        let request = request.organizational_unit_id(ou_id);
        self.send("DeleteOrganizationalUnit", request.send())
            .await?;
        Ok(())
    }

    pub(super) async fn sdk_create_policy(
        &self,
        policy_type: PolicyType,
        name: &str,
        description: &str,
        content: &str,
    ) -> Result<String> {
        let request = self
            .client
            .create_policy()
            .r#type(sdk_type(policy_type))
            .name(name)
            .description(description)
            .content(content);
        let out = self.send("CreatePolicy", request.send()).await?;
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
        let request = self
            .client
            .update_policy()
            .policy_id(policy_id)
            .set_description(description.map(str::to_owned))
            .set_content(content.map(str::to_owned));
        self.send("UpdatePolicy", request.send()).await?;
        Ok(())
    }

    pub(super) async fn sdk_delete_policy(&self, policy_id: &str) -> Result<()> {
        let request = self.client.delete_policy().policy_id(policy_id);
        self.send("DeletePolicy", request.send()).await?;
        Ok(())
    }

    pub(super) async fn sdk_attach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        let request = self.client.attach_policy().policy_id(policy_id);
        self.send("AttachPolicy", request.target_id(target_id).send())
            .await?;
        Ok(())
    }

    pub(super) async fn sdk_detach_policy(&self, policy_id: &str, target_id: &str) -> Result<()> {
        let request = self.client.detach_policy().policy_id(policy_id);
        self.send("DetachPolicy", request.target_id(target_id).send())
            .await?;
        Ok(())
    }

    pub(super) async fn sdk_move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> Result<()> {
        let request = self
            .client
            .move_account()
            .account_id(account_id)
            .source_parent_id(source_parent_id)
            .destination_parent_id(destination_parent_id);
        self.send("MoveAccount", request.send()).await?;
        Ok(())
    }

    pub(super) async fn sdk_create_account(&self, name: &str, email: &str) -> Result<String> {
        let request = self.client.create_account().account_name(name).email(email);
        let status = self.send("CreateAccount", request.send()).await?;
        let mut st = status.create_account_status().cloned();
        // CreateAccount is asynchronous on AWS: poll with backoff, for at most
        // CREATE_ACCOUNT_WAIT (the apply lock is kept that long for this one write).
        let mut delay = Duration::from_millis(500);
        let mut waited = Duration::ZERO;
        while waited + delay <= crate::live::CREATE_ACCOUNT_WAIT {
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
            waited += delay;
            delay = (delay * 2).min(Duration::from_secs(15));
            let request = self.client.describe_create_account_status();
            let request = request.create_account_request_id(request_id);
            st = self
                .send("DescribeCreateAccountStatus", request.send())
                .await?
                .create_account_status()
                .cloned();
        }
        Err(Error::Service {
            code: "CreateAccountTimeout".into(),
            message: format!("account creation for {email} is still in progress"),
        })
    }
}
